"""Notification table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from office.extensions import db
from office.timeutil import utcnow


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),
                      Index("ix_notification_user_latest", "user_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # The unit the message concerns, so a person with two posts sees it under the right one.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(40))  # assignment, urge, reminder, deadline, info
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column()
    emailed_at: Mapped[datetime | None] = mapped_column()
