"""The approval sheet (审批单) PDF: opinions, names, dates and signatures, through office.pdf."""

from __future__ import annotations

import io
import re

import pdfplumber
from sqlalchemy import select

from office.approvals import service, sheet, standalone
from office.approvals.models import Signature
from office.extensions import db
from office.pdf.render import render_pdf
from office.pdf.types import ApprovalSheet, from_json
from tests.approvals.helpers import make_flow, node, task_of
from tests.approvals.test_views import png
from tests.conftest import csrf_from, login
from tests.pdf.conftest import pdftotext, squash

PDF = b"%PDF-1.4\n%%EOF\n"


def _approved_request(org):
    flow = make_flow(node("sequential", name="逐级审批", assignees={"kind": "leader_up_to", "level": "province"}),
                     subject_type="request")
    service.save_signature(org.actor("city_leader"), png(120, 40))
    req = standalone.submit(org.actor("county_clerk"), title="关于购置应急物资的请示", body="拟购置帐篷 50 顶。",
                            amount="52000", flow=flow, attachments=[("物资清单.pdf", PDF)])
    for name, opinion in (("county_leader", "同意，报市政府"), ("city_leader", "同意，请省政府审定"),
                          ("prov_leader", "同意购置")):
        service.approve(org.actor(name), task_of(org, req, name).id, opinion=opinion)
    return req


def test_sheet_content_and_pdf_text(app, org):
    req = _approved_request(org)
    db.session.refresh(req)
    s = sheet.build_sheet(req)
    assert isinstance(s, ApprovalSheet) and s.state == "已通过" and s.amount == "52,000.00"
    assert s.attachments == ["物资清单.pdf"]
    # The requester and the submission date are in the heading rows, not repeated as an opinion.
    assert s.requester == "罗静"
    assert [(o.role, o.name) for o in s.opinions] == [
        ("逐级审批", "宋立新"), ("逐级审批", "杨光明"), ("逐级审批", "李建国")]
    assert [o.opinion for o in s.opinions] == ["同意，报市政府", "同意，请省政府审定", "同意购置"]
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", s.opinions[0].signed_at)
    # Only the city leader has a signature: his box carries the image file.
    assert s.opinions[1].signature_png and s.opinions[1].signature_png.endswith(".png")
    assert s.opinions[0].signature_png is None
    assert from_json(s.kind, s.to_json()) == s  # the render job rebuilds it from its payload

    result = render_pdf(s)
    assert result.refused == []
    text = squash(pdftotext(result.pdf))
    for expected in ("审批单", "关于购置应急物资的请示", "罗静", "宋立新", "杨光明", "李建国", "同意，报市政府",
                     "同意，请省政府审定", "同意购置", "物资清单.pdf", "52,000.00", "已通过"):
        assert expected in text, expected
    assert text.index("宋立新") < text.index("杨光明") < text.index("李建国")
    assert text.count("申请人") == 1 and text.count("罗静") == 1  # the requester once
    with pdfplumber.open(io.BytesIO(result.pdf)) as doc:
        assert len(doc.pages[0].images) == 1  # the city leader's signature


def test_sheet_prints_a_delegate_as_signing_for_the_leader(app, org):
    from datetime import date, timedelta

    from office.auth.service import add_delegation

    add_delegation(org.actor("county_leader"), org.user("county_deputy"), date.today(),
                   date.today() + timedelta(days=3), reason="出差")
    flow = make_flow(node("single", name="领导审批", assignees={"kind": "gov_leader"}), subject_type="request")
    req = standalone.submit(org.actor("county_clerk"), title="关于借用会议室的请示", body="借用一天。", flow=flow)
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id, opinion="同意")
    db.session.refresh(req)
    s = sheet.build_sheet(req)
    assert [(o.role, o.name, o.opinion) for o in s.opinions] == [("领导审批", "谢晓东（代宋立新）", "同意")]
    assert "谢晓东（代宋立新）" in squash(pdftotext(render_pdf(s).pdf))


def test_sheet_pdf_from_the_request_page(app, org):
    req = _approved_request(org)
    client = app.test_client()
    login(client, "county_clerk")
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    assert f"/approvals/{req.id}/sheet.pdf" in page
    r = client.post(f"/approvals/{req.id}/sheet.pdf", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302 and "/pdf/r/" in r.headers["Location"]
    rid = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    status = client.get(f"/pdf/r/{rid}/status").get_json()
    assert status["status"] == "done", status  # in-process jobs run at commit in the tests
    pdf = client.get(f"/pdf/r/{rid}/download")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "filename*=UTF-8''" in pdf.headers["Content-Disposition"]
    text = squash(pdftotext(pdf.data))
    assert "宋立新" in text and "同意购置" in text and "同意，请省政府审定" in text
    sig = db.session.execute(select(Signature)).scalar_one()
    assert sig.user_id == org.user("city_leader").id

    # Someone who may not see the request gets nothing.
    outsider = app.test_client()
    login(outsider, "other_county_clerk")
    token = csrf_from(outsider.get("/approvals/").get_data(as_text=True))
    assert outsider.post(f"/approvals/{req.id}/sheet.pdf", data={"csrf_token": token}).status_code == 404
    assert outsider.get(f"/pdf/r/{rid}/download").status_code == 404
