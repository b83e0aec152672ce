"""Urging a distribution is the sender's duty: the issuing unit's clerks and leaders urge the whole
tree, a unit that forwarded the document urges what it forwarded; a recipient that forwarded
nothing, or a staff member, is refused (403), and nobody is notified."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from office.docflow import service as df
from office.docflow.models import Receipt
from office.errors import NotFound, PermissionDenied
from office.extensions import db
from office.notifications.models import Notification
from tests.conftest import csrf_from, login
from tests.docflow.conftest import issue


def _urges() -> int:
    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == "urge")).scalar_one()


@pytest.fixture
def distributed(org, province_notice):
    org.add_user("prov_staff", "陈志强", "330000", "office", ["staff"])
    issue(org, province_notice, clerk="prov_clerk", leader="prov_leader")
    return province_notice


@pytest.mark.parametrize("who, error", [
    ("prov_staff", PermissionDenied),     # the issuing office, but not its clerk or leader
    ("county_clerk", PermissionDenied),   # a recipient that forwarded nothing
    ("county_leader", PermissionDenied),
    ("town_clerk", NotFound),             # never received it
])
def test_others_may_not_urge_and_nobody_is_notified(org, distributed, who, error):
    with pytest.raises(error):
        df.urge(org.actor(who), distributed.id)
    db.session.rollback()
    assert _urges() == 0


def test_the_issuer_urges_all_and_a_forwarder_what_it_forwarded(org, distributed):
    city = db.session.execute(select(Receipt).where(Receipt.document_id == distributed.id,
                                                    Receipt.unit_id == org.unit("330100", "gov").id)).scalar_one()
    df.sign_for(org.actor("city_clerk"), city.id)
    df.forward(org.actor("city_clerk"), city.id, main=["group:township_governments"])
    assert df.urge(org.actor("city_clerk"), distributed.id) == 3  # the three townships of 杭州市
    assert df.urge(org.actor("prov_leader"), distributed.id) == 8  # 2 cities, 3 counties, 3 townships
    assert _urges() > 0


def test_a_recipients_urge_over_http_is_refused(app, org, distributed):
    client = app.test_client()
    login(client, "county_clerk")
    html = client.get(f"/documents/{distributed.id}").get_data(as_text=True)
    r = client.post(f"/documents/{distributed.id}/action/urge", data={"csrf_token": csrf_from(html)})
    assert r.status_code == 403
    assert _urges() == 0
    staff = app.test_client()
    login(staff, "prov_staff")
    html = staff.get(f"/documents/{distributed.id}").get_data(as_text=True)
    assert f"/documents/{distributed.id}/action/urge" not in html
