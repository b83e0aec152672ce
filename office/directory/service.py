"""The directory (通讯录) behind every picker: search people and units, browse the tree, recent
choices, and the re-check of what a form posts, all within the purpose's scope.

Searching reads one statement: people by name, user name, the pinyin of the name (initials or full
spelling, prefix on an index) or their unit's name; units by name, short name, code or pinyin.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, case, delete, exists, false, func, or_, select, true

from office.actor import Actor
from office.auth.models import Post, PostRole, User
from office.directory import spelling
from office.directory.models import RecentChoice, SpelledName
from office.directory.purposes import PERSON, Purpose, get_purpose
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.org import tree
from office.org.models import Division, Unit
from office.org.paths import subtree_clause
from office.timeutil import utcnow

LIMIT = 20
RECENT = 8


@dataclass
class Choice:
    value: str
    id: int
    name: str
    detail: str = ""

    def json(self) -> dict:
        return {"value": self.value, "id": self.id, "name": self.name, "detail": self.detail}


# --- conditions the modules build their scopes from ---------------------------------------------


def people_under(actor: Actor):
    """People whose post is in a unit of the actor's subtree (``auth.scope``)."""
    if actor.is_system:
        return true()
    if not actor.unit_path:
        return false()
    return subtree_clause(Unit.path, actor.unit_path)


def people_of_unit(unit_id: int | None, roles=None):
    """People with a post in one unit (holding one of ``roles`` there, if given)."""
    if unit_id is None:
        return false()
    cond = Post.unit_id == unit_id
    if roles:
        cond = and_(cond, exists().where(PostRole.post_id == Post.id, PostRole.role.in_(list(roles))))
    return cond


def units_under(path: str | None, *, strictly: bool = False):
    """Units in the subtree of a division path (``strictly``: below it, not at it)."""
    if not path:
        return false()
    cond = subtree_clause(Unit.path, path)
    return and_(cond, Unit.path != path) if strictly else cond


# --- reading -------------------------------------------------------------------------------------


def _people(p: Purpose, actor: Actor, context: str):
    return (select(User.id, User.username, User.name, Unit.name, Post.title, Post.unit_id)
            .select_from(User).join(Post, Post.user_id == User.id).join(Unit, Unit.id == Post.unit_id)
            .where(User.active.is_(True), Unit.active.is_(True), p.scope(actor, context)))


def _units(p: Purpose, actor: Actor, context: str):
    q = select(Unit, Division.name).join(Division, Division.id == Unit.division_id).where(Unit.active.is_(True))
    cond = p.scope(actor, context)
    return q.where(cond) if cond is not None else q


def _person_choices(p: Purpose, rows, limit: int) -> list[Choice]:
    out: dict[int, Choice] = {}
    for uid, username, name, unit_name, title, _unit_id in rows:
        if uid not in out:
            detail = f"{unit_name} {title}".strip() if title else unit_name
            out[uid] = Choice(username if p.value == "username" else str(uid), uid, name, detail)
        if len(out) >= limit:
            break
    return list(out.values())


def _unit_choices(p: Purpose, actor: Actor, context: str, rows, limit: int) -> list[Choice]:
    out = []
    for u, division_name in rows:
        if p.allows is not None and not p.allows(actor, context, u):
            continue
        detail = division_name if division_name and division_name not in u.name else ""
        out.append(Choice(u.code if p.value == "code" else str(u.id), u.id, u.name, detail))
        if len(out) >= limit:
            break
    return out


def _spelled(kind: str, q: str):
    """People by the start of their name's pinyin (on the index); units, fewer and named after their
    place ("杭州市西湖区三墩镇人民政府"), anywhere in it ("sdz" or "sandun" finds that one)."""
    q = q.lower()
    match = (lambda col: col.contains(q, autoescape=True)) if kind == "unit" else \
        (lambda col: col.startswith(q, autoescape=True))
    return select(SpelledName.ref_id).where(SpelledName.kind == kind, or_(match(SpelledName.initials),
                                                                          match(SpelledName.spelled)))


