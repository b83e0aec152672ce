"""Whom the account page offers as a delegate (代理): the people of the leader's own unit."""

from __future__ import annotations

from office.auth.models import User
from office.directory.purposes import PERSON, register_purpose

DELEGATE = "auth.delegate"


def _scope(actor, _context):
    from office.directory.service import people_of_unit

    return people_of_unit(actor.unit_id) & (User.id != (actor.user_id or 0))


def register() -> None:
    register_purpose(DELEGATE, PERSON, _scope, value="username")
