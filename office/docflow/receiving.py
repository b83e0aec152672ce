"""Receiving (收文): sign for or return as mis-sent (退文), register (收文编号), propose (拟办), leader's
instruction (批办), assignment (承办), closing (办结), circulation for reading (传阅)."""

from __future__ import annotations

from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, func, or_, select
from sqlalchemy.orm import defer

from office.actor import Actor
from office.docflow.common import acting_unit_ids, acts_for, check_version, commit, get_receipt, log
from office.docflow.models import Document, HandlingStep, Receipt, ReceiptState
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.org.models import Unit
from office.org.service import subtree_end
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
    r = get_receipt(actor, receipt_id)
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


def _incoming_where(actor: Actor, state: str | None) -> list:
    where = [Receipt.unit_id.in_(acting_unit_ids(actor)), Receipt.state != ReceiptState.RECALLED]
    if state == "open":
        where.append(Receipt.state.in_(ReceiptState.OPEN))
    elif state:
        where.append(Receipt.state == state)
    return where


def incoming(actor: Actor, *, state: str | None = None, limit: int = 200, offset: int = 0):
    """Receipts of the actor's own unit (a person with two posts sees each unit separately), newest
    first. The documents' bodies and search tokens are not read for a list (they load if asked for)."""
    if actor.unit_id is None:
        return []
    q = select(Receipt, Document).join(Document, Document.id == Receipt.document_id) \
        .options(defer(Document.body), defer(Document.search_tokens)).where(*_incoming_where(actor, state))
    return db.session.execute(q.order_by(Receipt.delivered_at.desc(), Receipt.id.desc())
                              .limit(limit).offset(offset)).all()


def incoming_count(actor: Actor, *, state: str | None = None) -> int:
    """How many receipts ``incoming`` lists in all."""
    if actor.unit_id is None:
        return 0
    return db.session.execute(select(func.count()).select_from(Receipt)
                              .where(*_incoming_where(actor, state))).scalar_one()


def open_count(actor: Actor) -> int:
    return incoming_count(actor, state="open")


# The columns a to-do line needs, not whole receipts: the list may hold hundreds of them.
_LINE_COLUMNS = (Receipt.id, Receipt.state, Receipt.delivered_at, Receipt.due_at, Document.title)
_TO_SIGN_OR_HANDLE = [ReceiptState.DELIVERED, ReceiptState.SIGNED, ReceiptState.REGISTERED]


# The statements of the to-do list are built once per shape (building one costs more than running
# it); the actor's values are bound per call (``_params``).
_UNITS = bindparam("units", expanding=True)


def _params(actor: Actor, units: list[int]) -> dict:
    path = actor.unit_path or "/"
    return {"units": units, "user": actor.user_id, "path": path, "path_end": subtree_end(path)}


@cache
def _receipt_todo_queries(clerk: bool) -> dict:
    """The three kinds of receipt to-do, each a query in to-do order (soonest due first): receipts
    to sign for or handle (clerks and leaders), assigned to me, circulated to me and unread."""
    queries = {}
    if clerk:
        queries["receipt"] = select(*_LINE_COLUMNS).join(Document, Document.id == Receipt.document_id) \
            .where(Receipt.unit_id.in_(_UNITS), Receipt.state.in_(_TO_SIGN_OR_HANDLE)) \
            .order_by(Receipt.due_at.asc().nulls_last(), Receipt.id)
    queries["assignment"] = select(*_LINE_COLUMNS).join(Document, Document.id == Receipt.document_id) \
        .where(Receipt.unit_id.in_(_UNITS), Receipt.assignee_id == bindparam("user"),
               Receipt.state == ReceiptState.HANDLING) \
        .order_by(Receipt.due_at.asc().nulls_last(), Receipt.delivered_at, Receipt.id)
    queries["circulate"] = select(*_LINE_COLUMNS).join(HandlingStep, HandlingStep.receipt_id == Receipt.id) \
        .join(Document, Document.id == Receipt.document_id) \
        .where(Receipt.unit_id.in_(_UNITS), HandlingStep.kind == "circulate",
               HandlingStep.target_user_id == bindparam("user"), HandlingStep.read_at.is_(None)) \
        .order_by(Receipt.delivered_at, Receipt.id)
    return queries


def _is_clerk(actor: Actor) -> bool:
    return actor.has_role("clerk", "leader")


def todo(actor: Actor, limit: int, units: list[int] | None = None) -> list:
    """To-do entries: receipts to sign for (clerks), assigned to me, circulated to me unread; the
    first ``limit`` of each kind. ``units``: the actor's ``acting_unit_ids`` when the caller has them."""
    from office.web import TodoItem

    if actor.unit_id is None:
        return []
    params = _params(actor, acting_unit_ids(actor) if units is None else units)
    # Line patterns translated once, not per row; "%" fills them as gettext would.
    sign_for_line, handle_line = _("Sign for") + ": %(t)s", _("Handle") + ": %(t)s"
    assigned_line, read_line = _("Handle: %(t)s"), _("Read: %(t)s")
    items = []
    for kind, query in _receipt_todo_queries(_is_clerk(actor)).items():
        for r in db.session.execute(query.limit(limit), params):
            if kind == "circulate":
                line, due = read_line, None
            elif kind == "assignment":
                line, due = assigned_line, r.due_at
            else:
                line, due = sign_for_line if r.state == ReceiptState.DELIVERED else handle_line, r.due_at
            items.append(TodoItem(module="docflow", title=line % {"t": r.title}, url=f"/documents/receipts/{r.id}",
                                  created_at=r.delivered_at, due_at=due, kind=kind))
    return items


