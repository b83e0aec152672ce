"""Login, lockout, sessions, password policy, separation of duties, delegation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from office import timeutil
from office.actor import Actor
from office.auth import service
from office.auth.models import UserSession
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from tests.conftest import PASSWORD, login, post_form


def test_login_reaches_workbench_and_rotates_session(client, org):
    r = login(client, "county_clerk")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "罗静" in page and "杭州市西湖区人民政府办公室" in page
    first = db.session.execute(select(UserSession)).scalars().all()
    assert len(first) == 1
    # Logging in again gives a new server-side session; the old one is ended.
    login(client, "county_clerk")
    sessions = db.session.execute(select(UserSession).order_by(UserSession.id)).scalars().all()
    assert len(sessions) == 2 and sessions[0].ended_at is not None and sessions[1].ended_at is None


def test_unknown_user_and_wrong_password_get_the_same_message(client, org):
    import re

    a = login(client, "county_clerk", "wrong-Password1")
    b = login(client, "nobody_here", "wrong-Password1")
    assert a.status_code == b.status_code == 200
    assert "Wrong user name or password." in a.get_data(as_text=True)

    def page(r):  # the same page apart from the CSRF token and the echoed user name
        html = re.sub(r'value="[^"]*"', 'value=""', r.get_data(as_text=True))
        return html.replace("county_clerk", "NAME").replace("nobody_here", "NAME")

    assert page(a) == page(b)


def test_tenth_wrong_password_locks_out_even_the_right_one(client, org):
    for _ in range(9):
        login(client, "county_clerk", "not-the-Password1")
    r = login(client, "county_clerk", "not-the-Password1")
    assert "Too many failed attempts" in r.get_data(as_text=True)
    r = login(client, "county_clerk", PASSWORD)
    assert r.status_code == 200 and "Too many failed attempts" in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still not logged in
    timeutil.freeze(timeutil.utcnow() + timedelta(minutes=16))
    assert login(client, "county_clerk", PASSWORD).status_code == 302
    actions = [e for e in db.session.execute(db.text("SELECT action FROM audit_event")).scalars()]
    assert "auth.login_locked" in actions and "auth.login_refused_locked" in actions


def test_unknown_user_names_lock_out_too(client, org):
    for _ in range(5):
        login(client, "ghost", "x-Password-1")
    assert "Too many failed attempts" in login(client, "ghost", "x-Password-1").get_data(as_text=True)


def test_logout_makes_a_copied_cookie_useless(client, org, app):
    login(client, "county_clerk")
    cookie = client.get_cookie("session").value
    post_form(client, "/logout")
    assert client.get("/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/").status_code == 302


def test_idle_session_times_out(client, org):
    login(client, "county_clerk")
    assert client.get("/").status_code == 200
    timeutil.freeze(timeutil.utcnow() + timedelta(minutes=31))
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_idle_session_is_ended_for_good(client, org):
    """The timed-out session is ended in the table: coming back within the idle limit of the
    frozen clock again does not revive it."""
    login(client, "county_clerk")
    later = timeutil.utcnow() + timedelta(minutes=31)
    timeutil.freeze(later)
    assert client.get("/").status_code == 302
    row = db.session.execute(select(UserSession).where(UserSession.user_id == org.user("county_clerk").id)
                             .order_by(UserSession.id.desc())).scalars().first()
    assert row.ended_at == later
    timeutil.freeze(later + timedelta(minutes=1))
    assert client.get("/").status_code == 302


def test_the_header_follows_a_post_change_on_the_next_page(client, app, org):
    """Who is signed in is read on every request: a post's new title shows on the next page."""
    login(client, "county_staff")
    assert "督查专员" not in client.get("/").get_data(as_text=True)
    post = org.post("county_staff")
    service.set_post_roles(org.actor("county_admin"), post, set(post.roles), title="督查专员")
    assert "督查专员" in client.get("/").get_data(as_text=True)


def test_the_signed_in_person_is_read_only(client, app, org):
    from flask_login import current_user

    login(client, "county_clerk")
    with client:
        client.get("/")
        with pytest.raises(AttributeError, match="read-only"):
            current_user.name = "someone else"
        assert current_user.email == org.user("county_clerk").email  # read from his record
        assert current_user.record.username == "county_clerk"


def test_disabling_a_user_ends_his_sessions(app, org):
    victim = app.test_client()
    login(victim, "county_staff")
    assert victim.get("/").status_code == 200
    service.set_active(org.actor("county_admin"), org.user("county_staff"), False)
    assert victim.get("/").status_code == 302


