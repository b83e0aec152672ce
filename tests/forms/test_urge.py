"""Urging the late units of a report task is the issuing unit's duty: its clerks and leaders (and
those of its government's general office). Anybody else in the task's tree gets 403, anybody
outside it 404, and nobody is notified."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from office.errors import NotFound, PermissionDenied
from office.extensions import db
from office.forms import service as forms
from office.notifications.models import Notification
from tests.conftest import csrf_from, login


def _urges() -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == "urge")).scalar_one()


@pytest.mark.parametrize("who, error", [
    ("town_clerk", PermissionDenied),    # a township of the task: its own report, not the issuer's duty
    ("town_leader", PermissionDenied),
    ("county_staff", PermissionDenied),  # the issuing office, but not its clerk or leader
    ("city_clerk", PermissionDenied),    # above the issuer: sees the task, does not issue it
    ("other_county_clerk", NotFound),    # another county: outside the task's tree
])
def test_only_the_issuer_urges_and_nobody_is_notified_otherwise(issued, catalogue, who, error):
    pop, _civil = issued
    with pytest.raises(error):
        forms.urge_late(catalogue.actor(who), pop.id)
    db.session.rollback()
    assert _urges() == 0


@pytest.mark.parametrize("who", ["county_clerk", "county_leader"])
def test_the_issuing_units_clerk_and_leader_urge(issued, catalogue, who):
    pop, _civil = issued
    assert forms.urge_late(catalogue.actor(who), pop.id) == 2
    assert {n.user_id for n in db.session.execute(select(Notification).where(Notification.kind == "urge"))
            .scalars()} == {catalogue.user("town_clerk").id, catalogue.user("town2_clerk").id}


def test_a_township_clerks_urge_on_the_county_task_is_refused_over_http(app, issued, catalogue):
    pop, _civil = issued
    client = app.test_client()
    login(client, "town_clerk")
    page = client.get(f"/reports/tasks/{pop.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/reports/tasks/{pop.id}/urge" not in html  # no button
    r = client.post(f"/reports/tasks/{pop.id}/urge", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 403
    assert _urges() == 0
    outsider = app.test_client()
    login(outsider, "other_county_clerk")
    token = csrf_from(outsider.get("/").get_data(as_text=True))
    assert outsider.post(f"/reports/tasks/{pop.id}/urge", data={"csrf_token": token}).status_code == 404
    assert _urges() == 0
    issuer = app.test_client()
    login(issuer, "county_clerk")
    html = issuer.get(f"/reports/tasks/{pop.id}").get_data(as_text=True)
    assert f"/reports/tasks/{pop.id}/urge" in html
    assert issuer.post(f"/reports/tasks/{pop.id}/urge", data={"csrf_token": csrf_from(html)}).status_code == 302
    assert _urges() == 2
