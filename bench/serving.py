"""Which gunicorn settings hold up best on this machine: the same pages under the same wrk load,
served with each setting in turn (page and floor alike), plus keep-alive on and off.

    python -m bench.serving                                  # every setting, pages todo,incoming,fill
    python -m bench.serving --settings 2x4,3x4,4x2 --pages incoming --seconds 10

A setting is WORKERSxTHREADS (threads 1: the sync worker, which cannot keep a connection open).
Prints a Markdown table (req/s, p50, p95 of each page and its floor).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from bench import web_load

DEFAULT_SETTINGS = ["2x4", "2x8", "3x4", "4x4", "4x1"]
DEFAULT_PAGES = ["todo", "incoming", "fill"]


def parse(setting: str) -> tuple[int, int]:
    workers, _x, threads = setting.partition("x")
    return int(workers), int(threads or 1)


def run(manifest: dict, settings: list[str], pages: list[str], seconds: int, connections: int) -> list[dict]:
    out = []
    for setting in settings:
        workers, threads = parse(setting)
        result = web_load.measure(manifest, seconds, connections=connections, threads=threads, workers=workers,
                                  only=pages)
        out.append({"setting": setting, "workers": workers, "threads": threads, "result": result,
                    "load_average": [round(x, 2) for x in os.getloadavg()]})
    return out


def table(runs: list[dict]) -> str:
    lines = ["| gunicorn | page | req/s | p50 ms | p95 ms | CPU ms | floor req/s | floor p95 ms | load average |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        kind = f"{r['workers']} workers, " + (f"gthread x{r['threads']}" if r["threads"] > 1 else "sync")
        for name, p in r["result"]["pages"].items():
            a, f = p["page"], p["floor"]
            lines.append(f"| {kind} | {name} | {a['rps']:.0f} | {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | {a['cpu_ms']} "
                         f"| {f['rps']:.0f} | {f['p95_ms']:.1f} | {r['load_average'][0]} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--settings", default=",".join(DEFAULT_SETTINGS))
    ap.add_argument("--pages", default=",".join(DEFAULT_PAGES))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=web_load.CONNECTIONS)
    args = ap.parse_args(argv)
    manifest = json.loads(web_load.MANIFEST.read_text())
    try:
        runs = run(manifest, args.settings.split(","), args.pages.split(","), args.seconds, args.connections)
    except web_load.LoadError as exc:
        print(f"serving: {exc}", file=sys.stderr)
        return 1
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