def test_disabling_a_user_on_the_admin_page_ends_every_session_of_his(app, org):
    """Two browsers (and the API) of the same person: all are logged out, and he cannot log in again."""
    from tests.conftest import csrf_from

    browsers = [app.test_client(), app.test_client()]
    for b in browsers:
        login(b, "county_staff")
        assert b.get("/").status_code == 200
    admin = app.test_client()
    login(admin, "county_admin")
    victim = org.user("county_staff").id
    token = csrf_from(admin.get(f"/admin/users/{victim}").get_data(as_text=True))
    assert admin.post(f"/admin/users/{victim}/active", data={"active": "0", "csrf_token": token}).status_code == 302
    for b in browsers:
        assert b.get("/").status_code == 302
        assert b.get("/api/notifications").status_code == 401
    open_sessions = db.session.execute(select(UserSession).where(UserSession.user_id == victim,
                                                                 UserSession.ended_at.is_(None))).all()
    assert open_sessions == []
    assert login(app.test_client(), "county_staff").status_code == 200  # the login form again, not the workbench


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https:evil.example",
                                    "https://evil.example/", "%2F%2Fevil.example", "/%5Cevil.example",
                                    "%252F%252Fevil.example"])
def test_next_never_leaves_the_host(client, org, target):
    page = client.get("/login").get_data(as_text=True)
    from tests.conftest import csrf_from

    r = client.post(f"/login?next={target}", data={"username": "county_clerk", "password": PASSWORD,
                                                   "csrf_token": csrf_from(page)})
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_next_inside_the_host_is_followed(client, org):
    page = client.get("/login?next=/notifications/").get_data(as_text=True)
    from tests.conftest import csrf_from

    r = client.post("/login?next=/notifications/", data={"username": "county_clerk", "password": PASSWORD,
                                                         "csrf_token": csrf_from(page)})
    assert r.headers["Location"] == "/notifications/"


def test_password_policy_and_change(app, org):
    actor = org.actor("county_clerk")
    user = org.user("county_clerk")
    with pytest.raises(ValidationError) as exc:
        service.change_password(actor, user, PASSWORD, "short1")
    assert "at least 10 characters" in exc.value.message
    with pytest.raises(ValidationError):
        service.change_password(actor, user, PASSWORD, "alllowercaseletters")
    with pytest.raises(ValidationError):
        service.change_password(actor, user, "wrong", "Good-Passw0rd-2026")
    service.change_password(actor, user, PASSWORD, "Good-Passw0rd-2026")
    assert service.authenticate("county_clerk", "Good-Passw0rd-2026").id == user.id


def test_expired_password_forces_change(client, org):
    timeutil.freeze(timeutil.utcnow() + timedelta(days=91))
    login(client, "county_clerk")
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/account")
    assert client.get("/account").status_code == 200


def test_separated_admin_roles(app, org):
    sec = org.actor("secadmin")
    sysadm = org.actor("sysadmin")
    auditor_post = org.post("auditor")
    # No account may hold two of the three.
    with pytest.raises(ValidationError):
        service.set_post_roles(sec, auditor_post, {"audit_admin", "sys_admin"})
    # The system administrator manages accounts, not roles.
    with pytest.raises(PermissionDenied):
        service.set_post_roles(sysadm, org.post("county_staff"), {"staff", "clerk"})
    # Only the security administrator grants administrator roles.
    with pytest.raises(PermissionDenied):
        service.create_user(org.actor("county_admin"), unit=org.unit("330106", "office"), username="newbie",
                            name="新人", password="Good-Passw0rd-2026", roles={"sys_admin"})
    # The audit administrator can do neither.
    with pytest.raises(PermissionDenied):
        service.create_user(org.actor("auditor"), unit=org.unit("330106", "office"), username="newbie",
                            name="新人", password="Good-Passw0rd-2026", roles={"staff"})
    user = service.create_user(sysadm, unit=org.unit("330106", "office"), username="newbie", name="新人",
                               password="Good-Passw0rd-2026", roles={"staff"})
    service.set_post_roles(sec, service.primary_post(user), {"staff", "clerk"})
    assert service.primary_post(user).roles == {"staff", "clerk"}


def test_delegation_names_a_delegate_for_a_date_range(app, org):
    leader = org.actor("county_leader")
    deputy = org.user("county_deputy")
    today = timeutil.utcnow().date()
    service.add_delegation(leader, deputy, today, today + timedelta(days=3), "出差")
    assert service.delegate_for(org.user("county_leader").id).id == deputy.id
    assert service.delegate_for(org.user("county_leader").id, today + timedelta(days=4)) is None
    assert [u.username for u in service.principals_of(deputy.id)] == ["county_leader"]
    with pytest.raises(PermissionDenied):
        service.add_delegation(org.actor("county_clerk"), deputy, today, today)
    with pytest.raises(ValidationError):
        service.add_delegation(leader, deputy, date(2026, 12, 5), date(2026, 12, 1))


def test_system_actor_is_not_scoped():
    assert Actor.system().is_system
