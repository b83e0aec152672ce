"""The SQL of the floors (bench/floor_app.py): for each main page, the statements a hand-written
page would run for the rows it shows. PostgreSQL."""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, text

# The units the clerk works for, as the to-do list counts them: his own, and for a general office
# its government (and the other way round).
_ACTS = """mine AS (SELECT u.id, u.kind FROM unit u WHERE u.id = :unit),
acts AS (SELECT u.id FROM unit u, mine WHERE u.id = mine.id OR (u.division_id = :division
    AND mine.kind IN ('government', 'general_office') AND u.kind IN ('government', 'general_office')))"""

# The unified to-do list of a clerk: receipts to sign for or handle, assigned to him or circulated
# to him, outgoing documents at his office's step, his approval tasks, reports to fill (a roll-up
# once everything below is approved) and reports to review; soonest due first.
_TODO_ITEMS = """
  (SELECT '/documents/receipts/' || r.id AS url, d.title, r.due_at, r.delivered_at AS created_at
   FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
   WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered')
   ORDER BY r.due_at, r.id {limit})
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
                    AND a.subject_id = s.id::text AND a.state = 'running')"""


@cache
def todo_sql(limit: int | None):
    """The first ``limit`` items of the to-do list, or (``None``) how many there are.

    The hook for a to-do list kept in one table: this becomes one indexed query of that table,
    ``... WHERE user_id = :user AND post unit = :unit AND open ORDER BY due LIMIT :n`` and its count."""
    if limit is None:
        return text(f"WITH {_ACTS} SELECT COUNT(*) FROM ({_TODO_ITEMS.format(limit='')}) items")
    return text(f"WITH {_ACTS} SELECT url, title, due_at, created_at FROM ({_TODO_ITEMS.format(limit=f'LIMIT {limit}')}) "
                f"items ORDER BY due_at IS NULL, due_at, created_at LIMIT {limit}")


# The workbench's cards: open approval tasks, open incoming receipts of the unit, reports to fill
# or review, unread notifications.
CARD_COUNTS = text(f"""WITH {_ACTS} SELECT
 (SELECT COUNT(*) FROM approval_task t JOIN approval_request q ON q.id = t.request_id
  WHERE (t.assignee_id = :user OR t.on_behalf_of_id = :user) AND t.state = 'open' AND q.state = 'running') AS approvals,
 (SELECT COUNT(*) FROM doc_receipt r WHERE r.unit_id = ANY(:units)
  AND r.state IN ('delivered', 'signed', 'registered', 'handling')) AS documents,
 (SELECT COUNT(*) FROM form_submission s WHERE s.path = :path AND s.state IN ('draft', 'returned')
  AND s.unit_id IN (SELECT id FROM acts))
 + (SELECT COUNT(*) FROM form_submission p JOIN form_submission s ON s.parent_id = p.id
    WHERE p.path = :path AND p.unit_id IN (SELECT id FROM acts) AND s.state = 'submitted'
    AND NOT EXISTS (SELECT 1 FROM approval_request a WHERE a.subject_type = 'form_submission'
                    AND a.subject_id = s.id::text AND a.state = 'running')) AS reports,
 (SELECT COUNT(*) FROM notification n WHERE n.user_id = :user AND n.read_at IS NULL) AS unread""")

# The incoming list (open receipts of the unit, newest first), its first page.
INCOMING = text("""
SELECT '/documents/receipts/' || r.id, d.title, r.due_at FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered', 'handling')
ORDER BY r.delivered_at DESC, r.id DESC LIMIT :page_size""")

# Outgoing: the unit's documents, last changed first, with their issuers' names.
OUTGOING = text("""
SELECT d.id, d.title, d.doc_number, d.doc_type, d.state,
       (SELECT string_agg(u.name, '、' ORDER BY i2.position) FROM doc_issuer i2 JOIN unit u ON u.id = i2.unit_id
        WHERE i2.document_id = d.id) AS issuers
FROM doc_document d JOIN doc_issuer i ON i.document_id = d.id
WHERE i.unit_id = :unit ORDER BY d.updated_at DESC, d.id DESC LIMIT :page_size""")

