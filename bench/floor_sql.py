"""The SQL of the floors (bench/floor_app.py): for each main page, the statements a hand-written
page would run for the rows it shows. PostgreSQL."""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, text


def clerk_actor(clerk: dict):
    """The busy clerk as the to-do list sees him (user, unit and the roles of his post), with the
    registries of the modules that give to-do items loaded (their role groups pick his rows)."""
    import importlib

    from office import MODULES
    from office.actor import Actor

    for name in MODULES:
        try:
            importlib.import_module(f"{name}.todo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.todo":
                raise
    return Actor(user_id=clerk.get("user_id"), name="", unit_id=clerk.get("unit_id"),
                 roles=frozenset(clerk.get("roles", ())))


class Compiled:
    """A statement of the application compiled once for the floor's engine: each call only binds
    its values (what a hand-written page keeping its SQL as a string does)."""

    def __init__(self, statement, dialect):
        self.compiled = statement.compile(dialect=dialect)
        self.sql = self.compiled.string

    def run(self, conn, params: dict):
        return conn.exec_driver_sql(self.sql, self.compiled.construct_params(params))


_COMPILED: dict[int, tuple] = {}


def inbox(conn, query: tuple):
    """Run one of the to-do list's own statements (``office.inbox.lists.list_query`` /
    ``count_query``: the page's statements and values, so floor and page cannot drift)."""
    statement, params = query
    hit = _COMPILED.get(id(statement))
    if hit is None or hit[0] is not statement:
        hit = _COMPILED[id(statement)] = (statement, Compiled(statement, conn.dialect))
    return hit[1].run(conn, params)


# Who is asking: every page (and so every floor) first reads the signed-in person's session by
# its token, with his name, his posts (their units and roles: the header lists them and the menu
# follows the roles) and his unread count (the header's bell). One statement, as the application's.
IDENTITY = text("""
SELECT s.id, s.post_id, s.last_seen_at, s.ended_at, s.second_factor_at, a.id AS user_id, a.name, a.active,
       a.second_factor, p.id AS post, p.title, u.name AS unit, r.role,
       (SELECT COUNT(*) FROM notification n WHERE n.user_id = a.id AND n.read_at IS NULL) AS unread
FROM user_session s JOIN user_account a ON a.id = s.user_id
LEFT JOIN post p ON p.user_id = a.id LEFT JOIN unit u ON u.id = p.unit_id
LEFT JOIN post_role r ON r.post_id = p.id
WHERE s.token_hash = :token ORDER BY p.id""")

# The token of the clerk's latest live session (the harness signs in to the application first).
LIVE_TOKEN = text("SELECT token_hash FROM user_session WHERE user_id = :user AND ended_at IS NULL "
                  "ORDER BY id DESC LIMIT 1")


# The workbench's cards beside the inbox's counts: open incoming receipts of the unit, unread
# notifications.
CARD_COUNTS = text("""SELECT
 (SELECT COUNT(*) FROM doc_receipt r WHERE r.unit_id = ANY(:units)
  AND r.state IN ('delivered', 'signed', 'registered', 'handling')) AS documents,
 (SELECT COUNT(*) FROM notification n WHERE n.user_id = :user AND n.read_at IS NULL) AS unread""")

# The incoming list (open receipts of the unit, newest first), its first page.
INCOMING = text("""
SELECT '/documents/receipts/' || r.id, d.title, r.due_at FROM doc_receipt r JOIN doc_document d ON d.id = r.document_id
WHERE r.unit_id = ANY(:units) AND r.state IN ('delivered', 'signed', 'registered', 'handling')
ORDER BY r.delivered_at DESC, r.id DESC LIMIT :page_size""")

# Outgoing: the documents of the organs the clerk works for (his unit and, for a general office,
# its government), last changed first, with their issuers' names.
OUTGOING = text("""
SELECT d.id, d.title, d.doc_number, d.doc_type, d.state,
       (SELECT string_agg(u.name, '、' ORDER BY i2.position) FROM doc_issuer i2 JOIN unit u ON u.id = i2.unit_id
        WHERE i2.document_id = d.id) AS issuers
FROM doc_document d
WHERE d.id IN (SELECT i.document_id FROM doc_issuer i WHERE i.unit_id = ANY(:units))
ORDER BY d.updated_at DESC, d.id DESC LIMIT :page_size""")

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
