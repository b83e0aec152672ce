"""Shared pieces of the browser tests (headless Debian Chromium through Playwright).

The fixtures ``live_server``, ``browser``, ``page_factory`` and ``page`` live in tests/conftest.py,
module-scoped: one Playwright per test module, closed before the next module's code runs (an open
Playwright event loop breaks later code that needs its own loop, such as pyHanko signing).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import PASSWORD, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}


def shot(page, name: str) -> Path:
    """A full-page screenshot in test-artifacts/ (gitignored), to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def browser_login(page, base: str, username: str, password: str = PASSWORD):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


def pick(page, purpose: str, query: str, name: str):
    """Choose ``name`` in the picker of ``purpose`` by typing ``query`` and clicking the match."""
    import re

    box = page.locator(f".picker[data-picker-box='{purpose}']")
    box.locator("[role=combobox]").fill(query)
    option = box.locator("[role=option]").filter(
        has=page.locator(".picker-option-name", has_text=re.compile(f"^{re.escape(name)}$")))
    option.first.click()
    box.locator(".picker-chip", has_text=name).first.wait_for()
