"""Document numbers (发文字号) like ``浙政发〔2026〕12号``: per issuing organ, prefix and year; atomic;
a document keeps the number it got; a voided number keeps its reason and is never given again."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from office.actor import Actor
from office.docflow.common import check_version, commit, format_number, log, own_document
from office.docflow.models import DocNumber, DocNumberCounter, DocState, Document
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow


def next_value(unit_id: int, prefix: str, year: int) -> int:
    """Increment the counter in one statement; its row lock is held until the caller commits."""
    stmt = (update(DocNumberCounter)
            .where(DocNumberCounter.unit_id == unit_id, DocNumberCounter.prefix == prefix,
                   DocNumberCounter.year == year)
            .values(last_value=DocNumberCounter.last_value + 1)
            .returning(DocNumberCounter.last_value))
    value = db.session.execute(stmt).scalar_one_or_none()
    if value is None:
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.session.execute(insert(DocNumberCounter).values(unit_id=unit_id, prefix=prefix, year=year,
                                                           last_value=0).on_conflict_do_nothing())
        value = db.session.execute(stmt).scalar_one()
    return value


def assign_number(doc: Document, unit_id: int, prefix: str, year: int) -> str:
    """Take the next number of (unit, prefix, year), record it in the register and put it on ``doc``."""
    seq = next_value(unit_id, prefix, year)
    number = format_number(prefix, year, seq)
    db.session.add(DocNumber(unit_id=unit_id, prefix=prefix, year=year, seq=seq, number=number,
                             document_id=doc.id))
    doc.number_prefix, doc.number_year, doc.number_seq, doc.doc_number = prefix, year, seq, number
    return number


def allocate_number(actor: Actor, doc_id: int, *, year: int | None = None, version=None) -> Document:
    """Give the re-checked document its number; a second call returns the number it already has."""
    doc = own_document(actor, doc_id, lock=True)
    if doc.doc_number:
        return doc  # re-run, or the page open in two browsers: the one number it got
    check_version(doc, version)
    if doc.state != DocState.CHECKED:
        raise Conflict(_("A document gets its number after sign-off and re-check."))
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk of the issuing organ allocates document numbers."))
    if doc.direction == "up" and not doc.signer_name:
        raise ValidationError(_("An upward document needs its signer (签发人)."))
    prefix = (doc.number_prefix or "").strip()
    if not prefix:
        raise ValidationError(_("Set the number prefix (e.g. 浙政发) first."))
    number = assign_number(doc, doc.lead_unit_id, prefix, year or utcnow().year)
    doc.state = DocState.NUMBERED
    from office.docflow.common import refresh_tokens

    refresh_tokens(doc)
    log(actor, doc.id, "number", number, after={"number": number})
    commit()
    return doc


def void_number(actor: Actor, doc_id: int, reason: str, version=None) -> Document:
    """Void the number of a document not yet distributed; the number is never given again."""
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    if not doc.doc_number:
        raise ValidationError(_("This document has no number."))
    if doc.state not in (DocState.NUMBERED, DocState.SEALED):
        raise Conflict(_("A distributed document keeps its number."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for voiding the number."))
    row = db.session.execute(select(DocNumber).where(DocNumber.document_id == doc.id,
                                                     DocNumber.voided_at.is_(None))).scalar_one()
    row.voided_at, row.void_reason, row.voided_by_name = utcnow(), reason.strip(), actor.name
    old = doc.doc_number
    doc.doc_number, doc.number_seq = None, None
    doc.state = DocState.CHECKED
    doc.sealed_at = None
    log(actor, doc.id, "void_number", f"{old}: {reason.strip()}", before={"number": old})
    commit()
    return doc


def numbers(unit_id: int, year: int) -> list[DocNumber]:
    return list(db.session.execute(select(DocNumber).where(DocNumber.unit_id == unit_id,
                                                           DocNumber.year == year)
                                   .order_by(DocNumber.prefix, DocNumber.seq)).scalars())
