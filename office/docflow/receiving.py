"""Receiving (收文): sign for or return as mis-sent (退文), register (收文编号), propose (拟办), leader's
instruction (批办), assignment (承办), closing (办结), circulation for reading (传阅)."""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import defer

from office.actor import Actor
from office.docflow.common import acting_units, acts_for, check_version, commit, get_receipt, log
from office.docflow.models import Document, HandlingStep, Receipt, ReceiptState
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.listing import Rows, rows_with_total, with_total
from office.org.models import Unit
from office.timeutil import utcnow


def _step(actor: Actor, r: Receipt, kind: str, text: str = "", *, target=None) -> HandlingStep:
    step = HandlingStep(receipt_id=r.id, kind=kind, actor_id=actor.user_id, actor_name=actor.name, text=text,
                        target_user_id=target.id if target else None, target_name=target.name if target else "")
    db.session.add(step)
    log(actor, r.document_id, f"receipt_{kind}", text, receipt_id=r.id, unit_name=r.unit.name)
    if r.root_document_id != r.document_id:
        # The original sender's timeline shows what happens to the forwarded copies too.
        log(actor, r.root_document_id, f"receipt_{kind}", text, receipt_id=r.id, unit_name=r.unit.name)
    return step


def _open(actor: Actor, receipt_id: int, version=None, *states: str) -> Receipt:
    r = get_receipt(actor, receipt_id, lock=True)
    check_version(r, version)
    if r.state not in states:
        raise Conflict(_("This step is not possible now: the receipt is %(state)s.", state=r.state))
    return r


def sign_for(actor: Actor, receipt_id: int, version=None) -> Receipt:
    r = _open(actor, receipt_id, version, ReceiptState.DELIVERED)
    if not actor.has_role("clerk", "leader", "staff"):
        raise PermissionDenied(_("The clerk of the receiving unit signs for documents."))
    r.state, r.signed_at = ReceiptState.SIGNED, utcnow()
    r.signed_for_by_id, r.signed_for_by_name = actor.user_id, actor.name
    _step(actor, r, "sign_for")
    commit()
    return r


def return_missent(actor: Actor, receipt_id: int, reason: str, version=None) -> Receipt:
    """退文: a mis-sent document goes back with the reason; the sender sees it in the status tree."""
    r = _open(actor, receipt_id, version, ReceiptState.DELIVERED, ReceiptState.SIGNED)
    if not reason.strip():
        raise ValidationError(_("Give the reason for returning the document."))
    r.state, r.return_reason = ReceiptState.RETURNED, reason.strip()
    _step(actor, r, "return", reason.strip())
    commit()
    return r


def register(actor: Actor, receipt_id: int, version=None) -> Receipt:
    """Register with the next incoming number of the unit and year, e.g. ``西政收〔2026〕3号``."""
    from office.docflow.common import format_number
    from office.docflow.numbering import next_value

    r = _open(actor, receipt_id, version, ReceiptState.SIGNED)
    year = utcnow().year
    prefix = r.unit.short_name + "收"
    r.reg_number = format_number(prefix, year, next_value(r.unit_id, prefix, year))
    r.state, r.registered_at = ReceiptState.REGISTERED, utcnow()
    _step(actor, r, "register", r.reg_number)
    commit()
    return r


def _handling(actor, receipt_id, version):
    return _open(actor, receipt_id, version, ReceiptState.SIGNED, ReceiptState.REGISTERED, ReceiptState.HANDLING)


def propose(actor: Actor, receipt_id: int, text: str, version=None) -> Receipt:
    """拟办: the office proposes how to handle it."""
    r = _handling(actor, receipt_id, version)
    if not text.strip():
        raise ValidationError(_("Write the proposed handling."))
    r.state = ReceiptState.HANDLING
    _step(actor, r, "propose", text.strip())
    commit()
    return r


