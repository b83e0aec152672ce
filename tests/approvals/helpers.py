"""Shared helpers for the approvals tests."""

from __future__ import annotations

import itertools

from office.actor import Actor
from office.approvals import flows, standalone

ADMIN = Actor.system("test")
_n = itertools.count(1)


def make_flow(*nodes, auto_pass=False, key=None, subject_type=""):
    key = key or f"flow{next(_n)}"
    return flows.save_flow(ADMIN, key=key, name=key, subject_type=subject_type,
                           definition={"auto_pass_same_person": auto_pass, "nodes": list(nodes)})


def node(type_="single", name=None, assignees=None, **opts):
    return {"name": name or type_, "type": type_, "assignees": assignees, **opts}


def users(*names):
    return {"kind": "user", "users": list(names)}


def submit(org, username, flow, title="请示", amount=None):
    return standalone.submit(org.actor(username), title=title, body="正文", amount=amount, flow=flow)


def open_tasks(req):
    from office.approvals.models import Task, TaskState
    from office.extensions import db

    return list(db.session.execute(db.select(Task).where(Task.request_id == req.id, Task.state == TaskState.OPEN)
                                   .order_by(Task.id)).scalars())


def task_of(org, req, username):
    uid = org.user(username).id
    for t in open_tasks(req):
        if t.assignee_id == uid:
            return t
    raise AssertionError(f"{username} has no open task; open: {[t.assignee_id for t in open_tasks(req)]}")


def refresh(req):
    from office.extensions import db

    db.session.refresh(req)
    return req
