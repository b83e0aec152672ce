"""A request that only read ends its transaction with COMMIT instead of ROLLBACK.

For a transaction that wrote nothing the two are the same, but psycopg forgets every prepared
statement of a connection on ROLLBACK (a rolled-back transaction may have dropped what they
refer to). Flask-SQLAlchemy ends each request's session with a rollback, so without this no
statement was ever prepared: PostgreSQL planned the session lookup and each list's query again on
every page (0.5-1.7 ms of planning per statement, more than running them).

What counts as a write is decided by the statements sent, not by the ORM's state: any statement
that is not a SELECT (INSERT, UPDATE, DELETE, SAVEPOINT, LOCK, SET, ...) marks the connection's
transaction as written, and a written, failed or unflushed transaction (audit events waiting for
the commit included) still ends with the rollback it always had. Nothing that was not already
committed is ever committed here.
"""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from office.extensions import db

log = logging.getLogger(__name__)
_WROTE = "office.wrote"


def _note_statement(conn, _cursor, statement: str, *_args) -> None:
    if not statement.lstrip()[:6].upper() == "SELECT":
        conn.info[_WROTE] = True


def _forget(conn, *_args) -> None:
    conn.info.pop(_WROTE, None)


def end_read_only_transaction() -> bool:
    """COMMIT the request's open transaction when it sent only SELECTs and holds no unflushed
    change; True when it did. Otherwise the transaction is left for the usual rollback."""
    from office.audit.service import has_pending

    session = db.session()  # the request's Session (the scoped proxy has no in_transaction)
    if not session.in_transaction() or session.new or session.dirty or session.deleted or has_pending(session):
        return False
    conn = session.connection()
    if conn.info.get(_WROTE):
        return False
    session.commit()
    return True


def init_app(app: Flask) -> None:
    if not event.contains(Engine, "before_cursor_execute", _note_statement):
        event.listen(Engine, "before_cursor_execute", _note_statement)
        event.listen(Engine, "commit", _forget)
        event.listen(Engine, "rollback", _forget)

    @app.teardown_request
    def _end_reads(exc):
        # Runs before Flask-SQLAlchemy's teardown removes the session (which rolls back).
        if exc is None:
            try:
                end_read_only_transaction()
            except Exception:  # noqa: BLE001 - the connection is gone: the rollback that follows copes
                log.warning("could not end a read-only transaction with COMMIT", exc_info=True)
