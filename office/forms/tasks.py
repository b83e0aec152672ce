"""Reporting tasks and submissions: issue to a set of units (with the cascade of intermediate
levels), access rules, filling (save, checks), urging, the workload meter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.orm import contains_eager, joinedload

from office.actor import Actor
from office.audit import service as audit
from office.auth.models import Post, PostRole, User
from office.auth.scope import path_in_scope
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import expr, todo
from office.forms.catalogue import check_period, element_period, parse_value, previous_period
from office.forms.models import (
    FormTemplate,
    FormTemplateVersion,
    ReportTask,
    Source,
    Submission,
    SubmissionState,
)
from office.forms.values import Prefill, form_elements, prefill, read_values, value_records, write_value
from office.notifications.service import notify
from office.org.models import Level, Unit, UnitKind
from office.org.service import ancestor_paths, units_under
from office.timeutil import utcnow

OPEN = (SubmissionState.DRAFT, SubmissionState.RETURNED)
DONE = (SubmissionState.SUBMITTED, SubmissionState.APPROVED)
GOV_KINDS = (UnitKind.GOVERNMENT, UnitKind.GENERAL_OFFICE)
TARGETS = ("townships", "counties", "line")


# --- access ------------------------------------------------------------------------------------


def _actor_unit(actor: Actor) -> Unit | None:
    return db.session.get(Unit, actor.unit_id) if actor.unit_id else None


def acts_for(actor: Actor, unit: Unit) -> bool:
    """The actor works for ``unit``: his own unit, or the government and its general office of the
    same division (a county office clerk handles the county government's reports)."""
    if actor.is_system:
        return True
    if actor.unit_id == unit.id:
        return True
    mine = _actor_unit(actor)
    return bool(mine and mine.division_id == unit.division_id and mine.kind in GOV_KINDS and unit.kind in GOV_KINDS)


def reviewer_unit(sub: Submission) -> Unit:
    if sub.parent_id:
        return db.session.get(Submission, sub.parent_id).unit
    return sub.task.issuing_unit


def may_fill(actor: Actor, sub: Submission) -> bool:
    return acts_for(actor, sub.unit) and (actor.is_system or actor.has_role("clerk", "staff", "leader"))


def may_review(actor: Actor, sub: Submission) -> bool:
    return acts_for(actor, reviewer_unit(sub)) and (actor.is_system or actor.has_role("clerk", "staff", "leader"))


def get_task(actor: Actor, task_id: int) -> ReportTask:
    """A task is visible to the issuer's subtree (a township sees only its own part of it)."""
    t = db.session.get(ReportTask, task_id)
    if t is None or not (path_in_scope(actor, t.path) or actor.unit_path.startswith(t.path)):
        raise NotFound(_("Not found."))
    return t


def get_submission(actor: Actor, sub_id: int, *, lock: bool = False, options: tuple = ()) -> Submission:
    """Outside the actor's subtree (another township's report) is 404. ``options``: what a page
    reads of the submission with it (its unit, its task and the task's form version)."""
    q = select(Submission).where(Submission.id == sub_id).options(*options)
    if lock:
        q = q.with_for_update()
    sub = db.session.execute(q).scalar_one_or_none()
    if sub is None or not path_in_scope(actor, sub.path):
        raise NotFound(_("Not found."))
    if lock:
        todo.touch(sub.id)  # inbox: its to-do items are rewritten at commit, under this lock
    return sub


def scope_path(actor: Actor, task: ReportTask) -> str:
    """The deeper of the task's and the actor's paths: what this actor may see of the task."""
    if actor.is_system or len(task.path) >= len(actor.unit_path):
        return task.path
    return actor.unit_path


def list_tasks(actor: Actor, limit: int = 100) -> list[ReportTask]:
    """Tasks issued in my subtree, and tasks in which my units report."""
    issued = select(ReportTask.id).where(ReportTask.path.startswith(actor.unit_path)) if not actor.is_system \
        else select(ReportTask.id)
    mine = select(Submission.task_id).where(Submission.path == actor.unit_path)
    ids = set(db.session.execute(issued).scalars()) | set(db.session.execute(mine).scalars())
    if not ids:
        return []
    return list(db.session.execute(select(ReportTask).where(ReportTask.id.in_(ids))
                                   .order_by(ReportTask.created_at.desc(), ReportTask.id.desc()).limit(limit)).scalars())


def my_submissions(actor: Actor, states=None) -> list[Submission]:
    q = select(Submission).join(Unit, Unit.id == Submission.unit_id).where(Submission.path == actor.unit_path) \
        .options(contains_eager(Submission.unit), joinedload(Submission.task))
    if states:
        q = q.where(Submission.state.in_(list(states)))
    return [s for s in db.session.execute(q.order_by(Submission.id.desc())).scalars() if acts_for(actor, s.unit)]


def to_review(actor: Actor) -> list[Submission]:
    """Submitted reports waiting for the actor's unit."""
    if not actor.unit_path:
        return []
    # The reviewing units: the parents (held here, so that ``reviewer_unit`` finds them and their
    # units in the session) and the issuing units of the tasks, loaded with the rows.
    parents = list(db.session.execute(select(Submission).where(Submission.path == actor.unit_path)
                                      .options(joinedload(Submission.unit))).scalars())
    q = select(Submission).where(Submission.state == SubmissionState.SUBMITTED,
                                 Submission.parent_id.in_([p.id for p in parents])) \
        .options(joinedload(Submission.unit), joinedload(Submission.task)).order_by(Submission.id)
    rows = list(db.session.execute(q).scalars()) if parents else []
    direct = select(Submission).join(ReportTask, ReportTask.id == Submission.task_id).where(
        Submission.state == SubmissionState.SUBMITTED, Submission.parent_id.is_(None),
        ReportTask.path == actor.unit_path).options(contains_eager(Submission.task)
                                                    .joinedload(ReportTask.issuing_unit),
                                                    joinedload(Submission.unit)).order_by(Submission.id)
    rows += list(db.session.execute(direct).scalars())
    return [s for s in rows if may_review(actor, s)]


def children(sub: Submission) -> list[Submission]:
    """The submissions one level below ``sub``; a leaf (filled by its own unit) has none."""
    if sub.kind == "leaf":
        return []
    return list(db.session.execute(select(Submission).where(Submission.parent_id == sub.id)
                                   .order_by(Submission.path)).scalars())


# --- issuing -----------------------------------------------------------------------------------


def target_units(actor: Actor, target: str) -> list[Unit]:
    """``townships``: every township government under my division; ``counties``: every county
    government; ``line``: my function's units in every division below me."""
    if not actor.unit_path:
        raise PermissionDenied(_("You act for no unit."))
    if target == "townships":
        q = units_under(actor.unit_path, kind=UnitKind.GOVERNMENT, level=Level.TOWNSHIP)
    elif target == "counties":
        q = units_under(actor.unit_path, kind=UnitKind.GOVERNMENT, level=Level.COUNTY)
    elif target == "line":
        mine = _actor_unit(actor)
        q = units_under(actor.unit_path, function_code=mine.function_code).where(Unit.id != mine.id)
    else:
        raise ValidationError(_("Unknown target %(t)s.", t=target))
    return list(db.session.execute(q).scalars())


def issue_task(actor: Actor, *, template_code: str, period: str, deadline: datetime, title: str = "",
               target: str = "townships", unit_ids: list[int] | None = None,
               parent_task_id: int | None = None, commit: bool = True) -> ReportTask:
    """Create the task, one submission per unit, and one review submission for every level in
    between (county between the city and its townships), all in bulk."""
    if not actor.is_system and not actor.has_role("clerk", "staff", "leader"):
        raise PermissionDenied(_("You may not issue reports."))
    check_period(period)
    tpl = db.session.execute(select(FormTemplate).where(FormTemplate.code == template_code)).scalar_one_or_none()
    if tpl is None:
        raise NotFound(_("No form %(code)s.", code=template_code))
    version = db.session.execute(select(FormTemplateVersion).where(
        FormTemplateVersion.template_id == tpl.id, FormTemplateVersion.version == tpl.current_version)).scalar_one()
    issuer = _actor_unit(actor)
    if issuer is None:
        raise PermissionDenied(_("You act for no unit."))
    if unit_ids:
        units = list(db.session.execute(select(Unit).where(Unit.id.in_(unit_ids))).scalars())
        if len(units) != len(set(unit_ids)) or any(not u.path.startswith(issuer.path) or u.path == issuer.path
                                                   for u in units):
            raise ValidationError(_("Reports go to units below you."))
        target = "units"
    else:
        units = target_units(actor, target)
    if not units:
        raise ValidationError(_("No unit to report."))
    task = ReportTask(title=title or f"{tpl.name} {period}", template_version_id=version.id,
                      issuing_unit_id=issuer.id, path=issuer.path, period=period, deadline=deadline,
                      target=target, parent_id=parent_task_id, created_by_id=actor.user_id, created_at=utcnow())
    db.session.add(task)
    db.session.flush()

    # Intermediate levels: the unit of the same kind (government, or the same function) at every
    # division between the issuer and the reporting unit.
    wanted: dict[str, str] = {}
    for u in units:
        key = "gov" if u.kind in GOV_KINDS else u.function_code
        for p in ancestor_paths(u.path)[:-1]:
            if len(p) > len(issuer.path):
                wanted[p] = key
    inter: dict[str, Unit] = {}
    if wanted:
        cand = db.session.execute(select(Unit).where(Unit.path.in_(list(wanted)), Unit.active.is_(True))).scalars()
        for c in cand:
            key = wanted[c.path]
            if (key == "gov" and c.kind == UnitKind.GOVERNMENT) or (key != "gov" and c.function_code == key):
                inter[c.path] = c
    sub_ids: dict[str, int] = {}
    for p in sorted(inter, key=len):
        parent = _nearest(p, sub_ids)
        s = Submission(task_id=task.id, unit_id=inter[p].id, path=p, kind="rollup", parent_id=parent,
                       state=SubmissionState.DRAFT, field_status={})
        db.session.add(s)
        db.session.flush()
        sub_ids[p] = s.id
    n_fields = len(version.fields())
    rows = [dict(task_id=task.id, unit_id=u.id, path=u.path, kind="leaf", parent_id=_nearest(u.path, sub_ids),
                 state=SubmissionState.DRAFT, version=1, fields_total=n_fields, fields_confirmed=0,
                 fields_edited=0, fields_typed=0, field_status={}, review_note="", warning_reason="")
            for u in units]
    db.session.execute(insert(Submission), rows)
    todo.touch_task(task.id)  # inbox: the reports to fill
    audit.record(actor, "forms.task_issued", object_type="form_task", object_id=task.id,
                 after={"template": tpl.code, "version": version.version, "period": period, "units": len(units)})
    notify(clerks_of([u.id for u in units]), "assignment", _("Report to fill: %(t)s", t=task.title),
           body=_("Deadline %(d)s", d=deadline.strftime("%Y-%m-%d")), url=f"/reports/tasks/{task.id}")
    if commit:
        db.session.commit()
    return task


def _nearest(path: str, sub_ids: dict[str, int]) -> int | None:
    for p in reversed(ancestor_paths(path)[:-1]):
        if p in sub_ids:
            return sub_ids[p]
    return None


def clerks_of(unit_ids: list[int]) -> list[int]:
    if not unit_ids:
        return []
    return list(db.session.execute(
        select(Post.user_id).join(PostRole, PostRole.post_id == Post.id).join(User, User.id == Post.user_id)
        .where(Post.unit_id.in_(unit_ids), PostRole.role == "clerk", User.active.is_(True))).scalars())


# --- filling -----------------------------------------------------------------------------------


@dataclass
class FieldView:
    """One field of a fill page: its element (the record) and, as plain values, what the page
    asks of it for every field (``value_type``, ``unit_of_measure``, ``choices``)."""

    code: str
    label: str
    element: object
    prefill: Prefill | None
    computed: str = ""
    required: bool = False
    status: str = ""
    previous: str = ""
    value_type: str = ""
    unit_of_measure: str = ""
    choices: tuple = ()


@dataclass
class Checks:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def form_view(sub: Submission) -> list[tuple[str, list[FieldView]]]:
    """Sections with each field's prefilled value, its source and the last period's value."""
    version = sub.task.template_version
    els = form_elements(version)
    pre = prefill(version, sub.unit_id, sub.task.period)
    prev = _previous_values(sub, els)
    out = []
    for s in version.definition["sections"]:
        fields = []
        for f in s["fields"]:
            code = f["element"]
            el = els[code]
            fields.append(FieldView(code, f.get("label") or el.name, el, pre.get(code),
                                    f.get("computed", ""), bool(f.get("required")),
                                    (sub.field_status or {}).get(code, ""), prev.get(code, ""),
                                    el.value_type, el.unit_of_measure or "", tuple(el.choices or ())))
        out.append((s.get("title", ""), fields))
    return out


def _previous_values(sub: Submission, els) -> dict[str, str]:
    pp = previous_period(sub.task.period)
    keys = {c: (e.id, element_period(e, pp)) for c, e in els.items()}
    got = value_records(sub.unit_id, list(keys.values()))
    return {c: got[k].value_text for c, k in keys.items() if k in got}


def _require_fillable(actor: Actor, sub: Submission) -> None:
    if sub.kind != "leaf":
        raise ValidationError(_("This level reviews and rolls up; it has no values of its own."))
    if not may_fill(actor, sub):
        raise PermissionDenied(_("You may not fill this report."))
    if sub.state not in OPEN:
        raise Conflict(_("This report was submitted; it can be changed after it is returned."))


def save(actor: Actor, sub_id: int, posted: dict[str, str], versions: dict[str, int | None] | None = None, *,
         source: str = Source.TYPED, expected_version: int | None = None, commit: bool = True) -> Submission:
    """Save the draft: parse every posted field (any bad field: nothing is saved), write changed
    values to the store (prefilled ones with their source), and count the workload."""
    sub = get_submission(actor, sub_id, lock=True)
    _require_fillable(actor, sub)
    if expected_version is not None and expected_version != sub.version:
        raise Conflict(_("This report was changed by someone else. Reload it and try again."))
    version = sub.task.template_version
    els = form_elements(version)
    fields = version.fields()
    pre = prefill(version, sub.unit_id, sub.task.period)
    parsed: dict[str, tuple[str, float | None]] = {}
    problems = []
    for f in fields:
        code = f["element"]
        if f.get("computed"):
            continue
        if code in posted:
            try:
                parsed[code] = parse_value(els[code], posted[code])
            except ValidationError as exc:
                problems.append(exc.message)
        elif code in pre:
            parsed[code] = (pre[code].text, pre[code].num)
    if problems:
        raise ValidationError(" ".join(problems))
    from office.forms.values import compute

    computed = {f["element"]: f["computed"] for f in fields if f.get("computed")}
    got = compute(computed, {c: v[1] for c, v in parsed.items()}, els, keys=[f["element"] for f in fields])
    for code in computed:
        parsed[code] = got.get(code, ("", None))

    status = dict(sub.field_status or {})
    versions = versions or {}
    stored = read_values(sub.unit_id, [(els[c].id, element_period(els[c], sub.task.period)) for c in parsed])
    # One order for every writer (element id), so two reports of one unit sharing elements never
    # wait on each other's new values crosswise (a deadlock).
    for code, (text, num) in sorted(parsed.items(), key=lambda kv: els[kv[0]].id):
        el = els[code]
        period = element_period(el, sub.task.period)
        cand = pre.get(code)
        current = stored.get((el.id, period))
        exp = versions.get(code)
        if code in computed:
            if text == "" and current is None:
                continue
            if current is None or current.value_text != text:
                write_value(actor, el, sub.unit_id, period, text, num, source=Source.COMPUTED,
                            source_ref=computed[code], template_id=version.template_id, current=current)
            status[code] = "confirmed"
            continue
        if text == "" and current is None:
            status.pop(code, None)
            continue
        if cand is not None and cand.text == text:
            if cand.stored:
                if exp is not None and current is not None and exp != current.version and current.value_text != text:
                    raise_conflict()
                status[code] = status.get(code) or "confirmed"
                continue
            src, ref, dt, ds = cand.source, cand.source_ref, cand.source_date, cand.dataset_id
            if src == Source.CARRIED:
                src = Source.CONFIRMED
            write_value(actor, el, sub.unit_id, period, text, num, source=src, source_ref=ref, source_date=dt,
                        dataset_id=ds, template_id=version.template_id, expected_version=exp, current=current)
            status[code] = "confirmed"
        else:
            write_value(actor, el, sub.unit_id, period, text, num, source=source, template_id=version.template_id,
                        expected_version=exp, current=current)
            status[code] = "typed" if cand is None or status.get(code) == "typed" else "edited"
    sub.field_status = status
    _count(sub, len(fields))
    sub.version += 1
    audit.record(actor, "forms.saved", object_type="form_submission", object_id=sub.id,
                 after={"fields": len(parsed)}, unit_id=sub.unit_id)
    if commit:
        db.session.commit()
    return sub


def raise_conflict():
    from office.forms.values import changed_by_someone_else

    raise changed_by_someone_else()


def _count(sub: Submission, total: int) -> None:
    st = list((sub.field_status or {}).values())
    sub.fields_total = total
    sub.fields_confirmed = st.count("confirmed")
    sub.fields_edited = st.count("edited")
    sub.fields_typed = st.count("typed")


def check(sub: Submission) -> Checks:
    """Errors (required, constraints, error rules) block submission; warnings (warning rules, a
    move of more than the set percentage from the last period) need a reason."""
    version = sub.task.template_version
    els = form_elements(version)
    fields = version.fields()
    keys = {f["element"]: (els[f["element"]].id, element_period(els[f["element"]], sub.task.period)) for f in fields}
    stored = value_records(sub.unit_id, list(keys.values()))
    nums = {c: (stored[k].value_num if k in stored and stored[k].value_text != "" else None) for c, k in keys.items()}
    texts = {c: (stored[k].value_text if k in stored else "") for c, k in keys.items()}
    prev = _previous_values(sub, els)
    out = Checks()
    for f in fields:
        code, el = f["element"], els[f["element"]]
        label = f.get("label") or el.name
        if f.get("required") and not texts[code]:
            out.errors.append(_("%(f)s is required.", f=label))
            continue
        n = nums[code]
        if n is not None and "min" in f and n < f["min"]:
            out.errors.append(_("%(f)s must be at least %(v)s.", f=label, v=f["min"]))
        if n is not None and "max" in f and n > f["max"]:
            out.errors.append(_("%(f)s must be at most %(v)s.", f=label, v=f["max"]))
        pct = f.get("warn_change_pct")
        if pct and n is not None and prev.get(code):
            try:
                old = float(prev[code])
            except ValueError:
                old = None
            if old and abs(n - old) / abs(old) * 100 > pct:
                out.warnings.append(_("%(f)s moved %(p)d%% from last period (%(old)s -> %(new)s).", f=label,
                                      p=round(abs(n - old) / abs(old) * 100), old=prev[code], new=texts[code]))
    for r in version.definition.get("rules", []):
        ok = expr.evaluate(r["expr"], nums)
        if ok is False:
            msg = r.get("message") or r["expr"]
            (out.warnings if r.get("severity") == "warning" else out.errors).append(msg)
    return out


# --- urging and workload -----------------------------------------------------------------------


def may_urge(actor: Actor, task: ReportTask) -> bool:
    """Urging is the issuer's duty: a clerk or leader of the issuing unit (or of its government's
    general office)."""
    return actor.is_system or (acts_for(actor, task.issuing_unit) and actor.has_role("clerk", "leader"))


def urge_late(actor: Actor, task_id: int) -> int:
    """Notify every unit of the task that has not submitted, in one action (the issuer only:
    404 outside the task's tree, 403 to anybody else in it)."""
    task = get_task(actor, task_id)
    if not may_urge(actor, task):
        raise PermissionDenied(_("Only the clerks and leaders of the issuing unit urge the units of a report."))
    path = scope_path(actor, task)
    late = list(db.session.execute(select(Submission).where(
        Submission.task_id == task.id, Submission.kind == "leaf", Submission.state.in_(OPEN),
        Submission.path.startswith(path))).scalars())
    if not late:
        return 0
    notify(clerks_of([s.unit_id for s in late]), "urge", _("Please submit: %(t)s", t=task.title),
           body=_("Deadline %(d)s", d=task.deadline.strftime("%Y-%m-%d %H:%M")), url=f"/reports/tasks/{task.id}")
    audit.record(actor, "forms.urged", object_type="form_task", object_id=task.id, after={"units": len(late)})
    db.session.commit()
    return len(late)


@dataclass
class Workload:
    submissions: int = 0
    total: int = 0
    confirmed: int = 0
    edited: int = 0
    typed: int = 0

    @property
    def keyed(self) -> int:
        """Fields a person had to key in (typed from nothing, or a prefilled value changed)."""
        return self.typed + self.edited

    @property
    def keyed_pct(self) -> float:
        return round(100.0 * self.keyed / self.total, 1) if self.total else 0.0

    @property
    def saved_pct(self) -> float:
        """Against filling every form separately (every field typed)."""
        return round(100.0 - self.keyed_pct, 1) if self.total else 0.0

    def as_dict(self) -> dict:
        return {"submissions": self.submissions, "total": self.total, "prefilled_confirmed": self.confirmed,
                "edited": self.edited, "typed": self.typed, "keyed": self.keyed, "keyed_pct": self.keyed_pct,
                "saved_pct": self.saved_pct}


def workload(*, task_id: int | None = None, unit_id: int | None = None, path: str | None = None,
             period: str | None = None, submission_ids: list[int] | None = None, states=None) -> Workload:
    """Sum the meter over leaf submissions; ``states=DONE`` for the figure to quote (a report not
    filled yet would count its fields as saved)."""
    q = select(func.count(), func.coalesce(func.sum(Submission.fields_total), 0),
               func.coalesce(func.sum(Submission.fields_confirmed), 0),
               func.coalesce(func.sum(Submission.fields_edited), 0),
               func.coalesce(func.sum(Submission.fields_typed), 0)).where(Submission.kind == "leaf")
    if task_id is not None:
        q = q.where(Submission.task_id == task_id)
    if unit_id is not None:
        q = q.where(Submission.unit_id == unit_id)
    if path is not None:
        q = q.where(Submission.path.startswith(path))
    if submission_ids is not None:
        q = q.where(Submission.id.in_(submission_ids))
    if states is not None:
        q = q.where(Submission.state.in_(list(states)))
    if period is not None:
        q = q.join(ReportTask, ReportTask.id == Submission.task_id).where(ReportTask.period == period)
    n, total, conf, edited, typed = db.session.execute(q).one()
    return Workload(n, int(total), int(conf), int(edited), int(typed))
