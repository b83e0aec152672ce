"""Deadlines (时限): a reminder before a node's deadline, a notice at it, escalation to the
assignee's leader after it (or auto-approval when the node says so).

``scan_deadlines(now)`` finds due tasks and enqueues one ``approvals.fire_deadline`` job per task; a
scheduler runs it: every worker calls it once a minute (``register_periodic``), and ``flask approvals-scan`` runs it by hand.
Each firing locks the request row like a manual action does, so a deadline firing together with an
approval yields one outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select

from office.approvals import resolve, transitions
from office.approvals.models import Task, TaskState
from office.approvals.task_actions import _approve_locked
from office.extensions import db
from office.jobs.service import enqueue, job
from office.notifications.service import notify
from office.timeutil import utcnow

DEFAULT_REMIND_BEFORE_HOURS = 2.0
DEFAULT_ESCALATE_AFTER_HOURS = 24.0


def _node_hours(node: dict, key: str, default: float) -> float:
    v = node.get(key)
    return float(v) if v not in (None, "") else default


def _due_candidates(now: datetime) -> list[int]:
    horizon = now + timedelta(hours=current_app.config.get("APPROVALS_MAX_REMIND_BEFORE_HOURS", 72))
    tasks = db.session.execute(
        select(Task).where(
            Task.state == TaskState.OPEN, Task.due_at.isnot(None), Task.due_at <= horizon,
            or_(Task.reminded_at.is_(None), Task.overdue_notified_at.is_(None), Task.escalated_at.is_(None)))
        .order_by(Task.due_at, Task.id).limit(5000)).scalars().all()
    return [t.id for t in tasks if _stages(t, transitions._nodes(t.request)[t.node_index], now)]


def _stages(task: Task, node: dict, now: datetime) -> list[str]:
    """What is due on an open task at ``now``."""
    out = []
    remind_at = task.due_at - timedelta(hours=_node_hours(node, "remind_before_hours", DEFAULT_REMIND_BEFORE_HOURS))
    if task.reminded_at is None and remind_at <= now < task.due_at:
        out.append("remind")
    if task.overdue_notified_at is None and now >= task.due_at:
        out.append("deadline")
    escalate_at = task.due_at + timedelta(hours=_node_hours(node, "escalate_after_hours",
                                                            DEFAULT_ESCALATE_AFTER_HOURS))
    if task.escalated_at is None and now >= escalate_at:
        out.append("escalate")
    return out


def scan_deadlines(now: datetime | None = None, *, inline: bool = False) -> int:
    """Find tasks with something due and fire them (by job, or here when ``inline``)."""
    now = now or utcnow()
    ids = _due_candidates(now)
    if inline:
        return sum(1 for i in ids if fire_deadline(i, now))
    for i in ids:
        enqueue("approvals.fire_deadline", task_id=i, now=now.isoformat())
    db.session.commit()
    return len(ids)


def fire_deadline(task_id: int, now: datetime | None = None) -> list[str]:
    """Apply whatever is due on one task, under the request's row lock. Returns what fired."""
    now = now or utcnow()
    rid = db.session.execute(select(Task.request_id).where(Task.id == task_id)).scalar_one_or_none()
    if rid is None:
        return []
    req = transitions.lock_request(rid)
    task = transitions._fresh(select(Task).where(Task.id == task_id)).scalar_one()
    if task.state != TaskState.OPEN or task.due_at is None or req.state != "running":
        db.session.rollback()
        return []
    node = transitions._nodes(req)[task.node_index]
    fired: list[str] = []
    url = transitions.request_url(req.id)
    stages = _stages(task, node, now)
    if "remind" in stages:
        task.reminded_at = now
        notify([task.assignee_id], "reminder", _("Due soon: %(title)s", title=req.title), url=url,
               unit_id=req.unit_id)
        fired.append("remind")
    if "deadline" in stages:
        task.reminded_at = task.reminded_at or now
        task.overdue_notified_at = now
        notify([task.assignee_id], "deadline", _("Deadline reached: %(title)s", title=req.title), url=url,
               unit_id=req.unit_id)
        fired.append("deadline")
    if "escalate" in stages:
        task.escalated_at = now
        if node.get("timeout") == "approve":
            _approve_locked(req, task, transitions.SYSTEM, task.on_behalf_of_id,
                                   _("Approved automatically after the deadline."), kind="timeout_approve")
            fired.append("auto_approve")
        else:
            target = resolve.escalation_target(task.on_behalf_of_id or task.assignee_id)
            if target is not None:
                notify([target], "deadline", _("Overdue approval escalated to you: %(title)s", title=req.title),
                       url=url, unit_id=req.unit_id)
            transitions._timeline(req, "escalate", transitions.SYSTEM, task=task, detail={"to": target})
            transitions._audit(transitions.SYSTEM, "escalate", req, None, {"task": task.id, "to": target})
            fired.append("escalate")
    if fired and "auto_approve" not in fired:
        transitions._timeline(req, "deadline", transitions.SYSTEM, task=task, detail={"fired": fired})
    db.session.commit()
    return fired


@job("approvals.fire_deadline")
def _fire_deadline_job(task_id: int, now: str | None = None):
    return fire_deadline(task_id, datetime.fromisoformat(now) if now else None)


@job("approvals.scan_deadlines")
def _scan_deadlines_job():
    return scan_deadlines(utcnow())
