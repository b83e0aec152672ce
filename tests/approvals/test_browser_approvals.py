"""A county request climbing to the province (逐级) in a real browser: the county clerk submits a
stand-alone request; the county, city and province leaders each find it in their to-do list and
approve it with an opinion; the clerk sees it approved with all three in the timeline, in order.

Headless Debian Chromium through Playwright against a live server (the approach of
tests/test_browser.py); screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import pytest

from office.extensions import db
from tests.approvals.helpers import make_flow, node
from tests.browser_support import browser_login, shot

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"







def test_county_request_climbs_to_the_province(app, live_server, org, page_factory, tmp_path):
    flow = make_flow(node("sequential", name="逐级审批", assignees={"kind": "leader_up_to", "level": "province"}),
                     key="up-to-province", subject_type="request")
    flow_id = flow.id
    db.session.commit()
    title = "关于购置防汛应急物资的请示"
    attachment = tmp_path / "物资清单.pdf"
    attachment.write_bytes(PDF)

    # The county clerk submits the request with an attachment.
    clerk = page_factory()
    browser_login(clerk, live_server, "county_clerk")
    clerk.goto(f"{live_server}/approvals/new")
    form = clerk.locator("form[data-form=new-request]")
    form.locator("input[name=title]").fill(title)
    form.locator("textarea[name=body]").fill("拟购置帐篷 50 顶、救生衣 200 件。")
    form.locator("input[name=amount]").fill("52000")
    form.locator("select[name=flow_id]").select_option(str(flow_id))
    form.locator("input[name=attachments]").set_input_files(str(attachment))
    with clerk.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/approvals/" in clerk.url and "/new" not in clerk.url
    request_url = clerk.url
    assert clerk.locator("[data-state]").get_attribute("data-state") == "running"
    assert clerk.locator("[data-attachments] a").inner_text() == "物资清单.pdf"
    shot(clerk, "approvals-submitted")

    # Each leader in turn: to-do list, request page, approve with an opinion.
    opinions = [("county_leader", "宋立新", "同意，报市政府"), ("city_leader", "杨光明", "同意，请省政府审定"),
                ("prov_leader", "李建国", "同意购置")]
    for i, (username, name, opinion) in enumerate(opinions):
        leader = page_factory()
        browser_login(leader, live_server, username)
        leader.goto(f"{live_server}/approvals/")
        link = leader.locator("table[data-list=todo] a", has_text=title)
        assert link.count() == 1, f"{username} does not see the request in the to-do list"
        with leader.expect_navigation():
            link.click()
        assert leader.url == request_url
        decide = leader.locator("form[data-form=decide]")
        decide.locator("textarea[name=opinion]").fill(opinion)
        with leader.expect_navigation():
            decide.locator("button[name=action][value=approve]").click()
        assert leader.locator("form[data-form=decide]").count() == 0  # nothing more to decide
        row = leader.locator("table[data-timeline] tr[data-kind=approve]").last
        assert name in row.inner_text() and opinion in row.inner_text()
        leader.goto(f"{live_server}/approvals/")
        assert leader.locator("table[data-list=todo] a", has_text=title).count() == 0
        if i + 1 < len(opinions):  # the next leader has it now, not before
            nxt = page_factory()
            browser_login(nxt, live_server, opinions[i + 1][0])
            nxt.goto(f"{live_server}/approvals/")
            assert nxt.locator("table[data-list=todo] a", has_text=title).count() == 1
            nxt.context.close()
        leader.context.close()

    # The requester sees it approved, with the three leaders in order in the timeline.
    clerk.goto(request_url)
    assert clerk.locator("[data-state]").get_attribute("data-state") == "approved"
    rows = clerk.locator("table[data-timeline] tr[data-kind=approve]")
    assert rows.count() == 3
    texts = [rows.nth(k).inner_text() for k in range(3)]
    for (_, name, opinion), text in zip(opinions, texts, strict=True):
        assert name in text and opinion in text
    shot(clerk, "approvals-approved")
    clerk.goto(f"{live_server}/approvals/mine")
    assert clerk.locator("table[data-list=mine] tr[data-request] .tag.ok").count() == 1
