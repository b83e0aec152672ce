"""The job outbox: a job is a row written in the same transaction as the change that asks for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from office.extensions import db
from office.timeutil import utcnow


class JobStatus:
    PENDING = "pending"  # committed, not yet handed to a runner
    QUEUED = "queued"  # handed to RQ
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # gave up after the last attempt


class Job(db.Model):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column()
    started_at: Mapped[datetime | None] = mapped_column()
    # Refreshed while an RQ work horse runs the job; a stale one means the worker died (kill -9).
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
