"""The floor of the to-do page and the incoming list: a bare Flask app (no app factory, no login, no
templates) whose routes each run one indexed query returning the rows the busy clerk's page shows.

    FLOOR_DATABASE_URL=postgresql://... FLOOR_CLERK='{"units": [12, 13], ...}' gunicorn -w 2 bench.floor_app:app

``FLOOR_CLERK`` describes the clerk, looked up once by ``bench.web_load``: the units whose receipts
he handles (his own and, for a general office, its government), his user id, unit, division and
division path. The rows are written as one HTML list of links, the same links the application's
pages carry, so the harness can compare the two.
"""

from __future__ import annotations

import json
import os

from flask import Flask, Response
from markupsafe import escape
from sqlalchemy import create_engine, text

from office.config import normalise_database_url
from office.web import PAGE_SIZE  # the pages show 50 rows a page; the floor returns the first page

app = Flask(__name__)
engine = create_engine(normalise_database_url(os.environ.get("FLOOR_DATABASE_URL", "sqlite://")),
                       pool_size=4, max_overflow=4)
CLERK = json.loads(os.environ.get("FLOOR_CLERK", "{}"))

# The unified to-do list of a clerk: receipts to sign for or handle, assigned to him or circulated
# to him, outgoing documents at his office's step, his approval tasks, reports to fill (a roll-up
# once everything below is approved) and reports to review; soonest due first, the first page of them.
TODO = text("""
WITH mine AS (SELECT u.id, u.kind FROM unit u WHERE u.id = :unit),
acts AS (  -- the units the clerk works for: his own, and the government and office of his division
  SELECT u.id FROM unit u, mine WHERE u.id = mine.id OR (u.division_id = :division
    AND mine.kind IN ('government', 'general_office') AND u.kind IN ('government', 'general_office')))
SELECT url, title, due_at, created_at FROM (
  (SELECT '/documents/receipts/' || r.id AS url, d.title, r.due_at, r.delivered_at AS created_at
   FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
   WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered')
   ORDER BY r.due_at, r.id LIMIT :page_size)
  UNION ALL
  SELECT '/documents/receipts/' || r.id, d.title, r.due_at, r.delivered_at
  FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
  WHERE r.unit_id = ANY(:units) AND r.assignee_id = :user AND r.state = 'handling'
  UNION ALL
  SELECT '/documents/receipts/' || r.id, d.title, NULL, r.delivered_at
  FROM doc_handling_step h JOIN doc_receipt r ON r.id = h.receipt_id JOIN doc_document d ON d.id = r.document_id
  WHERE r.unit_id = ANY(:units) AND h.kind = 'circulate' AND h.target_user_id = :user AND h.read_at IS NULL
  UNION ALL
  SELECT DISTINCT '/documents/' || d.id, d.title, NULL::timestamp, d.updated_at
  FROM doc_document d JOIN doc_issuer i ON i.document_id = d.id
  WHERE i.unit_id = ANY(:units) AND d.state IN ('review', 'signed', 'checked', 'numbered', 'sealed')
    AND d.path >= :path AND d.path < :path_end
  UNION ALL
  SELECT '/approvals/' || q.id, q.title, t.due_at, COALESCE(t.opened_at, t.created_at)
  FROM approval_task t JOIN approval_request q ON q.id = t.request_id
  WHERE (t.assignee_id = :user OR t.on_behalf_of_id = :user) AND t.state = 'open' AND q.state = 'running'
  UNION ALL
  SELECT '/reports/submissions/' || s.id, t.title, t.deadline, t.created_at
  FROM form_submission s JOIN form_task t ON t.id = s.task_id
  WHERE s.path = :path AND s.state IN ('draft', 'returned') AND s.unit_id IN (SELECT id FROM acts)
    AND NOT (s.kind = 'rollup' AND EXISTS (SELECT 1 FROM form_submission c WHERE c.parent_id = s.id
                                           AND c.task_id = s.task_id AND c.state <> 'approved'))
  UNION ALL
  SELECT '/reports/submissions/' || s.id, t.title, t.deadline, s.submitted_at
  FROM form_submission p JOIN form_submission s ON s.parent_id = p.id JOIN form_task t ON t.id = s.task_id
  WHERE p.path = :path AND p.unit_id IN (SELECT id FROM acts) AND s.state = 'submitted'
    AND NOT EXISTS (SELECT 1 FROM approval_request a WHERE a.subject_type = 'form_submission'
                    AND a.subject_id = s.id::text AND a.state = 'running')
  UNION ALL
  SELECT '/reports/submissions/' || s.id, t.title, t.deadline, s.submitted_at
  FROM form_task t JOIN form_submission s ON s.task_id = t.id
  WHERE t.path = :path AND t.issuing_unit_id IN (SELECT id FROM acts) AND s.parent_id IS NULL
    AND s.state = 'submitted'
    AND NOT EXISTS (SELECT 1 FROM approval_request a WHERE a.subject_type = 'form_submission'
                    AND a.subject_id = s.id::text AND a.state = 'running')
) items ORDER BY due_at IS NULL, due_at, created_at LIMIT :page_size""")

# The incoming list (open receipts of the unit, newest first), its first page.
INCOMING = text("""
SELECT '/documents/receipts/' || r.id, d.title, r.due_at FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered', 'handling')
ORDER BY r.delivered_at DESC, r.id DESC LIMIT :page_size""")


_PATH = CLERK.get("path", "/")
PARAMS = {"units": CLERK.get("units", []), "user": CLERK.get("user_id"), "unit": CLERK.get("unit_id"),
          "division": CLERK.get("division_id"), "path": _PATH, "path_end": _PATH[:-1] + "0",
          "page_size": PAGE_SIZE}


def _page(query) -> Response:
    with engine.connect() as conn:
        rows = conn.execute(query, {k: PARAMS[k] for k in query._bindparams}).all()
    body = "".join(f'<li><a href="{url}">{escape(title)}</a> {due or ""}</li>' for url, title, due, *_ in rows)
    return Response(f"<!doctype html><ul class=\"todo-list\">{body}</ul>", content_type="text/html; charset=utf-8")


@app.get("/todo")
def todo():
    return _page(TODO)


@app.get("/incoming")
def incoming():
    return _page(INCOMING)
