"""The second factor: who must use one, the gate on every page and /api route until it is passed
(also for sessions opened before the policy changed), the authenticator app (wrong and replayed
codes refused), recovery codes (once each), security keys (WebAuthn, with a software
authenticator), and the security administrator's policy and reset."""

from __future__ import annotations

import calendar
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from office import timeutil
from office.actor import Actor
from office.audit.models import AuditEvent
from office.auth import second_factor
from office.auth.models import RecoveryCode, TotpCredential, UserSession, WebAuthnCredential
from office.errors import NotFound, PermissionDenied
from office.extensions import db
from office.notifications.models import Notification
from tests.conftest import PASSWORD, csrf_from, login
from tests.soft_authenticator import SoftAuthenticator, b64url

SYSTEM = Actor.system("test")


def require(*roles):
    second_factor.set_policy(SYSTEM, set(roles))


def code_at(secret: str, when=None) -> str:
    step = calendar.timegm((when or timeutil.utcnow()).utctimetuple()) // 30
    return pyotp.TOTP(secret).generate_otp(step)


def token(client, url="/account/second-factor") -> str:
    return csrf_from(client.get(url, follow_redirects=True).get_data(as_text=True))


def enrol_app(client) -> tuple[str, list[str]]:
    """Set up an authenticator app through the pages; returns its secret and the recovery codes."""
    t = token(client)
    page = client.post("/account/second-factor/app", data={"action": "start", "csrf_token": t})
    assert page.status_code == 200
    secret = re.search(r"data-totp-secret>([^<]+)<", page.get_data(as_text=True)).group(1).replace(" ", "")
    assert 'src="data:image/svg+xml' in page.get_data(as_text=True)  # the QR code, drawn here
    done = client.post("/account/second-factor/app", data={"action": "confirm", "code": code_at(secret),
                                                           "csrf_token": t})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def submit_code(client, code: str):
    return client.post("/login/second-factor", data={"code": code, "csrf_token": token(client, "/login/second-factor")})


def _actions() -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


@pytest.fixture
def frozen():
    timeutil.freeze(timeutil.utcnow().replace(microsecond=0))
    yield
    timeutil.freeze(None)


def later(seconds: int) -> None:
    timeutil.freeze(timeutil.utcnow() + timedelta(seconds=seconds))


# --- who must ------------------------------------------------------------------------------


def test_default_policy_production_and_development(app, org, monkeypatch):
    from office.config import load_config

    monkeypatch.setenv("OFFICE_ENV", "production")
    monkeypatch.delenv("OFFICE_MFA_REQUIRED_ROLES", raising=False)
    assert set(load_config()["MFA_REQUIRED_ROLES"]) == {"leader", "sys_admin", "sec_admin", "audit_admin"}
    monkeypatch.setenv("OFFICE_ENV", "development")
    assert load_config()["MFA_REQUIRED_ROLES"] == []
    # The running (development) configuration requires nobody, so the demo signs in with a password.
    assert second_factor.required_roles() == set()
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ["leader", "sec_admin"])
    assert second_factor.required_roles() == {"leader", "sec_admin"}
    assert second_factor.required_for(org.user("county_leader")) and not second_factor.required_for(
        org.user("county_clerk"))
    # What the security administrator saves overrides the default, role by role.
    second_factor.set_policy(org.actor("secadmin"), {"clerk"})
    assert second_factor.required_roles() == {"clerk"}


# --- the gate ---------------------------------------------------------------------------------


EXEMPT = {"static", "auth.login", "auth.logout", "web.set_language", "web.healthz"}


def _dummy_url(app, rule) -> str:
    values = {}
    for arg in rule.arguments - set(rule.defaults or {}):
        conv = rule._converters[arg].__class__.__name__
        values[arg] = 1 if "Int" in conv else "x"
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])


def test_a_user_who_must_use_one_reaches_no_page_and_no_api_route_before_passing_it(app, org):
    require("leader")
    client = app.test_client()
    r = login(client, "county_leader")
    assert r.status_code == 302 and r.headers["Location"] == "/account/second-factor"  # none set up yet: set-up
    t = token(client)
    leaks = []
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in EXEMPT or app.view_functions[rule.endpoint].__dict__.get("_office_access") == \
                "second_factor":
            continue
        url = _dummy_url(app, rule)
        for method in sorted(rule.methods & {"GET", "POST"}):
            if method == "POST":
                r = client.post(url, data={"csrf_token": t}, headers={"X-CSRFToken": t})
            else:
                r = client.get(url)
            checked += 1
            if url.startswith("/api/"):
                ok = r.status_code == 401 and r.get_json()["error"] == \
                    "Confirm your sign-in with your second factor first."
            else:
                ok = r.status_code == 302 and r.headers["Location"] == "/account/second-factor"
            if not ok or "宋立新" in r.get_data(as_text=True):
                leaks.append(f"{method} {url} ({rule.endpoint}) -> {r.status_code}")
    assert leaks == [], "\n".join(leaks)
    assert checked > 100
    # The set-up page itself answers, without the navigation of a signed-in user.
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Your role requires a second factor" in page and 'id="mainnav"' not in page


