"""The document page after each step: the message says what happened and what comes next, the person
lands on the next thing to do, refusals are messages on the page with the form kept."""

from __future__ import annotations

import re

from office.approvals import service as approvals
from office.docflow import service as df
from office.docflow.models import DocState, Document
from office.extensions import db
from tests.conftest import csrf_from, login

from .conftest import approval_task, leader_signs, reviewer, submit_and_review


def _act(client, doc, name, text=None, *, follow=False):
    db.session.refresh(doc)
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "version": doc.version}
    if text is not None:
        data["text"] = text
    return client.post(f"/documents/{doc.id}/action/{name}", data=data, follow_redirects=follow)


def _flash(html: str) -> str:
    m = re.search(r'class="flash flash-(?:success|error)"[^>]*>([^<]*)<', html)
    return m.group(1) if m else ""


def _zh(client):
    with client.session_transaction() as s:
        s["lang"] = "zh_CN"


def _draft(org, title, clerk="prov_clerk"):
    return df.create_draft(org.actor(clerk), doc_type="通知", title=title, body="各市人民政府：\n一、总体要求",
                           lead_unit_id=org.unit("330000", "gov").id, main=["group:city_governments"])


def test_void_number_without_a_reason_is_a_message_on_the_form(client, org, province_notice):
    doc = province_notice
    submit_and_review(org, doc, "prov_clerk")
    leader_signs(org, "prov_leader", doc)
    clerk = org.actor("prov_clerk")
    df.recheck(clerk, doc.id)
    df.allocate_number(clerk, doc.id)
    login(client, "prov_clerk")
    r = _act(client, doc, "void_number", "  ")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and _flash(html) == "Give the reason for voiding the number."
    assert '<details class="docflow-danger-item" data-danger="void_number" open>' in html  # the form stays open
    assert "<h1>关于做好防汛工作的通知</h1>" in html
    db.session.refresh(doc)
    assert doc.state == DocState.NUMBERED and doc.doc_number
    # On the page, the main action comes first; voiding sits apart and needs a reason.
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert page.index('data-action="seal"') < page.index("data-danger-zone")
    assert re.search(r'<textarea name="text" rows="2" required>', page.split("data-danger-zone")[1])
    # With the reason the number is void, and the message says what comes next.
    old = doc.doc_number
    r = _act(client, doc, "void_number", "文号错用", follow=True)
    assert _flash(r.get_data(as_text=True)) == f"The number {old} is void, next: Numbering"


