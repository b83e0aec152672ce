"""The floor of the to-do page and the incoming list: a bare Flask app (no app factory, no login, no
templates) whose routes each run one indexed query returning the rows the busy clerk's page shows.

    FLOOR_DATABASE_URL=postgresql://... FLOOR_UNIT_IDS=12,13 gunicorn -w 2 bench.floor_app:app

``FLOOR_UNIT_IDS`` are the units whose receipts the clerk handles (his own unit and, for a general
office, its government), looked up once by ``bench.web_load``. The rows are written as one HTML list
of links, the same links the application's pages carry, so the harness can compare the two.
"""

from __future__ import annotations

import os

from flask import Flask, Response
from markupsafe import escape
from sqlalchemy import create_engine, text

from office.config import normalise_database_url

app = Flask(__name__)
engine = create_engine(normalise_database_url(os.environ.get("FLOOR_DATABASE_URL", "sqlite://")),
                       pool_size=4, max_overflow=4)
UNIT_IDS = [int(u) for u in os.environ.get("FLOOR_UNIT_IDS", "0").split(",") if u.strip()]

# The to-do page's receipt rows: to sign for or handle, soonest due first (index on unit, state, due).
TODO = text("""
SELECT r.id, d.title, r.due_at FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered')
ORDER BY r.due_at, r.id LIMIT 200""")

# The incoming list (open receipts of the unit, newest first).
INCOMING = text("""
SELECT r.id, d.title, r.due_at FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered', 'handling')
ORDER BY r.delivered_at DESC, r.id DESC LIMIT 200""")


def _page(query) -> Response:
    with engine.connect() as conn:
        rows = conn.execute(query, {"units": UNIT_IDS}).all()
    body = "".join(f'<li><a href="/documents/receipts/{rid}">{escape(title)}</a> {due or ""}</li>'
                   for rid, title, due in rows)
    return Response(f"<!doctype html><ul>{body}</ul>", content_type="text/html; charset=utf-8")


@app.get("/todo")
def todo():
    return _page(TODO)


@app.get("/incoming")
def incoming():
    return _page(INCOMING)
