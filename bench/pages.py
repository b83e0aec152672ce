"""The main pages a clerk opens all day, resolved on a generated dataset: who opens them, at which
URL, which floor route (bench/floor_app.py) stands for them, and what "the same rows" means on
each (a pattern over the HTML that both the page and its floor must match the same way).

Everyone is the busy county office clerk (bench/rows.py), except the report fill page (a township
clerk with a report in draft) and the roll-up page (the provincial statistics clerk who issued
the monthly forms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import create_engine, text

LINK = r'<a href="(/documents/(?:receipts/)?\d+|/approvals/\d+|/reports/submissions/\d+)"'


@dataclass
class Page:
    name: str
    username: str
    path: str
    floor: str                  # the floor route, with its parameters in the query string
    rows: str = LINK            # what "the same rows" means: every match of this pattern, in order
    sort: bool = True           # compare as sets (ties may sort either way) or in order
    params: dict = field(default_factory=dict)

    def extract(self, html: str) -> list[str]:
        found = [m if isinstance(m, str) else "|".join(x for x in m if x) for m in re.findall(self.rows, html)]
        return sorted(found) if self.sort else found


def resolve(database_url: str, manifest: dict) -> list[Page]:
    """The pages of the busy clerk's day on the dataset at ``database_url``."""
    busy = manifest["busy_clerk"]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            one = lambda sql, **kw: conn.execute(text(sql), kw).first()  # noqa: E731
            doc = one("SELECT d.id FROM doc_document d JOIN doc_issuer i ON i.document_id = d.id "
                      "WHERE i.unit_id = :u AND d.state = 'distributed' ORDER BY d.id DESC LIMIT 1",
                      u=busy["unit_id"])
            req = one("SELECT q.id FROM approval_task t JOIN approval_request q ON q.id = t.request_id "
                      "WHERE t.assignee_id = :u AND t.state = 'open' ORDER BY q.id DESC LIMIT 1",
                      u=busy["user_id"])
            task_id = manifest["form_task_ids"][sorted(manifest["form_task_ids"])[0]]
            sub = one("SELECT s.id, u.code FROM form_submission s JOIN unit u ON u.id = s.unit_id "
                      "WHERE s.task_id = :t AND s.kind = 'leaf' AND s.state = 'draft' ORDER BY s.id LIMIT 1",
                      t=task_id)
    finally:
        engine.dispose()
    clerk = busy["username"]
    pages = [
        Page("workbench", clerk, "/", "/workbench",
             rows=r'data-card="(\w+)">\s*<span class="card-count">(\d+)<|' + LINK),
        Page("todo", clerk, "/todo", "/todo"),
        Page("incoming", clerk, "/documents/", "/incoming"),
        Page("outgoing", clerk, "/documents/outgoing", "/outgoing"),
        Page("approvals", clerk, "/approvals/", "/approvals"),
        Page("notifications", clerk, "/notifications/", "/notifications",
             rows=r'action="/notifications/(\d+)/read"'),
    ]
    if doc:
        pages.append(Page("document", clerk, f"/documents/{doc.id}", f"/document?id={doc.id}",
                          rows=r'data-receipt="(\d+)"'))
    if req:
        pages.append(Page("request", clerk, f"/approvals/{req.id}", f"/request?id={req.id}",
                          rows=r'<tr data-kind="(\w+)">'))
    if sub:
        pages.append(Page("fill", f"{sub.code}.clerk", f"/reports/submissions/{sub.id}",
                          f"/fill?id={sub.id}", rows=r'data-field="(\w+)"', sort=False))
    pages.append(Page("rollup", manifest["people"]["issuer_username"], f"/reports/tasks/{manifest['rollup_task_id']}",
                      f"/rollup?id={manifest['rollup_task_id']}", rows=r'href="(/reports/(?:tasks/\d+\?path=[^"]*|submissions/\d+))"'))
    return pages
