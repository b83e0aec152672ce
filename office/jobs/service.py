"""Enqueue work after commit: ``enqueue`` writes an outbox row in the caller's transaction.

After the transaction commits the row is handed to RQ (``REDIS_URL`` set) or run in process.
A rolled-back transaction takes its rows with it, so its jobs never run; a row that could not be
handed to Redis stays ``pending`` and is dispatched again by the sweeper once Redis is back.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, or_, select, update

from office.extensions import db
from office.jobs.models import Job, JobStatus
from office.timeutil import utcnow

log = logging.getLogger(__name__)

_handlers: dict[str, Callable[..., Any]] = {}
_SESSION_KEY = "office_new_jobs"


def job(name: str):
    """Register a job handler under a stable name: ``@job("notifications.send_email")``."""

    def deco(fn):
        _handlers[name] = fn
        return fn

    return deco


_periodic: dict[str, tuple[float, Callable[[], Any]]] = {}
_periodic_last: dict[str, float] = {}


def register_periodic(name: str, every_seconds: float, fn: Callable[[], Any]) -> None:
    """Run ``fn()`` about every ``every_seconds`` in each worker (RQ sweeper or in-process thread).

    ``fn`` must be safe to run from several workers at once (take row locks)."""
    _periodic[name] = (every_seconds, fn)


def run_periodic(app: Flask) -> list[str]:
    """Run the periodic functions that are due in this process; returns their names."""
    ran = []
    now = time.monotonic()
    for name, (every, fn) in list(_periodic.items()):
        if now - _periodic_last.get(name, -1e9) < every:
            continue
        _periodic_last[name] = now
        with app.app_context():
            try:
                fn()
                db.session.commit()
                ran.append(name)
            except Exception:  # noqa: BLE001 - logged; tried again next period
                db.session.rollback()
                log.exception("periodic %s failed", name)
            finally:
                db.session.remove()
    return ran


def enqueue(name: str, **payload: Any) -> Job:
    """Ask for ``name(**payload)`` to run once the current transaction commits."""
    if name not in _handlers:
        raise KeyError(f"no job handler named {name!r}")
    row = Job(name=name, payload=json.dumps(payload, ensure_ascii=False, default=str))
    db.session.add(row)
    return row


# --- after-commit dispatch ------------------------------------------------------------------


@event.listens_for(FlaskSession, "after_flush")
def _collect_new_jobs(session, flush_context):
    for obj in session.new:
        if isinstance(obj, Job):
            session.info.setdefault(_SESSION_KEY, []).append(obj.id)


@event.listens_for(FlaskSession, "after_commit")
def _dispatch_after_commit(session):
    ids = session.info.pop(_SESSION_KEY, None)
    if ids:
        app = current_app._get_current_object()
        _runner(app).dispatch(ids)


@event.listens_for(FlaskSession, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop(_SESSION_KEY, None)


def _runner(app: Flask) -> Runner:
    runner = app.extensions.get("office_jobs")
    if runner is None:
        runner = RQRunner(app) if app.config.get("REDIS_URL") else InProcessRunner(app)
        app.extensions["office_jobs"] = runner
    return runner


def dispatch_pending(app: Flask | None = None, stale_after: timedelta | None = None) -> int:
    """Hand every committed-but-undispatched job to the runner (the sweeper calls this)."""
    app = app or current_app._get_current_object()
    with app.app_context():
        stale = stale_after or timedelta(seconds=app.config["JOBS_TIMEOUT_SECONDS"] * 2)
        cutoff = utcnow() - stale
        ids = db.session.execute(
            select(Job.id).where(
                or_(
                    Job.status == JobStatus.PENDING,
                    # A runner died mid-job (kill -9): give it back.
                    (Job.status == JobStatus.RUNNING) & (Job.started_at < cutoff),
                    _dead_worker(app),
                    (Job.status == JobStatus.QUEUED) & (Job.queued_at < cutoff),
                )
            ).order_by(Job.id).limit(1000)
        ).scalars().all()
        db.session.rollback()
    if ids:
        _runner(app).dispatch(list(ids))
    return len(ids)


def _dead_worker(app: Flask):
    """A running job whose work horse stopped beating (killed, machine lost): it is run again."""
    missed = utcnow() - timedelta(seconds=3 * app.config["JOBS_HEARTBEAT_SECONDS"])
    return (Job.status == JobStatus.RUNNING) & Job.heartbeat_at.isnot(None) & (Job.heartbeat_at < missed)


# --- execution ------------------------------------------------------------------------------


class _Heartbeat:
    """Refreshes ``Job.heartbeat_at`` from a thread of the process running the job."""

    def __init__(self, app: Flask, job_id: int):
        self.app, self.job_id = app, job_id
        self.every = app.config["JOBS_HEARTBEAT_SECONDS"]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"office-job-{job_id}-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self.stop.wait(self.every):
            try:
                with self.app.app_context(), db.engine.begin() as conn:
                    conn.execute(update(Job).where(Job.id == self.job_id, Job.status == JobStatus.RUNNING)
                                 .values(heartbeat_at=utcnow()))
            except Exception as exc:  # noqa: BLE001 - the next beat tries again
                log.warning("heartbeat of job %s: %s", self.job_id, exc)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=30)


def run_job(job_id: int, *, reraise: bool = False, heartbeat: bool = False) -> str:
    """Run one outbox job once. Claims the row atomically so a job handed out twice runs once.

    With ``heartbeat`` (RQ work horses) the row's heartbeat is refreshed while the job runs, so a
    worker killed mid-job is noticed within three beats and its job is claimed again."""
    app = current_app._get_current_object()
    now = utcnow()
    claimed = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_([JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING]))
        .where(or_(Job.status != JobStatus.RUNNING, Job.started_at < now - timedelta(
            seconds=app.config["JOBS_TIMEOUT_SECONDS"]), _dead_worker(app)))
        .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now if heartbeat else None,
                attempts=Job.attempts + 1)
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    row = db.session.get(Job, job_id)
    handler = _handlers.get(row.name)
    try:
        if handler is None:
            raise LookupError(f"no job handler named {row.name!r}")
        payload = json.loads(row.payload or "{}")
        if heartbeat:
            with _Heartbeat(app, job_id):
                result = handler(**payload)
                db.session.commit()
        else:
            result = handler(**payload)
            db.session.commit()
    except Exception as exc:  # noqa: BLE001 - recorded on the row, then retried or failed
        db.session.rollback()
        row = db.session.get(Job, job_id)
        final = row.attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]
        row.status = JobStatus.FAILED if final else JobStatus.QUEUED
        row.queued_at = utcnow()
        row.last_error = f"{type(exc).__name__}: {exc}"[:4000]
        db.session.commit()
        log.exception("job %s (%s) failed, attempt %s", job_id, row.name, row.attempts)
        if reraise and not final:
            raise
        return "failed"
    row = db.session.get(Job, job_id)
    row.status = JobStatus.DONE
    row.finished_at = utcnow()
    row.result = "" if result is None else json.dumps(result, ensure_ascii=False, default=str)[:4000]
    db.session.commit()
    return "done"


class Runner:
    def dispatch(self, ids: list[int]) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class InProcessRunner(Runner):
    """No Redis: run jobs in this process, on a background thread or (``sync``) before returning."""

    def __init__(self, app: Flask):
        self.app = app
        self.mode = app.config.get("JOBS_INPROCESS_MODE", "thread")
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def dispatch(self, ids: list[int]) -> None:
        if self.mode == "sync":
            # A fresh thread gets its own app context and session; join keeps it synchronous.
            t = threading.Thread(target=self._run_many, args=(list(ids),))
            t.start()
            t.join()
            return
        for i in ids:
            self._queue.put(i)
        self._ensure_thread()

    def _run_many(self, ids: list[int]) -> None:
        with self.app.app_context():
            for i in ids:
                run_job(i)
            db.session.remove()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="office-jobs", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            try:
                job_id = self._queue.get(timeout=15)
            except queue.Empty:
                dispatch_pending(self.app)
                run_periodic(self.app)
                continue
            try:
                self._run_many([job_id])
            except Exception:  # noqa: BLE001
                log.exception("in-process job %s crashed", job_id)


class RQRunner(Runner):
    """Hand jobs to RQ; Redis being down leaves them pending for the sweeper."""

    def __init__(self, app: Flask):
        self.app = app

    def queue(self):
        from redis import Redis
        from rq import Queue

        conn = Redis.from_url(self.app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
        return Queue(self.app.config["JOBS_QUEUE"], connection=conn)

    def dispatch(self, ids: list[int]) -> None:
        from rq import Retry

        try:
            q = self.queue()
            for job_id in ids:
                q.enqueue_call(
                    "office.jobs.worker.run_outbox_job",
                    args=(job_id,),
                    job_id=f"office-job-{job_id}",
                    timeout=self.app.config["JOBS_TIMEOUT_SECONDS"],
                    retry=Retry(max=self.app.config["JOBS_MAX_ATTEMPTS"] - 1, interval=[5, 30, 120]),
                    result_ttl=3600,
                    failure_ttl=7 * 24 * 3600,
                )
                with self.app.app_context():
                    db.session.execute(
                        update(Job).where(Job.id == job_id, or_(Job.status == JobStatus.PENDING,
                                                                _dead_worker(self.app)))
                        .values(status=JobStatus.QUEUED, queued_at=utcnow())
                    )
                    db.session.commit()
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - Redis down: the sweeper retries later
            log.warning("could not hand jobs %s to Redis (%s); they stay pending", ids, exc)


def start_sweeper(app: Flask, interval: float = 5.0) -> threading.Thread:
    """Dispatch pending jobs and run periodic functions every ``interval`` seconds (the RQ worker
    process runs this)."""

    def loop():
        while True:
            try:
                dispatch_pending(app)
                run_periodic(app)
            except Exception as exc:  # noqa: BLE001
                log.warning("job sweeper: %s", exc)
            time.sleep(interval)

    t = threading.Thread(target=loop, name="office-job-sweeper", daemon=True)
    t.start()
    return t
