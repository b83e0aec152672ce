"""Separation of duties and the audit log: no edit path, append-only for the application's
PostgreSQL role, retention of at least 180 days, one event per accountable action, and no business
change without its event."""

from __future__ import annotations

import ast
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from office import create_app, timeutil
from office.actor import Actor
from office.approvals import service as approvals
from office.approvals.models import ApprovalRequest
from office.audit import service as audit
from office.audit.models import AuditEvent, AuditHead
from office.auth import service as auth
from office.auth.models import SEPARATED_ADMIN_ROLES
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, task_of, users
from tests.conftest import PASSWORD, login, post_form

ROOT = Path(__file__).resolve().parent.parent


def _actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


# --- separation of duties --------------------------------------------------------------------


@pytest.mark.parametrize("held,granted", [("sys_admin", "sec_admin"), ("sec_admin", "audit_admin"),
                                          ("audit_admin", "sys_admin")])
def test_no_account_holds_two_admin_duties_even_through_a_second_post(org, held, granted):
    """A second post of the same person may not carry a second of the three duties."""
    from office.auth.models import Post, PostRole

    user = org.add_user("twohats", "两顶帽", "330000", "office", [held])
    second = Post(user_id=user.id, unit_id=org.unit("330106", "office").id, title="", is_primary=False,
                  role_rows=[PostRole(role="staff")])
    db.session.add(second)
    db.session.commit()
    with pytest.raises(ValidationError, match="separated duties"):
        auth.set_post_roles(org.actor("secadmin"), second, {"staff", granted})
    with pytest.raises(ValidationError, match="separated duties"):
        auth.create_user(org.actor("secadmin"), unit=org.unit("330106", "office"), username="x2",
                         name="两职", password="Good-Passw0rd-2026", roles={held, granted})
    db.session.rollback()
    held_roles = set(db.session.execute(select(PostRole.role).join(Post).where(Post.user_id == user.id)).scalars())
    assert len(held_roles & SEPARATED_ADMIN_ROLES) == 1


def test_admin_duties_are_exclusive(client, org):
    """Each of the three administrators is refused the other two's work, in the services and pages."""
    staff = org.user("county_staff")
    unit = org.unit("330106", "office")
    # Accounts are the system administrator's: the security and audit administrators may not.
    for who in ("secadmin", "auditor"):
        with pytest.raises((PermissionDenied, NotFound)):
            auth.set_active(org.actor(who), staff, False)
        with pytest.raises((PermissionDenied, NotFound)):
            auth.create_user(org.actor(who), unit=unit, username="nx", name="新", password="Good-Passw0rd-2026",
                             roles={"staff"})
    # Roles are the security administrator's.
    for who in ("sysadmin", "auditor"):
        with pytest.raises((PermissionDenied, NotFound)):
            auth.set_post_roles(org.actor(who), org.post("county_staff"), {"staff", "leader"}, rank=3)
    # Nobody, not even the security administrator, raises his own powers.
    with pytest.raises(ValidationError, match="separated duties"):
        auth.set_post_roles(org.actor("secadmin"), org.post("secadmin"), {"sec_admin", "unit_admin"})
    with pytest.raises(PermissionDenied):
        auth.set_post_roles(org.actor("secadmin"), org.post("secadmin"), {"sec_admin", "leader"}, rank=1)
    with pytest.raises(PermissionDenied):
        auth.set_post_roles(org.actor("county_admin"), org.post("county_admin"), {"unit_admin", "leader"},
                            rank=1)
    db.session.expire_all()
    assert org.user("county_staff").active and org.post("county_staff").roles == {"staff"}
    assert org.post("secadmin").roles == {"sec_admin"} and org.post("county_admin").roles == {"unit_admin"}
    # The audit log is the audit administrator's alone.
    for who in ("sysadmin", "secadmin", "county_admin"):
        login(client, who)
        assert client.get("/admin/audit").status_code == 403
    login(client, "auditor")
    assert client.get("/admin/audit").status_code == 200
    r = post_form(client, f"/admin/users/{staff.id}/active", {"active": "0"}, page="/admin/audit")
    assert r.status_code in (403, 404)
    db.session.expire_all()
    assert org.user("county_staff").active


# --- the audit log has no edit path -----------------------------------------------------------


