"""Stand-alone requests (请示件): a built-in subject type available to every unit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from office.actor import Actor
from office.approvals import engine
from office.approvals.models import ApprovalRequest, StandaloneRequest
from office.approvals.subjects import register_subject
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow

SUBJECT = "request"


def parse_amount(raw) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        raise ValidationError(_("The amount must be a number.")) from None
    if amount < 0 or amount >= Decimal("1e14") or not amount.is_finite():
        raise ValidationError(_("The amount is out of range."))
    return amount.quantize(Decimal("0.01"))


def submit(actor: Actor, *, title: str, body: str = "", amount=None, flow, commit: bool = True) -> ApprovalRequest:
    """Create a stand-alone request and start its approval with the chosen flow."""
    if actor.user_id is None or actor.unit_id is None:
        raise PermissionDenied(_("Choose the post you act for before submitting."))
    title = (title or "").strip()
    if not title:
        raise ValidationError(_("A title is required."))
    amt = parse_amount(amount)
    item = StandaloneRequest(title=title[:200], body=(body or "")[:20000], amount=amt, unit_id=actor.unit_id,
                             created_by_id=actor.user_id, created_at=utcnow(), status="submitted")
    db.session.add(item)
    db.session.flush()
    fields = {"amount": float(amt) if amt is not None else None, "title": item.title}
    req = engine.start(actor, subject_type=SUBJECT, subject_id=item.id, title=item.title, flow=flow,
                       fields=fields, commit=False)
    if commit:
        db.session.commit()
    return req


def _summary(subject_id: str) -> str:
    item = db.session.get(StandaloneRequest, int(subject_id))
    if item is None:
        return ""
    if item.amount is not None:
        return _("Request: %(title)s (amount %(amount)s)", title=item.title, amount=f"{item.amount:,.2f}")
    return _("Request: %(title)s", title=item.title)


def _status(event: str):
    def cb(req: ApprovalRequest) -> None:
        item = db.session.get(StandaloneRequest, int(req.subject_id))
        if item is not None:
            item.status = event
    return cb


def get_item(subject_id: str) -> StandaloneRequest | None:
    return db.session.execute(select(StandaloneRequest).where(StandaloneRequest.id == int(subject_id))) \
        .scalar_one_or_none()


register_subject(SUBJECT, label=_l("Stand-alone request"), summary=_summary,
                 on_approved=_status("approved"), on_rejected=_status("rejected"),
                 on_returned=_status("returned"), on_withdrawn=_status("withdrawn"))
