"""Whom the document pages offer in their pickers. Issuing unit: the units the clerk drafts for;
co-issuers: organs of the same level (joint issuance); recipients: the units the routing rules allow
for the document type (a request (请示) goes to a superior organ, a reply (批复) never up: see
``drafting.relation``); forwarding: the receiving unit's lower units; assignment and circulation:
the receiving unit's people. The context is the document type or the receipt's id."""

from __future__ import annotations

from sqlalchemy import false

from office.directory.purposes import PERSON, UNIT, register_purpose
from office.directory.service import people_of_unit, units_under
from office.errors import NotFound
from office.org.models import Unit


def _receipt(actor, context: str):
    from office.docflow.common import get_receipt

    if not str(context).isdigit():
        raise NotFound("Not found.")
    return get_receipt(actor, int(context), act=False)


def _lead(actor, _context):
    from office.docflow.common import acting_unit_ids

    return Unit.id.in_(acting_unit_ids(actor))


def _co_issuer(actor, _context):
    from office.docflow.common import acting_unit_ids

    if actor.unit_id is None:
        return false()
    from office.extensions import db

    mine = db.session.get(Unit, actor.unit_id)
    return (Unit.level == mine.level) & Unit.id.not_in(acting_unit_ids(actor))


def _recipient(actor, _context):
    from office.docflow.common import acting_unit_ids

    return Unit.id.not_in(acting_unit_ids(actor)) if actor.unit_id else false()


def _main_allows(actor, context: str, u: Unit) -> bool:
    from office.docflow.common import actor_unit
    from office.docflow.drafting import relation

    if context == "请示":
        return relation(actor_unit(actor), u) == "up"
    if context == "批复":
        return relation(actor_unit(actor), u) != "up"
    return True


def _forward(actor, context):
    return units_under(_receipt(actor, context).unit.path, strictly=True)


def _unit_people(actor, context):
    return people_of_unit(_receipt(actor, context).unit_id, roles=("staff", "clerk", "leader"))


def register() -> None:
    register_purpose("docflow.lead", UNIT, _lead)
    register_purpose("docflow.co_issuer", UNIT, _co_issuer)
    register_purpose("docflow.main", UNIT, _recipient, allows=_main_allows)
    register_purpose("docflow.cc", UNIT, _recipient)
    register_purpose("docflow.forward", UNIT, _forward)
    register_purpose("docflow.assign", PERSON, _unit_people)
    register_purpose("docflow.circulate", PERSON, _unit_people)
