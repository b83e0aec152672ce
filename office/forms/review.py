"""Review of submissions up the levels, through the approvals engine.

A submission is an approvals subject (``form_submission``). When a unit submits, an approval
request starts with the ``report.review`` flow (seeded here if nobody made one); its assignee kind
``subject`` asks this module who decides: the clerks (else the leaders) of the reviewing unit, i.e.
the level above in the task's cascade or the issuer. Deciding happens on the approval task, from
the Approvals pages or from the report page (which acts on the reviewer's open task); the engine's
callbacks move the submission:

    draft/returned --submit--> submitted --approved--> approved (values locked)
                               submitted --returned/rejected--> returned (values unlocked, note kept)
                               submitted --withdrawn--> draft
                               approved --return (reviewing unit, on the report page)--> returned

Rules that belong to the data stay here whatever the flow: a level reports up (and is approved)
only when every unit below it in the task is approved, approval locks the values, return (with a
note) unlocks them. A submission made without a person (demo data, system jobs) has no approval
request; the reviewing unit decides it on the report page.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from office.actor import Actor
from office.approvals import service as approvals
from office.audit import service as audit
from office.auth.service import role_holder_ids
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import todo
from office.forms.catalogue import element_period
from office.forms.models import DataValue, ReportTask, Submission, SubmissionState
from office.forms.tasks import (
    GOV_KINDS,
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
from office.org.models import Unit
from office.timeutil import utcnow

SUBJECT = "form_submission"
FLOW_KEY = "report.review"
SYSTEM = Actor.system("forms")
DEFAULT_FLOW = {"auto_pass_same_person": False, "nodes": [
    {"name": "上级审核", "type": "any", "assignees": {"kind": "subject"}, "empty": "refuse", "deadline_hours": 72},
]}
RUNNING, RETURNED = "running", "returned"

TRANSITIONS = {
    "submit": (OPEN, SubmissionState.SUBMITTED),
    "approve": ((SubmissionState.SUBMITTED,), SubmissionState.APPROVED),
    "return": ((SubmissionState.SUBMITTED, SubmissionState.APPROVED), SubmissionState.RETURNED),
    "withdraw": ((SubmissionState.SUBMITTED,), SubmissionState.DRAFT),
}


def url_of(sub_id) -> str:
    return f"/reports/submissions/{sub_id}"


def _move(actor: Actor, sub: Submission, action: str, note: str = "") -> None:
    allowed, target = TRANSITIONS[action]
    if sub.state not in allowed:
        raise Conflict(_("This report is %(s)s; it cannot be %(a)s now.", s=_state_label(sub.state),
                         a=_action_label(action)))
    before = sub.state
    sub.state = target
    sub.version += 1
    todo.touch(sub.id)
    todo.touch_parent(sub)  # inbox: the roll-up above waits for this one
    audit.record(actor, f"forms.{action}", object_type="form_submission", object_id=sub.id,
                 before={"state": before}, after={"state": target, "note": note}, unit_id=sub.unit_id)


def pending_below(sub: Submission) -> int:
    """Submissions below ``sub`` in its task that are not approved yet (a leaf has none below it)."""
    if sub.kind == "leaf":
        return 0
    return db.session.execute(select(func.count()).select_from(Submission).where(
        Submission.task_id == sub.task_id, Submission.parent_id == sub.id,
        Submission.state != SubmissionState.APPROVED)).scalar_one()


def pending_below_many(subs: list[Submission]) -> dict[int, int]:
    """``pending_below`` of many submissions in one query: {submission id: count} (absent = 0)."""
    if not subs:
        return {}
    return dict(db.session.execute(
        select(Submission.parent_id, func.count()).where(
            Submission.parent_id.in_([s.id for s in subs]), Submission.state != SubmissionState.APPROVED)
        .group_by(Submission.parent_id)).all())


def _require_below_approved(sub: Submission) -> None:
    n = pending_below(sub)
    if n:
        raise Conflict(_("%(n)d report(s) below are not approved yet.", n=n))


# --- who reviews -------------------------------------------------------------------------------


def reviewer_units(sub: Submission) -> list[Unit]:
    """The reviewing unit; for a government, its general office too (its clerks handle the reports)."""
    unit = reviewer_unit(sub)
    if unit.kind not in GOV_KINDS:
        return [unit]
    others = db.session.execute(select(Unit).where(
        Unit.division_id == unit.division_id, Unit.kind.in_(list(GOV_KINDS)), Unit.id != unit.id,
        Unit.active.is_(True)).order_by(Unit.id)).scalars().all()
    return [unit, *others]


def reviewers(sub: Submission) -> list[int]:
    """Who decides a submission: the reviewing unit's clerks; else its leaders; else the clerks and
    leaders of its government (a department nobody staffs yet is covered by the general office)."""
    def pick(units: list[Unit]) -> list[int]:
        for role in ("clerk", "leader"):
            ids = [uid for unit in units for uid in role_holder_ids(unit.id, role)]
            if ids:
                return list(dict.fromkeys(ids))
        return []

    units = reviewer_units(sub)
    ids = pick(units)
    if not ids and units[0].kind not in GOV_KINDS:
        govs = db.session.execute(select(Unit).where(
            Unit.division_id == units[0].division_id, Unit.kind.in_(list(GOV_KINDS)),
            Unit.active.is_(True)).order_by(Unit.id)).scalars().all()
        ids = pick(list(govs))
    return ids


# --- the approvals subject ---------------------------------------------------------------------


def _sub_for(req, lock: bool = True) -> Submission | None:
    try:
        q = select(Submission).where(Submission.id == int(req.subject_id))
    except (TypeError, ValueError):
        return None
    if lock:
        q = q.with_for_update()
    sub = db.session.execute(q.execution_options(populate_existing=True)).scalar_one_or_none()
    if sub is not None and lock:
        todo.touch(sub.id)  # inbox: rewritten at commit, under this lock
    return sub


def _decision(req) -> tuple[Actor, str]:
    """Who made the request's last decision and with what opinion (from its timeline)."""
    for a in reversed(approvals.timeline(req)):
        if a.kind in ("approve", "return", "reject", "withdraw", "auto_pass", "timeout_approve"):
            if a.actor_id is None:
                return Actor.system(a.actor_name or "approvals"), a.opinion or ""
            return Actor(user_id=a.actor_id, name=a.actor_name, on_behalf_of_id=a.on_behalf_of_id,
                         on_behalf_of_name=a.on_behalf_of_name), a.opinion or ""
    return Actor.system("approvals"), ""


