"""Recomputing the inbox from the modules' own tables: ``flask inbox-rebuild`` (``--check``
reports the differences without writing) and ``bulk_load`` (one INSERT ... SELECT per source, for
a database filled below the services: the migration that adds the table, the bench dataset)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from office.extensions import db
from office.inbox.models import OPEN_SQL, InboxItem
from office.inbox.service import (
    BY_RANGE,
    KEY,
    VALUES,
    Diff,
    apply,
    computed,
    diff,
    insert_from,
    sources,
    stored,
)

RANGE = 20_000  # records compared at a time


@dataclass
class SourceReport:
    source_type: str
    open_rows: int = 0  # open items the modules' state gives
    missing: int = 0  # ... not in the table (or, with --check off, written now)
    changed: int = 0
    extra: int = 0  # open rows of the table the modules' state does not give
    samples: list[str] = field(default_factory=list)

    @property
    def differences(self) -> int:
        return self.missing + self.changed + self.extra


def _ranges(source):
    top = max(db.session.execute(select(func.max(source.id_column))).scalar() or 0,
              db.session.execute(select(func.max(InboxItem.source_id))
                                 .where(InboxItem.source_type == source.key)).scalar() or 0)
    for lo in range(0, top + 1, RANGE):
        yield {"inbox_lo": lo, "inbox_hi": lo + RANGE}


def _sample(kind: str, key: tuple, values: tuple | None = None) -> str:
    what = dict(zip(KEY, key, strict=True))
    if values is not None:
        what.update({k: v for k, v in zip(VALUES, values, strict=True) if k in ("kind", "subject", "due_at")})
    return f"{kind} {what}"


def run(*, write: bool) -> list[SourceReport]:
    """Compare every source's open items with the table; with ``write``, make the table agree
    (missing items opened, changed ones updated, extra ones ended). The caller commits."""
    reports = []
    for source in sources():
        rep = SourceReport(source.key)
        for params in _ranges(source):
            want = computed(source, BY_RANGE, params)
            d: Diff = diff(want, stored(source.key, BY_RANGE, params))
            rep.open_rows += len(want)
            rep.missing += len(d.opened)
            rep.changed += len(d.changed)
            rep.extra += len(d.ended)
            for key, values in d.opened[:max(0, 5 - len(rep.samples))]:
                rep.samples.append(_sample("missing", key, values))
            for _id, key, old, new in d.changed[:max(0, 5 - len(rep.samples))]:
                changes = {k: (a, b) for k, a, b in zip(VALUES, old, new, strict=True) if a != b}
                rep.samples.append(f"changed {dict(zip(KEY, key, strict=True))}: {changes}")
            for _id, key, values in d.ended[:max(0, 5 - len(rep.samples))]:
                rep.samples.append(_sample("extra", key, values))
            if write and d:
                apply(source, d)
        reports.append(rep)
    return reports


def bulk_load(conn=None) -> int:
    """Replace every open item by the modules' state in one INSERT ... SELECT per source statement
    (ended items stay); returns how many open rows there are. ``conn``: the connection to use
    (the migration's); else the session's. The caller commits."""
    run_ = (conn or db.session).execute
    run_(delete(InboxItem).where(InboxItem.state == OPEN_SQL))
    for source in sources():
        for stmt in source.statements(None):
            run_(insert_from(source, stmt))
    return run_(select(func.count()).select_from(InboxItem).where(InboxItem.state == OPEN_SQL)).scalar_one()
