"""Input: XSS payloads typed into the real forms come back escaped (HTML) and inert (PDF, Excel);
uploads are capped; forged fields are refused with nothing changed; secrets never reach the logs."""

from __future__ import annotations

import io
import logging
import re

from sqlalchemy import func, select

from office.extensions import db
from tests.conftest import PASSWORD, csrf_from, login

XSS = "<script>alert(1)</script><img src=http://evil.example/x.png onerror=alert(2)>\"'"
RAW = ("<script>alert(1)</script>", "<img src=http://evil.example", "onerror=alert(2)>")


def _post(client, url, data, page="/account"):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _escaped(html: str) -> None:
    for raw in RAW:
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_xss_in_document_fields_comes_back_escaped(client, org):
    login(client, "county_clerk")
    r = _post(client, "/documents/new", {"doc_type": "通知", "title": f"标题{XSS}", "body": f"正文{XSS}",
                                         "note": f"备注{XSS}", "lead_unit_id": org.unit("330106", "gov").id,
                                         "main_group": "group:township_governments"})
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    url = r.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    _escaped(page)
    assert page.count("&lt;script&gt;") >= 3  # title, body and note
    for listing in ("/documents/outgoing", "/documents/search?q=标题"):
        html = client.get(listing).get_data(as_text=True)
        _escaped(html)
    doc_id = int(url.rstrip("/").rsplit("/", 1)[1])
    assert client.get(f"/api/documents/{doc_id}").get_json()["title"] == f"标题{XSS}"  # JSON, not HTML


def test_xss_in_approval_title_body_and_comment(client, org):
    from tests.approvals.helpers import make_flow, node

    flow = make_flow(node("single", assignees={"kind": "gov_leader"}), subject_type="request")
    login(client, "county_clerk")
    r = _post(client, "/approvals/new", {"title": f"请示{XSS}", "body": f"正文{XSS}", "flow_id": flow.id})
    assert r.status_code == 302
    url = r.headers["Location"]
    req_id = int(url.rstrip("/").rsplit("/", 1)[1])
    _post(client, f"/approvals/{req_id}/act", {"action": "comment", "opinion": f"意见{XSS}"})
    page = client.get(url).get_data(as_text=True)
    _escaped(page)
    assert page.count("&lt;script&gt;") >= 3
    leader = client.application.test_client()
    login(leader, "county_leader")
    _escaped(leader.get("/approvals/").get_data(as_text=True))
    _escaped(leader.get("/todo").get_data(as_text=True))


def test_xss_in_user_name_and_dataset_name(app, org):
    admin = app.test_client()
    login(admin, "sysadmin")
    unit = org.unit("330106", "office")
    form = {"username": "xss_user", "password": "Good-Passw0rd-2026", "roles": "staff"}
    # Too long for a name: a clear message, no account (and no database error on PostgreSQL).
    r = _post(admin, f"/admin/units/{unit.id}/users/new", {**form, "name": f"名{XSS}"})
    assert r.status_code in (200, 400) and "at most 64 characters" in r.get_data(as_text=True)
    r = _post(admin, f"/admin/units/{unit.id}/users/new", {**form, "name": "<script>alert(1)</script>"})
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    uid = org.user("xss_user").id
    for url in (f"/admin/users/{uid}", f"/admin/units/{unit.id}"):
        html = admin.get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    from office.forms import service as forms
    from tests.forms.conftest import ELEMENTS, SYSTEM

    for e in ELEMENTS:
        forms.create_element(SYSTEM, **e)
    county = app.test_client()
    login(county, "county_admin")
    token = csrf_from(county.get("/reports/datasets").get_data(as_text=True))
    r = county.post("/reports/datasets", data={
        "csrf_token": token, "name": f"数据{XSS}", "source_name": f"来源{XSS}", "as_of": "2025-09-30",
        "file": (io.BytesIO(b"division_code,element_code,period,value\n330106109,POP_TOTAL,2025Q3,5\n"), "d.csv")})
    assert r.status_code == 302
    _escaped(county.get("/reports/datasets").get_data(as_text=True))