def _summary(subject_id: str) -> str:
    sub = db.session.get(Submission, int(subject_id))
    if sub is None:
        return ""
    return _("Report: %(t)s (%(u)s)", t=sub.task.title, u=sub.unit.name)


def _summaries(subject_ids: list[str]) -> dict[str, str]:
    """The same lines for many submissions, one query (a reviewer's to-do list)."""
    line = _("Report: %(t)s (%(u)s)")
    rows = db.session.execute(select(Submission.id, ReportTask.title, Unit.name)
                              .join(ReportTask, ReportTask.id == Submission.task_id)
                              .join(Unit, Unit.id == Submission.unit_id)
                              .where(Submission.id.in_([int(i) for i in subject_ids])))
    return {str(i): line % {"t": title, "u": unit} for i, title, unit in rows}


def _assignees(req) -> list[int]:
    sub = _sub_for(req, lock=False)
    return reviewers(sub) if sub is not None else []


def _on_approved(req) -> None:
    sub = _sub_for(req)
    if sub is None:
        return
    if sub.state != SubmissionState.SUBMITTED:
        raise Conflict(_("This report is %(s)s; the unit must submit it again from the report page.",
                         s=_state_label(sub.state)))
    _require_below_approved(sub)
    actor, note = _decision(req)
    _apply_approve(actor, sub, note)


def _on_returned(req) -> None:
    sub = _sub_for(req)
    if sub is None or sub.state != SubmissionState.SUBMITTED:
        return
    actor, note = _decision(req)
    _apply_return(actor, sub, note or _("Returned in Approvals."))


def _on_withdrawn(req) -> None:
    sub = _sub_for(req)
    if sub is None or sub.state != SubmissionState.SUBMITTED:
        return  # a returned request superseded by a new submission
    actor, _note = _decision(req)
    _move(actor, sub, "withdraw")


