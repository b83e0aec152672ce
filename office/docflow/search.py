"""Search by title, body, number, issuer, type, year and state.

Two-character Chinese words: the document's ``search_tokens`` column holds its overlapping character
bigrams; on PostgreSQL a GIN index over ``to_tsvector('simple', search_tokens)`` finds the candidates
(every bigram of the query), then the text itself is checked; SQLite falls back to ``LIKE``.
Results go through the same visibility rule as the document page.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, literal_column, or_, select

from office.actor import Actor
from office.docflow.common import bigrams, visible_clause
from office.docflow.models import Document, DocumentIssuer
from office.extensions import db
from office.org.models import Unit


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


def search(actor: Actor, q: str = "", *, doc_type: str | None = None, year: int | None = None,
           state: str | None = None, issuer_id: int | None = None, number: str | None = None,
           limit: int = 50, offset: int = 0) -> list[Document]:
    stmt = select(Document).where(visible_clause(actor))
    q = (q or "").strip()
    if q:
        tokens = sorted({t for t in bigrams(q) if len(t) == 2})
        if tokens and db.engine.dialect.name == "postgresql":
            stmt = stmt.where(tokens_query(tokens))
        stmt = stmt.where(_text_clause(q))
    if doc_type:
        stmt = stmt.where(Document.doc_type == doc_type)
    if year:
        stmt = stmt.where(or_(Document.number_year == int(year),
                              (Document.number_year.is_(None)) &
                              (Document.created_at >= datetime(int(year), 1, 1)) &
                              (Document.created_at < datetime(int(year) + 1, 1, 1))))
    if state:
        stmt = stmt.where(Document.state == state)
    if issuer_id:
        stmt = stmt.where(exists().where(DocumentIssuer.document_id == Document.id,
                                         DocumentIssuer.unit_id == int(issuer_id)))
    if number:
        stmt = stmt.where(Document.doc_number.like(_like(number), escape="\\"))
    stmt = stmt.order_by(Document.updated_at.desc(), Document.id.desc()).limit(limit).offset(offset)
    return list(db.session.execute(stmt).scalars())
