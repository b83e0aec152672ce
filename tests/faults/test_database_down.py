"""PostgreSQL goes away in the middle of a request: a clean error page, nothing half-written, and the
application recovers by itself once the database is back.

The shared PostgreSQL is never stopped: the application under test reaches it through a TCP proxy,
and cutting the proxy is, for the application, the database server going away (every open
connection drops and new ones are refused)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from office import create_app
from office.audit import service as audit
from office.audit.models import AuditEvent
from office.auth.models import User
from office.extensions import db
from tests.conftest import csrf_from, login
from tests.faults.conftest import TcpProxy

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@pytest.fixture
def proxied(app, database_url):
    url = make_url(database_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    outage_app = create_app({"SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": through,
                             "INSTANCE_DIR": app.config["INSTANCE_DIR"], "STORAGE_DIR": app.config["STORAGE_DIR"],
                             "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None, "BABEL_DEFAULT_LOCALE": "en",
                             "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                                           "connect_args": {"connect_timeout": 3}}})
    yield outage_app, proxy
    proxy.cut()
    with outage_app.app_context():
        db.engine.dispose()


def _state(username: str) -> tuple[bool, int]:
    db.session.expire_all()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    events = db.session.execute(select(AuditEvent.id)).scalars().all()
    return user.active, len(events)


def test_database_lost_mid_request(org, proxied, monkeypatch):
    outage_app, proxy = proxied
    client = outage_app.test_client()
    assert login(client, "county_admin").status_code == 302
    victim = org.user("county_staff").id
    token = csrf_from(client.get(f"/admin/users/{victim}").get_data(as_text=True))
    before = _state("county_staff")

    real_record = audit.record

    def record_then_lose_the_database(*args, **kwargs):
        # The account is already flagged in this transaction when the database goes away.
        proxy.cut()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(audit, "record", record_then_lose_the_database)
    r = client.post(f"/admin/users/{victim}/active", data={"active": "0", "csrf_token": token})
    monkeypatch.undo()
    body = r.get_data(as_text=True)
    assert r.status_code == 503, body[:2000]
    assert "The database cannot be reached" in body
    assert "Traceback" not in body and "psycopg" not in body and "OperationalError" not in body
    assert r.headers["Cache-Control"] == "no-store"
    assert _state("county_staff") == before  # nothing half-written: still active, no event

    # While it is down, every page answers the same clean way.
    r = client.get("/")
    assert r.status_code == 503 and "Traceback" not in r.get_data(as_text=True)

    # The database is back: the same session works again without a restart.
    proxy.start()
    assert client.get("/").status_code == 200
    token = csrf_from(client.get(f"/admin/users/{victim}").get_data(as_text=True))
    r = client.post(f"/admin/users/{victim}/active", data={"active": "0", "csrf_token": token})
    assert r.status_code == 302
    assert _state("county_staff")[0] is False
    assert audit.verify().ok


def _dropped_while_idle(app, database_url, ping_idle_seconds):
    """Sign in, let the server drop the process's pooled connection while it sits idle, and
    return the status of the next page."""
    from sqlalchemy import create_engine, text

    idle_app = create_app({"SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
                           "INSTANCE_DIR": app.config["INSTANCE_DIR"], "STORAGE_DIR": app.config["STORAGE_DIR"],
                           "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None, "BABEL_DEFAULT_LOCALE": "en",
                           "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
                           "DB_PING_IDLE_SECONDS": ping_idle_seconds})
    client = idle_app.test_client()
    assert login(client, "county_clerk").status_code == 302
    with idle_app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()
    killer = create_engine(database_url)
    try:
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    finally:
        killer.dispose()
    try:
        return client.get("/").status_code
    finally:
        with idle_app.app_context():
            db.engine.dispose()


def test_a_connection_dropped_while_idle_costs_no_request(org, app, database_url):
    """The database dropped a pooled connection while nobody used it (a restart, an idle timeout):
    the next request checks the idle connection first and gets a fresh one (no error page); a
    busy connection is not checked (no round trip per request), so without the check the same
    request is the one that meets the dropped connection."""
    assert _dropped_while_idle(app, database_url, ping_idle_seconds=0) == 200
    assert _dropped_while_idle(app, database_url, ping_idle_seconds=None) == 503
