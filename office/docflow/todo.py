"""The document flow's to-do items in the inbox (待办).

Received documents (one receipt each):
    to sign for or handle: delivered, signed for or registered; for the clerks and leaders of the
    receiving unit (a government's also for those of its general office, which handles them);
    assigned to a person (承办) while being handled: his, under the post of that unit;
    circulated to a person for reading (传阅) and not read yet: his, under that post.
Outgoing documents waiting for the issuing organ's office: review (审核) for its clerks, staff and
leaders but the drafter (separated duties, unless the unit lets one person combine them); re-check,
number, seal and distribution for its clerks; countersigning (会签): the leaders of a co-issuing
organ that has not countersigned yet. Sign-off and the leader's instruction are approval tasks (their
lines are registered here for the approvals' items).

A record's items are recomputed when the record is locked for a change (``common.get_document`` /
``get_receipt``, the sign-off callbacks) and for receipts created or changed in bulk, at the commit
of that transaction.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, and_, case, cast, exists, func, literal, select, true, union_all
from sqlalchemy.orm import aliased

from office.docflow.models import (
    DocState,
    Document,
    DocumentIssuer,
    HandlingStep,
    Receipt,
    ReceiptState,
    UnitDocSettings,
)
from office.inbox import service as inbox
from office.org.models import Unit, UnitKind

RECEIPT, DOCUMENT = "receipt", "document"
MODULE = "docflow"
CLERKS = inbox.role_group("clerk", "leader")
LEADERS = inbox.role_group("leader")
REVIEWERS = inbox.role_group("clerk", "staff", "leader")
CLERK_STEPS = inbox.role_group("clerk")
# Ties (same due date and waiting time) keep the order of the former list: the receipts to sign
# for or handle, assigned, circulated, then outgoing documents.
RANK_RECEIPT, RANK_ASSIGNED, RANK_READ, RANK_OUTGOING = 20, 21, 22, 23
CLERK_STATES = (DocState.SIGNED, DocState.CHECKED, DocState.NUMBERED, DocState.SEALED)
WAITING = (DocState.REVIEW, *CLERK_STATES)
TO_SIGN_OR_HANDLE = (ReceiptState.DELIVERED, ReceiptState.SIGNED, ReceiptState.REGISTERED)


def touch_receipt(*receipt_ids: int) -> None:
    inbox.touch(RECEIPT, *receipt_ids)


def touch_document(*doc_ids: int) -> None:
    inbox.touch(DOCUMENT, *doc_ids)


def touch_distribution(distribution_id: int) -> None:
    """The receipts of a distribution (just created): their items are inserted in bulk at commit."""
    inbox.created(RECEIPT, select(Receipt.id).where(Receipt.distribution_id == distribution_id))


def acting_units():
    """(for_unit, unit_id, path): the units whose people act for ``for_unit`` in the document
    flow (``common.acting_unit_ids`` read the other way): the unit itself, and for a government
    its general office."""
    gov, office = aliased(Unit), aliased(Unit)
    own = select(Unit.id.label("for_unit"), Unit.id.label("unit_id"), Unit.path.label("path"))
    offices = select(gov.id, office.id, office.path).join(
        office, and_(office.division_id == gov.division_id, office.kind == UnitKind.GENERAL_OFFICE)) \
        .where(gov.kind == UnitKind.GOVERNMENT)
    return union_all(own, offices).subquery("acting")


def _receipt_statements(where) -> list:
    acting = acting_units()
    url = literal("/documents/receipts/") + inbox.text_id(Receipt.id)
    common = dict(source_id=Receipt.id, subject=Document.title, url=url, urgency=Document.urgency,
                  urged_at=Receipt.urged_at, since=Receipt.delivered_at, seq=Receipt.id)

    def base(*cols):
        q = select(*cols).select_from(Receipt).join(Document, Document.id == Receipt.document_id) \
            .join(acting, acting.c.for_unit == Receipt.unit_id)
        return q.where(where(Receipt.id)) if where is not None else q

    to_do = base(*inbox.columns(
        **common, item=literal("receipt"), unit_id=acting.c.unit_id, role_group=literal(CLERKS),
        kind=literal("receipt"), due_at=Receipt.due_at, rank=literal(RANK_RECEIPT),
        line=case((Receipt.state == ReceiptState.DELIVERED, "docflow.sign_for"), else_="docflow.handle"))) \
        .where(Receipt.state.in_(TO_SIGN_OR_HANDLE))
    assigned = base(*inbox.columns(
        **common, item=literal("assignment"), user_id=Receipt.assignee_id, unit_id=acting.c.unit_id,
        kind=literal("assignment"), line=literal("docflow.assigned"), due_at=Receipt.due_at,
        rank=literal(RANK_ASSIGNED))) \
        .where(Receipt.state == ReceiptState.HANDLING, Receipt.assignee_id.isnot(None))
    circulated = base(*inbox.columns(
        **common, item=literal("read:") + inbox.text_id(HandlingStep.id), user_id=HandlingStep.target_user_id,
        unit_id=acting.c.unit_id, kind=literal("circulate"), line=literal("docflow.read"),
        rank=literal(RANK_READ))) \
        .join(HandlingStep, HandlingStep.receipt_id == Receipt.id) \
        .where(HandlingStep.kind == "circulate", HandlingStep.target_user_id.isnot(None),
               HandlingStep.read_at.is_(None))
    return [to_do, assigned, circulated]


def _document_statements(where) -> list:
    acting = acting_units()
    url = literal("/documents/") + inbox.text_id(Document.id)

    def waiting(issuer_clause, state_clause, group, except_user=None):
        q = select(*inbox.columns(
            source_id=Document.id, item=literal("outgoing"), unit_id=acting.c.unit_id, role_group=literal(group),
            except_user_id=literal(0) if except_user is None else except_user, kind=literal("outgoing"),
            line=literal("docflow.state.") + Document.state, subject=Document.title,
            url=url, urgency=Document.urgency, since=Document.updated_at, rank=literal(RANK_OUTGOING),
            seq=Document.id)).distinct() \
            .select_from(Document).join(DocumentIssuer, DocumentIssuer.document_id == Document.id) \
            .join(acting, acting.c.for_unit == DocumentIssuer.unit_id) \
            .where(state_clause, issuer_clause, Document.path.startswith(acting.c.path))
        return q.where(where(Document.id)) if where is not None else q

    # Separated duties: the review is not the drafter's, unless the lead organ (or, for a government,
    # its general office) lets one person combine duties.
    deciding = acting_units()
    combined = exists().where(UnitDocSettings.combine_duties.is_(True), UnitDocSettings.unit_id.in_(
        select(deciding.c.unit_id).where(deciding.c.for_unit == Document.lead_unit_id)))
    not_the_drafter = case((combined, 0), else_=func.coalesce(Document.drafter_id, 0))
    return [
        waiting(true(), Document.state == DocState.REVIEW, REVIEWERS, not_the_drafter),
        waiting(true(), Document.state.in_(CLERK_STATES), CLERK_STEPS),
        # 会签: only the co-issuing organs that have not countersigned yet
        waiting(and_(DocumentIssuer.position > 0, DocumentIssuer.countersigned_at.is_(None)),
                Document.state == DocState.COUNTERSIGN, LEADERS),
    ]


inbox.register_source(RECEIPT, module=MODULE, id_column=Receipt.id, statements=_receipt_statements)
inbox.register_source(DOCUMENT, module=MODULE, id_column=Document.id, statements=_document_statements)


def _state_line(state: str):
    def pattern() -> str:
        from office.docflow.words import TODO_LINES

        return str(TODO_LINES[state])
    return pattern


inbox.register_line("docflow.sign_for", lambda: _("Sign for: %(t)s"))
inbox.register_line("docflow.handle", lambda: _("Handle: %(t)s"))
inbox.register_line("docflow.assigned", lambda: _("Handle: %(t)s"))
inbox.register_line("docflow.read", lambda: _("Read: %(t)s"))
for _state in (*WAITING, DocState.COUNTERSIGN):
    inbox.register_line(f"docflow.state.{_state}", _state_line(_state))
inbox.register_line("docflow.signoff", lambda: _("Sign-off: %(title)s"))
inbox.register_line("docflow.instruction", lambda: _("Instruction (批办): %(title)s"))


# --- the lines of the approval subjects (sign-off, instruction) --------------------------------


def signoff_lines(subject_ids):
    q = select(cast(Document.id, String).label("subject_id"), literal("docflow.signoff").label("line"),
               Document.title.label("subject"), literal("").label("detail"), Document.urgency.label("urgency"))
    return q.where(Document.id.in_(subject_ids)) if subject_ids is not None else q


def instruction_lines(subject_ids):
    q = select(cast(Receipt.id, String).label("subject_id"), literal("docflow.instruction").label("line"),
               Document.title.label("subject"), literal("").label("detail"), Document.urgency.label("urgency")) \
        .join(Document, Document.id == Receipt.document_id)
    return q.where(Receipt.id.in_(subject_ids)) if subject_ids is not None else q
