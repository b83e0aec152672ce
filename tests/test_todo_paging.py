"""The to-do page (待办) is paged: 50 items a page, soonest due first, page links and the total;
the workbench's To do card shows the same total without building the list."""

from __future__ import annotations

import re
from datetime import timedelta

from office.approvals import todo
from office.extensions import db
from office.timeutil import utcnow
from tests.approvals.helpers import make_flow, node, open_tasks, submit, users
from tests.conftest import login


def _links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', re.search(r'<ul class="todo-list">(.*?)</ul>', html, re.S).group(1))


def _requests_due(org, n: int):
    """``n`` approval requests waiting for the county leader, the last submitted due first."""
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    reqs = [submit(org, "county_clerk", flow, title=f"请示{i:02d}") for i in range(n)]
    now = utcnow()
    for i, req in enumerate(reqs):
        for task in open_tasks(req):
            task.due_at = now + timedelta(days=n - i)
        todo.touch(req.id)  # set below the approval service: the inbox rewrites the request's items
    db.session.commit()
    return reqs


def test_second_page_shows_the_next_items_and_the_total_is_right(client, org):
    reqs = _requests_due(org, 57)
    login(client, "county_leader")
    first = client.get("/todo").get_data(as_text=True)
    second = client.get("/todo?page=2").get_data(as_text=True)
    assert 'data-total="57"' in first and 'data-total="57"' in second
    page1, page2 = _links(first), _links(second)
    assert len(page1) == 50 and len(page2) == 7
    # Soonest due first: the last submitted (due soonest) open the list, the first ones end it.
    expected = [f"/approvals/{r.id}" for r in reversed(reqs)]
    assert page1 == expected[:50] and page2 == expected[50:]
    # Page links: the first page links to the second, the second back to the first.
    assert 'href="/todo?page=2"' in first and 'href="/todo?page=1"' in second
    # A page past the end shows the last page; a page that is no number, the first.
    assert _links(client.get("/todo?page=9").get_data(as_text=True)) == page2
    assert _links(client.get("/todo?page=x").get_data(as_text=True)) == page1


def test_card_counts_match_the_list(client, org):
    _requests_due(org, 53)
    login(client, "county_leader")
    home = client.get("/").get_data(as_text=True)
    todo_card = re.search(r'data-card="todo">\s*<span class="card-count">(\d+)</span>', home).group(1)
    approvals_card = re.search(r'data-card="approvals">\s*<span class="card-count">(\d+)</span>', home).group(1)
    shown = len(_links(client.get("/todo").get_data(as_text=True))) + \
        len(_links(client.get("/todo?page=2").get_data(as_text=True)))
    assert int(todo_card) == shown == 53
    assert int(approvals_card) == 53
    # Acting on one item takes it off the list and the card alike.
    from office.approvals import service as approvals
    from office.approvals.models import ApprovalRequest

    req = db.session.execute(db.select(ApprovalRequest).order_by(ApprovalRequest.id)).scalars().first()
    approvals.approve(org.actor("county_leader"), open_tasks(req)[0].id, version=req.version)
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'data-card="todo">\s*<span class="card-count">52</span>', home)
