"""Separated duties of the outgoing flow: the drafter of a document does not review, countersign
or sign it off, and its reviewer does not sign it off. A small office (a township government with
one clerk) may let one person combine duties: its unit administrator allows it for the unit; each
time it happens the exception goes to the audit chain and the document's history and is printed on
the approval sheet."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.auth.scope import may_administer
from office.docflow.common import commit, log, unit
from office.docflow.models import Document, UnitDocSettings
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.org.models import Unit, UnitKind
from office.timeutil import utcnow

REVIEW, COUNTERSIGN, SIGNOFF = "review", "countersign", "signoff"


# --- the unit setting --------------------------------------------------------------------------


def settings_of(unit_id: int | None) -> UnitDocSettings | None:
    if unit_id is None:
        return None
    return db.session.execute(select(UnitDocSettings).where(UnitDocSettings.unit_id == unit_id)).scalar_one_or_none()


def _deciding_units(lead: Unit) -> list[int]:
    """The units whose setting governs a document of ``lead``: the lead organ, and for a government
    its general office (which does the government's clerical work)."""
    ids = [lead.id]
    if lead.kind == UnitKind.GOVERNMENT:
        ids += list(db.session.execute(select(Unit.id).where(Unit.division_id == lead.division_id,
                                                             Unit.kind == UnitKind.GENERAL_OFFICE)).scalars())
    return ids


def combine_allowed(lead: Unit) -> bool:
    """May one person combine duties on the documents of ``lead``?"""
    return db.session.execute(select(UnitDocSettings.id).where(
        UnitDocSettings.unit_id.in_(_deciding_units(lead)), UnitDocSettings.combine_duties.is_(True))
    ).first() is not None


def may_set(actor: Actor, u: Unit) -> bool:
    return actor.has_role("unit_admin") and may_administer(actor, u, "accounts")


def set_combine_duties(actor: Actor, unit_id: int, allowed: bool, reason: str = "") -> UnitDocSettings | None:
    """The unit administrator allows (or stops allowing) one person to combine duties in a unit."""
    u = unit(unit_id)
    if not may_set(actor, u):
        raise PermissionDenied(_("Only the unit administrator of %(unit)s sets how its documents are handled.",
                                 unit=u.name))
    reason = (reason or "").strip()
    if allowed and not reason:
        raise ValidationError(_("Say why one person has to combine duties here (e.g. the office has one clerk)."))
    row = settings_of(u.id)
    before = {"combine_duties": bool(row and row.combine_duties)}
    if before["combine_duties"] == bool(allowed) and (row is None or row.reason == reason[:1000]):
        return row  # nothing changes
    if row is None:
        row = UnitDocSettings(unit_id=u.id)
        db.session.add(row)
    row.combine_duties, row.reason = bool(allowed), reason[:1000]
    row.set_by_id, row.set_by_name, row.set_at = actor.user_id, actor.name, utcnow()
    from office.audit import service as audit

    audit.record(actor, "docflow.unit_settings", object_type="unit", object_id=u.id, unit_id=u.id,
                 before=before, after={"combine_duties": row.combine_duties, "reason": row.reason})
    commit()
    return row


# --- who may do which step ---------------------------------------------------------------------


def earlier_duties(doc: Document, user_id: int | None, duty: str) -> list[str]:
    """The duties ``user_id`` already had on ``doc`` that keep him from ``duty`` ([] if none)."""
    if user_id is None:
        return []
    out = []
    if doc.drafter_id == user_id:
        out.append("draft")
    if duty == SIGNOFF and doc.reviewed_by_id == user_id:
        out.append("review")
    return out


def _why(name: str, earlier: str) -> str:
    if earlier == "review":
        return _("%(name)s reviewed this document", name=name)
    return _("%(name)s drafted this document", name=name)


REFUSALS = {
    REVIEW: lambda: _("You drafted this document, so another member of the office reviews it (separated "
                      "duties). Where the office has one clerk, the unit administrator can allow combined duties."),
    COUNTERSIGN: lambda: _("You drafted this document, so you cannot countersign it for the co-issuing organ "
                           "(separated duties)."),
}


def check(actor: Actor, doc: Document, duty: str) -> list[str]:
    """Refuse ``duty`` to the drafter (review, countersign) unless the unit allows combined duties;
    returns the earlier duties combined (to be recorded with ``record_exception``)."""
    earlier = earlier_duties(doc, actor.user_id, duty)
    if earlier and not combine_allowed(doc.lead_unit):
        raise PermissionDenied(REFUSALS[duty]())
    return earlier


EXCEPTION_LINES = {
    ("draft", REVIEW): "拟稿与审核由同一人（{name}）办理",
    ("draft", COUNTERSIGN): "拟稿与会签由同一人（{name}）办理",
    ("draft", SIGNOFF): "拟稿与签发由同一人（{name}）办理",
    ("review", SIGNOFF): "审核与签发由同一人（{name}）办理",
}


def record_exception(actor: Actor, doc: Document, duty: str, earlier: list[str], name: str = "") -> None:
    """The same person did two duties (allowed for the unit): on the history and in the audit chain."""
    if not earlier:
        return
    lines = [EXCEPTION_LINES[(e, duty)].format(name=name or actor.name) for e in earlier]
    log(actor, doc.id, "duty_exception", "；".join(lines) + "（本单位设置允许一人兼岗）",
        after={"duty": duty, "earlier": earlier})


def exception_notes(doc: Document) -> list[str]:
    """The separated-duty exceptions of a document as the approval sheet prints them."""
    notes = []
    if doc.reviewed_by_id and doc.reviewed_by_id == doc.drafter_id:
        notes.append(EXCEPTION_LINES[("draft", REVIEW)].format(name=doc.reviewer_name))
    for i in doc.issuers:
        if i.position > 0 and i.countersigned_by_id and i.countersigned_by_id == doc.drafter_id:
            notes.append(EXCEPTION_LINES[("draft", COUNTERSIGN)].format(name=i.countersigned_name))
    if doc.signed_by_id:
        if doc.signed_by_id == doc.drafter_id:
            notes.append(EXCEPTION_LINES[("draft", SIGNOFF)].format(name=doc.drafter_name))
        if doc.signed_by_id == doc.reviewed_by_id:
            notes.append(EXCEPTION_LINES[("review", SIGNOFF)].format(name=doc.reviewer_name))
    if not notes:
        return []
    return [n + "，经本单位设置允许一人兼岗。" for n in notes]


def signoff_excluded(doc: Document) -> dict[int, str]:
    """Who may not sign ``doc`` off: its drafter and its reviewer, unless the unit combines duties."""
    if combine_allowed(doc.lead_unit):
        return {}
    out: dict[int, str] = {}
    if doc.drafter_id:
        out[doc.drafter_id] = _why(doc.drafter_name, "draft")
    if doc.reviewed_by_id and doc.reviewed_by_id not in out:
        out[doc.reviewed_by_id] = _why(doc.reviewer_name, "review")
    return out

