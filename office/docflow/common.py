"""Shared helpers of the document flow: loading with scope, visibility, search tokens, labels."""

from __future__ import annotations

import hashlib
import re
from collections import namedtuple
from dataclasses import dataclass
from functools import cache, lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, bindparam, cast, exists, literal_column, null, or_, select, union_all
from sqlalchemy.orm.exc import StaleDataError

from office.actor import Actor
from office.auth.scope import path_in_scope
from office.docflow import todo
from office.docflow.models import (
    Attachment,
    DocEvent,
    Document,
    DocumentRecipient,
    DocumentRevision,
    Receipt,
    ReceiptState,
)
from office.errors import Conflict, NotFound, PermissionDenied
from office.extensions import db
from office.org.models import Unit, UnitKind
from office.org.service import bound_subtree_clause, government_served_by, subtree_clause, subtree_params

STATE_LABELS = {
    "draft": _l("Draft"), "review": _l("In review"), "countersign": _l("Countersigning"),
    "signoff": _l("Awaiting sign-off"), "signed": _l("Signed, awaiting re-check"),
    "checked": _l("Re-checked, awaiting number"), "numbered": _l("Numbered, awaiting seal"),
    "sealed": _l("Sealed, awaiting distribution"), "distributed": _l("Distributed"),
    "archived": _l("Archived"),
}
RECEIPT_LABELS = {
    "delivered": _l("Awaiting sign-for"), "signed": _l("Signed for"), "registered": _l("Registered"),
    "handling": _l("Being handled"), "done": _l("Closed"), "returned": _l("Returned"),
    "recalled": _l("Recalled"),
}

