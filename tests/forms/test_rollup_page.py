"""The roll-up page lists the reports of the level it shows; deeper ones one click down."""

from __future__ import annotations

import re

from tests.conftest import login


def test_rollup_page_lists_the_reports_of_its_level(catalogue, client):
    """The city's page lists the city's and the counties' reports; the townships' appear one level
    down, on the county's page (the drill-down row links there)."""
    from datetime import datetime

    from office.extensions import db
    from office.forms import service as forms
    from office.forms.models import Submission

    task = forms.issue_task(catalogue.actor("city_clerk"), template_code="CIVIL", period="2025Q3",
                            deadline=datetime(2025, 10, 15, 15, 59))
    subs = db.session.execute(db.select(Submission).where(Submission.task_id == task.id)).scalars().all()
    towns = [s for s in subs if s.path.count("/") == 4]
    counties = [s for s in subs if s.path.count("/") == 3]
    assert towns and counties
    login(client, "city_clerk")
    top = client.get(f"/reports/tasks/{task.id}").get_data(as_text=True)
    listed = set(re.findall(r'href="/reports/submissions/(\d+)"', top))
    assert {str(s.id) for s in counties} <= listed and not {str(s.id) for s in towns} & listed
    county_path = counties[0].path
    assert f"/reports/tasks/{task.id}?path={county_path}" in top
    down = client.get(f"/reports/tasks/{task.id}?path={county_path}").get_data(as_text=True)
    below = set(re.findall(r'href="/reports/submissions/(\d+)"', down))
    assert {str(s.id) for s in towns if s.path.startswith(county_path)} <= below
