"""Sign-in throttling by client address and across the system, against password spraying (one
address, many user names) and credential stuffing (many addresses).

The per-name lockout (``LoginThrottle``, five failures lock the name) stops guessing one account;
it does nothing against an address that tries one common password on every account. So every
failed sign-in is also logged with its address (``LoginFailure``) and an address is slowed down:

- the first ``LOGIN_ADDRESS_FREE_FAILURES`` (10) failures within ``LOGIN_ADDRESS_WINDOW_MINUTES``
  (15) are free: a township office behind one NAT address mistypes now and then, and one person
  who locks his own name (5 failures) never slows his colleagues down;
- after that the address must wait ``LOGIN_DELAY_SECONDS`` after its last failure, doubling with
  each further failure up to ``LOGIN_DELAY_MAX_SECONDS``;
- at ``LOGIN_ADDRESS_MAX_FAILURES`` (20) failures in the window the address is refused until the
  oldest of them leaves the window.

Nothing sleeps in the request: an attempt that comes too early is refused, unevaluated, with a
message that says when to try again (a sleeping request would tie up a web worker, and a few of
them would take the whole site down). Only failures count: the fifty clerks of the acceptance run
signing in from one address with their right passwords are never slowed, and a success does not
wipe an address's failures (else an attacker with one account of his own could reset his counter).

Globally, when more than ``LOGIN_GLOBAL_FAILURES_PER_MINUTE`` sign-ins failed in the last minute
(stuffing from many addresses), every address that has failed in its window must wait at least
``LOGIN_GLOBAL_DELAY_SECONDS`` after its last failure. Addresses without failures are untouched,
so an attacker cannot lock everybody out by failing a lot: people who type their password right
sign in as usual, and one who mistypes waits half a minute.

IPv6 addresses are counted by their /64 network (one customer's whole allocation).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, or_, select, text

from office.actor import Actor
from office.auth.models import LoginFailure, LoginThrottle
from office.extensions import db
from office.timeutil import utcnow

COUNTED = ("failed", "second_factor")  # what slows an address down; refusals do not
KEEP_DAYS = 30


@dataclass(frozen=True)
class Refusal:
    scope: str  # "address" or "global"
    until: datetime
    failures: int

    def message(self, now: datetime) -> str:
        seconds = max(1, int((self.until - now).total_seconds() + 0.999))
        if self.scope == "global":
            return _("Many sign-ins are failing at the moment, so addresses with failed sign-ins are slowed "
                     "down. Try again in %(s)d seconds.", s=seconds)
        if seconds >= 120:
            return _("Too many failed sign-ins from your network address. Try again in %(m)d minutes.",
                     m=(seconds + 59) // 60)
        return _("Too many failed sign-ins from your network address. Try again in %(s)d seconds.", s=seconds)


def address_key(ip: str) -> str:
    """The key an address is counted under: IPv4 as is, IPv6 by its /64 network."""
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return (ip or "")[:64]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped:
            return str(addr.ipv4_mapped)
        return str(ipaddress.IPv6Network((addr, 64), strict=False))
    return str(addr)


def _counted(address: str, since: datetime):
    return select(LoginFailure.at).where(LoginFailure.address == address, LoginFailure.at > since,
                                         LoginFailure.kind.in_(COUNTED))


def _lock_address(address: str) -> None:
    """Serialize the attempts of one address that is being throttled (PostgreSQL): otherwise a
    burst of parallel requests would all be evaluated before the first failure is counted."""
    if db.engine.dialect.name != "postgresql":
        return  # SQLite serializes writers anyway
    key = int.from_bytes(hashlib.sha256(b"login:" + address.encode()).digest()[:8], "big", signed=True)
    db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def check(ip: str, now: datetime | None = None) -> Refusal | None:
    """Whether a sign-in from ``ip`` may be evaluated now; a ``Refusal`` says until when not."""
    cfg = current_app.config
    now = now or utcnow()
    address = address_key(ip)
    since = now - timedelta(minutes=cfg["LOGIN_ADDRESS_WINDOW_MINUTES"])
    free = cfg["LOGIN_ADDRESS_FREE_FAILURES"]
    count = select(func.count()).select_from(_counted(address, since).subquery())
    n = db.session.execute(count).scalar_one()
    if n == 0:
        return None
    if n >= free - 1:
        _lock_address(address)
        n = db.session.execute(count).scalar_one()
    recent = list(db.session.execute(_counted(address, since).order_by(LoginFailure.at.desc())
                                     .limit(max(1, cfg["LOGIN_ADDRESS_MAX_FAILURES"]))).scalars())
    last = recent[0]
    refusal = None
    if n >= cfg["LOGIN_ADDRESS_MAX_FAILURES"]:
        # Refused until the oldest of the last MAX failures leaves the window.
        refusal = Refusal("address", recent[-1] + (now - since), n)
    elif n >= free:
        delay = min(cfg["LOGIN_DELAY_MAX_SECONDS"], cfg["LOGIN_DELAY_SECONDS"] * 2 ** (n - free))
        refusal = Refusal("address", last + timedelta(seconds=delay), n)
    if refusal is None or refusal.until <= now:
        refusal = None
        if under_pressure(now):
            until = last + timedelta(seconds=cfg["LOGIN_GLOBAL_DELAY_SECONDS"])
            refusal = Refusal("global", until, n) if until > now else None
    return refusal


def under_pressure(now: datetime | None = None) -> bool:
    """More failed sign-ins in the last minute, over all addresses, than the global limit."""
    now = now or utcnow()
    limit = current_app.config["LOGIN_GLOBAL_FAILURES_PER_MINUTE"]
    if limit <= 0:
        return False
    n = db.session.execute(select(func.count()).select_from(
        select(LoginFailure.id).where(LoginFailure.at > now - timedelta(minutes=1), LoginFailure.kind.in_(COUNTED))
        .limit(limit).subquery())).scalar_one()
    return n >= limit


def record(kind: str, ip: str, username: str, *, user_id: int | None = None, unit_id: int | None = None,
           now: datetime | None = None) -> None:
    """Log a failed or refused sign-in (in the caller's transaction)."""
    db.session.add(LoginFailure(at=now or utcnow(), address=address_key(ip), username=(username or "")[:64],
                                user_id=user_id, unit_id=unit_id, kind=kind))


def prune(now: datetime | None = None) -> int:
    """Drop log rows older than 30 days (the audit log keeps every attempt far longer)."""
    n = db.session.execute(delete(LoginFailure).where(
        LoginFailure.at < (now or utcnow()) - timedelta(days=KEEP_DAYS))).rowcount
    db.session.commit()
    return n


# --- the security administrator's page ---------------------------------------------------------


@dataclass
class FailureGroup:
    key: str
    failed: int
    refused: int
    others: int  # distinct user names (by address) or addresses (by user name)
    first_at: datetime
    last_at: datetime
    locked: bool = False
    known: bool = True


def _visible(actor: Actor):
    """Failures of accounts in the actor's subtree; a security administrator at the top of the
    tree also sees those of unknown user names."""
    from office.auth.scope import scoped
    from office.org.models import Unit

    if actor.is_system:
        return None
    in_scope = LoginFailure.unit_id.in_(scoped(select(Unit.id), Unit.path, actor))
    return or_(in_scope, LoginFailure.unit_id.is_(None)) if actor.unit_path.count("/") == 1 else in_scope


def failure_report(actor: Actor, hours: int = 24, limit: int = 50) -> dict:
    """Failed and refused sign-ins of the last ``hours``, grouped by address and by user name."""
    now = utcnow()
    where = [LoginFailure.at > now - timedelta(hours=hours)]
    visible = _visible(actor)
    if visible is not None:
        where.append(visible)
    failed = func.sum(case((LoginFailure.kind.in_(COUNTED), 1), else_=0))
    refused = func.sum(case((LoginFailure.kind.in_(COUNTED), 0), else_=1))

    def grouped(column, other):
        rows = db.session.execute(
            select(column, failed, refused, func.count(func.distinct(other)), func.min(LoginFailure.at),
                   func.max(LoginFailure.at), func.max(LoginFailure.user_id))
            .where(*where).group_by(column).order_by(func.count().desc(), func.max(LoginFailure.at).desc())
            .limit(limit)).all()
        return [FailureGroup(r[0], int(r[1] or 0), int(r[2] or 0), r[3], r[4], r[5], known=r[6] is not None)
                for r in rows]

    by_address = grouped(LoginFailure.address, LoginFailure.username)
    by_user = grouped(LoginFailure.username, LoginFailure.address)
    locked = set(db.session.execute(select(LoginThrottle.username).where(
        LoginThrottle.username.in_([g.key for g in by_user]), LoginThrottle.locked_until > now)).scalars())
    for g in by_user:
        g.locked = g.key in locked
    refused_now = {g.key for g in by_address if check_quiet(g.key, now)}
    total = db.session.execute(select(failed, refused).where(*where)).one()
    return {"hours": hours, "by_address": by_address, "by_user": by_user, "throttled": refused_now,
            "failed": int(total[0] or 0), "refused": int(total[1] or 0), "pressure": under_pressure(now)}


def check_quiet(address: str, now: datetime) -> bool:
    """Whether an address (already a key) is being refused right now, without taking locks."""
    cfg = current_app.config
    since = now - timedelta(minutes=cfg["LOGIN_ADDRESS_WINDOW_MINUTES"])
    n = db.session.execute(select(func.count()).select_from(_counted(address, since).subquery())).scalar_one()
    return n >= cfg["LOGIN_ADDRESS_MAX_FAILURES"]
