"""Each role of the demo walks its main path in a real browser (headless Debian Chromium through
Playwright against one live server per module), in Chinese, at 1280 px and at 375 px:

- the county clerk (罗静) drafts a notice to the townships, another member of the office (梁文斌)
  reviews it, the leader signs it off, the clerk re-checks, numbers, seals and distributes it and
  follows the status tree as the townships sign for it;
- the township clerk (邓春燕) signs for the received notice, registers, proposes, closes it, then
  fills the civil-affairs quarterly report and submits it;
- the leader (宋立新) stores his handwritten signature and signs the clerk's notice off in Approvals;
- the audit administrator (冯雪) opens the audit log, filters it and verifies the chain.

Every step saves a full-page screenshot to ``.test-report/screens/<role>/<step>-<width>.png`` (to
look at) and, at 375 px, asserts that nothing sticks out sideways. The assertions are what a person
sees: headings, button labels, card counts, the unread badge, the row in a list, the messages.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from office.extensions import db
from tests.browser_support import DESKTOP, PHONE, browser_login
from tests.conftest import ROOT
from tests.docflow.conftest import leader_signs, reviewer, submit_and_review
from tests.docflow.test_browser_docflow import click_action, counts, draw_signature, flash, primary, speak

pytestmark = pytest.mark.browser

SCREENS = ROOT / ".test-report" / "screens"
WIDTHS = {1280: DESKTOP, 375: PHONE}
TITLE = "西湖区人民政府关于做好冬季森林防火工作的通知"
BODY = "各镇人民政府、街道办事处：\n一、压实防火责任\n（一）落实属地管理。\n1. 加强巡查。\n特此通知。"


@pytest.fixture(params=sorted(WIDTHS, reverse=True), ids=lambda w: f"{w}px")
def width(request) -> int:
    return request.param


class Walk:
    """One person's browser at one width: signs in, speaks Chinese, screenshots each step."""

    def __init__(self, page_factory, base: str, role: str, username: str, width: int):
        self.base, self.role, self.width = base, role, width
        self.sideways: list[str] = []
        self.page = page_factory(WIDTHS[width])
        browser_login(self.page, base, username)
        speak(self.page, base, "zh_CN")

    def go(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")

    def look(self, step: str) -> None:
        """Save the step's screenshot; at 375 px nothing may stick out sideways."""
        out = SCREENS / self.role
        out.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(out / f"{step}-{self.width}.png"), full_page=True)
        wide = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if wide[0] > wide[1]:
            self.sideways.append(f"{self.role}/{step} at {self.width} px: {wide[0]} px wide")

    def done(self) -> None:
        """Every step looked at fitted the width (checked last, so that every screenshot is taken)."""
        assert not self.sideways, self.sideways

    def h1(self) -> str:
        return self.page.locator("main h1").first.inner_text().strip()

    def card(self, key: str) -> int:
        return int(self.page.locator(f".card[data-card={key}] .card-count").inner_text())

    def badge(self) -> str:
        b = self.page.locator(".bell .badge")
        return b.inner_text().strip() if b.count() else ""

    def nav(self, key: str) -> None:
        """Follow a main-menu entry (behind the menu button on a phone)."""
        toggle = self.page.locator(".menu-toggle")
        if toggle.is_visible():
            toggle.click()
        with self.page.expect_navigation():
            self.page.locator(f"#mainnav a[data-nav={key}]").click()

    def open_link(self, text: str, within: str = "main") -> None:
        with self.page.expect_navigation():
            self.page.locator(f"{within} a", has_text=text).first.click()


def _draft(org, clerk: str = "county_clerk"):
    """The county clerk's draft; what the services store (titles of requests, to-do lines) is
    worded in Chinese, as when she clicks it in the demo."""
    from office.docflow import service as df

    with force_locale("zh_CN"):
        return df.create_draft(org.actor(clerk), doc_type="通知", title=TITLE, body=BODY,
                               lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"],
                               due_days=10)


def _issued(org):
    """The county's notice, reviewed, signed off, numbered, sealed and sent to its two townships."""
    from office.docflow import service as df

    doc = _draft(org)
    with force_locale("zh_CN"):
        submit_and_review(org, doc, "county_clerk", "格式规范，同意报签")
        leader_signs(org, "county_leader", doc, opinion="同意印发。")
        clerk = org.actor("county_clerk")
        df.recheck(clerk, doc.id)
        df.allocate_number(clerk, doc.id)
        df.seal(clerk, doc.id)
        df.distribute(clerk, doc.id)
    db.session.commit()
    return doc


