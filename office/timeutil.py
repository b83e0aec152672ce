"""Time helpers: the database stores naive UTC; the UI shows Asia/Shanghai via Flask-Babel."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Current UTC time without tzinfo (what every timestamp column holds)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC).replace(tzinfo=None)


def freeze(moment: datetime | None) -> None:
    """Pin ``utcnow`` (tests use it to move past lockouts and deadlines)."""
    global _frozen
    _frozen = moment
