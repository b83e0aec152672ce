"""Cascade review, locks, scope (service, views, API), roll-up, urging, workload, Excel."""

from __future__ import annotations

import io
import json

import pytest

from office.approvals import service as approvals
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import service as forms
from office.forms.models import Submission
from office.notifications.models import Notification
from tests.conftest import login
from tests.forms.conftest import DEADLINE, sub_of


def fill(clerk, sub, **values):
    forms.save(clerk, sub.id, {k: str(v) for k, v in values.items()})


def review_task(actor, sub):
    """The actor's open approval task on a submission (review goes through the approvals engine)."""
    from office.forms import review

    task = review.open_task(actor, sub)
    assert task is not None, f"{actor.name} has no approval task on submission {sub.id}"
    return task


def approve_task(actor, sub, opinion=""):
    approvals.approve(actor, review_task(actor, sub).id, opinion=opinion)


def return_task(actor, sub, opinion):
    approvals.return_task(actor, review_task(actor, sub).id, to="drafter", opinion=opinion)


@pytest.fixture
def city_task(catalogue):
    return forms.issue_task(catalogue.actor("city_clerk"), template_code="CIVIL", period="2025Q3",
                            deadline=DEADLINE)


def test_issue_creates_cascade(city_task, catalogue):
    subs = db.session.execute(db.select(Submission).where(Submission.task_id == city_task.id)).scalars().all()
    leaves = {s.unit.code: s for s in subs if s.kind == "leaf"}
    rollups = {s.unit.code: s for s in subs if s.kind == "rollup"}
    assert set(leaves) == {"330106109-gov", "330106110-gov", "330102001-gov"}
    assert set(rollups) == {"330106-gov", "330102-gov"}
    assert leaves["330106109-gov"].parent_id == rollups["330106-gov"].id
    assert rollups["330106-gov"].parent_id is None
    # The township clerk was told.
    assert db.session.execute(db.select(Notification).where(
        Notification.user_id == catalogue.user("town_clerk").id)).scalar_one().kind == "assignment"


