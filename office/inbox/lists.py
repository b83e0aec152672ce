"""The to-do list (待办) read from the inbox: the page, its count and the workbench counts are each
one statement over the two indexes of the open items: the actor's own items (under his current
post, or under any post), his unit's items for the roles of his post, and the items of the leaders
he stands in for (代理) today. The statements are built once per shape; the values are bound per call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import has_request_context
from sqlalchemy import bindparam, exists, func, select, union_all
from sqlalchemy.orm import aliased

from office.actor import Actor
from office.extensions import db
from office.inbox.models import OPEN_SQL, InboxItem
from office.inbox.service import _groups_of, line_of
from office.timeutil import utcnow


@dataclass
class TodoItem:
    """One entry of the to-do list (待办)."""

    module: str
    title: str
    url: str
    created_at: datetime | None = None
    due_at: datetime | None = None
    kind: str = ""
    extra: dict = field(default_factory=dict)


_ORDER = ("due_sort", "since", "rank", "seq")
_LIST_COLUMNS = (InboxItem.id, InboxItem.module, InboxItem.kind, InboxItem.line, InboxItem.subject,
                 InboxItem.detail, InboxItem.url, InboxItem.due_at, InboxItem.since, InboxItem.source_type,
                 InboxItem.source_id, InboxItem.item, InboxItem.urgency, InboxItem.due_sort, InboxItem.rank,
                 InboxItem.seq)


def _audiences(in_unit: bool, groups: int) -> list:
    """The conditions of the rows an actor sees, one per index range: his own items under any post
    and under his current one, his unit's items for each role group his post matches, and the
    delegable items of the leaders he acts for today (代理). Values bound per call: ``user``,
    ``unit``, ``g0``..., ``today``."""
    from office.auth.service import principal_ids

    user = bindparam("user")
    out = [(InboxItem.user_id == user, InboxItem.unit_id == 0)]
    if in_unit:
        out.append((InboxItem.user_id == user, InboxItem.unit_id == bindparam("unit")))
        out += [(InboxItem.unit_id == bindparam("unit"), InboxItem.role_group == bindparam(f"g{i}"),
                 InboxItem.except_user_id != user) for i in range(groups)]
    own = aliased(InboxItem)
    out.append((InboxItem.user_id.in_(principal_ids(user, bindparam("today"))), InboxItem.unit_id == 0,
                InboxItem.delegable.is_(True),
                # an item he has himself too (two leaders standing in for each other) is listed once
                ~exists().where(own.source_type == InboxItem.source_type, own.source_id == InboxItem.source_id,
                                own.item == InboxItem.item, own.user_id == user, own.unit_id == 0,
                                own.role_group == "", own.state == OPEN_SQL)))
    return out


def _union(cols, in_unit: bool, groups: int, *, limited: bool, by_module: bool):
    parts = []
    for where in _audiences(in_unit, groups):
        q = select(*cols).where(InboxItem.state == OPEN_SQL, *where)
        if by_module:
            q = q.where(InboxItem.module == bindparam("module"))
        if limited:
            q = q.order_by(*[getattr(InboxItem, c) for c in _ORDER]).limit(bindparam("upto"))
        parts.append(select(*q.subquery().c))
    return union_all(*parts).subquery("inbox")


@cache
def _list_statement(in_unit: bool, groups: int, by_module: bool):
    u = _union(_LIST_COLUMNS, in_unit, groups, limited=True, by_module=by_module)
    return select(u).order_by(*[u.c[c] for c in _ORDER], u.c.item, u.c.id) \
        .limit(bindparam("limit")).offset(bindparam("offset"))


@cache
def _count_statement(in_unit: bool, groups: int):
    u = _union((InboxItem.module,), in_unit, groups, limited=False, by_module=False)
    return select(u.c.module, func.count()).group_by(u.c.module)


def _shape(actor: Actor) -> tuple[bool, list[str], dict]:
    groups = _groups_of(actor) if actor.unit_id is not None else []
    params = {"user": actor.user_id, "unit": actor.unit_id, "today": utcnow().date(),
              **{f"g{i}": g for i, g in enumerate(groups)}}
    return actor.unit_id is not None, groups, params


def list_query(actor: Actor, limit: int, offset: int = 0, *, module: str | None = None) -> tuple:
    """The statement of the actor's open items ``offset`` to ``offset + limit`` in to-do order and
    its parameters (the benchmark's floor runs exactly these)."""
    in_unit, groups, params = _shape(actor)
    return _list_statement(in_unit, len(groups), module is not None), \
        {**params, "module": module, "upto": offset + limit, "limit": limit, "offset": offset}


def count_query(actor: Actor) -> tuple:
    """The statement of the actor's open items per module, ``(module, count)`` rows, and its parameters."""
    in_unit, groups, params = _shape(actor)
    return _count_statement(in_unit, len(groups)), params


def rows(actor: Actor, limit: int, offset: int = 0, *, module: str | None = None) -> list:
    """The actor's open items ``offset`` to ``offset + limit`` in to-do order (soonest due first,
    undated after, oldest first), as rows: one statement."""
    if actor.user_id is None or limit <= 0:
        return []
    return db.session.connection().execute(*list_query(actor, limit, offset, module=module)).all()


def _patterns() -> dict[str, str]:
    """The lines' patterns in the current language, translated once per process and language (the
    catalogues do not change while it runs); a plain dict outside an application."""
    from flask import has_app_context

    from office.web import translated

    return translated("inbox.lines", dict) if has_app_context() else {}


def render(rows_) -> list[TodoItem]:
    """To-do items with their lines in the current language (each pattern translated once)."""
    patterns = _patterns()
    out = []
    for r in rows_:
        line = line_of(r.line)
        if line is None:
            title = r.subject
        else:
            if r.line not in patterns:
                patterns[r.line] = line.pattern()
            fields = line.args(r.subject, r.detail) if line.args else {"t": r.subject, "title": r.subject,
                                                                       "u": r.detail}
            title = patterns[r.line] % fields
        out.append(TodoItem(module=r.module, title=title, url=r.url, created_at=r.since, due_at=r.due_at,
                            kind=r.kind, extra={"source_type": r.source_type, "source_id": r.source_id,
                                                "item": r.item, "urgency": r.urgency}))
    return out


def items(actor: Actor, limit: int = 200, offset: int = 0, *, module: str | None = None) -> list[TodoItem]:
    return render(rows(actor, limit, offset, module=module))


def counts(actor: Actor) -> dict[str, int]:
    """{module: open items} for the actor, one statement (read once a request)."""
    def build() -> dict[str, int]:
        if actor.user_id is None:
            return {}
        return dict(db.session.connection().execute(*count_query(actor)).all())

    if has_request_context():
        from office.web import per_actor

        return per_actor("inbox_counts", actor, build)
    return build()


def count(actor: Actor, module: str | None = None) -> int:
    c = counts(actor)
    return c.get(module, 0) if module is not None else sum(c.values())

