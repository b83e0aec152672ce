"""JSON API of approvals (thin): list tasks and requests, act on a task or a request."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from office.approvals import engine, queries, standalone, subjects
from office.approvals.models import ApprovalRequest, Task
from office.openapi import (
    BOOL,
    DATETIME,
    ID,
    INT,
    STR,
    api_doc,
    arr,
    body,
    enum,
    json_body,
    nullable,
    number,
    obj,
    text,
)
from office.web import current_actor, login_required

bp = Blueprint("approvals_api", __name__, url_prefix="/api/approvals")


def _task_json(t: Task) -> dict:
    req = t.request
    return {"id": t.id, "request_id": req.id, "title": req.title, "state": t.state, "node_index": t.node_index,
            "node": req.flow_version.nodes[t.node_index].get("name", ""),
            "summary": subjects.summary_of(req.subject_type, req.subject_id),
            "assignee_id": t.assignee_id, "on_behalf_of_id": t.on_behalf_of_id,
            "due_at": t.due_at.isoformat() if t.due_at else None,
            "decided_at": t.decided_at.isoformat() if t.decided_at else None, "opinion": t.opinion,
            "request_version": req.version, "url": engine.request_url(req.id)}


def _request_json(req: ApprovalRequest) -> dict:
    return {"id": req.id, "title": req.title, "subject_type": req.subject_type, "subject_id": req.subject_id,
            "state": req.state, "node_index": req.node_index, "version": req.version,
            "requester_id": req.requester_id, "summary": queries.summary(req),
            "submitted_at": req.submitted_at.isoformat(),
            "finished_at": req.finished_at.isoformat() if req.finished_at else None}


TASK = obj(id=ID, request_id=ID, title=STR, state=STR, node_index=INT, node=STR, summary=STR,
           assignee_id=nullable(INT), on_behalf_of_id=nullable(INT), due_at=nullable(DATETIME),
           decided_at=nullable(DATETIME), opinion=nullable(STR), request_version=INT, url=STR)
REQUEST = obj(id=ID, title=STR, subject_type=STR, subject_id=STR, state=STR, node_index=nullable(INT),
              version=INT, requester_id=nullable(INT), summary=STR, submitted_at=DATETIME,
              finished_at=nullable(DATETIME))
VERSION = nullable(number())
TASK_ACTIONS = ("approve", "reject", "return", "transfer", "add_signer")
REQUEST_ACTIONS = ("withdraw", "resubmit", "urge", "comment", "cc")
TASK_BODY = body(version=VERSION, opinion=text(), to=text(40), user_id=nullable(ID), mode=text(20))
REQUEST_BODY = body(version=VERSION, reason=text(), message=text(), text=text(),
                    user_ids=arr(ID, max_items=200))


@bp.get("/tasks")
@login_required
@api_doc("My approval tasks: to do or done", query={"box": enum("todo", "done")}, response=obj(items=arr(TASK)))
def tasks():
    actor = current_actor()
    box = request.args.get("box", "todo")
    if box == "todo":
        rows = queries.todo_tasks(actor)
    elif box == "done":
        rows = queries.done_tasks(actor)
    else:
        abort(400)
    return jsonify(items=[_task_json(t) for t in rows])


@bp.get("/requests")
@login_required
@api_doc("My requests, or those copied to me", query={"box": enum("mine", "cc")},
         response=obj(items=arr(REQUEST)))
def requests_():
    actor = current_actor()
    box = request.args.get("box", "mine")
    if box == "mine":
        rows = queries.my_requests(actor)
    elif box == "cc":
        rows = [c.request for c in queries.copied_to_me(actor)]
    else:
        abort(400)
    return jsonify(items=[_request_json(r) for r in rows])


@bp.get("/requests/<int:request_id>")
@login_required
@api_doc("One request with its attachments, tasks and timeline",
         response=obj(request=REQUEST, attachments=arr(obj(id=ID, name=STR, type=STR, size=INT, sha256=STR, url=STR)),
                       tasks=arr(TASK), timeline=arr(obj(kind=STR, actor=nullable(STR), on_behalf_of=nullable(STR),
                                                         opinion=nullable(STR), node_index=nullable(INT),
                                                         at=DATETIME))))
def request_detail(request_id: int):
    actor = current_actor()
    req = queries.get_request(actor, request_id)
    _item, attachments = standalone.item_and_attachments(req)
    return jsonify(request=_request_json(req),
                   attachments=[{"id": a.id, "name": a.name, "type": a.file_type, "size": a.size,
                                 "sha256": a.sha256,
                                 "url": url_for("approvals.attachment", request_id=req.id, attachment_id=a.id)}
                                for a in attachments],
                   tasks=[_task_json(t) for t in queries.request_tasks(req)],
                   timeline=[{"kind": a.kind, "actor": a.actor_name if a.actor_id else None, "on_behalf_of": a.on_behalf_of_name,
                              "opinion": a.opinion, "node_index": a.node_index,
                              "at": a.created_at.isoformat()} for a in queries.timeline(req)])


@bp.post("/tasks/<int:task_id>/<action>")
@login_required
@api_doc("Act on an approval task", path={"action": enum(*TASK_ACTIONS)}, body=TASK_BODY,
         response=obj(ok=BOOL, task=TASK, request=REQUEST))
def act_on_task(task_id: int, action: str):
    actor = current_actor()
    data = json_body()
    version = data.get("version")
    opinion = data.get("opinion", "")
    if action == "approve":
        t = engine.approve(actor, task_id, opinion=opinion, version=version)
    elif action == "reject":
        t = engine.reject(actor, task_id, opinion=opinion, version=version)
    elif action == "return":
        t = engine.return_task(actor, task_id, to=data.get("to", "drafter"), opinion=opinion, version=version)
    elif action == "transfer":
        t = engine.transfer(actor, task_id, to_user_id=data.get("user_id"), opinion=opinion, version=version)
    elif action == "add_signer":
        t = engine.add_signer(actor, task_id, user_id=data.get("user_id"), mode=data.get("mode", ""),
                              opinion=opinion, version=version)
    else:
        abort(404)
    req = t.request
    return jsonify(ok=True, task=_task_json(t), request=_request_json(req))


@bp.post("/requests/<int:request_id>/<action>")
@login_required
@api_doc("Act on my request (withdraw, resubmit, urge, comment, copy to)",
         path={"action": enum(*REQUEST_ACTIONS)}, body=REQUEST_BODY, response=obj(ok=BOOL, request=REQUEST))
def act_on_request(request_id: int, action: str):
    actor = current_actor()
    data = json_body()
    if action == "withdraw":
        engine.withdraw(actor, request_id, reason=data.get("reason", ""), version=data.get("version"))
    elif action == "resubmit":
        engine.resubmit(actor, request_id, version=data.get("version"))
    elif action == "urge":
        engine.urge(actor, request_id, message=data.get("message", ""))
    elif action == "comment":
        engine.comment(actor, request_id, text=data.get("text", ""))
    elif action == "cc":
        engine.carbon_copy(actor, request_id, user_ids=data.get("user_ids") or [])
    else:
        abort(404)
    return jsonify(ok=True, request=_request_json(queries.get_request(actor, request_id)))
