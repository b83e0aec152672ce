"""A report issued to units picked one by one: the units below are offered and accepted; a unit
above the issuer, posted by hand, is refused with a message and nothing is issued."""

from __future__ import annotations

from sqlalchemy import func, select

from office.directory import service as directory
from office.extensions import db
from office.forms.models import ReportTask
from tests.conftest import login, post_form


def _form(units, **extra):
    return {"template": "POP", "title": "人口抽查", "period": "2025Q4", "deadline": "2026-12-31",
            "target": "townships", "unit_ids": ",".join(str(u.id) for u in units), **extra}


def test_report_to_picked_units_below(client, catalogue):
    org = catalogue
    town = org.unit("330106109", "gov")
    offered = {c.id for c in directory.search(org.actor("county_clerk"), "forms.target", "三墩")}
    assert town.id in offered
    login(client, "county_clerk")
    r = post_form(client, "/reports/tasks/new", _form([town]), page="/reports/tasks/new")
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "1 unit(s)" in page or "1 个单位" in page


def test_a_unit_above_is_refused(client, catalogue):
    org = catalogue
    login(client, "county_clerk")
    r = post_form(client, "/reports/tasks/new", _form([org.unit("330100", "gov")]), page="/reports/tasks/new")
    assert r.status_code == 400 and "Reports go to units below you." in r.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(ReportTask)).scalar_one() == 0
