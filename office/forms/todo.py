"""The reports' to-do items in the inbox (待办): reports to fill (a roll-up level's once everything
below it is approved), for anyone with a post in the reporting unit (a government's and its general
office's for each other); reports submitted to review, for the clerks, staff and leaders of the
reviewing unit, unless an approval request runs for them (those are approval tasks; their line is
registered here).

A submission's items are recomputed when it is locked for a change (``tasks.get_submission``, the
review callbacks), and its parent's with it (a roll-up waits for the level below), at the commit.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import String, and_, case, cast, exists, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from office.approvals import service as approvals
from office.forms.models import ReportTask, Submission, SubmissionState
from office.inbox import service as inbox
from office.org.models import Unit, UnitKind

SOURCE = "submission"
MODULE = "reports"
REVIEWERS = inbox.role_group("clerk", "staff", "leader")
RANK_FILL, RANK_REVIEW = 30, 31
GOV_KINDS = (UnitKind.GOVERNMENT, UnitKind.GENERAL_OFFICE)
OPEN = (SubmissionState.DRAFT, SubmissionState.RETURNED)


def touch(*submission_ids: int) -> None:
    inbox.touch(SOURCE, *submission_ids)


def touch_task(task_id: int) -> None:
    """Every submission of a task (just issued)."""
    inbox.touch_query(SOURCE, select(Submission.id).where(Submission.task_id == task_id))


def touch_parent(sub: Submission) -> None:
    """A submission changed state: the roll-up above it may become ready (or stop being so).
    Its row is locked, so that two reports approved at once leave it in one consistent state."""
    if sub.parent_id is not None:
        from office.extensions import db

        db.session.execute(select(Submission.id).where(Submission.id == sub.parent_id).with_for_update())
        touch(sub.parent_id)


def acting_units():
    """(for_unit, unit_id, path): the units whose people act for ``for_unit`` in reporting
    (``tasks.acts_for`` read the other way): the unit itself, and a government and its general
    office for each other."""
    one, other = aliased(Unit), aliased(Unit)
    own = select(Unit.id.label("for_unit"), Unit.id.label("unit_id"), Unit.path.label("path"))
    pair = select(one.id, other.id, other.path).join(
        other, and_(other.division_id == one.division_id, other.id != one.id, other.kind.in_(GOV_KINDS))) \
        .where(one.kind.in_(GOV_KINDS))
    return union_all(own, pair).subquery("acting")


def _statements(where) -> list:
    from office.forms.review import RUNNING, SUBJECT

    acting = acting_units()
    url = literal("/reports/submissions/") + inbox.text_id(Submission.id)
    child = aliased(Submission)
    fill = select(*inbox.columns(
        source_id=Submission.id, item=literal("fill"), unit_id=acting.c.unit_id, role_group=literal(inbox.ANY_ROLE),
        kind=literal("fill"), line=case((Submission.kind == "rollup", "forms.report_up"), else_="forms.fill"),
        subject=ReportTask.title, url=url, due_at=ReportTask.deadline, since=ReportTask.created_at,
        rank=literal(RANK_FILL), seq=Submission.id)) \
        .select_from(Submission).join(ReportTask, ReportTask.id == Submission.task_id) \
        .join(acting, and_(acting.c.for_unit == Submission.unit_id, acting.c.path == Submission.path)) \
        .where(Submission.state.in_(list(OPEN)),
               # a roll-up waits until everything below it is approved
               or_(Submission.kind != "rollup", ~exists().where(
                   child.parent_id == Submission.id, child.state != SubmissionState.APPROVED)))

    reporter = aliased(Unit)
    review_cols = inbox.columns(
        source_id=Submission.id, item=literal("review"), unit_id=acting.c.unit_id, role_group=literal(REVIEWERS),
        kind=literal("review"), line=literal("forms.review"), subject=ReportTask.title, detail=reporter.name,
        url=url, due_at=ReportTask.deadline, since=Submission.submitted_at, rank=literal(RANK_REVIEW),
        seq=Submission.id)
    review = select(*review_cols).select_from(Submission).join(ReportTask, ReportTask.id == Submission.task_id) \
        .join(reporter, reporter.id == Submission.unit_id) \
        .where(Submission.state == SubmissionState.SUBMITTED,
               ~approvals.has_request(SUBJECT, Submission.id, (RUNNING,)))
    parent = aliased(Submission)
    # reviewed by the unit that rolls them up, or (no level between) by the issuing unit
    by_parent = review.join(parent, parent.id == Submission.parent_id) \
        .join(acting, and_(acting.c.for_unit == parent.unit_id, acting.c.path == parent.path))
    by_issuer = review.join(acting, and_(acting.c.for_unit == ReportTask.issuing_unit_id,
                                         acting.c.path == ReportTask.path)) \
        .where(Submission.parent_id.is_(None))
    out = [fill, by_parent, by_issuer]
    return [q.where(where(Submission.id)) for q in out] if where is not None else out


inbox.register_source(SOURCE, module=MODULE, id_column=Submission.id, statements=_statements)
inbox.register_line("forms.fill", lambda: _("Fill: %(t)s"))
inbox.register_line("forms.report_up", lambda: _("Report up: %(t)s"))
inbox.register_line("forms.review", lambda: _("Review: %(t)s (%(u)s)"))
inbox.register_line("forms.report", lambda: _("Report: %(t)s (%(u)s)"))


def review_lines(subject_ids):
    """The inbox's lines of report reviews in Approvals (``review._summaries``)."""
    q = select(cast(Submission.id, String).label("subject_id"), literal("forms.report").label("line"),
               ReportTask.title.label("subject"), Unit.name.label("detail"), literal("").label("urgency")) \
        .join(ReportTask, ReportTask.id == Submission.task_id).join(Unit, Unit.id == Submission.unit_id)
    return q.where(Submission.id.in_(subject_ids)) if subject_ids is not None else q
