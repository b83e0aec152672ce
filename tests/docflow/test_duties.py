"""Separated duties: the drafter does not review, countersign or sign off his own draft, the reviewer
does not sign it off; a township configured for one clerk may combine duties, recorded and printed."""

from __future__ import annotations

import io

import pdfplumber
import pytest

from office.approvals import service as approvals
from office.approvals import sheet
from office.audit.models import AuditEvent
from office.auth.models import Post, PostRole
from office.docflow import service as df
from office.docflow.models import DocEvent, DocState
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.pdf.render import render_pdf
from tests.approvals.test_views import png
from tests.browser_support import ARTIFACTS
from tests.pdf.conftest import pdftotext, squash

from .conftest import approval_task, leader_signs, reviewer


def _events(doc):
    return [e.action for e in db.session.execute(db.select(DocEvent).where(DocEvent.document_id == doc.id)
                                                 .order_by(DocEvent.id)).scalars()]


def _township_notice(org, drafter="town_clerk"):
    return df.create_draft(org.actor(drafter), doc_type="通知", title="三墩镇关于做好秋季防火工作的通知",
                           body="各村（社区）：\n一、落实责任", lead_unit_id=org.unit("330106109", "gov").id,
                           main=[org.unit("330106110", "gov").id])


def test_the_drafter_cannot_review_his_own_draft(org, province_notice):
    doc = province_notice
    clerk = org.actor("prov_clerk")
    df.submit(clerk, doc.id)
    for approve, reason in ((True, ""), (False, "自己退回")):
        with pytest.raises(PermissionDenied, match="You drafted this document, so another member"):
            df.review(clerk, doc.id, approve=approve, reason=reason)
        db.session.rollback()
    db.session.refresh(doc)
    assert doc.state == DocState.REVIEW and doc.reviewed_by_id is None
    # Another member of the general office reviews; the review is recorded with his name.
    df.review(reviewer(org, "prov_clerk"), doc.id, approve=True, reason="格式规范")
    assert doc.state == DocState.SIGNOFF
    assert (doc.reviewer_name, doc.review_opinion) == ("陈志强", "格式规范") and doc.reviewed_at is not None


def test_the_drafter_cannot_countersign(org):
    # 唐永红 leads the county civil affairs bureau and also holds a post in the county office, where
    # she drafts a joint notice of the government and her bureau.
    leader = org.user("county_mz_leader")
    post = Post(user_id=leader.id, unit_id=org.unit("330106", "office").id, title="", is_primary=False,
                role_rows=[PostRole(role="clerk")])
    db.session.add(post)
    db.session.commit()
    from office.actor import actor_for_post

    as_clerk = actor_for_post(post)
    doc = df.create_draft(as_clerk, doc_type="通知", title="关于联合开展养老机构检查的通知", body="各镇：",
                          co_issuer_ids=[org.unit("330106", "mz").id], lead_unit_id=org.unit("330106", "gov").id,
                          main=["group:township_governments"])
    df.submit(as_clerk, doc.id)
    df.review(reviewer(org, "county_clerk"), doc.id, approve=True)
    assert doc.state == DocState.COUNTERSIGN
    with pytest.raises(PermissionDenied, match="cannot countersign"):
        df.countersign(org.actor("county_mz_leader"), doc.id, opinion="同意")
    db.session.rollback()
    assert db.session.get(type(doc), doc.id).state == DocState.COUNTERSIGN


def test_countersign_objection_goes_back_to_the_drafter(org):
    doc = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于联合开展检查的通知", body="各镇：",
                          co_issuer_ids=[org.unit("330106", "mz").id], lead_unit_id=org.unit("330106", "gov").id,
                          main=["group:township_governments"])
    df.submit(org.actor("county_clerk"), doc.id)
    df.review(reviewer(org, "county_clerk"), doc.id, approve=True)
    with pytest.raises(ValidationError, match="objection"):
        df.countersign(org.actor("county_mz_leader"), doc.id, agree=False)
    db.session.rollback()
    df.countersign(org.actor("county_mz_leader"), doc.id, opinion="检查范围应含民办机构", agree=False)
    assert doc.state == DocState.DRAFT and "检查范围应含民办机构" in doc.return_reason
    # Revised and reviewed again: a fresh round of countersigning, then sign-off.
    df.submit(org.actor("county_clerk"), doc.id)
    df.review(reviewer(org, "county_clerk"), doc.id, approve=True)
    assert doc.state == DocState.COUNTERSIGN
    df.countersign(org.actor("county_mz_leader"), doc.id)
    assert doc.state == DocState.SIGNOFF and doc.issuers[1].countersign_opinion == "同意"
    assert "countersign_object" in _events(doc)


