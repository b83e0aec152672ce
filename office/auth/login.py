"""Checking a sign-in: the per-name lockout, the per-address and global throttles
(``office/auth/throttle.py``), the password, and the count of failed second-factor attempts."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.audit import service as audit
from office.auth import throttle
from office.auth.models import LoginThrottle, Post, User, UserSession
from office.auth.passwords import verify_password
from office.extensions import db
from office.timeutil import utcnow


class LoginFailed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _locked_message(minutes: int) -> str:
    return _("Too many failed attempts. Try again in %(m)d minutes.", m=minutes)


def _unit_of(user: User | None) -> int | None:
    if user is None:
        return None
    posts = sorted(user.posts, key=lambda p: (not p.is_primary, p.id))
    return posts[0].unit_id if posts else None


def _lock_row(name: str) -> LoginThrottle | None:
    return db.session.execute(
        select(LoginThrottle).where(LoginThrottle.username == name).with_for_update()
    ).scalar_one_or_none()


def _count_failure(name: str, row: LoginThrottle | None, now: datetime) -> bool:
    """One more consecutive failure of a user name; True when it locks the name now."""
    if row is None:
        row = LoginThrottle(username=name, failures=0)
        db.session.add(row)
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        row.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
        row.failures = 0
        return True
    return False


def authenticate(username: str, password: str, *, ip: str = "", user_agent: str = "") -> User:
    """Check a login. Unknown user and wrong password fail alike; repeated failures lock the name,
    and an address with many failures (whatever the names) is slowed down, then refused."""
    name = (username or "").strip().lower()[:64]
    now = utcnow()
    row = _lock_row(name)
    user = db.session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    who = Actor(user_id=user.id if user else None, name=user.name if user else name, ip=ip,
                user_agent=user_agent)
    ids = {"user_id": user.id if user else None, "unit_id": _unit_of(user)}
    if row and row.locked_until and row.locked_until > now:
        minutes = max(1, int((row.locked_until - now).total_seconds() // 60) + 1)
        throttle.record("locked", ip, name, now=now, **ids)
        audit.record(who, "auth.login_refused_locked", object_type="user", object_id=name)
        db.session.commit()
        raise LoginFailed(_locked_message(minutes))
    refusal = throttle.check(ip, now)
    if refusal is not None:
        throttle.record("throttled", ip, name, now=now, **ids)
        audit.record(who, "auth.login_throttled", object_type="user", object_id=name,
                     after={"scope": refusal.scope, "address_failures": refusal.failures, "until": refusal.until})
        db.session.commit()
        raise LoginFailed(refusal.message(now))
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or not user.active:
        locked = _count_failure(name, row, now)
        throttle.record("failed", ip, name, now=now, **ids)
        audit.record(who, "auth.login_locked" if locked else "auth.login_failed",
                     object_type="user", object_id=name)
        db.session.commit()
        if locked:
            raise LoginFailed(_locked_message(current_app.config["LOGIN_LOCKOUT_MINUTES"]))
        raise LoginFailed(_("Wrong user name or password."))
    from office.auth.second_factor import needed

    if row and not needed(user):
        db.session.delete(row)  # with a second factor to come, the run of failures ends only after it
    return user


def second_factor_failed(user: User, session_row: UserSession, *, method: str, ip: str = "",
                         user_agent: str = "") -> str:
    """A wrong code or key after the right password: it counts towards the name's lockout, and a
    lockout ends the half-open session. Returns the message to show."""
    now = utcnow()
    row = _lock_row(user.username)
    locked = _count_failure(user.username, row, now)
    post = next((p for p in user.posts if p.id == session_row.post_id), None) or \
        (db.session.get(Post, session_row.post_id) if session_row.post_id else None)
    throttle.record("second_factor", ip, user.username, user_id=user.id, unit_id=_unit_of(user), now=now)
    who = Actor(user_id=user.id, name=user.name, post_id=post.id if post else None,
                unit_id=post.unit_id if post else None, ip=ip, user_agent=user_agent)
    audit.record(who, "auth.login_locked" if locked else "auth.second_factor_failed", object_type="user",
                 object_id=user.id, after={"method": method})
    if locked:
        session_row.ended_at = now
    db.session.commit()
    if locked:
        return _locked_message(current_app.config["LOGIN_LOCKOUT_MINUTES"])
    return _("That code or key was not accepted.")


def clear_failures(user: User) -> None:
    """A passed second factor ends the run of failures of the name (in the caller's transaction)."""
    row = _lock_row(user.username)
    if row is not None and not (row.locked_until and row.locked_until > utcnow()):
        db.session.delete(row)
