"""The to-do lists show each approval with its subject's summary line; the lines of a whole list are
read together (``summaries_of``) and are the ones ``summary_of`` gives for each subject alone."""

from __future__ import annotations

from office.approvals import service as approvals
from tests.approvals.helpers import make_flow, node, submit, users
from tests.conftest import login


def test_todo_lists_show_each_request_line(client, org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    reqs = [submit(org, "county_clerk", flow, title=f"请示{i}", amount=[None, 1234.5, 52000][i % 3])
            for i in range(7)]
    pairs = [(r.subject_type, r.subject_id) for r in reqs]
    one_by_one = {p: approvals.summary_of(*p) for p in pairs}
    assert approvals.summaries_of(pairs) == one_by_one
    assert "请示1" in one_by_one[pairs[1]] and "1,234.50" in one_by_one[pairs[1]]
    # A subject that is gone reads as an empty line (the list then shows the request's title).
    assert approvals.summaries_of([("request", "999999")]) == {("request", "999999"): ""}

    login(client, "county_leader")
    for page in ("/todo", "/approvals/"):
        html = client.get(page).get_data(as_text=True)
        for line in one_by_one.values():
            assert line in html, (page, line)
