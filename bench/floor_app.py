"""The floors of the main pages: a bare Flask app (no app factory, no Flask-Login, no cookie
session, no templates) whose routes each run the few SQL statements a hand-written page needs for
the rows the application's page shows, and answer with the same number of bytes (``?bytes=N``, the page's size,
measured by the harness; the rows come first, the rest is padding).

    FLOOR_DATABASE_URL=postgresql://... FLOOR_CLERK='{"units": [12, 13], ...}' gunicorn -w 2 bench.floor_app:app

Every route first reads who is asking (``IDENTITY``: the session by its token, with the person's
posts, roles and unread count), as every page of the application does: a page cannot show its rows
before it knows whose they are. The token is the busy clerk's latest live session.

``FLOOR_CLERK`` describes the busy clerk, looked up once by ``bench.web_load``: the units whose
receipts he handles (his own and, for a general office, its government), his user id, unit and
the roles of his post. Each route writes its rows with the markers the harness compares
against the page (``bench/pages.py``): the same links, fields or list entries.

The to-do list and the workbench's counts are read from the inbox (one table of every module's
open items): their floors run the page's own statements (``office.inbox.lists.list_query`` and
``count_query``, compiled once), so that floor and page cannot drift apart.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager

from flask import Flask, Response, request
from markupsafe import escape
from sqlalchemy import create_engine

from bench.floor_sql import (
    APPROVALS,
    CARD_COUNTS,
    DOCUMENT,
    DOCUMENT_EVENTS,
    DOCUMENT_ISSUERS,
    DOCUMENT_RECEIPTS,
    FILL_ELEMENTS,
    FILL_SUBMISSION,
    FILL_VALUES,
    IDENTITY,
    INCOMING,
    LIVE_TOKEN,
    NOTIFICATIONS,
    OUTGOING,
    REQUEST,
    REQUEST_ACTIONS,
    REQUEST_TASKS,
    ROLLUP_DIVISIONS,
    ROLLUP_SUBMISSIONS,
    ROLLUP_TASK,
    clerk_actor,
    inbox,
    rollup_aggregates,
)
from office.approvals.todo import MODULE as APPROVALS_MODULE
from office.config import normalise_database_url
from office.forms.todo import MODULE as REPORTS_MODULE
from office.inbox import lists
from office.web import PAGE_SIZE  # the pages show 50 rows a page; the floor returns the first page

app = Flask(__name__)
engine = create_engine(normalise_database_url(os.environ.get("FLOOR_DATABASE_URL", "sqlite://")),
                       pool_size=8, max_overflow=4)
CLERK = json.loads(os.environ.get("FLOOR_CLERK", "{}"))
TIMING = os.environ.get("OFFICE_REQUEST_TIMING") == "1"
PARAMS = {"units": CLERK.get("units", []), "user": CLERK.get("user_id"), "unit": CLERK.get("unit_id"),
          "page_size": PAGE_SIZE}
ACTOR = clerk_actor(CLERK)
_local = threading.local()


@contextmanager
def _reading():
    """A connection for one page's reads, after reading who is asking, ended with COMMIT as the
    application ends a read-only request (office/readonly.py): psycopg keeps its prepared
    statements across a commit."""
    with engine.connect() as conn:
        _run(conn, IDENTITY, token=_token(conn)).all()
        yield conn
        conn.commit()


_TOKEN: list[str] = []


def _token(conn) -> str:
    """The busy clerk's live session token (looked up until there is one, then kept)."""
    if not _TOKEN:
        found = conn.execute(LIVE_TOKEN, {"user": PARAMS["user"]}).scalar()
        if found is None:
            return ""
        _TOKEN.append(found)
    return _TOKEN[0]


def _run(conn, query, **extra):
    _local.queries = getattr(_local, "queries", 0) + 1
    params = {**PARAMS, **extra}
    return conn.execute(query, {k: params[k] for k in query._bindparams})


_PADDING: dict[int, str] = {}


def _answer(body: str) -> Response:
    """``body``, padded to the page's size (``?bytes=N``) with a comment the harness ignores."""
    want = request.args.get("bytes", 0, type=int)
    size = len(body.encode())
    if want > size + 7:
        n = want - size - 7
        pad = _PADDING.get(n) or _PADDING.setdefault(n, "<!--" + "x" * n + "-->")
        body += pad
    return Response(body, content_type="text/html; charset=utf-8")


