"""kill -9 of an RQ worker in the middle of a PDF render: the job runs again and the PDF appears once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from office.extensions import db
from office.jobs.models import Job, JobStatus
from office.pdf import samples
from office.pdf.models import PdfFile, PdfStatus
from office.pdf.service import file_path, request_pdf

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.faults, pytest.mark.redis, pytest.mark.postgres]


def _start_worker(app, redis_url: str, queue: str, gate: Path, log: Path) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=redis_url,
               OFFICE_INSTANCE_DIR=app.config["INSTANCE_DIR"], OFFICE_STORAGE_DIR=app.config["STORAGE_DIR"],
               OFFICE_JOBS_QUEUE=queue, OFFICE_JOBS_HEARTBEAT_SECONDS="1", OFFICE_TEST_PDF_GATE=str(gate),
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "tests.faults.worker_app", "worker"],
                            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _wait(predicate, timeout: float, what: str, log: Path):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{log.read_text()[-3000:]}")


def test_pdf_render_survives_kill_9_of_its_worker(app, own_redis, tmp_path):
    queue = f"office-faults-{os.getpid()}"
    app.config.update(REDIS_URL=own_redis, JOBS_QUEUE=queue)
    app.extensions.pop("office_jobs", None)
    gate = tmp_path / "gate"
    gate.write_text("hold")
    log = tmp_path / "worker.log"
    workers: list[subprocess.Popen] = []
    pdf_dir = Path(app.config["STORAGE_DIR"]) / "pdf"
    before = set(pdf_dir.rglob("*.pdf"))  # files of earlier tests in this run's storage dir
    try:
        req = request_pdf(samples.notice(note=f"（故障测试 {os.getpid()}-{time.time_ns()}）"), "通知.pdf")
        key = req.key
        db.session.commit()  # the render job goes to Redis after the commit
        db.session.expire_all()
        assert db.session.execute(select(Job.status).where(Job.name == "pdf.render")).scalar_one() == \
            JobStatus.QUEUED

        first = _start_worker(app, own_redis, queue, gate, log)
        workers.append(first)
        horse = int(_wait(lambda: (Path(str(gate) + ".inside").read_text() if
                                   Path(str(gate) + ".inside").exists() else ""), 60, "the render to start", log))
        assert horse in _children(first.pid)
        # The worker and its work horse die at once, mid-render: nothing gets to clean up.
        os.kill(horse, signal.SIGKILL)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        gate.unlink()
        db.session.expire_all()
        row = db.session.execute(select(Job).where(Job.name == "pdf.render")).scalar_one()
        assert row.status == JobStatus.RUNNING and row.attempts == 1
        assert not file_path(key).exists()

        # Another worker notices the silent job (no heartbeat) and runs it again.
        workers.append(_start_worker(app, own_redis, queue, gate, log))

        def done():
            db.session.expire_all()
            return db.session.get(PdfFile, key).status == PdfStatus.DONE
        _wait(done, 90, "the PDF to be rendered again", log)
        _wait(lambda: (db.session.expire_all() or
                       db.session.execute(select(Job.status).where(Job.id == row.id)).scalar_one() == JobStatus.DONE),
              30, "the job to finish", log)
        db.session.expire_all()
        row = db.session.get(Job, row.id)
        assert row.attempts == 2 and row.last_error == ""
        pdfs = sorted(set(pdf_dir.rglob("*.pdf")) - before)
        assert pdfs == [file_path(key)] and file_path(key).read_bytes().startswith(b"%PDF-")
        assert db.session.execute(select(Job.id).where(Job.name == "pdf.render")).scalars().all() == [row.id]
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
                try:
                    w.wait(15)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait(5)
        if gate.exists():
            gate.unlink()
        app.config.update(REDIS_URL=None, JOBS_QUEUE="office")
        app.extensions.pop("office_jobs", None)
