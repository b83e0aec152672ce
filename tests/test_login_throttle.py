"""Throttling of sign-ins by client address and across the system (password spraying and
credential stuffing), the client address behind a trusted reverse proxy and not otherwise, the
audit events, and the security administrator's page of failed sign-ins."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from office import timeutil
from office.audit.models import AuditEvent
from office.auth import throttle
from office.extensions import db
from tests.conftest import MINI_PEOPLE, PASSWORD, csrf_from

ATTACKER = "198.51.100.7"
COLLEAGUE = "203.0.113.9"
SPRAYED = "Spring@2026!"  # the "common password" tried against every account
NAMES = [p[0] for p in MINI_PEOPLE] + ["zhangsan", "lisi"]  # 20 user names, 18 real and 2 not
WAIT = re.compile(r"Try again in (\d+) (seconds|minutes)")


def attempt(client, username: str, password: str, *, forwarded: str | None = None) -> tuple[int, str]:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page)},
                    headers=headers)
    body = r.get_data(as_text=True)
    m = re.search(r'role="alert">([^<]*)<', body)
    return r.status_code, (m.group(1) if m else "")


def client_from(app, address: str):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = address
    return c


def _seconds(message: str) -> int | None:
    m = WAIT.search(message)
    if not m:
        return None
    return int(m.group(1)) * (60 if m.group(2) == "minutes" else 1)


def _actions(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


@pytest.fixture
def clock():
    start = timeutil.utcnow().replace(microsecond=0)
    timeutil.freeze(start)
    yield start
    timeutil.freeze(None)


def spray(attacker, forwarded=lambda i: None) -> list[tuple[str, str, int | None]]:
    """20 user names, one wrong password each, as a patient attacker: when refused with a wait, he
    waits exactly that long and tries the same name again, until the wait is in minutes.
    ``forwarded(i)`` is the X-Forwarded-For he sends with the i-th name."""
    log = []
    for i, name in enumerate(NAMES):
        while True:
            status, message = attempt(attacker, name, SPRAYED, forwarded=forwarded(i))
            assert status == 200, (name, status)
            wait = _seconds(message)
            log.append((name, message, wait))
            if wait is None or wait >= 120:
                break
            timeutil.freeze(timeutil.utcnow() + timedelta(seconds=wait))
    return log


def _check_spray(log, attacker, **kw):
    """Ten names tried at once, ten more each after a growing wait, then the address is refused for
    minutes: even the right password is not tried from it any more."""
    evaluated = [entry[0] for entry in log if entry[1] == "Wrong user name or password."]
    assert evaluated == NAMES, log
    waits = [entry[2] for entry in log if entry[2] is not None]
    assert waits == [2, 4, 8, 16, 32, 60, 60, 60, 60, 60]
    assert all(m == f"Too many failed sign-ins from your network address. Try again in {w} seconds."
               for _n, m, w in log if w is not None)
    status, message = attempt(attacker, "county_clerk", PASSWORD, **kw)
    assert status == 200
    assert re.fullmatch(r"Too many failed sign-ins from your network address\. Try again in \d+ minutes\.", message)
    assert 2 <= _seconds(message) // 60 <= 10


def test_spraying_from_one_address_is_slowed_then_refused_and_others_still_sign_in(app, org, clock):
    attacker = client_from(app, ATTACKER)
    # Impatient: twenty names in a row, no waiting. Ten are tried, ten refused unevaluated.
    quick = [attempt(attacker, name, SPRAYED)[1] for name in NAMES]
    assert quick[:10] == ["Wrong user name or password."] * 10
    assert quick[10:] == ["Too many failed sign-ins from your network address. Try again in 2 seconds."] * 10
    timeutil.freeze(clock + timedelta(minutes=16))  # the window is past
    # Patient: he waits as told; the waits grow, and then the address is refused for minutes.
    _check_spray(spray(attacker), attacker)
    # A colleague elsewhere signs in as usual.
    colleague = client_from(app, COLLEAGUE)
    status, _m = attempt(colleague, "county_clerk", PASSWORD)
    assert status == 302 and colleague.get("/").status_code == 200
    # Each failure and each refusal is an audit event with the attacker's address.
    failed, throttled = _actions("auth.login_failed"), _actions("auth.login_throttled")
    assert len(failed) == 30 and {e.ip for e in failed} == {ATTACKER}
    assert len(throttled) == 21 and {e.ip for e in throttled} == {ATTACKER}


def test_a_success_does_not_reset_the_address(app, org, clock):
    """An attacker holding one account of his own cannot clear his address's record with it."""
    attacker = client_from(app, ATTACKER)
    for name in NAMES[:10]:
        attempt(attacker, name, SPRAYED)
    timeutil.freeze(clock + timedelta(seconds=3))
    status, _m = attempt(attacker, "town_clerk", PASSWORD)
    assert status == 302
    attacker.post("/logout", data={"csrf_token": csrf_from(attacker.get("/").get_data(as_text=True))})
    assert attempt(attacker, NAMES[10], SPRAYED)[1] == "Wrong user name or password."
    assert attempt(attacker, NAMES[11], SPRAYED)[1] == \
        "Too many failed sign-ins from your network address. Try again in 4 seconds."


