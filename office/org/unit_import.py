"""Importing the organs from CSV: governments, general offices, departments, management
committees of development zones (with the divisions handed to them) and vertically managed units."""

from __future__ import annotations

from sqlalchemy import select

from office.actor import Actor
from office.audit import service as audit
from office.errors import ValidationError
from office.extensions import db
from office.org import paths as pathmod
from office.org.imports import ImportResult, codes_of, lock_tree, rank, read_csv, snapshot
from office.org.models import LEVEL_ORDER, Division, DivisionChange, DivisionKind, Level, Unit, UnitKind
from office.timeutil import utcnow

# --- units -------------------------------------------------------------------------------------

UNIT_COLUMNS = ["code", "name", "short_name", "kind", "function_code", "division_code"]
UNIT_KINDS = {k.value for k in UnitKind} | {"committee"}
COMMITTEE_SUFFIXES = ("管理委员会", "管委会")


def zone_name(committee_name: str) -> str:
    for suffix in COMMITTEE_SUFFIXES:
        if committee_name.endswith(suffix) and len(committee_name) > len(suffix):
            return committee_name[: -len(suffix)]
    return committee_name


def import_units(source, actor: Actor | None = None) -> ImportResult:
    """Import organs from CSV ``code,name,short_name,kind,function_code,division_code`` and optionally
    ``parent_code``, ``administers``, ``superior_code``: all rows or none, idempotent.

    - ``kind`` ``committee``: the management committee (管委会) of a development zone or new area,
      which governs the zone as its government. ``division_code`` is the zone's own code (an unused
      code, e.g. the statistical code 4401xx of the zone), ``parent_code`` the division that set the
      zone up (the zone ranks one level below it), ``administers`` the ``;``-separated codes of the
      divisions handed to it (托管): they keep their codes and move to the zone in the tree, with
      their organs, people and records. The list is complete: a division left out goes back.
    - ``superior_code``: a vertically managed organ (垂直管理, e.g. a survey team of the statistics
      bureau) answers to this upper organ of its line instead of its local government.
    """
    try:
        return _import_units(source, actor or Actor.system("import"))
    except Exception:
        db.session.rollback()
        raise


