"""The province-scale dataset: ``python -m bench.generate [--scale S] [--backend postgresql|sqlite]``.

Built on a fresh database migrated by the app's own Alembic revisions, from the Zhejiang division
file: every division's government and departments (the org import services), three people with
posts in every unit, documents with their receipts over every state, stand-alone approval requests
in every state, five monthly forms of 200 fields issued by the province to every township, and a
value for every field of every township in every period.

Scale 1 is the full province year: 200,000 documents, 1,000,000 receipts, 20,000 approval requests
and twelve monthly periods (16.6 million form values). ``grow`` extends a built dataset to a larger
scale without touching what is there, so growth is measured on the same rows. Everything is seeded:
the same scale and seed give the same rows.

The manifest ``bench/.dataset.json`` records what was built and the ids the measurements need.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, text

from bench import bulk
from bench.rows import (
    BUSY_UNIT_CODE,
    PASSWORD,
    build_approvals,
    build_documents,
    build_people,
    form_definitions,
    load_values,
    period_name,
)
from office import create_app
from office.actor import Actor, actor_for_post
from office.auth.models import Post, User
from office.extensions import db

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "bench" / ".dataset.json"
PG_ADMIN_URL = os.environ.get("OFFICE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = "office_bench"
DEFAULT_SCALE = 1 / 3  # four monthly periods; see "Scale" in bench/RESULTS.md
DEFAULT_SEED = 2026
FULL = {"documents": 200_000, "receipts": 1_000_000, "approvals": 20_000, "periods": 12}
FORMS, FIELDS = 5, 200
ISSUER_CODE = "330000-tj"  # the provincial statistics bureau issues the monthly forms


def plan(scale: float) -> dict[str, int]:
    return {"documents": round(FULL["documents"] * scale), "receipts": round(FULL["receipts"] * scale),
            "approvals": round(FULL["approvals"] * scale), "periods": max(1, round(FULL["periods"] * scale))}


def fresh_database(backend: str, sqlite_path: Path | None = None) -> str:
    """Drop and recreate ``office_bench`` (PostgreSQL) or a temporary SQLite file; return its URL."""
    if backend == "sqlite":
        path = sqlite_path or Path(tempfile.gettempdir()) / "office_bench.db"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(PG_ADMIN_URL)
    with psycopg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return admin.set(database=PG_DATABASE).render_as_string(hide_password=False)


def make_app(url: str, *, loading: bool = False, **overrides):
    inst = Path(tempfile.gettempdir()) / "office_bench_instance"
    cfg = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret", "INSTANCE_DIR": str(inst),
           "STORAGE_DIR": str(inst / "storage"), "JOBS_INPROCESS_MODE": "sync", "REDIS_URL": None,
           "SMTP_HOST": None, "BABEL_DEFAULT_LOCALE": "zh_CN"}
    if loading and url.startswith("postgresql"):
        # Bulk loading: the rows are consistent by construction; foreign-key triggers would
        # check each of millions of rows one by one.
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c session_replication_role=replica"}}
    cfg.update(overrides)
    return create_app(cfg)


def _post_actor(username: str) -> Actor:
    post = db.session.execute(select(Post).join(User, User.id == Post.user_id)
                              .where(User.username == username)).scalars().first()
    return actor_for_post(post)


def build_base(seed: int, fields: int = FIELDS) -> dict:
    """Organisation, people, the approval flow and the form catalogue (independent of the scale)."""
    from flask_migrate import upgrade

    from office import demo
    from office.approvals import flows
    from office.forms.catalogue import create_element, create_template
    from office.org import service as org

    upgrade(revision="heads")
    db.session.remove()
    org.import_divisions(demo.DIVISIONS_CSV)
    demo.build_units()
    db.session.commit()
    people = build_people(seed)
    system = Actor.system("bench")
    flow = flows.save_flow(system, key="bench.request", name="请示件审批（基准数据）", subject_type="request",
                           definition={"nodes": [{"name": "单位领导审批", "type": "single",
                                                  "assignees": {"kind": "role", "role": "leader"}}]})
    forms = []
    for f, (code, name, elements, definition) in enumerate(form_definitions(FORMS, fields), start=1):
        for el in elements:
            create_element(system, commit=False, **el)
        v = create_template(system, code=code, name=name, definition=definition, owner_function="tj",
                            period_type="month", commit=False)
        forms.append({"index": f, "code": code, "name": name, "template_id": v.template_id, "version_id": v.id})
    db.session.commit()
    return {"people": people, "flow_id": flow.id, "flow_version_id": flow.current_version_id, "forms": forms}


def grow(manifest: dict, scale: float) -> dict:
    """Add documents, receipts, approvals and periods up to ``scale`` (nothing is rebuilt)."""
    from datetime import datetime

    from office.forms import tasks

    want, have = plan(scale), manifest["built"]
    seed = manifest["seed"]
    timings = manifest.setdefault("build_seconds", {})
    t = time.perf_counter()
    with bulk.without_indexes("doc_document"), bulk.without_indexes("doc_receipt"):
        build_documents(seed, have["documents"], want["documents"], have["receipts"], want["receipts"],
                        manifest["people"])
    build_approvals(seed, have["approvals"], want["approvals"], manifest["people"], manifest["flow_version_id"])
    db.session.commit()
    timings[f"documents_approvals@{scale}"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    issuer = _post_actor(manifest["people"]["issuer_username"])
    for p in range(have["periods"], want["periods"]):
        period = period_name(p)
        year, month = int(period[:4]), int(period[5:])
        deadline = datetime(year + (month == 12), month % 12 + 1, 10, 15, 59)
        for form in manifest["forms"]:
            task = tasks.issue_task(issuer, template_code=form["code"], period=period, deadline=deadline,
                                    title=f"{form['name']}（{period}）", target="townships")
            manifest["tasks"].append({"id": task.id, "form": form["code"], "period": period})
        _settle_submissions(period, last=p == want["periods"] - 1)
    db.session.commit()
    with bulk.without_indexes("form_value"):
        for p in range(have["periods"], want["periods"]):
            load_values(seed, p)
    db.session.commit()
    timings[f"forms@{scale}"] = round(time.perf_counter() - t, 1)
    for step in POST_GENERATION:
        step(manifest, have, want)
    bulk.fix_sequences(["doc_document", "doc_distribution", "doc_receipt", "doc_issuer", "doc_recipient",
                        "doc_number", "doc_number_counter", "doc_archive", "approval_standalone",
                        "approval_request", "approval_task"])
    db.session.commit()
    # The rows above were loaded below the services: the to-do items (the inbox) from them, in bulk.
    from office.inbox.rebuild import bulk_load

    t = time.perf_counter()
    with bulk.without_indexes("inbox_item"):
        bulk_load()
    db.session.commit()
    timings[f"inbox@{scale}"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    bulk.analyze()
    timings[f"analyze@{scale}"] = round(time.perf_counter() - t, 1)
    manifest["built"] = want
    manifest["scale"] = scale
    manifest["counts"] = counts()
    return manifest


def _notifications(manifest: dict, have: dict, want: dict) -> None:
    """The busy clerk's notifications: 30 a day's worth of documents (one per 200 of the province's),
    the older half read."""
    from datetime import datetime, timedelta

    from office.notifications.models import Notification

    clerk = manifest["people"]["busy_clerk"]
    user_id = db.session.execute(select(User.id).where(User.username == clerk)).scalar_one()
    start, end = have["documents"] // 200, want["documents"] // 200
    first = datetime(2025, 1, 1, 8, 30)
    rows = [{"user_id": user_id, "kind": "assignment" if i % 3 else "info", "title": f"收文提醒：第{i + 1}号来文待签收",
             "body": "请及时签收并登记。", "url": "/documents/", "created_at": first + timedelta(hours=6 * i),
             "read_at": first + timedelta(hours=6 * i + 2) if i < (start + end) // 2 else None}
            for i in range(start, end)]
    if rows:
        db.session.execute(Notification.__table__.insert(), rows)


# Steps run after each growth, in the same transaction, each ``step(manifest, have, want)`` with
# what was built before (``have``) and the counts now wanted (``want``). A table the application
# keeps from the modules' own state (a derived index, a per-user list) is filled here, by the
# function its module provides for rebuilding it.
POST_GENERATION = [_notifications]


def _settle_submissions(period: str, *, last: bool) -> None:
    """Earlier periods are approved; in the current one most townships have submitted, some not."""
    sub_ids = "SELECT id FROM form_task WHERE period = :p"
    if not last:
        db.session.execute(text(
            "UPDATE form_submission SET state = 'approved', submitted_at = t.created_at, "
            "reviewed_at = t.created_at, fields_typed = fields_total "
            f"FROM form_task t WHERE t.id = form_submission.task_id AND form_submission.task_id IN ({sub_ids})"),
            {"p": period})
        return
    db.session.execute(text(
        "UPDATE form_submission SET state = CASE WHEN id % 10 < 6 THEN 'submitted' WHEN id % 10 < 8 "
        "THEN 'approved' WHEN id % 10 = 8 THEN 'returned' ELSE 'draft' END, "
        "submitted_at = CASE WHEN id % 10 < 9 THEN (SELECT created_at FROM form_task WHERE form_task.id = "
        f"form_submission.task_id) END WHERE kind = 'leaf' AND task_id IN ({sub_ids})"), {"p": period})


def counts() -> dict[str, int]:
    tables = ["division", "unit", "user_account", "post", "doc_document", "doc_distribution", "doc_receipt",
              "approval_request", "approval_task", "form_element", "form_template", "form_task",
              "form_submission", "form_value", "inbox_item"]
    return {t: int(db.session.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()) for t in tables}


def generate(scale: float = DEFAULT_SCALE, *, backend: str = "postgresql", seed: int = DEFAULT_SEED,
             manifest_path: Path | None = MANIFEST, fields: int = FIELDS, sqlite_path: Path | None = None) -> dict:
    """Build the dataset from nothing at ``scale`` (``fields`` per form: 200, fewer for a quick
    check); write and return the manifest."""
    url = fresh_database(backend, sqlite_path)
    app = make_app(url, loading=True)
    started = time.perf_counter()
    with app.app_context():
        t = time.perf_counter()
        base = build_base(seed, fields)
        manifest = {"format": 1, "database_url": url, "backend": backend, "seed": seed, "scale": 0,
                    "password": PASSWORD, "fields": fields, "built": {"documents": 0, "receipts": 0, "approvals": 0, "periods": 0},
                    "tasks": [], "build_seconds": {"base": round(time.perf_counter() - t, 1)}, **base}
        grow(manifest, scale)
        _describe(manifest)
    manifest["build_seconds"]["total"] = round(time.perf_counter() - started, 1)
    if manifest_path:
        write_manifest(manifest, manifest_path)
    return manifest


def extend(manifest: dict, scale: float, manifest_path: Path | None = MANIFEST) -> dict:
    app = make_app(manifest["database_url"], loading=True)
    with app.app_context():
        grow(manifest, scale)
        _describe(manifest)
    if manifest_path:
        write_manifest(manifest, manifest_path)
    return manifest


def _describe(manifest: dict) -> None:
    """The ids the measurements need, next to what was built."""
    from office.org.models import Unit

    people = manifest["people"]
    busy = db.session.execute(select(User).where(User.username == people["busy_clerk"])).scalar_one()
    unit = db.session.execute(select(Unit).where(Unit.code == BUSY_UNIT_CODE)).scalar_one()
    province = db.session.execute(select(Unit).where(Unit.code == "330000-gov")).scalar_one()
    town = db.session.get(Unit, people["townships"][0])
    last = manifest["built"]["periods"] - 1
    manifest["busy_clerk"] = {"username": busy.username, "password": PASSWORD, "user_id": busy.id,
                              "unit_id": unit.id, "unit_code": unit.code, "unit_path": unit.path}
    manifest["province"] = {"unit_id": province.id, "path": province.path,
                            "clerk_username": people["province_clerk"]}
    manifest["township"] = {"unit_id": town.id, "code": town.code, "path": town.path,
                            "clerk_username": people["township_clerk"]}
    manifest["current_period"] = period_name(last)
    manifest["form_task_ids"] = {t["form"]: t["id"] for t in manifest["tasks"] if t["period"] == period_name(last)}
    manifest["rollup_task_id"] = next(t["id"] for t in manifest["tasks"] if t["period"] == period_name(0))


def write_manifest(manifest: dict, path: Path = MANIFEST) -> None:
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def read_manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def parse_scale(value: str) -> float:
    num, _slash, den = value.partition("/")
    return float(num) / float(den or 1)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=parse_scale, default=DEFAULT_SCALE, help="1 = the full province year; 1/3")
    ap.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    m = generate(args.scale, backend=args.backend, seed=args.seed)
    print(json.dumps({"counts": m["counts"], "build_seconds": m["build_seconds"],
                      "busy_clerk": m["busy_clerk"]["username"]}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
