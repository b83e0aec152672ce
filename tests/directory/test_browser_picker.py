"""The picker in a real browser, at 1280 px and at 375 px: a clerk copies a request to a colleague
found by pinyin initials (keyboard only), the leader adds a signer found by browsing the tree and
transfers his task to a person found by name, names a delegate, and the clerk drafts a document
whose recipients are picked. What the user sees is asserted: chips with names, the people in the
timeline, the delegate in the table, the recipients on the document; no horizontal scroll."""

from __future__ import annotations

import pytest

from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, users
from tests.browser_support import DESKTOP, PHONE, browser_login, shot

pytestmark = pytest.mark.browser


def _fits(page, width: int) -> None:
    """Every picker (its chips, box and open list) lies within the screen."""
    right = page.evaluate("Math.max(0, ...Array.from(document.querySelectorAll('.picker, .picker *'))"
                          ".filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().right))")
    assert right <= width + 0.5, f"a picker reaches {right}px on a {width}px screen"


def _in_screen(page, locator, width: int) -> None:
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_people_and_units_are_picked(app, live_server, org, page_factory, viewport):
    width = viewport["width"]
    tag = str(width)
    org.add_user("liuzh", "刘振华", "330106", "mz", ["staff"])
    org.add_user("liuzh2", "刘振华", "330102", "office", ["staff"])  # same name, another county
    flow = make_flow(node("single", assignees=users("county_leader")))
    req_id = submit(org, "county_clerk", flow, title="关于采购办公设备的请示").id
    db.session.commit()
    url = f"{live_server}/approvals/{req_id}"

    # CC by pinyin initials, with the keyboard only.
    clerk = page_factory(viewport)
    browser_login(clerk, live_server, "county_clerk")
    clerk.goto(url)
    cc = clerk.locator("form[data-form=cc]")
    box = cc.locator("[role=combobox]")
    box.focus()
    box.type("lzh")
    options = cc.locator("[role=option]")
    options.first.wait_for()
    assert options.count() == 1, "the other county's 刘振华 is outside the clerk's scope"
    assert "刘振华" in options.first.inner_text() and "民政" in options.first.inner_text()
    assert box.get_attribute("aria-activedescendant") == options.first.get_attribute("id")
    _in_screen(clerk, cc.locator("[role=listbox]"), width)
    shot(clerk, f"picker-cc-list-{tag}")
    box.press("Enter")
    assert cc.locator(".picker-chip").inner_text().startswith("刘振华")
    box.press("Backspace")  # removes the chip again
    assert cc.locator(".picker-chip").count() == 0
    box.type("lzh")
    options.first.wait_for()
    box.press("ArrowDown")
    box.press("Enter")
    assert cc.locator(".picker-chip").count() == 1
    _fits(clerk, width)
    with clerk.expect_navigation():
        cc.locator("button[value=cc]").click()
    row = clerk.locator("table[data-timeline] tr[data-kind=cc]")
    assert "刘振华" in row.inner_text()
    # On focus, the recent choice is offered first.
    clerk.locator("form[data-form=cc] [role=combobox]").focus()
    recent = clerk.locator("form[data-form=cc] [role=listbox]")
    recent.locator("[role=option]").first.wait_for()
    assert "刘振华" in recent.inner_text()
    shot(clerk, f"picker-cc-done-{tag}")

    # The leader adds a signer found by browsing the tree, then transfers by name.
    leader = page_factory(viewport)
    browser_login(leader, live_server, "county_leader")
    leader.goto(url)
    form = leader.locator("form[data-form=delegate]")
    form.locator(".picker-browse").click()
    tree = form.locator(".picker-tree")
    tree.locator("button", has_text="杭州市西湖区人民政府").first.click()
    tree.locator("button", has_text="谢晓东").wait_for()
    _in_screen(leader, tree, width)
    shot(leader, f"picker-browse-{tag}")
    tree.locator("button", has_text="谢晓东").click()
    assert form.locator(".picker-chip").inner_text().startswith("谢晓东")
    form.locator("select[name=mode]").select_option("after")
    with leader.expect_navigation():
        form.locator("button[value=add_signer]").click()
    assert "谢晓东" in leader.locator("table[data-timeline] tr[data-kind=add_signer]").inner_text()
    form = leader.locator("form[data-form=delegate]")
    box = form.locator("[role=combobox]")
    box.fill("唐永")
    form.locator("[role=option]", has_text="唐永红").click()
    assert form.locator(".picker-chip").inner_text().startswith("唐永红")
    with leader.expect_navigation():
        form.locator("button[value=transfer]").click()
    assert "唐永红" in leader.locator("table[data-timeline] tr[data-kind=transfer]").inner_text()
    _fits(leader, width)
    shot(leader, f"picker-transfer-{tag}")

    # Delegation: only the people of the leader's own unit are offered.
    leader.goto(f"{live_server}/account")
    box = leader.locator(".picker[data-picker-box='auth.delegate'] [role=combobox]")
    box.type("刘振华")
    leader.locator(".picker[data-picker-box='auth.delegate'] .picker-empty").wait_for()
    box.fill("")
    box.type("xxd")
    option = leader.locator(".picker[data-picker-box='auth.delegate'] [role=option]").first
    option.wait_for()
    assert "谢晓东" in option.inner_text()
    box.press("Enter")
    leader.fill("input[name=dl-start]", "2026-12-01")
    leader.fill("input[name=dl-end]", "2026-12-05")
    _fits(leader, width)
    with leader.expect_navigation():
        leader.locator("button", has_text="指定代理人").or_(leader.locator("button", has_text="Name delegate")).click()
    assert "谢晓东" in leader.locator("table.table tbody").inner_text()
    shot(leader, f"picker-delegation-{tag}")

    # A document's recipients are picked: main by name, CC by pinyin.
    clerk.goto(f"{live_server}/documents/new")
    clerk.fill("input[name=title]", "关于做好防汛工作的通知")
    main = clerk.locator(".picker[data-picker-box='docflow.main']")
    main.locator("[role=combobox]").type("三墩")
    main.locator("[role=option]", has_text="三墩镇").first.click()
    main.locator("[role=combobox]").type("双浦")
    main.locator("[role=option]", has_text="双浦镇").first.click()
    assert main.locator(".picker-chip").count() == 2
    cc = clerk.locator(".picker[data-picker-box='docflow.cc']")
    cc.locator("[role=combobox]").type("hzs")
    cc.locator("[role=option]", has_text="杭州市人民政府").first.click()
    _fits(clerk, width)
    assert clerk.evaluate("document.documentElement.scrollWidth") <= width, "the draft form scrolls sideways"
    shot(clerk, f"picker-recipients-{tag}")
    with clerk.expect_navigation():
        clerk.locator("form.docflow-editor button[type=submit]").click()
    page_text = clerk.locator("main").inner_text()
    assert "三墩镇人民政府" in page_text and "双浦镇人民政府" in page_text
    assert "杭州市人民政府" in page_text
    assert clerk.evaluate("document.documentElement.scrollWidth") <= width, "the new draft scrolls sideways"
    shot(clerk, f"picker-document-{tag}")


def test_the_flow_editor_fits_a_phone(app, live_server, org, page_factory):
    """The node table scrolls inside its panel; the page itself does not scroll sideways."""
    page = page_factory(PHONE)
    browser_login(page, live_server, "county_admin")
    page.goto(f"{live_server}/approvals/flows/edit")
    assert page.locator("input[name=n0_name]").count() == 1
    shot(page, "flow-editor-375")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