def _import_units(source, actor: Actor) -> ImportResult:
    columns, rows = read_csv(source, UNIT_COLUMNS)
    has_admin = "administers" in columns
    lock_tree()
    divisions = {d.code: d for d in db.session.execute(select(Division)).scalars()}
    div_by_id = {d.id: d for d in divisions.values()}
    existing = {u.code: u for u in db.session.execute(select(Unit)).scalars()}
    seen: dict[str, int] = {}
    parsed = []
    for line, row in rows:
        code = row["code"]
        if not code:
            raise ValidationError(f"line {line}: unit has no code")
        if code in seen:
            raise ValidationError(f"line {line}: duplicate unit code {code} (first on line {seen[code]})")
        seen[code] = line
        if not row["name"] or not row["short_name"]:
            raise ValidationError(f"line {line}: unit {code} needs a name and a short name")
        if row["kind"] not in UNIT_KINDS:
            raise ValidationError(f"line {line}: unknown unit kind {row['kind']!r} (expected one of "
                                  f"{', '.join(sorted(UNIT_KINDS))})")
        if not row["function_code"]:
            raise ValidationError(f"line {line}: unit {code} has no function_code")
        parsed.append((line, row))

    # Zones first: a committee row creates or updates its zone.
    zones: dict[str, dict] = {}  # zone code -> {line, name, parent, administers}
    for line, row in parsed:
        if row["kind"] != "committee":
            continue
        zcode = row["division_code"]
        if not zcode.isdigit() or len(zcode) not in (6, 9, 12):
            raise ValidationError(f"line {line}: bad zone code {zcode!r} for committee {row['code']} "
                                  f"(6, 9 or 12 digits)")
        if zcode in zones:
            raise ValidationError(f"line {line}: zone {zcode} has a committee already (line {zones[zcode]['line']})")
        d = divisions.get(zcode)
        if d is not None and d.kind != DivisionKind.ZONE:
            raise ValidationError(f"line {line}: {zcode} is the division {d.name}; a zone needs a code of its own")
        parent_code = row.get("parent_code", "") or (div_by_id[d.parent_id].code if d is not None else "")
        parent = divisions.get(parent_code)
        if parent is None or parent.kind == DivisionKind.ZONE:
            raise ValidationError(f"line {line}: committee {row['code']} needs the parent_code of the division "
                                  f"that set the zone up (unknown: {parent_code!r})")
        if parent.level == Level.TOWNSHIP:
            raise ValidationError(f"line {line}: a zone cannot be set up under a township ({parent_code})")
        level = LEVEL_ORDER[rank(parent.level) + 1].value
        zones[zcode] = {"line": line, "name": zone_name(row["name"]), "parent": parent, "level": level,
                        "administers": codes_of(row.get("administers", "")), "existing": d}

    # Who administers what after the import: divisions keep their zone unless their zone's row says.
    claimed: dict[str, str] = {}
    for zcode, z in zones.items():
        for c in z["administers"]:
            d = divisions.get(c)
            if d is None or d.kind == DivisionKind.ZONE:
                raise ValidationError(f"line {z['line']}: zone {zcode} administers an unknown division {c!r}")
            if c in claimed:
                raise ValidationError(f"line {z['line']}: {c} {d.name} is administered by zone {claimed[c]} "
                                      f"already; a division belongs to one organ")
            if rank(d.level) <= rank(z["level"]):
                raise ValidationError(f"line {z['line']}: a {z['level']}-level zone administers divisions of a "
                                      f"lower rank ({c} {d.name} is a {d.level})")
            if not _gb_under(d, z["parent"], div_by_id):
                raise ValidationError(f"line {z['line']}: {c} {d.name} is not a division of {z['parent'].name}, "
                                      f"which set up zone {zcode}")
            current = div_by_id.get(d.parent_id)
            if d.parent_id != d.gb_parent_id and current is not None and current.code not in zones:
                raise ValidationError(f"line {z['line']}: {c} {d.name} is administered by zone {current.code} "
                                      f"{current.name}; release it there first")
            claimed[c] = zcode

    # Units: their division, kind, superior.
    plans = []
    for line, row in parsed:
        code = row["code"]
        dcode = row["division_code"]
        if row["kind"] == "committee":
            div_ref = dcode  # the zone, created below
        else:
            if dcode not in divisions and dcode not in zones:
                hint = ""
                if is_grouping_code(dcode):
                    hint = " (a grouping row such as 省直辖县级行政区划 is not a division: use the division itself)"
                raise ValidationError(f"line {line}: unknown division {dcode!r} of unit {code}{hint}")
            div_ref = dcode
        kind = UnitKind.GOVERNMENT.value if row["kind"] == "committee" else row["kind"]
        superior = row.get("superior_code", "")
        if superior:
            if superior == code:
                raise ValidationError(f"line {line}: unit {code} cannot be its own superior")
            if kind == UnitKind.GOVERNMENT:
                raise ValidationError(f"line {line}: a government answers to the government above it, not to "
                                      f"a superior_code")
            if superior not in existing and superior not in seen:
                raise ValidationError(f"line {line}: unknown superior unit {superior!r} of unit {code}")
        plans.append((line, row, kind, div_ref, superior))

    now = utcnow()
    result = ImportResult()
    history: list[DivisionChange] = []

    # Create or update zones (their tree parent and path), then hand divisions to them.
    old_path = {d.id: d.path for d in divisions.values()}
    for zcode, z in zones.items():
        d = z["existing"]
        if d is None:
            d = Division(code=zcode, name=z["name"], level=z["level"], kind=DivisionKind.ZONE,
                         parent_id=z["parent"].id, gb_parent_id=z["parent"].id,
                         path=f"{pathmod.PARKED}new-{zcode}/")
            db.session.add(d)
            db.session.flush()
            divisions[zcode], div_by_id[d.id] = d, d
            history.append(DivisionChange(division_id=d.id, at=now, change="created", before=None,
                                          after=snapshot(zcode, d.name, d.level, z["parent"].code),
                                          actor_name=actor.name))
        elif (d.name, d.level, d.parent_id) != (z["name"], z["level"], z["parent"].id):
            before = snapshot(zcode, d.name, d.level, div_by_id[d.parent_id].code)
            d.name, d.level, d.parent_id, d.gb_parent_id = z["name"], z["level"], z["parent"].id, z["parent"].id
            history.append(DivisionChange(division_id=d.id, at=now, change="renamed", before=before,
                                          after=snapshot(zcode, d.name, d.level, z["parent"].code),
                                          actor_name=actor.name))
    if has_admin:
        for zcode, z in zones.items():
            zone = divisions[zcode]
            now_in = {d.code for d in divisions.values() if d.parent_id == zone.id and d.kind == DivisionKind.DIVISION
                      and d.gb_parent_id != zone.id}
            for c in now_in - set(z["administers"]):
                d = divisions[c]
                d.parent_id = d.gb_parent_id
                history.append(DivisionChange(division_id=d.id, at=now, change="zone_out",
                                              before={"zone": zcode}, after={"zone": ""}, actor_name=actor.name))
            for c in set(z["administers"]) - now_in:
                d = divisions[c]
                d.parent_id = zone.id
                history.append(DivisionChange(division_id=d.id, at=now, change="zone_in", before={"zone": ""},
                                              after={"zone": zcode}, actor_name=actor.name))
    # Paths follow the tree parents.
    new_path: dict[int, str] = {}

    def path_of(d: Division) -> str:
        if d.id not in new_path:
            parent = div_by_id.get(d.parent_id)
            new_path[d.id] = (path_of(parent) if parent else "") + d.code + "/"
        return new_path[d.id]

    moving = [d for d in divisions.values() if path_of(d) != old_path.get(d.id)]
    for d in moving:
        d.path = f"{pathmod.PARKED}{d.id}/"
    db.session.flush()
    for d in moving:
        d.path = new_path[d.id]
    db.session.flush()
    result.moved_records = pathmod.rewrite({old_path[d.id]: new_path[d.id] for d in moving if d.id in old_path})
    db.session.expire_all()
    divisions = {d.code: d for d in db.session.execute(select(Division)).scalars()}
    existing = {u.code: u for u in db.session.execute(select(Unit)).scalars()}

    unchanged_ids: set[int] = set()
    for line, row, kind, div_ref, _superior in plans:
        div = divisions[div_ref]
        if kind == UnitKind.GOVERNMENT:
            other = db.session.execute(select(Unit).where(Unit.division_id == div.id, Unit.kind == kind,
                                                          Unit.code != row["code"], Unit.active.is_(True))).scalar()
            if other is not None:
                raise ValidationError(f"line {line}: {div.name} has a government already ({other.code} {other.name})")
        values = dict(name=row["name"], short_name=row["short_name"], kind=kind,
                      function_code=row["function_code"], division_id=div.id, path=div.path, level=div.level)
        u = existing.get(row["code"])
        if u is None:
            u = Unit(code=row["code"], **values)
            db.session.add(u)
            existing[row["code"]] = u
            result.created += 1
        elif any(getattr(u, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(u, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
            unchanged_ids.add(u.id)
    db.session.flush()
    if "superior_code" in columns:
        for line, row, _kind, _div, superior in plans:
            u = existing[row["code"]]
            sup = existing[superior] if superior else None
            if sup is not None:
                if not (u.path.startswith(sup.path) and u.path != sup.path):
                    raise ValidationError(f"line {line}: the superior {sup.code} of {u.code} must sit in a division "
                                          f"above it ({sup.division.name} is not above {u.division.name})")
                if sup.kind == UnitKind.GOVERNMENT:
                    raise ValidationError(f"line {line}: a vertically managed unit answers to an organ of its "
                                          f"line, not to a government ({sup.code})")
            new_id = sup.id if sup is not None else None
            if u.superior_id != new_id:
                if u.id in unchanged_ids:
                    result.unchanged -= 1
                    result.updated += 1
                u.superior_id = new_id
    db.session.add_all(history)
    if result.created or result.updated or history:
        audit.record(actor, "org.import_units", object_type="unit",
                     after={"created": result.created, "updated": result.updated,
                            "zones": sorted(zones), "moved_records": result.moved_records})
    db.session.commit()
    return result


def is_grouping_code(code: str) -> bool:
    """Codes of GB/T 2260 grouping rows: xx9000 (省直辖县级行政区划), xx0100/xx0200 of municipalities."""
    return len(code) == 6 and code.endswith("9000")


def _gb_under(d: Division, ancestor: Division, by_id: dict[int, Division]) -> bool:
    """``d`` lies under ``ancestor`` following the division file's parents."""
    cur, hops = d, 0
    while cur is not None and hops < 10:
        if cur.id == ancestor.id:
            return cur is not d
        cur = by_id.get(cur.gb_parent_id)
        hops += 1
    return False
