"""The approval engine (审批引擎): starting requests, entering nodes, and every action on them.

Each public function is one transaction: it locks the request row (``SELECT ... FOR UPDATE``),
checks the version the page was rendered with, changes state, writes the timeline, the audit
event and the notifications, and commits. A node's completion is decided under that lock, so it
fires exactly once.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.approvals import expr, resolve, subjects
from office.approvals.flows import flow_usable_by, get_flow
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
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
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
        kind=kind, actor_id=actor.user_id if actor else None, actor_name=actor.name if actor else "",
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


def _assign(user_id: int) -> tuple[int, int | None]:
    """Route to the delegate (代理) when the user has one today."""
    d = delegate_for(user_id)
    if d is not None and d.id != user_id:
        return d.id, user_id
    return user_id, None


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
        if ntype == NodeType.CC:
            _add_cc(req, users, None, idx)
            _timeline(req, "cc", SYSTEM, node_index=idx, detail={"users": users})
            idx += 1
            continue
        if ntype == NodeType.SINGLE:
            users = users[:1]
        tasks = []
        for i, uid in enumerate(users):
            assignee, principal = _assign(uid)
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


# --- starting ----------------------------------------------------------------------------------


def start(actor: Actor, *, subject_type: str, subject_id, title: str, flow, fields: dict | None = None,
          commit: bool = True) -> ApprovalRequest:
    """Submit a subject for approval with a flow (its current version is kept for this request)."""
    if actor.user_id is None or actor.unit_id is None:
        raise PermissionDenied(_("Choose the post you act for before submitting."))
    if subjects.get_subject(subject_type) is None:
        raise ValidationError(_("Unknown subject type."))
    flow = get_flow(flow)
    if not flow.active or flow.current_version is None or not flow_usable_by(flow, actor):
        raise ValidationError(_("That flow is not available."))
    if flow.subject_type and flow.subject_type != subject_type:
        raise ValidationError(_("That flow is not for this kind of item."))
    title = (title or "").strip()[:200]
    if not title:
        raise ValidationError(_("A title is required."))
    existing = db.session.execute(select(ApprovalRequest.id).where(
        ApprovalRequest.subject_type == subject_type, ApprovalRequest.subject_id == str(subject_id),
        ApprovalRequest.state.in_([RequestState.RUNNING, RequestState.RETURNED]))).first()
    if existing:
        raise Conflict(_("This item is already in an approval."))
    now = utcnow()
    unit = db.session.get(Unit, actor.unit_id)
    req = ApprovalRequest(subject_type=subject_type, subject_id=str(subject_id), title=title,
                          requester_id=actor.user_id, requester_post_id=actor.post_id, unit_id=unit.id,
                          unit_path=unit.path, flow_version_id=flow.current_version_id,
                          state=RequestState.RUNNING, node_index=0, version=1,
                          fields_json=json.dumps(fields or {}, ensure_ascii=False, default=str),
                          created_at=now, submitted_at=now, updated_at=now)
    db.session.add(req)
    db.session.flush()
    _timeline(req, "submit", actor, detail={"flow": flow.key, "version": flow.current_version.number})
    _enter(req, 0, actor, set())
    _audit(actor, "submit", req, None, {**_snapshot(req), "flow": flow.key,
                                        "flow_version": flow.current_version.number,
                                        "subject": f"{subject_type}:{subject_id}"})
    if commit:
        db.session.commit()
    return req


def resubmit(actor: Actor, request_id: int, *, version=None, fields: dict | None = None,
             commit: bool = True) -> ApprovalRequest:
    """The drafter sends a returned request through the flow again from the first node."""
    req = lock_request(request_id)
    if req.requester_id != actor.user_id:
        raise _hidden_or_denied(actor, req)
    if req.state != RequestState.RETURNED:
        raise Conflict(_("Only a returned request can be resubmitted."))
    _check_version(req, version)
    before = _snapshot(req)
    if fields is not None:
        req.fields_json = json.dumps(fields, ensure_ascii=False, default=str)
    req.state = RequestState.RUNNING
    req.acted = False
    req.submitted_at = utcnow()
    _bump(req)
    _timeline(req, "resubmit", actor, node_index=0)
    _enter(req, 0, actor, set())
    _audit(actor, "resubmit", req, before, _snapshot(req))
    if commit:
        db.session.commit()
    return req


# --- who may do what ---------------------------------------------------------------------------


def is_participant(user_id: int, req: ApprovalRequest) -> bool:
    if req.requester_id == user_id:
        return True
    hit = db.session.execute(select(Task.id).where(
        Task.request_id == req.id, (Task.assignee_id == user_id) | (Task.on_behalf_of_id == user_id))
        .limit(1)).first()
    if hit:
        return True
    return db.session.execute(select(CarbonCopy.id).where(
        CarbonCopy.request_id == req.id, CarbonCopy.user_id == user_id)).first() is not None


def can_view(actor: Actor, req: ApprovalRequest) -> bool:
    if actor.is_system:
        return True
    if actor.user_id is not None and is_participant(actor.user_id, req):
        return True
    # A delegate sees what his principals see.
    from office.auth.service import principals_of

    if actor.user_id is not None and any(is_participant(p.id, req) for p in principals_of(actor.user_id)):
        return True
    return bool(actor.unit_path) and req.unit_path.startswith(actor.unit_path) and \
        actor.has_role("leader", "unit_admin")


def _hidden_or_denied(actor: Actor, req: ApprovalRequest):
    if not can_view(actor, req):
        return NotFound(_("No such approval request."))
    return PermissionDenied(_("You cannot do that on this request."))


def acting_for(actor: Actor, task: Task) -> tuple[bool, int | None]:
    """(may act, on behalf of whom) for an actor on a task, whatever its state."""
    uid = actor.user_id
    if uid is None:
        return False, None
    if uid == task.assignee_id:
        return True, task.on_behalf_of_id
    if task.on_behalf_of_id is not None and uid == task.on_behalf_of_id:
        return True, None
    d = delegate_for(task.assignee_id)
    if d is not None and d.id == uid:
        return True, task.assignee_id
    return False, None


def _task_for(actor: Actor, req: ApprovalRequest, task_id: int, version) -> tuple[Task, int | None]:
    task = _fresh(select(Task).where(Task.id == task_id)).scalar_one_or_none()
    if task is None or task.request_id != req.id:
        raise NotFound(_("No such approval task."))
    ok, behalf = acting_for(actor, task)
    if not ok:
        raise _hidden_or_denied(actor, req)
    if task.state != TaskState.OPEN or req.state != RequestState.RUNNING:
        if task.state == TaskState.PENDING and req.state == RequestState.RUNNING:
            raise Conflict(_("It is not your turn on this request yet."))
        raise Conflict(_("This task has already been handled."))
    _check_version(req, version)
    return task, behalf


def _lock_task(actor: Actor, task_id: int, version) -> tuple[ApprovalRequest, Task, int | None]:
    rid = db.session.execute(select(Task.request_id).where(Task.id == task_id)).scalar_one_or_none()
    if rid is None:
        raise NotFound(_("No such approval task."))
    req = lock_request(rid)
    task, behalf = _task_for(actor, req, task_id, version)
    return req, task, behalf


def _decide(task: Task, state: TaskState, actor: Actor, opinion: str, now) -> None:
    task.state = state
    task.decided_at = now
    task.decided_by_id = actor.user_id
    task.opinion = opinion
    if state == TaskState.APPROVED:
        task.signature_id = _signature_for(actor.user_id)


# --- actions on a task -------------------------------------------------------------------------


def approve(actor: Actor, task_id: int, *, opinion: str = "", version=None, commit: bool = True) -> Task:
    """Approve (同意); the opinion defaults to "同意"."""
    req, task, behalf = _lock_task(actor, task_id, version)
    _approve_locked(req, task, actor, behalf, (opinion or "").strip() or DEFAULT_OPINION)
    if commit:
        db.session.commit()
    return task


def _approve_locked(req: ApprovalRequest, task: Task, actor: Actor, behalf: int | None, opinion: str,
                    kind: str = "approve") -> None:
    now = utcnow()
    before = _snapshot(req, task)
    node = _nodes(req)[task.node_index]
    _decide(task, TaskState.APPROVED, actor, opinion, now)
    if actor.user_id is not None:
        req.acted = True
    _bump(req)
    _timeline(req, kind, actor, task=task, on_behalf_of_id=behalf, opinion=opinion,
              signature_id=task.signature_id)
    if node["type"] == NodeType.ANY and task.origin != "before":
        # 或签: the first approval decides; others are cancelled (except signers added after this one).
        _cancel([t for t in _active_tasks(req)
                 if not (t.origin == "after" and t.parent_task_id == task.id)], now)
    db.session.flush()
    if _progress(req, node, now):
        _timeline(req, "node_done", SYSTEM, node_index=task.node_index)
        _enter(req, task.node_index + 1, actor, _approvers_of_entry(req))
    _audit(actor, kind, req, before, {**_snapshot(req, task), "opinion": opinion}, behalf)


def reject(actor: Actor, task_id: int, *, opinion: str, version=None, commit: bool = True) -> Task:
    """Reject (不同意): an opinion is required and the request ends."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError(_("Give a reason for rejecting."))
    req, task, behalf = _lock_task(actor, task_id, version)
    before = _snapshot(req, task)
    now = utcnow()
    _decide(task, TaskState.REJECTED, actor, opinion, now)
    req.acted = True
    _bump(req)
    _timeline(req, "reject", actor, task=task, on_behalf_of_id=behalf, opinion=opinion,
              signature_id=_signature_for(actor.user_id))
    _finish(req, RequestState.REJECTED, actor)
    _audit(actor, "reject", req, before, {**_snapshot(req, task), "opinion": opinion}, behalf)
    if commit:
        db.session.commit()
    return task