def test_messages_and_landing_of_each_step_in_chinese(client, org):
    org.add_user("prov_office_leader", "刘振华", "330000", "office", ["leader"], 1)
    first, second = _draft(org, "关于加强安全生产工作的通知"), _draft(org, "关于做好冬季供暖工作的通知")
    for d in (first, second):
        df.submit(org.actor("prov_clerk"), d.id)
    login(client, "prov_office_leader")  # the office director reviews
    _zh(client)
    todo = client.get("/todo").get_data(as_text=True)
    assert "待审核：关于加强安全生产工作的通知" in todo
    r = _act(client, first, "review_pass", "格式规范")
    # He has another draft to review: he lands on it.
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{second.id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert _flash(page) == "已审核通过，已送签发：李建国。下一件待办：待审核：关于做好冬季供暖工作的通知"
    assert 'data-next-step="review" data-next-mine="1"' in page and ">审核通过</button>" in page \
        and ">退回修改</button>" in page
    r = _act(client, second, "review_return", "标题不规范")
    assert r.headers["Location"].endswith(f"/documents/{second.id}")  # nothing else to review
    assert _flash(client.get(r.headers["Location"]).get_data(as_text=True)) == "已退回修改：王晓燕"

    # The leader signs off on the document page: 同意签发 / 退回, then the document with 复核 next.
    leader = app_client(client, "prov_leader")
    _zh(leader)
    page = leader.get(f"/documents/{first.id}").get_data(as_text=True)
    assert ">同意签发</button>" in page and ">退回</button>" in page and ">审核通过</button>" not in page
    r = _act(leader, first, "signoff", "同意印发", follow=True)
    html = r.get_data(as_text=True)
    assert _flash(html) == "已同意签发，下一步：复核（浙江省人民政府办公厅）"
    assert 'data-next-step="signed" data-next-mine="0"' in html

    # The clerk re-checks, numbers, seals and distributes in a row: she stays on the document.
    clerk = app_client(client, "prov_clerk")
    _zh(clerk)
    expected = {"recheck": "已复核，下一步：编号", "number": "已编号：{number}，下一步：用印",
                "seal": "已用印，下一步：分发", "distribute": "已分发：2个单位，下一步：跟踪签收办理"}
    words = {"recheck": "复核", "number": "编号", "seal": "用印", "distribute": "分发"}
    for step in ("recheck", "number", "seal", "distribute"):
        page = clerk.get(f"/documents/{first.id}").get_data(as_text=True)
        assert f'data-action="{step}" class="primary">{words[step]}</button>' in page
        r = _act(clerk, first, step)
        assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{first.id}")
        db.session.refresh(first)
        assert _flash(clerk.get(r.headers["Location"]).get_data(as_text=True)) == \
            expected[step].format(number=first.doc_number)
    history = clerk.get(f"/documents/{first.id}").get_data(as_text=True)
    for label in ("拟稿", "已送审核", "已审核通过", "已同意签发", "已复核", "已编号", "已用印", "已分发"):
        assert f"<span data-event-label>{label}</span>" in history


def app_client(client, username):
    c = client.application.test_client()
    login(c, username)
    return c


def test_signoff_request_page_speaks_sign_off(client, org, province_notice):
    doc = province_notice
    submit_and_review(org, doc, "prov_clerk", "同意报签")
    login(client, "prov_leader")
    _zh(client)
    page = client.get(f"/approvals/{doc.signoff_request_id}").get_data(as_text=True)
    assert 'value="approve" class="primary">同意签发</button>' in page
    assert 'value="reject"' not in page and ">审核通过<" not in page
    assert "送签发" in page  # the timeline's submission line
    task = approval_task(org.actor("prov_leader"), "docflow.signoff", doc.id)
    r = client.post(f"/approvals/{doc.signoff_request_id}/act",
                    data={"csrf_token": csrf_from(page), "action": "approve", "task_id": task.id,
                          "version": approvals.get_request(org.actor("prov_leader"), doc.signoff_request_id).version,
                          "opinion": "同意"})
    # No other sign-off waits for him: he lands on the document, told what comes next.
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/documents/{doc.id}")
    assert _flash(client.get(r.headers["Location"]).get_data(as_text=True)) == \
        "已同意签发，下一步：复核（浙江省人民政府办公厅）"
    timeline = client.get(f"/approvals/{doc.signoff_request_id}").get_data(as_text=True)
    assert "已同意签发" in timeline


def test_drafter_sees_no_review_of_her_own_draft(client, org, province_notice):
    doc = province_notice
    df.submit(org.actor("prov_clerk"), doc.id)
    login(client, "prov_clerk")
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'data-action="review_pass"' not in page and 'data-danger="withdraw"' in page
    assert "关于做好防汛工作的通知" not in client.get("/todo").get_data(as_text=True)
    r = _act(client, doc, "withdraw", "补充附件", follow=True)
    assert _flash(r.get_data(as_text=True)) == "Withdrawn from review"
    assert db.session.get(Document, doc.id).state == DocState.DRAFT
    reviewer(org, "prov_clerk")
    other = app_client(client, "prov_staff")
    df.submit(org.actor("prov_clerk"), doc.id)
    assert "To review: 关于做好防汛工作的通知" in other.get("/todo").get_data(as_text=True)


def test_unit_administrator_sets_combined_duties_on_the_page(client, org):
    town = org.unit("330106109", "gov")
    login(client, "county_admin")
    page = client.get(f"/documents/settings?unit_id={town.id}")
    assert page.status_code == 200 and "三墩镇人民政府" in page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    r = client.post("/documents/settings", data={"csrf_token": token, "unit_id": town.id, "combine_duties": "1"})
    assert r.status_code == 400 and "Say why one person" in r.get_data(as_text=True)
    assert not df.combine_allowed(town)
    r = client.post("/documents/settings", data={"csrf_token": token, "unit_id": town.id, "combine_duties": "1",
                                                 "reason": "镇党政办仅一名文书"})
    assert r.status_code == 302 and df.combine_allowed(town)
    # A clerk may not; another county's administrator does not even see the unit.
    clerk = app_client(client, "town_clerk")
    assert clerk.get(f"/documents/settings?unit_id={town.id}").status_code == 403
    other = app_client(client, "other_county_admin")
    assert other.get(f"/documents/settings?unit_id={town.id}").status_code == 404
