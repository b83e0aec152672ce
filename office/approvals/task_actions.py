"""Actions on an approval task: approve (同意), reject (不同意), return (退回), transfer (转交) and
add a signer (加签)."""

from __future__ import annotations

from flask_babel import gettext as _

from office.actor import Actor
from office.approvals import choices, subjects
from office.approvals.access import _lock_task
from office.approvals.models import ApprovalRequest, NodeType, RequestState, Task, TaskState
from office.approvals.transitions import (
    DEFAULT_OPINION,
    SYSTEM,
    _active_tasks,
    _all_active_tasks,
    _approvers_of_entry,
    _assign,
    _audit,
    _bump,
    _cancel,
    _enter,
    _finish,
    _nodes,
    _notify_open,
    _open,
    _progress,
    _signature_for,
    _snapshot,
    _timeline,
)
from office.auth.models import User
from office.errors import ValidationError
from office.extensions import db
from office.timeutil import utcnow


def _decide(task: Task, state: TaskState, actor: Actor, opinion: str, now) -> None:
    task.state = state
    task.decided_at = now
    task.decided_by_id = actor.user_id
    task.opinion = opinion
    if state == TaskState.APPROVED:
        task.signature_id = _signature_for(actor.user_id)


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


def _check_not_excluded(req: ApprovalRequest, user: User) -> None:
    reason = subjects.excluded_of(req).get(user.id)
    if reason:
        raise ValidationError(_("%(name)s may not decide this request: %(reason)s.", name=user.name, reason=reason))


def _already_in_node(req: ApprovalRequest, user_id: int) -> bool:
    return any(user_id in (t.assignee_id, t.on_behalf_of_id) for t in _active_tasks(req))


def transfer(actor: Actor, task_id: int, *, to_user_id, opinion: str = "", version=None,
             commit: bool = True) -> Task:
    """Transfer (转交) the task to another person; the new task takes its place."""
    req, task, behalf = _lock_task(actor, task_id, version)
    user = _target_user(to_user_id)
    choices.require(actor, choices.TRANSFER, [user.id])
    _check_not_excluded(req, user)
    if user.id in (task.assignee_id, task.on_behalf_of_id, actor.user_id) or _already_in_node(req, user.id):
        raise ValidationError(_("That person already has this task."))
    before = _snapshot(req, task)
    now = utcnow()
    _decide(task, TaskState.TRANSFERRED, actor, (opinion or "").strip(), now)
    req.acted = True
    _bump(req)
    assignee, principal = _assign(user.id, subjects.excluded_of(req))
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
    choices.require(actor, choices.ADD_SIGNER, [user.id])
    _check_not_excluded(req, user)
    if user.id in (task.assignee_id, task.on_behalf_of_id, actor.user_id) or _already_in_node(req, user.id):
        raise ValidationError(_("That person already has a task in this step."))
    before = _snapshot(req, task)
    now = utcnow()
    node = _nodes(req)[task.node_index]
    assignee, principal = _assign(user.id, subjects.excluded_of(req))
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
