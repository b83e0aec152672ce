"""A province notice walked through the pages in a real browser (headless Debian Chromium through
Playwright against a live server): drafting, review, sign-off in Approvals, numbering, seal,
distribution, a city forwarding it to its counties and townships, a township closing it, and the
province's status tree counting it all. Fixtures and launch flags as in tests/test_browser.py."""

from __future__ import annotations

import re

import pytest

from office.extensions import db
from tests.browser_support import browser_login, shot

pytestmark = pytest.mark.browser








def as_user(page_factory, base: str, username: str):
    page = page_factory()
    browser_login(page, base, username)
    return page


def click_action(page, name: str, text: str | None = None) -> None:
    """Press the step button ``name`` (its form's text field filled first) and wait for the next page."""
    button = page.locator(f"button[data-action='{name}']").first
    if text is not None:
        button.locator("xpath=ancestor::form").locator("input[name=text]").fill(text)
    with page.expect_navigation() as nav:
        button.click()
    status = nav.value.status if nav.value is not None else 200
    assert status == 200 and page.locator(".flash-error").count() == 0, (name, page.locator("main").inner_text()[:500])


def counts(page) -> dict[str, int]:
    el = page.locator(".docflow-counts").first
    return {k: int(el.get_attribute(f"data-{k}")) for k in ("total", "signed", "handled", "overdue")}


def _receipt_id(unit, *, root_id: int) -> int:
    from office.docflow.models import Receipt

    db.session.expire_all()
    return db.session.execute(db.select(Receipt.id).where(Receipt.root_document_id == root_id,
                                                          Receipt.unit_id == unit.id)
                              .order_by(Receipt.id.desc())).scalars().first()


def test_province_notice_walk_in_the_browser(app, live_server, org, page_factory):
    base = live_server
    title = "浙江省人民政府关于做好今冬明春森林防火工作的通知"
    prov_gov = org.unit("330000", "gov")

    # The province clerk drafts the notice to every city and county government and submits it.
    clerk = as_user(page_factory, base, "prov_clerk")
    clerk.goto(f"{base}/documents/new")
    clerk.fill("input[name=title]", title)
    clerk.fill("input[name=lead_unit_id]", str(prov_gov.id))
    clerk.check("input[name=main_group][value='group:city_governments']")
    clerk.check("input[name=main_group][value='group:county_governments']")
    clerk.fill("textarea[name=body]", "各市、县（市、区）人民政府：\n一、压实防火责任\n（一）落实属地管理。\n1. 加强巡查。")
    clerk.fill("input[name=due_days]", "10")
    with clerk.expect_navigation():
        clerk.click("form.docflow-editor button[type=submit]")
    doc_url = clerk.url
    doc_id = int(re.search(r"/documents/(\d+)$", doc_url).group(1))
    click_action(clerk, "submit")
    # The reviewer of the general office passes it: it goes to the leader's Approvals to-do.
    click_action(clerk, "review_pass", "格式规范，同意报签")
    assert clerk.locator("[data-signoff-pending]").count() == 1
    shot(clerk, "docflow-signoff-pending")

    # The leader signs off in Approvals.
    leader = as_user(page_factory, base, "prov_leader")
    leader.goto(f"{base}/approvals/")
    link = leader.locator("main a", has_text=title).first
    with leader.expect_navigation():
        link.click()
    leader.fill("form[data-form=decide] textarea[name=opinion]", "同意印发。")
    with leader.expect_navigation():
        leader.click("form[data-form=decide] button[value=approve]")
    shot(leader, "docflow-signoff-approved")

    # Back on the document: the sign-off as recorded in Approvals; re-check, number, seal, distribute.
    clerk.goto(doc_url)
    assert clerk.locator("[data-signer]").inner_text() == "李建国"
    assert clerk.locator("[data-sign-opinion]").inner_text() == "同意印发。"
    for step in ("recheck", "number", "seal", "distribute"):
        click_action(clerk, step)
    number = clerk.locator(".docflow-number").inner_text()
    assert re.match(r"浙政发〔\d{4}〕1号", number), number
    assert counts(clerk) == {"total": 5, "signed": 0, "handled": 0, "overdue": 0}
    shot(clerk, "docflow-distributed")

    # The city signs for it and forwards it to its counties and townships.
    city = as_user(page_factory, base, "city_clerk")
    city.goto(f"{base}/documents/")
    with city.expect_navigation():
        city.locator("main a", has_text=title).first.click()
    click_action(city, "sign_for")
    city.check("input[name=main_group][value='group:county_governments']")
    city.check("input[name=main_group][value='group:township_governments']")
    click_action(city, "forward", "请认真贯彻落实。")
    assert "杭政发" in city.locator(".docflow-number").inner_text()

    # A township signs for it, registers it, handles and closes it.
    town_receipt = _receipt_id(org.unit("330106109", "gov"), root_id=doc_id)
    town = as_user(page_factory, base, "town_clerk")
    town.goto(f"{base}/documents/")
    with town.expect_navigation():
        town.locator(f"tr[data-receipt='{town_receipt}'] a").click()
    click_action(town, "sign_for")
    click_action(town, "register")
    click_action(town, "close", "已完成辖区林区巡查，落实护林员12名。")
    assert town.locator("[data-receipt-state]").get_attribute("data-receipt-state") == "done"
    shot(town, "docflow-township-closed")

    # The province's status tree reaches the townships.
    clerk.goto(doc_url)
    assert counts(clerk) == {"total": 10, "signed": 2, "handled": 1, "overdue": 0}
    tree = clerk.locator(".docflow-tree").inner_text()
    assert "三墩镇" in tree and "杭州市" in tree
    shot(clerk, "docflow-status-tree")
