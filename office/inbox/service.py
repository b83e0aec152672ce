"""The inbox (待办): one table of every module's to-do items, and the service the modules call to
keep it (the to-do list reads it through ``lists``).

A module registers each kind of record that gives to-do items (``register_source``): a function
that builds the statements yielding the record's current open items (the columns of ``COLUMNS``)
from the module's own tables, for the records a filter picks. When a record changes, the module
calls ``touch(source_type, record_id)`` (it does so where it locks the record); at commit, in the
same transaction and under the same row lock, the inbox recomputes the touched records' items and
writes the difference: new items opened, changed ones updated, the others ended (state "done").
``flask inbox-rebuild`` runs the same statements over every record (see ``rebuild``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from office.actor import Actor
from office.extensions import db
from office.inbox.models import DONE, OPEN, OPEN_SQL, UNDATED, InboxItem
from office.timeutil import utcnow

# The columns a source's statements yield, by label.
KEY = ("source_id", "item", "user_id", "unit_id", "role_group")
VALUES = ("delegable", "except_user_id", "kind", "line", "subject", "detail", "url", "urgency", "urged_at", "due_at", "since",
          "rank", "seq")
COLUMNS = KEY + VALUES
ANY_ROLE = "*"
CHUNK = 500  # records per statement when many are touched at once


# --- registries --------------------------------------------------------------------------------


@dataclass
class Source:
    key: str
    module: str
    id_column: object  # the record's primary key column (the rebuild walks it in ranges)
    statements: Callable  # (filter on id_column, or None for every record) -> list of selects


@dataclass
class Line:
    pattern: Callable[[], str]  # the translated line with %(name)s fields, built once a request
    args: Callable[[str, str], dict] | None = None  # (subject, detail) -> the fields


_sources: dict[str, Source] = {}
_lines: dict[str, Line] = {}
_groups: dict[str, frozenset[str]] = {ANY_ROLE: frozenset()}


def register_source(key: str, *, module: str, id_column, statements: Callable) -> None:
    """``statements(where)`` returns the selects of the open items of the records for which
    ``where(id_column)`` holds (every record when ``where`` is None), each yielding ``COLUMNS``
    (``columns()`` fills the ones a select leaves out)."""
    _sources[key] = Source(key, module, id_column, statements)


def sources() -> list[Source]:
    return list(_sources.values())


def register_line(key: str, pattern: Callable[[], str], args: Callable[[str, str], dict] | None = None) -> None:
    """A line shown on the to-do list: ``pattern()`` % fields; the fields are ``t``/``title`` (the
    item's subject) and ``u`` (its detail) unless ``args(subject, detail)`` gives them."""
    _lines[key] = Line(pattern, args)


def line_of(key: str) -> Line | None:
    return _lines.get(key)


def role_group(*roles: str) -> str:
    """The audience key for everyone holding one of ``roles`` in a unit (kept for the read side)."""
    key = ",".join(sorted(roles))
    _groups[key] = frozenset(roles)
    return key


def _groups_of(actor: Actor) -> list[str]:
    return [key for key, roles in _groups.items() if key == ANY_ROLE or roles & actor.roles]


def columns(**given) -> list:
    """The select list of a source statement: ``given`` expressions labelled, the rest defaulted
    (a person's item under any post, no detail, no due date)."""
    defaults = {"item": literal("", String), "user_id": literal(0, Integer), "unit_id": literal(0, Integer),
                "role_group": literal("", String), "delegable": literal(False, Boolean),
                "except_user_id": literal(0, Integer),
                "detail": literal("", String), "urgency": literal("", String),
                "urged_at": cast(null(), DateTime), "due_at": cast(null(), DateTime),
                "rank": literal(0, Integer), "seq": literal(0, Integer)}
    unknown = set(given) - set(COLUMNS)
    if unknown:
        raise ValueError(f"unknown inbox columns {sorted(unknown)}")
    out = []
    for name in COLUMNS:
        expr = given.get(name, defaults.get(name))
        if expr is None:
            raise ValueError(f"inbox column {name} is required")
        if not hasattr(expr, "label"):
            expr = literal(expr)
        out.append(expr.label(name))
    return out


def text_id(column):
    """A record id as text (URLs and item keys built in SQL)."""
    return cast(column, String)


# --- writing: touched records are recomputed at commit -----------------------------------------


_TOUCHED, _CREATED = "inbox_touched", "inbox_created"


def touch(source_type: str, *ids) -> None:
    """The records ``ids`` of ``source_type`` change in this transaction: their items are
    recomputed when it commits (call it where the record is locked)."""
    if source_type not in _sources:
        raise KeyError(f"no inbox source {source_type}")
    touched = db.session.info.setdefault(_TOUCHED, {})
    touched.setdefault(source_type, set()).update(int(i) for i in ids if i is not None)


def touch_query(source_type: str, ids_select) -> None:
    """``touch`` for the records a select of ids returns (many records changed in bulk)."""
    touch(source_type, *db.session.execute(ids_select).scalars())


def created(source_type: str, ids_select) -> None:
    """Records just created in bulk (a distribution's receipts): their items are inserted at
    commit straight from the modules' tables (INSERT ... SELECT, no comparison: they have none yet)."""
    if source_type not in _sources:
        raise KeyError(f"no inbox source {source_type}")
    new = db.session.info.setdefault(_CREATED, {})
    new.setdefault(source_type, set()).update(db.session.execute(ids_select).scalars())


def _on_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the records may change further before the real commit
    new = session.info.pop(_CREATED, None) or {}
    for source_type, ids in new.items():
        for chunk in _chunks(ids, 5000):
            for stmt in _insert_statements(source_type, _dialect(session)):
                session.execute(stmt, {"inbox_ids": chunk})
    for source_type, ids in (session.info.pop(_TOUCHED, None) or {}).items():
        ids = ids - new.get(source_type, set())  # inserted just now from their final state
        if ids:
            sync(source_type, ids, session=session)


def _on_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        # rolled back (or committed): nothing left to write
        session.info.pop(_TOUCHED, None)
        session.info.pop(_CREATED, None)


def install(session_class=Session) -> None:
    from sqlalchemy import event

    if not event.contains(session_class, "before_commit", _on_before_commit):
        event.listen(session_class, "before_commit", _on_before_commit)
        event.listen(session_class, "after_transaction_end", _on_transaction_end)


def _chunks(ids: Iterable[int], size: int = CHUNK):
    ids = sorted(set(ids))
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# How the records to recompute are picked: by id ("inbox_ids"), by id range ("inbox_lo" <= id <
# "inbox_hi", the rebuild) or all of them. Each source's statements are built once per way and
# database (building them costs more than running them); the values are bound per call. On
# PostgreSQL the ids go as one array (thousands of receipts of a distribution in one value).
BY_IDS, BY_RANGE = "ids", "range"


def _where(how: str | None, dialect: str):
    if how == BY_IDS and dialect == "postgresql":
        return lambda col: col == any_(bindparam("inbox_ids", type_=postgresql.ARRAY(Integer)))
    if how == BY_IDS:
        return lambda col: col.in_(bindparam("inbox_ids", expanding=True))
    if how == BY_RANGE:
        return lambda col: and_(col >= bindparam("inbox_lo"), col < bindparam("inbox_hi"))
    return None


def _dialect(session=None) -> str:
    return (session or db.session).get_bind().dialect.name


@cache
def _statements(source_type: str, how: str | None, dialect: str) -> tuple:
    return tuple(_sources[source_type].statements(_where(how, dialect)))


def insert_from(source: Source, stmt):
    """INSERT ... SELECT of a source statement's items as open rows."""
    s = stmt.subquery()
    names = list(COLUMNS) + ["module", "source_type", "state", "due_sort"]
    return insert(InboxItem.__table__).from_select(names, select(
        *[s.c[k] for k in COLUMNS], literal(source.module), literal(source.key), literal(OPEN),
        func.coalesce(s.c.due_at, literal(UNDATED, DateTime))))


@cache
def _insert_statements(source_type: str, dialect: str) -> tuple:
    return tuple(insert_from(_sources[source_type], stmt) for stmt in _statements(source_type, BY_IDS, dialect))


@cache
def _stored_statement(how: str, dialect: str):
    cols = [getattr(InboxItem, k) for k in KEY + VALUES]
    return select(InboxItem.id, *cols).where(InboxItem.source_type == bindparam("inbox_source"),
                                             InboxItem.state == OPEN_SQL, _where(how, dialect)(InboxItem.source_id))


def computed(source: Source, how: str | None, params: dict, session=None) -> dict[tuple, tuple]:
    """{key: values} of the open items the source's statements give for the records picked."""
    run = (session or db.session).execute
    out: dict[tuple, tuple] = {}
    for stmt in _statements(source.key, how, _dialect(session)):
        for row in run(stmt, params):
            m = row._mapping
            out[tuple(m[k] for k in KEY)] = tuple(_norm(k, m[k]) for k in VALUES)
    return out


def _norm(name: str, value):
    if name == "delegable":
        return bool(value)
    if name == "except_user_id":
        return value or 0
    if name in ("detail", "urgency", "subject") and value is None:
        return ""
    return value


def stored(source_type: str, how: str, params: dict, session=None) -> dict[tuple, tuple]:
    """{key: (row id, values)} of the open rows of the records picked."""
    run = (session or db.session).execute
    rows = run(_stored_statement(how, _dialect(session)), {**params, "inbox_source": source_type})
    n = len(KEY)
    return {tuple(r[1:1 + n]): (r[0], tuple(_norm(k, v) for k, v in zip(VALUES, r[1 + n:], strict=True)))
            for r in rows}


@dataclass
class Diff:
    opened: list[tuple] = field(default_factory=list)  # (key, values)
    changed: list[tuple] = field(default_factory=list)  # (row id, key, old values, new values)
    ended: list[tuple] = field(default_factory=list)  # (row id, key, values)

    def __bool__(self) -> bool:
        return bool(self.opened or self.changed or self.ended)


def diff(want: dict, have: dict) -> Diff:
    d = Diff()
    for key, values in want.items():
        if key not in have:
            d.opened.append((key, values))
        elif have[key][1] != values:
            d.changed.append((have[key][0], key, have[key][1], values))
    d.ended = [(row_id, key, values) for key, (row_id, values) in have.items() if key not in want]
    return d


def _row(source: Source, key: tuple, values: tuple) -> dict:
    row = dict(zip(KEY, key, strict=True)) | dict(zip(VALUES, values, strict=True))
    row.update(module=source.module, source_type=source.key, state=OPEN, due_sort=row["due_at"] or UNDATED)
    return row


def apply(source: Source, d: Diff, session=None) -> None:
    run = (session or db.session).execute
    if d.ended:
        run(update(InboxItem).where(InboxItem.id.in_([r[0] for r in d.ended])).values(state=DONE, closed_at=utcnow()))
    for row_id, _key, _old, new in d.changed:
        values = dict(zip(VALUES, new, strict=True))
        run(update(InboxItem).where(InboxItem.id == row_id).values(**values, due_sort=values["due_at"] or UNDATED))
    if d.opened:
        run(insert(InboxItem), [_row(source, key, values) for key, values in d.opened])


def sync(source_type: str, ids, session=None) -> Diff:
    """Recompute the items of the records ``ids`` and write the difference (in the caller's
    transaction). ``touch`` makes this happen at commit; call it directly only in bulk jobs."""
    source = _sources[source_type]
    total = Diff()
    for chunk in _chunks(ids):
        params = {"inbox_ids": chunk}
        d = diff(computed(source, BY_IDS, params, session), stored(source_type, BY_IDS, params, session))
        apply(source, d, session)
        total.opened += d.opened
        total.changed += d.changed
        total.ended += d.ended
    return total
