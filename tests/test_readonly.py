"""A request that only read ends with COMMIT, so PostgreSQL keeps the connection's prepared
statements; a transaction that wrote anything, or holds unflushed changes, is never committed by it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from office import create_app
from office.auth.models import User
from office.extensions import db
from office.readonly import end_read_only_transaction
from tests.conftest import login


def _name(username: str) -> str:
    db.session.expire_all()
    return db.session.execute(select(User.name).where(User.username == username)).scalar_one()


def test_reads_only_end_with_commit(org):
    db.session.execute(select(User.id)).all()
    assert end_read_only_transaction() is True
    assert not db.session().in_transaction()


def test_a_statement_that_wrote_is_left_for_the_rollback(org):
    before = _name("county_clerk")
    db.session.execute(update(User).where(User.username == "county_clerk").values(name="改过的名字"))
    assert end_read_only_transaction() is False
    db.session.rollback()
    assert _name("county_clerk") == before


def test_unflushed_changes_are_left_for_the_rollback(org):
    before = _name("county_clerk")
    user = db.session.execute(select(User).where(User.username == "county_clerk")).scalar_one()
    user.name = "改过的名字"
    assert end_read_only_transaction() is False
    db.session.rollback()
    assert _name("county_clerk") == before


def test_a_failed_request_changes_nothing(client, org):
    """A refused action still ends with the rollback: the page that refused it wrote nothing."""
    login(client, "town_clerk")
    before = _name("town_clerk")
    r = client.post("/account", data={"name": "x"})  # no CSRF token: refused before any write
    assert r.status_code == 400
    assert _name("town_clerk") == before


@pytest.mark.postgres
def test_pages_keep_their_prepared_statements(app, org):
    """After a few views of a page on one connection, its session lookup runs as a prepared
    statement: PostgreSQL no longer plans it on every request."""
    one = create_app({**{k: app.config[k] for k in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR",
                                                    "STORAGE_DIR", "BABEL_DEFAULT_LOCALE")},
                      "TESTING": True, "REDIS_URL": None, "JOBS_INPROCESS_MODE": "sync",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    c = one.test_client()
    login(c, "county_clerk")
    for _ in range(8):
        assert c.get("/notifications/").status_code == 200
    with one.app_context():
        prepared = db.session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        db.session.remove()
        db.engine.dispose()
    assert any("FROM user_session" in s for s in prepared), prepared
