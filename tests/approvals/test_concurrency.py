"""Concurrent actions on PostgreSQL: row locks make one outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from office.actor import actor_for_post
from office.approvals import service
from office.approvals.deadlines import fire_deadline
from office.approvals.models import ApprovalAction, ApprovalRequest, Task, TaskState
from office.auth.models import Post, PostRole, User
from office.errors import Conflict
from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, task_of, users
from tests.conftest import run_threads

pytestmark = pytest.mark.postgres


def test_twenty_threads_approve_same_task(app, org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    task_id = task_of(org, req, "county_leader").id
    post_id = org.post("county_leader").id
    version = req.version
    db.session.commit()

    def work(i):
        actor = actor_for_post(db.session.get(Post, post_id))
        service.approve(actor, task_id, opinion=f"同意{i}", version=version if i % 2 else None)
        return "ok"

    results = run_threads(app, 20, work)
    assert results.count("ok") == 1, results
    assert all(isinstance(r, Conflict) for r in results if r != "ok"), results
    db.session.expire_all()
    n = db.session.execute(select(func.count()).select_from(ApprovalAction).where(
        ApprovalAction.request_id == req.id, ApprovalAction.kind == "approve")).scalar_one()
    assert n == 1
    assert db.session.get(ApprovalRequest, req.id).state == "approved"


def test_ten_approver_countersign_completes_once(app, org):
    names = []
    for i in range(10):
        u = org.add_user(f"mz_leader_{i}", f"会签人{i}", "330106", "mz", ["leader"], 2)
        names.append(u.username)
    flow = make_flow(node("all", assignees=users(*names)), node("single", assignees=users("city_leader")))
    req = submit(org, "county_clerk", flow)
    tasks = {name: task_of(org, req, name).id for name in names}
    posts = {name: org.post(name).id for name in names}
    db.session.commit()

    def work(i):
        name = names[i]
        actor = actor_for_post(db.session.get(Post, posts[name]))
        service.approve(actor, tasks[name])
        return "ok"

    results = run_threads(app, 10, work)
    assert results == ["ok"] * 10, results
    db.session.expire_all()
    r = db.session.get(ApprovalRequest, req.id)
    assert r.node_index == 1 and r.state == "running"
    done = db.session.execute(select(func.count()).select_from(ApprovalAction).where(
        ApprovalAction.request_id == req.id, ApprovalAction.kind == "node_done")).scalar_one()
    assert done == 1
    city = db.session.execute(select(func.count()).select_from(Task).where(
        Task.request_id == req.id, Task.node_index == 1, Task.state == TaskState.OPEN)).scalar_one()
    assert city == 1


def test_deadline_and_manual_approval_race(app, org):
    flow = make_flow(node("single", assignees=users("county_deputy"), deadline_hours=1, escalate_after_hours=0,
                          timeout="approve"))
    req = submit(org, "county_clerk", flow)
    task_id = task_of(org, req, "county_deputy").id
    post_id = org.post("county_deputy").id
    db.session.commit()
    later = datetime.utcnow() + timedelta(hours=3)

    def work(i):
        if i == 0:
            return fire_deadline(task_id, later)
        service.approve(actor_for_post(db.session.get(Post, post_id)), task_id)
        return "ok"

    results = run_threads(app, 2, work)
    db.session.expire_all()
    n = db.session.execute(select(func.count()).select_from(ApprovalAction).where(
        ApprovalAction.request_id == req.id, ApprovalAction.kind.in_(["approve", "timeout_approve"]))).scalar_one()
    assert n == 1, results
    assert db.session.get(ApprovalRequest, req.id).state == "approved"


_ = (User, PostRole)