_WORD = re.compile(r"\s+")


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of each whitespace-free run, lower-cased, in order."""
    out: list[str] = []
    for run in _WORD.split((text or "").lower()):
        run = re.sub(r"[^\w]", "", run)
        if len(run) == 1:
            out.append(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def search_tokens_for(doc: Document) -> str:
    names = " ".join(i.unit.name for i in doc.issuers if i.unit is not None)
    text = " ".join([doc.title or "", doc.doc_number or "", names, doc.body or ""])
    seen: dict[str, None] = {}
    for b in bigrams(text):
        seen.setdefault(b, None)
    return " ".join(seen)


def refresh_tokens(doc: Document) -> None:
    doc.search_tokens = search_tokens_for(doc)


def unit(unit_id: int | None) -> Unit:
    u = db.session.get(Unit, unit_id) if unit_id else None
    if u is None:
        raise NotFound(_("Not found."))
    return u


def actor_unit(actor: Actor) -> Unit:
    if actor.unit_id is None:
        raise PermissionDenied(_("You do not act for any unit."))
    return unit(actor.unit_id)


def government_of_unit(u: Unit) -> Unit | None:
    if u.kind == UnitKind.GOVERNMENT:
        return u
    return db.session.execute(select(Unit).where(Unit.division_id == u.division_id,
                                                 Unit.kind == UnitKind.GOVERNMENT)).scalars().first()


def acts_for(actor: Actor, u: Unit) -> bool:
    """The actor works for ``u``: in it, or in the general office of its government."""
    if actor.is_system:
        return True
    if actor.unit_id == u.id:
        return True
    if u.kind == UnitKind.GOVERNMENT:
        mine = db.session.get(Unit, actor.unit_id) if actor.unit_id else None
        return mine is not None and mine.kind == UnitKind.GENERAL_OFFICE and mine.division_id == u.division_id
    return False


@cache
def _government_of_office():
    """The government a general office works for (the same division's), if the unit is one."""
    mine = Unit.__table__.alias("mine")
    return select(government_served_by(mine)).select_from(mine).where(mine.c.id == bindparam("unit"))


def acting_unit_ids(actor: Actor) -> list[int]:
    """The units whose incoming documents the actor handles: his own, and for a general office also
    its government's (the office signs for and handles the government's documents). Read with the
    session's post when the actor came from it, else one statement."""
    if actor.unit_id is None:
        return []
    if actor.acting_unit_ids and actor.acting_unit_ids[0] == actor.unit_id:
        return list(actor.acting_unit_ids)
    gov = db.session.connection().execute(_government_of_office(), {"unit": actor.unit_id}).scalar()
    return [actor.unit_id, gov] if gov else [actor.unit_id]


def acting_units(actor: Actor) -> list[int]:
    """``acting_unit_ids``, read once per request (a list and its count both need it)."""
    from office.web import per_actor

    return per_actor("docflow_units", actor, lambda: acting_unit_ids(actor))


def _scope_of(actor: Actor) -> str:
    return "all" if actor.is_system else "subtree" if actor.unit_path else "none"


@cache
def _visible(scope: str):
    """Documents an actor may see: issued in his subtree, or received (also by forwarding) there.
    Built once per kind of actor (``_scope_of``); the subtree's bounds are bound per
    execution as ``scope_path`` and ``scope_end`` (``_scope_params``)."""
    if scope == "all":
        return Document.id.isnot(None)
    if scope == "none":
        return Document.id.is_(None)
    received = exists().where(
        or_(Receipt.document_id == Document.id, Receipt.root_document_id == Document.id),
        Receipt.state != ReceiptState.RECALLED,
        bound_subtree_clause(Receipt.path, "scope"))
    return or_(bound_subtree_clause(Document.path, "scope"), received)


def _scope_params(actor: Actor) -> dict:
    return subtree_params(actor.unit_path, "scope") if _scope_of(actor) == "subtree" else {}


@lru_cache(maxsize=32)
def _document_statement(scope: str, options: tuple):
    return select(Document).where(Document.id == bindparam("doc"), _visible(scope)).options(*options)


def get_document(actor: Actor, doc_id: int, *, lock: bool = False, options: tuple = ()) -> Document:
    """Load a document the actor may see (404 otherwise); ``options``: loader options (what the
    caller shows of it, loaded with it). The statement is built once per kind of actor and options."""
    doc = db.session.execute(_document_statement(_scope_of(actor), options),
                             {"doc": doc_id, **_scope_params(actor)}).unique().scalar_one_or_none()
    if doc is None:
        raise NotFound(_("Not found."))
    if lock:
        doc = db.session.execute(
            select(Document).where(Document.id == doc_id).with_for_update().execution_options(
                populate_existing=True)).scalar_one()
        todo.touch_document(doc.id)  # inbox: its to-do items are rewritten at commit, under this lock
    return doc


def own_document(actor: Actor, doc_id: int, *, lock: bool = False) -> Document:
    """A document the actor may work on as issuer: 404 outside scope, 403 for another unit's."""
    doc = get_document(actor, doc_id, lock=lock)
    if not path_in_scope(actor, doc.path):
        raise NotFound(_("Not found."))
    if not any(acts_for(actor, i.unit) for i in doc.issuers):
        raise PermissionDenied(_("Only the issuing unit may work on this document."))
    return doc


def get_receipt(actor: Actor, receipt_id: int, *, act: bool = True, lock: bool = False) -> Receipt:
    """A receipt in the actor's subtree (404 otherwise); ``act`` also requires his own unit (403)."""
    q = select(Receipt).where(Receipt.id == receipt_id)
    if not actor.is_system:
        if not actor.unit_path:
            raise NotFound(_("Not found."))
        q = q.where(subtree_clause(Receipt.path, actor.unit_path))
    if lock:
        q = q.with_for_update()
    r = db.session.execute(q).scalar_one_or_none()
    if r is None:
        raise NotFound(_("Not found."))
    if act and not acts_for(actor, r.unit):
        raise PermissionDenied(_("Only the receiving unit may handle this document."))
    if lock:
        todo.touch_receipt(r.id)  # inbox: its to-do items are rewritten at commit, under this lock
    return r


def check_version(obj, version) -> None:
    if version not in (None, "") and int(version) != obj.version:
        raise Conflict(_("This document was changed by someone else. Reload the page and try again."))


def commit() -> None:
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict(_("This record was changed by someone else. Reload the page and try again.")) from exc


def log(actor: Actor, doc_id: int, action: str, detail: str = "", *, receipt_id: int | None = None,
        unit_name: str = "", before=None, after=None) -> None:
    """One event on the document's timeline and in the audit chain, in the caller's transaction."""
    from office.audit import service as audit

    if not unit_name and actor.unit_id:
        u = db.session.get(Unit, actor.unit_id)
        unit_name = u.name if u else ""
    db.session.add(DocEvent(document_id=doc_id, receipt_id=receipt_id, action=action, actor_id=actor.user_id,
                            actor_name=actor.name, unit_name=unit_name, detail=detail[:2000]))
    audit.record(actor, f"docflow.{action}", object_type="receipt" if receipt_id else "document",
                 object_id=receipt_id or doc_id, unit_id=actor.unit_id, before=before,
                 after=dict(after or {}, document=doc_id, detail=detail[:200]) if detail or after else
                 {"document": doc_id})


def format_number(prefix: str, year: int, seq: int) -> str:
    """``浙政发〔2026〕12号``: 〔〕 brackets, full year, no zero padding."""
    return f"{prefix}〔{year}〕{seq}号"


def fingerprint(doc: Document) -> str:
    """What makes a change substantive: text (whitespace ignored), type, issuers, recipients, files."""
    norm = lambda s: re.sub(r"\s+", "", s or "")  # noqa: E731
    parts = [doc.doc_type, norm(doc.title), norm(doc.body),
             ",".join(str(i.unit_id) for i in doc.issuers),
             ",".join(sorted(f"{r.role}:{r.unit_id}" for r in doc.recipients)),
             ",".join(a.sha256 for a in doc.attachments)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# --- what the document page lists -------------------------------------------------------------


ListedAttachment = namedtuple("ListedAttachment", "id name size")  # an attachment as the page lists it


@dataclass(frozen=True, slots=True)
class ShownParts:
    """The lists the document page shows beside the document: its main recipients' and copies'
    unit names (in the order they were chosen), its attachments (``id``, ``name``, ``size``, in
    their order) and its revision numbers (oldest first)."""

    main: list[str]
    cc: list[str]
    attachments: list
    revisions: list[int]


@cache
def _parts_statement():
    r, u, a, v = (DocumentRecipient.__table__, Unit.__table__, Attachment.__table__,
                  DocumentRevision.__table__)
    none = cast(null(), Integer)
    doc = bindparam("doc")
    return union_all(
        select(literal_column("'r'").label("kind"), r.c.role.label("role"), u.c.name.label("name"),
               none.label("size"), r.c.id.label("item_id"), r.c.id.label("ord"))
        .join_from(r, u, u.c.id == r.c.unit_id).where(r.c.document_id == doc),
        select(literal_column("'a'"), literal_column("''"), a.c.name, a.c.size, a.c.id, a.c.position)
        .where(a.c.document_id == doc),
        select(literal_column("'v'"), literal_column("''"), literal_column("''"), none, v.c.number, v.c.number)
        .where(v.c.document_id == doc),
    ).order_by("kind", "ord", "item_id")


def shown_parts(doc_id: int) -> ShownParts:
    """The recipients, attachments and revisions of a document as the document page lists them:
    one statement, plain values (the caller has checked that the actor may see the document)."""
    main, cc, files, revisions = [], [], [], []
    for row in db.session.connection().execute(_parts_statement(), {"doc": doc_id}):
        if row.kind == "r":
            (main if row.role == "main" else cc).append(row.name)
        elif row.kind == "a":
            files.append(ListedAttachment(row.item_id, row.name, row.size))
        else:
            revisions.append(row.item_id)
    return ShownParts(main, cc, files, revisions)


@cache
def _events_statement():
    e = DocEvent.__table__
    return (select(e.c.action, e.c.created_at, e.c.unit_name, e.c.actor_name, e.c.detail)
            .where(e.c.document_id == bindparam("doc")).order_by(e.c.id))


def timeline(doc_id: int) -> list:
    """The document's events, oldest first, as rows (action, created_at, unit_name, actor_name,
    detail)."""
    return db.session.connection().execute(_events_statement(), {"doc": doc_id}).all()
