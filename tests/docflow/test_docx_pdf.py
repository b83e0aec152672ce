""".docx drafts imported into the body structure (safely), and the official PDFs of documents and
receipts (checked with pdftotext), the archive package with the archival PDF."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile

import pytest

from office.docflow import service as df
from office.docflow.models import Document, Receipt
from office.errors import ValidationError
from office.extensions import db
from office.pdf.parse import parse_body
from tests.conftest import csrf_from, login

from .conftest import issue, leader_instructs


def _docx(build) -> bytes:
    import docx

    d = docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _numbered(d, text: str, ilvl: int) -> None:
    """A paragraph with Word's automatic numbering at level ``ilvl`` (no marker in its text)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = d.add_paragraph(text)
    ppr = p._p.get_or_add_pPr()
    numpr = OxmlElement("w:numPr")
    lvl = OxmlElement("w:ilvl")
    lvl.set(qn("w:val"), str(ilvl))
    num = OxmlElement("w:numId")
    num.set(qn("w:val"), "1")
    numpr.append(lvl)
    numpr.append(num)
    ppr.append(numpr)


def _sample(d) -> None:
    d.add_paragraph("关于做好防汛工作的通知", style="Title")
    d.add_paragraph("各市、县人民政府：")
    d.add_paragraph("一、提高认识")
    d.add_paragraph("（一）加强领导。各地要落实责任。")
    d.add_paragraph("1. 落实责任。")
    d.add_paragraph("（1）一般隐患当日整改；")
    _numbered(d, "强化排查", 0)           # Word numbering, level 1 → 二、
    _numbered(d, "全面排查山塘水库。", 1)  # level 2 → （一）
    d.add_paragraph("值班安排", style="Heading 1")  # heading style, level 1 → 三、
    t = d.add_table(rows=1, cols=2)
    t.rows[0].cells[0].text = "联系人"
    t.rows[0].cells[1].text = "罗静"


def test_docx_import_into_the_body_structure(app_ctx):
    draft = df.import_docx(_docx(_sample))
    assert draft.title == "关于做好防汛工作的通知"
    assert draft.body.splitlines() == ["各市、县人民政府：", "一、提高认识", "（一）加强领导。各地要落实责任。",
                                       "1. 落实责任。", "（1）一般隐患当日整改；", "二、强化排查",
                                       "（一）全面排查山塘水库。", "三、值班安排", "联系人　罗静"]
    levels = [p.level for p in parse_body(draft.body)]
    assert levels == [0, 1, 2, 3, 4, 1, 2, 1, 0]