def _receipt(org, doc_id: int, division: str):
    from office.docflow.models import Receipt

    db.session.expire_all()
    return db.session.execute(db.select(Receipt).where(Receipt.document_id == doc_id,
                                                       Receipt.unit_id == org.unit(division, "gov").id)).scalar_one()


# --- the county clerk: draft → review → sign-off → number, seal, distribute → status tree ---------


def test_clerk_walk(app, live_server, org, page_factory, width):
    from office.docflow import service as df

    reviewer(org, "county_clerk")  # 梁文斌 reviews the drafts of the county office
    clerk = Walk(page_factory, live_server, "clerk", "county_clerk", width)
    page = clerk.page
    assert clerk.h1() == "工作台"
    assert clerk.card("todo") == 0
    clerk.look("01-workbench")

    # The draft: title, the issuing government, the townships ticked as main recipients, the body.
    clerk.nav("documents")
    clerk.open_link("拟稿", ".docflow-tabs")
    assert clerk.h1() == "拟稿"
    assert page.locator(".docflow-tabs a[aria-current=page]").inner_text() == "拟稿"
    assert page.locator("form.docflow-editor button.primary").inner_text() == "保存草稿"
    page.fill("input[name=title]", TITLE)
    # The issuing organ is a field of the form whatever widget fills it (typed or picked).
    page.locator("[name=lead_unit_id]").evaluate("(el, v) => { el.value = v; }", str(org.unit("330106", "gov").id))
    towns = page.locator("label", has=page.locator("input[value='group:township_governments']"))
    assert towns.inner_text().strip() == "所辖全部乡镇（街道）"
    towns.locator("input").check()
    page.fill("textarea[name=body]", BODY)
    assert page.locator("[data-docflow-levels]").inner_text() == "正文层次：一、×1 （一）×1 1.×1 （1）×0"
    page.fill("input[name=due_days]", "10")
    clerk.look("02-draft")
    with page.expect_navigation():
        page.click("form.docflow-editor button[type=submit]")
    doc_id = int(re.search(r"/documents/(\d+)$", page.url).group(1))
    assert clerk.h1() == TITLE
    assert primary(page) == "送审核"
    clerk.look("03-saved")
    click_action(page, "submit")
    assert flash(page) == "已送审核：杭州市西湖区人民政府办公室"
    assert page.locator("button[data-action=review_pass]").count() == 0  # not her own review
    clerk.look("04-submitted")

    # 梁文斌 finds it in his to-do (one item on the workbench card) and passes it.
    staff = Walk(page_factory, live_server, "clerk", "county_staff", width)
    assert staff.card("todo") == 1
    staff.open_link(f"待审核：{TITLE}", "main .panel")
    assert [b.strip() for b in staff.page.locator(".docflow-next button").all_inner_texts()] == ["审核通过", "退回修改"]
    staff.look("05-review")
    click_action(staff.page, "review_pass", "格式规范，同意报签")
    assert flash(staff.page) == "已审核通过，已送签发：宋立新"
    staff.look("06-reviewed")

    # The leader signs off (his own walk does it in the browser); the clerk takes it from there.
    with force_locale("zh_CN"):
        leader_signs(org, "county_leader", _doc(doc_id), opinion="同意印发。")
    clerk.go("/")
    assert clerk.card("todo") == 1
    clerk.open_link(TITLE, "main .panel")
    assert page.locator("[data-signer]").inner_text() == "宋立新"
    for step, label in (("recheck", "复核"), ("number", "编号"), ("seal", "用印"), ("distribute", "分发")):
        assert primary(page) == label
        if step == "seal":
            clerk.look("07-numbered")
        click_action(page, step)
    assert flash(page) == "已分发：2个单位，下一步：跟踪签收办理"
    assert re.match(r"西政发〔\d{4}〕1号", page.locator(".docflow-number").inner_text().strip())
    assert counts(page) == {"total": 2, "signed": 0, "handled": 0, "overdue": 0}
    # The printing date (印发日期) is the day in the office's time zone, whatever the server's clock.
    today = datetime.now(ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])).date().isoformat()
    assert today in page.locator(".docflow-doc").inner_text()
    clerk.look("08-distributed")

    # 三墩镇 signs for it; the status tree shows it signed for, 双浦镇 not yet.
    with force_locale("zh_CN"):
        df.sign_for(org.actor("town_clerk"), _receipt(org, doc_id, "330106109").id)
    db.session.commit()
    clerk.nav("documents")
    clerk.open_link("发文", ".docflow-tabs")
    row = page.locator("main tr", has_text=TITLE)
    assert row.count() == 1
    clerk.look("09-outgoing")
    clerk.open_link(TITLE, "main")
    with page.expect_navigation():
        page.locator("main h2 a[href$='/tree']").click()
    assert counts(page) == {"total": 2, "signed": 1, "handled": 0, "overdue": 0}
    town = page.locator(".docflow-node", has_text="三墩镇").inner_text()
    other = page.locator(".docflow-node", has_text="双浦镇").inner_text()
    assert "· 已签收" in town and "邓春燕" in town
    assert "· 待签收" in other
    assert page.locator(".docflow-tree td").first.inner_text() == "乡镇级"
    clerk.look("10-status-tree")
    clerk.done()
    staff.done()


