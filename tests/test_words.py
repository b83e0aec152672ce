"""Every word in the user's language: every page of the demo, signed in as each demo role, in zh_CN
and in en, with the PDFs, an Excel export and a notification e-mail, shows no catalogue id left
untranslated and none of the code's own identifiers (see tests/words_check.py)."""

from __future__ import annotations

import io
import os
import re
import subprocess
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from office.demo import DEMO_PASSWORD, run_demo
from tests.conftest import csrf_from
from tests.words_check import Checker, internal_tokens, visible_text

ROLES = ["prov_clerk", "prov_staff", "prov_leader", "prov_office_leader", "city_clerk", "city_leader",
         "county_clerk", "county_staff", "county_leader", "county_mz_clerk", "town_clerk", "town_leader",
         "prov_admin", "county_admin", "sysadmin", "secadmin", "auditor"]
LOCALES = ("zh_CN", "en")
DUMP = os.environ.get("WORDS_DUMP")
PAGES_PER_ROLE = 90
PER_PATTERN = 2  # pages of the same shape (ids replaced) per role
SKIP = re.compile(r"^/(static|api|lang|logout|healthz|login)\b|/(download|attachments?/\d+|signature/\d+|image)\b"
                  r"|\.(json|png|docx)$")
HREF = re.compile(r"""<a\b[^>]*\bhref="([^"#]*)"[^>]*>""")
FORM = re.compile(r"""<form\b[^>]*\baction="([^"]+)"[^>]*>(.*?)</form>""", re.S)


def _pattern(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _login(client, username: str, locale: str):
    client.get("/logout")
    with client.session_transaction() as s:
        s.clear()
        s["lang"] = locale
    page = client.get("/login").get_data(as_text=True)
    r = client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                    "csrf_token": csrf_from(page)})
    assert r.status_code == 302, f"{username} could not sign in"


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def _xlsx_text(data: bytes) -> list[str]:
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None] \
        + [ws.title for ws in wb.worksheets]


class Crawl:
    def __init__(self, client, checker: Checker, who: str, problems: list, seen_kinds: set):
        self.client, self.checker, self.who = client, checker, who
        self.problems, self.seen_kinds = problems, seen_kinds
        self.pages = 0

    def check(self, where: str, chunks, body: bytes = b""):
        found = self.checker.problems(chunks)
        for p in found:
            self.problems.append(f"[{self.checker.locale} {self.who}] {where}: {p}")
        if found and DUMP and body:  # WORDS_DUMP=dir keeps the pages with problems, to look at
            Path(DUMP).mkdir(parents=True, exist_ok=True)
            (Path(DUMP) / (self.checker.locale + re.sub(r"\W", "_", where))).write_bytes(body)

    def fetch_file(self, where: str, resp):
        ctype = resp.headers.get("Content-Type", "")
        if ctype.startswith("application/pdf"):
            self.check(where, [" ".join(line.split()) for line in _pdf_text(resp.data).splitlines()])
            return True
        if "spreadsheetml" in ctype:
            self.check(where, _xlsx_text(resp.data))
            return True
        return False

    def pdf_forms(self, where: str, html: str):
        """Each kind of PDF once per locale: press the form's button, follow to the download."""
        for action, inner in FORM.findall(html):
            if not re.search(r"pdf$", action):
                continue
            kind = _pattern(action)
            if kind in self.seen_kinds:
                continue
            self.seen_kinds.add(kind)
            data = {"csrf_token": csrf_from(inner)}
            r = self.client.post(action, data=data)
            if r.status_code != 302:
                self.problems.append(f"[{self.who}] {action}: {r.status_code}")
                continue
            status = self.client.get(r.headers["Location"])
            self.check(r.headers["Location"], visible_text(status.get_data(as_text=True)))
            m = re.search(r'href="(/pdf/r/\d+/download)"', status.get_data(as_text=True))
            if m:
                self.fetch_file(f"{action} (from {where})", self.client.get(m.group(1)))
            else:
                self.problems.append(f"[{self.who}] {action}: no download link on the PDF page")

    def run(self):
        counts: Counter = Counter()
        queue, seen = ["/"], {"/"}
        while queue and self.pages < PAGES_PER_ROLE:
            url = queue.pop(0)
            resp = self.client.get(url)
            if resp.status_code in (301, 302, 303):
                target = urlsplit(resp.headers["Location"])
                nxt = target.path + (f"?{target.query}" if target.query else "")
                if nxt not in seen and not target.netloc and not SKIP.search(target.path):
                    seen.add(nxt)
                    queue.insert(0, nxt)
                continue
            if resp.status_code != 200:
                self.problems.append(f"[{self.who}] GET {url}: {resp.status_code}")
                continue
            self.pages += 1
            if DUMP:
                with open(Path(DUMP) / "visited.txt", "a") as f:
                    f.write(f"{self.checker.locale} {self.who} {url}\n")
            if self.fetch_file(url, resp):
                continue
            if not resp.headers.get("Content-Type", "").startswith("text/html"):
                continue
            html = resp.get_data(as_text=True)
            self.check(url, visible_text(html), resp.data)
            self.pdf_forms(url, html)
            for href in HREF.findall(html):
                href = href.replace("&amp;", "&")
                parts = urlsplit(href)
                if parts.scheme or parts.netloc or not href.startswith("/") or SKIP.search(parts.path):
                    continue
                if href in seen:
                    continue
                seen.add(href)
                pat = _pattern(parts.path)
                if counts[pat] >= PER_PATTERN:
                    continue
                counts[pat] += 1
                queue.append(href)