approvals.register_subject(SUBJECT, label=_l("Report for review"), summary=_summary, summaries=_summaries,
                           url=url_of, todo_lines=todo.review_lines,
                           on_approved=_on_approved, on_returned=_on_returned, on_rejected=_on_returned,
                           on_withdrawn=_on_withdrawn, assignees=_assignees)


def review_flow():
    """The flow report reviews use: ``report.review``, seeded (one "any reviewer decides" step) if
    nobody made one yet."""
    try:
        return approvals.get_flow(FLOW_KEY)
    except NotFound:
        return approvals.save_flow(SYSTEM, key=FLOW_KEY, name="报表上级审核", subject_type=SUBJECT,
                                   definition=DEFAULT_FLOW, commit=False)


def request_of(sub: Submission, states=(RUNNING, RETURNED)):
    """The submission's live approval request (running, or returned to the drafter), if any."""
    for r in approvals.subject_requests(SUBJECT, sub.id):
        if r.state in states:
            return r
    return None


def without_running_request(subs: list[Submission]) -> list[Submission]:
    """The submissions that have no running approval request (one query for the lot)."""
    busy = approvals.subjects_with_requests(SUBJECT, [s.id for s in subs], (RUNNING,))
    return [s for s in subs if str(s.id) not in busy]


def latest_request(sub: Submission):
    reqs = approvals.subject_requests(SUBJECT, sub.id)
    return reqs[0] if reqs else None


def open_task(actor: Actor, sub: Submission):
    """The actor's open approval task on the submission (None if he has none)."""
    req = request_of(sub, (RUNNING,))
    if req is None or actor.user_id is None:
        return None
    return approvals.allowed(actor, req).task


def may_decide(actor: Actor, sub: Submission) -> bool:
    """May the actor approve or return this submission now (from the report page)?"""
    if sub.state == SubmissionState.SUBMITTED:
        if request_of(sub, (RUNNING,)) is not None:
            return open_task(actor, sub) is not None
        return may_review(actor, sub)
    return sub.state == SubmissionState.APPROVED and may_review(actor, sub)


def _request_fields(sub: Submission) -> dict:
    return {"task": sub.task.title, "period": sub.task.period, "report_unit": sub.unit.code,
            "kind": sub.kind, "title": sub.task.title}


def _start_review(actor: Actor, sub: Submission) -> None:
    """Send a submitted report to its reviewers through the approvals engine."""
    if actor.user_id is None or actor.unit_id is None:
        # Demo data and system jobs: no person to be the requester; the reviewing unit decides on
        # the report page.
        notify(clerks_of([u.id for u in reviewer_units(sub)]), "assignment",
               _("To review: %(t)s (%(u)s)", t=sub.task.title, u=sub.unit.name), url=url_of(sub.id))
        return
    live = request_of(sub)
    if live is not None and live.state == RUNNING:
        return  # resubmitted from the Approvals pages already
    if live is not None and live.requester_id == actor.user_id:
        approvals.resubmit(actor, live.id, fields=_request_fields(sub), commit=False)
        return
    title = _("%(t)s (%(u)s)", t=sub.task.title, u=sub.unit.name)
    approvals.start(actor, subject_type=SUBJECT, subject_id=sub.id, title=title, flow=review_flow(),
                    fields=_request_fields(sub), commit=False)


def _supersede(actor: Actor, sub: Submission) -> None:
    """A report returned to one clerk is submitted again by another: the old request is withdrawn."""
    if actor.user_id is None:
        return
    live = request_of(sub, (RETURNED,))
    if live is None or live.requester_id == actor.user_id:
        return
    try:
        approvals.withdraw(SYSTEM, live.id, reason=_("Submitted again by %(n)s.", n=actor.name), commit=False)
    except (PermissionDenied, NotFound):
        raise Conflict(_("The approval of this report was returned to another person; ask them to "
                         "resubmit it.")) from None


# --- the service -------------------------------------------------------------------------------