def test_docx_draft_through_the_editor_and_as_a_revision(client, org):
    login(client, "county_clerk")
    token = csrf_from(client.get("/documents/new").get_data(as_text=True))
    r = client.post("/documents/new", data={
        "csrf_token": token, "doc_type": "通知", "title": "", "lead_unit_id": org.unit("330106", "gov").id,
        "main_group": "group:township_governments", "docx": (io.BytesIO(_docx(_sample)), "草稿.docx")},
        content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    doc = Document.query.filter_by(title="关于做好防汛工作的通知").one()
    assert "二、强化排查" in doc.body
    # Import a second draft into the same document: a new revision, whose difference reviewers see.
    new = _docx(lambda d: (d.add_paragraph("一、提高认识"), d.add_paragraph("二、新增措施")))
    r = client.post(f"/documents/{doc.id}/import-docx", data={"csrf_token": token, "version": doc.version,
                    "docx": (io.BytesIO(new), "v2.docx")}, content_type="multipart/form-data")
    assert r.status_code == 302
    db.session.refresh(doc)
    assert doc.body == "一、提高认识\n二、新增措施" and len(df.revisions(doc)) == 2
    assert "+二、新增措施" in df.diff(doc, 1, 2)


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_docx_import_refuses_bombs_and_entities(app_ctx):
    good = _docx(_sample)
    members = {n: zipfile.ZipFile(io.BytesIO(good)).read(n) for n in zipfile.ZipFile(io.BytesIO(good)).namelist()}
    # A bomb: one part unpacking to far more than allowed (and far more than its compressed size).
    bomb = _zip({**members, "word/media/bomb.bin": b"\0" * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(ValidationError, match="too much data"):
        df.import_docx(bomb)
    with pytest.raises(ValidationError, match="too many parts"):
        df.import_docx(_zip({**members, **{f"customXml/x{i}.xml": b"<a/>" for i in range(1001)}}))
    # External and internal entities: refused before any parser sees them.
    xxe = members["word/document.xml"].replace(
        b"<w:document", b'<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document', 1)
    with pytest.raises(ValidationError, match="DTD"):
        df.import_docx(_zip({**members, "word/document.xml": xxe}))
    with pytest.raises(ValidationError, match="not a .docx"):
        df.import_docx(b"PK\x03\x04 broken")
    with pytest.raises(ValidationError, match="not a .docx"):
        df.import_docx(_zip({"a.txt": b"hello"}))
    with pytest.raises(ValidationError, match="malformed"):
        df.import_docx(_zip({**members, "../evil.xml": b"<a/>"}))


def test_python_docx_parser_resolves_no_entities(tmp_path):
    """Second line of defence: python-docx's lxml parser does not expand an external entity."""
    from docx.oxml.parser import parse_xml
    from lxml import etree

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = f'<!DOCTYPE a [<!ENTITY x SYSTEM "{secret.as_uri()}">]><a>&x;</a>'.encode()
    assert b"TOP-SECRET" not in etree.tostring(parse_xml(xml))


def _pdftotext(path_or_bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else open(path_or_bytes, "rb").read()
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout
    return "".join(out.decode("utf-8").split())


def test_document_and_receipt_pdfs(client, org, province_notice):
    from office.pdf.models import PdfFile, PdfRequest
    from office.pdf.service import file_path

    doc = province_notice
    issue(org, doc, clerk="prov_clerk", leader="prov_leader")
    db.session.refresh(doc)
    obj = df.official_document(doc)
    assert obj.doc_number == doc.doc_number and obj.issuers[0].seal_png  # sealed: the organ's seal image
    assert obj.main_recipients == ["各市人民政府", "各县（市、区）人民政府"]
    assert [p.level for p in obj.body] == [0, 1, 2, 3] and obj.sign_date is not None
    login(client, "prov_clerk")
    page = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert 'data-action="pdf"' in page and 'data-signer' in page
    r = client.post(f"/documents/{doc.id}/pdf", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302 and "/pdf/r/" in r.headers["Location"]
    req = db.session.get(PdfRequest, int(r.headers["Location"].rstrip("/").split("/")[-1]))
    assert db.session.get(PdfFile, req.key).status == "done"  # rendered by the in-process job
    got = client.get(f"/pdf/r/{req.id}/download")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    text = _pdftotext(got.data)
    assert doc.doc_number in text and doc.title in text and "李建国" not in text  # signer only for 上行文
    assert "浙江省人民政府" in text and "一、提高认识" in text

    # The 收文处理笺 of the county's receipt, with the leader's instruction.
    rc = db.session.execute(db.select(Receipt).where(Receipt.document_id == doc.id, Receipt.unit_id ==
                                                     org.unit("330106", "gov").id)).scalar_one()
    clerk = org.actor("county_clerk")
    df.sign_for(clerk, rc.id)
    df.register(clerk, rc.id)
    df.propose(clerk, rc.id, "拟请区长阅示")
    df.request_instruction(clerk, rc.id)
    leader_instructs(org, "county_leader", rc, "同意，请应急局落实。")
    db.session.refresh(rc)
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "county_clerk")
    page = client.get(f"/documents/receipts/{rc.id}").get_data(as_text=True)
    r = client.post(f"/documents/receipts/{rc.id}/pdf", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    req = db.session.get(PdfRequest, int(r.headers["Location"].rstrip("/").split("/")[-1]))
    text = _pdftotext(file_path(req.key).read_bytes())
    for expected in (doc.doc_number, doc.title, rc.reg_number, "拟请区长阅示", "同意，请应急局落实。", "宋立新"):
        assert expected in text, expected
    # Another county's clerk gets no sheet of this receipt.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(client, "other_county_clerk")
    token = csrf_from(client.get("/documents/").get_data(as_text=True))
    assert client.post(f"/documents/receipts/{rc.id}/pdf", data={"csrf_token": token}).status_code == 404


def test_archive_package_holds_the_archival_pdf(org, province_notice):
    from datetime import date

    from pyhanko.pdf_utils.reader import PdfFileReader

    from office.pdf import pki
    from office.pdf.sign import verify_pdf

    doc = province_notice
    clerk = org.actor("prov_clerk")
    issue(org, doc, clerk="prov_clerk", leader="prov_leader")
    pki.issue_unit(doc.lead_unit.code, doc.lead_unit.name)  # the organ has a certificate: signed PDF/A
    rec = df.file_document(clerk, doc.id, retention="Y")
    z = zipfile.ZipFile(io.BytesIO(df.export_package(clerk, doc.lead_unit_id, rec.year)))
    name = f"{rec.archive_number}.pdf"
    assert name in z.namelist()
    data = z.read(name)
    xmp = PdfFileReader(io.BytesIO(data)).root["/Metadata"].get_object().data
    assert b"pdfaid:part" in xmp and doc.doc_number.encode() in xmp  # PDF/A with the number in XMP
    assert verify_pdf(data, [pki.root_cert_path()]).ok  # PAdES-signed with the organ's certificate
    text = _pdftotext(data)
    assert doc.doc_number in text and doc.title in text
    meta = json.loads(z.read("metadata.json"))
    assert meta["items"][0]["file"] == name and meta["items"][0]["signer"] == "李建国"
    assert date.today().year >= rec.year
