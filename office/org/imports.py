"""Importing the division tree (GB/T 2260 codes) and the organs from CSV: all rows or none,
idempotent, re-imports (区划调整) updating divisions in place with their history.

Divisions: ``code,name,level,parent_code`` and optionally ``former_code``.

- ``level`` is the rank: ``province``, ``city``, ``county``, ``township``. A division's parent is
  any division of a higher rank: a township directly under a city (东莞市, 中山市), a county-level
  city directly under the province (湖北 仙桃市, 海南 琼海市).
- GB/T 2260 grouping rows that are not governments (``省直辖县级行政区划``,
  ``自治区直辖县级行政区划``, and the ``市辖区`` / ``县`` rows of the municipalities) are left out:
  their divisions sit directly under the province, as they are governed.
- ``former_code`` (``;``-separated) names the divisions a row replaces: a re-coded division (a
  county turned into a district: ``330111,富阳区,county,330100,330183``) is moved in place with its
  units, people, documents and reports; with several codes the first is kept and the others are
  merged into it (their organs move along, marked inactive, their records with them).
- A division missing from the file is left as it is: nothing is deleted implicitly.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from office.actor import Actor
from office.audit import service as audit
from office.errors import ValidationError
from office.extensions import db
from office.org import paths as pathmod
from office.org.models import LEVEL_ORDER, Division, DivisionChange, DivisionKind, Level, Unit
from office.timeutil import utcnow

LEVELS = {lv.value for lv in LEVEL_ORDER}
# GB/T 2260 rows that group divisions without being a government of their own.
GROUPING_NAMES = ("省直辖县级行政区划", "自治区直辖县级行政区划", "市辖区", "县")
CODE_LENGTHS = {"province": (6,), "city": (6,), "county": (6,), "township": (9, 12)}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    grouping: int = 0
    merged: int = 0
    moved_records: int = 0
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        out = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        if self.merged:
            out += f", {self.merged} merged"
        if self.grouping:
            out += f", {self.grouping} grouping row(s) left out (their divisions sit under the province)"
        return out


def read_csv(source: str | Path | io.TextIOBase, required: list[str]) -> tuple[list[str], list[tuple[int, dict]]]:
    if isinstance(source, str | Path):
        text = Path(source).read_text(encoding="utf-8-sig")
    else:
        text = source.read()
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    reader.fieldnames = columns
    missing = [c for c in required if c not in columns]
    if missing:
        raise ValidationError(f"line 1: missing column(s) {', '.join(missing)}")
    # Line numbers as a person sees them in an editor: the header is line 1.
    return columns, [(reader.line_num, {k: (v or "").strip() for k, v in row.items() if k})
                     for row in reader]


def codes_of(value: str) -> list[str]:
    return [c.strip() for c in (value or "").replace(",", ";").split(";") if c.strip()]


def is_grouping(name: str, level: str) -> bool:
    return level == Level.CITY and name in GROUPING_NAMES


def rank(level: str) -> int:
    return Level(level).depth


def snapshot(code: str, name: str, level: str, parent: str | None) -> dict:
    return {"code": code, "name": name, "level": level, "parent": parent or ""}


def lock_tree() -> None:
    """One import at a time (readers go on): the tree and every path copy change together."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(db.text("LOCK TABLE division IN SHARE ROW EXCLUSIVE MODE"))


# --- divisions ---------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    code: str
    name: str
    level: str
    parent: str  # parent code after leaving out grouping rows ("" for a province)
    former: list[str]


def _parse_division_rows(rows: list[tuple[int, dict]]) -> tuple[dict[str, _Row], dict[str, tuple[int, str]]]:
    seen: dict[str, _Row] = {}
    grouping: dict[str, tuple[int, str]] = {}  # code -> (line, parent code)
    for line, row in rows:
        code, name, level = row.get("code", ""), row.get("name", ""), row.get("level", "")
        if not code or not code.isdigit():
            raise ValidationError(f"line {line}: bad division code {code!r} (digits expected)")
        if not name:
            raise ValidationError(f"line {line}: division {code} has no name")
        if level not in LEVELS:
            raise ValidationError(f"line {line}: unknown level {level!r} (expected one of "
                                  f"{', '.join(lv.value for lv in LEVEL_ORDER)})")
        if code in seen or code in grouping:
            first = seen[code].line if code in seen else grouping[code][0]
            raise ValidationError(f"line {line}: duplicate code {code} (first on line {first})")
        if len(code) not in CODE_LENGTHS[level]:
            raise ValidationError(f"line {line}: bad division code {code}: a {level} code has "
                                  f"{' or '.join(map(str, CODE_LENGTHS[level]))} digits")
        if level == Level.PROVINCE and not code.endswith("0000"):
            raise ValidationError(f"line {line}: bad division code {code}: a province code ends in 0000")
        former = codes_of(row.get("former_code", ""))
        for f in former:
            if not f.isdigit():
                raise ValidationError(f"line {line}: bad former code {f!r} (digits expected)")
        if is_grouping(name, level):
            grouping[code] = (line, row.get("parent_code", ""))
            continue
        seen[code] = _Row(line, code, name, level, row.get("parent_code", ""), former)
    # Divisions listed under a grouping row sit under the grouping row's parent.
    for r in seen.values():
        hops = 0
        while r.parent in grouping and hops < 5:
            r.parent = grouping[r.parent][1]
            hops += 1
    return seen, grouping