def return_task(actor: Actor, task_id: int, *, to: str | int = "drafter", opinion: str = "",
                version=None, commit: bool = True) -> Task:
    """Return (退回) to the drafter or to an earlier node, which is entered afresh."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError(_("Say why you return it."))
    req, task, behalf = _lock_task(actor, task_id, version)
    before = _snapshot(req, task)
    now = utcnow()
    if to != "drafter":
        try:
            target = int(to)
        except (TypeError, ValueError):
            raise ValidationError(_("Choose where to return it.")) from None
        if not 0 <= target < task.node_index:
            raise ValidationError(_("You can only return to an earlier step."))
        if _nodes(req)[target]["type"] == NodeType.CC:
            raise ValidationError(_("You cannot return to a copy-only step."))
    _decide(task, TaskState.RETURNED, actor, opinion, now)
    req.acted = True
    req.reentry_upto = max(req.reentry_upto, task.node_index)
    _bump(req)
    _cancel(_all_active_tasks(req), now)
    _timeline(req, "return", actor, task=task, on_behalf_of_id=behalf, opinion=opinion,
              detail={"to": to})
    if to == "drafter":
        _finish(req, RequestState.RETURNED, actor)
    else:
        _enter(req, target, actor, set())
    _audit(actor, "return", req, before, {**_snapshot(req, task), "to": to, "opinion": opinion}, behalf)
    if commit:
        db.session.commit()
    return task


def _target_user(user_id) -> User:
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        user = None
    if user is None or not user.active:
        raise ValidationError(_("Choose an active user."))
    return user


def _already_in_node(req: ApprovalRequest, user_id: int) -> bool:
    return any(user_id in (t.assignee_id, t.on_behalf_of_id) for t in _active_tasks(req))


def transfer(actor: Actor, task_id: int, *, to_user_id, opinion: str = "", version=None,
             commit: bool = True) -> Task:
    """Transfer (转交) the task to another person; the new task takes its place."""
    req, task, behalf = _lock_task(actor, task_id, version)
    user = _target_user(to_user_id)
    if user.id in (task.assignee_id, task.on_behalf_of_id, actor.user_id) or _already_in_node(req, user.id):
        raise ValidationError(_("That person already has this task."))
    before = _snapshot(req, task)
    now = utcnow()
    _decide(task, TaskState.TRANSFERRED, actor, (opinion or "").strip(), now)
    req.acted = True
    _bump(req)
    assignee, principal = _assign(user.id)
    new = Task(request_id=req.id, node_index=task.node_index, entry_no=task.entry_no, seq=task.seq,
               assignee_id=assignee, on_behalf_of_id=principal, origin=task.origin if task.origin in (
                   "before", "after") else "transfer", parent_task_id=task.parent_task_id or task.id,
               created_at=now)
    _open(new, _nodes(req)[task.node_index], now)
    new.due_at = task.due_at or new.due_at
    db.session.add(new)
    db.session.flush()
    _timeline(req, "transfer", actor, task=task, on_behalf_of_id=behalf, opinion=task.opinion,
              detail={"to": user.id, "to_name": user.name, "new_task": new.id})
    _notify_open(req, [new])
    _audit(actor, "transfer", req, before, {**_snapshot(req, task), "to": user.id, "new_task": new.id}, behalf)
    if commit:
        db.session.commit()
    return new


ADD_MODES = ("before", "after", "alongside")


def add_signer(actor: Actor, task_id: int, *, user_id, mode: str, opinion: str = "", version=None,
               commit: bool = True) -> Task:
    """Add a signer (加签): before this task, after it, or alongside it."""
    if mode not in ADD_MODES:
        raise ValidationError(_("Choose before, after or alongside."))
    req, task, behalf = _lock_task(actor, task_id, version)
    user = _target_user(user_id)
    if user.id in (task.assignee_id, task.on_behalf_of_id, actor.user_id) or _already_in_node(req, user.id):
        raise ValidationError(_("That person already has a task in this step."))
    before = _snapshot(req, task)
    now = utcnow()
    node = _nodes(req)[task.node_index]
    assignee, principal = _assign(user.id)
    new = Task(request_id=req.id, node_index=task.node_index, entry_no=task.entry_no, assignee_id=assignee,
               on_behalf_of_id=principal, origin=mode, parent_task_id=task.id, created_at=now,
               state=TaskState.PENDING)
    if mode == "before":
        new.seq = task.seq - 1
        _open(new, node, now)
        task.state = TaskState.PENDING
    elif mode == "after":
        new.seq = task.seq + 1
    else:
        new.seq = task.seq
        _open(new, node, now)
    db.session.add(new)
    req.acted = True
    _bump(req)
    db.session.flush()
    _timeline(req, "add_signer", actor, task=task, on_behalf_of_id=behalf, opinion=(opinion or "").strip(),
              detail={"mode": mode, "user": user.id, "user_name": user.name, "new_task": new.id})
    _notify_open(req, [new])
    _audit(actor, "add_signer", req, before, {**_snapshot(req, task), "mode": mode, "user": user.id}, behalf)
    if commit:
        db.session.commit()
    return new


# --- actions on a request ----------------------------------------------------------------------


def withdraw(actor: Actor, request_id: int, *, reason: str = "", version=None, commit: bool = True):
    """Withdraw (撤回): the requester, until an approver has acted. A subject module may also
    withdraw (as a system actor) a request returned to the drafter that its subject superseded."""
    req = lock_request(request_id)
    if req.requester_id != actor.user_id and not (actor.is_system and req.state == RequestState.RETURNED):
        raise _hidden_or_denied(actor, req)
    if req.state not in (RequestState.RUNNING, RequestState.RETURNED):
        raise Conflict(_("This request has already ended."))
    if req.state == RequestState.RUNNING and req.acted:
        raise Conflict(_("An approver has already acted; the request can no longer be withdrawn."))
    _check_version(req, version)
    before = _snapshot(req)
    _bump(req)
    _timeline(req, "withdraw", actor, opinion=(reason or "").strip())
    _finish(req, RequestState.WITHDRAWN, actor)
    _audit(actor, "withdraw", req, before, _snapshot(req))
    if commit:
        db.session.commit()
    return req


def urge(actor: Actor, request_id: int, *, message: str = "", commit: bool = True) -> int:
    """Urge (催办): remind the open tasks' assignees; at most once per interval per request."""
    req = lock_request(request_id)
    if req.requester_id != actor.user_id:
        raise _hidden_or_denied(actor, req)
    if req.state != RequestState.RUNNING:
        raise Conflict(_("Only a request in progress can be urged."))
    now = utcnow()
    minutes = current_app.config.get("APPROVALS_URGE_MINUTES", 30)
    if req.last_urged_at is not None and now - req.last_urged_at < timedelta(minutes=minutes):
        raise Conflict(_("You urged this request recently. Try again in %(m)s minutes.", m=minutes))
    req.last_urged_at = now
    open_ids = sorted({t.assignee_id for t in _active_tasks(req) if t.state == TaskState.OPEN})
    notify(open_ids, "urge", _("Please handle: %(title)s", title=req.title), body=(message or "")[:500],
           url=request_url(req.id), unit_id=req.unit_id)
    _timeline(req, "urge", actor, opinion=(message or "").strip()[:500], detail={"users": open_ids})
    _audit(actor, "urge", req, None, {"users": open_ids})
    if commit:
        db.session.commit()
    return len(open_ids)


def comment(actor: Actor, request_id: int, *, text: str, commit: bool = True) -> ApprovalAction:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write a comment first."))
    req = lock_request(request_id)
    if not can_view(actor, req) or actor.user_id is None:
        raise NotFound(_("No such approval request."))
    row = _timeline(req, "comment", actor, opinion=text[:2000])
    _audit(actor, "comment", req, None, {"comment": text[:2000]})
    if commit:
        db.session.commit()
    return row


def carbon_copy(actor: Actor, request_id: int, *, user_ids, commit: bool = True) -> list[int]:
    """Copy (抄送) the request to people for information: the requester or an approver may."""
    req = lock_request(request_id)
    if actor.user_id is None or not is_participant(actor.user_id, req):
        raise _hidden_or_denied(actor, req)
    users = [_target_user(u).id for u in user_ids or []]
    if not users:
        raise ValidationError(_("Choose at least one person."))
    new = _add_cc(req, users, actor.user_id, None)
    _timeline(req, "cc", actor, detail={"users": new})
    _audit(actor, "cc", req, None, {"users": new})
    if commit:
        db.session.commit()
    return new
