"""What a picker is for (its purpose) and whom it may offer: each module registers its own.

A purpose says whether people or units are picked, what the form posts for a choice (the id, a
person's user name or a unit's code) and its scope: a SQL condition over the person's account, post
and unit (people) or over the unit (units), built for the acting person and the purpose's context
(a request, a receipt, a document type). A unit purpose may add a rule in Python on each unit
found (``allows``), for rules that compare two units (the routing rules of documents).
The same scope answers the picker and re-checks what a form posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from office.errors import ValidationError

PERSON, UNIT = "person", "unit"


@dataclass(frozen=True)
class Purpose:
    key: str
    kind: str  # PERSON or UNIT
    scope: Callable[[Any, str], Any]  # (actor, context) -> SQL condition (None: no condition)
    value: str = "id"  # what a choice posts: "id", "username" (people) or "code" (units)
    allows: Callable[[Any, str, Any], bool] | None = None  # (actor, context, unit) -> bool


_PURPOSES: dict[str, Purpose] = {}


def register_purpose(key: str, kind: str, scope, *, value: str = "id", allows=None) -> Purpose:
    p = Purpose(key, kind, scope, value, allows)
    _PURPOSES[key] = p
    return p


def get_purpose(key: str) -> Purpose:
    p = _PURPOSES.get(key or "")
    if p is None:
        raise ValidationError(_("Unknown kind of choice."))
    return p


def purposes() -> dict[str, Purpose]:
    return dict(_PURPOSES)