def _items(rows) -> str:
    """The to-do list's rows: each item's link, subject and due date."""
    return "".join(f'<li><a href="{r.url}">{escape(r.subject)}</a> {r.due_at or ""}</li>' for r in rows)


def _links(rows) -> str:
    return "".join(f'<li><a href="{url}">{escape(title)}</a> {due or ""}</li>' for url, title, due, *_ in rows)


@app.before_request
def _start():
    if TIMING:
        request.environ["floor.timing"] = (time.thread_time(), getattr(_local, "queries", 0))


@app.after_request
def _stop(resp):
    started = request.environ.get("floor.timing")
    if started is not None:
        resp.headers["X-Office-CPU-ms"] = f"{(time.thread_time() - started[0]) * 1000:.2f}"
        resp.headers["X-Office-Queries"] = str(getattr(_local, "queries", 0) - started[1])
    return resp


def _inbox(conn, query):
    _local.queries = getattr(_local, "queries", 0) + 1
    return inbox(conn, query)


@app.get("/todo")
def todo():
    with _reading() as conn:
        total = sum(n for _m, n in _inbox(conn, lists.count_query(ACTOR)))
        rows = _inbox(conn, lists.list_query(ACTOR, PAGE_SIZE)).all()
    return _answer(f'<!doctype html><p data-total="{total}"></p><ul class="todo-list">{_items(rows)}</ul>')


@app.get("/workbench")
def workbench():
    with _reading() as conn:
        per_module = dict(_inbox(conn, lists.count_query(ACTOR)).all())
        c = _run(conn, CARD_COUNTS).one()
        rows = _inbox(conn, lists.list_query(ACTOR, 10)).all()
    cards = [("todo", sum(per_module.values())), ("approvals", per_module.get(APPROVALS_MODULE, 0)),
             ("documents", c.documents), ("reports", per_module.get(REPORTS_MODULE, 0)),
             ("notifications", c.unread)]
    body = "".join(f'<a class="card" href="#" data-card="{k}">\n    <span class="card-count">{n}</span></a>'
                   for k, n in cards)
    return _answer(f"<!doctype html>{body}<ul class=\"todo-list\">{_items(rows)}</ul>")


@app.get("/incoming")
def incoming():
    with _reading() as conn:
        rows = _run(conn, INCOMING).all()
    return _answer(f"<!doctype html><ul>{_links(rows)}</ul>")


@app.get("/outgoing")
def outgoing():
    with _reading() as conn:
        rows = _run(conn, OUTGOING).all()
    body = "".join(f'<tr><td>{n or "—"}</td><td><a href="/documents/{i}">{escape(t)}</a></td><td>{dt}</td>'
                   f'<td>{escape(issuers)}</td><td>{s}</td></tr>' for i, t, n, dt, s, issuers in rows)
    return _answer(f"<!doctype html><table>{body}</table>")


@app.get("/approvals")
def approvals():
    with _reading() as conn:
        rows = _run(conn, APPROVALS).all()
    body = "".join(f'<tr data-task="{r.task_id}"><td><a href="/approvals/{r.id}">{escape(r.title)}</a></td>'
                   f'<td>{escape(r.requester)} {escape(r.unit)}</td><td>{escape(r.step or "")}</td>'
                   f'<td>{r.due_at or ""}</td></tr>' for r in rows)
    return _answer(f"<!doctype html><table>{body}</table>")


@app.get("/notifications")
def notifications():
    with _reading() as conn:
        rows = _run(conn, NOTIFICATIONS).all()
    body = "".join(f'<li class="{"" if r.read_at else "unread"}"><form method="post" '
                   f'action="/notifications/{r.id}/read"><strong>{escape(r.title)}</strong></form>'
                   f'<span>{r.created_at:%Y/%m/%d %H:%M}</span><p>{escape(r.body)}</p></li>' for r in rows)
    return _answer(f"<!doctype html><ul>{body}</ul>")


