"""Backup and restore: the database (every table, portable between SQLite and PostgreSQL) and the
stored files, in one ``.tar.gz``.

Layout of the archive::

    manifest.json          format, schema revision, table names and row counts
    tables/<name>.jsonl    one JSON array per row, columns in table order
    storage/...            the files under STORAGE_DIR

A restore needs a database migrated to the same schema revision (``flask db upgrade``); it replaces
every row and every stored file, all rows in one transaction.
"""

from __future__ import annotations

import base64
import json
import shutil
import tarfile
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import Connection, Date, DateTime, LargeBinary, Numeric, func, select, text

from office.extensions import db

FORMAT = 1
BATCH = 1000


class BackupError(Exception):
    pass


def _tables():
    return [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]


def _encode(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__}")


def _decoder(column):
    t = column.type
    if isinstance(t, DateTime):
        return datetime.fromisoformat
    if isinstance(t, Date):
        return date.fromisoformat
    if isinstance(t, LargeBinary):
        return base64.b64decode
    if isinstance(t, Numeric) and t.asdecimal:
        return Decimal
    return None


def _revisions(conn: Connection) -> list[str]:
    try:
        return sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # noqa: BLE001 - an unmigrated database
        return []


def backup(path: str | Path) -> dict:
    """Write the database and the stored files to ``path`` (a .tar.gz); returns the manifest."""
    path = Path(path)
    storage = Path(current_app.config["STORAGE_DIR"])
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "tables").mkdir()
        # One repeatable-read snapshot on PostgreSQL, so the tables agree with each other.
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
            revisions = _revisions(conn)
            for table in _tables():
                n = 0
                with open(tmp / "tables" / f"{table.name}.jsonl", "w", encoding="utf-8") as fh:
                    pk = list(table.primary_key.columns)
                    result = conn.execution_options(yield_per=BATCH).execute(select(table).order_by(*pk))
                    for row in result:
                        fh.write(json.dumps(list(row), ensure_ascii=False, default=_encode))
                        fh.write("\n")
                        n += 1
                counts[table.name] = n
        manifest = {"format": FORMAT, "revisions": revisions, "tables": counts,
                    "columns": {t.name: [c.name for c in t.columns] for t in _tables()}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
        part = path.with_name(path.name + ".part")
        with tarfile.open(part, "w:gz") as tar:
            tar.add(tmp / "manifest.json", arcname="manifest.json")
            tar.add(tmp / "tables", arcname="tables")
            if storage.is_dir():
                tar.add(storage, arcname="storage")
        part.replace(path)
    return manifest


def _is_empty(conn: Connection) -> bool:
    from office.auth.models import User

    return not conn.execute(select(func.count()).select_from(User.__table__)).scalar_one()


def restore(path: str | Path, *, force: bool = False) -> dict:
    """Replace the database rows and the stored files with the backup at ``path``."""
    path = Path(path)
    storage = Path(current_app.config["STORAGE_DIR"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        try:
            with tarfile.open(path, "r:gz") as tar:
                tar.extractall(tmp, filter="data")
            manifest = json.loads((tmp / "manifest.json").read_text())
        except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
            raise BackupError(f"{path} is not a backup of this system ({exc})") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"unknown backup format {manifest.get('format')!r}")
        tables = {t.name: t for t in _tables()}
        if set(manifest["tables"]) != set(tables):
            raise BackupError("the backup's tables differ from this schema; migrate to the backup's revision first")
        db.session.remove()
        with db.engine.begin() as conn:
            if _revisions(conn) != manifest["revisions"]:
                raise BackupError(f"the database is at revision {_revisions(conn)}, the backup at "
                                  f"{manifest['revisions']}: run `flask db upgrade` to the same revision first")
            if not force and not _is_empty(conn):
                raise BackupError("the database is not empty; pass --force to replace everything in it")
            ordered = _tables()
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in ordered)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for t in reversed(ordered):
                    conn.execute(t.delete())
            for table in ordered:
                _load_table(conn, table, manifest["columns"][table.name], tmp / "tables" / f"{table.name}.jsonl")
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, ordered)
        if storage.exists():
            for child in storage.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        storage.mkdir(parents=True, exist_ok=True)
        if (tmp / "storage").is_dir():
            shutil.copytree(tmp / "storage", storage, dirs_exist_ok=True)
    return manifest


def _load_table(conn: Connection, table, names: list[str], file: Path) -> None:
    columns = [table.c[n] for n in names]
    decoders = [_decoder(c) for c in columns]
    batch: list[dict] = []
    with open(file, encoding="utf-8") as fh:
        for line in fh:
            values = json.loads(line)
            row = {}
            for col, dec, v in zip(columns, decoders, values, strict=True):
                row[col.key] = dec(v) if dec is not None and v is not None else v
            batch.append(row)
            if len(batch) >= BATCH:
                conn.execute(table.insert(), batch)
                batch = []
    if batch:
        conn.execute(table.insert(), batch)


def _reset_sequences(conn: Connection, tables) -> None:
    for t in tables:
        for col in t.primary_key.columns:
            seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": t.name, "c": col.name}).scalar()
            if seq:
                conn.execute(text(f'SELECT setval(:s, COALESCE((SELECT max("{col.name}") FROM "{t.name}"), 0) + 1, '
                                  f"false)"), {"s": seq})
