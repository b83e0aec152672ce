"""Tables of the directory: the spelled names of people and units, and each person's recent choices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from office.extensions import db
from office.timeutil import utcnow


class SpelledName(db.Model):
    """A person's or a unit's name in pinyin (拼音), written when the name is written: the initials
    ("lzh" for 刘振华) and the full spelling ("liuzhenhua"), each searched by prefix on its index."""

    __tablename__ = "directory_spelling"
    __table_args__ = (Index("ix_directory_spelling_initials", "kind", "initials"),
                      Index("ix_directory_spelling_spelled", "kind", "spelled"))

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "user" or "unit"
    ref_id: Mapped[int] = mapped_column(primary_key=True)
    initials: Mapped[str] = mapped_column(String(60))
    spelled: Mapped[str] = mapped_column(String(400))


class RecentChoice(db.Model):
    """Someone a user picked for a purpose (the last few are offered first next time)."""

    __tablename__ = "picker_recent"
    __table_args__ = (Index("ix_picker_recent_user_purpose", "user_id", "purpose", "used_at"),)

    user_id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40), primary_key=True)
    ref_id: Mapped[int] = mapped_column(primary_key=True)
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
