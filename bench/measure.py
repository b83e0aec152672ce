"""The data-side measurements on a generated dataset, each next to its floor measured in the same run:
distribution of a notice to the whole province, the province roll-up of a 200-field form, the fill
page's prefill, a two-character search. Each returns a figure dict (see ``figure``)."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select, text

from bench import bulk
from office.actor import Actor, actor_for_post
from office.auth.models import Post, User
from office.extensions import db

SEARCH_WORDS = ["安全", "防汛", "养老", "考核", "数字", "通报"]


def sample(fn: Callable[[], object], n: int, warmup: int = 2) -> list[float]:
    """Milliseconds of ``n`` calls after ``warmup`` calls, each in a fresh session state."""
    for _ in range(warmup):
        fn()
        db.session.rollback()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        db.session.rollback()
    return out


def stats(ms: list[float]) -> dict:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {"n": len(ms), "best_ms": round(ordered[0], 2), "median_ms": round(statistics.median(ms), 2),
            "p95_ms": round(p95, 2)}


def figure(name: str, value: float, unit: str, target: str, met: bool, *, floor: float | None = None,
           by: str = "", why: str = "", **detail) -> dict:
    return {"name": name, "value": round(value, 2), "unit": unit, "floor": None if floor is None else round(floor, 2),
            "target": target, "met": met, "by": by, "why": why, **detail}


def post_actor(username: str) -> Actor:
    post = db.session.execute(select(Post).join(User, User.id == Post.user_id)
                              .where(User.username == username)).scalars().first()
    return actor_for_post(post)


# --- distribution ------------------------------------------------------------------------------


def sealed_notice(sender: Actor, unit_ids: list[int], n: int):
    from office.docflow.common import refresh_tokens
    from office.docflow.models import DocState, Document, DocumentIssuer, DocumentRecipient
    from office.docflow.numbering import assign_number
    from office.org.models import Unit
    from office.timeutil import utcnow

    lead = db.session.get(Unit, sender.unit_id)
    doc = Document(doc_type="通知", title=f"关于做好全省防汛防台工作的紧急通知（基准{n}）", body="各市、县（市、区）人民政府，省政府直属各单位：……",
                   lead_unit_id=lead.id, lead_unit=lead, path=lead.path, drafter_id=sender.user_id,
                   drafter_name=sender.name, number_prefix=lead.short_name + "发", state=DocState.SEALED,
                   printing_organ=lead.name, due_days=10, signer_name=sender.name, signed_at=utcnow(),
                   sealed_at=utcnow())
    doc.issuers = [DocumentIssuer(unit_id=lead.id, unit=lead, position=0)]
    units = db.session.execute(select(Unit).where(Unit.id.in_(unit_ids))).scalars().all()
    doc.recipients = [DocumentRecipient(unit_id=u.id, unit=u, role="main", group_key="all") for u in units]
    db.session.add(doc)
    db.session.flush()
    assign_number(doc, lead.id, doc.number_prefix, utcnow().year)
    refresh_tokens(doc)
    db.session.commit()
    return doc.id


def _floor_receipts(doc_id: int, sender_unit_id: int, unit_rows: list) -> float:
    """The same receipt rows as the service writes, for a new distribution, in one COPY/executemany
    and a commit; milliseconds (the rows are deleted afterwards, not timed)."""
    from office.timeutil import utcnow

    t = time.perf_counter()
    now = utcnow()
    dist_id = bulk.next_id("doc_distribution") + 10_000_000
    bulk.load("doc_distribution", ["id", "document_id", "root_document_id", "sender_unit_id", "created_by_name",
                                   "created_at", "recipient_count"],
              [(dist_id, doc_id, doc_id, sender_unit_id, "", now, len(unit_rows))])
    bulk.load("doc_receipt", ["distribution_id", "document_id", "root_document_id", "unit_id", "path", "level",
                              "role", "state", "delivered_at", "due_at", "signed_for_by_name", "assignee_name",
                              "result", "return_reason", "urge_count", "version"],
              [(dist_id, doc_id, doc_id, uid, path, level, "main", "delivered", now, now, "", "", "", "", 0, 1)
               for uid, path, level in unit_rows])
    db.session.commit()
    ms = (time.perf_counter() - t) * 1000
    db.session.execute(text("DELETE FROM doc_receipt WHERE distribution_id = :d"), {"d": dist_id})
    db.session.execute(text("DELETE FROM doc_distribution WHERE id = :d"), {"d": dist_id})
    db.session.commit()
    return ms


def distribution(manifest: dict, runs: int = 3) -> dict:
    """One notice from the provincial government to every government and department of the province."""
    from office.docflow import distribution as dist
    from office.jobs.models import Job
    from office.jobs.service import run_job
    from office.org.models import Unit

    sender = post_actor("330000-gov.clerk")
    unit_rows = db.session.execute(select(Unit.id, Unit.path, Unit.level).where(
        Unit.kind.in_(["government", "department"]), Unit.id != sender.unit_id, Unit.active.is_(True))).all()
    ids = [r[0] for r in unit_rows]
    service, floor, jobs = [], [], []
    for n in range(runs):
        doc_id = sealed_notice(sender, ids, n)
        floor.append(_floor_receipts(doc_id, sender.unit_id, unit_rows))
        t = time.perf_counter()
        dist.distribute(sender, doc_id)
        service.append((time.perf_counter() - t) * 1000)
        job_id = db.session.execute(select(Job.id).where(Job.name == "docflow.notify_units")
                                    .order_by(Job.id.desc())).scalars().first()
        if job_id:
            t = time.perf_counter()
            run_job(job_id)
            jobs.append((time.perf_counter() - t) * 1000)
    s, f = statistics.median(service), statistics.median(floor)
    ratio = s / f
    return figure("distribution", ratio, "x floor", "<= 2x the floor", ratio <= 2.0, floor=f,
                  by="" if ratio <= 2.0 else f"{ratio - 2.0:.2f}x over",
                  service_ms=round(s, 1), floor_ms=round(f, 1), receipts=len(ids),
                  notify_job_ms=round(statistics.median(jobs), 1) if jobs else None,
                  samples={"service": [round(x, 1) for x in service], "floor": [round(x, 1) for x in floor]})


# --- roll-up -----------------------------------------------------------------------------------


def rollup(manifest: dict, n: int = 15) -> dict:
    """The province view of a 200-field form over every township (total and one row per city) vs
    one GROUP BY over the same values."""
    from office.forms import rollup as ru
    from office.forms.catalogue import element_period
    from office.forms.models import ReportTask
    from office.forms.values import form_elements

    task = db.session.get(ReportTask, manifest["rollup_task_id"])
    path = manifest["province"]["path"]
    els = form_elements(task.template_version)
    ids = [e.id for e in els.values()]
    period = element_period(next(iter(els.values())), task.period)

    def service():
        t = db.session.get(ReportTask, manifest["rollup_task_id"])
        ru.rollup(t, path)
        ru.drilldown(t, path)

    placeholders = ", ".join(str(int(i)) for i in ids)
    aggregates = "COUNT(v.value_num), SUM(v.value_num), AVG(v.value_num), MIN(v.value_num), MAX(v.value_num)"
    join = (f"FROM form_value v JOIN form_submission s ON s.unit_id = v.unit_id AND s.task_id = :t "
            f"AND s.kind = 'leaf' WHERE v.period = :p AND v.element_id IN ({placeholders}) "
            f"AND v.value_num IS NOT NULL")
    # The floor: what the page shows (per city and field, over the task's townships' values of the
    # period) in one GROUP BY; for reference the province total alone, and every value of those
    # fields without the task's units.
    city = f"substr(s.path, 1, {len(path) + 7})"
    floors = {"per_city": f"SELECT {city}, v.element_id, {aggregates} {join} GROUP BY {city}, v.element_id",
              "total_only": f"SELECT v.element_id, {aggregates} {join} GROUP BY v.element_id",
              "no_unit_filter": f"SELECT v.element_id, {aggregates} FROM form_value v WHERE v.period = :p "
                                f"AND v.element_id IN ({placeholders}) GROUP BY v.element_id"}
    measured = {k: stats(sample(lambda q=q: db.session.execute(text(q), {"p": period, "t": task.id}).all(), n))
                for k, q in floors.items()}
    s = stats(sample(service, n))
    f = measured["per_city"]
    ratio = s["median_ms"] / f["median_ms"]
    values = db.session.execute(text("SELECT COUNT(*) FROM form_value WHERE period = :p"), {"p": period}).scalar_one()
    return figure("rollup", ratio, "x floor", "<= 1.5x the floor", ratio <= 1.5, floor=f["median_ms"],
                  by="" if ratio <= 1.5 else f"{ratio - 1.5:.2f}x over", service=s, floors=measured,
                  fields=len(ids), values_in_period=int(values))


# --- prefill -----------------------------------------------------------------------------------


def prefill(manifest: dict, n: int = 50) -> dict:
    """The fill page's prefill of a 200-field form for one township: the current period (every value
    stored) and the next one (nothing stored: shared data, carried forward, computed)."""
    from office.forms.catalogue import previous_period  # noqa: F401 - keeps the import surface explicit
    from office.forms.models import FormTemplateVersion
    from office.forms.values import prefill as pf

    form = manifest["forms"][0]
    unit_id = manifest["township"]["unit_id"]
    period = manifest["current_period"]
    year, month = int(period[:4]), int(period[5:])
    nxt = f"{year + month // 12}-{month % 12 + 1:02d}"

    def run(p):
        return lambda: pf(db.session.get(FormTemplateVersion, form["version_id"]), unit_id, p)

    stored, fresh = stats(sample(run(period), n)), stats(sample(run(nxt), n))
    worst = max(stored["p95_ms"], fresh["p95_ms"])
    return figure("prefill", worst, "ms p95", "p95 < 30 ms", worst < 30, by="" if worst < 30 else
                  f"{worst - 30:.1f} ms over", stored_period=stored, fresh_period=fresh)


# --- search ------------------------------------------------------------------------------------


def search(manifest: dict, n: int = 5) -> dict:
    """Two-character queries over every document, as the provincial office clerk (sees the whole
    province) and as the busy county clerk; the floor is the bare index lookup of the same bigram."""
    from office.docflow import search as s

    actors = {"province": post_actor(manifest["province"]["clerk_username"]),
              "county": post_actor(manifest["busy_clerk"]["username"])}
    out, floor = {}, []
    for who, actor in actors.items():
        ms = []
        for w in SEARCH_WORDS:
            ms += sample(lambda w=w, a=actor: s.search(a, w), n, warmup=1)
        out[who] = stats(ms)
    if bulk.is_postgres():
        q = text("SELECT id FROM doc_document WHERE to_tsvector('simple'::regconfig, search_tokens) @@ "
                 "to_tsquery('simple'::regconfig, :q) ORDER BY updated_at DESC, id DESC LIMIT 50")
        for w in SEARCH_WORDS:
            floor += sample(lambda w=w: db.session.execute(q, {"q": f"'{w}'"}).all(), n, warmup=1)
    worst = max(v["p95_ms"] for v in out.values())
    docs = db.session.execute(text("SELECT COUNT(*) FROM doc_document")).scalar_one()
    return figure("search", worst, "ms p95", "p95 < 100 ms (PostgreSQL)", worst < 100,
                  floor=stats(floor)["p95_ms"] if floor else None, by="" if worst < 100 else f"{worst - 100:.0f} ms over",
                  words=SEARCH_WORDS, documents=int(docs), **out)


def all_data_side(manifest: dict) -> list[dict]:
    return [distribution(manifest), rollup(manifest), prefill(manifest), search(manifest)]


def measuring_app(manifest: dict):
    """The app over the generated database, handing jobs to Redis (a queue of its own nobody works)
    when Redis answers, so the distribution is timed as a request would be."""
    import os

    from bench.generate import make_app

    redis_url = os.environ.get("OFFICE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        from redis import Redis

        Redis.from_url(redis_url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - no Redis: jobs run in process after the commit
        redis_url = None
    return make_app(manifest["database_url"], REDIS_URL=redis_url, JOBS_QUEUE=f"bench-{uuid.uuid4().hex[:8]}")
