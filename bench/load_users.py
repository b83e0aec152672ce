"""Simulated users against a running server: clerks, leaders and township staff doing their daily
paths (workbench, to-do, open a document, sign for a receipt, fill a report, submit and approve a
request) for a fixed time. Reports request count, p50/p95/max latency, conflicts and errors.

    python -m bench.load_users --base http://127.0.0.1:8000 --users 50 --seconds 60 --arrival-seconds 20

As in an office at 9:00, the users arrive over ``--arrival-seconds`` (evenly spread) and each signs
in when he arrives; that is the warm-up. The measured window of ``--seconds`` starts when the last
one has signed in, and its figures (``p50_ms``, ``p95_ms``, ``latency_by_action``) are the day's
work. Sign-ins (the login page and the login with its redirect to the workbench: an argon2id
verification each) are reported apart (``login``), as are the requests made during the warm-up
(``warmup``); errors count in every phase.

An error is a 5xx, a transport failure, or a 4xx other than 409 on a page or form the user reached
by following the application's own links. 409 ("someone has already handled this") is counted
apart: several simulated users share one demo account and race for the same item on purpose.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser

PASSWORD = "Demo@2026!"
CLERKS = ["prov_clerk", "city_clerk", "county_clerk", "town_clerk", "county_mz_clerk", "city_mz_clerk",
          "prov_mz_clerk", "county_tj_clerk"]
LEADERS = ["prov_leader", "city_leader", "county_leader", "town_leader", "county_mz_leader", "city_mz_leader",
           "prov_mz_leader", "county_deputy", "city_deputy", "prov_office_leader"]
TOWNSHIP = ["town_staff", "town_clerk", "town_leader"]


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("action", ""), a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                self._form.buttons.append((a["name"], a.get("value", "")))
                return
            if kind != "file":
                self._form.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("name"):
            self._form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select, self._select_value = a["name"], None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in a:
                if a.get("value", "") or self._select_value is None:
                    self._select_value = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields.append((self._textarea, "".join(self._text)))
            self._textarea = None


def parse(html: str) -> FormParser:
    p = FormParser()
    p.feed(html)
    return p


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.conflicts = 0
        self.actions: dict[str, int] = {}
        self.by_action: dict[str, list[float]] = {}

    def add(self, seconds: float, status: int, what: str, url: str):
        with self.lock:
            self.latencies.append(seconds)
            self.by_action.setdefault(what, []).append(seconds)
            if status == 409:
                self.conflicts += 1
            elif status >= 400 or status == 0:
                self.errors.append(f"{status} {what} {url}")
            else:
                self.actions[what] = self.actions.get(what, 0) + 1

    def summary(self) -> dict:
        return {"requests": len(self.latencies), "p50_ms": round(percentile(self.latencies, 50) * 1000, 1),
                "p95_ms": round(percentile(self.latencies, 95) * 1000, 1),
                "max_ms": round(max(self.latencies, default=0) * 1000, 1)}


class Phases:
    """Where a request's figures go: sign-ins apart, then the warm-up (before the last user has
    signed in) or the measured window."""

    def __init__(self, users: int, seconds: float):
        self.login, self.warmup, self.window = Stats(), Stats(), Stats()
        self.users, self.seconds = users, seconds
        self.lock = threading.Lock()
        self.arrived = 0
        self.window_start: float | None = None
        self.in_window = threading.Event()

    def signed_in(self) -> None:
        """One more user is in (or gave up): when all are, the measured window starts."""
        with self.lock:
            self.arrived += 1
            if self.arrived == self.users:
                self.window_start = time.monotonic()
                self.in_window.set()

    @property
    def window_end(self) -> float | None:
        return None if self.window_start is None else self.window_start + self.seconds

    def add(self, started: float, seconds: float, status: int, what: str, url: str) -> None:
        if what in ("login page", "login"):
            target = self.login
        elif self.window_start is not None and started >= self.window_start:
            target = self.window
        else:
            target = self.warmup
        target.add(seconds, status, what, url)

    @property
    def errors(self) -> list[str]:
        return self.login.errors + self.warmup.errors + self.window.errors


class User:
    def __init__(self, base: str, username: str, stats: Phases, rng: random.Random):
        self.base, self.username, self.stats, self.rng = base, username, stats, rng
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def request(self, what: str, path: str, data: list[tuple[str, str]] | None = None) -> tuple[int, str, str]:
        url = urllib.parse.urljoin(self.base, path)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        t0 = time.monotonic()
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=60) as resp:
                status, text, final = resp.status, resp.read().decode("utf-8", "replace"), resp.url
        except urllib.error.HTTPError as exc:
            status, text, final = exc.code, exc.read().decode("utf-8", "replace"), url
        except OSError as exc:
            status, text, final = 0, str(exc), url
        self.stats.add(t0, time.monotonic() - t0, status, what, path)
        return status, text, final

    def submit(self, what: str, page_url: str, form: Form, extra: dict | None = None,
               button: tuple[str, str] | None = None) -> tuple[int, str, str]:
        data = [(k, v) for k, v in form.fields if not extra or k not in extra]
        data += list((extra or {}).items())
        if button:
            data.append(button)
        return self.request(what, urllib.parse.urljoin(page_url, form.action or page_url), data)

    def login(self) -> str:
        """'' when logged in, else what went wrong."""
        _, html, url = self.request("login page", "/login")
        form = next((f for f in parse(html).forms if f.method == "post" and "password" in dict(f.fields)), None)
        if form is None:
            return "no login form"
        status, _, final = self.submit("login", url, form, {"username": self.username, "password": PASSWORD})
        if status == 200 and "/login" not in urllib.parse.urlsplit(final).path:
            return ""
        return f"{status} at {final}"

    def links(self, html: str, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        return sorted({h.split("#")[0] for h in parse(html).links if rx.fullmatch(h.split("#")[0].split("?")[0])})

    # --- paths -------------------------------------------------------------------------------------

    def browse(self):
        self.request("workbench", "/")
        self.request("to-do", "/todo")

    def read_and_sign(self):
        _, html, _ = self.request("incoming documents", "/documents/")
        targets = self.links(html, r"/documents/receipts/\d+") or self.links(html, r"/documents/\d+")
        if not targets:
            return
        path = self.rng.choice(targets)
        status, page, url = self.request("open document", path)
        if status != 200:
            return
        for form in parse(page).forms:
            if form.method == "post" and form.action.rstrip("/").endswith("/sign_for"):
                self.submit("sign for receipt", url, form)
                return

    def fill_report(self):
        _, html, _ = self.request("reports", "/reports/")
        subs = self.links(html, r"/reports/submissions/\d+")
        if not subs:
            return
        status, page, url = self.request("open report", self.rng.choice(subs))
        if status != 200:
            return
        for form in parse(page).forms:
            # A submitted report keeps its form (read-only, without the save button): not saved.
            if form.method == "post" and ("action", "save") in form.buttons:
                self.submit("save report", url, form, button=("action", "save"))
                return

    def submit_request(self):
        status, page, url = self.request("new request", "/approvals/new")
        form = next((f for f in parse(page).forms if f.method == "post" and any(
            k == "flow_id" for k, _ in f.fields)), None)
        if status != 200 or form is None or not dict(form.fields).get("flow_id"):
            return
        n = self.rng.randrange(1_000_000)
        self.submit("submit request", url, form, {"title": f"关于压力测试经费的请示{n}",
                                                  "body": "请予审批。", "amount": "1000"})

    def approve(self):
        _, html, _ = self.request("approvals to-do", "/approvals/")
        reqs = self.links(html, r"/approvals/\d+")
        if not reqs:
            return
        status, page, url = self.request("open request", self.rng.choice(reqs))
        if status != 200:
            return
        for form in parse(page).forms:
            if ("action", "approve") in form.buttons:
                self.submit("approve", url, form, {"opinion": "同意。"}, button=("action", "approve"))
                return

    def run(self, role: str, arrive_at: float):
        time.sleep(max(0.0, arrive_at - time.monotonic()))
        try:
            problem = self.login()
        except Exception as exc:  # noqa: BLE001 - counted as an error; the window must still start
            problem = f"{type(exc).__name__}: {exc}"
        self.stats.signed_in()
        if problem:
            with self.stats.lock:
                self.stats.login.errors.append(f"login failed for {self.username}: {problem}")
            return
        paths = {
            "clerk": [self.browse, self.read_and_sign, self.read_and_sign, self.submit_request],
            "leader": [self.browse, self.approve, self.approve, self.read_and_sign],
            "township": [self.browse, self.fill_report, self.fill_report, self.read_and_sign],
        }[role]
        while True:
            end = self.stats.window_end
            if end is not None and time.monotonic() >= end:
                return
            self.rng.choice(paths)()
            time.sleep(self.rng.uniform(0.2, 1.0))  # think time


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def _by_action(stats: Stats) -> dict:
    return {k: {"n": len(v), "p50_ms": round(percentile(v, 50) * 1000, 1), "p95_ms": round(percentile(v, 95) * 1000, 1)}
            for k, v in sorted(stats.by_action.items())}


def run(base: str, users: int, seconds: float, seed: int = 2026, arrival_seconds: float = 20.0) -> dict:
    """``users`` arrive over ``arrival_seconds`` and sign in, then work for ``seconds`` (the
    measured window, from the moment the last one is in)."""
    phases = Phases(users, seconds)
    rng = random.Random(seed)
    roles = (["clerk"] * 2 + ["leader"] * 2 + ["township"]) * (users // 5 + 1)
    start = time.monotonic()
    threads = []
    pools = {"clerk": CLERKS, "leader": LEADERS, "township": TOWNSHIP}
    for i in range(users):
        role = roles[i]
        name = pools[role][i % len(pools[role])]
        u = User(base, name, phases, random.Random(rng.random()))
        arrive_at = start + (arrival_seconds * i / users if users else 0)
        threads.append(threading.Thread(target=u.run, args=(role, arrive_at), daemon=True))
    for t in threads:
        t.start()
    phases.in_window.wait(arrival_seconds + 300)
    for t in threads:
        t.join(seconds + 120)
    w = phases.window
    return {
        "users": users, "seconds": seconds, "arrival_seconds": arrival_seconds,
        "warmup_seconds": round((phases.window_start or time.monotonic()) - start, 1),
        # The measured window: the users' work once all are signed in.
        **w.summary(),
        "conflicts_409": phases.login.conflicts + phases.warmup.conflicts + w.conflicts,
        "errors": len(phases.errors), "error_samples": phases.errors[:20],
        "actions": dict(sorted(w.actions.items())),
        "latency_by_action": _by_action(w),
        # Sign-ins (the login page, and the login with its redirect to the workbench), apart.
        "login": {**phases.login.summary(), "latency_by_action": _by_action(phases.login)},
        # Work done while the others were still arriving (not in the window's figures).
        "warmup": phases.warmup.summary(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60, help="the measured window, after the last sign-in")
    ap.add_argument("--arrival-seconds", type=float, default=20, help="the users arrive over this long")
    args = ap.parse_args(argv)
    result = run(args.base, args.users, args.seconds, arrival_seconds=args.arrival_seconds)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 1 if result["errors"] or not result["requests"] else 0


if __name__ == "__main__":
    sys.exit(main())
