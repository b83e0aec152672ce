"""Stand-alone requests (请示件): a built-in subject type available to every unit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, bindparam, case, cast, func, literal, select

from office import storage
from office.actor import Actor
from office.approvals import engine, queries, transitions
from office.approvals.models import ApprovalRequest, RequestState, StandaloneAttachment, StandaloneRequest
from office.approvals.subjects import register_subject
from office.audit import service as audit
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import among_bound, db, dialect_name
from office.timeutil import utcnow

SUBJECT = "request"
STORAGE_AREA = "approvals"
MAX_FILES = 20


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


def max_attachment_bytes() -> int:
    return int(current_app.config.get("APPROVALS_MAX_ATTACHMENT_MB", 20)) * 1024 * 1024


def _checked_files(files) -> list[tuple[str, bytes, str]]:
    """(name, data, type) of each upload, all checked before anything is stored."""
    out = []
    for name, data in files or ():
        try:
            kind = storage.check_upload(data, max_attachment_bytes())
        except ValidationError as exc:
            raise ValidationError(f"{storage.safe_name(name, 'x')[:-2]}: {exc.message}") from None
        out.append((name, data, kind))
    return out


def _attach(actor: Actor, item: StandaloneRequest, checked) -> list[StandaloneAttachment]:
    count = db.session.execute(select(func.count()).select_from(StandaloneAttachment)
                               .where(StandaloneAttachment.standalone_id == item.id)).scalar() or 0
    if count + len(checked) > MAX_FILES:
        raise ValidationError(_("At most %(n)s attachments per request.", n=MAX_FILES))
    pos = (db.session.execute(select(func.max(StandaloneAttachment.position))
                              .where(StandaloneAttachment.standalone_id == item.id)).scalar() or 0)
    rows = []
    for name, data, kind in checked:
        pos += 1
        digest = storage.store_blob(STORAGE_AREA, data)
        att = StandaloneAttachment(standalone_id=item.id, position=pos, name=storage.safe_name(name, kind),
                                   sha256=digest, size=len(data), file_type=kind, created_by_id=actor.user_id,
                                   created_at=utcnow())
        db.session.add(att)
        rows.append(att)
    db.session.flush()
    for att in rows:
        audit.record(actor, "approvals.attach", object_type="approval_standalone", object_id=item.id,
                     after={"attachment": att.id, "name": att.name, "sha256": att.sha256, "size": att.size},
                     unit_id=item.unit_id)
    return rows


def submit(actor: Actor, *, title: str, body: str = "", amount=None, flow, attachments=None,
           commit: bool = True) -> ApprovalRequest:
    """Create a stand-alone request and start its approval with the chosen flow.
    ``attachments``: (file name, bytes) pairs, checked by content and size before anything is stored."""
    if actor.user_id is None or actor.unit_id is None:
        raise PermissionDenied(_("Choose the post you act for before submitting."))
    title = (title or "").strip()
    if not title:
        raise ValidationError(_("A title is required."))
    amt = parse_amount(amount)
    checked = _checked_files(attachments)
    item = StandaloneRequest(title=title[:200], body=(body or "")[:20000], amount=amt, unit_id=actor.unit_id,
                             created_by_id=actor.user_id, created_at=utcnow(), status="submitted")
    db.session.add(item)
    db.session.flush()
    if checked:
        _attach(actor, item, checked)
    fields = {"amount": float(amt) if amt is not None else None, "title": item.title}
    req = engine.start(actor, subject_type=SUBJECT, subject_id=item.id, title=item.title, flow=flow,
                       fields=fields, commit=False)
    if commit:
        db.session.commit()
    return req


def _lines(items) -> dict[str, str]:
    """Summary lines by id; the two patterns are translated once (``%`` fills them as gettext would)."""
    with_amount, plain = _("Request: %(title)s (amount %(amount)s)"), _("Request: %(title)s")
    return {str(item.id): with_amount % {"title": item.title, "amount": f"{item.amount:,.2f}"}
            if item.amount is not None else plain % {"title": item.title} for item in items}


def _summary(subject_id: str) -> str:
    item = db.session.get(StandaloneRequest, int(subject_id))
    return _lines([item])[str(item.id)] if item is not None else ""


@cache
def _summaries_statement(dialect: str):
    return select(StandaloneRequest.id, StandaloneRequest.title, StandaloneRequest.amount) \
        .where(among_bound(StandaloneRequest.id, "ids", Integer, dialect))


def _summaries(subject_ids: list[str]) -> dict[str, str]:
    return _lines(db.session.connection().execute(_summaries_statement(dialect_name()),
                                                  {"ids": [int(i) for i in subject_ids]}))


def _todo_lines(subject_ids):
    """The inbox's lines of stand-alone requests (the same as ``_lines``; the amount formatted when shown)."""
    q = select(cast(StandaloneRequest.id, String).label("subject_id"),
               case((StandaloneRequest.amount.is_(None), "approvals.request"),
                    else_="approvals.request_amount").label("line"),
               StandaloneRequest.title.label("subject"),
               func.coalesce(cast(StandaloneRequest.amount, String), "").label("detail"),
               literal("").label("urgency"))
    if subject_ids is not None:
        q = q.where(StandaloneRequest.id.in_(subject_ids))
    return q


