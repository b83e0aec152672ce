"""The second factor of a sign-in: who must use one (per role, set by the security administrator),
a session's second-factor state, the user's factors, and the security administrator's reset. The
authenticator app and recovery codes are in ``office/auth/codes.py``, security keys (WebAuthn) in
``office/auth/security_keys.py``.

A user must pass a second factor when one of his posts holds a role that requires it, or when he
has enrolled one of his own accord. Until he has passed it, his session is not a signed-in session
at all (``office/web.py``): no page and no /api route but the second-factor pages answers him.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String, and_, delete, exists, func, or_, select

from office.actor import Actor
from office.audit import service as audit
from office.auth.models import (
    Post,
    PostRole,
    RecoveryCode,
    Role,
    SecondFactorPolicy,
    TotpCredential,
    User,
    UserSession,
    WebAuthnCredential,
)
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import among_bound, db
from office.timeutil import utcnow

TOTP = "totp"
WEBAUTHN = "webauthn"
RECOVERY = "recovery"
METHODS = (TOTP, WEBAUTHN)


# --- who must use one ------------------------------------------------------------------------


def required_roles() -> set[str]:
    """The roles whose holders must use a second factor: the security administrator's choice, and
    the configured default for roles he has not decided on."""
    saved = dict(db.session.execute(select(SecondFactorPolicy.role, SecondFactorPolicy.required)).all())
    default = set(current_app.config.get("MFA_REQUIRED_ROLES") or ())
    return {r.value for r in Role if saved.get(r.value, r.value in default)}


def required_for_sql(dialect: str = ""):
    """``required_for`` as an SQL condition correlated with ``User.id``, for a statement that reads
    the user anyway (the session's, on every request): one of his posts holds a role the security
    administrator requires, or a role he has not decided on that the configured default requires.
    The default is bound per execution: ``required_defaults()``; for ``dialect`` "postgresql" as one
    array (the statement's text then never changes with the list, nor is it rewritten per request)."""
    decided = exists().where(SecondFactorPolicy.role == PostRole.role)
    required = exists().where(SecondFactorPolicy.role == PostRole.role, SecondFactorPolicy.required.is_(True))
    return exists().where(
        PostRole.post_id == Post.id, Post.user_id == User.id, PostRole.role.in_([r.value for r in Role]),
        or_(required, and_(~decided, among_bound(PostRole.role, "mfa_defaults", String, dialect))))


def required_defaults() -> dict:
    """The values ``required_for_sql`` is executed with."""
    return {"mfa_defaults": sorted(set(current_app.config.get("MFA_REQUIRED_ROLES") or ()))}


def user_roles(user: User) -> set[str]:
    return {r for p in user.posts for r in p.roles}


def required_for(user: User) -> bool:
    return bool(user_roles(user) & required_roles())


def needed(user: User) -> bool:
    """Whether this user's sign-in takes a second factor."""
    return user.second_factor is not None or required_for(user)


def may_set_policy(actor: Actor) -> bool:
    """The policy is one for the whole system: the security administrator at its top sets it."""
    return actor.is_system or (actor.has_role(Role.SEC_ADMIN) and actor.unit_path.count("/") == 1)


def set_policy(actor: Actor, required: set[str]) -> set[str]:
    if not may_set_policy(actor):
        raise PermissionDenied(_("Only the security administrator decides who must use a second factor."))
    unknown = set(required) - {r.value for r in Role}
    if unknown:
        raise ValidationError(_("Unknown role: %(r)s", r=", ".join(sorted(unknown))))
    before = required_roles()
    now = utcnow()
    for role in Role:
        row = db.session.get(SecondFactorPolicy, role.value)
        if row is None:
            row = SecondFactorPolicy(role=role.value)
            db.session.add(row)
        row.required = role.value in required
        row.changed_at = now
        row.changed_by_id = actor.user_id
    after = {r for r in required}
    audit.record(actor, "auth.second_factor_policy", object_type="policy", object_id="second_factor",
                 before={"required": sorted(before)}, after={"required": sorted(after)})
    db.session.commit()
    return after


# --- a user's factors ------------------------------------------------------------------------


def totp_of(user_id: int) -> TotpCredential | None:
    return db.session.execute(select(TotpCredential).where(
        TotpCredential.user_id == user_id, TotpCredential.confirmed_at.is_not(None))).scalars().first()


def keys_of(user_id: int) -> list[WebAuthnCredential]:
    return list(db.session.execute(select(WebAuthnCredential).where(WebAuthnCredential.user_id == user_id)
                                   .order_by(WebAuthnCredential.id)).scalars())


def recovery_left(user_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).scalar_one()


def methods_of(user: User) -> list[str]:
    """The enrolled methods, the preferred one first."""
    have = [m for m, ok in ((TOTP, totp_of(user.id) is not None), (WEBAUTHN, bool(keys_of(user.id)))) if ok]
    return sorted(have, key=lambda m: m != user.second_factor)


def _refresh_preferred(user: User) -> None:
    """After a factor came or went: keep the preferred method if it is still there."""
    have = methods_of(user)
    if user.second_factor not in have:
        user.second_factor = have[0] if have else None


def may_enrol(user: User, session_row: UserSession) -> bool:
    """A session that passed the second factor may change the factors; one signed in with the
    password only may enrol the first one (and nothing else: else a stolen password would do)."""
    return session_row.second_factor_at is not None or user.second_factor is None


def require_may_enrol(user: User, session_row: UserSession) -> None:
    if not may_enrol(user, session_row):
        raise PermissionDenied(_("Confirm your sign-in with your second factor first."))


def _actor_of(user: User, ip: str = "", user_agent: str = "") -> Actor:
    return Actor(user_id=user.id, name=user.name, ip=ip, user_agent=user_agent)


def _tell(user: User, title: str) -> None:
    from office.notifications.service import notify

    notify([user.id], "security", title, url="/account/second-factor")


def enrolled(user: User, session_row: UserSession, method: str, detail: dict, *, ip: str = "",
             user_agent: str = "") -> None:
    """A factor was added (in the caller's transaction): preferred if it is the first, the session
    counts as passed (the user just proved he holds it), audit, and a notice to the user."""
    if user.second_factor is None:
        user.second_factor = method
    passed(session_row, method)
    audit.record(_actor_of(user, ip, user_agent), "auth.second_factor_enrolled", object_type="user",
                 object_id=user.id, after={"method": method, **detail})
    _tell(user, _("A second factor was added to your account. If this was not you, tell your security "
                  "administrator at once."))


def passed(session_row: UserSession, method: str) -> None:
    session_row.second_factor_at = utcnow()
    session_row.second_factor_method = method


def set_preferred(user: User, method: str) -> None:
    if method not in methods_of(user):
        raise ValidationError(_("That second factor is not set up."))
    user.second_factor = method
    db.session.commit()


def _keep_one(user: User) -> None:
    if required_for(user) and not methods_of(user):
        raise ValidationError(_("Your role requires a second factor: set up another one before you remove "
                                "this one."))


def remove_totp(user: User, *, ip: str = "", user_agent: str = "") -> None:
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id))
    db.session.flush()
    _keep_one(user)
    _refresh_preferred(user)
    audit.record(_actor_of(user, ip, user_agent), "auth.second_factor_removed", object_type="user",
                 object_id=user.id, after={"method": TOTP})
    db.session.commit()


