"""The main pages under load, each next to its floor, at the same wrk load.

gunicorn serves the application (``wsgi:app``) on a free loopback port against the dataset's
database with ``OFFICE_REQUEST_TIMING=1`` (every response tells its request's CPU ms and query
count, office/timing.py); each page's user logs in through the login form and ``wrk`` requests
the page with his session cookie for ``seconds``. The floor, ``bench/floor_app.py``, is a bare
Flask app running the few statements a hand-written page needs for the same rows, answering with
as many bytes as the page, served and measured the same way; page and floor alternate so that
both see the same machine. Before measuring, the page and its floor must show the same rows
(``bench/pages.py``). Every response must be a 2xx (a redirect to the login page means the cookie
failed); the peak RSS of the application's workers is sampled from /proc during its runs.

    python -m bench.web_load                       # the dataset in bench/.dataset.json
    python -m bench.web_load --pages todo,fill --seconds 10 --workers 2 --threads 4
"""

from __future__ import annotations

import argparse
import html
import http.cookiejar
import json
import os
import re
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.pages import Page, resolve
from office.config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MANIFEST = Path(__file__).resolve().parent / ".dataset.json"
# gunicorn as in production (gunicorn.conf.py: workers, gthread threads, keep-alive); the floor alike.
_SERVING = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
WORKERS, THREADS = _SERVING["workers"], _SERVING["threads"]
WRK_THREADS, CONNECTIONS = 2, 8    # one open connection per worker thread: full, never queued behind
USER_AGENT = "office-bench/1"      # the session is bound to the address and user agent it logged in with
TARGET_RATIO, TARGET_P95_FACTOR = 0.5, 2.0  # throughput >= 50% of the floor's, p95 <= 2x the floor's

WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; statuses = {}; cpu = 0; queries = 0; timed = 0 end
function response(status, headers, body)
  local c = headers["X-Office-CPU-ms"]
  if c then
    cpu = cpu + tonumber(c); queries = queries + tonumber(headers["X-Office-Queries"] or 0); timed = timed + 1
  end
  if status < 200 or status > 299 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end
function done(summary, latency, requests)
  local n = 0
  local codes = {}
  local cpu, queries, timed = 0, 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("bad")
    cpu = cpu + t:get("cpu"); queries = queries + t:get("queries"); timed = timed + t:get("timed")
    for code, count in pairs(t:get("statuses")) do
      table.insert(codes, string.format('"%d": %d', code, count))
    end
  end
  local e = summary.errors
  io.write(string.format(
    '\nWRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non_2xx": %d, "statuses": {%s}, ' ..
    '"socket_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"cpu_ms": %.3f, "queries": %d, "timed": %d}\n',
    summary.requests, summary.duration, summary.bytes, n, table.concat(codes, ", "),
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, cpu, queries, timed))
end
"""


class LoadError(RuntimeError):
    """The measurement could not be made (server did not start, login failed, wrong rows...)."""


# --- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop a process group started here: TERM, then KILL after 15 s."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def _gunicorn(stack: ExitStack, app: str, env: dict, log: Path, threads: int,
              workers: int = WORKERS) -> tuple[str, subprocess.Popen]:
    port = free_port()
    worker = ["-k", "gthread", "--threads", str(threads)] if threads > 1 else ["-k", "sync"]
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", str(workers), *worker,
         "-b", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "10", app],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    stack.callback(_stop, proc)
    return f"http://127.0.0.1:{port}", proc


def _wait_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise LoadError(f"gunicorn exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise LoadError(f"{url} did not answer within {timeout:.0f} s")


def worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [int(p) for p in children]
    except OSError:
        return []


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Peak RSS of one gunicorn master's workers, sampled every 100 ms while running."""

    def __init__(self, master: int):
        self.master, self.peak_kib = master, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in worker_pids(self.master):
                self.peak_kib = max(self.peak_kib, rss_kib(pid))
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(5)


