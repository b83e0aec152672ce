"""Acceptance run: a fresh PostgreSQL database with the demo province, gunicorn, two RQ workers and
a throwaway Redis on loopback, then 50 simulated users (``bench.load_users``): they arrive over
20 s and sign in (the warm-up), then work for 60 s, the measured window.

    python -m bench.acceptance [--users 50] [--seconds 60] [--arrival-seconds 20]

Exits non-zero on any error; prints the p95 of the measured window (target: under 300 ms) and,
apart, the p95 of the sign-ins (each verifies an argon2id password hash). Uses OFFICE_TEST_DATABASE_URL's server (a database of its
own, dropped afterwards) and never touches the shared Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import load_users

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"acceptance: {url} did not come up")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60, help="the measured window, after the last sign-in")
    ap.add_argument("--arrival-seconds", type=float, default=20,
                    help="the users arrive and sign in over this long before the window (the warm-up)")
    ap.add_argument("--web-workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    ap.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    args = ap.parse_args(argv)
    base_url = make_url(os.environ.get("OFFICE_TEST_DATABASE_URL",
                                       "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = f"office_acceptance_{os.getpid()}"
    admin = base_url.set(drivername="postgresql").render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="office-acceptance-"))
    procs: list[subprocess.Popen] = []
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        redis_port, web_port = free_port(), free_port()
        procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                                      stdout=subprocess.DEVNULL))
        env = dict(os.environ, DATABASE_URL=base_url.set(database=name).render_as_string(hide_password=False),
                   REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", OFFICE_INSTANCE_DIR=str(tmp / "instance"),
                   OFFICE_STORAGE_DIR=str(tmp / "instance" / "storage"), SECRET_KEY=secrets.token_hex(32),
                   OFFICE_ENV="development")
        flask = [str(BIN / "flask"), "--app", "office"]
        t0 = time.monotonic()
        subprocess.run(flask + ["db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
        subprocess.run(flask + ["demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        print(f"acceptance: database {name} migrated and seeded in {time.monotonic() - t0:.0f} s", flush=True)
        logs = tmp / "logs"
        logs.mkdir()
        # The production settings (gunicorn.conf.py), unless told otherwise.
        serving = ["-c", str(ROOT / "gunicorn.conf.py"), "-b", f"127.0.0.1:{web_port}", "--timeout", "120"]
        if args.web_workers:
            serving += ["-w", str(args.web_workers)]
        if args.threads:
            serving += ["--threads", str(args.threads)]
        procs.append(subprocess.Popen(
            [str(BIN / "gunicorn"), *serving, "wsgi:app"],
            cwd=ROOT, env=env, stdout=(logs / "gunicorn.log").open("wb"), stderr=subprocess.STDOUT))
        for i in range(2):
            procs.append(subprocess.Popen(flask + ["worker"], cwd=ROOT, env=env,
                                          stdout=(logs / f"worker{i}.log").open("wb"), stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{web_port}"
        wait_http(base + "/healthz", 240)  # four workers import the app at once; slow on a busy machine
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
        print(f"acceptance: {args.users} users arriving over {args.arrival_seconds:.0f} s, then {args.seconds:.0f} s "
              f"of work against {base} (gunicorn "
              f"{args.web_workers or conf['workers']} workers x {args.threads or conf['threads']} threads, "
              f"2 RQ workers; load average {os.getloadavg()[0]:.2f})", flush=True)
        result = load_users.run(base, args.users, args.seconds, arrival_seconds=args.arrival_seconds)
        with urllib.request.urlopen(base + "/healthz", timeout=10) as r:
            result["health_after"] = json.loads(r.read())
        print(json.dumps(result, ensure_ascii=False, indent=1))
        if result["errors"]:
            tail = (logs / "gunicorn.log").read_text(errors="replace")[-4000:]
            print(f"acceptance: FAILED with {result['errors']} errors; gunicorn log tail:\n{tail}")
            return 1
        if not result["requests"]:
            print("acceptance: FAILED, no request was made")
            return 1
        result["load_average"] = [round(x, 2) for x in os.getloadavg()]
        login = result["login"]
        print(f"acceptance: OK, 0 errors; work window {args.seconds:.0f} s: {result['requests']} requests, "
              f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms (target < 300 ms: "
              f"{'met' if result['p95_ms'] < 300 else 'missed'}); sign-ins: {login['requests']} requests, "
              f"p50 {login['p50_ms']} ms, p95 {login['p95_ms']} ms; warm-up {result['warmup_seconds']} s "
              f"(load average {result['load_average']})")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
