"""Per-request cost, for the benchmarks: with ``OFFICE_REQUEST_TIMING=1`` every response carries
the CPU time its request took in the serving thread and the number of SQL statements it ran.

    X-Office-CPU-ms: 4.21      (time.thread_time of the request's thread, request start to response)
    X-Office-Queries: 3        (statements sent to the database, counted by a SQLAlchemy event)

``thread_time`` rather than ``process_time``: a gthread worker serves several requests at once,
and the process's clock would charge each of them with the others' work. Off by default: nothing
is hooked in and nothing is added to a response.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

CPU_HEADER, QUERIES_HEADER = "X-Office-CPU-ms", "X-Office-Queries"
_local = threading.local()
_KEY = "office.timing"


def _count_query(*_args, **_kwargs) -> None:
    _local.queries = getattr(_local, "queries", 0) + 1


def init_app(app: Flask) -> None:
    if not app.config.get("REQUEST_TIMING"):
        return
    if not event.contains(Engine, "before_cursor_execute", _count_query):
        event.listen(Engine, "before_cursor_execute", _count_query)

    # First before-request function and last after-request one: the whole request is counted.
    # (Kept in the WSGI environ: the app clears ``g`` at the start of every request.)
    def start():
        request.environ[_KEY] = (time.thread_time(), getattr(_local, "queries", 0))

    def stop(resp):
        started = request.environ.get(_KEY)
        if started is not None:
            resp.headers[CPU_HEADER] = f"{(time.thread_time() - started[0]) * 1000:.2f}"
            resp.headers[QUERIES_HEADER] = str(getattr(_local, "queries", 0) - started[1])
        return resp

    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request_funcs.setdefault(None, []).insert(0, stop)  # after-request runs in reverse
