"""Names in pinyin (拼音) for the picker's search: "lzh" or "liuzhenhua" finds 刘振华.

Spelling a name costs tens of microseconds, too much to do for a province's people on every
keystroke; so each name is spelled once, when a person or a unit is written (a flush listener), and
stored in ``directory_spelling`` with an index on the initials and on the full spelling.
Rows inserted in bulk past the ORM (the demo's units, a bulk load) are caught up before a search:
the names above the highest id this process has seen that have no spelling yet (one index range
scan once the process has caught up). ``rebuild()`` (``flask directory-rebuild``) spells everything
again.
"""

from __future__ import annotations

from pypinyin import lazy_pinyin
from sqlalchemy import delete, event, exists, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from office.extensions import db


def spell(name: str) -> tuple[str, str]:
    """(initials, full spelling) in lower case without spaces; letters and digits kept as they are."""
    name = (name or "").strip()
    full = lazy_pinyin(name, errors=lambda s: list(s))
    initials = "".join(p[0] for p in full if p and p[0].isalnum())
    spelled = "".join(p for p in full if p.isalnum())
    return initials.lower()[:60], spelled.lower()[:400]


def _kind(obj) -> str | None:
    from office.auth.models import User
    from office.org.models import Unit

    if isinstance(obj, User):
        return "user"
    if isinstance(obj, Unit):
        return "unit"
    return None


def _changed(session: Session, _ctx) -> None:
    rows = {}
    for obj in list(session.new) + list(session.dirty):
        kind = _kind(obj)
        if kind is None or obj.id is None:
            continue
        if obj not in session.new and not inspect(obj).attrs.name.history.has_changes():
            continue
        rows[(kind, obj.id)] = obj.name
    if not rows:
        return
    from office.directory.models import SpelledName

    conn = session.connection()
    t = SpelledName.__table__
    for kind in ("user", "unit"):
        ids = [i for k, i in rows if k == kind]
        if ids:
            conn.execute(delete(t).where(t.c.kind == kind, t.c.ref_id.in_(ids)))
    conn.execute(t.insert(), [{"kind": k, "ref_id": i, **dict(zip(("initials", "spelled"), spell(n), strict=True))}
                              for (k, i), n in rows.items()])


def listen() -> None:
    if not event.contains(Session, "after_flush", _changed):
        event.listen(Session, "after_flush", _changed)


def rebuild(chunk: int = 5000) -> int:
    """Spell every person's and unit's name again (after a bulk load that bypassed the listener)."""
    from office.auth.models import User
    from office.directory.models import SpelledName
    from office.org.models import Unit

    t = SpelledName.__table__
    db.session.execute(delete(t))
    n = 0
    for kind, model in (("user", User), ("unit", Unit)):
        batch = []
        for ref_id, name in db.session.execute(select(model.id, model.name)):
            initials, spelled = spell(name)
            batch.append({"kind": kind, "ref_id": ref_id, "initials": initials, "spelled": spelled})
            if len(batch) >= chunk:
                db.session.execute(t.insert(), batch)
                n += len(batch)
                batch = []
        if batch:
            db.session.execute(t.insert(), batch)
            n += len(batch)
    db.session.commit()
    return n


_seen: dict[str, int] = {}


def catch_up() -> int:
    """Spell the names written past the ORM since this process last looked; returns how many."""
    from office.auth.models import User
    from office.directory.models import SpelledName
    from office.org.models import Unit

    t = SpelledName.__table__
    n = 0
    for kind, model in (("user", User), ("unit", Unit)):
        floor = _seen.get(kind, 0)
        top = db.session.execute(select(func.max(model.id))).scalar() or 0
        if floor and (top < floor or not db.session.execute(
                select(t.c.ref_id).where(t.c.kind == kind, t.c.ref_id <= floor).limit(1)).first()):
            floor = 0  # the tables were emptied or restored since
        if top <= floor:
            continue
        rows = db.session.execute(select(model.id, model.name).where(
            model.id > floor, ~exists().where(t.c.kind == kind, t.c.ref_id == model.id))).all()
        if rows:
            try:
                with db.session.begin_nested():
                    db.session.execute(t.insert(), [{"kind": kind, "ref_id": i, **dict(zip(
                        ("initials", "spelled"), spell(name), strict=True))} for i, name in rows])
            except IntegrityError:
                continue  # another process spelled them meanwhile
            n += len(rows)
        _seen[kind] = top
    if n:
        db.session.commit()
    return n


def forget() -> None:
    """Look at every row again at the next search (after the tables were emptied or restored)."""
    _seen.clear()
