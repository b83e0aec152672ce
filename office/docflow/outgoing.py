"""The outgoing flow from the submitted draft to the seal: review (审核), countersign (会签), sign-off
(签发, in the approval engine), re-check (复核), seal (用印), with the separated duties of ``duties``.
Numbering is in ``numbering``, distribution in ``distribution``."""

from __future__ import annotations

from flask_babel import gettext as _

from office.actor import Actor
from office.docflow import duties
from office.docflow import signoff as adapter
from office.docflow.common import (
    acts_for,
    check_version,
    commit,
    fingerprint,
    get_document,
    log,
    own_document,
)
from office.docflow.drafting import check_routing
from office.docflow.models import DocState, Document
from office.docflow.printing import local_date
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow

# --- the outgoing flow -------------------------------------------------------------------------


def _move(actor: Actor, doc: Document, state: str, action: str, **after) -> Document:
    before = doc.state
    doc.state = state
    detail = "; ".join(str(v) for v in after.values() if v)
    log(actor, doc.id, action, detail, before={"state": before}, after={"state": state})
    commit()
    return doc


def _to_signoff(actor: Actor, doc: Document, action: str, **after) -> Document:
    """Into SIGNOFF: the sign-off is sent to the leader as an approval request (office.approvals)."""

    before = doc.state
    doc.state = DocState.SIGNOFF
    detail = "; ".join(str(v) for v in after.values() if v)
    log(actor, doc.id, action, detail, before={"state": before}, after={"state": DocState.SIGNOFF})
    adapter.start_signoff(actor, doc)
    commit()
    return doc


def _require(doc: Document, *states: str) -> None:
    if doc.state not in states:
        raise Conflict(_("This step is not possible now: the document is %(state)s.", state=doc.state))


def submit(actor: Actor, doc_id: int, version=None) -> Document:
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.DRAFT)
    check_routing(doc)
    doc.return_reason = ""
    doc.reviewed_by_id, doc.reviewer_name, doc.reviewed_at = None, "", None
    doc.review_opinion, doc.review_signature_id = "", None
    return _move(actor, doc, DocState.REVIEW, "submit")


def withdraw(actor: Actor, doc_id: int, *, reason: str = "", version=None) -> Document:
    """撤回: the drafter takes a submitted draft back from review, with the reason."""
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.REVIEW)
    if actor.user_id != doc.drafter_id:
        raise PermissionDenied(_("Only the drafter withdraws a draft from review."))
    if not reason.strip():
        raise ValidationError(_("Give the reason for withdrawing the draft."))
    doc.return_reason = reason.strip()
    return _move(actor, doc, DocState.DRAFT, "withdraw", reason=reason.strip())


def is_reviewer(actor: Actor, doc: Document) -> bool:
    """The general office (or the organ's own office) reviews: its clerks, staff and leaders."""
    if not actor.has_role("clerk", "staff", "leader"):
        return False
    return acts_for(actor, doc.lead_unit)


def _signature_id(actor: Actor) -> int | None:
    from office.approvals import service as approvals

    sig = approvals.current_signature(actor.user_id)
    return sig.id if sig is not None else None


def review(actor: Actor, doc_id: int, *, approve: bool, reason: str = "", version=None) -> Document:
    """审核 by the general office: necessity, type, format, countersigning; or return with reasons.
    The drafter does not review his own draft (unless the unit allows combined duties)."""
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.REVIEW)
    if not is_reviewer(actor, doc):
        raise PermissionDenied(_("Only the general office of the issuing organ reviews its documents."))
    combined = duties.check(actor, doc, duties.REVIEW)
    if not approve:
        if not reason.strip():
            raise ValidationError(_("Give the reasons for returning the draft."))
        doc.return_reason = reason.strip()
        duties.record_exception(actor, doc, duties.REVIEW, combined)
        return _move(actor, doc, DocState.DRAFT, "review_return", reason=reason.strip())
    check_routing(doc)
    doc.reviewed_by_id, doc.reviewer_name, doc.reviewed_at = actor.user_id, actor.name, utcnow()
    doc.review_opinion, doc.review_signature_id = reason.strip(), _signature_id(actor)
    duties.record_exception(actor, doc, duties.REVIEW, combined)
    if doc.is_joint:
        for i in doc.issuers:  # a new round of countersigning on the text as it now stands
            i.countersigned_by_id, i.countersigned_name, i.countersigned_at = None, "", None
            i.countersign_opinion, i.countersign_signature_id = "", None
        return _move(actor, doc, DocState.COUNTERSIGN, "review_pass", opinion=reason.strip())
    return _to_signoff(actor, doc, "review_pass", opinion=reason.strip())