@pytest.fixture
def demo(app):
    from flask_babel import force_locale

    with force_locale("zh_CN"):
        run_demo(app)
    return app


def _report(problems: list[str]) -> str:
    """One line per kind of problem (ids in URLs and texts folded), with one place it was seen."""
    first: dict[str, str] = {}
    for p in problems:
        first.setdefault(re.sub(r"\[(\S+) \S+\]", r"[\1]", re.sub(r"\d+", "N", p)), p)
    return f"{len(problems)} problems, {len(first)} kinds:\n" + "\n".join(sorted(first.values()))


def test_every_page_of_the_demo_speaks_the_users_language(demo):
    tokens = internal_tokens(demo)
    problems: list[str] = []
    visited = 0
    for locale in LOCALES:
        checker = Checker(locale, tokens)
        seen_kinds: set = set()
        for who in ROLES:
            client = demo.test_client()
            _login(client, who, locale)
            crawl = Crawl(client, checker, who, problems, seen_kinds)
            crawl.run()
            visited += crawl.pages
        assert {k for k in seen_kinds if "sheet" in k} and {k for k in seen_kinds if "receipt" in k}, seen_kinds
    assert visited > 300
    _check_emails(demo, tokens, problems)
    assert not problems, _report(problems)


def _check_emails(app, tokens, problems):
    """The e-mail copies of the demo's notifications (one of each kind of title), read as sent."""
    from unittest import mock

    from sqlalchemy import select

    from office.extensions import db
    from office.notifications import service as notifications
    from office.notifications.models import Notification

    sent = []

    class FakeSMTP:
        def __init__(self, *a, **k): pass
        def __enter__(self): return self
        def __exit__(self, *a): return False
        def send_message(self, msg): sent.append(msg)

    rows = db.session.execute(select(Notification)).scalars().all()
    kinds = {}
    for n in rows:
        kinds.setdefault(re.sub(r"“.*?”|：.*", "", n.title), n)
    assert len(kinds) >= 3, [n.title for n in rows][:10]
    app.config["SMTP_HOST"] = "smtp.invalid"
    try:
        with mock.patch("smtplib.SMTP", FakeSMTP):
            for n in kinds.values():
                notifications.send_email([n.user_id], n.title, n.body, n.url)
    finally:
        app.config["SMTP_HOST"] = None
    checker = Checker("zh_CN", tokens)
    for msg in sent:
        text = [msg["Subject"]] + msg.get_content().splitlines()
        problems.extend(f"[zh_CN e-mail] {msg['Subject']}: {p}" for p in checker.problems(text))


def test_every_audit_action_of_the_demo_has_words(demo):
    from sqlalchemy import select

    from office.audit import labels
    from office.audit.models import AuditEvent
    from office.extensions import db

    recorded = set(db.session.execute(select(AuditEvent.action).distinct()).scalars())
    assert len(recorded) > 10
    assert not recorded - labels.known_actions()


def test_the_checker_fails_on_a_node_kind_and_an_untranslated_msgid(app):
    from office.approvals.models import NodeType

    page = ('<html><body><h1>审批</h1><ol><li>办公室审核 <span class="muted">single</span></li></ol>'
            '<button title="Add signer">加签</button><script>var s = "single";</script></body></html>')
    zh = Checker("zh_CN", {v.value for v in NodeType})
    found = zh.problems(visible_text(page))
    assert any("internal token 'single'" in p for p in found), found
    assert any("untranslated 'Add signer'" in p for p in found), found
    assert len(found) == 2, found  # the script is not visible text
    en = Checker("en", {v.value for v in NodeType})
    assert any("'single'" in p for p in en.problems(visible_text(page)))
    assert not en.problems(visible_text("<p>A single approver decides.</p><p>Any one decides</p>"))
    assert not zh.problems(visible_text('<p>单人审批</p><input type="hidden" value="single">'))