def test_a_session_opened_before_the_policy_is_held_at_its_next_request(app, org, frozen):
    client = app.test_client()
    assert login(client, "county_leader").status_code == 302
    assert client.get("/").status_code == 200
    require("leader")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/account/second-factor"
    assert client.get("/api/notifications").status_code == 401
    # Someone who has set one up is asked for it, not for the set-up.
    secret, _codes = enrol_app(client)
    assert client.get("/").status_code == 200
    other = app.test_client()
    r = login(other, "county_leader")
    assert r.headers["Location"] == "/login/second-factor"
    assert other.get("/documents/").headers["Location"] == "/login/second-factor"
    assert other.get("/api/notifications").status_code == 401


def test_a_policy_changed_by_another_process_holds_the_session_at_its_next_request(app, org):
    """Each process keeps the policy while its stamp (read with the session) is unchanged; a change
    written elsewhere (here straight to the table, as another worker would) takes effect at once."""
    from office.auth.models import SecondFactorPolicy

    client = app.test_client()
    assert login(client, "county_leader").status_code == 302
    assert client.get("/").status_code == 200 and client.get("/").status_code == 200  # policy now kept
    db.session.add(SecondFactorPolicy(role="leader", required=True,
                                      changed_at=timeutil.utcnow() + timedelta(seconds=1)))
    db.session.commit()
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/account/second-factor"


def test_logout_ends_a_half_open_session(app, org):
    require("leader")
    client = app.test_client()
    login(client, "county_leader")
    sid = db.session.execute(select(UserSession).order_by(UserSession.id.desc())).scalars().first()
    client.post("/logout", data={"csrf_token": token(client)})
    db.session.refresh(sid)
    assert sid.ended_at is not None
    assert client.get("/account/second-factor").headers["Location"] == "/login"


# --- authenticator app ------------------------------------------------------------------------


def test_app_enrolment_shows_the_secret_once_and_stores_it_encrypted(app, org, frozen):
    client = app.test_client()
    login(client, "county_clerk")
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "You have no second factor" in page and "Cancel and log out" not in page  # a signed-in user
    secret, _codes = enrol_app(client)
    row = db.session.execute(select(TotpCredential)).scalar_one()
    assert secret not in row.secret and row.confirmed_at is not None
    page = client.get("/account/second-factor").get_data(as_text=True)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert secret not in page and grouped not in page  # never shown again
    assert "enrolled" in " ".join(_actions()) and "auth.recovery_codes_created" in _actions()
    note = db.session.execute(select(Notification).where(Notification.kind == "security")).scalar_one()
    assert note.user_id == org.user("county_clerk").id


def test_a_wrong_code_does_not_finish_the_set_up(app, org, frozen):
    client = app.test_client()
    login(client, "county_clerk")
    t = token(client)
    page = client.post("/account/second-factor/app", data={"action": "start", "csrf_token": t})
    secret = re.search(r"data-totp-secret>([^<]+)<", page.get_data(as_text=True)).group(1).replace(" ", "")
    wrong = f"{(int(code_at(secret)) + 1) % 1000000:06d}"
    r = client.post("/account/second-factor/app", data={"action": "confirm", "code": wrong, "csrf_token": t})
    assert r.status_code == 400 and "That code is not right" in r.get_data(as_text=True)
    assert db.session.execute(select(TotpCredential.confirmed_at)).scalar_one() is None
    assert org.user("county_clerk").second_factor is None