def countersign(actor: Actor, doc_id: int, *, opinion: str = "", agree: bool = True, version=None) -> Document:
    """会签 by a leader of a co-issuing organ: 同意 (agree), or 有意见 (object: the opinion goes back to
    the drafter, who settles it with the co-issuer and submits again). When every co-issuer has
    agreed the document goes to sign-off."""
    doc = get_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.COUNTERSIGN)
    mine = [i for i in doc.issuers if i.position > 0 and acts_for(actor, i.unit)]
    if not mine:
        raise PermissionDenied(_("Only the co-issuing organs countersign."))
    if not actor.has_role("leader"):
        raise PermissionDenied(_("A leader of the co-issuing organ countersigns."))
    combined = duties.check(actor, doc, duties.COUNTERSIGN)
    issuer = mine[0]
    if issuer.countersigned_at is not None:
        raise Conflict(_("Your organ has already countersigned."))
    opinion = (opinion or "").strip()
    if not agree and not opinion:
        raise ValidationError(_("Write down your objection: the drafter needs it to revise the draft."))
    duties.record_exception(actor, doc, duties.COUNTERSIGN, combined)
    if not agree:
        doc.return_reason = _("%(unit)s objects: %(opinion)s", unit=issuer.unit.name, opinion=opinion)
        return _move(actor, doc, DocState.DRAFT, "countersign_object", unit=issuer.unit.name, opinion=opinion)
    issuer.countersigned_by_id, issuer.countersigned_name = actor.user_id, actor.name
    issuer.countersigned_at, issuer.countersign_opinion = utcnow(), opinion or adapter.approvals.DEFAULT_OPINION
    issuer.countersign_signature_id = _signature_id(actor)
    done = all(i.countersigned_at is not None for i in doc.issuers if i.position > 0)
    if done:
        return _to_signoff(actor, doc, "countersign", unit=issuer.unit.name, opinion=opinion)
    return _move(actor, doc, DocState.COUNTERSIGN, "countersign", unit=issuer.unit.name, opinion=opinion)


def signoff(actor: Actor, doc_id: int, *, opinion: str = "", approve: bool = True, version=None) -> Document:
    """签发: the leader's decision on the sign-off approval request (office.approvals), taken here for the
    API and the demo; the leader normally decides in his Approvals to-do. The opinion, name, date and
    signature recorded by approvals are what the document shows (see ``signoff.py``)."""
    doc = get_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.SIGNOFF)
    if doc.is_joint and any(i.countersigned_at is None for i in doc.issuers if i.position > 0):
        raise ValidationError(_("A joint document must be countersigned by every co-issuing organ first."))
    if not approve and not opinion.strip():
        raise ValidationError(_("Give the reasons for returning the draft."))
    if doc.signoff_request_id is None:
        # Sent to sign-off before the approval engine was wired in: send it now.
        adapter.start_signoff(actor, doc)
        db.session.flush()
    adapter.decide_signoff(actor, doc, approve=approve, opinion=opinion.strip())  # commits
    db.session.refresh(doc)
    return doc


def recheck(actor: Actor, doc_id: int, version=None) -> Document:
    """复核: a substantive change since sign-off goes back to the signer; otherwise ready for a number."""
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.SIGNED, DocState.CHECKED)
    if doc.state == DocState.CHECKED:
        return doc
    if fingerprint(doc) != doc.signed_fingerprint:
        doc.return_reason = _("Changed substantively after sign-off: signed off again.")
        return _to_signoff(actor, doc, "recheck_changed")
    check_routing(doc)
    return _move(actor, doc, DocState.CHECKED, "recheck")


def seal(actor: Actor, doc_id: int, version=None) -> Document:
    """用印: the numbered document gets the seal and its printing date."""
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    _require(doc, DocState.NUMBERED)
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk of the issuing organ applies the seal."))
    doc.sealed_at = utcnow()
    doc.printing_date = doc.printing_date or local_date(doc.sealed_at)  # the day in the office's time zone
    return _move(actor, doc, DocState.SEALED, "seal")
