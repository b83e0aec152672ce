"""Whom a report task may be issued to when units are picked one by one: units below the issuer's."""

from __future__ import annotations

from office.directory.purposes import UNIT, register_purpose
from office.directory.service import units_under


def register() -> None:
    register_purpose("forms.target", UNIT, lambda actor, _context: units_under(actor.unit_path, strictly=True))
