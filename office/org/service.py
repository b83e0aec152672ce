"""Division and unit operations: import, and the queries of the vertical and horizontal lines."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from office.errors import NotFound
from office.extensions import db
from office.org.imports import ImportResult, import_divisions
from office.org.models import Division, Unit, UnitKind
from office.org.paths import (
    ancestor_paths,
    bound_subtree_clause,
    parent_path,
    register_path_copies,
    subtree_clause,
    subtree_end,
    subtree_params,
)
from office.org.unit_import import import_units

__all__ = ["ImportResult", "import_divisions", "import_units", "subtree_clause", "subtree_end", "bound_subtree_clause",
           "subtree_params", "ancestor_paths", "parent_path", "register_path_copies"]


# --- queries -------------------------------------------------------------------------------


def get_division(code: str) -> Division:
    d = db.session.execute(select(Division).where(Division.code == code)).scalar_one_or_none()
    if d is None:
        raise NotFound(f"no division {code}")
    return d


def divisions_under(division: Division, level: str | None = None):
    """Select divisions in the subtree of ``division`` (itself included)."""
    q = select(Division).where(subtree_clause(Division.path, division.path))
    if level:
        q = q.where(Division.level == level)
    return q.order_by(Division.path)


def children(division: Division) -> list[Division]:
    return list(db.session.execute(
        select(Division).where(Division.parent_id == division.id).order_by(Division.code)).scalars())


def child_code_lengths(path: str) -> list[int]:
    """The code lengths among the children of the division at ``path`` (usually one: 6 for the
    counties of a city, 9 for the towns of 东莞; both when a city has towns and a zone)."""
    parent = select(Division.id).where(Division.path == path).scalar_subquery()
    return sorted(db.session.execute(select(func.length(Division.code)).where(Division.parent_id == parent)
                                     .distinct()).scalars())


def units_under(path: str, *, kind: str | None = None, function_code: str | None = None,
                level: str | None = None):
    """Select units whose division lies under ``path`` (a division path)."""
    q = select(Unit).where(subtree_clause(Unit.path, path), Unit.active.is_(True))
    if kind:
        q = q.where(Unit.kind == kind)
    if function_code:
        q = q.where(Unit.function_code == function_code)
    if level:
        q = q.where(Unit.level == level)
    return q.order_by(Unit.path, Unit.id)


def government_of(division: Division) -> Unit | None:
    """The people's government (人民政府) of a division, or the management committee of a zone."""
    return db.session.execute(
        select(Unit).where(Unit.division_id == division.id, Unit.kind == UnitKind.GOVERNMENT,
                           Unit.active.is_(True)).order_by(Unit.id)
    ).scalars().first()


def government_served_by(unit):
    """The government a general office works for (its division's), as a scalar subquery correlated
    with ``unit`` (the unit table or an alias of it); NULL for a unit of any other kind."""
    gov = Unit.__table__.alias("served_government")
    return (select(gov.c.id).where(gov.c.division_id == unit.c.division_id, gov.c.kind == UnitKind.GOVERNMENT,
                                   unit.c.kind == UnitKind.GENERAL_OFFICE)
            .order_by(gov.c.id).limit(1).correlate(unit).scalar_subquery())


def same_level_units(unit: Unit):
    """The horizontal line (块): every organ of the unit's division."""
    return select(Unit).where(Unit.division_id == unit.division_id, Unit.active.is_(True)).order_by(Unit.id)


def child_governments(unit: Unit):
    """The governments (and zone committees) one level down the tree: of the divisions whose parent
    is the unit's division, whatever their rank (东莞市: its towns; 湖北省: its cities and 仙桃市)."""
    return select(Unit).join(Division, Division.id == Unit.division_id).where(
        Division.parent_id == unit.division_id, Unit.kind == UnitKind.GOVERNMENT, Unit.active.is_(True)
    ).order_by(Unit.path, Unit.id)


def vertical_line_down(unit: Unit):
    """The vertical line (条) below a unit: same function in every division under it, and the
    vertically managed units that answer to it."""
    return select(Unit).where(subtree_clause(Unit.path, unit.path), Unit.active.is_(True), Unit.id != unit.id,
                              or_(Unit.function_code == unit.function_code, Unit.superior_id == unit.id)) \
        .order_by(Unit.path, Unit.id)


def line_next(unit: Unit):
    """The line one level down the real tree: the same function in the divisions directly under the
    unit's (whatever their rank), and the vertically managed units answering to it."""
    direct = and_(Division.parent_id == unit.division_id, Unit.function_code == unit.function_code,
                  or_(Unit.superior_id.is_(None), Unit.superior_id == unit.id))
    return select(Unit).join(Division, Division.id == Unit.division_id).where(
        Unit.active.is_(True), or_(direct, Unit.superior_id == unit.id)).order_by(Unit.path, Unit.id)


def _superiors(unit: Unit) -> list[Unit]:
    """The explicit superiors of a vertically managed unit, nearest first."""
    out, cur, seen = [], unit.superior, {unit.id}
    while cur is not None and cur.id not in seen:
        out.append(cur)
        seen.add(cur.id)
        cur = cur.superior
    return out


def vertical_line_up(unit: Unit) -> list[Unit]:
    """The organs of the same function above a unit, nearest first (county -> city -> province);
    for a vertically managed unit, its superiors in the line."""
    if unit.superior_id is not None:
        return _superiors(unit)
    paths = ancestor_paths(unit.path)[:-1]
    if not paths:
        return []
    rows = db.session.execute(
        select(Unit).where(Unit.path.in_(paths), Unit.function_code == unit.function_code,
                           Unit.active.is_(True))
    ).scalars().all()
    return sorted(rows, key=lambda u: len(u.path), reverse=True)


def government_chain(unit: Unit) -> list[Unit]:
    """The organs a unit answers to, from its own head organ up, nearest first: the governments of
    its division and of every division above it on the real tree (a town of 东莞: the town, 东莞市,
    广东省; a town handed to a zone: the town, the zone's committee, the city...). A vertically
    managed unit answers to its line: itself, then its superiors."""
    if unit.superior_id is not None:
        return [unit, *_superiors(unit)]
    paths = ancestor_paths(unit.path)
    rows = db.session.execute(
        select(Unit).where(Unit.path.in_(paths), Unit.kind == UnitKind.GOVERNMENT, Unit.active.is_(True))
        .order_by(Unit.id)
    ).scalars().all()
    nearest: dict[str, Unit] = {}
    for u in rows:
        nearest.setdefault(u.path, u)
    return sorted(nearest.values(), key=lambda u: len(u.path), reverse=True)


def superior_government(unit: Unit) -> Unit | None:
    """The organ above the unit's division: the government of the nearest division above it that has
    one (a town of 东莞: 东莞市人民政府; 仙桃市: 湖北省人民政府); for a vertically managed unit, its
    superior in the line."""
    if unit.superior_id is not None:
        return unit.superior
    chain = government_chain(unit)
    return next((g for g in chain if g.path != unit.path), None)


def is_above(upper: Unit, lower: Unit) -> bool:
    """``upper`` is in the chain of command above ``lower`` (government chain, or the line of a
    vertically managed unit)."""
    if lower.superior_id is not None:
        return any(s.id == upper.id for s in _superiors(lower))
    return lower.path.startswith(upper.path) and lower.path != upper.path


def search_units(q: str, limit: int = 20):
    like = f"%{q}%"
    return select(Unit).where((Unit.name.like(like)) | (Unit.short_name.like(like)) | (Unit.code == q)) \
        .order_by(Unit.path).limit(limit)
