"""Review of submissions up the levels: submit, approve, return.

The state machine lives here behind a small interface so that it can later be routed through the
approvals engine (``set_router``): forms call ``submit`` / ``approve`` / ``return_submission``; the
router decides who may decide and is told of every transition. Rules that belong to the data stay
here whatever the router: a level approves only when every unit below it in the task is approved,
approval locks the values, return (with a note) unlocks them.

    draft/returned --submit--> submitted --approve--> approved
                               submitted/approved --return--> returned
"""

from __future__ import annotations

from typing import Protocol

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from office.actor import Actor
from office.audit import service as audit
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.forms.catalogue import element_period
from office.forms.models import DataValue, Submission, SubmissionState
from office.forms.tasks import (
    OPEN,
    check,
    clerks_of,
    get_submission,
    may_fill,
    may_review,
    reviewer_unit,
)
from office.forms.values import form_elements
from office.notifications.service import notify
from office.timeutil import utcnow

TRANSITIONS = {
    "submit": (OPEN, SubmissionState.SUBMITTED),
    "approve": ((SubmissionState.SUBMITTED,), SubmissionState.APPROVED),
    "return": ((SubmissionState.SUBMITTED, SubmissionState.APPROVED), SubmissionState.RETURNED),
}


class ReviewRouter(Protocol):
    """Who may decide, and what else happens on a transition (the approvals engine later)."""

    def may_decide(self, actor: Actor, sub: Submission) -> bool: ...

    def transitioned(self, actor: Actor, sub: Submission, action: str, note: str) -> None: ...


class LocalReview:
    """The reviewing unit (the level above, or the issuer) decides; its clerks are notified."""

    def may_decide(self, actor: Actor, sub: Submission) -> bool:
        return may_review(actor, sub)

    def transitioned(self, actor: Actor, sub: Submission, action: str, note: str) -> None:
        url = f"/reports/submissions/{sub.id}"
        if action == "submit":
            notify(clerks_of([reviewer_unit(sub).id]), "assignment",
                   _("To review: %(t)s (%(u)s)", t=sub.task.title, u=sub.unit.name), url=url)
        elif action == "return":
            notify(clerks_of([sub.unit_id]), "info", _("Returned: %(t)s", t=sub.task.title), body=note, url=url)


_router: ReviewRouter = LocalReview()


def set_router(router: ReviewRouter | None) -> None:
    global _router
    _router = router or LocalReview()


def _move(actor: Actor, sub: Submission, action: str, note: str = "") -> None:
    allowed, target = TRANSITIONS[action]
    if sub.state not in allowed:
        raise Conflict(_("This report is %(s)s; it cannot be %(a)s now.", s=_state_label(sub.state),
                         a=_action_label(action)))
    before = sub.state
    sub.state = target
    sub.version += 1
    audit.record(actor, f"forms.{action}", object_type="form_submission", object_id=sub.id,
                 before={"state": before}, after={"state": target, "note": note}, unit_id=sub.unit_id)
    _router.transitioned(actor, sub, action, note)


def pending_below(sub: Submission) -> int:
    """Submissions below ``sub`` in its task that are not approved yet."""
    return db.session.execute(select(func.count()).select_from(Submission).where(
        Submission.task_id == sub.task_id, Submission.parent_id == sub.id,
        Submission.state != SubmissionState.APPROVED)).scalar_one()


def submit(actor: Actor, sub_id: int, *, warning_reason: str = "", expected_version: int | None = None):
    """Submit to the level above. A unit's report: errors block, warnings need a reason. A review
    level (county): only when every unit below it is approved. Returns the checks."""
    sub = get_submission(actor, sub_id, lock=True)
    if not may_fill(actor, sub):
        raise PermissionDenied(_("You may not submit this report."))
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    if sub.kind == "rollup":
        n = pending_below(sub)
        if n:
            raise Conflict(_("%(n)d report(s) below are not approved yet.", n=n))
        checks = None
    else:
        checks = check(sub)
        if checks.errors:
            raise ValidationError(" ".join(checks.errors))
        if checks.warnings and not warning_reason.strip():
            raise ValidationError(_("Please give a reason for the warnings: %(w)s", w=" ".join(checks.warnings)))
        sub.warning_reason = warning_reason.strip() if checks.warnings else ""
    _move(actor, sub, "submit")
    sub.submitted_at = utcnow()
    sub.submitted_by_id = actor.user_id
    db.session.commit()
    return checks


def approve(actor: Actor, sub_id: int, *, note: str = "", expected_version: int | None = None) -> Submission:
    sub = get_submission(actor, sub_id, lock=True)
    if not _router.may_decide(actor, sub):
        raise PermissionDenied(_("You may not review this report."))
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    n = pending_below(sub)
    if n:
        raise Conflict(_("%(n)d report(s) below are not approved yet.", n=n))
    _move(actor, sub, "approve", note)
    sub.reviewed_at = utcnow()
    sub.reviewed_by_id = actor.user_id
    sub.review_note = note
    if sub.kind == "leaf":
        _lock(sub)
    db.session.commit()
    return sub


def return_submission(actor: Actor, sub_id: int, *, note: str, expected_version: int | None = None) -> Submission:
    sub = get_submission(actor, sub_id, lock=True)
    if not _router.may_decide(actor, sub):
        raise PermissionDenied(_("You may not review this report."))
    if not note.strip():
        raise ValidationError(_("Say why the report is returned."))
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    if sub.parent_id:
        parent = db.session.get(Submission, sub.parent_id)
        if parent.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED):
            raise Conflict(_("The level above has already reported; it must be returned first."))
    _move(actor, sub, "return", note)
    sub.reviewed_at = utcnow()
    sub.reviewed_by_id = actor.user_id
    sub.review_note = note.strip()
    if sub.kind == "leaf":
        _unlock(sub)
    db.session.commit()
    return sub


def _keys(sub: Submission) -> list[tuple[int, str]]:
    els = form_elements(sub.task.template_version)
    return [(e.id, element_period(e, sub.task.period)) for e in els.values()]


def _lock(sub: Submission) -> None:
    for el_id, period in _keys(sub):
        db.session.execute(update(DataValue).where(
            DataValue.unit_id == sub.unit_id, DataValue.element_id == el_id, DataValue.period == period,
            DataValue.locked_by_id.is_(None)).values(locked_by_id=sub.id).execution_options(synchronize_session=False))
    db.session.expire_all()


def _unlock(sub: Submission) -> None:
    db.session.execute(update(DataValue).where(DataValue.locked_by_id == sub.id).values(locked_by_id=None)
                       .execution_options(synchronize_session=False))
    # Values another approved report of the unit also covers stay locked.
    others = db.session.execute(select(Submission).where(
        Submission.unit_id == sub.unit_id, Submission.state == SubmissionState.APPROVED,
        Submission.kind == "leaf", Submission.id != sub.id)).scalars().all()
    for o in others:
        _lock(o)
    db.session.expire_all()


def _state_label(state: str) -> str:
    return {"draft": _("draft"), "submitted": _("submitted"), "approved": _("approved"),
            "returned": _("returned")}.get(state, state)


def _action_label(action: str) -> str:
    return {"submit": _("submitted"), "approve": _("approved"), "return": _("returned")}.get(action, action)