def test_county_cannot_approve_before_townships_and_approval_locks(city_task, catalogue):
    t1, t2 = catalogue.unit("330106109"), catalogue.unit("330106110")
    town, town2 = catalogue.actor("town_clerk"), catalogue.actor("town2_clerk")
    county, city = catalogue.actor("county_clerk"), catalogue.actor("city_clerk")
    s1, s2 = sub_of(city_task, t1), sub_of(city_task, t2)
    county_sub = sub_of(city_task, catalogue.unit("330106"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    fill(town2, s2, POP_TOTAL=3000, DIBAO_HH=20)
    # Errors block, warnings need a reason.
    fill(town2, s2, DIBAO_HH=3001)
    with pytest.raises(ValidationError, match="More households than people"):
        forms.submit(town2, s2.id)
    fill(town2, s2, DIBAO_HH=31)  # +55% on nothing before: no warning, but 31*100 > 3000
    with pytest.raises(ValidationError, match="reason"):
        forms.submit(town2, s2.id)
    forms.submit(town2, s2.id, warning_reason="New estate handed over")
    forms.submit(town, s1.id)
    # Only the level above reviews (its approval task); the township cannot approve itself.
    with pytest.raises(PermissionDenied):
        forms.approve(town, s1.id)
    assert review_task(county, s1)
    approve_task(county, s1, "OK")
    assert sub_of(city_task, t1).state == "approved" and sub_of(city_task, t1).review_note == "OK"
    # The county cannot report up (nor the city approve it) while a township is not approved.
    with pytest.raises(Conflict, match="not approved"):
        forms.submit(county, county_sub.id)
    with pytest.raises(Conflict):
        forms.approve(city, county_sub.id)
    # Approved values are locked, in this form and in every other form.
    with pytest.raises(Conflict):
        fill(town, s1, DIBAO_HH=41)
    pop = forms.issue_task(county, template_code="POP", period="2025Q3", deadline=DEADLINE)
    with pytest.raises(Conflict, match="locked"):
        fill(town, sub_of(pop, t1), POP_MALE=1, POP_FEMALE=2)
    # Returned with a note (an approved report, by the reviewing unit): unlocked and editable again.
    with pytest.raises(ValidationError):
        forms.return_submission(county, s1.id, note="")
    forms.return_submission(county, s1.id, note="Check the households")
    assert sub_of(city_task, t1).state == "returned"
    fill(town, s1, DIBAO_HH=41)
    assert forms.get_value("DIBAO_HH", t1.id, "2025Q3").value_text == "41"
    forms.submit(town, s1.id)
    # Returned through the approval task: unlocked, the note kept.
    return_task(county, s1, "One more check")
    assert sub_of(city_task, t1).state == "returned" and sub_of(city_task, t1).review_note == "One more check"
    forms.submit(town, s1.id)
    approve_task(county, s1)
    approve_task(county, s2)
    forms.submit(county, county_sub.id)
    # The city reviews the county's roll-up through its approval task.
    with pytest.raises(PermissionDenied):
        forms.approve(county, county_sub.id)
    approve_task(city, county_sub)
    assert sub_of(city_task, catalogue.unit("330106")).state == "approved"
    # Once the county has reported, it must be returned before a township can be.
    with pytest.raises(Conflict):
        forms.return_submission(county, s1.id, note="again")


def test_township_cannot_read_another_townships_submission(city_task, catalogue, client):
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    with pytest.raises(NotFound):
        forms.get_submission(catalogue.actor("town2_clerk"), s1.id)
    assert forms.get_submission(catalogue.actor("county_clerk"), s1.id).id == s1.id
    login(client, "town2_clerk")
    assert client.get(f"/reports/submissions/{s1.id}").status_code == 404
    assert client.get(f"/api/reports/submissions/{s1.id}").status_code == 404
    assert client.get(f"/reports/submissions/{s1.id}/form.xlsx").status_code == 404
    own = sub_of(city_task, catalogue.unit("330106110"))
    page = client.get(f"/reports/submissions/{own.id}")
    assert page.status_code == 200
    assert client.get(f"/api/reports/submissions/{own.id}").get_json()["unit"] == "330106110-gov"
    # The task view shows the township only its own part.
    data = client.get(f"/api/reports/tasks/{city_task.id}").get_json()
    assert data["rollup"]["expected"] == 1
    assert client.get(f"/api/reports/tasks/{city_task.id}?path=330000/330100/").status_code == 404


def test_fill_and_review_through_views(city_task, catalogue, client):
    from tests.conftest import csrf_from

    s1 = sub_of(city_task, catalogue.unit("330106109"))
    login(client, "town_clerk")
    page = client.get(f"/reports/submissions/{s1.id}").get_data(as_text=True)
    assert 'name="f_DIBAO_HH"' in page
    # A fresh page shows its prefills (if any), not "required" errors before anything was saved.
    assert "is required" not in page
    token = csrf_from(page)
    r = client.post(f"/reports/submissions/{s1.id}/save", data={
        "csrf_token": token, "f_POP_TOTAL": "", "f_DIBAO_HH": "30", "v_POP_TOTAL": "0", "v_DIBAO_HH": "0",
        "action": "save", "version": s1.version})
    assert r.status_code == 302
    page = client.get(f"/reports/submissions/{s1.id}").get_data(as_text=True)
    assert "Registered population is required." in page  # a saved draft is checked
    r = client.post(f"/reports/submissions/{s1.id}/save", data={
        "csrf_token": token, "f_POP_TOTAL": "5000", "f_DIBAO_HH": "30", "v_POP_TOTAL": "0", "v_DIBAO_HH": "0",
        "action": "submit", "version": sub_of(city_task, catalogue.unit("330106109")).version})
    assert r.status_code == 302
    assert sub_of(city_task, catalogue.unit("330106109")).state == "submitted"
    page = client.get(f"/reports/submissions/{s1.id}").get_data(as_text=True)
    assert 'data-source="typed"' in page
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "county_clerk")
    page = client.get(f"/reports/submissions/{s1.id}").get_data(as_text=True)
    assert 'class="approval-link"' in page and 'data-approval-state="running"' in page
    # The review is an approval task in the county clerk's Approvals to-do.
    assert "Report:" in client.get("/approvals/").get_data(as_text=True)
    r = client.post(f"/reports/submissions/{s1.id}/approve", data={"csrf_token": csrf_from(page)})
    assert r.status_code == 302
    assert sub_of(city_task, catalogue.unit("330106109")).state == "approved"
    page = client.get(f"/reports/submissions/{s1.id}").get_data(as_text=True)
    assert 'data-approval-state="approved"' in page
    assert client.get(f"/reports/tasks/{city_task.id}").status_code == 200
    assert client.get("/reports/").status_code == 200
    todo = client.get("/todo").get_data(as_text=True)
    assert todo is not None
    # API: JSON save with a stale version is 409.
    r = client.get("/api/reports/values?element=DIBAO_HH&unit=330106109-gov&period=2025Q3")
    assert r.get_json()["value"] == "30" and r.get_json()["locked"] is True


def test_rollup_progress_urge_and_workload(city_task, catalogue):
    town, town2 = catalogue.actor("town_clerk"), catalogue.actor("town2_clerk")
    s1, s2 = sub_of(city_task, catalogue.unit("330106109")), sub_of(city_task, catalogue.unit("330106110"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40, INCOME=3.0)
    fill(town2, s2, POP_TOTAL=3000, DIBAO_HH=20, INCOME=4.0)
    from datetime import datetime

    from office import timeutil

    timeutil.freeze(datetime(2025, 10, 1, 8, 0))
    forms.submit(town, s1.id)
    total = forms.rollup(city_task, "330000/330100/")
    assert total.values["POP_TOTAL"] == 8000
    assert total.values["INCOME"] == pytest.approx(3.5)
    assert total.progress.expected == 3 and total.progress.submitted == 1 and total.progress.on_time == 1
    rows = {r.key: r for r in forms.drilldown(city_task, "330000/330100/")}
    assert rows["330000/330100/330106/"].values["DIBAO_HH"] == 60
    assert rows["330000/330100/330106/"].name == "西湖区"
    assert rows["330000/330100/330102/"].values["DIBAO_HH"] is None
    towns = {r.key: r for r in forms.drilldown(city_task, "330000/330100/330106/")}
    assert towns["330000/330100/330106/330106109/"].values["POP_TOTAL"] == 5000
    n = forms.urge_late(catalogue.actor("city_clerk"), city_task.id)
    assert n == 2
    urged = db.session.execute(db.select(Notification).where(Notification.kind == "urge")).scalars().all()
    assert {u.user_id for u in urged} == {catalogue.user("town2_clerk").id}  # 330102001 has no clerk
    w = forms.workload(task_id=city_task.id)
    assert w.submissions == 3 and w.typed == 6


def test_excel_round_trip_and_bad_cell(city_task, catalogue):
    town = catalogue.actor("town_clerk")
    s1 = sub_of(city_task, catalogue.unit("330106109"))
    fill(town, s1, POP_TOTAL=5000, DIBAO_HH=40)
    data = forms.export_excel(s1, filled=True)
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}
    assert ws.cell(rows["POP_TOTAL"], 3).value == 5000
    ws.cell(rows["DIBAO_HH"], 3).value = 44
    ws.cell(rows["INCOME"], 3).value = 2.5
    buf = io.BytesIO()
    wb.save(buf)
    forms.upload_excel(town, s1.id, buf.getvalue())
    assert forms.get_value("DIBAO_HH", s1.unit_id, "2025Q3").value_text == "44"
    assert forms.get_value("INCOME", s1.unit_id, "2025Q3").value_text == "2.5"
    # Unchanged values are not rewritten; a bad cell is named and nothing is saved.
    ws.cell(rows["DIBAO_HH"], 3).value = "forty"
    ws.cell(rows["INCOME"], 3).value = 9
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ValidationError, match=f"C{rows['DIBAO_HH']}"):
        forms.upload_excel(town, s1.id, buf.getvalue())
    assert forms.get_value("INCOME", s1.unit_id, "2025Q3").value_text == "2.5"
    # A blank download round-trips too (empty cells, no change).
    blank = forms.export_excel(s1, filled=False)
    forms.upload_excel(town, s1.id, blank)
    assert forms.get_value("DIBAO_HH", s1.unit_id, "2025Q3").value_text == "44"
    # Another form's workbook is refused.
    pop = forms.issue_task(catalogue.actor("county_clerk"), template_code="POP", period="2025Q3", deadline=DEADLINE)
    with pytest.raises(ValidationError, match="B2"):
        forms.upload_excel(town, s1.id, forms.export_excel(sub_of(pop, catalogue.unit("330106109"))))


