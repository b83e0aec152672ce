"""Division and unit operations: import, and the queries of the vertical and horizontal lines."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, select

from office.actor import Actor
from office.audit import service as audit
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.org.models import LEVEL_ORDER, Division, Level, Unit, UnitKind

LEVELS = {lv.value for lv in LEVEL_ORDER}


def subtree_end(path: str) -> str:
    """The first path after the subtree of ``path`` (ends in "/"): the subtree is [path, end)."""
    return path[:-1] + "0"  # "/" + 1 == "0"; paths hold digits and "/" only


def subtree_clause(column, path: str):
    """``column`` lies in the subtree whose path is ``path`` (ends in "/"): one index range scan."""
    return and_(column >= path, column < subtree_end(path))


def ancestor_paths(path: str) -> list[str]:
    """"330000/330100/330102/" -> ["330000/", "330000/330100/", "330000/330100/330102/"]."""
    parts = [p for p in path.split("/") if p]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def _read_csv(source: str | Path | io.TextIOBase, required: list[str]) -> list[tuple[int, dict]]:
    if isinstance(source, str | Path):
        text = Path(source).read_text(encoding="utf-8-sig")
    else:
        text = source.read()
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"line 1: missing column(s) {', '.join(missing)}")
    # Line numbers as a person sees them in an editor: the header is line 1.
    return [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader]


def import_divisions(source, actor: Actor | None = None) -> ImportResult:
    """Import divisions from CSV ``code,name,level,parent_code``: all rows or none, idempotent."""
    rows = _read_csv(source, ["code", "name", "level", "parent_code"])
    existing = {d.code: d for d in db.session.execute(select(Division)).scalars()}
    seen: dict[str, tuple[int, dict]] = {}
    for line, row in rows:
        code, name, level = row["code"], row["name"], row["level"]
        if not code or not code.isdigit() or len(code) > 12:
            raise ValidationError(f"line {line}: bad division code {code!r} (digits expected)")
        if not name:
            raise ValidationError(f"line {line}: division {code} has no name")
        if level not in LEVELS:
            raise ValidationError(f"line {line}: unknown level {level!r} (expected one of "
                                  f"{', '.join(lv.value for lv in LEVEL_ORDER)})")
        if code in seen:
            raise ValidationError(f"line {line}: duplicate code {code} (first on line {seen[code][0]})")
        seen[code] = (line, row)

    levels: dict[str, str] = {c: d.level for c, d in existing.items()}
    levels.update({c: r["level"] for c, (_, r) in seen.items()})
    for code, (line, row) in seen.items():
        parent = row["parent_code"]
        depth = Level(row["level"]).depth
        if not parent:
            if depth != 0:
                raise ValidationError(f"line {line}: {row['level']} {code} has no parent_code")
            continue
        if parent == code:
            raise ValidationError(f"line {line}: division {code} is its own parent")
        if parent not in levels:
            raise ValidationError(f"line {line}: unknown parent {parent} of division {code}")
        parent_depth = Level(levels[parent]).depth
        if depth != parent_depth + 1:
            raise ValidationError(
                f"line {line}: a {row['level']} cannot sit directly under a {levels[parent]} "
                f"({code} under {parent})")

    # Paths in parent-first order.
    stored: dict[str, str] = {c: d.path for c, d in existing.items()}
    computed: dict[str, str] = {}

    def path_of(code: str) -> str:
        if code in computed:
            return computed[code]
        if code not in seen:
            return stored[code]
        parent = seen[code][1]["parent_code"]
        computed[code] = (path_of(parent) if parent else "") + code + "/"
        return computed[code]

    result = ImportResult()
    ordered = sorted(seen, key=lambda c: Level(seen[c][1]["level"]).depth)
    for code in ordered:
        row = seen[code][1]
        path = path_of(code)
        d = existing.get(code)
        parent_id = existing[row["parent_code"]].id if row["parent_code"] else None
        if d is None:
            d = Division(code=code, name=row["name"], level=row["level"], parent_id=parent_id, path=path)
            db.session.add(d)
            db.session.flush()
            existing[code] = d
            result.created += 1
        elif (d.name, d.level, d.parent_id, d.path) != (row["name"], row["level"], parent_id, path):
            d.name, d.level, d.parent_id, d.path = row["name"], row["level"], parent_id, path
            result.updated += 1
        else:
            result.unchanged += 1
    if result.created or result.updated:
        audit.record(actor or Actor.system("import"), "org.import_divisions", object_type="division",
                     after={"created": result.created, "updated": result.updated})
    db.session.commit()
    return result


UNIT_COLUMNS = ["code", "name", "short_name", "kind", "function_code", "division_code"]
UNIT_KINDS = {k.value for k in UnitKind}


def import_units(source, actor: Actor | None = None) -> ImportResult:
    """Import organs from CSV ``code,name,short_name,kind,function_code,division_code``."""
    rows = _read_csv(source, UNIT_COLUMNS)
    divisions = {d.code: d for d in db.session.execute(select(Division)).scalars()}
    existing = {u.code: u for u in db.session.execute(select(Unit)).scalars()}
    seen: set[str] = set()
    result = ImportResult()
    for line, row in rows:
        code = row["code"]
        if not code:
            raise ValidationError(f"line {line}: unit has no code")
        if code in seen:
            raise ValidationError(f"line {line}: duplicate unit code {code}")
        seen.add(code)
        if not row["name"] or not row["short_name"]:
            raise ValidationError(f"line {line}: unit {code} needs a name and a short name")
        if row["kind"] not in UNIT_KINDS:
            raise ValidationError(f"line {line}: unknown unit kind {row['kind']!r} (expected one of "
                                  f"{', '.join(sorted(UNIT_KINDS))})")
        if not row["function_code"]:
            raise ValidationError(f"line {line}: unit {code} has no function_code")
        div = divisions.get(row["division_code"])
        if div is None:
            raise ValidationError(f"line {line}: unknown division {row['division_code']!r} of unit {code}")
        values = dict(name=row["name"], short_name=row["short_name"], kind=row["kind"],
                      function_code=row["function_code"], division_id=div.id, path=div.path, level=div.level)
        u = existing.get(code)
        if u is None:
            db.session.add(Unit(code=code, **values))
            result.created += 1
        elif any(getattr(u, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(u, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
    if result.created or result.updated:
        audit.record(actor or Actor.system("import"), "org.import_units", object_type="unit",
                     after={"created": result.created, "updated": result.updated})
    db.session.commit()
    return result


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
    """The people's government (人民政府) of a division."""
    return db.session.execute(
        select(Unit).where(Unit.division_id == division.id, Unit.kind == UnitKind.GOVERNMENT)
    ).scalars().first()


