"""The organisation directory (组织机构): the real tree, one level at a time, and search.

Each call reads a bounded number of rows with a fixed number of queries (children by the parent
index, their own child counts in one GROUP BY, their governments in one IN list), so a province
of 2,000+ townships opens as fast as a small one: nothing is loaded below what is expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from office.extensions import db
from office.org.models import Division, DivisionChange, DivisionKind, Unit, UnitKind
from office.org.paths import ancestor_paths

SEARCH_LIMIT = 30


@dataclass
class Node:
    division: Division
    children: int = 0
    government: Unit | None = None
    file_parent: Division | None = None  # the division-file parent, when a zone administers it
    open: list[Node] = field(default_factory=list)  # expanded children (the actor's own branch)

    @property
    def code(self) -> str:
        return self.division.code


def nodes(divisions: list[Division]) -> list[Node]:
    """Nodes for divisions: their child counts and governments, in two queries."""
    if not divisions:
        return []
    ids = [d.id for d in divisions]
    counts = dict(db.session.execute(select(Division.parent_id, func.count()).where(Division.parent_id.in_(ids))
                                     .group_by(Division.parent_id)).all())
    govs: dict[int, Unit] = {}
    for u in db.session.execute(select(Unit).where(Unit.division_id.in_(ids), Unit.kind == UnitKind.GOVERNMENT,
                                                   Unit.active.is_(True)).order_by(Unit.id)).scalars():
        govs.setdefault(u.division_id, u)
    moved = {d.gb_parent_id for d in divisions if d.administered_by_zone and d.gb_parent_id}
    parents = {d.id: d for d in db.session.execute(select(Division).where(Division.id.in_(moved))).scalars()} \
        if moved else {}
    return [Node(d, counts.get(d.id, 0), govs.get(d.id),
                 parents.get(d.gb_parent_id) if d.administered_by_zone else None) for d in divisions]


def roots() -> list[Node]:
    return nodes(list(db.session.execute(select(Division).where(Division.parent_id.is_(None))
                                         .order_by(Division.code)).scalars()))


def children(division: Division) -> list[Node]:
    """The divisions directly under one, zones first after the divisions of the file, by code."""
    rows = db.session.execute(select(Division).where(Division.parent_id == division.id)
                              .order_by(Division.kind, Division.code)).scalars().all()
    return nodes(list(rows))


def ancestors(division: Division) -> list[Division]:
    """The divisions above one, from the province down (one query on the path's prefixes)."""
    paths = ancestor_paths(division.path)[:-1]
    if not paths:
        return []
    rows = db.session.execute(select(Division).where(Division.path.in_(paths))).scalars().all()
    return sorted(rows, key=lambda d: len(d.path))


def open_branch(path: str) -> list[Node]:
    """The roots with the branch down to ``path`` expanded (the actor's own place in the tree)."""
    top = roots()
    wanted = set(ancestor_paths(path)) if path else set()
    level = top
    while level:
        hit = next((n for n in level if n.division.path in wanted), None)
        if hit is None:
            break
        hit.open = children(hit.division)
        level = hit.open
    return top


@dataclass
class Hit:
    division: Division | None
    unit: Unit | None
    trail: list[Division]


def search(q: str, limit: int = SEARCH_LIMIT) -> list[Hit]:
    """Divisions and organs whose name contains ``q`` or whose code is (or starts with) ``q``,
    each with its place in the tree (the ancestors' names, read in one query for all hits)."""
    q = (q or "").strip()[:50]
    if not q:
        return []
    cond = [Division.name.contains(q, autoescape=True)]
    if q.isdigit():
        cond.append(Division.code.startswith(q))
    divs = list(db.session.execute(select(Division).where(or_(*cond))
                                   .order_by(func.length(Division.path), Division.code).limit(limit)).scalars())
    units = list(db.session.execute(
        select(Unit).where(Unit.active.is_(True), Unit.kind == UnitKind.DEPARTMENT,
                           or_(Unit.name.contains(q, autoescape=True), Unit.short_name == q, Unit.code == q))
        .order_by(Unit.path, Unit.id).limit(max(0, limit - len(divs)))).scalars())
    paths = {p for d in divs for p in ancestor_paths(d.path)[:-1]} | \
        {p for u in units for p in ancestor_paths(u.path)}
    by_path = {d.path: d for d in db.session.execute(select(Division).where(Division.path.in_(paths))).scalars()} \
        if paths else {}
    govs = {}
    if divs:
        for u in db.session.execute(select(Unit).where(Unit.division_id.in_([d.id for d in divs]),
                                                       Unit.kind == UnitKind.GOVERNMENT,
                                                       Unit.active.is_(True)).order_by(Unit.id)).scalars():
            govs.setdefault(u.division_id, u)
    out = [Hit(d, govs.get(d.id), [by_path[p] for p in ancestor_paths(d.path)[:-1] if p in by_path])
           for d in divs]
    out += [Hit(None, u, [by_path[p] for p in ancestor_paths(u.path) if p in by_path]) for u in units]
    return out


def organs_of(division: Division) -> list[Unit]:
    """The organs of a division: government (or committee) first, general office, departments."""
    order = {UnitKind.GOVERNMENT: 0, UnitKind.GENERAL_OFFICE: 1, UnitKind.DEPARTMENT: 2}
    rows = db.session.execute(select(Unit).where(Unit.division_id == division.id)
                              .order_by(Unit.active.desc(), Unit.id)).scalars().all()
    return sorted(rows, key=lambda u: (not u.active, order.get(u.kind, 3)))


def history(division: Division, limit: int = 20) -> list[DivisionChange]:
    return list(db.session.execute(select(DivisionChange).where(DivisionChange.division_id == division.id)
                                   .order_by(DivisionChange.at.desc(), DivisionChange.id.desc())
                                   .limit(limit)).scalars())


def administered(zone: Division) -> list[Division]:
    """The divisions a zone administers (托管)."""
    if zone.kind != DivisionKind.ZONE:
        return []
    return list(db.session.execute(select(Division).where(Division.parent_id == zone.id,
                                                          Division.kind == DivisionKind.DIVISION)
                                   .order_by(Division.code)).scalars())
