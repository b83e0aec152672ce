"""Pages through the test client: layout, language, health, CSRF on every state-changing route."""

from __future__ import annotations

import re

import pytest

from office.extensions import db
from office.notifications.service import notify
from tests.conftest import login, post_form


def test_workbench_shows_cards_and_unread_count(client, org):
    notify([org.user("county_clerk").id], "urge", "请尽快签收《关于做好冬季安全生产工作的通知》", url="/todo")
    db.session.commit()
    login(client, "county_clerk")
    page = client.get("/").get_data(as_text=True)
    assert 'data-card="notifications"' in page
    assert re.search(r'data-card="notifications">\s*<span class="card-count">1</span>', page)
    assert 'data-unread="1"' in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "请尽快签收" in listing


def test_reading_a_notification_clears_the_count(client, org):
    notify([org.user("county_clerk").id], "info", "测试通知", url="/todo")
    db.session.commit()
    login(client, "county_clerk")
    nid = client.get("/api/notifications").get_json()["items"][0]["id"]
    r = post_form(client, f"/notifications/{nid}/read")
    assert r.status_code == 302 and r.headers["Location"] == "/todo"
    assert client.get("/api/notifications").get_json()["unread"] == 0


def test_another_users_notification_is_404(client, org):
    notify([org.user("town_clerk").id], "info", "别人的通知")
    db.session.commit()
    login(client, "county_clerk")
    from office.notifications.models import Notification

    nid = db.session.execute(db.select(Notification.id)).scalar_one()
    assert post_form(client, f"/notifications/{nid}/read").status_code == 404


def test_language_switch(client, org):
    login(client, "county_clerk")
    post_form(client, "/lang", {"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert "Workbench" in page and 'lang="en"' in page
    post_form(client, "/lang", {"lang": "zh_CN", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "工作台" in page


def test_error_pages_use_the_layout_and_hide_tracebacks(client, org):
    login(client, "county_clerk")
    r = client.get("/no/such/page")
    assert r.status_code == 404 and 'class="topbar"' in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_security_headers(client, org):
    login(client, "county_clerk")
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "no-store"
    cookie = r.headers.get("Set-Cookie", "") or ""
    assert cookie == "" or "HttpOnly" in cookie


def test_healthz_reports_database_and_redis(client):
    body = client.get("/healthz").get_json()
    assert body["database"] == "ok" and body["redis"] == "not configured"


def _state_changing_rules(app):
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"GET", "HEAD", "OPTIONS"}
        if methods:
            yield rule, sorted(methods)[0]


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, org):
    client = app.test_client()
    login(client, "county_admin")
    before = db.session.execute(db.text("SELECT count(*) FROM audit_event")).scalar_one()
    checked = 0
    for rule, method in _state_changing_rules(app):
        url = re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)
        r = client.open(url, method=method, data={"x": "1"})
        assert r.status_code in (400, 404), f"{method} {rule.rule} -> {r.status_code}"
        if r.status_code == 400:
            checked += 1
    assert checked >= 8
    # Nothing was changed: no audit event beyond the login.
    after = db.session.execute(db.text("SELECT count(*) FROM audit_event")).scalar_one()
    assert after == before


@pytest.mark.parametrize("url", ["/", "/todo", "/notifications/", "/account"])
def test_pages_need_login(client, url):
    r = client.get(url)
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_post_switching_keeps_units_apart(client, org):
    """A person with posts in two units acts for one unit at a time."""
    from office.auth.models import Post, PostRole

    clerk = org.user("county_clerk")
    mz = org.unit("330106", "mz")
    db.session.add(Post(user_id=clerk.id, unit_id=mz.id, title="兼", is_primary=False,
                        role_rows=[PostRole(role="clerk")]))
    db.session.commit()
    login(client, "county_clerk")
    assert "杭州市西湖区人民政府办公室" in client.get("/").get_data(as_text=True)
    post_id = db.session.execute(db.select(Post.id).where(Post.unit_id == mz.id, Post.user_id == clerk.id)).scalar_one()
    post_form(client, "/switch-post", {"post_id": post_id})
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'class="unitname">杭州市西湖区民政局<', page)
    other = db.session.execute(db.select(Post.id).where(Post.user_id == org.user("town_clerk").id)).scalar_one()
    post_form(client, "/switch-post", {"post_id": other})
    assert re.search(r'class="unitname">杭州市西湖区民政局<', client.get("/").get_data(as_text=True))


def test_default_locale_from_config_is_chinese(app, client):
    from office.config import load_config

    assert load_config()["BABEL_DEFAULT_LOCALE"] == "zh_CN"
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"
    try:
        page = client.get("/login").get_data(as_text=True)
    finally:
        app.config["BABEL_DEFAULT_LOCALE"] = "en"
    assert "登录" in page and 'lang="zh-CN"' in page


def test_every_route_declares_its_access(app):
    from office.web import declared_access

    undeclared = [e for e in app.view_functions if declared_access(app, e) is None]
    assert undeclared == []


def test_a_route_that_declares_nothing_is_refused(tmp_path):
    from office import create_app

    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "TESTING": True,
                        "INSTANCE_DIR": str(tmp_path), "STORAGE_DIR": str(tmp_path / "s")})

    @other.get("/undeclared")
    def undeclared():
        return "secret"

    r = other.test_client().get("/undeclared")
    assert r.status_code == 404 and b"secret" not in r.data