class CpuSplit:
    """Where the machine's CPU went during one wrk run: the server's processes (a gunicorn master
    and its workers, every thread), PostgreSQL's processes, and the rest (wrk, other load), from
    /proc; ``per_request`` divides each by the requests served."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, master: int):
        self.master = master

    @classmethod
    def _ticks(cls, pid: int) -> int:
        """utime + stime, plus cutime + cstime: a backend that exits during the run is counted
        in its parent's reaped children's time instead of vanishing."""
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            return 0

    @staticmethod
    def _postgres() -> list[int]:
        out = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if (d / "comm").read_text().strip() in ("postgres", "postmaster"):
                        out.append(int(d.name))
                except OSError:
                    pass
        return out

    @staticmethod
    def _machine() -> int:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        return sum(int(x) for x in first[:3]) + sum(int(x) for x in first[5:8])  # user nice system irq softirq steal

    def _read(self) -> dict:
        server = [self.master, *worker_pids(self.master)]
        return {"server": sum(self._ticks(p) for p in server), "postgres": sum(self._ticks(p) for p in self._postgres()),
                "machine": self._machine()}

    def __enter__(self):
        self.before = self._read()
        return self

    def __exit__(self, *exc):
        after = self._read()
        self.ticks = {k: after[k] - self.before[k] for k in after}

    def per_request(self, requests: int) -> dict:
        ms = {k: v / self.TICK * 1000 / max(requests, 1) for k, v in self.ticks.items()}
        return {"server_ms": round(ms["server"], 2), "postgres_ms": round(ms["postgres"], 2),
                "other_ms": round(max(ms["machine"] - ms["server"] - ms["postgres"], 0), 2)}


# --- login and pages ------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _opener(jar):
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    return opener


def _fetch(opener, url: str, data: dict | None = None) -> tuple[int, str, dict]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


def login(base: str, user: str, password: str) -> str:
    """Log in through the form (CSRF token included); returns the ``Cookie`` header to send."""
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    status, page, _ = _fetch(opener, base + "/login")
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if status != 200 or not m:
        raise LoadError(f"login page: HTTP {status}, CSRF token {'found' if m else 'missing'}")
    status, page, headers = _fetch(opener, base + "/login",
                                   {"csrf_token": html.unescape(m.group(1)), "username": user,
                                    "password": password, "next": ""})
    if status != 302 or "/login" in headers.get("Location", "/login"):
        raise LoadError(f"login as {user} failed: HTTP {status} {headers.get('Location', '')}")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if not cookie:
        raise LoadError("login set no cookie")
    return cookie


def get_page(url: str, cookie: str = "") -> str:
    opener = _opener(http.cookiejar.CookieJar())
    if cookie:
        opener.addheaders.append(("Cookie", cookie))
    status, page, headers = _fetch(opener, url)
    if status != 200:
        raise LoadError(f"{url}: HTTP {status} {headers.get('Location', '')} (a redirect to /login: "
                        "the session cookie was not accepted)")
    return page


# --- wrk ------------------------------------------------------------------------------------


def run_wrk(url: str, seconds: int, script: Path, cookie: str = "", connections: int = CONNECTIONS) -> dict:
    cmd = ["wrk", "-t", str(WRK_THREADS), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
           "-s", str(script), "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    try:
        out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    except FileNotFoundError as exc:
        raise LoadError("wrk is not installed (scripts/install-system-deps.sh installs it)") from exc
    m = re.search(r"^WRK_JSON (.*)$", out, re.M)
    if not m:
        raise LoadError(f"wrk printed no result for {url}:\n{out[-2000:]}")
    raw = json.loads(m.group(1))
    secs = raw["duration_us"] / 1e6
    return {"requests": raw["requests"], "rps": round(raw["requests"] / secs, 1),
            "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
            "max_ms": raw["max_us"] / 1000, "non_2xx": raw["non_2xx"], "statuses": raw["statuses"],
            "socket_errors": raw["socket_errors"], "kib_per_response": round(raw["bytes"] / 1024 / max(raw["requests"], 1), 1),
            "cpu_ms": round(raw["cpu_ms"] / raw["timed"], 2) if raw["timed"] else None,
            "queries": round(raw["queries"] / raw["timed"], 1) if raw["timed"] else None}


# --- the dataset ----------------------------------------------------------------------------


def target(manifest: dict) -> tuple[str, str]:
    """Database URL and the dataset's password (every generated person has it)."""
    url = manifest.get("database_url")
    password = manifest.get("password") or (manifest.get("busy_clerk") or {}).get("password")
    if not (url and password and manifest.get("busy_clerk")):
        raise LoadError("the manifest names no database URL, busy clerk and password")
    return normalise_database_url(url), password