def remove_key(user: User, key_id: int, *, ip: str = "", user_agent: str = "") -> None:
    key = db.session.get(WebAuthnCredential, key_id)
    if key is None or key.user_id != user.id:
        raise NotFound(_("No such security key."))
    name = key.name
    db.session.delete(key)
    db.session.flush()
    _keep_one(user)
    _refresh_preferred(user)
    audit.record(_actor_of(user, ip, user_agent), "auth.second_factor_removed", object_type="user",
                 object_id=user.id, after={"method": WEBAUTHN, "name": name})
    db.session.commit()


def finish_sign_in(user: User, session_row: UserSession, method: str, *, ip: str = "", user_agent: str = "",
                   detail: dict | None = None) -> None:
    from office.auth.login import clear_failures

    passed(session_row, method)
    clear_failures(user)
    after = {"method": method, **(detail or {})}
    if method == RECOVERY:
        after["recovery_codes_left"] = recovery_left(user.id)
    audit.record(_actor_of(user, ip, user_agent), "auth.second_factor_passed", object_type="user",
                 object_id=user.id, after=after)
    db.session.commit()



# --- the security administrator's reset --------------------------------------------------------


def summary(user: User) -> dict:
    return {"totp": totp_of(user.id) is not None, "keys": len(keys_of(user.id)),
            "recovery_codes": recovery_left(user.id), "preferred": user.second_factor,
            "required": required_for(user)}


def reset(actor: Actor, user: User) -> dict:
    """Remove every factor and recovery code of a user and end his sessions (he lost his phone or
    key): at his next sign-in he sets up a new one. The security administrator's duty only."""
    from office.auth.scope import require_admin_scope
    from office.auth.service import end_all_sessions, primary_post

    post = primary_post(user)
    if post is None:
        raise NotFound(_("No such user."))
    require_admin_scope(actor, post.unit, "second_factor")
    if actor.user_id == user.id:
        raise PermissionDenied(_("Nobody may reset his own second factor."))
    before = summary(user)
    for model in (TotpCredential, WebAuthnCredential, RecoveryCode):
        db.session.execute(delete(model).where(model.user_id == user.id))
    user.second_factor = None
    ended = end_all_sessions(user.id)
    audit.record(actor, "auth.second_factor_reset", object_type="user", object_id=user.id, unit_id=post.unit_id,
                 before=before, after={"sessions_ended": ended})
    _tell(user, _("Your second factor was reset by the security administrator. Set up a new one at your next "
                  "sign-in."))
    db.session.commit()
    return before
