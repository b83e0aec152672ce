"""Login, sessions, accounts, roles and delegation."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, bindparam, cast, func, select, update

from office.actor import Actor
from office.audit import service as audit
from office.auth.login import LoginFailed, authenticate  # noqa: F401 - the service's API
from office.auth.models import (
    SEPARATED_ADMIN_ROLES,
    Delegation,
    Post,
    PostRole,
    Role,
    User,
    UserSession,
)
from office.auth.passwords import hash_password, policy_errors, verify_password
from office.auth.scope import require_admin_scope
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.org.models import Unit
from office.timeutil import utcnow

ALL_ROLES = {r.value for r in Role}


def token_hash(token: str) -> str:
    """What the session table keeps of a session's token."""
    return hashlib.sha256(token.encode()).hexdigest()


def primary_post(user: User) -> Post | None:
    posts = user.posts
    for p in posts:
        if p.is_primary:
            return p
    return posts[0] if posts else None


def start_session(user: User, post: Post | None, *, ip: str = "", user_agent: str = "") -> str:
    """Open a new server-side session (a new id at every login) and return its token."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=token_hash(token), user_id=user.id,
                               post_id=post.id if post else None, ip=ip[:64], user_agent=user_agent[:200]))
    who = Actor(user_id=user.id, name=user.name, post_id=post.id if post else None,
                unit_id=post.unit_id if post else None, ip=ip, user_agent=user_agent)
    audit.record(who, "auth.login", object_type="user", object_id=user.id)
    db.session.commit()
    return token


def end_session(token: str | None, actor: Actor | None = None) -> None:
    if not token:
        return
    s = db.session.execute(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if s and s.ended_at is None:
        s.ended_at = utcnow()
        if actor:
            audit.record(actor, "auth.logout", object_type="user", object_id=s.user_id)
        db.session.commit()


def switch_post(session_row: UserSession, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or post.user_id != session_row.user_id:
        raise NotFound(_("No such post."))
    session_row.post_id = post.id
    db.session.commit()
    return post


def end_all_sessions(user_id: int) -> int:
    n = db.session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    return n


# --- accounts and roles ----------------------------------------------------------------------


def check_role_set(roles: set[str]) -> None:
    unknown = roles - ALL_ROLES
    if unknown:
        raise ValidationError(_("Unknown role: %(r)s", r=", ".join(sorted(unknown))))
    # A unit administrator manages accounts and roles: with any of the three it would merge duties.
    if len(roles & SEPARATED_ADMIN_ROLES) > 1 or (roles & SEPARATED_ADMIN_ROLES and Role.UNIT_ADMIN in roles):
        raise ValidationError(_("System, security and audit administration are separated duties: "
                                "one account may hold only one of them."))


def _user_admin_roles(user_id: int, except_post: int | None = None) -> set[str]:
    q = select(PostRole.role).join(Post, Post.id == PostRole.post_id).where(Post.user_id == user_id)
    if except_post:
        q = q.where(Post.id != except_post)
    return set(db.session.execute(q).scalars()) & (SEPARATED_ADMIN_ROLES | {Role.UNIT_ADMIN})


def _require_user_admin(actor: Actor, unit: Unit, operation: str, roles: set[str] = frozenset()) -> None:
    require_admin_scope(actor, unit, operation)
    if roles & SEPARATED_ADMIN_ROLES and not (actor.has_role(Role.SEC_ADMIN) or actor.is_system):
        raise PermissionDenied(_("Only the security administrator may grant administrator roles."))


def create_user(actor: Actor, *, unit: Unit, username: str, name: str, password: str,
                roles: set[str], title: str = "", rank: int | None = None, email: str | None = None,
                must_change_password: bool = True) -> User:
    username = (username or "").strip().lower()
    if not username or not username.replace("_", "").replace(".", "").isalnum() or len(username) > 64:
        raise ValidationError(_("User names use letters, digits, '.' and '_' only."))
    if not (name or "").strip():
        raise ValidationError(_("A name is required."))
    if len(name.strip()) > 64:
        raise ValidationError(_("A name has at most 64 characters."))
    roles = set(roles)
    check_role_set(roles)
    _require_user_admin(actor, unit, "accounts", roles)
    errs = policy_errors(password, username)
    if errs:
        raise ValidationError(" ".join(errs))
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(_("The user name %(u)s is taken.", u=username))
    user = User(username=username, name=name.strip(), email=email, password_hash=hash_password(password),
                must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    post = Post(user_id=user.id, unit_id=unit.id, title=title, rank=rank, is_primary=True,
                role_rows=[PostRole(role=r) for r in sorted(roles)])
    db.session.add(post)
    db.session.flush()
    audit.record(actor, "auth.user_created", object_type="user", object_id=user.id, unit_id=unit.id,
                 after={"username": username, "name": user.name, "unit": unit.code, "roles": sorted(roles)})
    db.session.commit()
    return user


def set_post_roles(actor: Actor, post: Post, roles: set[str], rank: int | None = None,
                   title: str | None = None) -> Post:
    roles = set(roles)
    check_role_set(roles)
    before = {"roles": sorted(post.roles), "rank": post.rank, "title": post.title}
    _require_user_admin(actor, post.unit, "roles", (roles ^ set(post.roles)))
    other_posts = _user_admin_roles(post.user_id, except_post=post.id)
    if ((roles & SEPARATED_ADMIN_ROLES) and other_posts - roles) or \
            (other_posts & SEPARATED_ADMIN_ROLES and roles & (SEPARATED_ADMIN_ROLES | {Role.UNIT_ADMIN}) - other_posts):
        raise ValidationError(_("System, security and audit administration are separated duties: "
                                "one account may hold only one of them."))
    if actor.user_id == post.user_id and roles != set(post.roles):
        raise PermissionDenied(_("Nobody may change his own administrator roles."))
    post.role_rows = [PostRole(role=r) for r in sorted(roles)]
    post.rank = rank if Role.LEADER in roles else None
    if title is not None:
        post.title = title
    db.session.flush()
    audit.record(actor, "auth.roles_changed", object_type="post", object_id=post.id, unit_id=post.unit_id,
                 before=before, after={"roles": sorted(roles), "rank": post.rank, "title": post.title})
    db.session.commit()
    return post


def set_active(actor: Actor, user: User, active: bool) -> None:
    post = primary_post(user)
    if post is None:
        raise NotFound(_("No such user."))
    require_admin_scope(actor, post.unit, "accounts")
    if user.id == actor.user_id:
        raise PermissionDenied(_("You cannot disable your own account."))
    before = user.active
    user.active = active
    ended = 0 if active else end_all_sessions(user.id)
    audit.record(actor, "auth.user_enabled" if active else "auth.user_disabled", object_type="user",
                 object_id=user.id, unit_id=post.unit_id, before={"active": before},
                 after={"active": active, "sessions_ended": ended})
    db.session.commit()


def change_password(actor: Actor, user: User, old: str, new: str) -> None:
    if not verify_password(user.password_hash, old):
        raise ValidationError(_("The current password is wrong."))
    errs = policy_errors(new, user.username)
    if errs:
        raise ValidationError(" ".join(errs))
    if verify_password(user.password_hash, new):
        raise ValidationError(_("The new password must differ from the current one."))
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    audit.record(actor, "auth.password_changed", object_type="user", object_id=user.id)
    db.session.commit()


def password_expired(user: User) -> bool:
    max_age = current_app.config["PASSWORD_MAX_AGE_DAYS"]
    return user.must_change_password or (
        max_age > 0 and utcnow() - user.password_changed_at > timedelta(days=max_age))


# --- delegation (代理) -------------------------------------------------------------------------


def add_delegation(actor: Actor, delegate: User, start: date, end: date, reason: str = "") -> Delegation:
    """The acting leader names a delegate for a date range."""
    if actor.user_id is None or not actor.has_role(Role.LEADER):
        raise PermissionDenied(_("Only a leader can name a delegate."))
    if delegate.id == actor.user_id:
        raise ValidationError(_("You cannot delegate to yourself."))
    if not delegate.active:
        raise ValidationError(_("That account is disabled."))
    from office.auth.choices import DELEGATE
    from office.directory.service import require

    require(actor, DELEGATE, [delegate.id])
    if end < start:
        raise ValidationError(_("The end date is before the start date."))
    overlapping = db.session.execute(
        select(Delegation.id).where(Delegation.principal_id == actor.user_id, Delegation.revoked_at.is_(None),
                                    Delegation.start_date <= end, Delegation.end_date >= start)
    ).first()
    if overlapping:
        raise Conflict(_("You already have a delegate for part of that period."))
    d = Delegation(principal_id=actor.user_id, delegate_id=delegate.id, start_date=start, end_date=end,
                   reason=reason[:200])
    db.session.add(d)
    db.session.flush()
    audit.record(actor, "auth.delegation_added", object_type="delegation", object_id=d.id,
                 after={"delegate": delegate.username, "start": start, "end": end, "reason": reason})
    db.session.commit()
    return d


def revoke_delegation(actor: Actor, delegation: Delegation) -> None:
    if delegation.principal_id != actor.user_id:
        raise NotFound(_("No such delegation."))
    if delegation.revoked_at is None:
        delegation.revoked_at = utcnow()
        audit.record(actor, "auth.delegation_revoked", object_type="delegation", object_id=delegation.id)
        db.session.commit()


def delegate_for(principal_id: int, on: date | None = None) -> User | None:
    """Who acts for ``principal_id`` on that day, if anyone."""
    on = on or utcnow().date()
    d = db.session.execute(
        select(Delegation).where(Delegation.principal_id == principal_id, Delegation.revoked_at.is_(None),
                                 Delegation.start_date <= on, Delegation.end_date >= on)
        .order_by(Delegation.id.desc())
    ).scalars().first()
    return d.delegate if d and d.delegate.active else None


def principals_of(delegate_id: int, on: date | None = None) -> list[User]:
    """The leaders ``delegate_id`` acts for on that day."""
    on = on or utcnow().date()
    rows = db.session.execute(
        select(Delegation).where(Delegation.delegate_id == delegate_id, Delegation.revoked_at.is_(None),
                                 Delegation.start_date <= on, Delegation.end_date >= on)
    ).scalars().all()
    return [d.principal for d in rows]


def principal_ids(delegate_id, on):
    """``principals_of`` as a select of ids, for a condition inside another statement (``delegate_id``
    and ``on`` may be columns or bound parameters)."""
    return select(Delegation.principal_id).where(
        Delegation.delegate_id == delegate_id, Delegation.revoked_at.is_(None), Delegation.start_date <= on,
        Delegation.end_date >= on)


def principal_ids_of(user_id_column, dialect: str):
    """``principal_ids`` of the day bound as ``principals_on``, as one scalar subquery correlated with
    ``user_id_column``: the ids joined by commas (NULL when there is none), for a statement that
    reads the user anyway (the session's). ``parse_ids`` reads the value."""
    ids = cast(Delegation.principal_id, String)
    joined = func.string_agg(ids, ",") if dialect == "postgresql" else func.group_concat(ids, ",")
    return (principal_ids(user_id_column, bindparam("principals_on")).with_only_columns(joined)
            .correlate_except(Delegation).scalar_subquery())


def parse_ids(value: str | None) -> tuple[int, ...]:
    """The ids of ``principal_ids_of``'s value, in ascending order."""
    return tuple(sorted({int(v) for v in value.split(",")})) if value else ()


def _role_holders(unit_id: int, role: str, *columns):
    """``columns`` of the active users holding ``role`` in a unit, leaders by rank."""
    return select(*columns).join(Post, Post.user_id == User.id).join(PostRole, PostRole.post_id == Post.id) \
        .where(Post.unit_id == unit_id, PostRole.role == role, User.active.is_(True)) \
        .order_by(Post.rank.is_(None), Post.rank, User.id)


def users_with_role(unit_id: int, role: str) -> list[tuple[User, Post]]:
    """Active users holding ``role`` in a unit, leaders by rank."""
    return [(u, p) for u, p in db.session.execute(_role_holders(unit_id, role, User, Post)).all()]


def user_ids_with_role(unit_ids, role: str) -> dict[int, list[int]]:
    """{unit id: ids of the active users holding ``role`` there} for many units in one query."""
    out: dict[int, list[int]] = {}
    rows = db.session.execute(
        select(Post.unit_id, User.id).join(Post, Post.user_id == User.id)
        .join(PostRole, PostRole.post_id == Post.id)
        .where(Post.unit_id.in_(list(unit_ids)), PostRole.role == role, User.active.is_(True))
        .order_by(Post.unit_id, User.id))
    for unit_id, user_id in rows:
        out.setdefault(unit_id, []).append(user_id)
    return out


def role_holder_ids(unit_id: int, role: str) -> list[int]:
    """``users_with_role`` as ids only (one statement, no records built), leaders by rank."""
    return list(db.session.execute(_role_holders(unit_id, role, User.id)).scalars())


def principal_leader_id(unit_id: int) -> int | None:
    """The id of the unit's leader of the highest rank (正职 before 副职)."""
    ids = role_holder_ids(unit_id, Role.LEADER)
    return ids[0] if ids else None


def people_of(unit_id: int) -> list[tuple[User, Post]]:
    """The active people with a post in a unit (the organisation directory), leaders by rank first."""
    rows = db.session.execute(
        select(User, Post).join(Post, Post.user_id == User.id)
        .where(Post.unit_id == unit_id, User.active.is_(True))
        .order_by(Post.rank.is_(None), Post.rank, User.name, User.id)
    ).all()
    return [(u, p) for u, p in rows]
