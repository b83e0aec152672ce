"""A province notice walked through the pages in a real browser (headless Debian Chromium through
Playwright against a live server): drafting, review by another member of the general office,
sign-off in Approvals, numbering, seal, distribution, a city forwarding it to its counties and
townships, a township closing it, and the province's status tree counting it all; and the same
walk in both languages with the words of each step, its message and where each person lands.
Fixtures and launch flags as in tests/test_browser.py."""

from __future__ import annotations

import io
import re

import pytest

from office.extensions import db
from tests.browser_support import ARTIFACTS, browser_login, pick, shot

from .conftest import reviewer

pytestmark = pytest.mark.browser


def as_user(page_factory, base: str, username: str):
    page = page_factory()
    browser_login(page, base, username)
    return page


def click_action(page, name: str, text: str | None = None) -> None:
    """Press the step button ``name`` (its form's text field filled first) and wait for the next page."""
    button = page.locator(f"button[data-action='{name}']").first
    if text is not None:
        button.locator("xpath=ancestor::form").locator("[name=text]").fill(text)
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
    pick(clerk, "docflow.lead", "浙江省人民政府", prov_gov.name)
    clerk.check("input[name=main_group][value='group:city_governments']")
    clerk.check("input[name=main_group][value='group:county_governments']")
    clerk.fill("textarea[name=body]", "各市、县（市、区）人民政府：\n一、压实防火责任\n（一）落实属地管理。\n1. 加强巡查。")
    clerk.fill("input[name=due_days]", "10")
    with clerk.expect_navigation():
        clerk.click("form.docflow-editor button[type=submit]")
    doc_url = clerk.url
    doc_id = int(re.search(r"/documents/(\d+)$", doc_url).group(1))
    click_action(clerk, "submit")
    # Another member of the general office reviews it: it goes to the leader's Approvals to-do.
    reviewer(org, "prov_clerk")
    staff = as_user(page_factory, base, "prov_staff")
    staff.goto(doc_url)
    click_action(staff, "review_pass", "格式规范，同意报签")
    assert staff.locator("[data-signoff-pending]").count() == 1
    shot(staff, "docflow-signoff-pending")

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


# --- the same walk in both languages: words, messages, landing ---------------------------------

WORDS = {
    "zh_CN": {"submit": "送审核", "review_pass": "审核通过", "review_return": "退回修改", "approve": "同意签发",
              "return": "退回", "recheck": "复核", "number": "编号", "seal": "用印", "distribute": "分发",
              "void": "作废文号",
              "flash.submit": "已送审核：浙江省人民政府办公厅",
              "flash.review_pass": "已审核通过，已送签发：李建国",
              "flash.approve": "已同意签发，下一步：复核（浙江省人民政府办公厅）",
              "flash.recheck": "已复核，下一步：编号", "flash.number": "已编号：{number}，下一步：用印",
              "flash.seal": "已用印，下一步：分发", "flash.distribute": "已分发：2个单位，下一步：跟踪签收办理",
              "todo": "待审核：{title}", "signoff_line": "签发：{title}"},
    "en": {"submit": "Submit for review", "review_pass": "Pass review", "review_return": "Return for revision",
           "approve": "Approve for issue", "return": "Return", "recheck": "Re-check", "number": "Allocate number",
           "seal": "Seal", "distribute": "Distribute", "void": "Void the number",
           "flash.submit": "Sent for review to 浙江省人民政府办公厅",
           "flash.review_pass": "Review passed, sent for sign-off to 李建国",
           "flash.approve": "Approved for issue, next: Re-check by 浙江省人民政府办公厅",
           "flash.recheck": "Re-checked, next: Numbering", "flash.number": "Numbered: {number}, next: Seal",
           "flash.seal": "Sealed, next: Distribute", "flash.distribute": "Distributed to 2 units, next: follow up the receipts",
           "todo": "To review: {title}", "signoff_line": "Sign-off: {title}"},
}


def speak(page, base: str, lang: str) -> None:
    """Switch the interface language with the header's switch, as a person would."""
    page.goto(f"{base}/")
    with page.expect_navigation():
        page.click(f".langswitch button[value='{lang}']")


def flash(page) -> str:
    return page.locator(".flash-success").first.inner_text().strip()


def primary(page) -> str:
    """The first, main button of the next-step panel."""
    return page.locator(".docflow-next button.primary").first.inner_text().strip()


def on_document(page, base: str, doc_id: int, step: str) -> None:
    assert page.url == f"{base}/documents/{doc_id}", page.url
    assert page.locator("#next-step").get_attribute("data-next-step") == step