def clerk(database_url: str, user: str) -> dict:
    """What the floor needs to know of the clerk: his user id, unit and the roles of the post he
    acts in (the first post, as at login), and the units whose receipts he handles (his post's
    unit and, for a general office, its government)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT a.id AS user_id, p.id AS post_id, u.id, u.kind, u.division_id, u.path FROM user_account a "
                "JOIN post p ON p.user_id = a.id JOIN unit u ON u.id = p.unit_id "
                "WHERE a.username = :u ORDER BY p.is_primary DESC, p.id LIMIT 1"), {"u": user}).first()
            if row is None:
                raise LoadError(f"{user} has no post")
            roles = sorted(conn.execute(text("SELECT role FROM post_role WHERE post_id = :p"),
                                        {"p": row.post_id}).scalars())
            units = [row.id]
            if row.kind == "general_office":
                gov = conn.execute(text("SELECT id FROM unit WHERE division_id = :d AND kind = 'government'"),
                                   {"d": row.division_id}).scalar()
                if gov:
                    units.append(gov)
            return {"units": units, "user_id": row.user_id, "unit_id": row.id, "division_id": row.division_id,
                    "path": row.path, "roles": roles}
    finally:
        engine.dispose()


# --- the measurement ------------------------------------------------------------------------


def _with_bytes(url: str, size: int) -> str:
    return f"{url}{'&' if '?' in url else '?'}bytes={size}"


def same_rows(page: Page, shown_html: str, floor_html: str) -> list[str]:
    """The rows the page shows, after checking that its floor shows the same ones."""
    shown, floor_rows = page.extract(shown_html), page.extract(floor_html)
    if not shown:
        raise LoadError(f"{page.name}: the page shows no rows ({page.rows!r} matched nothing)")
    if shown != floor_rows:
        raise LoadError(f"{page.name}: the page shows {len(shown)} rows, the floor {len(floor_rows)}; "
                        f"only on the page: {sorted(set(shown) - set(floor_rows))[:5]}, only on the "
                        f"floor: {sorted(set(floor_rows) - set(shown))[:5]}")
    return shown


def verdict(app: dict, floor: dict) -> dict:
    ratio = app["rps"] / floor["rps"] if floor["rps"] else 0.0
    p95_factor = app["p95_ms"] / floor["p95_ms"] if floor["p95_ms"] else float("inf")
    return {"throughput_ratio": round(ratio, 3), "p95_factor": round(p95_factor, 2),
            "meets_target": ratio >= TARGET_RATIO and p95_factor <= TARGET_P95_FACTOR}


def measure(manifest: dict, seconds: int = 30, *, connections: int = CONNECTIONS, threads: int = THREADS,
            workers: int = WORKERS, only: list[str] | None = None) -> dict:
    """Measure the main pages against their floors; see the module docstring."""
    database_url, password = target(manifest)
    who = clerk(database_url, manifest["busy_clerk"]["username"])
    pages = [p for p in resolve(database_url, manifest) if not only or p.name in only]
    tmp = Path(tempfile.mkdtemp(prefix="office-web-load-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, tmp, True)
        base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
        base_env["OFFICE_REQUEST_TIMING"] = "1"
        app_env = dict(base_env, DATABASE_URL=database_url, OFFICE_ENV="development",
                       SECRET_KEY=secrets.token_hex(32), OFFICE_INSTANCE_DIR=str(tmp / "instance"),
                       OFFICE_STORAGE_DIR=str(tmp / "instance" / "storage"))
        floor_env = dict(base_env, FLOOR_DATABASE_URL=database_url, FLOOR_CLERK=json.dumps(who))
        app_url, app_proc = _gunicorn(stack, "wsgi:app", app_env, tmp / "app.log", threads, workers)
        floor_url, floor_proc = _gunicorn(stack, "bench.floor_app:app", floor_env, tmp / "floor.log", threads,
                                          workers)
        _wait_up(app_url + "/healthz", app_proc, tmp / "app.log")
        _wait_up(floor_url + "/todo", floor_proc, tmp / "floor.log")
        cookies = {u: login(app_url, u, password) for u in sorted({p.username for p in pages})}
        script = tmp / "report.lua"
        script.write_text(WRK_SCRIPT)

        results: dict = {}
        peak_kib = 0
        for page in pages:
            cookie = cookies[page.username]
            shown_html = get_page(app_url + page.path, cookie)
            size = len(shown_html.encode())
            floor_path = _with_bytes(page.floor, size)
            rows = same_rows(page, shown_html, get_page(floor_url + floor_path))
            # Warm both (first requests compile templates and fill pools), then measure.
            run_wrk(app_url + page.path, 2, script, cookie, connections)
            run_wrk(floor_url + floor_path, 2, script, connections=connections)
            with RssSampler(app_proc.pid) as rss, CpuSplit(app_proc.pid) as split:
                app = run_wrk(app_url + page.path, seconds, script, cookie, connections)
            app["machine"] = split.per_request(app["requests"])
            peak_kib = max(peak_kib, rss.peak_kib)
            with CpuSplit(floor_proc.pid) as split:
                floor = run_wrk(floor_url + floor_path, seconds, script, connections=connections)
            floor["machine"] = split.per_request(floor["requests"])
            for label, res in (("page", app), ("floor", floor)):
                if res["non_2xx"] or res["socket_errors"]:
                    raise LoadError(f"{page.name} {label}: {res['non_2xx']} non-2xx responses {res['statuses']}, "
                                    f"{res['socket_errors']} socket errors")
            results[page.name] = {"path": page.path, "user": page.username, "rows": len(rows),
                                  "kib": round(size / 1024, 1), "page": app, "floor": floor, **verdict(app, floor)}
    return {"seconds": seconds, "gunicorn": f"{workers} workers, " + (f"gthread x{threads}" if threads > 1 else "sync"),
            "wrk": f"{WRK_THREADS} threads, {connections} connections",
            "targets": {"throughput_ratio_min": TARGET_RATIO, "p95_factor_max": TARGET_P95_FACTOR},
            "pages": results, "web_worker_peak_rss_mib": round(peak_kib / 1024, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def table(result: dict) -> str:
    lines = ["| page | rows | KiB | CPU ms | queries | req/s | p50 ms | p95 ms | floor CPU ms | floor queries "
             "| floor req/s | floor p95 ms | page/floor req/s | p95 / floor p95 | target |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in result["pages"].items():
        a, f = r["page"], r["floor"]
        lines.append(f"| {name} ({r['path']}) | {r['rows']} | {r['kib']} | {a['cpu_ms']} | {a['queries']} "
                     f"| {a['rps']:.0f} | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | {f['cpu_ms']} | {f['queries']} "
                     f"| {f['rps']:.0f} | {f['p95_ms']:.1f} | {r['throughput_ratio']:.0%} | {r['p95_factor']:.2f}x "
                     f"| {'met' if r['meets_target'] else '**missed**'} |")
    split = [(n, r) for n, r in result["pages"].items() if "machine" in r["page"]]
    if split:
        lines += ["", "The machine's CPU per request during the same runs (ms; the server's processes with every "
                  "thread, PostgreSQL's processes, the rest: wrk and other load):", "",
                  "| page | server | PostgreSQL | rest | floor server | floor PostgreSQL | floor rest |",
                  "|---|---|---|---|---|---|---|"]
        for name, r in split:
            a, f = r["page"]["machine"], r["floor"]["machine"]
            lines.append(f"| {name} | {a['server_ms']} | {a['postgres_ms']} | {a['other_ms']} | {f['server_ms']} "
                         f"| {f['postgres_ms']} | {f['other_ms']} |")
    lines.append(f"\nCPU ms and queries are per request, server side (the serving thread's CPU time). Peak RSS "
                 f"of a web worker under load: {result['web_worker_peak_rss_mib']} MiB (gunicorn {result['gunicorn']}; "
                 f"wrk {result['wrk']}, {result['seconds']} s per run; load average after the run "
                 f"{result.get('load_average')}).")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--pages", help="comma-separated page names (default: all)")
    ap.add_argument("--connections", type=int, default=CONNECTIONS, help="wrk's open connections")
    ap.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    ap.add_argument("--threads", type=int, default=THREADS, help="threads per gunicorn worker (1: sync worker)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = ap.parse_args(argv)
    if not MANIFEST.exists():
        ap.error(f"no {MANIFEST.name}: build the dataset (python -m bench.generate)")
    manifest = json.loads(MANIFEST.read_text())
    try:
        result = measure(manifest, args.seconds, connections=args.connections, threads=args.threads,
                         workers=args.workers, only=args.pages.split(",") if args.pages else None)
    except LoadError as exc:
        print(f"web_load: {exc}", file=sys.stderr)
        return 1
    print(table(result))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if all(p["meets_target"] for p in result["pages"].values()) else 2


if __name__ == "__main__":
    sys.exit(main())
