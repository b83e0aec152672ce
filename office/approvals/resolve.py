"""Resolving a node's assignees from the organisation at the moment the node is reached."""

from __future__ import annotations

from sqlalchemy import select

from office.auth.models import User
from office.auth.service import principal_leader_id, role_holder_ids
from office.extensions import db
from office.org import service as org
from office.org.models import LEVEL_ORDER, Unit
from office.org.service import vertical_line_up


def government_chain(unit: Unit) -> list[Unit]:
    """The organs above the unit on the real tree, nearest first: the governments of its division
    and of every division above it (whatever the number of levels), or for a vertically managed
    unit its line (see ``org.government_chain``)."""
    return org.government_chain(unit)


def _chain(unit: Unit, line: str) -> list[Unit]:
    if line == "function":
        return [unit, *vertical_line_up(unit)]
    return government_chain(unit)


def _dedupe(ids) -> list[int]:
    seen: set[int] = set()
    out = []
    for i in ids:
        if i is not None and i not in seen:
            seen.add(i)
            out.append(i)
    return out


def _leader_id(unit: Unit) -> int | None:
    return principal_leader_id(unit.id)


def resolve(spec: dict, unit: Unit, request=None) -> list[int]:
    """Ordered, de-duplicated user ids for an assignee spec, relative to the requester's unit."""
    kind = spec.get("kind")
    if kind == "subject":
        from office.approvals.subjects import assignees_of

        return _dedupe(assignees_of(request))
    if kind == "user":
        names = spec.get("users") or []
        rows = db.session.execute(select(User.username, User.id).where(
            User.username.in_(names), User.active.is_(True))).all()
        by_name = dict(rows)
        return _dedupe(by_name.get(n) for n in names)
    if kind == "role":
        return _dedupe(role_holder_ids(unit.id, spec.get("role", "")))
    if kind == "leader_up":
        chain = _chain(unit, spec.get("line", "gov"))
        n = int(spec.get("levels", 1))
        return _dedupe([_leader_id(chain[n])]) if n < len(chain) else []
    if kind == "leader_up_to":
        chain = _chain(unit, spec.get("line", "gov"))
        target = LEVEL_ORDER.index(spec.get("level", "province"))
        picked = [u for u in chain if LEVEL_ORDER.index(u.level) >= target]
        return _dedupe(_leader_id(u) for u in picked)
    if kind == "unit_leaders":
        codes = spec.get("units") or []
        units = {u.code: u for u in db.session.execute(
            select(Unit).where(Unit.code.in_(codes), Unit.active.is_(True))).scalars()}
        return _dedupe(_leader_id(units[c]) for c in codes if c in units)
    if kind == "gov_leader":
        chain = government_chain(unit)
        return _dedupe([_leader_id(chain[0])]) if chain else []
    return []


def unit_admins(unit: Unit) -> list[int]:
    """Who handles a node nobody resolves: the unit's admins, else the admins of its division."""
    ids = role_holder_ids(unit.id, "unit_admin")
    if ids:
        return _dedupe(ids)
    others = db.session.execute(
        select(Unit).where(Unit.division_id == unit.division_id, Unit.active.is_(True)).order_by(Unit.id)
    ).scalars().all()
    return _dedupe(uid for other in others for uid in role_holder_ids(other.id, "unit_admin"))


def escalation_target(user_id: int) -> int | None:
    """The leader above a user: his unit's principal leader, or the superior government's."""
    from office.auth.service import primary_post

    user = db.session.get(User, user_id)
    post = primary_post(user) if user else None
    if post is None:
        return None
    leader = principal_leader_id(post.unit_id)
    if leader is not None and leader != user_id:
        return leader
    chain = government_chain(post.unit)
    for gov in chain:
        lid = _leader_id(gov)
        if lid is not None and lid != user_id:
            return lid
    return None
