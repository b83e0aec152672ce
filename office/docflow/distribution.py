"""Distribution (分发): receipts in bulk, the status tree down the levels, urging, recall, forwarding."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import insert, select, update

from office.actor import Actor
from office.auth.scope import path_in_scope
from office.docflow import todo
from office.docflow.common import (
    acts_for,
    check_version,
    commit,
    get_document,
    get_receipt,
    log,
    own_document,
    refresh_tokens,
)
from office.docflow.models import (
    Distribution,
    DocState,
    Document,
    DocumentIssuer,
    DocumentRecipient,
    HandlingStep,
    Receipt,
    ReceiptState,
)
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.jobs.service import enqueue, job
from office.org.models import LEVEL_ORDER, Unit
from office.org.service import subtree_clause
from office.timeutil import utcnow


def _insert_receipts(rows: list[dict]) -> None:
    """One COPY on PostgreSQL (an executemany there is one statement per receipt: 0.6 s for a
    province-wide notice); one executemany elsewhere."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(Receipt), rows)
        return
    cols = list(rows[0])
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {Receipt.__tablename__} ({', '.join(cols)}) FROM STDIN") as cp:
        for r in rows:
            cp.write_row([r[c] for c in cols])


def _receipt_rows(doc: Document, dist: Distribution, recipients, *, root_id: int,
                  parent_receipt_id: int | None) -> list[dict]:
    now = utcnow()
    due = now + timedelta(days=doc.due_days) if doc.due_days else None
    return [dict(distribution_id=dist.id, document_id=doc.id, root_document_id=root_id,
                 parent_receipt_id=parent_receipt_id, unit_id=r.unit_id, path=r.path, level=r.level, role=r.role,
                 state=ReceiptState.DELIVERED, delivered_at=now, due_at=due, signed_for_by_name="",
                 assignee_name="", result="", return_reason="", urge_count=0, version=1)
            for r in recipients]


def _recipients(doc: Document) -> list:
    """(unit_id, path, level, role) of the document's active recipient units: one query of plain
    rows, not thousands of recipient and unit objects for a province-wide notice."""
    return db.session.execute(
        select(DocumentRecipient.unit_id, Unit.path, Unit.level, DocumentRecipient.role)
        .join(Unit, Unit.id == DocumentRecipient.unit_id)
        .where(DocumentRecipient.document_id == doc.id, Unit.active.is_(True))
        .order_by(DocumentRecipient.id)).all()


def _send(actor: Actor, doc: Document) -> Distribution:
    """Create the distribution and one receipt per recipient unit in one bulk INSERT."""
    recipients = _recipients(doc)
    if not recipients:
        raise ValidationError(_("The document has no recipients."))
    root_id = doc.forwards_document_id or doc.id
    dist = Distribution(document_id=doc.id, root_document_id=root_id, sender_unit_id=doc.lead_unit_id,
                        parent_receipt_id=doc.forwards_receipt_id, created_by_id=actor.user_id,
                        created_by_name=actor.name, recipient_count=len(recipients))
    db.session.add(dist)
    db.session.flush()
    rows = _receipt_rows(doc, dist, recipients, root_id=root_id, parent_receipt_id=doc.forwards_receipt_id)
    _insert_receipts(rows)
    todo.touch_distribution(dist.id)  # inbox: the receipts to sign for
    doc.state = DocState.DISTRIBUTED
    doc.distributed_at = utcnow()
    enqueue("docflow.notify_units", unit_ids=sorted({r.unit_id for r in recipients}), kind="info",
            title=_("New document to sign for: %(title)s", title=doc.title)[:200],
            url="/documents/incoming")
    return dist


def distribute(actor: Actor, doc_id: int, version=None) -> Distribution:
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    if doc.state == DocState.DISTRIBUTED:
        raise Conflict(_("This document has already been distributed."))
    if doc.state != DocState.SEALED:
        raise Conflict(_("A document is distributed after numbering and sealing."))
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk of the issuing organ distributes documents."))
    dist = _send(actor, doc)
    log(actor, doc.id, "distribute", _("%(n)s recipients", n=dist.recipient_count),
        after={"recipients": dist.recipient_count})
    commit()
    return dist


