"""``flask backup FILE`` / ``flask restore FILE``: the database and the stored files round-trip."""

from __future__ import annotations

import tarfile
from pathlib import Path

from sqlalchemy import func, select

from office.audit import service as audit
from office.audit.models import AuditEvent
from office.auth.models import User
from office.docflow import service as df
from office.docflow.attachments import add_attachment
from office.docflow.models import Attachment, Document
from office.extensions import db
from office.storage import read_blob
from tests.conftest import PASSWORD, login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + "附件".encode() * 10


def _snapshot():
    db.session.expire_all()
    docs = [(d.id, d.title, d.body, d.state, d.created_at) for d in
            db.session.execute(select(Document).order_by(Document.id)).scalars()]
    users = [(u.id, u.username, u.password_hash, u.active) for u in
             db.session.execute(select(User).order_by(User.id)).scalars()]
    events = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq)).all()
    return docs, users, events


def test_backup_and_restore_round_trip(app, org, tmp_path, client):
    cli = app.test_cli_runner()
    doc = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于防汛的通知", body="各镇：\n做好准备。",
                          lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    att = add_attachment(org.actor("county_clerk"), doc.id, "预案.pdf", PDF)
    sha = att.sha256
    before = _snapshot()
    backup = tmp_path / "office.tar.gz"
    out = cli.invoke(args=["backup", str(backup)])
    assert out.exit_code == 0, out.output
    with tarfile.open(backup) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "tables/doc_document.jsonl" in names
    assert any(n.startswith("storage/") and n.endswith(sha) for n in names), names

    # Disaster: the document and the account are gone, a stray one appeared, the file is lost.
    db.session.execute(db.delete(Attachment))
    db.session.execute(db.delete(Document))
    db.session.execute(db.update(User).where(User.username == "county_clerk").values(active=False))
    db.session.commit()
    df.create_draft(org.actor("city_clerk"), doc_type="函", title="事后的函", body="",
                    lead_unit_id=org.unit("330100", "gov").id, main=["330106-gov"])
    next(Path(app.config["STORAGE_DIR"]).rglob(sha)).unlink()

    # Restoring over data needs --force, and changes nothing without it.
    out = cli.invoke(args=["restore", str(backup)])
    assert out.exit_code == 1 and "--force" in out.output
    assert db.session.execute(select(func.count()).select_from(Document)).scalar_one() == 1
    out = cli.invoke(args=["restore", str(backup), "--force"])
    assert out.exit_code == 0, out.output

    after = _snapshot()
    assert after[0] == before[0] and after[1] == before[1]
    assert after[2][: len(before[2])] == before[2]
    assert db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq.desc())).scalars().first() == \
        "system.restored"
    assert read_blob("docflow", sha) == PDF
    assert audit.verify().ok
    # The restored database keeps working: ids continue, people log in.
    again = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="恢复后的通知", body="",
                            lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    assert again.id > doc.id
    assert login(client, "county_clerk", PASSWORD).status_code == 302


def test_restore_refuses_what_is_not_a_backup(app, tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(b"not a tar")
    out = app.test_cli_runner().invoke(args=["restore", str(bad), "--force"])
    assert out.exit_code == 1 and "not a backup" in out.output and "nothing was changed" in out.output