def test_no_route_writes_to_the_audit_log(app):
    """The only audit routes read: no POST/PUT/PATCH/DELETE under any audit URL."""
    audit_rules = [r for r in app.url_map.iter_rules() if "audit" in r.rule or "audit" in r.endpoint]
    assert audit_rules, "the audit log page is gone"
    for rule in audit_rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_no_code_updates_or_deletes_audit_events():
    """Outside retention (audit-purge) and restore, no code changes or deletes an audit event."""
    allowed = {ROOT / "office" / "audit" / "service.py"}  # purge_expired only; checked below
    offenders = []
    for path in (ROOT / "office").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        tree = ast.parse(src)
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("update", "delete") \
                    and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == "AuditEvent":
                offenders.append((path, n.lineno, n.func.id))
        lowered = src.lower()
        for verb in ("update audit_event", "delete from audit_event"):
            if verb in lowered:
                offenders.append((path, verb))
    bad = [o for o in offenders if o[0] not in allowed]
    assert not bad, bad
    purge_src = ast.get_source_segment((ROOT / "office/audit/service.py").read_text(),
                                       next(n for n in ast.parse((ROOT / "office/audit/service.py").read_text()).body
                                            if isinstance(n, ast.FunctionDef) and n.name == "purge_expired"))
    assert [o for o in offenders if o[0] in allowed] == [(ROOT / "office/audit/service.py",
                                                          _line_of("delete(AuditEvent"), "delete")]
    assert "created_at < cutoff" in purge_src


def _line_of(needle: str) -> int:
    for i, line in enumerate((ROOT / "office/audit/service.py").read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(needle)


# --- retention -------------------------------------------------------------------------------


def _events_at(days_ago: list[int]) -> None:
    base = timeutil.utcnow()
    for d in days_ago:
        timeutil.freeze(base - timedelta(days=d))
        audit.record(Actor.system(), "test.event", object_id=d)
    timeutil.freeze(base)
    db.session.commit()


def test_retention_purges_only_events_past_the_minimum(app):
    _events_at([400, 300, 181, 179, 10, 0])
    result = audit.purge_expired()
    assert result["purged"] == 3
    kept = db.session.execute(select(AuditEvent.object_id).where(AuditEvent.action == "test.event")
                              .order_by(AuditEvent.seq)).scalars().all()
    assert kept == ["179", "10", "0"]
    assert _actions()[-1] == "audit.purged"
    # The rest of the chain still verifies from the new floor, also through the CLI.
    assert audit.verify().ok
    out = app.test_cli_runner().invoke(args=["audit-verify"])
    assert out.exit_code == 0, out.output
    # Deleting an event after the floor is still caught.
    db.session.execute(text("DELETE FROM audit_event WHERE object_id = '10'"))
    db.session.commit()
    assert not audit.verify().ok


def test_a_shorter_configured_retention_never_purges_younger_events(app):
    app.config["AUDIT_RETENTION_DAYS"] = 30
    try:
        _events_at([200, 100, 31])
        assert audit.purge_expired()["purged"] == 1  # only the 200-day-old one: 180 days is the floor
    finally:
        app.config["AUDIT_RETENTION_DAYS"] = 180
    assert sorted(db.session.execute(select(AuditEvent.object_id).where(AuditEvent.action == "test.event"))
                  .scalars()) == ["100", "31"]


def test_an_old_event_after_a_young_one_stays(app):
    """Only a contiguous run from the start of the chain goes, so the chain never has holes."""
    _events_at([300, 5, 300])
    assert audit.purge_expired()["purged"] == 1
    assert audit.verify().ok


def test_retention_below_180_days_is_refused_at_start(monkeypatch, tmp_path):
    monkeypatch.setenv("OFFICE_AUDIT_RETENTION_DAYS", "90")
    with pytest.raises(RuntimeError, match="at least 180"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                    "INSTANCE_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "s")})


def test_purged_anchor_no_longer_counts(app):
    _events_at([300, 200])
    assert app.test_cli_runner().invoke(args=["audit-anchor"]).exit_code == 0
    _events_at([1])
    out = app.test_cli_runner().invoke(args=["audit-purge"])
    assert out.exit_code == 0 and "purged 2 events" in out.output
    assert audit.verify().ok
    assert db.session.get(AuditHead, 1).floor_seq == 2


# --- one event per accountable action ---------------------------------------------------------


def test_each_accountable_action_writes_one_event(client, org, app):
    def new_actions(before: int) -> list[str]:
        return _actions()[before:]

    n = len(_actions())
    login(client, "county_clerk", "Wrong-Password-1")
    assert new_actions(n) == ["auth.login_failed"]
    n = len(_actions())
    login(client, "county_clerk")
    assert new_actions(n) == ["auth.login"]
    n = len(_actions())
    assert client.get("/admin/audit").status_code == 403
    assert new_actions(n) == ["access.denied"]
    n = len(_actions())
    post_form(client, "/logout")
    assert new_actions(n) == ["auth.logout"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "county_staff", "Wrong-Password-1")
    assert _actions()[-1] == "auth.login_locked"
    n = len(_actions())
    auth.set_post_roles(org.actor("secadmin"), org.post("town_clerk"), {"clerk", "staff"})
    assert new_actions(n) == ["auth.roles_changed"]
    n = len(_actions())
    auth.set_active(org.actor("county_admin"), org.user("county_mz_leader"), False)
    assert new_actions(n) == ["auth.user_disabled"]
    # A state change in a module: submitting and approving a request.
    flow = make_flow(node("single", assignees=users("county_leader")))
    n = len(_actions())
    req = submit(org, "county_clerk", flow)
    assert new_actions(n) == ["approvals.submit"]
    n = len(_actions())
    approvals.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id, opinion="同意")
    assert new_actions(n).count("approvals.approve") == 1
    assert audit.verify().ok


# --- no business change without its event ------------------------------------------------------


def _failing_record(*args, **kwargs):
    raise RuntimeError("audit storage unavailable")


def test_failed_audit_write_rolls_back_the_service_change(org, monkeypatch):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    task_id = task_of(org, req, "county_leader").id
    events = len(_actions())
    monkeypatch.setattr(audit, "record", _failing_record)
    with pytest.raises(RuntimeError):
        approvals.approve(org.actor("county_leader"), task_id, opinion="同意")
    db.session.rollback()  # what the request teardown does
    monkeypatch.undo()
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req.id).state == "running"
    assert len(_actions()) == events


