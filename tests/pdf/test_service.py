"""Escaping and the fetcher, the render cache, background rendering and downloads, signing."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import quote

import pytest

from office.pdf import samples
from office.pdf.fetcher import RestrictedFetcher
from office.pdf.parse import parse_body
from office.pdf.render import make_fetcher, render_pdf
from office.pdf.types import Paragraph
from tests.conftest import csrf_from, login
from tests.pdf.conftest import pdftotext, squash

EVIL = ['<script>alert(1)</script>', '<img src="http://evil.example/x.png">',
        '<style>body{background:url(file:///etc/passwd)}</style>', 'url(file:///etc/passwd)',
        '<link rel="stylesheet" href="http://evil.example/a.css">']


class Spy(RestrictedFetcher):
    def __init__(self, base):
        super().__init__(base.roots, base.files)
        self.calls = []

    def fetch(self, url, headers=None):
        self.calls.append(url)
        return super().fetch(url, headers)


def test_user_text_prints_as_text_and_fetches_nothing(app):
    doc = samples.notice(title="标题" + EVIL[1] + EVIL[0], body=[Paragraph(e) for e in EVIL], issuers=[],
                         organ_mark="<b>机关</b>")
    spy = Spy(make_fetcher())
    text = squash(pdftotext(render_pdf(doc, fetcher=spy).pdf))
    assert spy.calls == []
    for e in EVIL:
        assert squash(e) in text


def test_fetcher_refuses_network_and_other_files(app):
    f = make_fetcher()
    for url in ["http://evil.example/x.png", "https://evil.example/", "file:///etc/passwd",
                "ftp://x/y", "data:text/plain,hi", f.roots[0].as_uri() + "/../office/config.py"]:
        with pytest.raises(ValueError):
            f.fetch(url)
    assert f.fetch((f.roots[0] / "pdf" / "demo-seal.png").as_uri()).read()[:4] == b"\x89PNG"
    # and raw HTML reaching WeasyPrint (a template bug) still fetches nothing outside
    from office.pdf.render import html_to_pdf

    result = html_to_pdf('<img src="http://evil.example/x.png"><img src="file:///etc/passwd">', make_fetcher())
    assert sorted(result.refused) == ["file:///etc/passwd", "http://evil.example/x.png"]


def test_parse_body_levels():
    ps = parse_body("　　一、总体要求\n（一）统一公文。正文\n1.规范发文。\n（1）嵊州市。\n普通段落1.5亿元。\n")
    assert [p.level for p in ps] == [1, 2, 3, 4, 0]
    assert ps[0].heading_only and not ps[1].heading_only


def test_cache_job_status_and_download(app, org, client):
    from office.extensions import db
    from office.pdf.service import file_path, render_key, request_pdf

    user = org.user("county_clerk")
    doc = samples.notice()
    req = request_pdf(doc, "浙政发〔2026〕12号 关于协同办公的通知", user_id=user.id)
    db.session.commit()  # the job runs after commit (sync in tests)
    key = render_key(doc)
    assert req.key == key and file_path(key).is_file()
    mtime = file_path(key).stat().st_mtime_ns
    again = request_pdf(samples.notice(), "x", user_id=user.id)
    db.session.commit()
    assert again.key == key and file_path(key).stat().st_mtime_ns == mtime  # cached: not rendered again
    changed = samples.notice(title="浙江省人民政府关于另一件事的通知")
    assert render_key(changed) != key

    login(client, "county_clerk")
    st = client.get(f"/pdf/r/{req.id}/status").get_json()
    assert st["status"] == "done" and st["pages"] >= 4
    resp = client.get(st["download"])
    assert resp.status_code == 200 and resp.data[:5] == b"%PDF-"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment; filename=\"") and "filename*=UTF-8''" + quote(req.filename, safe="") in cd
    login(client, "other_county_clerk")
    assert client.get(f"/pdf/r/{req.id}/download").status_code == 404


def test_signed_archival_pdf_verifies_and_tampering_fails(app, tmp_path, org, client):
    from office.pdf import pki
    from office.pdf.sign import verify_pdf

    pki.issue_unit("330000-gov", "浙江省人民政府")
    result = render_pdf(samples.notice(), archival=True, sign_unit="330000-gov")
    pdf = result.pdf
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    xmp = PdfFileReader(io.BytesIO(pdf)).root["/Metadata"].get_object().data
    assert b"pdfaid:part" in xmp and "浙政发〔2026〕12号".encode() in xmp
    assert verify_pdf(pdf, [pki.root_cert_path()]).ok
    # one byte of page content changed -> not valid
    i = pdf.index(b"stream\n", len(pdf) // 4) + 20
    bad = pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:]
    assert not verify_pdf(bad, [pki.root_cert_path()]).ok
    # the CLI says so with its exit code
    good_f, bad_f = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good_f.write_bytes(pdf)
    bad_f.write_bytes(bad)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["verify-pdf", str(good_f)]).exit_code == 0
    out = runner.invoke(args=["verify-pdf", str(bad_f)])
    assert out.exit_code == 1 and "NOT VALID" in out.output
    # and so does the verification page
    login(client, "county_clerk")
    page = client.get("/pdf/verify").get_data(as_text=True)
    for data, status, valid in ((pdf, 200, "yes"), (bad, 422, "no")):
        r = client.post("/pdf/verify", data={"csrf_token": csrf_from(page), "file": (io.BytesIO(data), "通知.pdf")})
        assert r.status_code == status and f'data-valid="{valid}"' in r.get_data(as_text=True)
    r = client.post("/pdf/verify", data={"csrf_token": csrf_from(page), "file": (io.BytesIO(b"%PDF-1.7 x"), "x.pdf")})
    assert r.status_code == 422 and 'data-valid="no"' in r.get_data(as_text=True)
    # PDF/A with the XMP title, issuer, number and date
    for value in (samples.notice().title, "浙江省人民政府", "浙政发〔2026〕12号", "2026-11-21"):
        assert value.encode() in xmp, value


def test_health_reports_subsetting(client):
    body = client.get("/healthz").get_json()
    assert body["pdf_harfbuzz_subset"] == "ok"
    assert set(body["pdf_fonts"]) >= {"title", "body", "hei", "kai"}


def test_bench_module_importable():
    assert subprocess.run([sys.executable, "-c", "import bench.pdf_bench"], cwd=str(__import__("pathlib").Path(
        __file__).resolve().parents[2])).returncode == 0


def test_other_sheets_print_their_text(app):
    from datetime import date

    from office.pdf.types import (
        ArchiveCatalogue,
        ArchiveEntry,
        Opinion,
        OutgoingSheet,
        ReceiptSheet,
        ReportForm,
    )

    sheets = [
        OutgoingSheet(organ="浙江省人民政府办公厅", title="关于推进协同办公的通知<script>", doc_number="浙政办发〔2026〕3号",
                      opinions=[Opinion("签发", "李建国", opinion="同意。", signed_at="2026年11月21日",
                                        signature_png=samples.SEAL),
                                Opinion("拟稿", "龚劼", unit="秘书处", signed_at="2026年11月20日")],
                      main_recipients=["各市人民政府"], drafting_unit="秘书处", copies="30"),
        ReceiptSheet(organ="缙云县人民政府办公室", title="关于磐安县试点的函", from_organ="婺城区人民政府",
                     doc_number="婺政函〔2026〕8号", received="2026年11月21日", proposed="请王喆同志阅处。",
                     instructions=[Opinion("批示", "李昇", opinion="同意拟办意见。", signed_at="2026年11月22日")],
                     result="已办结。"),
        ReportForm(title="协同办公推进情况统计表", unit="鄞州区人民政府", period="2026年第4季度",
                   columns=["地区", "覆盖率", "备注"], rows=[["嵊州市", "100%", ""], ["瓯海区", "98%", "燊"]],
                   filler="陈燊", reviewer="龚劼", filled_on=date(2026, 11, 21)),
        ArchiveCatalogue(fonds="衢州市人民政府", year="2026", retention="永久",
                         entries=[ArchiveEntry("0001-WS·2026-Y-0001", "衢州市人民政府", "衢政发〔2026〕1号",
                                               "关于丽水缙云合作的通知", "20261121", 4)]),
    ]
    for s in sheets:
        text = squash(pdftotext(render_pdf(s).pdf))
        assert squash(s.title if hasattr(s, "title") else "") in text
    assert "李昇" in squash(pdftotext(render_pdf(sheets[1]).pdf))


def test_missing_fast_subsetting_is_said_loudly(monkeypatch, tmp_path):
    import logging

    from office import create_app
    from office.pdf import fonts

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.ERROR)
            self.records = []

        def emit(self, record):
            self.records.append(record)

    keep = Keep()
    logger = logging.getLogger("office.pdf")
    monkeypatch.setattr(logger, "disabled", False)  # alembic's fileConfig may have disabled it
    logger.addHandler(keep)
    monkeypatch.setattr(fonts, "harfbuzz_subset_available", lambda: False)
    try:
        app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}",
                          "INSTANCE_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "s"), "REDIS_URL": None,
                          "JOBS_INPROCESS_MODE": "sync"})
    finally:
        logger.removeHandler(keep)
    assert any("libharfbuzz-subset0 is MISSING" in r.getMessage() for r in keep.records)
    body = app.test_client().get("/healthz").get_json()
    assert body["pdf_harfbuzz_subset"].startswith("MISSING")