def test_title_with_markup_prints_as_text_and_fetches_nothing(app, org):
    from office.docflow import service as df
    from office.pdf.render import render_pdf
    from tests.pdf.conftest import pdftotext

    doc = df.create_draft(org.actor("county_clerk"), doc_type="通知", title=f"关于{XSS}的通知",
                          body=f"一、{XSS}\n<iframe src=file:///etc/passwd></iframe>",
                          lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    result = render_pdf(df.official_document(doc))
    assert result.refused == []  # nothing in the text was even tried as a URL
    text = pdftotext(result.pdf)
    assert "<script>alert(1)</script>" in re.sub(r"\s+", "", text).replace("<script>", "<script>")
    assert "evil.example" in text and b"/URI" not in result.pdf


def test_excel_export_neutralises_formulas_and_keeps_numbers(app, org):
    from openpyxl import load_workbook

    from office.forms import service as forms
    from office.forms.models import Submission
    from tests.forms.conftest import SYSTEM

    forms.create_element(SYSTEM, code="NOTE", name="Remark", value_type="text", aggregation="none",
                         period_type="quarter")
    forms.create_element(SYSTEM, code="BALANCE", name="Balance", value_type="integer", aggregation="sum",
                         period_type="quarter")
    forms.create_template(SYSTEM, code="T1", name="=HYPERLINK(\"http://evil.example\",\"x\")",
                          definition={"sections": [{"title": "@SUM(A1)", "fields": [
                              {"element": "NOTE"}, {"element": "BALANCE"}]}]})
    task = forms.issue_task(org.actor("county_clerk"), template_code="T1", period="2025Q3",
                            deadline=__import__("datetime").datetime(2025, 10, 15))
    sub = db.session.execute(select(Submission).where(Submission.task_id == task.id,
                                                      Submission.unit_id == org.unit("330106109").id)).scalar_one()
    town = app.test_client()
    login(town, "town_clerk")
    for payload in ("=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "\r=1"):
        _post(town, f"/reports/submissions/{sub.id}/save", {"f_NOTE": payload, "f_BALANCE": "-42"},
              page=f"/reports/submissions/{sub.id}")
        r = town.get(f"/reports/submissions/{sub.id}/form.xlsx")
        assert r.status_code == 200
        ws = load_workbook(io.BytesIO(r.data)).active
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        assert all(c.data_type != "f" for c in cells), payload
        rows = {ws.cell(c.row, 1).value: ws.cell(c.row, 3) for c in cells if c.column == 1}
        note, balance = rows["NOTE"], rows["BALANCE"]
        assert note.value.lstrip("\t\r") == payload.lstrip("\t\r") and note.data_type == "s", payload
        if note.value.startswith(("=", "+", "-", "@", "\t", "\r")):
            assert note.quotePrefix
        assert balance.value == -42 and balance.data_type == "n"  # a negative number stays a number
        assert b"<f>" not in r.data


def test_upload_over_the_cap_is_413_with_a_clear_message(app, org):
    from office.docflow.models import Attachment

    client = app.test_client()
    login(client, "county_clerk")
    token = csrf_from(client.get("/documents/new").get_data(as_text=True))
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        r = client.post("/documents/new", data={"csrf_token": token, "doc_type": "通知", "title": "大文件",
                                                "docx": (io.BytesIO(b"PK\x03\x04" + b"0" * (2 * 1024 * 1024)),
                                                         "big.docx")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 50 * 1024 * 1024
    assert r.status_code == 413 and "The upload is too large." in r.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Attachment)).scalar() == 0


def test_finished_task_id_is_refused_and_changes_nothing(app, foreign, org):
    from office.approvals import service as approvals
    from office.approvals.models import ApprovalAction, Task

    leader = app.test_client()
    login(leader, "sc_leader")
    approvals.approve(org.actor("sc_leader"), foreign["task"], opinion="同意")
    before = db.session.execute(select(func.count()).select_from(ApprovalAction)).scalar()
    r = _post(leader, f"/approvals/{foreign['request']}/act",
              {"action": "reject", "task_id": foreign["task"], "opinion": "驳回"})
    assert r.status_code in (302, 409)
    page = leader.get(f"/approvals/{foreign['request']}").get_data(as_text=True) if r.status_code == 302 \
        else r.get_data(as_text=True)
    assert "already" in page or "changed by someone else" in page
    db.session.expire_all()
    assert db.session.get(Task, foreign["task"]).state == "approved"
    assert db.session.execute(select(func.count()).select_from(ApprovalAction)).scalar() == before


def test_form_save_for_another_units_submission_is_refused(app, foreign):
    from office.forms.models import DataValue as FormValue

    client = app.test_client()
    login(client, "town_clerk")  # 三墩镇, not 清波街道
    before = db.session.execute(select(func.count()).select_from(FormValue)).scalar()
    r = _post(client, f"/reports/submissions/{foreign['submission']}/save", {"POP_MALE": "1"})
    assert r.status_code == 404 and "error-message" in r.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(FormValue)).scalar() == before


def test_no_password_token_or_cookie_in_logs(app, org, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement and its parameters too
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    login_csrf = csrf_from(page)
    client.post("/login", data={"username": "county_clerk", "password": PASSWORD, "csrf_token": login_csrf})
    login(app.test_client(), "county_clerk", "Wrong-Password-77")
    cookie = client.get_cookie("session").value
    from flask.sessions import SecureCookieSessionInterface

    sid = SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie)["sid"]
    token = csrf_from(client.get("/account").get_data(as_text=True))
    new_password = "Brand-New-Passw0rd-9"
    client.post("/account", data={"csrf_token": token, "action": "password", "pw-old": PASSWORD,
                                  "pw-new": new_password, "pw-repeat": new_password})
    client.get("/api/notifications")
    client.post("/api/notifications/999/read", headers={"X-CSRFToken": token})
    client.post("/logout", data={"csrf_token": token})
    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (PASSWORD, "Wrong-Password-77", new_password, cookie, sid, token, login_csrf):
        assert secret not in text
    assert any("user_session" in r.getMessage() for r in caplog.records)  # the capture saw the SQL


def _rezip(data: bytes, changes: dict[str, bytes]) -> bytes:
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    members = {n: src.read(n) for n in src.namelist()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in {**members, **changes}.items():
            z.writestr(name, body)
    return buf.getvalue()


def test_excel_uploads_refuse_zip_bombs_entities_and_non_workbooks(app, foreign):
    """The filled-form upload and the shared-dataset import both take .xlsx files from users."""
    from office.forms.models import SharedDataset

    client = app.test_client()
    login(client, "qb_clerk")
    sub = foreign["submission"]
    good = client.get(f"/reports/submissions/{sub}/form.xlsx").data
    bomb = _rezip(good, {"xl/media/bomb.bin": b"\0" * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    import zipfile

    wb_xml = zipfile.ZipFile(io.BytesIO(good)).read("xl/workbook.xml")
    xxe = _rezip(good, {"xl/workbook.xml": wb_xml.replace(
        b"<workbook", b'<!DOCTYPE workbook [<!ENTITY x SYSTEM "file:///etc/passwd">]><workbook', 1)})
    laughs = _rezip(good, {"xl/workbook.xml": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                                              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><l>&b;</l>'})
    cases = [(bomb, "unpacks to too much data"), (xxe, "contains a DTD"), (laughs, "contains a DTD"),
             (b"PK\x03\x04 broken", "not a .xlsx file"), (b"MZ\x90\x00 an executable", "not a .xlsx file")]
    before = client.get(f"/api/reports/submissions/{sub}").get_json()
    for data, message in cases:
        r = _post(client, f"/reports/submissions/{sub}/upload", {"file": (io.BytesIO(data), "form.xlsx")},
                  page=f"/reports/submissions/{sub}")
        assert r.status_code == 400 and message in r.get_data(as_text=True), message
    assert client.get(f"/api/reports/submissions/{sub}").get_json() == before

    admin = app.test_client()
    login(admin, "other_county_admin")
    count = db.session.execute(select(func.count()).select_from(SharedDataset)).scalar()
    for data, message in cases:
        r = _post(admin, "/reports/datasets", {"file": (io.BytesIO(data), "rows.xlsx"), "name": "n",
                                               "source_name": "s", "as_of": "2025-09-30"}, page="/reports/datasets")
        assert r.status_code == 400 and message in r.get_data(as_text=True), message
    assert db.session.execute(select(func.count()).select_from(SharedDataset)).scalar() == count
    # The genuine workbook still goes through.
    r = _post(client, f"/reports/submissions/{sub}/upload", {"file": (io.BytesIO(good), "form.xlsx")},
              page=f"/reports/submissions/{sub}")
    assert r.status_code == 302


def test_nul_characters_are_refused_with_400_and_store_nothing(app, org):
    """PostgreSQL refuses NUL in text: a NUL anywhere in a request is a 400, never a 500."""
    from office.docflow.models import Document

    client = app.test_client()
    login(client, "county_clerk")
    token = csrf_from(client.get("/documents/new").get_data(as_text=True))
    h = {"X-CSRFToken": token}
    answers = [
        client.get("/api/documents?q=a%00b"),
        client.get("/documents/search?q=a%00b"),
        client.get("/api/org/divisions/33%0001/children"),
        client.post("/api/documents", json={"type": "通知", "title": "a\x00b"}, headers=h),
        client.post("/api/documents", json={"type": "通知", "title": "ok", "main": ["x\x00"]}, headers=h),
        client.post("/documents/new", data={"csrf_token": token, "doc_type": "通知", "title": "a\x00b"}),
        client.post("/documents/new", data={"csrf_token": token, "doc_type": "通知", "title": "t",
                                            "docx": (io.BytesIO(b"PK"), "a\x00.docx")}),
    ]
    assert [r.status_code for r in answers] == [400] * len(answers)
    assert db.session.execute(select(func.count()).select_from(Document)).scalar() == 0
    # The same requests without the NUL are fine.
    assert client.get("/api/documents?q=ab").status_code == 200
    assert client.get("/api/org/divisions/330106/children").status_code == 200