@job("docflow.notify_units")
def _notify_units(unit_ids: list[int], kind: str, title: str, url: str = "") -> None:
    from office.auth.service import user_ids_with_role
    from office.notifications.service import notify_units

    notify_units(user_ids_with_role(unit_ids, "clerk"), kind, title, url=url)
    db.session.commit()


# --- the status tree ---------------------------------------------------------------------------


def _tree_where(actor: Actor, doc: Document) -> list:
    """The receipts of the document's tree the actor sees: all of them for its issuer, else those
    in his subtree."""
    where = [Receipt.root_document_id == doc.id]
    if not any(acts_for(actor, i.unit) for i in doc.issuers) and not actor.is_system:
        where.append(subtree_clause(Receipt.path, actor.unit_path))
    return where


def _tree_receipts(actor: Actor, doc: Document) -> list[Receipt]:
    return list(db.session.execute(select(Receipt).where(*_tree_where(actor, doc))
                                   .order_by(Receipt.path, Receipt.id)).scalars())


def _tree_rows(actor: Actor, doc: Document):
    """``_tree_receipts`` as plain rows with each receipt's unit name: what the tree shows, one
    statement, no records built (a province-wide notice has thousands of receipts)."""
    return db.session.execute(
        select(Receipt.id, Receipt.document_id, Receipt.parent_receipt_id, Receipt.unit_id, Receipt.level,
               Receipt.role, Receipt.state, Receipt.signed_for_by_name, Receipt.signed_at, Receipt.done_at,
               Receipt.due_at, Unit.name.label("unit_name"))
        .join(Unit, Unit.id == Receipt.unit_id).where(*_tree_where(actor, doc))
        .order_by(Receipt.path, Receipt.id)).all()


def _counts(rs) -> dict:
    now = utcnow()
    live = [r for r in rs if r.state != ReceiptState.RECALLED]
    return {
        "total": len(live),
        "signed": sum(1 for r in live if r.state in ReceiptState.SIGNED_FOR),
        "handled": sum(1 for r in live if r.state == ReceiptState.DONE),
        "overdue": sum(1 for r in live if r.state in ReceiptState.OPEN and r.due_at and r.due_at < now),
        "returned": sum(1 for r in live if r.state == ReceiptState.RETURNED),
        "waiting": sum(1 for r in live if r.state == ReceiptState.DELIVERED),
    }


def status_tree(actor: Actor, doc_id: int, doc: Document | None = None) -> dict:
    """The receipts of a document and of every forward of it, as a tree with counts per node and level.
    ``doc``: the document as ``get_document(actor, doc_id)`` gave it already (not read again)."""
    doc = doc if doc is not None else get_document(actor, doc_id)
    receipts = _tree_rows(actor, doc)
    now = utcnow()
    by_parent: dict[int | None, list[Receipt]] = {}
    ids = {r.id for r in receipts}
    for r in receipts:
        parent = r.parent_receipt_id if r.parent_receipt_id in ids else None
        by_parent.setdefault(parent, []).append(r)

    def node(r: Receipt) -> dict:
        kids = [node(c) for c in by_parent.get(r.id, [])]
        own = _counts([r])
        counts = {k: own[k] + sum(c["counts"][k] for c in kids) for k in own}
        return {"receipt_id": r.id, "unit_id": r.unit_id, "unit": r.unit_name, "level": r.level,
                "role": r.role, "state": r.state, "signed_for_by": r.signed_for_by_name,
                "signed_at": r.signed_at.isoformat() if r.signed_at else None,
                "done_at": r.done_at.isoformat() if r.done_at else None,
                "due_at": r.due_at.isoformat() if r.due_at else None,
                "overdue": bool(r.state in ReceiptState.OPEN and r.due_at and r.due_at < now),
                "document_id": r.document_id, "children": kids, "counts": counts}

    roots = [node(r) for r in by_parent.get(None, [])]
    levels = {}
    for lv in LEVEL_ORDER:
        rs = [r for r in receipts if r.level == lv.value]
        if rs:
            levels[lv.value] = _counts(rs)
    return {"document_id": doc.id, "title": doc.title, "number": doc.doc_number, "counts": _counts(receipts),
            "levels": levels, "nodes": roots}


