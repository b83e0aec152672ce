"""The words of the audit log (审计日志): each recorded action and kind of record as the audit
administrator reads them. The audit module names its own and the sign-in's; every other module
registers its actions (``register_actions("docflow", {...})``) and record kinds at ``init_app``."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_actions: dict[str, object] = {
    "auth.login": _l("Signed in"), "auth.login_failed": _l("Sign-in failed"),
    "auth.login_locked": _l("Account locked after failed sign-ins"),
    "auth.login_refused_locked": _l("Sign-in refused: account locked"),
    "auth.login_throttled": _l("Sign-in slowed down (too many failures)"), "auth.logout": _l("Signed out"),
    "auth.password_changed": _l("Password changed"), "auth.roles_changed": _l("Roles changed"),
    "auth.user_created": _l("Account created"), "auth.user_enabled": _l("Account enabled"),
    "auth.user_disabled": _l("Account disabled"), "auth.delegation_added": _l("Delegation added"),
    "auth.delegation_revoked": _l("Delegation revoked"),
    "auth.second_factor_enrolled": _l("Second factor added"), "auth.second_factor_removed": _l("Second factor removed"),
    "auth.second_factor_passed": _l("Second factor passed"), "auth.second_factor_failed": _l("Second factor failed"),
    "auth.second_factor_policy": _l("Second-factor policy changed"),
    "auth.second_factor_reset": _l("Second factor reset"), "auth.recovery_codes_created": _l("Recovery codes created"),
    "access.denied": _l("Access refused"), "file.downloaded": _l("File downloaded"),
    "audit.purged": _l("Old audit events purged"),
    "demo.organisation_built": _l("Demo organisation built"), "system.restored": _l("Backup restored"),
    "org.import_divisions": _l("Divisions imported"), "org.import_units": _l("Units imported"),
}
_objects: dict[str, object] = {
    "user": _l("Account"), "post": _l("Post"), "delegation": _l("Delegation"), "policy": _l("Policy"),
    "unit": _l("Unit"), "division": _l("Division"), "route": _l("Page"), "audit": _l("Audit log"),
    "backup": _l("Backup"), "pdf": _l("PDF file"),
}


def register_actions(module: str, labels: dict) -> None:
    """``labels``: action (without the module's prefix) -> its words (a lazy string)."""
    _actions.update({f"{module}.{k}": v for k, v in labels.items() if v is not None})


def register_object_types(labels: dict) -> None:
    _objects.update(labels)


def action_label(action: str) -> str:
    from office.web import translated

    return translated("audit.actions", lambda: dict(_actions)).get(action) or str(_l("Other action"))


def object_label(object_type: str) -> str:
    from office.web import translated

    return translated("audit.objects", lambda: dict(_objects)).get(object_type) or str(_l("Record"))


def actor_label(actor_id: int | None, actor_name: str, system: str | None = None) -> str:
    """Who did it: the person's name; a part of the system (``Actor.system("forms")``: no user, a
    component's name) reads as ``system`` ("System" unless given; a timeline passes "")."""
    if actor_id is None and (not actor_name or re.fullmatch(r"[a-z_]+", actor_name)):
        return str(_l("System")) if system is None else system
    return actor_name


def known_actions() -> set[str]:
    return set(_actions)