@app.get("/document")
def document():
    doc_id = request.args.get("id", type=int)
    with _reading() as conn:
        d = _run(conn, DOCUMENT, doc=doc_id).one()
        issuers = _run(conn, DOCUMENT_ISSUERS, doc=doc_id).all()
        events = _run(conn, DOCUMENT_EVENTS, doc=doc_id).all()
        receipts = _run(conn, DOCUMENT_RECEIPTS, doc=doc_id).all()
    body = "".join(f"<p>{escape(line)}</p>" for line in (d.body or "").splitlines())
    body += "".join(f"<li>{escape(i.name)}</li>" for i in issuers)
    body += "".join(f'<li data-receipt="{r.id}">{escape(r.name)} {r.state} {r.signed_at or ""}</li>' for r in receipts)
    body += "".join(f'<li data-action="{escape(e.action)}"><time>{e.created_at:%Y/%m/%d %H:%M}</time> '
                    f'{escape(e.unit_name or "")} {escape(e.actor_name or "")}</li>' for e in events)
    return _answer(f"<!doctype html><h1>{escape(d.title)}</h1>{body}")


@app.get("/request")
def approval_request():
    req_id = request.args.get("id", type=int)
    with _reading() as conn:
        q = _run(conn, REQUEST, req=req_id).one()
        tasks = _run(conn, REQUEST_TASKS, req=req_id).all()
        actions = _run(conn, REQUEST_ACTIONS, req=req_id).all()
    nodes = json.loads(q.definition).get("nodes", [])
    body = "".join(f"<li>{escape(n.get('name', ''))}</li>" for n in nodes)
    body += "".join(f"<span>{escape(t.name)}: {t.state}</span>" for t in tasks)
    body += "".join(f'<tr data-kind="{a.kind}"><td>{a.created_at:%Y/%m/%d %H:%M}</td><td>{escape(a.actor_name or "")}'
                    f'</td><td>{escape(a.opinion or "")}</td></tr>' for a in actions)
    return _answer(f"<!doctype html><h1>{escape(q.title)}</h1><p>{escape(q.body or '')}</p>{body}")


@app.get("/fill")
def fill():
    sub_id = request.args.get("id", type=int)
    with _reading() as conn:
        s = _run(conn, FILL_SUBMISSION, sub=sub_id).one()
        fields = [f for sec in _json(s.definition)["sections"] for f in sec["fields"]]
        codes = [f["element"] for f in fields]
        els = {e.code: e for e in _run(conn, FILL_ELEMENTS, codes=codes).all()}
        values = {v.code: v for v in _run(conn, FILL_VALUES, unit=s.unit_id, period=s.period, codes=codes,
                                              previous=s.previous_period).all()}
    out = []
    for f in fields:
        e, v = els[f["element"]], values.get(f["element"])
        out.append(f'<tr data-field="{e.code}"><td><label>{escape(e.name)}</label> ({escape(e.unit_of_measure)})'
                   f'</td><td><input name="f_{e.code}" value="{escape(v.value_text) if v else ""}"></td>'
                   f'<td>{v.source if v else ""}</td><td>{escape(v.previous or "") if v else ""}</td></tr>')
    return _answer(f"<!doctype html><table>{''.join(out)}</table>")


@app.get("/rollup")
def rollup():
    task_id = request.args.get("id", type=int)
    with _reading() as conn:
        t = _run(conn, ROLLUP_TASK, task=task_id).one()
        codes = [f["element"] for sec in _json(t.definition)["sections"] for f in sec["fields"]]
        depth = len(t.path) + 7  # the child divisions of the task's top: '330000/' -> '330000/330100/'
        aggs = _run(conn, rollup_aggregates(depth), task=task_id, period=t.period, codes=codes).all()
        groups = sorted({a.grp for a in aggs})
        names = dict(_run(conn, ROLLUP_DIVISIONS, paths=groups).all())
        subs = _run(conn, ROLLUP_SUBMISSIONS, task=task_id, path=t.path, depth=depth).all()
    cells: dict[str, dict[str, float]] = {}
    for a in aggs:
        cells.setdefault(a.grp, {})[a.code] = a.total
    rows = "".join(f'<tr><td><a href="/reports/tasks/{task_id}?path={g}">{escape(names.get(g, g))}</a></td>'
                   + "".join(f"<td>{cells[g].get(c, '')}</td>" for c in codes) + "</tr>" for g in groups)
    units = "".join(f'<tr><td><a href="/reports/submissions/{s.id}">{escape(s.name)}</a></td><td>{s.state}</td>'
                    f"<td>{s.submitted_at or ''}</td></tr>" for s in subs)
    return _answer(f"<!doctype html><table>{rows}</table><table>{units}</table>")


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
