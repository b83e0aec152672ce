"""Materialized paths: subtree clauses, and moving paths when the tree changes.

Every record that belongs to a unit carries a copy of the unit's division path (documents,
receipts, reports, approval requests...), so that scope is one index range scan without a join.
When a division moves or is re-coded (区划调整, a township handed to a development zone), every
copy of its path, and of the paths below it, is rewritten in the same transaction. The modules
that keep such copies register their columns with ``register_path_copies`` (in their
``init_app``); the rewrite is one statement per column and chunk, whatever the number of rows.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, case, func, literal, update

from office.extensions import db

_COPIES: dict[str, object] = {}
CHUNK = 400
# Paths hold digits and "/"; a path being moved is parked as "~" + its new path, so that no
# statement ever sees two rows of one path whatever the order of the moves (A -> B while B -> C).
PARKED = "~"


def subtree_end(path: str) -> str:
    """The first path after the subtree of ``path`` (ends in "/"): the subtree is [path, end)."""
    return path[:-1] + "0"  # "/" + 1 == "0"; paths hold digits and "/" only


def subtree_clause(column, path: str):
    """``column`` lies in the subtree whose path is ``path`` (ends in "/"): one index range scan."""
    return and_(column >= path, column < subtree_end(path))


def bound_subtree_clause(column, name: str = "subtree"):
    """``subtree_clause`` for a statement built once: the subtree's bounds are bound per execution
    (``subtree_params(path, name)``)."""
    return and_(column >= bindparam(f"{name}_path"), column < bindparam(f"{name}_end"))


def subtree_params(path: str, name: str = "subtree") -> dict:
    return {f"{name}_path": path, f"{name}_end": subtree_end(path)}


def ancestor_paths(path: str) -> list[str]:
    """"330000/330100/330102/" -> ["330000/", "330000/330100/", "330000/330100/330102/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def parent_path(path: str) -> str | None:
    paths = ancestor_paths(path)
    return paths[-2] if len(paths) > 1 else None


def register_path_copies(*columns) -> None:
    """Columns that hold a copy of a unit's path and must follow when the tree changes."""
    for col in columns:
        _COPIES[f"{col.table.name}.{col.name}"] = col


def copy_columns() -> list:
    from office.org.models import Unit

    return [Unit.path, *_COPIES.values()]


def rewrite(mapping: dict[str, str]) -> int:
    """Rewrite every copy of the paths in ``mapping`` (old path -> new path, exact matches): the
    units' paths and every registered copy. Returns the number of rows changed."""
    mapping = {old: new for old, new in mapping.items() if old != new}
    if not mapping:
        return 0
    items = list(mapping.items())
    changed = 0
    for col in copy_columns():
        table = col.table
        for i in range(0, len(items), CHUNK):
            chunk = dict(items[i:i + CHUNK])
            parked = case({old: literal(PARKED + new) for old, new in chunk.items()}, value=col)
            changed += db.session.execute(
                update(table).where(col.in_(list(chunk))).values({col.name: parked})
                .execution_options(synchronize_session=False)).rowcount or 0
        db.session.execute(
            update(table).where(col >= PARKED).values({col.name: func.substr(col, 2)})
            .execution_options(synchronize_session=False))
    return changed