# The approvals to-do: open tasks of the clerk, soonest due first, with requester, unit and step.
APPROVALS = text("""
SELECT q.id, t.id AS task_id, q.title, a.name AS requester, u.name AS unit, t.due_at,
       (v.definition_json::json -> 'nodes' -> t.node_index ->> 'name') AS step
FROM approval_task t JOIN approval_request q ON q.id = t.request_id
JOIN user_account a ON a.id = q.requester_id JOIN unit u ON u.id = q.unit_id
JOIN approval_flow_version v ON v.id = q.flow_version_id
WHERE (t.assignee_id = :user OR t.on_behalf_of_id = :user) AND t.state = 'open' AND q.state = 'running'
ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT :page_size""")

NOTIFICATIONS = text("""SELECT id, title, body, created_at, read_at FROM notification WHERE user_id = :user
ORDER BY id DESC LIMIT 100""")

DOCUMENT = text("SELECT id, title, body, state, doc_number FROM doc_document WHERE id = :doc")
DOCUMENT_ISSUERS = text("SELECT u.name FROM doc_issuer i JOIN unit u ON u.id = i.unit_id WHERE i.document_id = :doc "
                        "ORDER BY i.position")
DOCUMENT_EVENTS = text("SELECT action, unit_name, actor_name, detail, created_at FROM doc_event "
                       "WHERE document_id = :doc ORDER BY id")
DOCUMENT_RECEIPTS = text("SELECT r.id, r.state, r.due_at, r.signed_at, u.name FROM doc_receipt r "
                         "JOIN unit u ON u.id = r.unit_id WHERE r.document_id = :doc ORDER BY u.path, r.id")

REQUEST = text("""SELECT q.id, q.title, s.body, v.definition_json AS definition FROM approval_request q
JOIN approval_flow_version v ON v.id = q.flow_version_id
LEFT JOIN approval_standalone s ON q.subject_type = 'request' AND s.id::text = q.subject_id WHERE q.id = :req""")
REQUEST_TASKS = text("SELECT a.name, t.state FROM approval_task t JOIN user_account a ON a.id = t.assignee_id "
                     "WHERE t.request_id = :req ORDER BY t.id")
REQUEST_ACTIONS = text("SELECT kind, actor_name, opinion, created_at FROM approval_action WHERE request_id = :req "
                       "ORDER BY id")

FILL_SUBMISSION = text("""SELECT s.id, s.unit_id, t.period, v.definition,
  to_char(to_date(t.period || '-01', 'YYYY-MM-DD') - interval '1 month', 'YYYY-MM') AS previous_period
FROM form_submission s JOIN form_task t ON t.id = s.task_id JOIN form_template_version v ON v.id = t.template_version_id
WHERE s.id = :sub""")
FILL_ELEMENTS = text("SELECT code, name, value_type, unit_of_measure FROM form_element WHERE code IN :codes") \
    .bindparams(bindparam("codes", expanding=True))
# This period's value of each field and the last period's, in one pass over the unit's values.
FILL_VALUES = text("""SELECT e.code, c.value_text, c.source, p.value_text AS previous
FROM form_element e LEFT JOIN form_value c ON c.element_id = e.id AND c.unit_id = :unit AND c.period = :period
LEFT JOIN form_value p ON p.element_id = e.id AND p.unit_id = :unit AND p.period = :previous
WHERE e.code IN :codes""").bindparams(bindparam("codes", expanding=True))

ROLLUP_TASK = text("""SELECT t.id, t.period, t.path, v.definition FROM form_task t
JOIN form_template_version v ON v.id = t.template_version_id WHERE t.id = :task""")


@cache
def rollup_aggregates(depth: int):
    """Per child division and field: the sum over the task's townships' values of the period."""
    return text(f"""SELECT substr(s.path, 1, {depth}) AS grp, e.code, SUM(v.value_num) AS total, COUNT(v.value_num) AS n
FROM form_value v JOIN form_submission s ON s.unit_id = v.unit_id AND s.task_id = :task AND s.kind = 'leaf'
JOIN form_element e ON e.id = v.element_id
WHERE v.period = :period AND e.code IN :codes AND v.value_num IS NOT NULL
GROUP BY 1, 2""").bindparams(bindparam("codes", expanding=True))


ROLLUP_DIVISIONS = text("SELECT path, name FROM division WHERE path IN :paths") \
    .bindparams(bindparam("paths", expanding=True))
# The units of the level shown: the top and its child divisions.
ROLLUP_SUBMISSIONS = text("""SELECT s.id, u.name, s.state, s.submitted_at FROM form_submission s
JOIN unit u ON u.id = s.unit_id WHERE s.task_id = :task AND s.path LIKE :path || '%'
AND length(s.path) <= :depth ORDER BY s.path, s.id""")
