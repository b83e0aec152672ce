"""Review of reports goes through the approvals engine: the subject type, who the tasks go to, the
callbacks (approved / returned / rejected / withdrawn) and the roll-up rule."""

from __future__ import annotations

import pathlib

import pytest

from office.approvals import service as approvals
from office.errors import Conflict, NotFound, PermissionDenied
from office.extensions import db
from office.forms import review
from office.forms import service as forms
from office.forms.models import Submission
from tests.conftest import csrf_from, login
from tests.forms.conftest import DEADLINE, sub_of


def fill(clerk, sub, **values):
    forms.save(clerk, sub.id, {k: str(v) for k, v in values.items()})


def request_of(sub):
    return review.latest_request(sub)


def assignees(req):
    from office.approvals.queries import request_tasks

    return {t.assignee_id for t in request_tasks(req) if t.state == "open"}


@pytest.fixture
def city_task(catalogue):
    return forms.issue_task(catalogue.actor("city_clerk"), template_code="CIVIL", period="2025Q3",
                            deadline=DEADLINE)


def test_submit_starts_an_approval_to_the_reviewing_level(city_task, catalogue):
    town, county = catalogue.actor("town_clerk"), catalogue.actor("county_clerk")
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    with pytest.raises(NotFound):
        approvals.get_flow(review.FLOW_KEY)
    forms.submit(town, s1.id)
    # The default flow was seeded, and the request is about the submission.
    flow = approvals.get_flow(review.FLOW_KEY)
    assert flow.subject_type == review.SUBJECT
    req = request_of(s1)
    assert (req.subject_type, req.subject_id, req.state) == ("form_submission", str(s1.id), "running")
    assert req.requester_id == town.user_id
    # The task goes to the clerk of the reviewing level (the county, per the task's cascade).
    assert assignees(req) == {catalogue.user("county_clerk").id}
    assert approvals.summary_of(req.subject_type, req.subject_id).startswith("Report:")
    pair = (req.subject_type, req.subject_id)
    assert approvals.summaries_of([pair]) == {pair: approvals.summary_of(*pair)}  # a to-do list's lines
    assert approvals.get_subject(review.SUBJECT).url(req.subject_id) == f"/reports/submissions/{s1.id}"
    # Deciding on the task moves the report; the reviewer is recorded.
    task = review.open_task(county, s1)
    approvals.approve(county, task.id, opinion="Looks right")
    s1 = db.session.get(Submission, s1.id)
    assert s1.state == "approved" and s1.review_note == "Looks right"
    assert s1.reviewed_by_id == county.user_id
    assert forms.get_value("DIBAO_HH", s1.unit_id, "2025Q3").locked_by_id == s1.id
    # An existing flow is reused (an administrator may have changed it).
    n = len(approvals.available_flows(county, review.SUBJECT))
    s2 = sub_of(city_task, catalogue.unit("330106110"))
    fill(catalogue.actor("town2_clerk"), s2, POP_TOTAL=3000, DIBAO_HH=20)
    forms.submit(catalogue.actor("town2_clerk"), s2.id)
    assert len(approvals.available_flows(county, review.SUBJECT)) == n


