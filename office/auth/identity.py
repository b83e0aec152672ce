"""Who is signed in, read at the start of every request: the session by its token, the person,
his posts with their units and roles, and what every page reads with them (the header's unread
count), in one Core statement, as plain values.

Every page needs these values and almost none changes them, so they are not loaded as ORM records
(loading and later expiring a person, his posts, units and roles cost more than reading them).
The pages that change the person or his session (his account, the second factor, switching
posts) load the records on demand: ``SignedIn.record`` and ``session_record``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import bindparam, select, update

from office.auth.models import Post, PostRole, User, UserSession
from office.extensions import db
from office.org.models import Unit
from office.org.service import government_served_by
from office.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: int
    name: str
    path: str
    government_id: int | None = None
    """For a general office, the government it works for (the same division's); else None."""


@dataclass(frozen=True, slots=True)
class PostRef:
    """One of the signed-in person's posts (岗位), as ``office.auth.models.Post`` reads."""

    id: int
    user_id: int
    unit_id: int
    title: str
    rank: int | None
    is_primary: bool
    roles: frozenset[str]
    unit: UnitRef

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


@dataclass(frozen=True, slots=True)
class SessionRef:
    """The request's session row, as read with the person."""

    id: int
    post_id: int | None
    created_at: datetime
    last_seen_at: datetime
    second_factor_at: datetime | None


class SignedIn(UserMixin):
    """The signed-in person as the pages read him (``current_user``): his id, name, account state
    and posts. Anything else is read from his record, loaded on first use; the values here cannot
    be assigned (a change goes to ``record``, through a service)."""

    __slots__ = ("id", "username", "name", "active", "second_factor", "must_change_password",
                 "password_changed_at", "posts", "_record")

    def __init__(self, **values):
        for k, v in values.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_record", None)

    def __setattr__(self, name, value):
        raise AttributeError(f"SignedIn.{name} is read-only: change the person's record")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def record(self) -> User:
        """The person's ORM record, loaded once per request when a page needs it."""
        if self._record is None:
            object.__setattr__(self, "_record", db.session.get(User, self.id))
        return self._record

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def __repr__(self) -> str:
        return f"<SignedIn {self.id} {self.username}>"


class Identity(NamedTuple):
    session: SessionRef
    user: SignedIn
    post: PostRef | None
    also: tuple


@lru_cache(maxsize=8)
def _statement(also: tuple):
    """The identity statement, built once per ``also``: one row per post and role of the person
    (posts and roles are few), in post order. The posts are aliased so that ``also``'s subqueries,
    which may read posts and roles of their own, are not correlated with them."""
    s, u = UserSession.__table__, User.__table__
    p, r, un = Post.__table__.alias("own_post"), PostRole.__table__.alias("own_role"), Unit.__table__.alias("own_unit")
    return (select(s.c.id, s.c.post_id, s.c.created_at, s.c.last_seen_at, s.c.ended_at, s.c.second_factor_at,
                   u.c.id.label("user_id"), u.c.username, u.c.name, u.c.active, u.c.second_factor,
                   u.c.must_change_password, u.c.password_changed_at,
                   p.c.id.label("p_id"), p.c.unit_id, p.c.title, p.c.rank, p.c.is_primary,
                   un.c.name.label("unit_name"), un.c.path.label("unit_path"),
                   government_served_by(un).label("unit_government"), r.c.role,
                   *(a.label(f"also_{i}") for i, a in enumerate(also)))
            .select_from(s.join(u, u.c.id == s.c.user_id).outerjoin(p, p.c.user_id == u.c.id)
                         .outerjoin(un, un.c.id == p.c.unit_id).outerjoin(r, r.c.post_id == p.c.id))
            .where(s.c.token_hash == bindparam("token_hash"))
            .order_by(p.c.id, r.c.role))


def _posts(rows) -> tuple[PostRef, ...]:
    posts: list[PostRef] = []
    roles: dict[int, set[str]] = {}
    for row in rows:
        if row.p_id is None:
            continue
        if row.p_id not in roles:
            roles[row.p_id] = set()
            posts.append(row)
        if row.role is not None:
            roles[row.p_id].add(row.role)
    return tuple(PostRef(r.p_id, r.user_id, r.unit_id, r.title, r.rank, r.is_primary, frozenset(roles[r.p_id]),
                         UnitRef(r.unit_id, r.unit_name, r.unit_path, r.unit_government)) for r in posts)


def load_identity(token_hash: str, also: tuple = (), params: dict | None = None) -> Identity | None:
    """The live session of ``token_hash`` with its person and post, or None when it is unknown,
    ended, idle too long or past its absolute limit (an expired session is ended here).
    ``also``: scalar subqueries correlated with ``User.id`` read in the same statement (their
    values come back in ``also``; ``params`` are the values they are executed with)."""
    rows = db.session.connection().execute(_statement(also), {**(params or {}), "token_hash": token_hash}).all()
    if not rows or rows[0].ended_at is not None:
        return None
    first = rows[0]
    cfg = current_app.config
    now = utcnow()
    if now - first.last_seen_at > timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]) or \
            now - first.created_at > timedelta(hours=cfg["SESSION_ABSOLUTE_HOURS"]):
        _touch(first.id, ended_at=now)
        return None
    seen = first.last_seen_at
    if now - seen > timedelta(seconds=60):
        _touch(first.id, last_seen_at=now)
        seen = now
    posts = _posts(rows)
    user = SignedIn(id=first.user_id, username=first.username, name=first.name, active=first.active,
                    second_factor=first.second_factor, must_change_password=first.must_change_password,
                    password_changed_at=first.password_changed_at, posts=posts)
    session = SessionRef(first.id, first.post_id, first.created_at, seen, first.second_factor_at)
    post = next((p for p in posts if p.id == first.post_id), None)
    return Identity(session, user, post, tuple(first[len(first) - len(also):]) if also else ())


def _touch(session_id: int, **values) -> None:
    db.session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))
    db.session.commit()


def session_record(ref: SessionRef) -> UserSession:
    """The session's ORM row, for the pages that change it (switching posts, the second factor)."""
    return db.session.get(UserSession, ref.id)


class SessionRecords(NamedTuple):
    """A live session as ORM records: its row, the person, his post."""

    session: UserSession
    user: User
    post: Post | None


def records_of(live: Identity) -> SessionRecords:
    """The records of a session already read as values, for the pages that change them (the
    second factor's, before the session is signed in)."""
    return SessionRecords(session_record(live.session), live.user.record,
                          db.session.get(Post, live.post.id) if live.post else None)
