"""Search by title, body, number, issuer, type, year and state.

Two-character Chinese words: the document's ``search_tokens`` column holds its overlapping character
bigrams; on PostgreSQL a GIN index over ``to_tsvector('simple', search_tokens)`` finds the candidates
(every bigram of the query), then the text itself is checked; SQLite falls back to ``LIKE``.
Results go through the same visibility rule as the document page, written for many candidates:
the documents received in the actor's subtree are one set (hashed once) rather than a receipt
lookup per candidate document.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, exists, false, func, literal_column, or_, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by

from office.actor import Actor
from office.docflow.common import acting_units, bigrams
from office.docflow.models import Document, DocumentIssuer, Receipt, ReceiptState
from office.extensions import db, dialect_name
from office.listing import Rows, rows_with_total, with_total
from office.org.models import Unit
from office.org.service import subtree_clause


def visible_set_clause(actor: Actor):
    """The rule of ``common.get_document`` (issued in the actor's subtree, or received there, also
    by forwarding), with the received documents as one set: for a search, where thousands of
    candidates would each look up their receipts."""
    if actor.is_system:
        return true()
    if not actor.unit_path:
        return false()
    mine = (Receipt.state != ReceiptState.RECALLED, subtree_clause(Receipt.path, actor.unit_path))
    received = select(Receipt.document_id).where(*mine).union_all(select(Receipt.root_document_id).where(*mine))
    return or_(subtree_clause(Document.path, actor.unit_path), Document.id.in_(received))


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_clause(q: str):
    like = _like(q)
    issuer = exists().where(DocumentIssuer.document_id == Document.id, DocumentIssuer.unit_id == Unit.id,
                            Unit.name.like(like, escape="\\"))
    return or_(Document.title.like(like, escape="\\"), Document.body.like(like, escape="\\"),
               Document.doc_number.like(like, escape="\\"), issuer)


def tokens_query(tokens: list[str]):
    cfg = literal_column("'simple'::regconfig")
    query = " & ".join(f"'{t}'" for t in tokens)
    return func.to_tsvector(cfg, Document.search_tokens).op("@@")(func.to_tsquery(cfg, query))


def _filters(actor: Actor, *, doc_type, year, state, issuer_id, number) -> list:
    where = [visible_set_clause(actor)]
    if doc_type:
        where.append(Document.doc_type == doc_type)
    if year:
        where.append(or_(Document.number_year == int(year),
                         (Document.number_year.is_(None)) &
                         (Document.created_at >= datetime(int(year), 1, 1)) &
                         (Document.created_at < datetime(int(year) + 1, 1, 1))))
    if state:
        where.append(Document.state == state)
    if issuer_id:
        where.append(exists().where(DocumentIssuer.document_id == Document.id,
                                    DocumentIssuer.unit_id == int(issuer_id)))
    if number:
        where.append(Document.doc_number.like(_like(number), escape="\\"))
    return where


NEWEST = (Document.updated_at.desc(), Document.id.desc())


def _newest_checked(where: list, tokens: list[str], q: str, limit: int, offset: int) -> list[Document]:
    """PostgreSQL: the bigram index gives the candidates; only the newest of them have their text checked.

    A common word (通报 is in nearly half of all notices) matches tens of thousands of documents; checking
    the text of every one of them before taking the newest page costs more than the index lookup itself.
    So the newest candidate ids come first (index and sort only), then the text check runs on those, and
    the window widens in the rare case where too many candidates were false (bigrams ignore punctuation)."""
    need = offset + limit
    window = max(2 * need, 64)
    while True:
        ids = list(db.session.execute(select(Document.id).where(*where, tokens_query(tokens))
                                      .order_by(*NEWEST).limit(window)).scalars())
        docs = list(db.session.execute(select(Document).where(Document.id.in_(ids), _text_clause(q))
                                       .order_by(*NEWEST).limit(need)).scalars()) if ids else []
        if len(docs) >= need or len(ids) < window:
            return docs[offset:]
        window *= 4


def search(actor: Actor, q: str = "", *, doc_type: str | None = None, year: int | None = None,
           state: str | None = None, issuer_id: int | None = None, number: str | None = None,
           limit: int = 50, offset: int = 0) -> list[Document]:
    where = _filters(actor, doc_type=doc_type, year=year, state=state, issuer_id=issuer_id, number=number)
    q = (q or "").strip()
    if q:
        tokens = sorted({t for t in bigrams(q) if len(t) == 2})
        if tokens and db.engine.dialect.name == "postgresql":
            return _newest_checked(where, tokens, q, limit, offset)
        where.append(_text_clause(q))
    stmt = select(Document).where(*where).order_by(*NEWEST).limit(limit).offset(offset)
    return list(db.session.execute(stmt).scalars())


class DocLine(NamedTuple):
    """One row of a document list: what the list shows of a document, read as plain values."""

    id: int
    title: str
    doc_number: str | None
    doc_type: str
    urgency: str
    state: str
    issuer_names: str  # the issuing organs in their order, joined by 、


_ISSUED_BY = DocumentIssuer.unit_id.in_(bindparam("units", expanding=True))
"""Issuer rows of the organs the actor works for (``acting_units``: his unit and, for a general
office, its government, whose documents the office drafts)."""


@cache
def _unit_statements(dialect: str):
    """The outgoing list's statements, built once per database kind: its rows (with the list's
    count, and on PostgreSQL the issuers' names joined in their order), the issuers' names of some
    documents (where the names cannot be joined in order in the rows' statement), its count."""
    count = select(func.count(DocumentIssuer.document_id.distinct())).where(_ISSUED_BY)
    columns = [Document.id, Document.title, Document.doc_number, Document.doc_type, Document.urgency, Document.state]
    if dialect == "postgresql":
        issuer, unit = DocumentIssuer.__table__.alias("named_issuer"), Unit.__table__.alias("issuer_unit")
        columns.append(select(func.string_agg(unit.c.name, aggregate_order_by(literal_column("'、'"), issuer.c.position)))
                       .select_from(issuer.join(unit, unit.c.id == issuer.c.unit_id))
                       .where(issuer.c.document_id == Document.id).scalar_subquery().label("issuers"))
    rows = with_total(select(*columns).where(Document.id.in_(select(DocumentIssuer.document_id).where(_ISSUED_BY)))
                      .order_by(*NEWEST).limit(bindparam("limit")).offset(bindparam("offset")), count)
    names = (select(DocumentIssuer.document_id, Unit.name).join(Unit, Unit.id == DocumentIssuer.unit_id)
             .where(DocumentIssuer.document_id.in_(bindparam("ids", expanding=True)))
             .order_by(DocumentIssuer.document_id, DocumentIssuer.position))
    return rows, names, count


def unit_documents(actor: Actor, *, limit: int = 50, offset: int = 0) -> Rows:
    """The documents of the organs the actor works for (发文), last changed first, with the list's
    count (``Rows.total``): one statement on PostgreSQL, and one more for the issuers' names
    elsewhere; no record is built, no body read."""
    if actor.unit_id is None:
        return Rows((), 0)
    dialect = dialect_name()
    rows_of, names_of, _count = _unit_statements(dialect)
    conn = db.session.connection()
    rows = conn.execute(rows_of, {"units": acting_units(actor), "limit": limit, "offset": offset}).all()
    if dialect == "postgresql":
        return rows_with_total(rows, lambda rs: [DocLine(*r[:6], r.issuers or "") for r in rs])
    names: dict[int, list[str]] = {}
    if rows:
        for doc_id, name in conn.execute(names_of, {"ids": [r.id for r in rows]}):
            names.setdefault(doc_id, []).append(name)
    return rows_with_total(rows, lambda rs: [DocLine(*r[:6], "、".join(names.get(r.id, ()))) for r in rs])


def unit_document_count(actor: Actor) -> int:
    """How many documents ``unit_documents`` lists in all."""
    if actor.unit_id is None:
        return 0
    return db.session.connection().execute(_unit_statements(dialect_name())[2],
                                           {"units": acting_units(actor)}).scalar_one()