def test_department_task_goes_to_the_department(catalogue):
    """The county civil-affairs bureau issues; its leader reviews (it has no clerk here)."""
    mz = catalogue.actor("county_mz_leader")
    task = forms.issue_task(mz, template_code="CIVIL", period="2025Q3", deadline=DEADLINE)
    town = catalogue.actor("town_clerk")
    s1 = sub_of(task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    forms.submit(town, s1.id)
    assert assignees(request_of(s1)) == {catalogue.user("county_mz_leader").id}
    # The county office clerk is not the reviewer of the bureau's report.
    with pytest.raises(PermissionDenied):
        forms.approve(catalogue.actor("county_clerk"), s1.id)
    forms.approve(mz, s1.id, note="OK")
    assert db.session.get(Submission, s1.id).state == "approved"
    assert request_of(s1).state == "approved"


def test_reject_return_withdraw_and_resubmit(city_task, catalogue):
    town, leader, county = (catalogue.actor(u) for u in ("town_clerk", "town_leader", "county_clerk"))
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    forms.submit(town, s1.id)
    # The requester withdraws before anyone acted: back to draft, editable.
    req = request_of(s1)
    approvals.withdraw(town, req.id, reason="Forgot a figure")
    assert db.session.get(Submission, s1.id).state == "draft"
    fill(town, s1, DIBAO_HH=41)
    forms.submit(town, s1.id)
    req2 = request_of(s1)
    assert req2.id != req.id and req2.state == "running"
    # Rejected in Approvals: the report is returned with the opinion, values unlocked.
    approvals.reject(county, review.open_task(county, s1).id, opinion="Households look wrong")
    s1 = db.session.get(Submission, s1.id)
    assert s1.state == "returned" and s1.review_note == "Households look wrong"
    fill(town, s1, DIBAO_HH=42)
    forms.submit(town, s1.id)
    # Returned to the drafter, then submitted again by the same clerk: the same request resumes.
    req3 = request_of(s1)
    approvals.return_task(county, review.open_task(county, s1).id, to="drafter", opinion="Check again")
    assert db.session.get(Submission, s1.id).state == "returned"
    forms.submit(town, s1.id)
    assert request_of(s1).id == req3.id and request_of(s1).state == "running"
    # Returned again; this time the township leader submits: the old request is withdrawn.
    approvals.return_task(county, review.open_task(county, s1).id, to="drafter", opinion="And again")
    forms.submit(leader, s1.id)
    assert db.session.get(type(req3), req3.id).state == "withdrawn"
    req4 = request_of(s1)
    assert req4.requester_id == leader.user_id and req4.state == "running"
    assert db.session.get(Submission, s1.id).state == "submitted"


def test_rollup_approval_requires_all_townships_approved(city_task, catalogue):
    town, town2 = catalogue.actor("town_clerk"), catalogue.actor("town2_clerk")
    county, city = catalogue.actor("county_clerk"), catalogue.actor("city_clerk")
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    s2 = sub_of(city_task, catalogue.unit("330106110"))
    county_sub = sub_of(city_task, catalogue.unit("330106"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    fill(town2, s2, POP_TOTAL=5000, DIBAO_HH=20)
    forms.submit(town, s1.id)
    forms.submit(town2, s2.id)
    forms.approve(county, s1.id)
    # Refused before an approval request starts.
    with pytest.raises(Conflict, match="1 report\\(s\\) below are not approved yet"):
        forms.submit(county, county_sub.id)
    assert request_of(county_sub) is None
    forms.approve(county, s2.id)
    forms.submit(county, county_sub.id)
    req = request_of(county_sub)
    assert assignees(req) == {catalogue.user("city_clerk").id}
    # Should a township lose its approval meanwhile, the city's approval is refused (and nothing moves).
    db.session.execute(db.update(Submission).where(Submission.id == s2.id).values(state="submitted"))
    db.session.commit()
    task = review.open_task(city, county_sub)
    with pytest.raises(Conflict, match="not approved yet"):
        approvals.approve(city, task.id)
    db.session.rollback()
    assert db.session.get(Submission, county_sub.id).state == "submitted"
    assert request_of(county_sub).state == "running"
    db.session.execute(db.update(Submission).where(Submission.id == s2.id).values(state="approved"))
    db.session.commit()
    approvals.approve(city, task.id)
    assert db.session.get(Submission, county_sub.id).state == "approved"


def test_approve_from_the_approvals_page(city_task, catalogue, client):
    town = catalogue.actor("town_clerk")
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    forms.submit(town, s1.id)
    req = request_of(s1)
    task = review.open_task(catalogue.actor("county_clerk"), s1)
    login(client, "county_clerk")
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    assert f"/reports/submissions/{s1.id}" in page
    r = client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "approve",
                                                      "task_id": task.id, "version": req.version})
    assert r.status_code == 302
    assert db.session.get(Submission, s1.id).state == "approved"
    # The forms to-do no longer lists reviews that are in Approvals.
    from office.inbox import lists as inbox

    s2 = sub_of(city_task, catalogue.unit("330106110"))
    fill(catalogue.actor("town2_clerk"), s2, POP_TOTAL=3000, DIBAO_HH=20)
    forms.submit(catalogue.actor("town2_clerk"), s2.id)
    with client.application.test_request_context():
        items = inbox.items(catalogue.actor("county_clerk"), 50, module="reports")
    assert not [i for i in items if i.kind == "review"]


def test_approvals_does_not_import_forms():
    root = pathlib.Path(__file__).resolve().parents[2] / "office" / "approvals"
    for f in root.glob("*.py"):
        text = f.read_text(encoding="utf-8")
        assert "office.forms" not in text and "from office import forms" not in text, f.name


def test_workload_meter_reads_as_quoted(city_task, catalogue, client):
    """The task page's figure counts submitted reports only (a report not filled yet saves nothing)."""
    town = catalogue.actor("town_clerk")
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    login(client, "county_clerk")
    page = client.get(f"/reports/tasks/{city_task.id}").get_data(as_text=True)
    assert "No report submitted yet." in page
    forms.submit(town, s1.id)
    page = client.get(f"/reports/tasks/{city_task.id}").get_data(as_text=True)
    # 2 of the form's 5 fields typed: 60% less than filling it separately; the draft of the other
    # township does not count.
    assert "Typed 2 of 5 fields in 1 submitted report(s), 60% less than filling each form separately." in page
    assert 'data-saved-pct="60.0"' in page
