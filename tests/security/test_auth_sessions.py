"""Authentication and sessions beyond tests/test_auth.py: session rotation, the absolute time-out,
cookie flags, encoded ``next`` tricks, lockout of administrators, the configurable password policy,
the demo guard, headers on record pages and error pages without tracebacks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from office import timeutil
from office.auth import service
from office.errors import ValidationError
from office.extensions import db
from tests.conftest import PASSWORD, csrf_from, login


def test_session_cookie_and_server_session_change_at_login(app, org):
    client = app.test_client()
    client.get("/login")
    anonymous = client.get_cookie("session").value
    login(client, "county_clerk")
    first = client.get_cookie("session").value
    assert first != anonymous
    # A fixed cookie is useless: logging in again (as someone else) ends the earlier session.
    planted = app.test_client()
    planted.set_cookie("session", first)
    assert planted.get("/").status_code == 200
    login(planted, "county_staff")
    assert planted.get_cookie("session").value != first
    assert client.get("/").status_code == 302  # the copied session was ended at the new login


def test_absolute_timeout_ends_an_active_session_after_12_hours(client, org):
    login(client, "county_clerk")
    start = timeutil.utcnow()
    for step in range(1, 29):  # active every 25 minutes for 11 h 40 min
        timeutil.freeze(start + timedelta(minutes=25 * step))
        assert client.get("/").status_code == 200, f"logged out after {25 * step} minutes"
    timeutil.freeze(start + timedelta(hours=12, minutes=5))
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_cookie_flags_by_environment(monkeypatch):
    from office.config import load_config

    monkeypatch.setenv("OFFICE_ENV", "production")
    monkeypatch.delenv("OFFICE_SECURE_COOKIES", raising=False)
    prod = load_config()
    assert prod["SESSION_COOKIE_SECURE"] is True
    assert prod["SESSION_COOKIE_HTTPONLY"] is True and prod["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    monkeypatch.setenv("OFFICE_ENV", "staging")  # anything but development
    assert load_config()["SESSION_COOKIE_SECURE"] is True and load_config()["REMEMBER_COOKIE_SECURE"] is True
    monkeypatch.setenv("OFFICE_ENV", "development")
    assert load_config()["SESSION_COOKIE_SECURE"] is False


def test_login_cookie_is_httponly_samesite_and_secure_when_configured(app, org):
    client = app.test_client()
    app.config["SESSION_COOKIE_SECURE"] = True
    try:
        page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
        r = client.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                        data={"username": "county_clerk", "password": PASSWORD, "csrf_token": csrf_from(page)})
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False
    cookies = r.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") for c in cookies)
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie, cookie


@pytest.mark.parametrize("target", ["%2F%2Fevil.example", "/%5Cevil.example", "https:evil.example", "///evil.example",
                                    "\\\\evil.example", "/%2F/evil.example", "%5C%5Cevil.example", "http:/evil.example",
                                    "/\t/evil.example", "%2F%252Fevil.example", "//evil.example/%2F.."])
def test_encoded_next_never_leaves_the_host(client, org, target):
    from urllib.parse import quote

    page = client.get("/login").get_data(as_text=True)
    r = client.post(f"/login?next={quote(target, safe='%')}",
                    data={"username": "county_clerk", "password": PASSWORD, "csrf_token": csrf_from(page)})
    assert r.status_code == 302 and r.headers["Location"] == "/"
    # The language switch follows the same rule.
    token = csrf_from(client.get("/account").get_data(as_text=True))
    r = client.post("/lang", data={"lang": "en", "next": target, "csrf_token": token})
    assert r.headers["Location"] == "/"


@pytest.mark.parametrize("admin", ["sysadmin", "secadmin", "auditor", "county_admin"])
def test_lockout_applies_to_administrators(client, org, admin):
    for _ in range(app_failures(client)):
        login(client, admin, "not-the-Password1")
    r = login(client, admin, PASSWORD)
    assert r.status_code == 200 and "Too many failed attempts" in r.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def app_failures(client) -> int:
    return client.application.config["LOGIN_MAX_FAILURES"]


def test_password_rules_are_configurable(app, org):
    user = org.user("county_clerk")
    actor = org.actor("county_clerk")
    app.config.update(PASSWORD_MIN_LENGTH=16, PASSWORD_MIN_CLASSES=4, PASSWORD_MAX_AGE_DAYS=30)
    try:
        with pytest.raises(ValidationError, match="at least 16 characters"):
            service.change_password(actor, user, PASSWORD, "Good-Passw0rd")
        with pytest.raises(ValidationError, match="at least 4 of"):
            service.change_password(actor, user, PASSWORD, "goodpassword-long-2026")
        service.change_password(actor, user, PASSWORD, "Good-Passw0rd-2026")  # 18 characters, 4 classes
        # Periodic change: 31 days later the password has expired under the 30-day rule.
        timeutil.freeze(timeutil.utcnow() + timedelta(days=31))
        assert service.password_expired(user)
        app.config["PASSWORD_MAX_AGE_DAYS"] = 0  # 0: no periodic change
        assert not service.password_expired(user)
    finally:
        app.config.update(PASSWORD_MIN_LENGTH=10, PASSWORD_MIN_CLASSES=3, PASSWORD_MAX_AGE_DAYS=90)


def test_demo_refuses_outside_development(app):
    from office.auth.models import User

    app.config["ENV_NAME"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["demo"])
    finally:
        app.config["ENV_NAME"] = "development"
    assert result.exit_code != 0 and "refused" in result.output
    assert db.session.execute(db.select(User)).first() is None


def test_no_account_exists_without_the_demo(app):
    """A migrated database has no account at all (so none with a known password)."""
    from office.auth.models import User

    assert db.session.execute(db.select(User)).first() is None


RECORD_PAGES = ["/documents/{doc}", "/documents/receipts/{receipt}", "/approvals/{request}",
                "/reports/submissions/{submission}", "/reports/tasks/{form_task}", "/pdf/r/{pdf}/download",
                "/documents/{doc}/attachments/{doc_attachment}", "/reports/submissions/{submission}/form.xlsx",
                "/approvals/{request}/attachments/{request_attachment}"]


def test_record_pages_are_not_stored_and_carry_the_security_headers(app, foreign):
    checked = 0
    for who in ("other_county_clerk", "qb_clerk"):
        client = app.test_client()
        login(client, who)
        for url in RECORD_PAGES:
            r = client.get(url.format(**foreign.ids))
            if r.status_code != 200:
                continue
            checked += 1
            assert "no-store" in r.headers["Cache-Control"], url
            csp = r.headers["Content-Security-Policy"]
            assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert checked >= len(RECORD_PAGES)


def test_login_page_headers(client):
    r = client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"


def test_server_error_page_has_no_traceback(tmp_path):
    from office import create_app
    from office.web import public

    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": False,
                        "INSTANCE_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "s"),
                        "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None})

    @other.get("/boom")
    @public
    def boom():
        raise RuntimeError("secret-internal-detail in /srv/office/app.py")

    for headers in ({}, {"Accept": "application/json"}):
        r = other.test_client().get("/boom", headers=headers)
        body = r.get_data(as_text=True)
        assert r.status_code == 500
        assert "Traceback" not in body and "secret-internal-detail" not in body and "app.py" not in body


def test_a_deadlock_is_a_409_to_try_again_not_an_outage(tmp_path):
    """PostgreSQL breaks a deadlock by rolling one transaction back: that request is told to try again
    (409), not that the database is unreachable (503)."""
    from sqlalchemy.exc import OperationalError

    from office import create_app
    from office.web import public

    class Deadlock(Exception):
        sqlstate = "40P01"

    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": False,
                        "INSTANCE_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "s"),
                        "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None})

    @other.get("/deadlock")
    @public
    def deadlock():
        raise OperationalError("INSERT ...", {}, Deadlock("deadlock detected"))

    r = other.test_client().get("/deadlock")
    assert r.status_code == 409
    assert "本次未保存，请重试" in r.get_data(as_text=True)  # the default locale is zh_CN
