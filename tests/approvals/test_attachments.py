"""Attachments of stand-alone requests: stored by SHA-256, size cap, type by content, safe names,
downloads only for those who may see the request."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from office import storage
from office.approvals import service, standalone
from office.approvals.models import ApprovalRequest, Flow, StandaloneAttachment, StandaloneRequest
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from tests.approvals.helpers import make_flow, node, task_of, users
from tests.approvals.test_views import png
from tests.conftest import csrf_from, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def ofd() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml", "<ofd:OFD/>")
    return buf.getvalue()


def _flow():
    return make_flow(node("single", name="区长审批", assignees={"kind": "gov_leader"}), key="std",
                     subject_type="request")


def test_sniff_by_content_not_name():
    assert storage.sniff(PDF) == "pdf"
    assert storage.sniff(png()) == "png"
    assert storage.sniff(b"\xff\xd8\xff\xe0JFIF") == "jpg"
    assert storage.sniff(docx()) == "docx"
    assert storage.sniff(ofd()) == "ofd"
    assert storage.sniff(b"MZ\x90\x00 executable") is None
    assert storage.sniff(b"PK\x03\x04 not really a zip") is None
    assert storage.safe_name("../../etc/采购清单.pdf", "png") == "采购清单.png"
    assert storage.safe_name("C:\\Users\\x\\a<b>.docx", "docx") == "a_b_.docx"
    assert storage.safe_name("", "pdf") == "attachment.pdf"


def test_submit_with_attachments_stores_by_hash(app, org):
    flow = _flow()
    req = standalone.submit(org.actor("county_clerk"), title="购置办公设备的请示", body="正文", amount="52000",
                            flow=flow, attachments=[("采购清单.pdf", PDF), ("照片.pdf", png()),
                                                    ("方案.docx", docx()), ("again.pdf", PDF)])
    item, atts = standalone.item_and_attachments(req)
    assert item is standalone.get_item(req.subject_id)  # the request's own item, read with its files
    assert [(a.name, a.file_type, a.position) for a in atts] == [
        ("采购清单.pdf", "pdf", 1), ("照片.png", "png", 2), ("方案.docx", "docx", 3), ("again.pdf", "pdf", 4)]
    digest = hashlib.sha256(PDF).hexdigest()
    assert atts[0].sha256 == atts[3].sha256 == digest
    path = Path(app.config["STORAGE_DIR"]) / "approvals" / digest[:2] / digest
    assert path.read_bytes() == PDF
    att, data = standalone.open_attachment(org.actor("county_leader"), req.id, atts[1].id)
    assert data == png() and att.name == "照片.png"
    # Damage on disk is noticed.
    path.write_bytes(PDF + b"x")
    with pytest.raises(ValidationError):
        standalone.open_attachment(org.actor("county_clerk"), req.id, atts[0].id)
    # Storing the same content again repairs it.
    assert storage.store_blob("approvals", PDF) == digest and path.read_bytes() == PDF


def test_wrong_type_or_too_large_refuses_the_whole_submission(app, org):
    flow = _flow()
    with pytest.raises(ValidationError) as exc:
        standalone.submit(org.actor("county_clerk"), title="请示", flow=flow,
                          attachments=[("ok.pdf", PDF), ("setup.pdf", b"MZ\x90\x00 executable")])
    assert "setup" in exc.value.message
    db.session.rollback()
    with pytest.raises(ValidationError):
        standalone.submit(org.actor("county_clerk"), title="请示", flow=flow, attachments=[("empty.pdf", b"")])
    db.session.rollback()
    old = app.config["APPROVALS_MAX_ATTACHMENT_MB"]
    app.config["APPROVALS_MAX_ATTACHMENT_MB"] = 1
    try:
        big = PDF + b"0" * (1024 * 1024)
        with pytest.raises(ValidationError) as exc:
            standalone.submit(org.actor("county_clerk"), title="请示", flow=flow, attachments=[("big.pdf", big)])
        assert "1 MB" in exc.value.message
    finally:
        app.config["APPROVALS_MAX_ATTACHMENT_MB"] = old
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(StandaloneRequest)).scalar() == 0
    assert db.session.execute(select(func.count()).select_from(ApprovalRequest)).scalar() == 0


def test_upload_and_download_through_the_pages(client, org):
    _flow()
    login(client, "county_clerk")
    html = client.get("/approvals/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and 'name="attachments"' in html
    flow_id = db.session.execute(select(Flow.id).where(Flow.key == "std")).scalar_one()
    r = client.post("/approvals/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(html), "title": "购置办公设备的请示", "body": "正文", "flow_id": flow_id,
        "attachments": [(io.BytesIO(PDF), "采购 清单;x.pdf"), (io.BytesIO(docx()), "方案.docx")]})
    assert r.status_code == 302, r.get_data(as_text=True)
    req = db.session.execute(select(ApprovalRequest)).scalar_one()
    atts = db.session.execute(select(StandaloneAttachment).order_by(StandaloneAttachment.id)).scalars().all()
    assert [a.name for a in atts] == ['采购 清单;x.pdf', "方案.docx"]
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    url = f"/approvals/{req.id}/attachments/{atts[0].id}"
    assert url in page and "采购 清单;x.pdf" in page

    got = client.get(url)
    assert got.status_code == 200 and got.data == PDF
    assert got.mimetype == "application/pdf"
    cd = got.headers["Content-Disposition"]
    assert cd.startswith("attachment; filename=\"")
    assert f"filename*=UTF-8''{quote('采购 清单;x.pdf', safe='')}" in cd
    ascii_part = cd.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_part.isascii() and ";" not in ascii_part and ascii_part.endswith(".pdf")
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in got.headers["Cache-Control"]
    d = client.get(f"/approvals/{req.id}/attachments/{atts[1].id}")
    assert d.status_code == 200 and d.mimetype.endswith("wordprocessingml.document")
    api = client.get(f"/api/approvals/requests/{req.id}").get_json()
    assert [(a["name"], a["type"], a["url"]) for a in api["attachments"]] == [
        ("采购 清单;x.pdf", "pdf", url), ("方案.docx", "docx", f"/approvals/{req.id}/attachments/{atts[1].id}")]

    # A wrong type through the page: refused with a message, nothing created.
    r = client.post("/approvals/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_from(html), "title": "第二件", "flow_id": flow_id,
        "attachments": [(io.BytesIO(b"<script>alert(1)</script>"), "x.pdf")]})
    assert r.status_code == 400
    assert db.session.execute(select(func.count()).select_from(ApprovalRequest)).scalar() == 1


def test_only_people_who_may_see_the_request_can_download(app, org):
    flow = _flow()
    req = standalone.submit(org.actor("county_clerk"), title="请示", flow=flow, attachments=[("a.pdf", PDF)])
    other = standalone.submit(org.actor("other_county_clerk"), title="另一件", flow=flow,
                              attachments=[("b.pdf", PDF + b"b")])
    att = standalone.item_and_attachments(req)[1][0]
    other_att = standalone.item_and_attachments(other)[1][0]
    url = f"/approvals/{req.id}/attachments/{att.id}"
    for name, status in (("county_clerk", 200), ("county_leader", 200), ("other_county_clerk", 404),
                         ("county_staff", 404), ("town_leader", 404)):
        client = app.test_client()
        login(client, name)
        assert client.get(url).status_code == status, name
        # Another request's attachment through this request: never.
        assert client.get(f"/approvals/{req.id}/attachments/{other_att.id}").status_code == 404
    for name in ("other_county_clerk", "city_clerk"):
        with pytest.raises(NotFound):
            standalone.open_attachment(org.actor(name), req.id, att.id)
    # CC'd users may read it.
    service.carbon_copy(org.actor("county_clerk"), req.id, user_ids=[org.user("county_staff").id])
    assert standalone.open_attachment(org.actor("county_staff"), req.id, att.id)[1] == PDF


def test_attachments_change_only_while_returned(org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    req = standalone.submit(org.actor("county_clerk"), title="请示", flow=flow, attachments=[("a.pdf", PDF)])
    clerk = org.actor("county_clerk")
    with pytest.raises(ValidationError):
        standalone.add_attachments(clerk, req.id, [("b.docx", docx())])
    db.session.rollback()
    service.return_task(org.actor("county_leader"), task_of(org, req, "county_leader").id, opinion="请补充报价单")
    with pytest.raises(PermissionDenied):
        standalone.add_attachments(org.actor("county_leader"), req.id, [("b.docx", docx())])
    db.session.rollback()
    rows = standalone.add_attachments(clerk, req.id, [("报价单.docx", docx())])
    assert [r.name for r in rows] == ["报价单.docx"] and rows[0].position == 2
    first = standalone.item_and_attachments(req)[1][0]
    standalone.remove_attachment(clerk, req.id, first.id)
    assert [a.name for a in standalone.item_and_attachments(req)[1]] == ["报价单.docx"]
    service.resubmit(clerk, req.id)
    with pytest.raises(ValidationError):
        standalone.remove_attachment(clerk, req.id, rows[0].id)


def test_request_without_files_and_other_subjects_have_no_attachments(app, org):
    req = standalone.submit(org.actor("county_clerk"), title="请假申请", body="事由", flow=_flow())
    item, atts = standalone.item_and_attachments(req)
    assert item is not None and item.title == "请假申请" and atts == []
    other = SimpleNamespace(subject_type="docflow.document", subject_id=str(item.id))
    assert standalone.item_and_attachments(other) == (None, [])