def _doc(doc_id: int):
    from office.docflow.models import Document

    db.session.expire_all()
    return db.session.get(Document, doc_id)


# --- the township clerk: sign for, handle, fill the report, submit ------------------------------


def _report_task(org):
    """The county's civil-affairs office issues the quarterly subsistence report to its townships."""
    from office.actor import Actor
    from office.forms import tasks
    from office.forms.demo import build_catalogue

    build_catalogue()
    mz = org.unit("330106", "mz")
    issuer = Actor(user_id=None, name="西湖区民政局文书", unit_id=mz.id, unit_path=mz.path, roles=frozenset({"clerk"}))
    with force_locale("zh_CN"):
        task = tasks.issue_task(issuer, template_code="MZ_DIBAO", period="2025Q4",
                                deadline=datetime(2026, 1, 15, 15, 59), title="低保和特困供养情况季报（2025Q4）")
    db.session.commit()
    return task


def test_township_clerk_walk(app, live_server, org, page_factory, width):
    doc = _issued(org)
    doc_id = doc.id
    _report_task(org)
    town = Walk(page_factory, live_server, "township", "town_clerk", width)
    page = town.page
    assert town.h1() == "工作台"
    assert town.card("documents") == 1
    assert town.card("reports") == 1
    assert town.card("todo") == 2  # 签收 the notice, 填报 the report
    assert town.badge() == str(town.card("notifications")) != "0"
    assert page.locator("main .todo-list a", has_text=f"签收：{TITLE}").count() == 1
    town.look("01-workbench")

    # The incoming list shows the notice; its receipt page offers 签收 first.
    town.nav("documents")
    row = page.locator("main tr", has_text=TITLE)
    assert row.count() == 1 and row.inner_text().rstrip().endswith("待签收")
    town.look("02-incoming")
    with page.expect_navigation():
        row.locator("a").first.click()
    assert town.h1() == TITLE
    main = page.locator(".docflow-actions button.primary")
    assert main.count() == 1 and main.inner_text() == "签收"  # the step to take is the one that stands out
    assert page.locator("[data-no-steps]").inner_text() == "尚无办理记录，请先签收。"
    town.look("03-receipt")
    click_action(page, "sign_for")
    assert flash(page) == "已签收。"
    assert page.locator("[data-receipt-state]").inner_text().strip() == "已签收"
    assert main.inner_text() == "登记"
    town.look("04-signed")
    click_action(page, "register")
    assert flash(page) == "已登记。"
    assert page.locator("[data-receipt-state]").inner_text().strip() == "已登记"
    assert main.inner_text() == "拟办"
    click_action(page, "propose", "拟由镇应急办牵头落实，各村配合。")
    assert flash(page) == "已填写拟办意见。"
    assert main.inner_text() == "办结"
    town.look("05-proposed")
    click_action(page, "close", "已完成辖区林区巡查，落实护林员12名。")
    assert flash(page) == "已办结。"
    assert page.locator("[data-receipt-state]").get_attribute("data-receipt-state") == "done"
    assert page.locator("[data-receipt-state]").inner_text().strip() == "已办结"
    assert page.locator("ol.docflow-timeline li").count() == 4
    assert page.locator("button[data-action=forward]").count() == 0  # no units below a township
    town.look("06-closed")
    assert _receipt(org, doc_id, "330106109").state == "done"

    # The report: the row in 我单位的报表, the fill page, submitted.
    town.nav("reports")
    assert town.h1() == "报表"
    ours = page.locator("main section.panel", has=page.locator("h2", has_text="本单位报表"))
    row = ours.locator("tr", has_text="低保和特困供养情况季报（2025Q4）")
    assert row.count() == 1 and "草稿" in row.inner_text() and "0 / 7" in row.inner_text()
    town.look("07-reports")
    with page.expect_navigation():
        row.locator("a").first.click()
    for code, value in (("POP_REG", "52310"), ("HOUSEHOLDS", "18204"), ("DIBAO_HH", "132"),
                        ("DIBAO_PERSONS", "215"), ("TEKUN_PERSONS", "18"), ("DIBAO_FUNDS", "41.6")):
        page.fill(f"#f_{code}", value)
    town.look("08-fill")
    with page.expect_navigation():
        page.click("button[name=action][value=submit]")
    assert page.get_attribute("[data-state]", "data-state") == "submitted"
    town.look("09-submitted")
    town.done()