def submit(actor: Actor, sub_id: int, *, warning_reason: str = "", expected_version: int | None = None):
    """Submit to the level above. A unit's report: errors block, warnings need a reason. A review
    level (county): only when every unit below it is approved. Returns the checks."""
    sub = get_submission(actor, sub_id, lock=True)
    if not may_fill(actor, sub):
        raise PermissionDenied(_("You may not submit this report."))
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    if sub.kind == "rollup":
        _require_below_approved(sub)
        checks = None
    else:
        checks = check(sub)
        if checks.errors:
            raise ValidationError(" ".join(checks.errors))
        if checks.warnings and not warning_reason.strip():
            raise ValidationError(_("Please give a reason for the warnings: %(w)s", w=" ".join(checks.warnings)))
        sub.warning_reason = warning_reason.strip() if checks.warnings else ""
    if sub.state not in OPEN:
        raise Conflict(_("This report is %(s)s; it cannot be %(a)s now.", s=_state_label(sub.state),
                         a=_action_label("submit")))
    _supersede(actor, sub)
    _move(actor, sub, "submit")
    sub.submitted_at = utcnow()
    sub.submitted_by_id = actor.user_id
    _start_review(actor, sub)
    db.session.commit()
    return checks


def approve(actor: Actor, sub_id: int, *, note: str = "", expected_version: int | None = None) -> Submission:
    """Approve from the report page: acts on the actor's approval task (the engine's callback
    approves the report when the flow is through); without a request, the reviewing unit decides."""
    sub = get_submission(actor, sub_id, lock=True)
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    req = request_of(sub, (RUNNING,))
    if req is not None:
        task = approvals.allowed(actor, req).task if actor.user_id is not None else None
        if task is None:
            raise PermissionDenied(_("You may not review this report."))
        _require_below_approved(sub)
        approvals.approve(actor, task.id, opinion=note.strip(), commit=False)
    else:
        if not may_review(actor, sub):
            raise PermissionDenied(_("You may not review this report."))
        if sub.state != SubmissionState.SUBMITTED:
            _move(actor, sub, "approve")  # raises the state conflict
        _require_below_approved(sub)
        _apply_approve(actor, sub, note.strip())
    db.session.commit()
    return sub


def return_submission(actor: Actor, sub_id: int, *, note: str, expected_version: int | None = None) -> Submission:
    """Return with a note (unlocks the values): a submitted report through the actor's approval
    task, an approved one by the reviewing unit."""
    sub = get_submission(actor, sub_id, lock=True)
    if not note.strip():
        raise ValidationError(_("Say why the report is returned."))
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    req = request_of(sub, (RUNNING,)) if sub.state == SubmissionState.SUBMITTED else None
    task = approvals.allowed(actor, req).task if req is not None and actor.user_id is not None else None
    if task is None and not may_review(actor, sub):
        raise PermissionDenied(_("You may not review this report."))
    if req is not None and task is None:
        raise PermissionDenied(_("You may not review this report."))
    if sub.state not in TRANSITIONS["return"][0]:
        _move(actor, sub, "return")  # raises the state conflict
    _require_parent_open(sub)
    if task is not None:
        approvals.return_task(actor, task.id, to="drafter", opinion=note.strip(), commit=False)
    else:
        _apply_return(actor, sub, note.strip())
    db.session.commit()
    return sub


def _require_parent_open(sub: Submission) -> None:
    if sub.parent_id:
        parent = db.session.get(Submission, sub.parent_id)
        if parent.state in (SubmissionState.SUBMITTED, SubmissionState.APPROVED):
            raise Conflict(_("The level above has already reported; it must be returned first."))


def _apply_approve(actor: Actor, sub: Submission, note: str) -> None:
    _move(actor, sub, "approve", note)
    sub.reviewed_at = utcnow()
    sub.reviewed_by_id = actor.user_id
    sub.review_note = note
    if sub.kind == "leaf":
        _lock(sub)


def _apply_return(actor: Actor, sub: Submission, note: str) -> None:
    _require_parent_open(sub)
    _move(actor, sub, "return", note)
    sub.reviewed_at = utcnow()
    sub.reviewed_by_id = actor.user_id
    sub.review_note = note
    if sub.kind == "leaf":
        _unlock(sub)
    notify(clerks_of([sub.unit_id]), "info", _("Returned: %(t)s", t=sub.task.title), body=note, url=url_of(sub.id))


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
    return {"submit": _("submitted"), "approve": _("approved"), "return": _("returned"),
            "withdraw": _("withdrawn")}.get(action, action)
