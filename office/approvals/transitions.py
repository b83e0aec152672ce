"""The approval engine's state transitions (审批引擎): the shared pieces of every action (row lock,
version check, timeline, audit) and entering, progressing and finishing a flow's nodes.

The public actions live in ``task_actions`` (on a task) and ``request_actions`` (on a request);
``access`` answers who may act; ``engine`` gathers the public API. Each action is one transaction:
it locks the request row (``SELECT ... FOR UPDATE``), checks the version the page was rendered
with, changes state, writes the timeline, the audit event and the notifications, and commits. A
node's completion is decided under that lock, so it fires exactly once.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.approvals import expr, resolve, subjects, todo
from office.approvals.models import (
    ACTIVE_TASK_STATES,
    ApprovalAction,
    ApprovalRequest,
    CarbonCopy,
    NodeType,
    RequestState,
    Signature,
    Task,
    TaskState,
)
from office.audit import service as audit
from office.auth.models import User
from office.auth.service import delegate_for
from office.errors import Conflict, NotFound, ValidationError
from office.extensions import db
from office.notifications.service import notify
from office.org.models import Unit
from office.timeutil import utcnow

DEFAULT_OPINION = "同意"
SEQ_STEP = 1000
SYSTEM = Actor.system("approvals")


# --- helpers -----------------------------------------------------------------------------------


def request_url(req_id: int) -> str:
    return f"/approvals/{req_id}"


def _fresh(stmt):
    return db.session.execute(stmt.execution_options(populate_existing=True))


def lock_request(request_id: int) -> ApprovalRequest:
    """Lock the request row for this transaction and reload it (and nothing stale with it)."""
    req = _fresh(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update()) \
        .scalar_one_or_none()
    if req is None:
        raise NotFound(_("No such approval request."))
    todo.touch(req.id)  # inbox: the tasks' to-do items are rewritten at commit, under this lock
    return req


def _check_version(req: ApprovalRequest, version) -> None:
    if version in (None, ""):
        return
    try:
        v = int(version)
    except (TypeError, ValueError):
        raise ValidationError(_("Bad version.")) from None
    if v != req.version:
        raise Conflict(_("This request was changed by someone else. Reload the page and try again."))


def _bump(req: ApprovalRequest) -> None:
    req.version += 1
    req.updated_at = utcnow()


def _nodes(req: ApprovalRequest) -> list[dict]:
    return req.flow_version.nodes


def _definition(req: ApprovalRequest) -> dict:
    return req.flow_version.definition


def _user_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    u = db.session.get(User, user_id)
    return u.name if u else ""


def _as(actor: Actor, on_behalf_of_id: int | None) -> Actor:
    if not on_behalf_of_id:
        return actor
    return dataclasses.replace(actor, on_behalf_of_id=on_behalf_of_id,
                               on_behalf_of_name=_user_name(on_behalf_of_id))


def _snapshot(req: ApprovalRequest, task: Task | None = None) -> dict:
    snap = {"state": req.state, "node": req.node_index, "version": req.version}
    if task is not None:
        snap["task"] = task.id
        snap["task_state"] = task.state
    return snap


def _timeline(req: ApprovalRequest, kind: str, actor: Actor | None, *, task: Task | None = None,
              on_behalf_of_id: int | None = None, opinion: str = "", signature_id: int | None = None,
              detail: dict | None = None, node_index: int | None = None) -> ApprovalAction:
    row = ApprovalAction(
        request_id=req.id, task_id=task.id if task else None,
        node_index=node_index if node_index is not None else (task.node_index if task else req.node_index),
        # A system step (step completed, flow finished, auto-pass) has no actor: no name is recorded.
        kind=kind, actor_id=actor.user_id if actor else None,
        actor_name=actor.name if actor and not actor.is_system else "",
        on_behalf_of_id=on_behalf_of_id, on_behalf_of_name=_user_name(on_behalf_of_id),
        opinion=opinion or "", signature_id=signature_id,
        detail_json=json.dumps(detail or {}, ensure_ascii=False, default=str), created_at=utcnow())
    db.session.add(row)
    return row


def _audit(actor: Actor, action: str, req: ApprovalRequest, before, after, on_behalf_of_id=None):
    audit.record(_as(actor, on_behalf_of_id), f"approvals.{action}", object_type="approval_request",
                 object_id=req.id, before=before, after=after, unit_id=req.unit_id)


def _active_tasks(req: ApprovalRequest) -> list[Task]:
    return list(_fresh(select(Task).where(
        Task.request_id == req.id, Task.entry_no == req.entry_no, Task.state.in_(ACTIVE_TASK_STATES))
        .order_by(Task.seq, Task.id)).scalars())


def _all_active_tasks(req: ApprovalRequest) -> list[Task]:
    return list(_fresh(select(Task).where(
        Task.request_id == req.id, Task.state.in_(ACTIVE_TASK_STATES))).scalars())


def _cancel(tasks, now) -> None:
    for t in tasks:
        t.state = TaskState.CANCELLED
        t.decided_at = now


def _fields(req: ApprovalRequest) -> dict:
    f = dict(req.fields)
    unit = db.session.get(Unit, req.unit_id)
    f.setdefault("level", unit.level if unit else "")
    f.setdefault("subject_type", req.subject_type)
    return f


def _condition_holds(cond: str, req: ApprovalRequest) -> bool:
    try:
        return bool(expr.evaluate(cond, _fields(req)))
    except expr.ExpressionError:
        return False


def _signature_for(user_id: int | None) -> int | None:
    if user_id is None:
        return None
    return db.session.execute(
        select(Signature.id).where(Signature.user_id == user_id, Signature.active.is_(True))
        .order_by(Signature.id.desc())).scalars().first()


def _assign(user_id: int, excluded: dict[int, str] | None = None) -> tuple[int, int | None]:
    """Route to the delegate (代理) when the user has one today, unless the request's subject keeps
    the delegate from deciding it (then the user keeps the task himself)."""
    d = delegate_for(user_id)
    if d is not None and d.id != user_id and d.id not in (excluded or {}):
        return d.id, user_id
    return user_id, None


def _pass_over_excluded(req: ApprovalRequest, idx: int, node: dict, users: list[int]) -> list[int]:
    """Separated duties: leave out the people the subject keeps from deciding (the next eligible
    one takes the step); when nobody is left the action is refused with the subject's reasons."""
    excluded = subjects.excluded_of(req)
    kept = [u for u in users if u not in excluded]
    if len(kept) == len(users):
        return users
    reasons = "; ".join(dict.fromkeys(excluded[u] for u in users if u in excluded))
    if not kept:
        raise ValidationError(_("Nobody else can take the step “%(name)s”: %(reasons)s. Ask the unit "
                                "administrator to add a person for the step or to allow combined duties.",
                                name=node.get("name", ""), reasons=reasons))
    passed = [u for u in users if u in excluded]
    _timeline(req, "passed_over", SYSTEM, node_index=idx, detail={"users": passed, "reasons": reasons})
    _audit(SYSTEM, "passed_over", req, None, {"node": idx, "users": passed, "reasons": reasons})
    return kept