def _check_cycles(seen: dict[str, _Row]) -> None:
    for r in seen.values():
        if r.parent == r.code:
            raise ValidationError(f"line {r.line}: division {r.code} is its own parent")
        chain, cur = [r.code], r.parent
        while cur in seen:
            if cur in chain:
                loop = " -> ".join(chain[chain.index(cur):] + [cur])
                raise ValidationError(f"line {seen[cur].line}: cycle of parents: {loop}")
            chain.append(cur)
            cur = seen[cur].parent


def import_divisions(source, actor: Actor | None = None) -> ImportResult:
    """Import divisions from CSV ``code,name,level,parent_code[,former_code]``: all rows or none."""
    try:
        return _import_divisions(source, actor or Actor.system("import"))
    except Exception:
        db.session.rollback()
        raise


def _import_divisions(source, actor: Actor) -> ImportResult:
    _columns, rows = read_csv(source, ["code", "name", "level", "parent_code"])
    seen, grouping = _parse_division_rows(rows)
    _check_cycles(seen)
    lock_tree()
    stored = {d.code: d for d in db.session.execute(select(Division)).scalars()}
    by_id = {d.id: d for d in stored.values()}
    keeps, absorbs = _identify(seen, stored)
    renamed_to = {k.code: c for c, k in keeps.items() if k is not None and k.code != c}
    renamed_to.update({d.code: c for c, ds in absorbs.items() for d in ds})
    retire = _stored_grouping_rows(grouping, stored)
    plan = _plan(seen, stored, by_id, keeps, renamed_to, retire, grouping)
    _check_parents(seen, plan, renamed_to)
    line_of = {c: r.line for c, r in seen.items()}
    new_path = _paths(plan, line_of)

    result = ImportResult(grouping=len(grouping))
    writer = _Writer(actor)
    ident = {c: (keeps.get(c) if c in seen else stored[c]) for c in plan}
    old_path = {d.id: d.path for d in stored.values()}
    mapping = {old_path[d.id]: new_path[c] for c, d in ident.items() if d is not None}
    mapping.update({old_path[d.id]: new_path[c] for c, ds in absorbs.items() for d in ds})

    # Park every moving division's path (no two rows ever share one), then write the final rows.
    for c, d in ident.items():
        if d is not None and old_path[d.id] != new_path[c]:
            d.path = f"{pathmod.PARKED}{d.id}/"
    db.session.flush()
    final: dict[str, Division] = {}
    level_changed: dict[int, str] = {}
    for code in sorted(plan, key=lambda c: len(new_path[c])):
        st, d = plan[code], ident[code]
        tree_id = final[st["tree"]].id if st["tree"] else None
        if d is None:
            d = Division(code=code, name=st["name"], level=st["level"], kind=DivisionKind.DIVISION,
                         parent_id=tree_id, path=new_path[code])
            db.session.add(d)
            db.session.flush()
            writer.add(d.id, "created", None, snapshot(code, st["name"], st["level"], st["gb"]))
            result.created += 1
            final[code] = d
            continue
        final[code] = d
        if code not in seen:  # a stored division below a changed one: it follows its parent
            d.parent_id, d.path = tree_id, new_path[code]
            continue
        before = snapshot(d.code, d.name, d.level, by_id[d.gb_parent_id].code if d.gb_parent_id in by_id
                           else None)
        after = snapshot(code, st["name"], st["level"], st["gb"])
        gb_before = renamed_to.get(before["parent"], before["parent"]) or None
        before_as_now = {**before, "parent": gb_before or ""}
        if (d.code, d.name, d.level, d.parent_id, gb_before, old_path[d.id]) == \
                (code, st["name"], st["level"], tree_id, st["gb"], new_path[code]):
            result.unchanged += 1
            continue
        if d.level != st["level"]:
            level_changed[d.id] = st["level"]
        was_in_zone = d.parent_id != d.gb_parent_id
        d.code, d.name, d.level, d.parent_id, d.path = code, st["name"], st["level"], tree_id, new_path[code]
        result.updated += 1
        for change in _changes(before_as_now, after):
            writer.add(d.id, change, before, after)
            result.changes.append(f"{change} {before['code']} {before['name']} -> {code} {st['name']}")
        if was_in_zone and st["tree"] == st["gb"]:
            writer.add(d.id, "zone_out", before, after)
    for code, st in plan.items():
        final[code].gb_parent_id = final[st["gb"]].id if st["gb"] else None
    db.session.flush()

    # Merged divisions: their organs (inactive from now on) and records move to the one that absorbs them.
    for code, ds in absorbs.items():
        target = final[code]
        for d in ds:
            db.session.execute(update(Unit).where(Unit.division_id == d.id)
                               .values(division_id=target.id, active=False)
                               .execution_options(synchronize_session=False))
            db.session.execute(update(DivisionChange).where(DivisionChange.division_id == d.id)
                               .values(division_id=target.id).execution_options(synchronize_session=False))
            writer.add(target.id, "merged", snapshot(d.code, d.name, d.level, by_id[d.gb_parent_id].code
                                                       if d.gb_parent_id in by_id else None),
                       snapshot(code, target.name, target.level, plan[code]["gb"]))
            result.changes.append(f"merged {d.code} {d.name} -> {code} {target.name}")
            result.merged += 1
    for d in retire:
        writer.add(None, "retired", snapshot(d.code, d.name, d.level, None), None)
    for d in [*(d for ds in absorbs.values() for d in ds), *retire]:
        db.session.delete(d)
    db.session.flush()
    for div_id, level in level_changed.items():
        db.session.execute(update(Unit).where(Unit.division_id == div_id).values(level=level)
                           .execution_options(synchronize_session=False))
    result.moved_records = pathmod.rewrite(mapping)
    writer.save()
    if result.created or result.updated or result.merged or retire:
        audit.record(actor, "org.import_divisions", object_type="division",
                     after={"created": result.created, "updated": result.updated, "merged": result.merged,
                            "grouping_rows_left_out": result.grouping, "changes": result.changes[:200]})
    db.session.commit()
    return result


