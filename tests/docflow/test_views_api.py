"""Pages and JSON API: a clerk of one county can neither see nor act on another county's receipts."""

from __future__ import annotations

import io

from office.docflow.models import Document, Receipt
from office.extensions import db
from tests.conftest import csrf_from, login, post_form

from .conftest import approval_task, issue


def _receipt(doc, org, division):
    return db.session.execute(db.select(Receipt).where(Receipt.document_id == doc.id,
                                                       Receipt.unit_id == org.unit(division, "gov").id)).scalar_one()


def _api_post(client, url, json=None):
    token = csrf_from(client.get("/documents/").get_data(as_text=True))
    return client.post(url, json=json or {}, headers={"X-CSRFToken": token})


def test_other_county_gets_404_in_views_and_api(client, org, province_notice):
    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    r = _receipt(province_notice, org, "330106")
    rid = r.id
    login(client, "other_county_clerk")
    assert client.get(f"/documents/receipts/{rid}").status_code == 404
    assert post_form(client, f"/documents/receipts/{rid}/sign_for", {"version": 1},
                     page="/documents/").status_code == 404
    assert client.get(f"/api/documents/receipts/{rid}").status_code == 404
    assert _api_post(client, f"/api/documents/receipts/{rid}/sign_for").status_code == 404
    db.session.expire_all()
    assert db.session.get(Receipt, rid).state == "delivered"
    # His own receipt works.
    own = _receipt(province_notice, org, "330102")
    assert client.get(f"/documents/receipts/{own.id}").status_code == 200
    resp = _api_post(client, f"/api/documents/receipts/{own.id}/sign_for")
    assert resp.status_code == 200 and resp.get_json()["receipt"]["state"] == "signed"
    # A county's draft is invisible to the other county.
    draft = Document.query.filter_by(title="关于做好防汛工作的通知").first()
    assert client.get(f"/documents/{draft.id}").status_code == 200  # received by him
    mine = _draft(org)
    assert client.get(f"/documents/{mine}").status_code == 404
    assert client.get(f"/api/documents/{mine}").status_code == 404
    assert client.get("/api/documents?q=秸秆").get_json()["items"] == []


def _draft(org):
    from office.docflow import service as df

    return df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于秸秆禁烧的通知",
                           lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"]).id