def same_level_units(unit: Unit):
    """The horizontal line (块): every organ of the unit's division."""
    return select(Unit).where(Unit.division_id == unit.division_id, Unit.active.is_(True)).order_by(Unit.id)


def vertical_line_down(unit: Unit):
    """The vertical line (条) below a unit: same function in every division under it."""
    return units_under(unit.path, function_code=unit.function_code).where(Unit.id != unit.id)


def vertical_line_up(unit: Unit) -> list[Unit]:
    """The organs of the same function above a unit, nearest first (county -> city -> province)."""
    paths = ancestor_paths(unit.path)[:-1]
    if not paths:
        return []
    rows = db.session.execute(
        select(Unit).where(Unit.path.in_(paths), Unit.function_code == unit.function_code,
                           Unit.active.is_(True))
    ).scalars().all()
    return sorted(rows, key=lambda u: len(u.path), reverse=True)


def superior_government(unit: Unit) -> Unit | None:
    """The government one level up from the unit's division."""
    paths = ancestor_paths(unit.path)
    if len(paths) < 2:
        return None
    return db.session.execute(
        select(Unit).where(Unit.path == paths[-2], Unit.kind == UnitKind.GOVERNMENT)
    ).scalars().first()


def search_units(q: str, limit: int = 20):
    like = f"%{q}%"
    return select(Unit).where((Unit.name.like(like)) | (Unit.short_name.like(like)) | (Unit.code == q)) \
        .order_by(Unit.path).limit(limit)
