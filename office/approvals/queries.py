"""Read side: to-do (待办), done (已办), my requests, copied to me, and what a user may do on a
request page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import Integer, String, bindparam, cast, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.sql.functions import FunctionElement

from office.actor import Actor
from office.approvals import access, engine, subjects
from office.approvals.models import (
    ApprovalAction,
    ApprovalRequest,
    CarbonCopy,
    FlowVersion,
    RequestState,
    Task,
    TaskState,
)
from office.auth.models import User
from office.auth.service import principal_ids
from office.errors import NotFound
from office.extensions import among_bound, db, dialect_name
from office.listing import Rows, rows_with_total, with_total
from office.org.models import Unit
from office.timeutil import utcnow


@cache
def _open(dialect: str) -> tuple:
    """The conditions of the actor's open tasks: his, on behalf of someone, and those of the leaders
    he acts for today (``_open_params``), built once per database kind."""
    return (or_(Task.assignee_id == bindparam("me"), Task.on_behalf_of_id == bindparam("me"),
                among_bound(Task.assignee_id, "principals", Integer, dialect)),
            Task.state == TaskState.OPEN, ApprovalRequest.state == RequestState.RUNNING)


def _open_params(actor: Actor) -> dict:
    """``_open``'s values: the actor, and the leaders he acts for today (read with his session, else
    once per request)."""
    from office.web import per_actor

    if actor.principal_ids is not None:
        return {"me": actor.user_id, "principals": list(actor.principal_ids)}

    def build() -> dict:
        ids = list(db.session.connection().execute(principal_ids(actor.user_id, utcnow().date())).scalars()) \
            if actor.user_id else []
        return {"me": actor.user_id, "principals": ids}

    return per_actor("approvals_mine", actor, build)


_TODO_ORDER = (Task.due_at.is_(None), Task.due_at, Task.id)


def todo_tasks(actor: Actor, limit: int = 200, offset: int = 0) -> list[Task]:
    """The actor's open tasks from ``offset``, soonest due first, with their requests, requesters and
    units (what a list row shows) loaded in the same query."""
    if actor.user_id is None:
        return []
    req = contains_eager(Task.request)
    return list(db.session.execute(
        select(Task).join(ApprovalRequest, ApprovalRequest.id == Task.request_id).where(*_open(dialect_name()))
        .options(req, req.joinedload(ApprovalRequest.requester), req.joinedload(ApprovalRequest.unit))
        .order_by(*_TODO_ORDER).limit(limit).offset(offset), _open_params(actor)).scalars())


class StepName(FunctionElement):
    """``StepName(definition, index)``: the name of node ``index`` of a flow definition held as JSON
    text, read by the database ('' when the index is out of range), so that a list of tasks need not
    load the definitions."""

    type = String()
    inherit_cache = True


# The node's name in each dialect's JSON syntax ({d}: the definition, {i}: the index).
_NODE_NAME = {"sqlite": "json_extract({d}, '$.nodes[' || {i} || '].name')",
              "postgresql": "CAST({d} AS JSON) -> 'nodes' -> {i} ->> 'name'"}


@compiles(StepName, "sqlite")
@compiles(StepName, "postgresql")
def _step_name(element, compiler, **kw):
    d, i = (compiler.process(c, **kw) for c in element.clauses.clauses)
    name = _NODE_NAME[compiler.dialect.name].format(d=d, i=i)
    return f"CASE WHEN {i} >= 0 THEN coalesce({name}, '') ELSE '' END"


class Line(NamedTuple):
    """One row of the to-do or done list, as plain values."""

    task_id: int
    request_id: int
    title: str
    requester: str
    unit: str
    step: str
    due_at: datetime | None
    state: str
    opinion: str | None
    subject_type: str
    subject_id: str
    summary: str = ""


@cache
def _lines_select():
    """The columns and joins of a list row, built once (the conditions are added per list)."""
    requester = aliased(User)
    return select(Task.id, ApprovalRequest.id, ApprovalRequest.title, requester.name, Unit.name,
                  StepName(FlowVersion.definition_json, Task.node_index), Task.due_at, Task.state, Task.opinion,
                  ApprovalRequest.subject_type, ApprovalRequest.subject_id) \
        .join(ApprovalRequest, ApprovalRequest.id == Task.request_id) \
        .join(requester, requester.id == ApprovalRequest.requester_id) \
        .join(Unit, Unit.id == ApprovalRequest.unit_id) \
        .join(FlowVersion, FlowVersion.id == ApprovalRequest.flow_version_id)


@cache
def _todo_statements(dialect: str):
    """The to-do list's rows and count, built once per database kind."""
    count = select(func.count()).select_from(Task).join(ApprovalRequest, ApprovalRequest.id == Task.request_id) \
        .where(*_open(dialect))
    rows = with_total(_lines_select().where(*_open(dialect)).order_by(*_TODO_ORDER).limit(bindparam("limit"))
                      .offset(bindparam("offset")), count)
    return rows, count


