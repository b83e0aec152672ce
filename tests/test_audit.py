"""The hash-chained audit log and audit-verify."""

from __future__ import annotations

from sqlalchemy import text

from office.actor import Actor
from office.audit import service as audit
from office.extensions import db


def _write(n: int) -> None:
    actor = Actor(user_id=7, name="罗静", unit_id=None, ip="10.0.0.1")
    for i in range(n):
        audit.record(actor, "doc.updated", object_type="document", object_id=i, before={"v": i},
                     after={"v": i + 1})
    db.session.commit()


def test_chain_is_intact_and_cli_says_so(app):
    _write(5)
    assert audit.verify().ok and audit.verify().checked == 5
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "intact: 5 events" in result.output


def test_editing_a_row_is_named(app):
    _write(5)
    db.session.execute(text("UPDATE audit_event SET after = '{\"v\": 99}' WHERE seq = 3"))
    db.session.commit()
    r = audit.verify()
    assert not r.ok and r.seq == 3 and "seq 3" in r.problem and "altered" in r.problem
    out = app.test_cli_runner().invoke(args=["audit-verify"])
    assert out.exit_code == 1 and "seq 3" in out.output


def test_rehashing_an_edited_row_is_caught_by_the_next_link(app):
    _write(5)
    ev = db.session.execute(text("SELECT id FROM audit_event WHERE seq = 2")).scalar_one()
    from office.audit.models import AuditEvent

    row = db.session.get(AuditEvent, ev)
    row.actor_name = "forger"
    row.hash = audit.event_hash(row)
    db.session.commit()
    r = audit.verify()
    assert not r.ok and r.seq == 3


def test_deleting_a_row_is_named(app):
    _write(5)
    db.session.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    db.session.commit()
    r = audit.verify()
    assert not r.ok and "seq 4 is missing" in r.problem


def test_deleting_the_newest_rows_is_caught_by_the_head(app):
    _write(5)
    db.session.execute(text("DELETE FROM audit_event WHERE seq >= 4"))
    db.session.commit()
    r = audit.verify()
    assert not r.ok and "newest events" in r.problem


def test_rolled_back_change_leaves_no_event(app):
    audit.record(Actor.system(), "x.y")
    db.session.rollback()
    _write(1)
    assert audit.verify().ok
    assert db.session.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == 1


def test_audit_admin_page_verifies(client, org):
    from tests.conftest import login

    login(client, "auditor")
    page = client.get("/admin/audit?verify=1").get_data(as_text=True)
    assert "The chain is intact" in page
    login(client, "county_admin")
    assert client.get("/admin/audit").status_code == 403


def test_anchor_detects_truncation_even_with_a_rewritten_head(app):
    _write(5)
    assert app.test_cli_runner().invoke(args=["audit-anchor"]).exit_code == 0
    _write(2)
    assert audit.verify().ok
    # An attacker deletes the newest events and rewrites the head to match.
    db.session.execute(text("DELETE FROM audit_event WHERE seq >= 5"))
    last = db.session.execute(text("SELECT hash FROM audit_event WHERE seq = 4")).scalar_one()
    db.session.execute(text("UPDATE audit_head SET seq = 4, hash = :h"), {"h": last})
    db.session.commit()
    r = audit.verify()
    assert not r.ok and "seq 5 anchored" in r.problem


def test_forged_anchor_is_refused(app):
    import json
    from pathlib import Path

    _write(1)
    body = audit.write_anchor()
    f = Path(app.config["INSTANCE_DIR"]) / "audit-anchors" / f"{body['at'][:10]}.json"
    body["seq"] = 99
    f.write_text(json.dumps(body))
    r = audit.verify()
    assert not r.ok and "bad signature" in r.problem
