"""Bulk row loading for the benchmark dataset: COPY on PostgreSQL, executemany on SQLite.

Rows carry their own ids (the generator numbers them), so related rows can be written without
reading anything back; ``fix_sequences`` moves PostgreSQL's id sequences past them afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

from sqlalchemy import text

from office.extensions import db

CHUNK = 20_000


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def load(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write ``rows`` (tuples in ``columns`` order) into ``table`` in the current transaction."""
    conn = db.session.connection()
    raw = conn.connection.driver_connection
    cols = ", ".join(columns)
    n = 0
    if is_postgres():
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
                n += 1
        return n
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' for _ in columns)})"
    cur = raw.cursor()
    it = iter(rows)
    while chunk := list(islice(it, CHUNK)):
        cur.executemany(sql, chunk)
        n += len(chunk)
    return n


def next_id(table: str) -> int:
    return int(db.session.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one())


def fix_sequences(tables: Iterable[str]) -> None:
    if not is_postgres():
        return
    for t in tables:
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"))


def analyze() -> None:
    if is_postgres():
        db.session.commit()
        conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("VACUUM ANALYZE"))
        conn.close()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


@contextmanager
def without_indexes(table: str) -> Iterator[None]:
    """Drop the secondary indexes and unique constraints of ``table`` for a bulk load, then build
    them again (PostgreSQL; on SQLite the load runs with its indexes)."""
    if not is_postgres():
        yield
        return
    constraints = db.session.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = CAST(:t AS regclass) "
        "AND contype = 'u'"), {"t": table}).all()
    owned = {name for name, _d in constraints}
    indexes = [(n, d) for n, d in db.session.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT LIKE 'pk\\_%'"),
        {"t": table}).all() if n not in owned]
    for name, _d in constraints:
        db.session.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    for name, _d in indexes:
        db.session.execute(text(f"DROP INDEX {name}"))
    yield
    for name, definition in constraints:
        db.session.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
    for _n, definition in indexes:
        db.session.execute(text(definition))
