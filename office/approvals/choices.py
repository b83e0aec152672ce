"""Whom the approval pages offer in their pickers: copy (抄送), transfer (转交) and add signer (加签)
offer the people of the actor's subtree (``auth.scope``); the flow editor names people by user name
and units by code, within the editor's subtree."""

from __future__ import annotations

from office.auth.models import User
from office.directory.purposes import PERSON, UNIT, register_purpose
from office.directory.service import people_under, units_under

CC = "approvals.cc"
TRANSFER = ADD_SIGNER = "approvals.task"  # one field hands the task on: transfer or add a signer


def _people(actor, _context):
    return people_under(actor)


def _others(actor, _context):
    """People of the subtree but the actor (nobody copies or hands a task to himself)."""
    return people_under(actor) & (User.id != (actor.user_id or 0))


def _units(actor, _context):
    return None if actor.is_system else units_under(actor.unit_path)


def register() -> None:
    for key in (CC, TRANSFER):
        register_purpose(key, PERSON, _others, value="username")
    register_purpose("approvals.flow_user", PERSON, _people, value="username")
    register_purpose("approvals.flow_unit", UNIT, _units, value="code")


def require(actor, purpose: str, user_ids) -> list[int]:
    """Refuse (nothing changed) people outside what the purpose lets the actor address."""
    from office.directory.service import require as check

    return check(actor, purpose, user_ids)
