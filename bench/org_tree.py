"""The organisation directory on four real provinces at once (Zhejiang, Guangdong, Hainan, Hubei:
6,868 divisions, 5,475 townships, every division's organs): the tree page, one level opened (the
21 cities of Guangdong, the 32 towns of 东莞, the biggest county), a search, a unit page, each
through the Flask test client as a logged-in province clerk. Target: well under a second each;
the work is bounded by the level opened, not by the size of the province.

    python -m bench.org_tree [--database-url URL] [-n 20]

Without a URL a fresh SQLite file in the temp directory; with a PostgreSQL URL its database is
emptied and migrated first (use a scratch database such as ``office_bench_org``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.measure import stats

DATA = Path(__file__).resolve().parent.parent / "office" / "data"
PROVINCES = ["zhejiang", "guangdong", "hainan", "hubei"]
TARGET_MS = 300.0


def build(url: str):
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from office import create_app, demo
    from office.auth.models import Post, PostRole, User
    from office.auth.passwords import hash_password
    from office.extensions import db
    from office.org import service as org
    from office.org.models import Division, Unit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "OFFICE_ENV": "development"})
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(db.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade(revision="heads")
        for name in PROVINCES:
            org.import_divisions(DATA / f"{name}-divisions.csv")
        demo.build_units()
        db.session.commit()
        clerk = User(username="gd_clerk", name="黄文静", password_hash=hash_password("Bench@2026!"),
                     email="gd_clerk@bench.invalid")
        db.session.add(clerk)
        db.session.flush()
        office = db.session.execute(select(Unit).where(Unit.code == "440000-office")).scalar_one()
        db.session.add(Post(user_id=clerk.id, unit_id=office.id, title="文书", is_primary=True,
                            role_rows=[PostRole(role="clerk")]))
        db.session.commit()
        sizes = dict(db.session.execute(select(Division.level, func.count()).group_by(Division.level)).all())
        humen = db.session.execute(select(Unit.id).where(Unit.code == "441900121-gov")).scalar_one()
        big = db.session.execute(select(Division.parent_id, func.count()).where(Division.level == "township")
                                 .group_by(Division.parent_id).order_by(func.count().desc()).limit(1)).first()
        big_code = db.session.get(Division, big[0]).code
    return app, sizes, humen, big_code


def run(url: str | None = None, n: int = 20) -> dict:
    url = url or f"sqlite:///{Path(tempfile.gettempdir()) / 'office_bench_org.db'}"
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    t = time.perf_counter()
    app, sizes, humen, big_code = build(url)
    built = time.perf_counter() - t
    client = app.test_client()
    client.post("/login", data={"username": "gd_clerk", "password": "Bench@2026!"})
    pages = {"tree page (own branch open)": "/org/", "open 广东省 (21 cities)": "/org/divisions/440000/children",
             "open 东莞市 (32 towns under the city)": "/org/divisions/441900/children",
             f"open the division with most townships ({big_code})": f"/org/divisions/{big_code}/children",
             "search 镇 (30 hits)": "/org/?q=%E9%95%87", "search a code prefix": "/org/?q=4419001",
             "unit page 虎门镇": f"/org/units/{humen}"}
    figures = []
    for name, path in pages.items():
        assert client.get(path).status_code == 200, path
        ms = []
        for _ in range(n):
            t = time.perf_counter()
            resp = client.get(path)
            ms.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200
        s = stats(ms)
        figures.append({"name": name, **s, "target_ms": TARGET_MS, "met": s["p95_ms"] < TARGET_MS})
    return {"database": url.split("://")[0], "divisions": sizes, "build_seconds": round(built, 1),
            "figures": figures}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--database-url")
    p.add_argument("-n", type=int, default=20)
    args = p.parse_args(argv)
    out = run(args.database_url, args.n)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0 if all(f["met"] for f in out["figures"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