def draw_signature(page, base: str) -> None:
    page.goto(f"{base}/approvals/signature")
    box = page.locator("[data-signature-pad]").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 100)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box["x"] + 40 + i * 30, box["y"] + 100 - (i % 3) * 30, steps=3)
    page.mouse.up()
    with page.expect_navigation():
        page.locator("#sigform button[type=submit]").click()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_notice_steps_speak_their_words_and_hand_off(app, live_server, org, page_factory, lang):
    import pdfplumber

    base, w = live_server, WORDS[lang]
    title = f"关于做好{'冬季' if lang == 'en' else '春季'}森林防火工作的通知"
    tag = lang.lower()
    reviewer(org, "prov_clerk")

    clerk = as_user(page_factory, base, "prov_clerk")
    speak(clerk, base, lang)
    clerk.goto(f"{base}/documents/new")
    clerk.fill("input[name=title]", title)
    pick(clerk, "docflow.lead", "浙江省人民政府", org.unit("330000", "gov").name)
    clerk.check("input[name=main_group][value='group:city_governments']")
    clerk.fill("textarea[name=body]", "各市人民政府：\n一、压实防火责任")
    with clerk.expect_navigation():
        clerk.click("form.docflow-editor button[type=submit]")
    doc_id = int(re.search(r"/documents/(\d+)$", clerk.url).group(1))
    assert primary(clerk) == w["submit"]
    click_action(clerk, "submit")
    assert flash(clerk) == w["flash.submit"]
    on_document(clerk, base, doc_id, "review")
    # The drafter is offered no review of her own draft; withdrawing sits apart, behind a reason.
    assert clerk.locator("button[data-action=review_pass]").count() == 0
    assert clerk.locator("[data-danger-zone] details[data-danger=withdraw]").count() == 1
    shot(clerk, f"docflow-{tag}-1-submitted")

    # The reviewer finds it in his to-do and passes it: 审核通过 first, 退回修改 beside it.
    staff = as_user(page_factory, base, "prov_staff")
    speak(staff, base, lang)
    staff.goto(f"{base}/todo")
    line = staff.locator("main a", has_text=w["todo"].format(title=title)).first
    with staff.expect_navigation():
        line.click()
    buttons = staff.locator(".docflow-next button").all_inner_texts()
    assert [b.strip() for b in buttons] == [w["review_pass"], w["review_return"]]
    shot(staff, f"docflow-{tag}-2-review")
    click_action(staff, "review_pass", "格式规范，同意报签")
    assert flash(staff) == w["flash.review_pass"]
    on_document(staff, base, doc_id, "signoff")

    # The leader stores his handwritten signature, then signs off from his Approvals to-do.
    leader = as_user(page_factory, base, "prov_leader")
    speak(leader, base, lang)
    draw_signature(leader, base)
    leader.goto(f"{base}/approvals/")
    with leader.expect_navigation():
        leader.locator("main a", has_text=w["signoff_line"].format(title=title)).first.click()
    decide = leader.locator("form[data-form=decide]")
    assert decide.locator("button[value=approve]").inner_text().strip() == w["approve"]
    assert decide.locator("button[value=reject]").count() == 0
    assert decide.locator("button[value=return]").inner_text().strip() == w["return"]
    shot(leader, f"docflow-{tag}-3-signoff")
    leader.fill("form[data-form=decide] textarea[name=opinion]", "同意印发。")
    with leader.expect_navigation():
        leader.click("form[data-form=decide] button[value=approve]")
    assert flash(leader) == w["flash.approve"]
    on_document(leader, base, doc_id, "signed")
    assert leader.locator("img.docflow-signature").count() == 1

    # The clerk re-checks, numbers, seals and distributes; she stays on the document each time.
    clerk.goto(f"{base}/documents/{doc_id}")
    for step, nxt in (("recheck", "checked"), ("number", "numbered"), ("seal", "sealed"),
                      ("distribute", "distributed")):
        assert primary(clerk) == w[step]
        if step == "seal":  # the destructive action sits apart, after the main one
            assert clerk.locator("[data-danger-zone] summary").first.inner_text().strip() == w["void"]
            shot(clerk, f"docflow-{tag}-5-numbered")
        click_action(clerk, step)
        number = clerk.locator(".docflow-number").inner_text().strip()
        assert flash(clerk) == w[f"flash.{step}"].format(number=number)
        on_document(clerk, base, doc_id, nxt)
    shot(clerk, f"docflow-{tag}-6-distributed")
    assert re.match(r"浙政发〔\d{4}〕\d+号", clerk.locator(".docflow-number").inner_text().strip())

    # The 发文稿纸 of the sign-off: the leader's signature image, the requester (the reviewer) once.
    with clerk.expect_navigation():
        clerk.click("button[data-action=sheet-pdf]")
    rid = clerk.url.rstrip("/").rsplit("/", 1)[1]
    resp = clerk.request.get(f"{base}/pdf/r/{rid}/download")
    pdf = resp.body()
    assert pdf.startswith(b"%PDF"), (clerk.url, resp.status, re.sub(r"\s+", " ", resp.text())[-1500:])
    (ARTIFACTS / f"docflow-{tag}-sheet.pdf").write_bytes(pdf)
    from tests.pdf.conftest import pdftotext, squash

    text = squash(pdftotext(pdf))
    assert "发文稿纸" in text and text.count("陈志强") == 1 and "同意印发。" in text
    with pdfplumber.open(io.BytesIO(pdf)) as p:
        assert len(p.pages[0].images) == 1