def _notify_open(req: ApprovalRequest, tasks) -> None:
    ids = [t.assignee_id for t in tasks if t.state == TaskState.OPEN]
    if ids:
        notify(ids, "assignment", _("Approval waiting for you: %(title)s", title=req.title),
               url=request_url(req.id), unit_id=req.unit_id)


def _open(task: Task, node: dict, now) -> None:
    task.state = TaskState.OPEN
    task.opened_at = now
    hours = node.get("deadline_hours")
    task.due_at = now + timedelta(hours=float(hours)) if hours else None
    task.reminded_at = task.overdue_notified_at = task.escalated_at = None


# --- entering nodes ----------------------------------------------------------------------------


def _enter(req: ApprovalRequest, idx: int, actor: Actor, prev_approvers: set[int]) -> None:
    """Enter node ``idx`` (and skip forward over passed conditions, CC nodes and auto-passes)."""
    nodes = _nodes(req)
    definition = _definition(req)
    now = utcnow()
    while True:
        if idx >= len(nodes):
            _finish(req, RequestState.APPROVED, actor)
            return
        node = nodes[idx]
        req.node_index = idx
        req.entry_no += 1
        cond = node.get("condition")
        if cond and not _condition_holds(cond, req):
            _timeline(req, "skip", SYSTEM, node_index=idx, detail={"reason": "condition", "condition": cond})
            idx += 1
            continue
        unit = db.session.get(Unit, req.unit_id)
        users = resolve.resolve(node["assignees"], unit, request=req)
        if not users:
            policy = node.get("empty", "admin")
            reason = {"node": idx, "name": node.get("name"), "policy": policy,
                      "assignees": node["assignees"]}
            if policy == "skip":
                _timeline(req, "empty", SYSTEM, node_index=idx, detail={**reason, "outcome": "skipped"})
                _audit(actor, "empty_assignee", req, None, {**reason, "outcome": "skipped"})
                idx += 1
                continue
            admins = resolve.unit_admins(unit) if policy == "admin" else []
            if not admins:
                raise ValidationError(_(
                    "Nobody can handle the step “%(name)s” for your unit (no one holds the required post). "
                    "Ask your unit administrator to fill the post, or choose another flow.",
                    name=node.get("name", "")))
            users = admins
            _timeline(req, "empty", SYSTEM, node_index=idx, detail={**reason, "outcome": "unit_admin"})
            _audit(actor, "empty_assignee", req, None, {**reason, "outcome": "unit_admin", "users": admins})
        ntype = node["type"]
        if ntype != NodeType.CC:
            users = _pass_over_excluded(req, idx, node, users)
        if ntype == NodeType.CC:
            _add_cc(req, users, None, idx)
            _timeline(req, "cc", SYSTEM, node_index=idx, detail={"users": users})
            idx += 1
            continue
        if ntype == NodeType.SINGLE:
            users = users[:1]
        tasks = []
        excluded = subjects.excluded_of(req)
        for i, uid in enumerate(users):
            assignee, principal = _assign(uid, excluded)
            seq = i * SEQ_STEP if ntype == NodeType.SEQUENTIAL else 0
            t = Task(request_id=req.id, node_index=idx, entry_no=req.entry_no, seq=seq, assignee_id=assignee,
                     on_behalf_of_id=principal, state=TaskState.PENDING, origin="flow", created_at=now)
            if seq == 0:
                _open(t, node, now)
            db.session.add(t)
            tasks.append(t)
        db.session.flush()
        initially_open = [t for t in tasks if t.state == TaskState.OPEN]
        # Auto-pass (自动通过): the same person approved the node just before, and this node is
        # reached for the first time (re-entered nodes are re-armed, never auto-passed).
        if definition.get("auto_pass_same_person") and prev_approvers and idx > req.reentry_upto:
            for t in tasks:
                if t.state == TaskState.OPEN and (t.on_behalf_of_id or t.assignee_id) in prev_approvers:
                    t.state = TaskState.AUTO_PASSED
                    t.decided_at = now
                    t.opinion = DEFAULT_OPINION
                    _timeline(req, "auto_pass", SYSTEM, task=t, on_behalf_of_id=t.on_behalf_of_id or t.assignee_id,
                              opinion=DEFAULT_OPINION, detail={"user": t.on_behalf_of_id or t.assignee_id})
                    _audit(SYSTEM, "auto_pass", req, None, {"task": t.id, "user": t.assignee_id, "node": idx})
                    if ntype == NodeType.ANY:
                        _cancel([o for o in tasks if o.state in ACTIVE_TASK_STATES], now)
                        break
        if _progress(req, node, now):
            prev_approvers = _approvers_of_entry(req)
            idx += 1
            continue
        _notify_open(req, initially_open)
        return