def test_the_reviewer_does_not_sign_off_the_next_leader_does(org):
    """The county head reviews (a leader of the government may): the sign-off passes him over and goes
    to the deputy; he cannot take it back by transfer, nor the drafter."""
    doc = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于做好秋收工作的通知", body="各镇：",
                          lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    df.submit(org.actor("county_clerk"), doc.id)
    df.review(org.actor("county_leader"), doc.id, approve=True)
    assert doc.state == DocState.SIGNOFF
    assert approval_task(org.actor("county_leader"), "docflow.signoff", doc.id) is None
    task = approval_task(org.actor("county_deputy"), "docflow.signoff", doc.id)
    assert task is not None
    req = approvals.get_request(org.actor("county_deputy"), doc.signoff_request_id)
    passed = [a for a in approvals.timeline(req) if a.kind == "passed_over"]
    assert passed and "宋立新 reviewed this document" in passed[0].detail["reasons"]
    for who in ("county_leader", "county_clerk"):
        with pytest.raises(ValidationError, match="may not decide this request"):
            approvals.transfer(org.actor("county_deputy"), task.id, to_user_id=org.user(who).id)
        db.session.rollback()
    approvals.approve(org.actor("county_deputy"), task.id, opinion="同意印发")
    db.session.refresh(doc)
    assert doc.state == DocState.SIGNED and doc.signer_name == "谢晓东"


def test_nobody_left_to_sign_off_is_refused_with_the_reason(org):
    """The township head drafts; the clerk reviews; the only leader is the drafter: the review is
    refused with a message naming the problem, and nothing changes."""
    doc = _township_notice(org, drafter="town_leader")
    df.submit(org.actor("town_leader"), doc.id)
    with pytest.raises(ValidationError) as err:
        df.review(org.actor("town_clerk"), doc.id, approve=True)
    assert "Nobody else can take the step" in err.value.message and "蒋国庆 drafted this document" in err.value.message
    db.session.rollback()
    doc = db.session.get(type(doc), doc.id)
    assert doc.state == DocState.REVIEW and doc.signoff_request_id is None


def test_only_the_unit_administrator_sets_combined_duties(org):
    town = org.unit("330106109", "gov")
    with pytest.raises(PermissionDenied):
        df.set_combine_duties(org.actor("town_clerk"), town.id, True, "一名文书")
    with pytest.raises(PermissionDenied):  # another county's administrator
        df.set_combine_duties(org.actor("other_county_admin"), town.id, True, "一名文书")
    with pytest.raises(ValidationError, match="Say why"):
        df.set_combine_duties(org.actor("county_admin"), town.id, True, " ")
    db.session.rollback()
    assert not df.combine_allowed(town)
    df.set_combine_duties(org.actor("county_admin"), town.id, True, "镇党政办仅一名文书")
    assert df.combine_allowed(town) and df.settings_of(town.id).set_by_name == "许丹"
    assert db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "docflow.unit_settings")).scalar_one()


def test_township_with_one_clerk_combines_duties_and_the_sheet_says_so(org):
    town = org.unit("330106109", "gov")
    df.set_combine_duties(org.actor("county_admin"), town.id, True, "镇党政办仅一名文书")
    approvals.save_signature(org.actor("town_leader"), png(160, 50))
    doc = _township_notice(org)
    clerk = org.actor("town_clerk")
    df.submit(clerk, doc.id)
    # the review waits in the one clerk's own to-do list
    from office.inbox import lists

    assert [r.url for r in lists.rows(clerk, 50) if r.line == "docflow.state.review"] == [f"/documents/{doc.id}"]
    df.review(clerk, doc.id, approve=True, reason="同意报签")  # the one clerk drafts and reviews
    assert doc.state == DocState.SIGNOFF and doc.reviewed_by_id == clerk.user_id
    assert "duty_exception" in _events(doc)
    event = db.session.execute(db.select(AuditEvent).where(AuditEvent.action == "docflow.duty_exception")).scalar_one()
    assert "拟稿与审核由同一人（邓春燕）办理" in event.after
    leader_signs(org, "town_leader", doc, opinion="同意印发")

    req = approvals.get_request(org.actor("town_leader"), doc.signoff_request_id)
    s = sheet.build_sheet(req)
    assert s.kind == "outgoing_sheet"
    assert s.notes == ["拟稿与审核由同一人（邓春燕）办理，经本单位设置允许一人兼岗。"]
    text = squash(pdftotext(render_pdf(s).pdf))
    assert "发文稿纸" in text and "拟稿与审核由同一人（邓春燕）办理，经本单位设置允许一人兼岗。" in text


def test_signoff_sheet_shows_the_leader_signature_and_the_requester_once(org, province_notice):
    doc = province_notice
    leader = org.actor("prov_leader")
    approvals.save_signature(leader, png(200, 60))
    df.submit(org.actor("prov_clerk"), doc.id)
    df.review(reviewer(org, "prov_clerk"), doc.id, approve=True, reason="格式规范，同意报签")
    leader_signs(org, "prov_leader", doc, opinion="同意印发。")
    req = approvals.get_request(leader, doc.signoff_request_id)
    s = sheet.build_sheet(req)
    assert [(o.role, o.name) for o in s.opinions] == [("签发", "李建国"), ("审核", "陈志强"), ("拟稿", "王晓燕")]
    assert s.opinions[0].signature_png and s.notes == []
    pdf = render_pdf(s).pdf
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "docflow-signoff-sheet.pdf").write_bytes(pdf)  # to look at
    text = squash(pdftotext(pdf))
    assert "浙江省人民政府发文稿纸" in text and "同意印发。" in text and "格式规范，同意报签" in text
    # The requester (the reviewer who sent it for sign-off) appears once; no 申请人 row on this paper.
    assert text.count("陈志强") == 1 and "申请人" not in text
    with pdfplumber.open(io.BytesIO(pdf)) as p:
        images = [im for page in p.pages for im in page.images]
    assert len(images) == 1 and images[0]["srcsize"] == (200, 60)  # the leader's stored signature