def search(actor: Actor, purpose: str, q: str, context: str = "", limit: int = LIMIT) -> list[Choice]:
    """The people or units of the purpose's scope that match ``q``, best first."""
    p = get_purpose(purpose)
    q = (q or "").strip()[:40]
    if not q:
        return []
    latin = q.isascii() and q.replace(" ", "").isalnum()
    if latin:
        spelling.catch_up()
    if p.kind == PERSON:
        conds = [User.name.contains(q, autoescape=True), Unit.name.contains(q, autoescape=True),
                 Unit.short_name == q]
        if latin:
            conds += [User.username.startswith(q.lower(), autoescape=True),
                      User.id.in_(_spelled("user", q.replace(" ", "")))]
        rank = case((User.name == q, 0), (User.name.startswith(q, autoescape=True), 1),
                    (Unit.name.contains(q, autoescape=True), 3), else_=2)
        rows = db.session.execute(_people(p, actor, context).where(or_(*conds))
                                  .order_by(rank, func.length(User.name), User.name, User.id).limit(limit * 3))
        return _person_choices(p, rows, limit)
    conds = [Unit.name.contains(q, autoescape=True), Unit.short_name.contains(q, autoescape=True)]
    if q.isascii():
        conds.append(Unit.code.startswith(q, autoescape=True))
    if latin:
        conds.append(Unit.id.in_(_spelled("unit", q.replace(" ", ""))))
    # "民政" lies inside every "人民政府": a match there alone comes after the real ones.
    real = func.replace(Unit.name, "人民政府", "")
    rank = case((Unit.name == q, 0), (Unit.short_name == q, 0), (Unit.short_name.contains(q, autoescape=True), 1),
                (Unit.name.startswith(q, autoescape=True), 1), (real.contains(q, autoescape=True), 2), else_=3)
    rows = db.session.execute(_units(p, actor, context).where(or_(*conds))
                              .order_by(rank, func.length(Unit.path), Unit.path, Unit.id).limit(limit * 3))
    return _unit_choices(p, actor, context, rows, limit)


def choices_by_id(actor: Actor, purpose: str, ids, context: str = "") -> list[Choice]:
    """The entries of ``ids`` that lie in the purpose's scope, in the order given."""
    p = get_purpose(purpose)
    ids = [int(i) for i in ids if str(i).isdigit()]
    if not ids:
        return []
    if p.kind == PERSON:
        found = _person_choices(p, db.session.execute(_people(p, actor, context).where(User.id.in_(ids))
                                                      .order_by(User.id)), len(ids))
    else:
        found = _unit_choices(p, actor, context, db.session.execute(
            _units(p, actor, context).where(Unit.id.in_(ids)).order_by(Unit.id)), len(ids))
    by_id = {c.id: c for c in found}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def resolve(actor: Actor, purpose: str, values, context: str = "") -> list[Choice]:
    """Choices for values a form holds (ids, user names or codes, as the purpose posts them)."""
    p = get_purpose(purpose)
    values = [str(v).strip() for v in values if str(v).strip()][:200]
    if not values:
        return []
    if p.value == "username":
        ids = list(db.session.execute(select(User.id).where(User.username.in_(values))).scalars())
    elif p.value == "code":
        ids = list(db.session.execute(select(Unit.id).where(Unit.code.in_(values))).scalars())
    else:
        ids = values
    by_value = {c.value: c for c in choices_by_id(actor, purpose, ids, context)}
    return [by_value[v] for v in values if v in by_value]


def recent(actor: Actor, purpose: str, context: str = "") -> list[Choice]:
    """The last few people or units the actor picked for this purpose, still in scope."""
    get_purpose(purpose)
    if actor.user_id is None:
        return []
    ids = list(db.session.execute(select(RecentChoice.ref_id).where(
        RecentChoice.user_id == actor.user_id, RecentChoice.purpose == purpose)
        .order_by(RecentChoice.used_at.desc()).limit(RECENT)).scalars())
    return choices_by_id(actor, purpose, ids, context)