def test_wrong_and_replayed_codes_are_refused(app, org, frozen):
    client = app.test_client()
    login(client, "county_leader")
    secret, _codes = enrol_app(client)
    later(30)
    client = app.test_client()
    assert login(client, "county_leader").headers["Location"] == "/login/second-factor"
    good = code_at(secret)
    wrong = f"{(int(good) + 1) % 1000000:06d}"
    r = submit_code(client, wrong)
    assert r.status_code == 200 and "That code or key was not accepted." in r.get_data(as_text=True)
    assert client.get("/").status_code == 302
    r = submit_code(client, good)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    # The same code again, within its 30 seconds, on a new sign-in: refused.
    later(5)
    thief = app.test_client()
    login(thief, "county_leader")
    r = submit_code(thief, good)
    assert "That code or key was not accepted." in r.get_data(as_text=True)
    assert thief.get("/").status_code == 302
    # An older code (the previous step) is refused as well; the next one works.
    assert "not accepted" in submit_code(thief, code_at(secret, timeutil.utcnow() - timedelta(seconds=30))) \
        .get_data(as_text=True)
    later(30)
    assert submit_code(thief, code_at(secret)).status_code == 302
    actions = _actions()
    assert actions.count("auth.second_factor_failed") == 3 and actions.count("auth.second_factor_passed") == 2


def test_five_wrong_codes_lock_the_name_and_end_the_half_open_session(app, org, frozen):
    client = app.test_client()
    login(client, "county_leader")
    secret, _codes = enrol_app(client)
    later(30)
    client = app.test_client()
    login(client, "county_leader")
    for _i in range(4):
        assert "not accepted" in submit_code(client, "000000" if code_at(secret) != "000000" else "111111") \
            .get_data(as_text=True)
    t = token(client, "/login/second-factor")
    r = client.post("/login/second-factor", data={"code": "999999" if code_at(secret) != "999999" else "888888",
                                                   "csrf_token": t})
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert client.get("/login/second-factor").headers["Location"] == "/login"  # the session is gone
    # The password alone no longer gets him anywhere either, until the lockout is over.
    assert "Too many failed attempts" in login(app.test_client(), "county_leader").get_data(as_text=True)


# --- recovery codes ---------------------------------------------------------------------------


def test_recovery_codes_work_once_each(app, org, frozen):
    client = app.test_client()
    login(client, "county_leader")
    _secret, codes = enrol_app(client)
    assert db.session.execute(select(func.count()).select_from(RecoveryCode)).scalar_one() == 10
    assert all(c not in r for c in codes for r in db.session.execute(select(RecoveryCode.code_hash)).scalars())
    first = app.test_client()
    login(first, "county_leader")
    r = submit_code(first, codes[0].upper())  # read out loud and typed in capitals: still the code
    assert r.status_code == 302 and first.get("/").status_code == 200
    again = app.test_client()
    login(again, "county_leader")
    assert "not accepted" in submit_code(again, codes[0]).get_data(as_text=True)
    r = submit_code(again, codes[1])
    assert r.status_code == 302
    assert "8 are left" in again.get("/").get_data(as_text=True)
    # New codes replace the old ones.
    page = again.post("/account/second-factor/recovery-codes", data={"csrf_token": token(again)})
    fresh = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page.get_data(as_text=True))
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    third = app.test_client()
    login(third, "county_leader")
    assert "not accepted" in submit_code(third, codes[2]).get_data(as_text=True)
    assert submit_code(third, fresh[0]).status_code == 302


# --- security keys ----------------------------------------------------------------------------


def _post_json(client, url, body=None):
    t = token(client, "/account/second-factor")
    return client.post(url, json=body or {}, headers={"X-CSRFToken": t})


def register_key(client, key: SoftAuthenticator, fmt="packed", name="办公室U盾"):
    options = _post_json(client, "/account/second-factor/key/options").get_json()
    assert options["rp"]["id"] == "localhost" and options["attestation"] == "none"
    return _post_json(client, "/account/second-factor/key", {"credential": key.create(options, fmt), "name": name})


def key_sign_in(client, key: SoftAuthenticator, **kw):
    t = token(client, "/login/second-factor")
    options = client.post("/login/second-factor/key/options", json={}, headers={"X-CSRFToken": t}).get_json()
    return client.post("/login/second-factor/key", json=key.get(options, **kw), headers={"X-CSRFToken": t})


