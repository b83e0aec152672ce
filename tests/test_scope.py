"""Cross-unit access: another county's records are 404; inside scope without the role is 403."""

from __future__ import annotations

import pytest

from office.auth.scope import scoped
from office.extensions import db
from office.org.models import Unit
from tests.conftest import login


@pytest.mark.parametrize("who", ["county_clerk", "county_admin"])
def test_other_countys_admin_pages_are_404(client, org, who):
    login(client, who)
    other_unit = org.unit("330102", "office")
    other_user = org.user("other_county_clerk")
    for url in (f"/admin/units/{other_unit.id}", f"/admin/users/{other_user.id}",
                f"/admin/units/{other_unit.id}/users/new"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "孔明" not in r.get_data(as_text=True)


def test_forged_post_on_other_countys_user_is_404_and_changes_nothing(client, org):
    from tests.conftest import post_form

    login(client, "county_admin")
    victim = org.user("other_county_clerk")
    r = post_form(client, f"/admin/users/{victim.id}/active", {"active": "0"})
    assert r.status_code == 404
    db.session.expire_all()
    assert org.user("other_county_clerk").active


def test_in_scope_without_role_is_403(client, org):
    login(client, "county_clerk")
    assert client.get(f"/admin/units/{org.unit('330106', 'office').id}").status_code == 403
    assert client.get("/admin/units").status_code == 403


def test_county_admin_manages_own_county_and_townships(client, org):
    login(client, "county_admin")
    page = client.get(f"/admin/units/{org.unit('330106109', 'gov').id}")
    assert page.status_code == 200 and "邓春燕" in page.get_data(as_text=True)
    listing = client.get("/admin/units").get_data(as_text=True)
    assert "杭州市西湖区三墩镇人民政府" in listing and "上城区" not in listing


def test_json_api_requires_login(client, org):
    r = client.get("/api/notifications")
    assert r.status_code == 401 and r.is_json


def test_scoped_helper_returns_only_subtree(org):
    actor = org.actor("county_clerk")
    rows = db.session.execute(scoped(db.select(Unit), Unit.path, actor)).scalars().all()
    assert rows and all(u.path.startswith("330000/330100/330106/") for u in rows)


def test_denials_are_audited(client, org):
    login(client, "county_clerk")
    assert client.get("/admin/units").status_code == 403
    rows = db.session.execute(db.text("SELECT actor_name, object_id FROM audit_event WHERE action = 'access.denied'")).all()
    assert rows == [("罗静", "GET /admin/units")]