def _progress(req: ApprovalRequest, node: dict, now) -> bool:
    """Open the next wave of the current node; True when nothing is left (the node is complete)."""
    active = _active_tasks(req)
    if not active:
        return True
    low = min(t.seq for t in active)
    opened = []
    for t in active:
        if t.state == TaskState.PENDING and t.seq == low:
            _open(t, node, now)
            opened.append(t)
    db.session.flush()
    _notify_open(req, opened)
    return False


def _approvers_of_entry(req: ApprovalRequest) -> set[int]:
    rows = db.session.execute(select(Task.assignee_id, Task.on_behalf_of_id).where(
        Task.request_id == req.id, Task.entry_no == req.entry_no,
        Task.state.in_([TaskState.APPROVED, TaskState.AUTO_PASSED]))).all()
    return {r[1] or r[0] for r in rows} | {r[0] for r in rows}


def _finish(req: ApprovalRequest, state: RequestState, actor: Actor) -> None:
    now = utcnow()
    _cancel(_all_active_tasks(req), now)
    req.state = state
    req.finished_at = now if state != RequestState.RETURNED else None
    _timeline(req, "finish", SYSTEM, detail={"state": state.value})
    notify([req.requester_id], "info", _("Your request “%(title)s” is %(state)s.", title=req.title,
                                          state=_state_label(state)), url=request_url(req.id),
           unit_id=req.unit_id)
    subjects.fire(req.subject_type, state.value, req)


def _state_label(state) -> str:
    return {"running": _("in progress"), "approved": _("approved"), "rejected": _("rejected"),
            "returned": _("returned"), "withdrawn": _("withdrawn")}.get(str(state), str(state))


def _add_cc(req: ApprovalRequest, user_ids, by_id: int | None, node_index: int | None) -> list[int]:
    have = set(db.session.execute(select(CarbonCopy.user_id).where(CarbonCopy.request_id == req.id)).scalars())
    new = [u for u in dict.fromkeys(user_ids) if u not in have]
    for u in new:
        db.session.add(CarbonCopy(request_id=req.id, user_id=u, by_id=by_id, node_index=node_index,
                                  created_at=utcnow()))
    if new:
        notify(new, "info", _("Copied to you: %(title)s", title=req.title), url=request_url(req.id),
               unit_id=req.unit_id)
    return new