@pytest.mark.parametrize("fmt", ["packed", "none"])
def test_a_security_key_registers_and_signs_in(app, org, fmt):
    require("leader")
    client = app.test_client()
    login(client, "county_leader")
    key = SoftAuthenticator()
    r = register_key(client, key, fmt)
    assert r.status_code == 200 and r.get_json()["redirect"] == "/account/second-factor"
    row = db.session.execute(select(WebAuthnCredential)).scalar_one()
    assert row.name == "办公室U盾" and row.credential_id == key.credential_id
    assert client.get("/").status_code == 200  # registering it passed this session
    assert org.user("county_leader").second_factor == "webauthn"
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "办公室U盾" in page and "You have no recovery codes" in page

    again = app.test_client()
    assert login(again, "county_leader").headers["Location"] == "/login/second-factor"
    page = again.get("/login/second-factor").get_data(as_text=True)
    assert "Use security key" in page and "security-keys.js" in page and "<script>" not in page
    r = key_sign_in(again, key)
    assert r.status_code == 200 and r.get_json()["redirect"] == "/"
    assert again.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.execute(select(WebAuthnCredential.sign_count)).scalar_one() == 1
    assert "auth.second_factor_passed" in _actions()


def test_a_security_key_answer_for_another_origin_a_replay_or_a_clone_is_refused(app, org):
    client = app.test_client()
    login(client, "county_leader")
    key = SoftAuthenticator()
    assert register_key(client, key).status_code == 200
    signer = app.test_client()
    login(signer, "county_leader")
    # Signed for a phishing site's origin.
    r = key_sign_in(signer, key, origin="http://evil.example")
    assert r.status_code == 400 and r.get_json()["error"] == "That code or key was not accepted."
    # A replayed answer: its challenge was used up.
    t = token(signer, "/login/second-factor")
    options = signer.post("/login/second-factor/key/options", json={}, headers={"X-CSRFToken": t}).get_json()
    answer = key.get(options)
    assert signer.post("/login/second-factor/key", json=answer, headers={"X-CSRFToken": t}).status_code == 200
    replay = app.test_client()
    login(replay, "county_leader")
    t = token(replay, "/login/second-factor")
    replay.post("/login/second-factor/key/options", json={}, headers={"X-CSRFToken": t})
    assert replay.post("/login/second-factor/key", json=answer, headers={"X-CSRFToken": t}).status_code == 400
    # A clone whose counter does not move on.
    clone = app.test_client()
    login(clone, "county_leader")
    assert key_sign_in(clone, key, count_up=False).status_code == 400
    assert clone.get("/").status_code == 302


def test_another_users_key_does_not_sign_in(app, org):
    mine, theirs = app.test_client(), app.test_client()
    login(mine, "county_leader")
    login(theirs, "county_deputy")
    key = SoftAuthenticator()
    assert register_key(theirs, key).status_code == 200
    assert register_key(mine, SoftAuthenticator()).status_code == 200
    attacker = app.test_client()
    login(attacker, "county_leader")
    t = token(attacker, "/login/second-factor")
    options = attacker.post("/login/second-factor/key/options", json={}, headers={"X-CSRFToken": t}).get_json()
    options["allowCredentials"].append({"id": b64url(key.credential_id), "type": "public-key"})
    r = attacker.post("/login/second-factor/key", json=key.get(options), headers={"X-CSRFToken": t})
    assert r.status_code == 400 and attacker.get("/").status_code == 302


def test_a_half_open_session_cannot_add_a_factor_to_an_account_that_has_one(app, org):
    """With a stolen password alone nobody adds his own authenticator."""
    owner = app.test_client()
    login(owner, "county_leader")
    assert register_key(owner, SoftAuthenticator()).status_code == 200
    thief = app.test_client()
    login(thief, "county_leader")
    assert thief.get("/account/second-factor").headers["Location"] == "/login/second-factor"
    t = token(thief, "/login/second-factor")
    r = thief.post("/account/second-factor/key/options", json={}, headers={"X-CSRFToken": t})
    assert r.status_code == 403
    r = thief.post("/account/second-factor/app", data={"action": "start", "csrf_token": t})
    assert r.status_code == 302
    assert db.session.execute(select(func.count()).select_from(TotpCredential)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(WebAuthnCredential)).scalar_one() == 1


# --- the security administrator -------------------------------------------------------------


def test_only_the_security_administrator_sets_the_policy(app, org):
    with pytest.raises(PermissionDenied):
        second_factor.set_policy(org.actor("sysadmin"), {"leader"})
    org.add_user("county_secadmin", "区安全员", "330106", "office", ["sec_admin"])
    with pytest.raises(PermissionDenied):  # one policy for the system: set at the top
        second_factor.set_policy(org.actor("county_secadmin"), {"leader"})
    client = app.test_client()
    login(client, "sysadmin")
    assert client.get("/admin/second-factor").status_code == 403
    client = app.test_client()
    login(client, "secadmin")
    page = client.get("/admin/second-factor")
    assert page.status_code == 200 and "data-security-nav" in page.get_data(as_text=True)
    r = client.post("/admin/second-factor", data={"roles": ["leader", "sys_admin", "sec_admin", "audit_admin"],
                                                  "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert r.status_code == 302
    assert second_factor.required_roles() == {"leader", "sys_admin", "sec_admin", "audit_admin"}
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "auth.second_factor_policy")) \
        .scalar_one()
    assert event.actor_name == "郑凯" and "leader" in event.after
    # The secadmin's own session was opened before the change and he has no second factor: held too.
    assert client.get("/admin/second-factor").headers["Location"] == "/account/second-factor"