def _outgoing_states(actor: Actor) -> tuple:
    """The states of outgoing documents where this actor's office acts (review, countersign,
    sign-off, number...); empty when he acts on none."""
    from office.docflow.models import DocState

    states = []
    if actor.has_role("clerk", "staff", "leader"):
        states += [DocState.REVIEW]
    if actor.has_role("clerk"):
        states += [DocState.SIGNED, DocState.CHECKED, DocState.NUMBERED, DocState.SEALED]
    if actor.has_role("leader"):
        states += [DocState.COUNTERSIGN]  # sign-off is in the Approvals to-do
    return tuple(states) if actor.unit_id is not None else ()


@cache
def _outgoing_query(states: tuple):
    """Outgoing documents in ``states`` of the units (the actor's own, and for a general office its
    government's) under the actor's path, oldest change first."""
    from office.docflow.models import DocState, DocumentIssuer, UnitDocSettings

    # Separated duties: a draft in review waits for the reviewers, not for its drafter (unless his
    # unit lets one person combine duties).
    combined = exists().where(UnitDocSettings.unit_id.in_(_UNITS), UnitDocSettings.combine_duties.is_(True))
    not_own_review = or_(Document.state != DocState.REVIEW, Document.drafter_id.is_(None),
                         Document.drafter_id != bindparam("user"), combined)
    return select(Document).options(defer(Document.body), defer(Document.search_tokens)) \
        .join(DocumentIssuer, DocumentIssuer.document_id == Document.id) \
        .where(DocumentIssuer.unit_id.in_(_UNITS), Document.state.in_(states),
               Document.path >= bindparam("path"), Document.path < bindparam("path_end"), not_own_review) \
        .order_by(Document.updated_at, Document.id)


def _waits_for(actor: Actor, d: Document) -> bool:
    """A countersigning document waits for this actor only if one of his units has yet to countersign."""
    from office.docflow.models import DocState

    return d.state != DocState.COUNTERSIGN or any(
        i.position > 0 and i.countersigned_at is None and acts_for(actor, i.unit) for i in d.issuers)


def outgoing_todo(actor: Actor, limit: int, units: list[int] | None = None) -> list:
    """Outgoing documents waiting for this actor's step, the first ``limit`` of them."""
    from office.docflow.words import TODO_LINES
    from office.web import TodoItem

    states = _outgoing_states(actor)
    if not states:
        return []
    params = _params(actor, acting_unit_ids(actor) if units is None else units)
    rows = db.session.execute(_outgoing_query(states).limit(limit), params).scalars().unique().all()
    lines = {state: str(line) for state, line in TODO_LINES.items()}  # translated once, not per row
    return [TodoItem(module="docflow", title=lines[d.state] % {"t": d.title},
                     url=f"/documents/{d.id}", created_at=d.updated_at, kind="outgoing")
            for d in rows if _waits_for(actor, d)]


def _todo_units(actor: Actor) -> list[int]:
    from office.web import per_actor

    return per_actor("docflow_units", actor, lambda: acting_unit_ids(actor))


def all_todo(actor: Actor, limit: int) -> list:
    """The document flow's part of the unified to-do list: incoming and outgoing."""
    units = _todo_units(actor)
    return todo(actor, limit, units) + outgoing_todo(actor, limit, units)


@cache
def _count_statement(clerk: bool, states: tuple):
    """The counts of ``all_todo``'s kinds in one statement (countersigning documents aside)."""
    from office.docflow.models import DocState

    counts = [select(func.count()).select_from(q.order_by(None).subquery()).scalar_subquery()
              for q in _receipt_todo_queries(clerk).values()]
    if states:
        ids = _outgoing_query(states).order_by(None).where(Document.state != DocState.COUNTERSIGN) \
            .with_only_columns(Document.id).subquery()
        counts.append(select(func.count(func.distinct(ids.c.id))).scalar_subquery())
    return select(*counts)


def all_todo_count(actor: Actor) -> int:
    """How many items ``all_todo`` holds in all, counted by the database in one statement
    (countersigning documents, few, are checked one by one)."""
    from office.docflow.models import DocState

    if actor.unit_id is None:
        return 0
    params = _params(actor, _todo_units(actor))
    states = _outgoing_states(actor)
    n = sum(db.session.execute(_count_statement(_is_clerk(actor), states), params).one())
    if DocState.COUNTERSIGN in states:
        n += sum(_waits_for(actor, d) for d in db.session.execute(
            _outgoing_query(states).where(Document.state == DocState.COUNTERSIGN), params).scalars().unique())
    return n


__all__ = ["acts_for"]
