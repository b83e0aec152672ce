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


def test_todo_and_done_rows_name_the_step_requester_and_decision(client, org):
    """Each row reads its step's name from the flow version, the requester and his unit; the done
    list shows the decision and opinion; the rows come in the order of ``todo_tasks``."""
    from office.approvals import queries
    from tests.approvals.helpers import task_of

    flow = make_flow(node("single", name="科室初审", assignees=users("county_leader")),
                     node("single", name="分管领导审批", assignees=users("county_deputy")),
                     subject_type="request")
    first, second = (submit(org, "county_clerk", flow, title=t) for t in ("经费请示", "用车请示"))
    leader = org.actor("county_leader")
    lines = queries.todo_lines(leader)
    assert [(x.task_id, x.request_id) for x in lines] == \
        [(t.id, t.request_id) for t in queries.todo_tasks(leader)]
    assert {(x.title, x.step, x.requester) for x in lines} == {("经费请示", "科室初审", "罗静"),
                                                               ("用车请示", "科室初审", "罗静")}

    approvals.approve(leader, task_of(org, first, "county_leader").id, opinion="拟同意，报分管领导")
    deputy = queries.todo_lines(org.actor("county_deputy"))
    assert [(x.request_id, x.step) for x in deputy] == [(first.id, "分管领导审批")]

    login(client, "county_leader")
    todo = client.get("/approvals/").get_data(as_text=True)
    assert f'data-task="{task_of(org, second, "county_leader").id}"' in todo
    assert "科室初审" in todo and "罗静" in todo and org.unit("330106", "office").name in todo
    assert f"/approvals/{first.id}\"" not in todo
    done = client.get("/approvals/done").get_data(as_text=True)
    assert f"/approvals/{first.id}\"" in done and "拟同意，报分管领导" in done and "科室初审" in done
    assert "None" not in done
