"""Profile the main pages in-process with pyinstrument: where each page's CPU goes.

    python -m bench.profile                      # every page of bench/pages.py, 20 requests each
    python -m bench.profile --pages rollup,fill --requests 5 --out /tmp/profiles

Each page's user logs in through the login form of a Flask test client on the dataset's database
(bench/.dataset.json); the page is requested a few times to warm up, then ``--requests`` times under
the profiler. Prints each page's CPU ms per request (thread time, without the profiler) and queries
per request, and writes the call tree (``<page>.txt``) and an HTML flame view (``<page>.html``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from bench.pages import resolve
from bench.web_load import MANIFEST


def _client(app, username: str, password: str):
    c = app.test_client()
    page = c.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if r.status_code != 302:
        raise SystemExit(f"login as {username} failed: HTTP {r.status_code}")
    return c


def main(argv=None) -> int:
    from pyinstrument import Profiler

    from office import create_app

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", help="comma-separated page names (default: all)")
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--out", default="bench/profiles", help="folder for the call trees and flame views")
    args = ap.parse_args(argv)
    manifest = json.loads(MANIFEST.read_text())
    url = manifest["database_url"]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "REQUEST_TIMING": True,
                      "JOBS_INPROCESS_MODE": "sync"})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clients: dict = {}
    only = args.pages.split(",") if args.pages else None
    for page in resolve(url, manifest):
        if only and page.name not in only:
            continue
        c = clients.get(page.username) or clients.setdefault(page.username, _client(app, page.username,
                                                                                       manifest["password"]))
        for _ in range(3):
            c.get(page.path)
        cpu, queries = [], []
        for _ in range(args.requests):
            r = c.get(page.path)
            cpu.append(float(r.headers["X-Office-CPU-ms"]))
            queries.append(int(r.headers["X-Office-Queries"]))
        profiler = Profiler(interval=0.0005)
        t = time.perf_counter()
        with profiler:
            for _ in range(args.requests):
                c.get(page.path)
        (out / f"{page.name}.txt").write_text(profiler.output_text(unicode=True, color=False), encoding="utf-8")
        (out / f"{page.name}.html").write_text(profiler.output_html(), encoding="utf-8")
        cpu.sort()
        print(f"{page.name:14} CPU ms median {cpu[len(cpu) // 2]:7.2f}  best {cpu[0]:7.2f}  queries {max(queries):3d}  "
              f"(profiled {(time.perf_counter() - t) / args.requests * 1000:.1f} ms/request) -> {out / page.name}.txt",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