def test_township_with_one_clerk_combines_duties_in_the_browser(app, live_server, org, page_factory):
    """The county's unit administrator lets 三墩镇's one clerk combine duties; a stale page after the
    setting is withdrawn gets the refusal as a message with the opinion kept; the 发文稿纸 prints the
    exception."""
    base = live_server
    town = org.unit("330106109", "gov")
    clerk = as_user(page_factory, base, "town_clerk")
    speak(clerk, base, "zh_CN")
    clerk.goto(f"{base}/documents/new")
    clerk.select_option("select[name=doc_type]", "报告")
    clerk.fill("input[name=title]", "三墩镇人民政府关于秋粮收购情况的报告")
    pick(clerk, "docflow.main", "西湖区人民政府", org.unit("330106", "gov").name)
    clerk.fill("textarea[name=body]", "西湖区人民政府：\n一、收购进度\n特此报告。")
    with clerk.expect_navigation():
        clerk.click("form.docflow-editor button[type=submit]")
    doc_url = clerk.url
    click_action(clerk, "submit")
    assert clerk.locator("button[data-action=review_pass]").count() == 0
    assert "您是拟稿人" in clerk.locator(".docflow-next").inner_text()

    admin = as_user(page_factory, base, "county_admin")
    speak(admin, base, "zh_CN")

    def setting(allow: bool):
        admin.goto(f"{base}/documents/settings?unit_id={town.id}")
        admin.check(f"input[name=combine_duties][value='{1 if allow else 0}']")
        admin.fill("textarea[name=reason]", "镇党政办仅一名文书")
        with admin.expect_navigation():
            admin.click("form[data-form=duties] button[type=submit]")
        assert flash(admin) == f"已保存{town.name}的设置。"

    setting(True)
    shot(admin, "docflow-zh-settings")
    clerk.goto(doc_url)
    assert [b.strip() for b in clerk.locator(".docflow-next button").all_inner_texts()] == ["审核通过", "退回修改"]
    # The setting is withdrawn while her page is open: pressing 审核通过 shows why, the opinion kept.
    setting(False)
    clerk.fill(".docflow-next textarea[name=text]", "同意上报")
    with clerk.expect_navigation():
        clerk.click("button[data-action=review_pass]")
    assert "您是此文的拟稿人，应由办公室其他人员审核" in clerk.locator(".flash-error").inner_text()
    assert clerk.locator("h1").inner_text() == "三墩镇人民政府关于秋粮收购情况的报告"
    assert clerk.locator("button[data-action=review_pass]").count() == 0
    shot(clerk, "docflow-zh-refused")

    setting(True)
    clerk.goto(doc_url)
    # Returning without the reasons: the message on the page, the review form still there.
    with clerk.expect_navigation():
        clerk.click("button[data-action=review_return]")
    assert clerk.locator(".flash-error").inner_text().strip() == "请填写退回稿件的理由。"
    assert clerk.locator("button[data-action=review_pass]").count() == 1
    click_action(clerk, "review_pass", "同意上报")
    assert flash(clerk) == "已审核通过，已送签发：蒋国庆"
    assert clerk.locator("li[data-action=duty_exception]").count() == 1

    leader = as_user(page_factory, base, "town_leader")
    speak(leader, base, "zh_CN")
    leader.goto(doc_url)
    click_action(leader, "signoff", "同意上报。")
    assert flash(leader) == f"已同意签发，下一步：复核（{town.name}）"

    clerk.goto(doc_url)
    with clerk.expect_navigation():
        clerk.click("button[data-action=sheet-pdf]")
    rid = clerk.url.rstrip("/").rsplit("/", 1)[1]
    pdf = clerk.request.get(f"{base}/pdf/r/{rid}/download").body()
    from tests.pdf.conftest import pdftotext, squash

    text = squash(pdftotext(pdf))
    assert "拟稿与审核由同一人（邓春燕）办理，经本单位设置允许一人兼岗。" in text
    (ARTIFACTS / "docflow-zh-township-sheet.pdf").write_bytes(pdf)
