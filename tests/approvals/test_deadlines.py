"""Deadline reminders, escalation and auto-approval; one outcome with a manual action."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from office import timeutil
from office.approvals import service
from office.approvals.deadlines import fire_deadline, scan_deadlines
from office.approvals.models import ApprovalAction, Task, TaskState
from office.extensions import db
from office.notifications.models import Notification
from tests.approvals.helpers import make_flow, node, refresh, submit, task_of, users

T0 = datetime(2026, 3, 2, 1, 0, 0)


def notes(kind):
    return [(n.user_id, n.title) for n in db.session.execute(
        select(Notification).where(Notification.kind == kind).order_by(Notification.id)).scalars()]


def test_remind_then_deadline_then_escalate(org):
    timeutil.freeze(T0)
    flow = make_flow(node("single", assignees=users("county_deputy"), deadline_hours=24,
                          remind_before_hours=4, escalate_after_hours=12))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_deputy")
    assert t.due_at == T0 + timedelta(hours=24)
    assert scan_deadlines(T0 + timedelta(hours=1)) == 0
    assert scan_deadlines(T0 + timedelta(hours=21)) == 1
    assert len(notes("reminder")) == 1
    scan_deadlines(T0 + timedelta(hours=22))
    assert len(notes("reminder")) == 1  # not twice
    scan_deadlines(T0 + timedelta(hours=24, minutes=1))
    assert len(notes("deadline")) == 1
    scan_deadlines(T0 + timedelta(hours=37))
    # escalated to the deputy's leader: the principal leader of the county government
    assert notes("deadline")[-1][0] == org.user("county_leader").id
    assert db.session.get(Task, t.id).escalated_at is not None
    assert scan_deadlines(T0 + timedelta(hours=50)) == 0
    assert refresh(req).state == "running"


def test_timeout_auto_approve_and_manual_action_first(org):
    timeutil.freeze(T0)
    flow = make_flow(node("single", assignees=users("county_deputy"), deadline_hours=1, escalate_after_hours=0,
                          timeout="approve"))
    req = submit(org, "county_clerk", flow)
    fired = fire_deadline(task_of(org, req, "county_deputy").id, T0 + timedelta(hours=2))
    assert "auto_approve" in fired
    assert refresh(req).state == "approved"
    req2 = submit(org, "county_clerk", flow, title="二")
    t2 = task_of(org, req2, "county_deputy")
    service.approve(org.actor("county_deputy"), t2.id)
    assert fire_deadline(t2.id, T0 + timedelta(hours=2)) == []
    approvals = db.session.execute(select(ApprovalAction).where(
        ApprovalAction.request_id == req2.id, ApprovalAction.kind.in_(["approve", "timeout_approve"]))).all()
    assert len(approvals) == 1
    assert db.session.get(Task, t2.id).state == TaskState.APPROVED


def test_reentry_rearms_deadline(org):
    timeutil.freeze(T0)
    flow = make_flow(node("single", assignees=users("county_deputy"), deadline_hours=2),
                     node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_deputy")
    scan_deadlines(T0 + timedelta(hours=3), inline=True)
    assert db.session.get(Task, t.id).overdue_notified_at is not None
    timeutil.freeze(T0 + timedelta(hours=4))
    service.approve(org.actor("county_deputy"), t.id)
    service.return_task(org.actor("county_leader"), task_of(org, req, "county_leader").id, to=0, opinion="重审")
    again = task_of(org, req, "county_deputy")
    assert again.due_at == T0 + timedelta(hours=6) and again.overdue_notified_at is None