def browse(actor: Actor, purpose: str, context: str = "", *, division: str = "", unit_id: int | None = None) -> dict:
    """One level of the tree of government within the purpose's scope: a division's child divisions
    (those with someone to offer), its organs, and for people a unit's people. Without a division,
    the division of the actor's unit."""
    p = get_purpose(purpose)
    if unit_id is not None:
        u = db.session.get(Unit, unit_id)
        if u is None or p.kind != PERSON:
            raise NotFound(_("Not found."))
        rows = db.session.execute(_people(p, actor, context).where(Unit.id == u.id).order_by(Post.rank.is_(None),
                                                                                               Post.rank, User.id))
        return {"unit": {"id": u.id, "name": u.name}, "people": [c.json() for c in _person_choices(p, rows, 500)]}
    if division:
        d = db.session.execute(select(Division).where(Division.code == division)).scalar_one_or_none()
    else:
        d = db.session.get(Division, db.session.get(Unit, actor.unit_id).division_id) if actor.unit_id else None
        d = d or db.session.execute(select(Division).where(Division.parent_id.is_(None))
                                    .order_by(Division.code)).scalars().first()
    if d is None:
        raise NotFound(_("Not found."))
    kids = []
    for node in tree.children(d):
        under = subtree_clause(Unit.path, node.division.path)
        if p.kind == PERSON:
            hit = db.session.execute(_people(p, actor, context).where(under).limit(1)).first()
        else:
            hit = _unit_choices(p, actor, context, db.session.execute(
                _units(p, actor, context).where(under).order_by(Unit.path).limit(30)), 1)
        if hit:
            kids.append({"code": node.division.code, "name": node.division.name, "children": node.children})
    organs = [u.id for u in tree.organs_of(d) if u.active]
    if p.kind == PERSON:
        found = _people(p, actor, context).where(Unit.id.in_(organs)).subquery()
        with_people = set(db.session.execute(select(found.c.unit_id).distinct()).scalars()) if organs else set()
        units = [{"id": u.id, "name": u.name} for u in tree.organs_of(d) if u.id in with_people]
    else:
        units = [c.json() for c in choices_by_id(actor, purpose, organs, context)]
    up = d.parent
    return {"division": {"code": d.code, "name": d.name},
            "up": {"code": up.code, "name": up.name} if up else None, "divisions": kids, "units": units}


# --- checking and remembering what was posted ----------------------------------------------------


def require(actor: Actor, purpose: str, ids, context: str = "", *, remember_them: bool = True) -> list[int]:
    """The ids a form posted, each checked against the purpose's scope; refused with the names of
    those outside it (nothing is changed). The accepted ones become the actor's recent choices."""
    p = get_purpose(purpose)
    ids = list(dict.fromkeys(int(i) for i in ids))
    inside = {c.id for c in choices_by_id(actor, purpose, ids, context)}
    outside = [i for i in ids if i not in inside]
    if outside:
        model = User if p.kind == PERSON else Unit
        names = list(db.session.execute(select(model.name).where(model.id.in_(outside))).scalars()) or \
            [str(i) for i in outside]
        if p.kind == PERSON:
            raise ValidationError(_("You cannot choose %(names)s here: outside the people you may address.",
                                    names="、".join(names)))
        raise ValidationError(_("You cannot choose %(names)s here: outside the units you may address.",
                                names="、".join(names)))
    if remember_them:
        remember(actor, purpose, ids)
    return ids


def remember(actor: Actor, purpose: str, ids) -> None:
    """Record choices as recent (in the caller's transaction), keeping the last few per purpose."""
    ids = list(dict.fromkeys(int(i) for i in ids))
    if actor.user_id is None or not ids:
        return
    now = utcnow()
    db.session.execute(delete(RecentChoice).where(RecentChoice.user_id == actor.user_id,
                                                  RecentChoice.purpose == purpose, RecentChoice.ref_id.in_(ids)))
    db.session.execute(RecentChoice.__table__.insert(), [
        {"user_id": actor.user_id, "purpose": purpose, "ref_id": i, "used_at": now} for i in ids])
    keep = select(RecentChoice.ref_id).where(RecentChoice.user_id == actor.user_id,
                                             RecentChoice.purpose == purpose) \
        .order_by(RecentChoice.used_at.desc(), RecentChoice.ref_id).limit(RECENT).scalar_subquery()
    db.session.execute(delete(RecentChoice).where(RecentChoice.user_id == actor.user_id,
                                                  RecentChoice.purpose == purpose,
                                                  RecentChoice.ref_id.not_in(keep)))
