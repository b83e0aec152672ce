"""Actions on an approval request as a whole: submit (提交), resubmit, withdraw (撤回), urge (催办),
comment and copy (抄送)."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.approvals import choices, subjects, todo
from office.approvals.access import _hidden_or_denied, can_view, is_participant
from office.approvals.flows import flow_usable_by, get_flow
from office.approvals.models import ApprovalAction, ApprovalRequest, RequestState, TaskState
from office.approvals.task_actions import _target_user
from office.approvals.transitions import (
    _active_tasks,
    _add_cc,
    _audit,
    _bump,
    _check_version,
    _enter,
    _finish,
    _snapshot,
    _timeline,
    lock_request,
    request_url,
)
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.notifications.service import notify
from office.org.models import Unit
from office.timeutil import utcnow

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
    todo.touch(req.id)  # inbox: the first tasks' to-do items are written at commit
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
    people = [_target_user(u) for u in user_ids or []]
    users = [u.id for u in people]
    if not users:
        raise ValidationError(_("Choose at least one person."))
    choices.require(actor, choices.CC, users)
    new = _add_cc(req, users, actor.user_id, None)
    _timeline(req, "cc", actor, detail={"users": new, "names": [u.name for u in people if u.id in new]})
    _audit(actor, "cc", req, None, {"users": new})
    if commit:
        db.session.commit()
    return new