def test_api_values_and_conflict(city_task, catalogue, client):
    from tests.conftest import csrf_from

    s1 = sub_of(city_task, catalogue.unit("330106109"))
    login(client, "town_clerk")
    token = csrf_from(client.get("/reports/").get_data(as_text=True))
    h = {"X-CSRFToken": token, "Content-Type": "application/json"}
    r = client.post(f"/api/reports/submissions/{s1.id}/values", headers=h,
                    data=json.dumps({"values": {"POP_TOTAL": 10, "DIBAO_HH": 1}}))
    assert r.status_code == 200, r.get_data(as_text=True)
    fields = {f["code"]: f for f in r.get_json()["fields"]}
    assert fields["DIBAO_HH"]["value"] == "1" and fields["DIBAO_HH"]["version"] == 1
    ok = client.post(f"/api/reports/submissions/{s1.id}/values", headers=h,
                     data=json.dumps({"values": {"DIBAO_HH": 2}, "versions": {"DIBAO_HH": 1}}))
    assert ok.status_code == 200
    stale = client.post(f"/api/reports/submissions/{s1.id}/values", headers=h,
                        data=json.dumps({"values": {"DIBAO_HH": 3}, "versions": {"DIBAO_HH": 1}}))
    assert stale.status_code == 409
    assert client.get("/api/reports/tasks").get_json()["items"][0]["id"] == city_task.id