def test_pages_walk_a_draft_to_distribution(client, org):
    login(client, "county_clerk")
    page = client.get("/documents/new")
    assert page.status_code == 200
    r = post_form(client, "/documents/new", {
        "doc_type": "通知", "title": "关于秸秆禁烧的通知", "body": "一、总体要求\n（一）加强领导",
        "lead_unit_id": org.unit("330106", "gov").id, "main_group": "group:township_governments",
        "due_days": "5"}, page="/documents/new")
    assert r.status_code == 302
    doc = Document.query.filter_by(title="关于秸秆禁烧的通知").one()
    show = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'data-action="submit"' in show and "docflow.js" in show
    assert post_form(client, f"/documents/{doc.id}/action/submit", {"version": doc.version},
                     page="/documents/").status_code == 302
    db.session.refresh(doc)
    # The drafter cannot pass her own review: the refusal is on the document page, nothing changed.
    refused = post_form(client, f"/documents/{doc.id}/action/review_pass", {"version": doc.version},
                        page="/documents/")
    assert refused.status_code == 403
    body = refused.get_data(as_text=True)
    assert "You drafted this document" in body and "flash-error" in body and "<h1>关于秸秆禁烧的通知</h1>" in body
    db.session.refresh(doc)
    assert doc.state == "review"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "county_staff")  # another member of the office reviews
    assert post_form(client, f"/documents/{doc.id}/action/review_pass", {"version": doc.version},
                     page="/documents/").status_code == 302
    db.session.refresh(doc)
    assert doc.state == "signoff" and doc.reviewer_name == "梁文斌"
    # A stale page (old version) is refused with 409.
    assert post_form(client, f"/documents/{doc.id}/action/recheck", {"version": 1},
                     page="/documents/").status_code == 409
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "county_leader")
    # The leader signs off in his Approvals to-do; the document page links there.
    show = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert f"/approvals/{doc.signoff_request_id}" in show
    todo = client.get("/approvals/").get_data(as_text=True)
    assert "关于秸秆禁烧的通知" in todo and f"/approvals/{doc.signoff_request_id}" in todo
    task = approval_task(org.actor("county_leader"), "docflow.signoff", doc.id)
    assert post_form(client, f"/approvals/{doc.signoff_request_id}/act",
                     {"action": "approve", "task_id": task.id, "opinion": "同意印发"},
                     page=f"/approvals/{doc.signoff_request_id}").status_code == 302
    db.session.refresh(doc)
    assert doc.state == "signed" and doc.signer_name == "宋立新" and doc.sign_opinion == "同意印发"
    assert "同意印发" in client.get(f"/documents/{doc.id}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "county_clerk")
    for name in ("recheck", "number", "seal", "distribute"):
        db.session.refresh(doc)
        resp = post_form(client, f"/documents/{doc.id}/action/{name}", {"version": doc.version},
                         page="/documents/")
        assert resp.status_code == 302, (name, resp.get_data(as_text=True)[:500])
    db.session.refresh(doc)
    assert doc.state == "distributed" and doc.doc_number.startswith("西政发")
    show = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'data-total="2"' in show and "三墩镇" in show
    tree = client.get(f"/api/documents/{doc.id}/tree").get_json()
    assert tree["counts"] == {"total": 2, "signed": 0, "handled": 0, "overdue": 0, "returned": 0, "waiting": 2}
    # The township signs for it on its page; the to-do list shows it before.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "town_clerk")
    assert "关于秸秆禁烧的通知" in client.get("/todo").get_data(as_text=True)
    rid = _receipt(doc, org, "330106109").id
    assert post_form(client, f"/documents/receipts/{rid}/sign_for", {"version": 1},
                     page="/documents/").status_code == 302
    assert client.get(f"/api/documents/{doc.id}/tree").get_json()["counts"]["signed"] == 1
    for url in ("/documents/", "/documents/outgoing", "/documents/search?q=秸秆", "/documents/archive",
                f"/documents/receipts/{rid}", f"/documents/{doc.id}/tree", "/"):
        assert client.get(url).status_code == 200, url
    assert "秸秆" in client.get("/documents/search?q=秸秆").get_data(as_text=True)


def test_upload_refused_by_content(client, org):
    mine = _draft(org)
    login(client, "county_clerk")
    token = csrf_from(client.get("/documents/").get_data(as_text=True))
    r = client.post(f"/documents/{mine}/attachments", data={"csrf_token": token,
                    "file": (io.BytesIO(b"not really a pdf"), "a.pdf")}, content_type="multipart/form-data")
    assert r.status_code == 400
    r = client.post(f"/documents/{mine}/attachments", data={"csrf_token": token,
                    "file": (io.BytesIO(b"\x89PNG\r\n\x1a\nxxxx"), "图.png")}, content_type="multipart/form-data")
    assert r.status_code == 302
    att = db.session.get(Document, mine).attachments[0]
    got = client.get(f"/documents/{mine}/attachments/{att.id}")
    assert got.status_code == 200 and got.data.startswith(b"\x89PNG")


def test_assigning_a_receipt_to_a_list_of_people_is_a_message_and_changes_nothing(client, org, province_notice):
    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    own = _receipt(province_notice, org, "330102")
    login(client, "other_county_clerk")
    assert _api_post(client, f"/api/documents/receipts/{own.id}/sign_for").status_code == 200
    resp = _api_post(client, f"/api/documents/receipts/{own.id}/assign", json={"user_id": [1, 2]})
    assert resp.status_code == 400
    assert "one person" in resp.get_json()["error"]
    db.session.expire_all()
    assert db.session.get(Receipt, own.id).state == "signed"


def test_outgoing_lists_the_documents_of_the_organs_the_clerk_works_for(client, org):
    """The county general office drafts for the county government: its outgoing list shows the
    government's documents and its own, last changed first, each with its issuers in order; a
    clerk of another county sees none of them."""
    from office.docflow import service as df

    clerk = org.actor("county_clerk")
    gov, mz, office = org.unit("330106", "gov"), org.unit("330106", "mz"), org.unit("330106", "office")
    joint = df.create_draft(clerk, doc_type="通知", title="关于联合开展检查的通知", lead_unit_id=gov.id,
                            co_issuer_ids=[mz.id], main=["group:township_governments"])
    own = df.create_draft(clerk, doc_type="通知", title="办公室内部通知", lead_unit_id=office.id,
                          main=["group:township_governments"])
    lines = df.unit_documents(clerk)
    assert [(d.title, d.issuer_names) for d in lines] == [
        ("办公室内部通知", office.name), ("关于联合开展检查的通知", f"{gov.name}、{mz.name}")]
    assert df.unit_document_count(clerk) == 2
    assert [d.id for d in df.unit_documents(clerk, limit=1, offset=1)] == [joint.id]
    assert df.unit_documents(org.actor("other_county_clerk")) == []
    login(client, "county_clerk")
    page = client.get("/documents/outgoing").get_data(as_text=True)
    assert page.index(f'href="/documents/{own.id}"') < page.index(f'href="/documents/{joint.id}"')
    assert f"{gov.name}、{mz.name}" in page and "None" not in page
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "other_county_clerk")
    other = client.get("/documents/outgoing").get_data(as_text=True)
    assert "关于联合开展检查的通知" not in other and "办公室内部通知" not in other


def test_document_page_lists_recipients_copies_attachments_and_revisions(client, org):
    from office.docflow import service as df

    clerk = org.actor("county_clerk")
    towns = [org.unit("330106109", "gov").id]
    doc = df.create_draft(clerk, doc_type="通知", title="关于防汛的通知", lead_unit_id=org.unit("330106", "gov").id,
                          main=towns, cc=[org.unit("330106", "mz").id])
    df.add_attachment(clerk, doc.id, "附件1 <清单>.pdf", b"%PDF-1.7\n...")
    df.add_attachment(clerk, doc.id, "附件2.pdf", b"%PDF-1.7\n....")
    df.update_draft(clerk, doc.id, body="第二稿")
    db.session.commit()
    login(client, "county_clerk")
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    town, mz = org.unit("330106109", "gov").name, org.unit("330106", "mz").name
    assert f"<p>{town}：</p>" in page
    assert "CC" in page and mz in page and page.index(town) < page.index(mz)
    first, second = page.index("附件1 _清单_.pdf</a> (12 B)"), page.index("附件2.pdf</a> (13 B)")
    assert first < second  # in their order
    assert "2 revisions" in page