def _as_lines(rows) -> list[Line]:
    """List rows with their summary lines (one statement per subject type)."""
    summaries = subjects.summaries_of([(r[9], r[10]) for r in rows])
    return [Line(*r[:11], summaries.get((r.subject_type, str(r.subject_id)), "")) for r in rows]


def todo_lines(actor: Actor, limit: int = 200, offset: int = 0) -> Rows:
    """``todo_tasks`` as list rows, in the same order: one statement for the task, its request,
    requester, unit and step name, and the list's count (``todo_count``, as ``Rows.total``)."""
    if actor.user_id is None:
        return Rows((), 0)
    rows = db.session.connection().execute(
        _todo_statements(dialect_name())[0], {**_open_params(actor), "limit": limit, "offset": offset}).all()
    return rows_with_total(rows, _as_lines)


def done_lines(actor: Actor, limit: int = 200) -> list[Line]:
    """``done_tasks`` as list rows, in the same order."""
    return _as_lines(db.session.execute(_lines_select().where(Task.decided_by_id == actor.user_id)
                                        .order_by(Task.decided_at.desc(), Task.id.desc()).limit(limit)).all())


def todo_count(actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    return db.session.connection().execute(_todo_statements(dialect_name())[1], _open_params(actor)).scalar_one()


def done_tasks(actor: Actor, limit: int = 200) -> list[Task]:
    return list(db.session.execute(
        select(Task).where(Task.decided_by_id == actor.user_id).order_by(Task.decided_at.desc(), Task.id.desc())
        .limit(limit)).scalars())


def my_requests(actor: Actor, limit: int = 200) -> list[ApprovalRequest]:
    return list(db.session.execute(
        select(ApprovalRequest).where(ApprovalRequest.requester_id == actor.user_id)
        .order_by(ApprovalRequest.id.desc()).limit(limit)).scalars())


def copied_to_me(actor: Actor, limit: int = 200) -> list[CarbonCopy]:
    return list(db.session.execute(
        select(CarbonCopy).where(CarbonCopy.user_id == actor.user_id).order_by(CarbonCopy.id.desc())
        .limit(limit)).scalars())


def get_request(actor: Actor, request_id: int, options: tuple = ()) -> ApprovalRequest:
    """A request the actor may see (404 otherwise); ``options``: loader options (what the caller
    shows of it, loaded with it)."""
    return _visible(actor, db.session.get(ApprovalRequest, request_id, options=options))


def _visible(actor: Actor, req: ApprovalRequest | None) -> ApprovalRequest:
    if req is None or not engine.can_view(actor, req):
        raise NotFound(_("No such approval request."))
    return req


def subject_requests(subject_type: str, subject_id) -> list[ApprovalRequest]:
    """Every request about one subject, newest first (for the subject module's own pages)."""
    return list(db.session.execute(select(ApprovalRequest).where(
        ApprovalRequest.subject_type == subject_type, ApprovalRequest.subject_id == str(subject_id))
        .order_by(ApprovalRequest.id.desc())).scalars())


def subjects_with_requests(subject_type: str, subject_ids, states) -> set[str]:
    """Of these subjects, the ids that have a request in one of ``states`` (one query)."""
    ids = [str(i) for i in subject_ids]
    if not ids:
        return set()
    return set(db.session.execute(select(ApprovalRequest.subject_id).where(
        ApprovalRequest.subject_type == subject_type, ApprovalRequest.subject_id.in_(ids),
        ApprovalRequest.state.in_(list(states)))).scalars())


def has_request(subject_type: str, subject_id_column, states):
    """An SQL condition for another module's query: the subject in ``subject_id_column`` has a
    request in one of ``states`` (so a list can leave those out in the same statement)."""
    return exists().where(ApprovalRequest.subject_type == subject_type,
                          ApprovalRequest.subject_id == cast(subject_id_column, String),
                          ApprovalRequest.state.in_(list(states)))


@cache
def _request_statements():
    """The statements of one request's reads, built once (bound per request as ``request``): its
    actions in order, and its tasks in order with the names of the people they name."""
    actions = select(ApprovalAction).where(ApprovalAction.request_id == bindparam("request")) \
        .order_by(ApprovalAction.id)
    assignee, behalf = aliased(User), aliased(User)
    tasks = (select(Task, assignee.name, behalf.name).outerjoin(assignee, assignee.id == Task.assignee_id)
             .outerjoin(behalf, behalf.id == Task.on_behalf_of_id).where(Task.request_id == bindparam("request"))
             .order_by(Task.entry_no, Task.seq, Task.id))
    return actions, tasks


def timeline(req: ApprovalRequest) -> list[ApprovalAction]:
    return list(db.session.execute(_request_statements()[0], {"request": req.id}).scalars())


def _named_tasks(req: ApprovalRequest) -> list:
    """(task, assignee's name, name of the one on whose behalf) of every task of the request in
    order. Whoever is assigned one (or has it on his behalf) takes part in the request: that is
    noted for the rest of the request's reads (``access.is_participant``), so a page that reads the
    tasks first needs no separate check."""
    rows = db.session.execute(_request_statements()[1], {"request": req.id}).all()
    access.note_participants(req, [t for t, _a, _b in rows])
    return rows


def request_tasks(req: ApprovalRequest) -> list[Task]:
    """Every task of the request in its order (noted as ``_named_tasks`` notes them)."""
    return [t for t, _a, _b in _named_tasks(req)]


@lru_cache(maxsize=8)
def _shown_statement(options: tuple):
    """The request by id with its requester and ``options``' relations, built once per ``options``."""
    return select(ApprovalRequest).options(*options, joinedload(ApprovalRequest.requester)) \
        .where(ApprovalRequest.id == bindparam("request"))


class Person(NamedTuple):
    id: int
    name: str


class Shown(NamedTuple):
    """A request as its page shows it: the request, its tasks in order, and the people they name
    (requester, assignees, those on whose behalf), by id."""

    req: ApprovalRequest
    tasks: list[Task]
    people: dict[int, Person]


def shown_request(actor: Actor, request_id: int, options: tuple = ()) -> Shown:
    """``get_request`` (with its requester) and its tasks with their people's names, the tasks read
    before the check (which then needs no query of its own when the actor holds one of them).
    Nothing is shown when the check fails: 404 as there."""
    req = db.session.execute(_shown_statement(options), {"request": request_id}).unique().scalar_one_or_none()
    if req is None:
        _visible(actor, req)
    rows = _named_tasks(req)
    tasks = [t for t, _a, _b in rows]
    people = {req.requester_id: Person(req.requester_id, req.requester.name)}
    for t, assignee_name, behalf_name in rows:
        if t.assignee_id is not None:
            people[t.assignee_id] = Person(t.assignee_id, assignee_name)
        if t.on_behalf_of_id is not None:
            people[t.on_behalf_of_id] = Person(t.on_behalf_of_id, behalf_name)
    return Shown(_visible(actor, req), tasks, people)


@dataclass
class Allowed:
    task: Task | None = None
    on_behalf_of_id: int | None = None
    can_withdraw: bool = False
    can_urge: bool = False
    can_resubmit: bool = False
    can_comment: bool = False
    can_cc: bool = False
    return_targets: list[tuple[int, str]] = field(default_factory=list)


def allowed(actor: Actor, req: ApprovalRequest, tasks: list[Task] | None = None) -> Allowed:
    """What the actor may do on the request; ``tasks``: every task of the request, as
    ``request_tasks`` read them already (else its open tasks are read)."""
    a = Allowed()
    if actor.user_id is None:
        return a
    if req.state == RequestState.RUNNING and actor.user_id not in subjects.excluded_of(req):
        open_tasks = sorted((t for t in tasks if t.state == TaskState.OPEN), key=lambda t: t.id) \
            if tasks is not None else db.session.execute(
                select(Task).where(Task.request_id == req.id, Task.state == TaskState.OPEN).order_by(Task.id)).scalars()
        for t in open_tasks:
            ok, behalf = engine.acting_for(actor, t)
            if ok:
                a.task, a.on_behalf_of_id = t, behalf
                break
        if a.task is not None:
            nodes = req.flow_version.nodes
            a.return_targets = [(i, n.get("name", "")) for i, n in enumerate(nodes[:a.task.node_index])
                                if n.get("type") != "cc"]
    mine = req.requester_id == actor.user_id
    a.can_withdraw = mine and (req.state == RequestState.RETURNED or (req.state == RequestState.RUNNING
                                                                      and not req.acted))
    a.can_urge = mine and req.state == RequestState.RUNNING
    a.can_resubmit = mine and req.state == RequestState.RETURNED
    a.can_comment = engine.can_view(actor, req)
    a.can_cc = engine.is_participant(actor.user_id, req)
    return a


def waiting_for(req: ApprovalRequest) -> list[str]:
    """The names of the people the request waits for now (a delegate as "X（代Y）")."""
    from office.approvals.sheet import who
    from office.auth.models import User

    if req.state != RequestState.RUNNING:
        return []
    rows = db.session.execute(select(Task.assignee_id, Task.on_behalf_of_id).where(
        Task.request_id == req.id, Task.state == TaskState.OPEN).order_by(Task.seq, Task.id)).all()
    ids = {i for r in rows for i in r if i}
    names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    return list(dict.fromkeys(who(names.get(a, ""), names.get(b, "") if b else "") for a, b in rows))


def summary(req: ApprovalRequest) -> str:
    return subjects.summary_of(req.subject_type, req.subject_id)


def subject_url(req: ApprovalRequest) -> str | None:
    st = subjects.get_subject(req.subject_type)
    if st is None or st.url is None:
        return None
    try:
        return st.url(req.subject_id)
    except Exception:  # noqa: BLE001
        return None