def urge(actor: Actor, doc_id: int, *, message: str = "") -> int:
    """Urge every recipient that has not closed it yet. Urging is the sender's duty: the clerks and
    leaders of the issuing unit urge the whole tree, those of a unit that forwarded the document
    the receipts it forwarded; anybody else who can see the document gets 403."""
    doc = get_document(actor, doc_id)
    receipts = _tree_receipts(actor, doc)
    if not any(acts_for(actor, i.unit) for i in doc.issuers):
        # A forwarding unit urges the receipts it forwarded, not the original sender's.
        mine = {r.id for r in receipts if acts_for(actor, r.unit)}
        receipts = [r for r in receipts if r.parent_receipt_id in mine]
        if not receipts and not actor.is_system:
            raise PermissionDenied(_("Only the issuing unit, or a unit that forwarded the document, urges its "
                                     "recipients."))
    if not actor.is_system and not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk or a leader urges the recipients."))
    stragglers = [r for r in receipts if r.state in ReceiptState.OPEN]
    if not stragglers:
        return 0
    now = utcnow()
    ids = [r.id for r in stragglers]
    db.session.execute(update(Receipt).where(Receipt.id.in_(ids))
                       .values(urged_at=now, urge_count=Receipt.urge_count + 1, version=Receipt.version + 1)
                       .execution_options(synchronize_session=False))
    todo.touch_receipt(*ids)  # inbox: the items show when they were urged
    title = _("Reminder: please handle %(title)s", title=doc.title)
    enqueue("docflow.notify_units", unit_ids=sorted({r.unit_id for r in stragglers}), kind="urge",
            title=title[:200], url="/documents/incoming")
    log(actor, doc.id, "urge", message or _("%(n)s recipients urged", n=len(ids)), after={"count": len(ids)})
    commit()
    return len(ids)


def recall(actor: Actor, doc_id: int, *, reason: str, receipt_ids=None) -> int:
    """Recall the document from recipients who have not signed for it yet (all, or the given ones)."""
    doc = own_document(actor, doc_id)
    if not reason.strip():
        raise ValidationError(_("Give the reason for the recall."))
    q = select(Receipt.id).where(Receipt.document_id == doc.id, Receipt.state == ReceiptState.DELIVERED)
    if receipt_ids:
        q = q.where(Receipt.id.in_([int(i) for i in receipt_ids]))
    ids = list(db.session.execute(q).scalars())
    if not ids:
        raise Conflict(_("Every recipient has already signed for it; nothing to recall."))
    n = db.session.execute(update(Receipt).where(Receipt.id.in_(ids), Receipt.state == ReceiptState.DELIVERED)
                           .values(state=ReceiptState.RECALLED, return_reason=reason.strip(),
                                   version=Receipt.version + 1)
                           .execution_options(synchronize_session=False)).rowcount
    todo.touch_receipt(*ids)  # inbox: recalled receipts leave the to-do lists
    log(actor, doc.id, "recall", f"{n}: {reason.strip()}", after={"count": n})
    commit()
    return n


# --- forwarding (转发) -------------------------------------------------------------------------