def request_instruction(actor: Actor, receipt_id: int, text: str = "", version=None) -> Receipt:
    """送批办: the receiving office sends the document to its leader for instruction; the leader
    decides in his Approvals to-do and his opinion becomes the instruction (批办) step."""
    from office.docflow import signoff as adapter

    r = _handling(actor, receipt_id, version)
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk or a leader sends a document for instruction."))
    doc = db.session.get(Document, r.document_id)
    adapter.start_instruction(actor, r, doc)
    r.state = ReceiptState.HANDLING
    _step(actor, r, "instruct_request", text.strip())
    commit()
    return r


def instruct(actor: Actor, receipt_id: int, text: str, version=None) -> Receipt:
    """批办 by the leader, through the approval engine: he approves his instruction task with the
    instruction as opinion (sent to him first when the office has not done so)."""
    from office.docflow import signoff as adapter

    r = _handling(actor, receipt_id, version)
    if not actor.has_role("leader"):
        raise PermissionDenied(_("Only a leader gives instructions (批办)."))
    if not text.strip():
        raise ValidationError(_("Write the instruction."))
    task = adapter.open_task(actor, r.instruction_request_id)
    if task is None:
        doc = db.session.get(Document, r.document_id)
        adapter.start_instruction(actor, r, doc)
        db.session.flush()
        task = adapter.open_task(actor, r.instruction_request_id)
        if task is None:
            raise PermissionDenied(_("The instruction was sent to another leader of your unit."))
    from office.approvals import service as approvals

    approvals.approve(actor, task.id, opinion=text.strip())  # the callback records the step; commits
    db.session.refresh(r)
    return r


def _user_in_unit(user_id: int, u: Unit):
    from office.auth.service import users_with_role

    for role in ("staff", "clerk", "leader"):
        for user, _p in users_with_role(u.id, role):
            if user.id == int(user_id):
                return user
    return None


def assign(actor: Actor, receipt_id: int, user_id: int, text: str = "", version=None) -> Receipt:
    """承办: assign a person of the receiving unit to handle it."""
    from office.notifications.service import notify

    r = _handling(actor, receipt_id, version)
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk or a leader assigns the handling."))
    user = _user_in_unit(user_id, r.unit)
    if user is None:
        raise ValidationError(_("Assign the handling to a person of your unit."))
    r.state, r.assignee_id, r.assignee_name = ReceiptState.HANDLING, user.id, user.name
    _step(actor, r, "assign", text.strip(), target=user)
    doc = db.session.get(Document, r.document_id)
    notify([user.id], "assignment", _("Please handle: %(title)s", title=doc.title),
           url=f"/documents/receipts/{r.id}", unit_id=r.unit_id)
    commit()
    return r


def close(actor: Actor, receipt_id: int, result: str, version=None) -> Receipt:
    """办结: the person handling it (or the clerk/leader) records the result and closes it."""
    r = _handling(actor, receipt_id, version)
    if r.assignee_id not in (None, actor.user_id) and not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("Only the person handling it closes it."))
    if not result.strip():
        raise ValidationError(_("Record the result of the handling."))
    r.state, r.result, r.done_at = ReceiptState.DONE, result.strip(), utcnow()
    _step(actor, r, "close", result.strip())
    commit()
    return r


def circulate(actor: Actor, receipt_id: int, user_ids, version=None) -> int:
    """传阅: circulate for reading; each reader's reading is tracked."""
    from office.notifications.service import notify

    r = _handling(actor, receipt_id, version)
    users = [_user_in_unit(uid, r.unit) for uid in user_ids or []]
    if not users or any(u is None for u in users):
        raise ValidationError(_("Circulate to people of your unit."))
    for u in users:
        _step(actor, r, "circulate", "", target=u)
    doc = db.session.get(Document, r.document_id)
    notify([u.id for u in users], "info", _("For reading: %(title)s", title=doc.title),
           url=f"/documents/receipts/{r.id}", unit_id=r.unit_id)
    commit()
    return len(users)


