"""The organisation tree of Guangdong (the real file: 东莞 and 中山 have towns directly under the
city) in a real browser: expand a level, find a town by name, open its unit page; at 1280 and 375
pixels wide."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from office.extensions import db
from tests.browser_support import PHONE, browser_login, shot
from tests.conftest import Org
from tests.org.conftest import ORGANS

pytestmark = pytest.mark.browser
DATA = Path(__file__).resolve().parents[2] / "office" / "data"


@pytest.fixture
def guangdong(app_ctx):
    from office.demo import build_units
    from office.org.service import import_divisions, import_units

    import_divisions(DATA / "guangdong-divisions.csv")
    build_units()
    db.session.commit()
    import_units(io.StringIO(ORGANS))
    o = Org()
    o.add_user("gd_prov_clerk", "黄文静", "440000", "office", ["clerk"])
    o.add_user("hm_clerk", "袁芳", "441900121", "gov", ["clerk"])
    o.add_user("hm_leader", "莫强", "441900121", "gov", ["leader"], 1)
    return o


def _find_and_open(page, base, width_name):
    page.goto(f"{base}/org/")
    dg = page.locator("li.org-node[data-code='441900']")
    dg.locator(":scope > .org-row .org-toggle").click()
    page.wait_for_selector("li.org-node[data-code='441900121']")
    assert dg.locator("li.org-node").count() == 32  # its towns, fetched on demand
    assert dg.locator(":scope > .org-row .org-toggle").get_attribute("aria-expanded") == "true"
    shot(page, f"org-tree-{width_name}")
    page.fill("input[name=q]", "虎门")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".org-hits")
    hit = page.locator(".org-hits li", has_text="虎门镇").first
    assert "广东省 › 东莞市" in hit.inner_text()
    shot(page, f"org-search-{width_name}")
    hit.locator("a.org-name").click()
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == "东莞市虎门镇人民政府"
    assert "东莞市" in page.inner_text(".org-crumbs")
    body = page.inner_text("main")
    assert "袁芳" in body and "莫强" in body
    shot(page, f"org-unit-{width_name}")


def test_org_tree_find_a_town_and_open_its_unit(live_server, page_factory, guangdong):
    desktop = page_factory()
    browser_login(desktop, live_server, "gd_prov_clerk")
    _find_and_open(desktop, live_server, "1280")
    phone = page_factory(PHONE)
    browser_login(phone, live_server, "gd_prov_clerk")
    _find_and_open(phone, live_server, "375")
    # Nothing overflows the phone's width.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
