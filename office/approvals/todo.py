"""Approval tasks in the inbox (待办): every open task of a running request is an item of its
assignee and, when he acts for a leader (代理), of that leader too; the assignee's item is also his
delegate's while a delegation runs. The line is the subject's (its module registers it with
``register_subject(todo_lines=...)``), the request's title for a subject that gives none.

A request's items are recomputed when its row is locked for an action (``transitions.lock_request``)
or when it starts, at the commit of that transaction."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Integer, String, and_, cast, func, literal, select, union_all

from office.approvals import subjects
from office.approvals.models import ApprovalRequest, RequestState, Task, TaskState
from office.inbox import service as inbox

SOURCE = "approval_request"
MODULE = "approvals"
RANK = 10  # before docflow's and the reports' items when due and waiting time are the same


def touch(request_id: int) -> None:
    """The request changes in this transaction: its tasks' items are rewritten at commit."""
    inbox.touch(SOURCE, request_id)


def subject_changed(subject_type: str, subject_id) -> None:
    """A subject's to-do line changed (e.g. a document's title): rewrite its running requests."""
    inbox.touch_query(SOURCE, select(ApprovalRequest.id).where(
        ApprovalRequest.subject_type == subject_type, ApprovalRequest.subject_id == str(subject_id),
        ApprovalRequest.state == RequestState.RUNNING))


def _lines(where):
    """The subjects' lines (of the requests ``where`` picks) with their subject type."""
    parts = []
    for st in subjects.subject_types():
        if st.todo_lines is None:
            continue
        ids = None if where is None else select(cast(ApprovalRequest.subject_id, Integer)).where(
            ApprovalRequest.subject_type == st.key, where(ApprovalRequest.id))
        s = st.todo_lines(ids).subquery()
        parts.append(select(literal(st.key, String).label("subject_type"), s.c.subject_id, s.c.line, s.c.subject,
                            s.c.detail, s.c.urgency))
    return union_all(*parts).subquery("subject_lines") if parts else None


def statements(where) -> list:
    lines = _lines(where)
    if lines is None:
        line, subject, detail, urgency = literal("approvals.title"), ApprovalRequest.title, literal(""), literal("")
    else:
        line = func.coalesce(lines.c.line, "approvals.title")
        subject = func.coalesce(lines.c.subject, ApprovalRequest.title)
        detail, urgency = func.coalesce(lines.c.detail, ""), func.coalesce(lines.c.urgency, "")
    common = dict(source_id=ApprovalRequest.id, item=inbox.text_id(Task.id), kind=literal("approval"), line=line,
                  subject=subject, detail=detail, url=literal("/approvals/") + inbox.text_id(ApprovalRequest.id),
                  urgency=urgency, urged_at=ApprovalRequest.last_urged_at, due_at=Task.due_at,
                  since=func.coalesce(Task.opened_at, Task.created_at), rank=literal(RANK), seq=Task.id)
    conditions = [Task.state == TaskState.OPEN, ApprovalRequest.state == RequestState.RUNNING]
    if where is not None:
        conditions.append(where(ApprovalRequest.id))

    def select_for(**who):
        q = select(*inbox.columns(**common, **who)).select_from(Task) \
            .join(ApprovalRequest, ApprovalRequest.id == Task.request_id)
        if lines is not None:
            q = q.outerjoin(lines, and_(lines.c.subject_type == ApprovalRequest.subject_type,
                                        lines.c.subject_id == ApprovalRequest.subject_id))
        return q.where(*conditions)

    return [select_for(user_id=Task.assignee_id, delegable=literal(True)),
            select_for(user_id=Task.on_behalf_of_id, delegable=literal(False))
            .where(Task.on_behalf_of_id.isnot(None))]


inbox.register_source(SOURCE, module=MODULE, id_column=ApprovalRequest.id, statements=statements)
inbox.register_line("approvals.title", lambda: "%(t)s")
inbox.register_line("approvals.request", lambda: _("Request: %(title)s"))
inbox.register_line("approvals.request_amount", lambda: _("Request: %(title)s (amount %(amount)s)"),
                    lambda subject, detail: {"title": subject, "amount": f"{Decimal(detail):,.2f}"})