def test_failed_audit_write_in_a_request_changes_nothing(client, org, app, monkeypatch):
    login(client, "county_admin")
    victim = org.user("county_staff").id
    token_page = client.get(f"/admin/users/{victim}").get_data(as_text=True)
    from tests.conftest import csrf_from

    token = csrf_from(token_page)
    monkeypatch.setattr(audit, "record", _failing_record)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        r = client.post(f"/admin/users/{victim}/active", data={"active": "0", "csrf_token": token})
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
        monkeypatch.undo()
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "Something went wrong on our side" in body and "Traceback" not in body and "RuntimeError" not in body
    db.session.expire_all()
    assert org.user("county_staff").active


# --- PostgreSQL: the application's role cannot rewrite the audit log ---------------------------


@pytest.mark.postgres
def test_app_role_may_append_but_never_rewrite_the_audit_log(app, org, database_url):
    role = f"office_app_{os.getpid()}"
    owner = create_engine(make_url(database_url))
    with owner.begin() as conn:
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        out = app.test_cli_runner().invoke(args=["db-grants", "--role", role])
        assert out.exit_code == 0, out.output
        assert f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM {role}" in out.output
        # The application, logged in as that role, works: logins and changes write their events.
        app_url = make_url(database_url).set(username=role, password=None)
        as_app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "BABEL_DEFAULT_LOCALE": "en",
                             "SQLALCHEMY_DATABASE_URI": app_url.render_as_string(hide_password=False),
                             "INSTANCE_DIR": app.config["INSTANCE_DIR"], "STORAGE_DIR": app.config["STORAGE_DIR"],
                             "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None})
        c = as_app.test_client()
        assert login(c, "county_clerk", PASSWORD).status_code == 302
        with as_app.app_context():
            assert db.session.execute(text("SELECT current_user")).scalar_one() == role
            n = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
            assert n >= 1
            audit.record(Actor.system(), "test.append")
            db.session.commit()
            for sql in ("UPDATE audit_event SET actor_name = 'forger'", "DELETE FROM audit_event",
                        "TRUNCATE audit_event"):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    db.session.execute(text(sql))
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()
        assert audit.verify().ok
    finally:
        with owner.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        owner.dispose()


@pytest.mark.postgres
def test_db_grants_refuses_a_superuser(app):
    out = app.test_cli_runner().invoke(args=["db-grants", "--role", "postgres"])
    assert out.exit_code == 1 and "superuser" in out.output
