"""Concurrent numbering, search with two-character words and permissions, attachment checks."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest

from office.docflow import service as df
from office.docflow.models import DocState, Document
from office.errors import ValidationError
from office.extensions import db
from office.timeutil import utcnow

from .conftest import issue


@pytest.mark.postgres
def test_fifty_concurrent_allocations_give_fifty_consecutive_numbers(app, org):
    clerk = org.actor("prov_clerk")
    gov = org.unit("330000", "gov").id
    ids = []
    for i in range(50):
        d = df.create_draft(clerk, doc_type="通知", title=f"通知{i}", lead_unit_id=gov,
                            main=["group:city_governments"])
        ids.append(d.id)
    db.session.execute(db.update(Document).where(Document.id.in_(ids)).values(state=DocState.CHECKED))
    db.session.commit()
    db.session.remove()
    errors, barrier = [], threading.Barrier(50)

    def work(doc_id):
        with app.app_context():
            try:
                barrier.wait()
                df.allocate_number(clerk, doc_id)
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = sorted(db.session.execute(db.select(Document.number_seq).where(Document.id.in_(ids))).scalars())
    assert seqs == list(range(1, 51))
    numbers = db.session.execute(db.select(Document.doc_number).where(Document.id.in_(ids))).scalars().all()
    assert len(set(numbers)) == 50 and f"浙政发〔{utcnow().year}〕50号" in numbers


def test_search_two_character_words_respects_scope(org):
    county = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于秸秆禁烧的通知",
                             body="各镇街道：做好防汛工作。", lead_unit_id=org.unit("330106", "gov").id,
                             main=["group:township_governments"])
    other = df.create_draft(org.actor("other_county_clerk"), doc_type="通知", title="关于防汛值班的通知",
                            body="各街道：", lead_unit_id=org.unit("330102", "gov").id,
                            main=["group:township_governments"])
    unrelated = df.create_draft(org.actor("county_clerk"), doc_type="函", title="关于会议安排的函",
                                body="防止汛期", lead_unit_id=org.unit("330106", "gov").id,
                                main=["330106-mz"])
    found = df.search(org.actor("county_clerk"), "防汛")
    assert [d.id for d in found] == [county.id]  # not the other county's, not "防止汛期"
    assert {d.id for d in df.search(org.actor("city_clerk"), "防汛")} == {county.id, other.id}
    assert [d.id for d in df.search(org.actor("other_county_clerk"), "防汛")] == [other.id]
    assert [d.id for d in df.search(org.actor("county_clerk"), "秸秆")] == [county.id]
    assert df.search(org.actor("county_clerk"), "会议", doc_type="函")[0].id == unrelated.id
    assert df.search(org.actor("county_clerk"), "会议", doc_type="通知") == []
    assert df.search(org.actor("county_clerk"), "", state="draft", year=utcnow().year)


def test_search_pages_past_many_near_misses(org):
    """The newest candidates of a word may all be near misses (bigrams skip punctuation: "防，汛"); the
    real match behind them is still found, and paging goes on from it."""
    clerk, gov = org.actor("county_clerk"), org.unit("330106", "gov").id
    match = df.create_draft(clerk, doc_type="通知", title="关于防汛值班的通知", body="做好防汛工作。",
                            lead_unit_id=gov, main=["group:township_governments"])
    for i in range(70):
        df.create_draft(clerk, doc_type="通知", title=f"关于第{i}次检查的通知", body="预防，汛期前完成。",
                        lead_unit_id=gov, main=["group:township_governments"])
    assert [d.id for d in df.search(clerk, "防汛", limit=5)] == [match.id]
    assert [d.id for d in df.search(clerk, "检查", limit=30)] == \
        [d.id for d in df.search(clerk, "检查", limit=60)][:30]
    page2 = [d.id for d in df.search(clerk, "检查", limit=30, offset=30)]
    assert page2 == [d.id for d in df.search(clerk, "检查", limit=60)][30:] and len(page2) == 30


def test_search_finds_received_documents_and_numbers(org, province_notice):
    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    assert [d.id for d in df.search(org.actor("county_clerk"), "防汛")] == [province_notice.id]
    assert [d.id for d in df.search(org.actor("county_clerk"), "浙政发")] == [province_notice.id]
    assert df.search(org.actor("town_clerk"), "防汛") == []  # not forwarded to the township yet


def _docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_attachments_by_content_and_size(app, org, province_notice):
    clerk = org.actor("prov_clerk")
    att = df.add_attachment(clerk, province_notice.id, "../../etc/附件1.txt", b"%PDF-1.7\n...")
    assert att.file_type == "pdf" and att.name == "附件1.pdf"
    assert df.add_attachment(clerk, province_notice.id, "表.docx", _docx()).file_type == "docx"
    with pytest.raises(ValidationError, match="not accepted"):
        df.add_attachment(clerk, province_notice.id, "evil.pdf", b"MZ\x90\x00 not a pdf")
    with pytest.raises(ValidationError, match="not accepted"):
        df.add_attachment(clerk, province_notice.id, "x.docx", b"PK\x03\x04garbage")
    app.config["DOCFLOW_MAX_ATTACHMENT_MB"] = 1
    try:
        with pytest.raises(ValidationError, match="too large"):
            df.add_attachment(clerk, province_notice.id, "big.pdf", b"%PDF-" + b"0" * (1024 * 1024))
    finally:
        app.config.pop("DOCFLOW_MAX_ATTACHMENT_MB")
    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    got, data = df.open_attachment(org.actor("county_clerk"), province_notice.id, att.id)
    assert data == b"%PDF-1.7\n..."


def test_archive_number_and_package(org, province_notice):
    import hashlib
    import json

    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    clerk = org.actor("prov_clerk")
    rec = df.file_document(clerk, province_notice.id, retention="Y", org_code="BGS", fonds="Z109")
    year = province_notice.number_year
    assert rec.archive_number == f"Z109-WS·{year}-Y-BGS-0001"
    assert province_notice.state == DocState.ARCHIVED
    assert df.records(clerk, q="Z109")[0].id == rec.id
    data = df.export_package(clerk, province_notice.lead_unit_id, year)
    z = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(z.read("metadata.json"))
    assert meta["items"][0]["archive_number"] == rec.archive_number
    for line in z.read("manifest-sha256.txt").decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(z.read(name)).hexdigest() == digest
