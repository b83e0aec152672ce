"""Jobs: after-commit dispatch, rollback, in-process runner, RQ with a real Redis and worker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from office.extensions import db
from office.jobs import service as jobs
from office.jobs.models import Job, JobStatus
from office.notifications.models import Notification

ROOT = Path(__file__).resolve().parent.parent
QUEUE = f"office-test-{os.getpid()}"  # concurrent test runs never share a queue


@jobs.job("test.note")
def _note(user_id: int, title: str):
    """A job with a visible effect: it writes a notification."""
    db.session.add(Notification(user_id=user_id, kind="info", title=title))


@jobs.job("test.fail")
def _fail():
    raise RuntimeError("boom")


def _titles() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(Notification.title).order_by(Notification.id)).scalars())


def test_job_runs_after_commit(org):
    uid = org.user("county_clerk").id
    jobs.enqueue("test.note", user_id=uid, title="after commit")
    assert _titles() == []  # not before the commit
    db.session.commit()
    assert _titles() == ["after commit"]
    assert db.session.execute(select(Job.status)).scalar_one() == JobStatus.DONE


def test_job_in_rolled_back_transaction_never_runs(org):
    uid = org.user("county_clerk").id
    jobs.enqueue("test.note", user_id=uid, title="rolled back")
    db.session.flush()
    db.session.rollback()
    jobs.enqueue("test.note", user_id=uid, title="kept")
    db.session.commit()
    jobs.dispatch_pending()
    assert _titles() == ["kept"]
    assert db.session.execute(select(Job.name)).scalars().all() == ["test.note"]


def test_failing_job_is_recorded_and_gives_up(org, app):
    jobs.enqueue("test.fail")
    db.session.commit()
    row = db.session.execute(select(Job)).scalar_one()
    db.session.refresh(row)
    assert row.attempts == 1 and "boom" in row.last_error and row.status == JobStatus.QUEUED
    for _ in range(app.config["JOBS_MAX_ATTEMPTS"] - 1):
        jobs.run_job(row.id)
    db.session.refresh(row)
    assert row.status == JobStatus.FAILED and row.attempts == app.config["JOBS_MAX_ATTEMPTS"]


def test_unknown_job_name_is_refused():
    with pytest.raises(KeyError):
        jobs.enqueue("no.such.job")


# --- real Redis and a real RQ worker ----------------------------------------------------------


def _worker(app, redis_url: str, timeout: int = 60) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
               OFFICE_INSTANCE_DIR=app.config["INSTANCE_DIR"], OFFICE_JOBS_QUEUE=QUEUE,
               PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'tests'}", OFFICE_TEST_JOBS="1")
    return subprocess.run([sys.executable, "-m", "flask", "--app", "tests.worker_app", "worker", "--burst"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def rq_app(app, redis_url):
    app.config.update(REDIS_URL=redis_url, JOBS_QUEUE=QUEUE)
    app.extensions.pop("office_jobs", None)
    yield app
    app.config.update(REDIS_URL=None, JOBS_QUEUE="office")
    app.extensions.pop("office_jobs", None)


@pytest.mark.redis
def test_rq_worker_runs_the_job(org, rq_app, redis_url):
    uid = org.user("county_clerk").id
    jobs.enqueue("test.note", user_id=uid, title="via rq")
    db.session.commit()
    assert db.session.execute(select(Job.status)).scalar_one() == JobStatus.QUEUED
    assert _titles() == []
    out = _worker(rq_app, redis_url)
    assert out.returncode == 0, out.stderr[-2000:]
    assert _titles() == ["via rq"]
    db.session.expire_all()
    assert db.session.execute(select(Job.status)).scalar_one() == JobStatus.DONE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.redis
def test_job_enqueued_while_redis_is_down_runs_when_it_is_back(org, app, redis_url, client, tmp_path):
    """A request that enqueues while Redis is stopped succeeds; the job runs once Redis is back."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server binary not available")
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    app.config.update(REDIS_URL=url, JOBS_QUEUE=QUEUE)
    app.extensions.pop("office_jobs", None)
    try:
        # Redis is down: an admin disables an account; the change commits, the e-mail job waits.
        from tests.conftest import login, post_form

        login(client, "county_admin")
        app.config["SMTP_HOST"] = "127.0.0.1"
        from office.notifications.service import notify

        notify([org.user("county_staff").id], "info", "while redis is down")
        jobs.enqueue("test.note", user_id=org.user("county_clerk").id, title="survived the outage")
        db.session.commit()
        r = post_form(client, f"/admin/users/{org.user('county_staff').id}/active", {"active": "0"})
        assert r.status_code == 302
        db.session.expire_all()
        assert not org.user("county_staff").active
        pending = db.session.execute(select(Job.name).where(Job.status == JobStatus.PENDING)).scalars().all()
        assert "test.note" in pending
        app.config["SMTP_HOST"] = None
        # Redis comes back; the worker's sweeper hands the pending job over and runs it.
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        try:
            for _ in range(50):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            out = _worker(app, url)
            assert out.returncode == 0, out.stderr[-2000:]
        finally:
            proc.terminate()
            proc.wait(10)
        assert "survived the outage" in _titles()
    finally:
        app.config.update(REDIS_URL=None, JOBS_QUEUE="office", SMTP_HOST=None)
        app.extensions.pop("office_jobs", None)


def test_periodic_functions_run_when_due(app):
    calls = []
    jobs.register_periodic("test.tick", 3600, lambda: calls.append(1))
    try:
        jobs._periodic_last.pop("test.tick", None)
        assert "test.tick" in jobs.run_periodic(app)
        assert "test.tick" not in jobs.run_periodic(app)  # not due again for an hour
        assert calls == [1]
    finally:
        jobs._periodic.pop("test.tick", None)


def test_approval_deadlines_are_scanned_by_workers():
    assert "approvals.scan_deadlines" in jobs._periodic