def mark_read(actor: Actor, receipt_id: int) -> int:
    """The reader has read it (传阅 read tracking)."""
    r = get_receipt(actor, receipt_id, lock=True)
    steps = db.session.execute(select(HandlingStep).where(
        HandlingStep.receipt_id == r.id, HandlingStep.kind == "circulate",
        HandlingStep.target_user_id == actor.user_id, HandlingStep.read_at.is_(None))).scalars().all()
    for s in steps:
        s.read_at = utcnow()
    if steps:
        log(actor, r.document_id, "receipt_read", "", receipt_id=r.id, unit_name=r.unit.name)
        commit()
    return len(steps)


def steps(receipt: Receipt) -> list[HandlingStep]:
    return list(db.session.execute(select(HandlingStep).where(HandlingStep.receipt_id == receipt.id)
                                   .order_by(HandlingStep.id)).scalars())


# --- lists -------------------------------------------------------------------------------------


def _kind(state: str | None) -> str:
    """The kind of state filter of the incoming list: open, one state, or all."""
    return "open" if state == "open" else "one" if state else "all"


@cache
def _where_for(kind: str) -> tuple:
    """The incoming list's conditions, built once per kind of state filter; their values come
    from ``_incoming_params``."""
    where = [Receipt.unit_id.in_(bindparam("units", expanding=True)), Receipt.state != ReceiptState.RECALLED]
    if kind == "open":
        where.append(Receipt.state.in_(ReceiptState.OPEN))
    elif kind == "one":
        where.append(Receipt.state == bindparam("state"))
    return tuple(where)


def _incoming_params(actor: Actor, state: str | None, **more) -> dict:
    return {"units": acting_units(actor), **({"state": state} if _kind(state) == "one" else {}), **more}


_NEWEST_FIRST = (Receipt.delivered_at.desc(), Receipt.id.desc())


def incoming(actor: Actor, *, state: str | None = None, limit: int = 200, offset: int = 0):
    """Receipts of the actor's own unit (a person with two posts sees each unit separately), newest
    first. The documents' bodies and search tokens are not read for a list (they load if asked for)."""
    if actor.unit_id is None:
        return []
    q = select(Receipt, Document).join(Document, Document.id == Receipt.document_id) \
        .options(defer(Document.body), defer(Document.search_tokens)).where(*_where_for(_kind(state)))
    return db.session.execute(q.order_by(*_NEWEST_FIRST).limit(limit).offset(offset),
                              _incoming_params(actor, state)).all()


@cache
def _count_statement(kind: str):
    return select(func.count()).select_from(Receipt).where(*_where_for(kind))


@cache
def _lines_statement(kind: str):
    return with_total(
        select(Receipt.id, Receipt.state, Receipt.delivered_at, Receipt.due_at, Document.doc_number,
               Document.title, Document.urgency).join(Document, Document.id == Receipt.document_id)
        .where(*_where_for(kind)).order_by(*_NEWEST_FIRST)
        .limit(bindparam("limit")).offset(bindparam("offset")), _count_statement(kind))


def incoming_lines(actor: Actor, *, state: str | None = None, limit: int = 200, offset: int = 0) -> Rows:
    """``incoming`` as the list page shows it: per receipt only its id, state, delivery and due
    dates and the document's number, title and urgency (plain rows, no records to build; the
    statement is built once), with ``incoming_count`` read in the same statement (``Rows.total``)."""
    if actor.unit_id is None:
        return Rows((), 0)
    return rows_with_total(db.session.connection().execute(
        _lines_statement(_kind(state)), _incoming_params(actor, state, limit=limit, offset=offset)).all())


def incoming_count(actor: Actor, *, state: str | None = None) -> int:
    """How many receipts ``incoming`` lists in all."""
    if actor.unit_id is None:
        return 0
    return db.session.connection().execute(_count_statement(_kind(state)), _incoming_params(actor, state)).scalar_one()


def open_count(actor: Actor) -> int:
    return incoming_count(actor, state="open")


__all__ = ["acts_for"]