class _Writer:
    """The history rows of one import."""

    def __init__(self, actor: Actor):
        self.actor, self.at, self.rows = actor, utcnow(), []

    def add(self, division_id, change: str, before, after) -> None:
        self.rows.append(DivisionChange(division_id=division_id, at=self.at, change=change, before=before,
                                        after=after, actor_name=self.actor.name))

    def save(self) -> None:
        db.session.add_all(self.rows)


def _identify(seen: dict[str, _Row], stored: dict[str, Division]):
    """Which stored division each row keeps (its own code, else its first stored former code), and
    which stored divisions it absorbs (the other former codes)."""
    keeps: dict[str, Division | None] = {}
    absorbs: dict[str, list[Division]] = {}
    claimed: dict[str, int] = {}
    for r in seen.values():
        own = stored.get(r.code)
        if own is not None and own.kind == DivisionKind.ZONE:
            raise ValidationError(f"line {r.line}: code {r.code} belongs to the zone {own.name}; zones are "
                                  f"set up with import-units")
        formers = [stored[f] for f in r.former if f in stored and f != r.code]
        unknown = [f for f in r.former if f not in stored and f != r.code]
        if own is None and unknown and not formers:
            raise ValidationError(f"line {r.line}: former code {unknown[0]} of {r.code} is not in the database")
        for d in formers:
            if d.code in seen:
                raise ValidationError(f"line {r.line}: {d.code} is listed as a former code of {r.code} but has "
                                      f"a row of its own (line {seen[d.code].line})")
            if d.code in claimed:
                raise ValidationError(f"line {r.line}: former code {d.code} is already used on line "
                                      f"{claimed[d.code]}")
            if d.kind == DivisionKind.ZONE:
                raise ValidationError(f"line {r.line}: {d.code} is a zone ({d.name}), not a division")
            claimed[d.code] = r.line
        keep = own or (formers[0] if formers else None)
        keeps[r.code] = keep
        absorbs[r.code] = [d for d in formers if d is not keep]
    return keeps, absorbs


