"""The second factor in a real browser (headless Chromium): a leader whose role requires one sets up
an authenticator app at his first sign-in, keeps his recovery codes, and signs in with the app the
next time; at 1280 and 375 px, in Chinese. Screenshots in test-artifacts/."""

from __future__ import annotations

import calendar
from datetime import timedelta

import pyotp
import pytest

from office import timeutil
from office.actor import Actor
from office.auth import second_factor
from office.extensions import db
from tests.browser_support import DESKTOP, PHONE, shot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _code(secret: str, seconds_ahead: int = 0) -> str:
    when = timeutil.utcnow() + timedelta(seconds=seconds_ahead)
    return pyotp.TOTP(secret).generate_otp(calendar.timegm(when.utctimetuple()) // 30)


def _fits(page, viewport):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width}px wide at {viewport['width']}px"


def _sign_in(page, base: str, username: str):
    page.goto(f"{base}/login")
    if page.locator("html").get_attribute("lang") != "zh-CN":
        page.click(".langswitch button[value=zh_CN]")
        page.wait_for_load_state("domcontentloaded")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_enrol_an_authenticator_app_and_sign_in_with_it(app, live_server, org, page_factory, size):
    second_factor.set_policy(Actor.system("test"), {"leader"})
    db.session.commit()
    viewport = DESKTOP if size == "desktop" else PHONE
    page = page_factory(viewport)

    # First sign-in: the password is accepted, and the set-up is the only page he can reach.
    _sign_in(page, live_server, "county_leader")
    assert page.url.endswith("/account/second-factor")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "您的角色必须使用双因素认证" in page.locator("main").inner_text()
    assert page.locator("#mainnav").count() == 0
    _fits(page, viewport)
    shot(page, f"second-factor-setup-{size}")
    page.goto(f"{live_server}/documents/")
    assert page.url.endswith("/account/second-factor")

    # The app: a QR code drawn by the server and the key as text, shown this once.
    page.click("form[action$='/account/second-factor/app'] button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    qr = page.locator("img.qr")
    assert qr.is_visible() and qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 100  # the browser could draw it
    secret = page.locator("[data-totp-secret]").inner_text().replace(" ", "")
    assert len(secret) == 32
    _fits(page, viewport)
    shot(page, f"second-factor-qr-{size}")
    page.fill("input[name=code]", _code(secret))
    page.click("form.narrow button[type=submit]")
    page.wait_for_load_state("domcontentloaded")

    codes = page.locator("[data-recovery-codes] code").all_inner_texts()
    assert len(codes) == 10
    _fits(page, viewport)
    shot(page, f"second-factor-recovery-codes-{size}")
    page.click("a.button.primary")
    page.wait_for_load_state("domcontentloaded")
    assert page.url.rstrip("/") == live_server
    assert page.locator(".usermenu .username").inner_text() == "宋立新"

    # Log out; the next sign-in asks for the app's code.
    page.click(".usermenu summary")
    page.click(".usermenu-body form[action$='/logout'] button")
    page.wait_for_load_state("domcontentloaded")
    _sign_in(page, live_server, "county_leader")
    assert page.url.endswith("/login/second-factor")
    assert page.locator(".login-head h1").inner_text().strip() == "验证登录"
    _fits(page, viewport)
    shot(page, f"second-factor-sign-in-{size}")
    # A wrong code first: a clear message, still not signed in.
    wrong = f"{(int(_code(secret, 30)) + 1) % 1000000:06d}"
    page.fill("form.login-form input[name=code]", wrong)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert page.locator("[role=alert]").inner_text().strip() == "验证码或安全密钥未通过验证。"
    shot(page, f"second-factor-wrong-code-{size}")
    # The enrolment used this step's code; the app's next code signs him in.
    page.fill("form.login-form input[name=code]", _code(secret, 30))
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")
    assert page.url.rstrip("/") == live_server
    assert page.locator("main h1").is_visible()
    _fits(page, viewport)

    # His second-factor page: the app set up, ten recovery codes, nothing of the secret.
    page.goto(f"{live_server}/account/second-factor")
    text = page.locator("main").inner_text()
    assert "已设置" in text and "未使用的恢复码 10 个。" in text and secret[:8] not in text
    _fits(page, viewport)
    shot(page, f"second-factor-manage-{size}")


def test_a_security_key_in_the_browser(app, live_server, org, page_factory):
    """The page's script against Chromium's virtual authenticator (WebAuthn over CDP): register a
    key at the first sign-in, then sign in with it. Security keys need a secure origin: localhost."""
    second_factor.set_policy(Actor.system("test"), {"leader"})
    db.session.commit()
    base = live_server.replace("127.0.0.1", "localhost")
    page = page_factory(DESKTOP)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": False, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]

    _sign_in(page, base, "county_leader")
    assert page.url.endswith("/account/second-factor")
    page.fill("[data-webauthn-name]", "办公室U盾")
    page.click("[data-webauthn=register] [data-webauthn-start]")
    page.wait_for_selector(".key-list")
    assert "安全密钥已登记。" in page.locator(".flashes").inner_text()
    assert "办公室U盾" in page.locator(".key-list").inner_text()
    shot(page, "second-factor-key-registered-desktop")
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(held) == 1 and held[0]["rpId"] == "localhost" and held[0]["signCount"] == 1

    page.click(".usermenu summary")
    page.click(".usermenu-body form[action$='/logout'] button")
    page.wait_for_load_state("domcontentloaded")
    _sign_in(page, base, "county_leader")
    assert page.url.endswith("/login/second-factor")
    shot(page, "second-factor-key-sign-in-desktop")
    page.click("[data-webauthn=sign-in] [data-webauthn-start]")
    page.wait_for_url(f"{base}/")
    assert page.locator(".usermenu .username").inner_text() == "宋立新"
    held = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert held[0]["signCount"] == 2


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_security_administrators_pages(app, live_server, org, page_factory, size):
    from tests.test_login_throttle import SPRAYED

    viewport = DESKTOP if size == "desktop" else PHONE
    for name in ("county_clerk", "nobody", "town_leader"):
        page = page_factory(viewport)
        page.goto(f"{live_server}/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", SPRAYED)
        page.click("form.login-form button[type=submit]")
        page.wait_for_load_state("domcontentloaded")
    page = page_factory(viewport)
    _sign_in(page, live_server, "secadmin")
    for path, name in (("/admin/sign-in-failures", "failures"), ("/admin/second-factor", "policy"),
                       (f"/admin/users/{org.user('county_leader').id}", "user")):
        page.goto(f"{live_server}{path}")
        _fits(page, viewport)
        shot(page, f"secadmin-{name}-{size}")
    page.goto(f"{live_server}/admin/sign-in-failures")
    assert "127.0.0.1" in page.locator("[data-failures=address]").inner_text()
    assert "nobody" in page.locator("[data-failures=user]").inner_text()