def _status(event: str):
    def cb(req: ApprovalRequest) -> None:
        item = db.session.get(StandaloneRequest, int(req.subject_id))
        if item is not None:
            item.status = event
    return cb


def get_item(subject_id: str) -> StandaloneRequest | None:
    return db.session.execute(select(StandaloneRequest).where(StandaloneRequest.id == int(subject_id))) \
        .scalar_one_or_none()


@cache
def _item_statement():
    return select(StandaloneRequest, StandaloneAttachment) \
        .outerjoin(StandaloneAttachment, StandaloneAttachment.standalone_id == StandaloneRequest.id) \
        .where(StandaloneRequest.id == bindparam("item")) \
        .order_by(StandaloneAttachment.position, StandaloneAttachment.id)


def item_and_attachments(req: ApprovalRequest) -> tuple[StandaloneRequest | None, list[StandaloneAttachment]]:
    """The stand-alone request behind ``req`` (None when another module's record is its subject)
    and its files in order, read in one statement."""
    if req.subject_type != SUBJECT:
        return None, []
    rows = db.session.execute(_item_statement(), {"item": int(req.subject_id)}).all()
    if not rows:
        return None, []
    return rows[0][0], [att for _item, att in rows if att is not None]


def _own_returned(actor: Actor, request_id: int, version) -> tuple[ApprovalRequest, StandaloneRequest]:
    """The requester's own stand-alone request, locked, while it is back with him (returned)."""
    queries.get_request(actor, request_id)  # 404 for those who may not see it
    req = engine.lock_request(request_id)
    if req.subject_type != SUBJECT or req.requester_id != actor.user_id:
        raise PermissionDenied(_("Only the requester may change the attachments."))
    transitions._check_version(req, version)
    if req.state != RequestState.RETURNED:
        raise ValidationError(_("Attachments can only be changed while the request is back with you."))
    return req, get_item(req.subject_id)


def add_attachments(actor: Actor, request_id: int, files, *, version=None, commit: bool = True):
    """Add files to a returned request (before it is submitted again)."""
    queries.get_request(actor, request_id)  # out of scope is 404 before anything else is said
    checked = _checked_files(files)
    if not checked:
        raise ValidationError(_("Choose a file."))
    req, item = _own_returned(actor, request_id, version)
    rows = _attach(actor, item, checked)
    transitions._bump(req)
    if commit:
        db.session.commit()
    return rows


def remove_attachment(actor: Actor, request_id: int, attachment_id: int, *, version=None,
                      commit: bool = True) -> None:
    req, item = _own_returned(actor, request_id, version)
    att = db.session.get(StandaloneAttachment, attachment_id)
    if att is None or att.standalone_id != item.id:
        raise NotFound(_("Not found."))
    db.session.delete(att)
    audit.record(actor, "approvals.detach", object_type="approval_standalone", object_id=item.id,
                 before={"attachment": att.id, "name": att.name, "sha256": att.sha256}, unit_id=item.unit_id)
    transitions._bump(req)
    if commit:
        db.session.commit()


def open_attachment(actor: Actor, request_id: int, attachment_id: int) -> tuple[StandaloneAttachment, bytes]:
    """An attachment of a request the actor may see (NotFound otherwise), verified against its hash."""
    req = queries.get_request(actor, request_id)
    att = db.session.get(StandaloneAttachment, attachment_id)
    if req.subject_type != SUBJECT or att is None or att.standalone_id != int(req.subject_id):
        raise NotFound(_("Not found."))
    data = storage.read_blob(STORAGE_AREA, att.sha256)
    audit.record_download(actor, "approval_attachment", att.id, att.name, unit_id=req.unit_id)
    return att, data


register_subject(SUBJECT, label=_l("Stand-alone request"), summary=_summary, summaries=_summaries,
                 todo_lines=_todo_lines,
                 on_approved=_status("approved"), on_rejected=_status("rejected"),
                 on_returned=_status("returned"), on_withdrawn=_status("withdrawn"))