def _stored_grouping_rows(grouping, stored) -> list[Division]:
    """Grouping rows an earlier import kept: their divisions move up; the row goes."""
    retire = []
    for code, (line, _parent) in grouping.items():
        d = stored.get(code)
        if d is None:
            continue
        if db.session.execute(select(Unit.id).where(Unit.division_id == d.id)).first():
            raise ValidationError(f"line {line}: {code} {d.name} is a grouping row and is not kept, but organs "
                                  f"are attached to it; move them to a division first")
        retire.append(d)
    return retire


def _plan(seen, stored, by_id, keeps, renamed_to, retire, grouping) -> dict[str, dict]:
    """The tree after the import: final code -> {name, level, gb (file parent), tree (tree parent)}."""
    gone = set(renamed_to) | {d.code for d in retire}
    plan: dict[str, dict] = {}
    for d in stored.values():
        if d.code in gone:
            continue
        plan[d.code] = {"name": d.name, "level": d.level,
                        "gb": by_id[d.gb_parent_id].code if d.gb_parent_id in by_id else None,
                        "tree": by_id[d.parent_id].code if d.parent_id in by_id else None}
    for r in seen.values():
        keep = keeps[r.code]
        tree = r.parent or None
        if keep is not None and keep.parent_id != keep.gb_parent_id and keep.parent_id in by_id:
            old_gb = by_id[keep.gb_parent_id].code if keep.gb_parent_id in by_id else None
            if renamed_to.get(old_gb, old_gb) == tree:
                tree = by_id[keep.parent_id].code  # still administered by its zone
        plan[r.code] = {"name": r.name, "level": r.level, "gb": r.parent or None, "tree": tree}
    for st in plan.values():
        for key in ("gb", "tree"):
            if st[key] in renamed_to:
                st[key] = renamed_to[st[key]]
    for d in retire:
        for code, st in plan.items():
            if d.code in (st["tree"], st["gb"]):
                raise ValidationError(f"line {grouping[d.code][0]}: {d.code} {d.name} is a grouping row; the "
                                      f"divisions under it ({code}) must be listed in the file")
    return plan


def _check_parents(seen: dict[str, _Row], plan: dict[str, dict], renamed_to: dict[str, str]) -> None:
    for r in seen.values():
        if not r.parent:
            if r.level != Level.PROVINCE:
                raise ValidationError(f"line {r.line}: {r.level} {r.code} has no parent_code")
            continue
        if r.level == Level.PROVINCE:
            raise ValidationError(f"line {r.line}: a province has no parent ({r.code} under {r.parent})")
        if r.parent == r.code:
            raise ValidationError(f"line {r.line}: division {r.code} is its own parent")
        if r.parent in renamed_to:
            raise ValidationError(f"line {r.line}: unknown parent {r.parent} of division {r.code} (it is "
                                  f"replaced by {renamed_to[r.parent]} in this file)")
        if r.parent not in plan:
            raise ValidationError(f"line {r.line}: unknown parent {r.parent} of division {r.code}")
        if r.code[:2] != r.parent[:2]:
            raise ValidationError(f"line {r.line}: bad division code {r.code}: it is not in the province of "
                                  f"its parent {r.parent}")
    # Every parent ranks higher, stored divisions under a changed one included.
    line_of = {c: r.line for c, r in seen.items()}
    for code, st in plan.items():
        parent = plan.get(st["tree"]) if st["tree"] else None
        if parent is not None and rank(parent["level"]) >= rank(st["level"]):
            line = line_of.get(code) or line_of.get(st["tree"], 0)
            raise ValidationError(f"line {line}: a {st['level']} cannot sit under a {parent['level']} "
                                  f"({code} under {st['tree']}): a parent ranks higher")


def _paths(plan: dict[str, dict], line_of: dict[str, int]) -> dict[str, str]:
    out: dict[str, str] = {}

    def path_of(code: str, depth: int = 0) -> str:
        if code not in out:
            if depth > 10:
                raise ValidationError(f"line {line_of.get(code, 0)}: cycle of parents at {code}")
            tree = plan[code]["tree"]
            out[code] = (path_of(tree, depth + 1) if tree else "") + code + "/"
        return out[code]

    for code in plan:
        path_of(code)
    return out


def _changes(before: dict, after: dict) -> list[str]:
    out = []
    if before["code"] != after["code"]:
        out.append("recoded")
    if before["name"] != after["name"]:
        out.append("renamed")
    if before["level"] != after["level"]:
        out.append("level")
    if before["parent"] != after["parent"]:
        out.append("moved")
    return out