def test_the_acceptance_run_of_fifty_right_passwords_from_one_address_is_never_slowed(app, org, clock):
    for _round in range(3):
        for name in NAMES[:18]:
            status, message = attempt(client_from(app, "127.0.0.1"), name, PASSWORD)
            assert status == 302, (name, message)
    assert throttle.check("127.0.0.1") is None


def test_behind_a_trusted_proxy_the_forwarded_address_counts(app, org, clock, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    proxy = "10.0.0.2"
    attacker = client_from(app, proxy)
    quick = [attempt(attacker, name, SPRAYED, forwarded=ATTACKER)[1] for name in NAMES]
    assert quick[:10] == ["Wrong user name or password."] * 10 and all("Try again in" in m for m in quick[10:])
    timeutil.freeze(clock + timedelta(minutes=16))
    # The attacker writes his own X-Forwarded-For; the proxy appends the address it saw, and only
    # that last one is believed: a different forged value on every try changes nothing.
    _check_spray(spray(attacker, forwarded=lambda i: f"192.0.2.{i}, {ATTACKER}"), attacker, forwarded=ATTACKER)
    # Another person behind the same proxy is not the attacker.
    colleague = client_from(app, proxy)
    assert attempt(colleague, "county_clerk", PASSWORD, forwarded=COLLEAGUE)[0] == 302
    events = _actions("auth.login_failed")
    assert {e.ip for e in events} == {ATTACKER}


def test_without_a_trusted_proxy_a_forged_forwarded_for_changes_nothing(app, org, clock):
    assert app.config["TRUSTED_PROXIES"] == 0  # the default
    attacker = client_from(app, ATTACKER)
    _check_spray(spray(attacker, forwarded=lambda i: f"192.0.2.{i}"), attacker, forwarded="192.0.2.99")
    assert {e.ip for e in _actions("auth.login_failed")} == {ATTACKER}
    # And a victim whose address the attacker forges is not locked out by him.
    victim = client_from(app, "192.0.2.3")
    assert attempt(victim, "county_clerk", PASSWORD)[0] == 302


def test_ipv6_addresses_count_by_their_64_network():
    assert throttle.address_key("2001:db8:1:2::1") == throttle.address_key("2001:db8:1:2:ffff::9") == \
        "2001:db8:1:2::/64"
    assert throttle.address_key("2001:db8:1:3::1") != throttle.address_key("2001:db8:1:2::1")
    assert throttle.address_key("::ffff:198.51.100.7") == "198.51.100.7"
    assert throttle.address_key("198.51.100.7") == "198.51.100.7"


def test_many_failures_everywhere_slow_down_only_addresses_that_failed(app, org, clock, monkeypatch):
    """Credential stuffing from many addresses: past the global rate, an address that has failed
    waits half a minute between tries; addresses without failures are not touched, so failing a
    lot locks nobody out."""
    monkeypatch.setitem(app.config, "LOGIN_GLOBAL_FAILURES_PER_MINUTE", 10)
    bots = [client_from(app, f"192.0.2.{i}") for i in range(10)]
    for i, bot in enumerate(bots):
        assert attempt(bot, NAMES[i], SPRAYED)[1] == "Wrong user name or password."
    assert throttle.under_pressure()
    status, message = attempt(bots[0], NAMES[11], SPRAYED)
    assert message.startswith("Many sign-ins are failing at the moment") and "Try again in 30 seconds" in message
    # Somebody who has not failed: evaluated as usual, right or wrong.
    assert attempt(client_from(app, COLLEAGUE), "county_clerk", PASSWORD)[0] == 302
    assert attempt(client_from(app, "203.0.113.10"), "county_staff", "typo")[1] == "Wrong user name or password."
    timeutil.freeze(clock + timedelta(seconds=31))
    assert attempt(bots[0], NAMES[11], SPRAYED)[1] == "Wrong user name or password."
    timeutil.freeze(clock + timedelta(minutes=2))
    assert not throttle.under_pressure()


def test_the_security_administrator_sees_failures_by_address_and_user(app, org, clock):
    attacker = client_from(app, ATTACKER)
    sprayed = NAMES[8:16]  # county_deputy ... town_clerk
    for name in sprayed:
        attempt(attacker, name, SPRAYED)
    other = client_from(app, COLLEAGUE)
    for _i in range(3):
        attempt(other, "county_leader", "wrong-Passw0rd")
    attempt(client_from(app, "10.9.9.9"), "prov_leader", "wrong-Passw0rd")
    attempt(client_from(app, "10.9.9.9"), "zhangsan", "wrong-Passw0rd")
    for who, status in (("sysadmin", 403), ("auditor", 403), ("county_admin", 403)):
        c = client_from(app, "10.1.1.1")
        attempt(c, who, PASSWORD)
        assert c.get("/admin/sign-in-failures").status_code == status, who
        assert "data-security-nav" not in c.get("/admin/units").get_data(as_text=True)
    sec = client_from(app, "10.1.1.2")
    assert attempt(sec, "secadmin", PASSWORD)[0] == 302
    assert "/admin/sign-in-failures" in sec.get("/admin/units").get_data(as_text=True)
    page = sec.get("/admin/sign-in-failures").get_data(as_text=True)
    by_address = page.split('data-failures="address"')[1].split("</table>")[0]
    by_user = page.split('data-failures="user"')[1].split("</table>")[0]
    row = re.search(rf"{re.escape(ATTACKER)}.*?</tr>", by_address, re.S).group(0)
    assert re.findall(r'class="num">(\d+)<', row) == ["8", "0", "8"]  # failed, refused, user names
    row = re.search(r"county_leader.*?</tr>", by_user, re.S).group(0)
    assert re.findall(r'class="num">(\d+)<', row) == ["3", "0", "1"]
    assert "lisi" not in by_user and "zhangsan" in by_user and "(no such account)" in by_user
    # A county's security administrator sees only the accounts of his county, no unknown names.
    org.add_user("county_secadmin", "区安全员", "330106", "office", ["sec_admin"])
    county = client_from(app, "10.1.1.3")
    attempt(county, "county_secadmin", PASSWORD)
    page = county.get("/admin/sign-in-failures").get_data(as_text=True)
    assert "county_leader" in page and "county_deputy" in page
    assert "prov_leader" not in page and "zhangsan" not in page


@pytest.mark.postgres
def test_a_burst_of_parallel_tries_from_a_slowed_address_gets_one_evaluated(app, org, clock):
    """Eight tries at the same moment from an address that may try once now: one is evaluated, the
    other seven are refused (the address is locked while a try of it is being checked)."""
    import threading

    from flask_babel import force_locale

    from office.auth.login import LoginFailed, authenticate

    for i in range(10):
        throttle.record("failed", ATTACKER, f"earlier{i}", now=clock)
    db.session.commit()
    timeutil.freeze(clock + timedelta(seconds=3))  # the 2-second wait after the tenth is over
    barrier = threading.Barrier(8)
    results: list[str] = []

    def sign_in(i: int):
        with app.app_context(), force_locale("en"):
            try:
                barrier.wait()
                authenticate(NAMES[i], SPRAYED, ip=ATTACKER)
            except LoginFailed as exc:
                results.append(exc.message)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign_in, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count("Wrong user name or password.") == 1, results
    assert results.count("Too many failed sign-ins from your network address. Try again in 4 seconds.") == 7