def test_reset_is_the_security_administrators_and_is_audited(app, org, frozen):
    victim = app.test_client()
    login(victim, "county_leader")
    enrol_app(victim)
    register_key(victim, SoftAuthenticator())
    user = org.user("county_leader")
    for who in ("sysadmin", "county_admin", "auditor"):
        with pytest.raises(PermissionDenied):
            second_factor.reset(org.actor(who), user)
    org.add_user("other_secadmin", "上城安全员", "330102", "office", ["sec_admin"])
    with pytest.raises(NotFound):
        second_factor.reset(org.actor("other_secadmin"), user)
    with pytest.raises(PermissionDenied):
        second_factor.reset(org.actor("secadmin"), org.user("secadmin"))
    # Through the page: the system administrator sees no button and is refused.
    sysadmin = app.test_client()
    login(sysadmin, "sysadmin")
    page = sysadmin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Reset second factor" not in page and "data-second-factor" in page
    r = sysadmin.post(f"/admin/users/{user.id}/second-factor/reset", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 403
    assert db.session.execute(select(func.count()).select_from(WebAuthnCredential)).scalar_one() == 1
    sec = app.test_client()
    login(sec, "secadmin")
    page = sec.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Reset second factor" in page
    r = sec.post(f"/admin/users/{user.id}/second-factor/reset", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    db.session.expire_all()
    for model in (TotpCredential, WebAuthnCredential, RecoveryCode):
        assert db.session.execute(select(func.count()).select_from(model)).scalar_one() == 0
    assert org.user("county_leader").second_factor is None
    assert victim.get("/").status_code == 302  # his sessions were ended
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "auth.second_factor_reset")) \
        .scalar_one()
    assert event.actor_name == "郑凯" and '"keys": 1' in event.before and '"totp": true' in event.before
    assert db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == "security", Notification.user_id == user.id)).scalar_one() == 3
    # He signs in with his password alone now (his role does not require one) or sets up a new one.
    assert login(app.test_client(), "county_leader").headers["Location"] == "/"


def test_the_second_factor_pages_in_chinese(app, org, frozen):
    require("leader")
    client = app.test_client()
    client.post("/lang", data={"lang": "zh_CN", "csrf_token": token(client, "/login")})
    login(client, "county_leader")
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "您的角色必须使用双因素认证" in page and "设置身份验证器" in page and "添加安全密钥" in page
    t = csrf_from(page)
    setup = client.post("/account/second-factor/app", data={"action": "start", "csrf_token": t}).get_data(as_text=True)
    assert "在身份验证器中添加账号，扫描此二维码。" in setup and "确认并完成" in setup
    secret = re.search(r"data-totp-secret>([^<]+)<", setup).group(1).replace(" ", "")
    done = client.post("/account/second-factor/app", data={"action": "confirm", "code": code_at(secret),
                                                           "csrf_token": t}).get_data(as_text=True)
    assert "恢复码只在此时显示一次" in done
    later(30)
    again = app.test_client()
    again.post("/lang", data={"lang": "zh_CN", "csrf_token": token(again, "/login")})
    login(again, "county_leader")
    step = again.get("/login/second-factor").get_data(as_text=True)
    assert "验证登录" in step and "身份验证器中的验证码" in step and "手机或安全密钥丢失？" in step
    assert "您所在网络地址" not in step and PASSWORD not in step


def test_the_console_resets_the_security_administrators_own_second_factor(app, org, frozen):
    client = app.test_client()
    login(client, "secadmin")
    enrol_app(client)
    out = app.test_cli_runner().invoke(args=["reset-second-factor", "secadmin"])
    assert out.exit_code == 0 and "second factor of secadmin reset" in out.output
    assert org.user("secadmin").second_factor is None and client.get("/").status_code == 302
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "auth.second_factor_reset")) \
        .scalar_one()
    assert event.actor_name == "console"
    assert app.test_cli_runner().invoke(args=["reset-second-factor", "nobody"]).exit_code == 1
