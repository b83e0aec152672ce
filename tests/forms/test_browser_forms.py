"""Fill, submit, review and approve a report in a real browser (headless Debian Chromium through
Playwright against a live server, as in tests/test_browser.py): the township clerk sees the values
prefilled from shared data with their source badges, edits one and submits; the county reviewer
approves it (the report page acts on his approval task); the report shows approved and locked."""

from __future__ import annotations

from datetime import date

import pytest

from office.actor import Actor
from office.extensions import db
from office.forms import service as forms
from office.forms.models import Submission
from tests.browser_support import browser_login, shot
from tests.forms.conftest import DEADLINE, sub_of

pytestmark = pytest.mark.browser








@pytest.fixture
def report(catalogue):
    """Shared data for the county's townships, and the civil-affairs form issued by the county."""
    csv = "division_code,element_code,period,value\n" + "".join(
        f"{d},POP_TOTAL,2025Q3,{p}\n{d},DIBAO_HH,2025Q3,{h}\n" for d, p, h in
        (("330106109", 5000, 30), ("330106110", 3000, 20)))
    forms.import_dataset(Actor.system("test"), name="Population 2025Q3", source_name="Household register",
                         as_of=date(2025, 9, 30), data=csv, filename="pop.csv")
    task = forms.issue_task(catalogue.actor("county_clerk"), template_code="CIVIL", period="2025Q3",
                            deadline=DEADLINE)
    return sub_of(task, catalogue.unit("330106109")).id


def test_fill_submit_review_and_approve(live_server, page_factory, report):
    url = f"{live_server}/reports/submissions/{report}"
    town = page_factory()
    browser_login(town, live_server, "town_clerk")
    town.goto(url)
    # Prefilled from shared data, with the source badge.
    assert town.input_value("#f_POP_TOTAL") == "5000"
    assert town.input_value("#f_DIBAO_HH") == "30"
    assert town.locator("tr[data-field=POP_TOTAL] [data-source]").get_attribute("data-source") == "shared"
    assert "Household register" in town.locator("tr[data-field=POP_TOTAL] .badge-source").inner_text()
    # Edit one value (marked as changed) and submit.
    town.fill("#f_DIBAO_HH", "35")
    assert "changed" in (town.get_attribute("#f_DIBAO_HH", "class") or "")
    shot(town, "forms-fill")
    town.click("button[name=action][value=submit]")
    town.wait_for_load_state("domcontentloaded")
    assert town.get_attribute("[data-state]", "data-state") == "submitted"
    assert town.locator("tr[data-field=DIBAO_HH] [data-source]").get_attribute("data-source") == "typed"
    assert town.get_attribute(".approval-link", "data-approval-state") == "running"

    # The county reviewer approves from the report page (his approval task).
    county = page_factory()
    browser_login(county, live_server, "county_clerk")
    county.goto(url)
    assert county.locator("#f_DIBAO_HH").inner_text() == "35"
    county.click("section.review button.primary")
    county.wait_for_load_state("domcontentloaded")
    assert county.get_attribute("[data-state]", "data-state") == "approved"
    assert county.get_attribute(".approval-link", "data-approval-state") == "approved"
    shot(county, "forms-approved")

    # The township sees it approved, its values locked (no inputs).
    town.goto(url)
    assert town.get_attribute("[data-state]", "data-state") == "approved"
    assert town.locator("input#f_DIBAO_HH").count() == 0
    assert town.locator("button[name=action][value=submit]").count() == 0
    db.session.expire_all()
    sub = db.session.get(Submission, report)
    assert sub.state == "approved"
    assert forms.get_value("DIBAO_HH", sub.unit_id, "2025Q3").locked_by_id == sub.id
