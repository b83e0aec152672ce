"""The reports part of the unified to-do list (待办): reports to fill and reports to review, read
with one query for the lot (reviews that have an approval request running are left out in the same
statement, through the approvals service's condition: those are in the Approvals to-do)."""

from __future__ import annotations

from functools import cache

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, exists, literal, null, or_, select, union_all
from sqlalchemy.orm import aliased

from office.actor import Actor
from office.approvals import service as approvals
from office.extensions import db
from office.forms.models import ReportTask, Submission, SubmissionState
from office.forms.review import RUNNING, SUBJECT
from office.forms.tasks import GOV_KINDS, OPEN
from office.org.models import Unit
from office.web import TodoItem, per_actor, todo_order

REVIEWER_ROLES = ("clerk", "staff", "leader")


def _acting_units():
    """The ids of the units the actor (``:unit``) works for (``tasks.acts_for``), as a subquery: his
    own, and for a government or its general office, both of his division."""
    mine = aliased(Unit)
    return select(Unit.id).join(mine, mine.id == bindparam("unit")).where(or_(
        Unit.id == mine.id,
        and_(Unit.division_id == mine.division_id, mine.kind.in_(GOV_KINDS), Unit.kind.in_(GOV_KINDS))))


@cache
def _statement(reviews: bool):
    """The open reports at ``:path`` for the actor of ``:unit``: to fill, and with ``reviews`` to
    review. Built once (building it costs more than running it); the values are bound per call."""
    acting, path = _acting_units(), bindparam("path")
    child = aliased(Submission)
    parts = [select(Submission.id, Submission.kind.label("what"), ReportTask.title, ReportTask.deadline,
                    ReportTask.created_at.label("since"), null().label("unit_name"))
             .join(ReportTask, ReportTask.id == Submission.task_id)
             .where(Submission.path == path, Submission.state.in_(list(OPEN)), Submission.unit_id.in_(acting),
                    # a roll-up waits until everything below it is approved
                    or_(Submission.kind != "rollup", ~exists().where(
                        child.parent_id == Submission.id, child.state != SubmissionState.APPROVED)))]
    if reviews:
        # reports of the units below, reviewed by the unit that rolls them up, and reports sent
        # straight to the issuing unit
        parent = aliased(Submission)
        review = select(Submission.id, literal("review").label("what"), ReportTask.title, ReportTask.deadline,
                        Submission.submitted_at.label("since"), Unit.name.label("unit_name")) \
            .join(ReportTask, ReportTask.id == Submission.task_id).join(Unit, Unit.id == Submission.unit_id) \
            .where(Submission.state == SubmissionState.SUBMITTED,
                   ~approvals.has_request(SUBJECT, Submission.id, (RUNNING,)))
        parts.append(review.join(parent, parent.id == Submission.parent_id)
                     .where(parent.path == path, parent.unit_id.in_(acting)))
        parts.append(review.where(Submission.parent_id.is_(None), ReportTask.path == path,
                                  ReportTask.issuing_unit_id.in_(acting)))
    return union_all(*parts)


def _lines(actor: Actor) -> list:
    """(submission id, what to do, task title, deadline, since, unit name) of every open report."""
    reviews = actor.is_system or actor.has_role(*REVIEWER_ROLES)
    return db.session.execute(_statement(reviews), {"path": actor.unit_path, "unit": actor.unit_id}).all()


def items(actor: Actor) -> list[TodoItem]:
    """The actor's open reports in to-do order, built once a request."""
    if not actor.unit_path or actor.unit_id is None:
        return []
    return per_actor("forms_todo", actor, lambda: _items(actor))


def _items(actor: Actor) -> list[TodoItem]:
    lines = {"leaf": _("Fill: %(t)s"), "rollup": _("Report up: %(t)s"),  # translated once, not per row
             "review": _("Review: %(t)s (%(u)s)")}
    url = url_for("forms.submission", sub_id=0)[:-1]  # ".../submissions/" + id: the route built once
    out = [TodoItem(module="reports", title=lines.get(r.what, lines["leaf"]) % {"t": r.title, "u": r.unit_name},
                    url=f"{url}{r.id}", created_at=r.since, due_at=r.deadline,
                    kind="review" if r.what == "review" else "fill")
           for r in _lines(actor)]
    out.sort(key=todo_order)
    return out


def provider(actor: Actor, limit: int) -> list[TodoItem]:
    return items(actor)[:limit]


def count(actor: Actor) -> int:
    return len(items(actor))
