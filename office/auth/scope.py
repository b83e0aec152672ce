"""The one place that answers "may this user see / act on this record".

Rules:
- A record lies in a user's *scope* when its unit's division is in the subtree of the division of
  the unit he acts for (a county clerk sees his county and its townships). Outside scope is 404.
- Administration (three separated duties of MLPS level 3): the system administrator manages
  accounts, the security administrator manages roles and second factors (policy, reset), the
  audit administrator reads the audit log;
  none can do the others' work. A unit administrator manages accounts and ordinary roles: of the
  whole subtree when he sits in a government or general office, of his own department otherwise.
  Inside scope but without the right role is 403.
- List queries go through ``scoped`` so an out-of-scope row is never returned.
"""

from __future__ import annotations

from flask_babel import gettext as _

from office.actor import Actor
from office.errors import NotFound, PermissionDenied
from office.org.models import Unit, UnitKind
from office.org.service import subtree_clause

ADMIN_ROLES = ("unit_admin", "sys_admin", "sec_admin")


def path_in_scope(actor: Actor, path: str) -> bool:
    if actor.is_system:
        return True
    return bool(actor.unit_path) and path.startswith(actor.unit_path)


def unit_in_scope(actor: Actor, unit: Unit) -> bool:
    return path_in_scope(actor, unit.path)


def scoped(query, path_column, actor: Actor):
    """Restrict a select to rows whose path column lies in the actor's subtree."""
    if actor.is_system:
        return query
    if not actor.unit_path:
        return query.where(path_column.is_(None) & path_column.isnot(None))  # nothing
    return query.where(subtree_clause(path_column, actor.unit_path))


def _admin_unit_kind(actor: Actor) -> str | None:
    from office.extensions import db

    if actor.unit_id is None:
        return None
    u = db.session.get(Unit, actor.unit_id)
    return u.kind if u else None


OPERATION_ROLES = {"accounts": "sys_admin", "roles": "sec_admin", "second_factor": "sec_admin"}
# Operations of the security administrator alone (a unit administrator may not do them either).
SECURITY_ONLY = {"second_factor"}


def may_administer(actor: Actor, unit: Unit, operation: str = "accounts") -> bool:
    """``operation`` is "accounts" (create, disable), "roles" (grant, revoke) or "second_factor"
    (reset a user's second factor: the security administrator only)."""
    if actor.is_system:
        return True
    if not unit_in_scope(actor, unit):
        return False
    if actor.has_role(OPERATION_ROLES[operation]):
        return True
    if operation in SECURITY_ONLY:
        return False
    if actor.has_role("unit_admin"):
        if _admin_unit_kind(actor) in (UnitKind.GOVERNMENT, UnitKind.GENERAL_OFFICE):
            return True
        return unit.id == actor.unit_id
    return False


def may_view_admin(actor: Actor, unit: Unit) -> bool:
    return may_administer(actor, unit, "accounts") or may_administer(actor, unit, "roles")


def require_admin_scope(actor: Actor, unit: Unit, operation: str | None = None) -> None:
    """404 outside scope, 403 inside scope without the administrator role for ``operation``
    (None: any administration, i.e. viewing the admin pages)."""
    if not unit_in_scope(actor, unit):
        raise NotFound(_("Not found."))
    allowed = may_view_admin(actor, unit) if operation is None else may_administer(actor, unit, operation)
    if not allowed:
        raise PermissionDenied(_("You may not administer this unit."))


def require_in_scope(actor: Actor, unit: Unit | None) -> None:
    if unit is None or not unit_in_scope(actor, unit):
        raise NotFound(_("Not found."))
