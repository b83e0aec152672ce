"""Render records: one row per distinct rendered file (the cache), one per user's request for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from office.extensions import db
from office.timeutil import utcnow


class PdfStatus:
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class PdfFile(db.Model):
    """A rendered file under STORAGE_DIR/pdf, keyed by sha256(kind, template version, content, options)."""

    __tablename__ = "pdf_file"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    archival: Mapped[bool] = mapped_column(default=False)
    sign_unit: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(12), default=PdfStatus.PENDING)
    pages: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class PdfRequest(db.Model):
    """A user's request for a file: the handle the page polls and downloads by."""

    __tablename__ = "pdf_request"
    __table_args__ = (Index("ix_pdf_request_user", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(ForeignKey("pdf_file.key", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(index=False)
    filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
