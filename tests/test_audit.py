"""The hash-chained audit log and audit-verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from office.actor import Actor
from office.audit import service as audit
from office.extensions import db
from tests.conftest import run_threads


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


def _actions() -> list[str]:
    from sqlalchemy import select

    from office.audit.models import AuditEvent

    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def test_events_join_the_chain_at_commit_in_the_order_recorded(app):
    actor = Actor(user_id=7, name="罗静", unit_id=None)
    audit.record(actor, "first")
    audit.record(actor, "second")
    assert _actions() == []  # written with the commit, not before
    db.session.commit()
    audit.record(actor, "third")
    db.session.commit()
    assert _actions() == ["first", "second", "third"]
    result = audit.verify()
    assert result.ok and result.checked == 3


def test_a_rolled_back_savepoint_or_transaction_leaves_no_event(app):
    actor = Actor(user_id=7, name="罗静", unit_id=None)
    audit.record(actor, "kept")
    try:
        with db.session.begin_nested():
            audit.record(actor, "inside the failed savepoint")
            raise ValueError("the step failed")
    except ValueError:
        pass
    with db.session.begin_nested():
        audit.record(actor, "inside a released savepoint")
    db.session.commit()
    audit.record(actor, "rolled back")
    db.session.rollback()
    db.session.commit()
    assert _actions() == ["kept", "inside a released savepoint"]
    assert audit.verify().ok


@pytest.mark.postgres
def test_concurrent_writers_chain_in_commit_order(app):
    """Twelve threads, each committing transactions of two events at the same moments: every
    event is written once and the chain verifies."""
    def work(i: int) -> None:
        for k in range(5):
            actor = Actor(user_id=i, name=f"用户{i}", unit_id=None)
            audit.record(actor, "a", object_id=f"{i}-{k}")
            audit.record(actor, "b", object_id=f"{i}-{k}")
            db.session.commit()

    assert run_threads(app, 12, work) == [None] * 12
    result = audit.verify()
    assert result.ok and result.checked == 120
    # The two events of one transaction are neighbours in the chain.
    from sqlalchemy import select

    from office.audit.models import AuditEvent

    ids = list(db.session.execute(select(AuditEvent.object_id).order_by(AuditEvent.seq)).scalars())
    assert all(ids[j] == ids[j + 1] for j in range(0, 120, 2))
