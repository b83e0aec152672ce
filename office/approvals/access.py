"""Who may see and act on an approval request and its tasks, and the locked lookup of the task an
actor acts on."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.approvals import subjects
from office.approvals.models import ApprovalRequest, CarbonCopy, RequestState, Task, TaskState
from office.approvals.transitions import _check_version, _fresh, lock_request
from office.auth.service import delegate_for
from office.errors import Conflict, NotFound, PermissionDenied
from office.extensions import db, session_memo

_PARTICIPANT = "approvals.participant"


def is_participant(user_id: int, req: ApprovalRequest) -> bool:
    """The user asked for, decides on or was copied on the request. A request page asks this a few
    times (may he see it, comment, copy); it is read once until the session writes or ends."""
    if req.requester_id == user_id:
        return True
    memo = session_memo(_PARTICIPANT)
    key = (user_id, req.id)
    if key not in memo:
        memo[key] = _is_participant(user_id, req)
    return memo[key]


def note_participants(req: ApprovalRequest, tasks: list[Task]) -> None:
    """The request's tasks have been read: their assignees (and those they act for) take part."""
    memo = session_memo(_PARTICIPANT)
    for t in tasks:
        for uid in (t.assignee_id, t.on_behalf_of_id):
            if uid is not None:
                memo[(uid, req.id)] = True


def _is_participant(user_id: int, req: ApprovalRequest) -> bool:
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
    if bool(actor.unit_path) and req.unit_path.startswith(actor.unit_path) and actor.has_role("leader", "unit_admin"):
        return True
    return subjects.may_view_of(actor, req)


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
    reason = subjects.excluded_of(req).get(actor.user_id)
    if reason:
        raise PermissionDenied(_("You may not decide this request: %(reason)s.", reason=reason))
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