# --- the leader: handwritten signature, sign-off of the clerk's notice ---------------------------


def test_leader_walk(app, live_server, org, page_factory, width):
    doc = _draft(org)
    with force_locale("zh_CN"):
        submit_and_review(org, doc, "county_clerk", "格式规范，同意报签")
    db.session.commit()
    doc_id = doc.id
    leader = Walk(page_factory, live_server, "leader", "county_leader", width)
    page = leader.page
    assert leader.h1() == "工作台"
    assert leader.card("approvals") == 1
    leader.look("01-workbench")

    leader.go("/approvals/signature")
    assert leader.h1() == "我的签名"
    leader.look("02-signature-empty")
    draw_signature(page, live_server)
    assert page.locator("img[alt='我的签名']").count() == 1
    leader.look("03-signature-saved")

    leader.nav("approvals")
    link = page.locator("main a", has_text=f"签发：{TITLE}")
    assert link.count() == 1
    leader.look("04-approvals")
    with page.expect_navigation():
        link.first.click()
    decide = page.locator("form[data-form=decide]")
    assert decide.locator("button[value=approve]").inner_text().strip() == "同意签发"
    assert decide.locator("button[value=return]").inner_text().strip() == "退回"
    leader.look("05-signoff")
    decide.locator("textarea[name=opinion]").fill("同意印发。")
    with page.expect_navigation():
        decide.locator("button[value=approve]").click()
    assert flash(page) == "已同意签发，下一步：复核（杭州市西湖区人民政府办公室）"
    assert page.url == f"{live_server}/documents/{doc_id}"
    assert page.locator("img.docflow-signature").count() == 1
    # The history names him once, with his opinion.
    assert page.locator("li[data-action=signoff]").inner_text().endswith("宋立新 · 已同意签发：同意印发。")
    assert page.locator("[data-signer]").inner_text() == "宋立新"
    leader.look("06-signed")
    leader.go("/")
    assert leader.card("approvals") == 0
    leader.look("07-workbench-after")
    leader.done()


# --- the audit administrator: the audit log, filtered, verified ----------------------------------


def test_auditor_walk(app, live_server, org, page_factory, width):
    _issued(org)
    auditor = Walk(page_factory, live_server, "auditor", "auditor", width)
    page = auditor.page
    auditor.nav("admin")
    if auditor.h1() != "审计日志":
        auditor.open_link("审计日志")
    assert auditor.h1() == "审计日志"
    total = page.locator("main table tbody tr").count()
    assert total >= 7
    assert page.locator("main table tbody tr", has_text="罗静").count() >= 4
    auditor.look("01-audit-log")

    page.fill("main input[name=q]", "宋立新")
    with page.expect_navigation():
        page.locator("main form.inline button[type=submit]").click()
    filtered = page.locator("main table tbody tr")
    assert filtered.count() == 2 < total  # his sign-off: in the document and in Approvals
    assert all("宋立新" in t for t in filtered.all_inner_texts())
    auditor.look("02-filtered")

    # A search that finds nothing says so.
    page.fill("main input[name=q]", "王小二")
    with page.expect_navigation():
        page.locator("main form.inline button[type=submit]").click()
    assert page.locator("[data-no-events]").inner_text() == "没有与“王小二”相符的审计事件。"
    auditor.look("03-nothing-found")

    with page.expect_navigation():
        page.locator("main a", has_text="校验").first.click()
    assert "完整" in page.locator(".flash-success").inner_text()
    auditor.look("04-verified")
    auditor.done()
