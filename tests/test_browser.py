"""The UI shell in a real browser: headless Debian Chromium through Playwright against a live server.

The server runs the session ``app`` in a thread; the test database is a SQLite file (WAL), so what a
test commits is what the server sees. Screenshots land in ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from office.extensions import db
from tests.browser_support import DESKTOP, PHONE, browser_login, shot

pytestmark = pytest.mark.browser



def _t(app, message: str, locale: str | None = None) -> str:
    """``message`` as the server renders it (catalogues may or may not be compiled)."""
    with app.test_request_context(), force_locale(locale or app.config["BABEL_DEFAULT_LOCALE"]):
        return _(message)








# --- tests ---------------------------------------------------------------------------------------


def test_login_reaches_workbench(app, live_server, org, page):
    page.goto(f"{live_server}/")
    assert "/login" in page.url  # the workbench asks for a login first
    shot(page, "login-desktop")
    browser_login(page, live_server, "county_clerk")
    assert page.url.rstrip("/") == live_server
    heading = page.locator("main h1")
    assert heading.inner_text().strip() == _t(app, "Workbench")
    user = page.locator(".usermenu .username")
    assert user.is_visible() and user.inner_text() == "罗静"
    unit = org.unit("330106", "office").name
    assert page.locator(".usermenu .unitname").inner_text() == unit
    assert unit in page.locator("main").inner_text()
    shot(page, "workbench-desktop")


def test_wrong_password_shows_error(app, live_server, org, page):
    browser_login(page, live_server, "county_clerk", "not-the-password")
    assert "/login" in page.url
    error = page.locator("[role=alert]")
    assert error.is_visible()
    assert error.inner_text().strip() == _t(app, "Wrong user name or password.")
    assert page.locator("input[name=username]").input_value() == "county_clerk"
    shot(page, "login-error-desktop")


def test_phone_menu_toggle(app, live_server, org, page_factory):
    page = page_factory(PHONE)
    browser_login(page, live_server, "county_clerk")
    toggle = page.locator(".menu-toggle")
    nav = page.locator("#mainnav")
    assert toggle.is_visible()
    assert not nav.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    # Nothing sticks out sideways at 375 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "workbench-phone")

    toggle.click()
    assert nav.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    link = nav.locator("a[data-nav=todo]")
    assert link.is_visible()
    shot(page, "menu-open-phone")
    link.click()
    page.wait_for_url(re.compile(r"/todo$"))
    assert page.locator("main h1").inner_text().strip() == _t(app, "To do")

    toggle = page.locator(".menu-toggle")
    toggle.click()
    assert page.locator("#mainnav").is_visible()
    toggle.click()
    assert not page.locator("#mainnav").is_visible()


def test_language_switch(app, live_server, org, page):
    browser_login(page, live_server, "county_clerk")
    # The test app's default locale is English; a user starts from Chinese here.
    page.click(".langswitch button[value=zh_CN]")
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("main h1").inner_text().strip() == _t(app, "Workbench", "zh_CN")
    page.click(".langswitch button[value=en]")
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.rstrip("/") == live_server  # back on the same page
    assert page.locator("main h1").inner_text().strip() == "Workbench"
    assert page.locator(".langswitch button[value=en]").get_attribute("aria-pressed") == "true"
    shot(page, "workbench-en-desktop")

    page.click(".langswitch button:has-text('简体中文')")
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("main h1").inner_text().strip() == _t(app, "Workbench", "zh_CN")
    assert page.locator(".langswitch button[value=zh_CN]").get_attribute("aria-pressed") == "true"


def test_unread_badge_on_workbench(app, live_server, org, page):
    from office.notifications.service import notify

    clerk = org.user("county_clerk")
    notify([clerk.id], "info", "请于周五前报送统计数据", body="西湖区统计局")
    notify([clerk.id], "urge", "催办：关于防汛工作的通知")
    db.session.commit()

    browser_login(page, live_server, "county_clerk")
    badge = page.locator(".bell .badge")
    assert badge.is_visible()
    assert badge.inner_text().strip() == "2"
    shot(page, "workbench-badge-desktop")

    page.click(".bell")
    page.wait_for_url(re.compile(r"/notifications/?$"))
    assert "请于周五前报送统计数据" in page.locator("main").inner_text()
    shot(page, "notifications-desktop")


def test_todo_pages(app, live_server, org, page):
    """The to-do page shows 50 items, the total and page links; the next page the rest."""
    from tests.test_todo_paging import _requests_due

    _requests_due(org, 57)
    browser_login(page, live_server, "county_leader")
    page.goto(f"{live_server}/todo")
    assert page.locator("ul.todo-list li").count() == 50
    assert page.locator("[data-total]").get_attribute("data-total") == "57"
    shot(page, "todo-page1-desktop")
    page.locator("nav.pager a[rel=next]").click()
    page.wait_for_url(re.compile(r"/todo\?page=2$"))
    assert page.locator("ul.todo-list li").count() == 7
    assert page.locator("nav.pager [aria-current=page]").inner_text() == "2"
    shot(page, "todo-page2-desktop")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_screenshot_tour(app, live_server, org, page_factory, size):
    """The main pages at both widths: nothing wider than the screen, screenshots for review."""
    from office.notifications.service import notify

    notify([org.user("county_admin").id], "info", "新用户已创建", body="梁文斌的账户已开通。")
    db.session.commit()
    viewport = DESKTOP if size == "desktop" else PHONE
    page = page_factory(viewport)

    page.goto(f"{live_server}/login")
    shot(page, f"tour-login-{size}")
    browser_login(page, live_server, "county_admin")
    for name, path in [("workbench", "/"), ("units", "/admin/units"), ("notifications", "/notifications/"),
                       ("404", "/no-such-page")]:
        resp = page.goto(f"{live_server}{path}")
        assert resp.status == (404 if name == "404" else 200), path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{path} is {width}px wide at {viewport['width']}px"
        shot(page, f"tour-{name}-{size}")
    assert page.locator("main h1").inner_text().strip() == "404"


def test_not_logged_in_404_page_keeps_layout(live_server, page):
    resp = page.goto(f"{live_server}/no-such-page")
    assert resp.status == 404
    assert page.locator("header.topbar .brand").is_visible()
    assert page.locator(".langswitch").is_visible()