def forward(actor: Actor, receipt_id: int, *, main, cc=(), cover_text: str = "", title: str = "",
            due_days: int | None = None) -> Document:
    """A receiving unit forwards the document to its own lower units with a cover notice.

    The cover notice is numbered under the forwarding unit's prefix and distributed at once; its
    receipts link to the forwarded receipt and to the original document, so the original sender's
    status tree reaches the lower levels.
    """
    from office.docflow.drafting import derive_direction, resolve_recipients
    from office.docflow.numbering import assign_number

    receipt = get_receipt(actor, receipt_id, lock=True)
    if receipt.state not in (ReceiptState.SIGNED, ReceiptState.REGISTERED, ReceiptState.HANDLING,
                             ReceiptState.DONE):
        raise Conflict(_("Sign for the document before forwarding it."))
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk or a leader forwards documents."))
    fwd_unit = receipt.unit
    original = db.session.get(Document, receipt.root_document_id)
    recipients = resolve_recipients(main, fwd_unit)
    if not recipients:
        raise ValidationError(_("Choose the lower units to forward to."))
    for u, _g in recipients + resolve_recipients(cc, fwd_unit):
        if not (u.path.startswith(fwd_unit.path) and u.path != fwd_unit.path):
            raise ValidationError(_("A document is forwarded to your own lower units only (%(name)s is not "
                                    "one of them).", name=u.name))
    cover_title = title or _("Notice on forwarding “%(title)s”", title=original.title)
    body = cover_text or _("%(units)s: “%(title)s” (%(number)s) is forwarded to you; please implement it "
                           "conscientiously.", units=_("All units"), title=original.title,
                           number=original.doc_number or "")
    doc = Document(doc_type="通知", title=cover_title[:300], body=body, lead_unit_id=fwd_unit.id,
                   lead_unit=fwd_unit, path=fwd_unit.path, drafter_id=actor.user_id, drafter_name=actor.name,
                   urgency=original.urgency, sensitivity=original.sensitivity, state=DocState.SEALED,
                   printing_organ=fwd_unit.name, due_days=due_days if due_days is not None else original.due_days,
                   forwards_receipt_id=receipt.id, forwards_document_id=original.id,
                   number_prefix=fwd_unit.short_name + "发", signer_name=actor.name,
                   signed_by_id=actor.user_id, signed_at=utcnow(), sealed_at=utcnow())
    doc.issuers = [DocumentIssuer(unit_id=fwd_unit.id, unit=fwd_unit, position=0)]
    cc_units = [(u, g) for u, g in resolve_recipients(cc, fwd_unit) if u.id not in {m.id for m, _x in recipients}]
    doc.recipients = [DocumentRecipient(unit_id=u.id, unit=u, role="main", group_key=g) for u, g in recipients] + \
                     [DocumentRecipient(unit_id=u.id, unit=u, role="cc", group_key=g) for u, g in cc_units]
    doc.direction = derive_direction(doc)
    db.session.add(doc)
    db.session.flush()
    assign_number(doc, fwd_unit.id, doc.number_prefix, utcnow().year)
    refresh_tokens(doc)
    dist = _send(actor, doc)
    db.session.add(HandlingStep(receipt_id=receipt.id, kind="forward", actor_id=actor.user_id,
                                actor_name=actor.name, text=f"{doc.doc_number} → {dist.recipient_count}"))
    if receipt.state in (ReceiptState.SIGNED, ReceiptState.REGISTERED):
        receipt.state = ReceiptState.HANDLING
    log(actor, doc.id, "forward_send", original.title, after={"recipients": dist.recipient_count})
    log(actor, original.id, "forward", f"{fwd_unit.name}: {doc.doc_number} → {dist.recipient_count}",
        receipt_id=receipt.id)
    commit()
    return doc


def distributions_of(doc: Document) -> list[Distribution]:
    return list(db.session.execute(select(Distribution).where(Distribution.document_id == doc.id)
                                   .order_by(Distribution.id)).scalars())


def receipts_in_scope(actor: Actor, doc: Document) -> list[Receipt]:
    return [r for r in _tree_receipts(actor, doc) if path_in_scope(actor, r.path)]
