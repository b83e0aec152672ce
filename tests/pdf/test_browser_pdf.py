"""The PDF pages in a real browser (headless Chromium through Playwright): the render status page
warning of a character no font holds, and the verification page telling a signed file from the same
file with one byte changed. Fixtures and launch flags as in tests/test_browser.py."""

from __future__ import annotations

import pytest

from office.pdf import samples
from tests.browser_support import browser_login, shot
from tests.pdf.test_layout import NO_FONT

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def signed_files(app, tmp_path_factory):
    """A signed archival notice and a copy with one content byte changed (signed before the browser
    starts: pyHanko needs an event loop of its own)."""
    from office.pdf import pki
    from office.pdf.render import render_pdf

    out = tmp_path_factory.mktemp("signed")
    with app.app_context():
        pki.issue_unit("330000-gov", "浙江省人民政府")
        pdf = render_pdf(samples.notice(), archival=True, sign_unit="330000-gov").pdf
    i = pdf.index(b"stream\n", len(pdf) // 4) + 20
    good, bad = out / "浙政发12号.pdf", out / "tampered.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(pdf[:i] + bytes([pdf[i] ^ 0x01]) + pdf[i + 1:])
    return good, bad


def test_status_page_warns_of_missing_glyphs_and_verify_page_tells_tampering(signed_files, org, live_server,
                                                                              page):
    from office.extensions import db
    from office.pdf.service import request_pdf

    good, bad = signed_files
    req = request_pdf(samples.notice(title=f"关于{NO_FONT}村的通知"), "通知", user_id=org.user("county_clerk").id)
    db.session.commit()
    browser_login(page, live_server, "county_clerk")

    page.goto(f"{live_server}/pdf/r/{req.id}")
    page.wait_for_selector(".pdf-state a")
    warning = page.locator(".pdf-missing")
    assert warning.is_visible() and f"{NO_FONT} U+{ord(NO_FONT):04X}" in warning.inner_text()
    shot(page, "pdf-status-missing-glyph")

    for path, valid in ((good, "yes"), (bad, "no")):
        page.goto(f"{live_server}/pdf/verify")
        page.set_input_files("input[name=file]", str(path))
        with page.expect_navigation():
            page.click(".pdf-verify button[type=submit]")
        verdict = page.locator(".verdict")
        assert verdict.get_attribute("data-valid") == valid
        assert path.name in verdict.inner_text()
        shot(page, f"pdf-verify-{'valid' if valid == 'yes' else 'tampered'}")
