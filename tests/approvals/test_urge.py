"""Urging an approval is its requester's: anybody else who can see the request gets 403, anybody
who cannot 404, and the approvers are not notified."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from office.approvals import service
from office.errors import NotFound, PermissionDenied
from office.extensions import db
from office.notifications.models import Notification
from tests.approvals.helpers import make_flow, node, submit, users
from tests.conftest import csrf_from, login


def _urges() -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == "urge")).scalar_one()


@pytest.fixture
def running(org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    return submit(org, "county_clerk", flow)


@pytest.mark.parametrize("who, error", [("county_leader", PermissionDenied), ("county_staff", NotFound),
                                        ("county_admin", PermissionDenied), ("town_clerk", NotFound),
                                        ("other_county_clerk", NotFound)])
def test_nobody_but_the_requester_urges(org, running, who, error):
    with pytest.raises(error):
        service.urge(org.actor(who), running.id)
    db.session.rollback()
    assert _urges() == 0


def test_the_api_refuses_other_peoples_urges(app, org, running):
    # The approver sees the request (403); a colleague not in it and another county do not (404).
    for who, status in (("county_leader", 403), ("county_staff", 404), ("other_county_clerk", 404)):
        client = app.test_client()
        login(client, who)
        token = csrf_from(client.get("/account").get_data(as_text=True))
        r = client.post(f"/api/approvals/requests/{running.id}/urge", json={"message": "快"},
                        headers={"X-CSRFToken": token})
        assert r.status_code == status, (who, r.status_code)
        assert _urges() == 0
    client = app.test_client()
    login(client, "county_clerk")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    assert client.post(f"/api/approvals/requests/{running.id}/urge", json={"message": "快"},
                       headers={"X-CSRFToken": token}).status_code == 200
    assert _urges() == 1
