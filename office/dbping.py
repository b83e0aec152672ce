"""A pooled connection that sat idle is checked before a request uses it; a busy one is not.

SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` on every checkout: a round trip per request
(and per job) that a busy process, whose connections were in use a moment ago, does not need.
Here a connection is pinged only when it was checked in more than ``DB_PING_IDLE_SECONDS`` ago
(the database may have restarted or dropped it while nobody used it); a ping that fails discards
the connection and the pool hands out a fresh one, so the request never sees it. A connection that
breaks while in use is detected by the error itself: SQLAlchemy then discards the whole pool.
"""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event, exc

from office.extensions import db

_IDLE_SINCE = "office.idle_since"


def init_app(app: Flask) -> None:
    idle_seconds = app.config.get("DB_PING_IDLE_SECONDS")
    if idle_seconds is None or app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
        return
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as e:  # noqa: BLE001 - any failure: the pool replaces the connection
            raise exc.DisconnectionError(f"idle connection is gone: {e}") from e
