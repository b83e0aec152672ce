"""Reporting forms pages (thin: every decision is in the services)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from jinja2 import pass_eval_context
from sqlalchemy.orm import joinedload

from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import admin as catalogue_admin
from office.forms import excel, review, rollup, shared, tasks
from office.forms.catalogue import elements_by_code, list_elements, list_templates
from office.forms.labels import (
    aggregation_label,
    field_status_label,
    period_label,
    source_label,
    state_label,
    value_type_label,
)
from office.forms.models import ReportTask, Submission
from office.forms.tasks import Workload
from office.org.models import Division
from office.timeutil import utcnow
from office.web import current_actor, login_required

bp = Blueprint("forms", __name__, url_prefix="/reports")

def _per_render(eval_ctx, name: str, labels: Callable[[str], str]) -> Callable[[str], str]:
    """A label function whose labels are looked up once per template rendering (a 200-field form
    shows a source and a state per row)."""
    memo = getattr(eval_ctx, "_office_labels", None)
    if memo is None:
        memo = eval_ctx._office_labels = {}
    fn = memo.get(name)
    if fn is None:
        cache: dict[str, str] = {}
        fn = memo[name] = lambda s: cache[s] if s in cache else cache.setdefault(s, labels(s))
    return fn


@bp.app_template_filter("source_label")
@pass_eval_context
def _source_label_filter(eval_ctx, s):
    return _per_render(eval_ctx, "source", source_label)(s)


@bp.app_template_filter("pct")
def _pct_filter(x):
    """92.7 -> "92.7", 80.0 -> "80"."""
    return f"{round(float(x or 0), 1):g}"


@bp.app_template_filter("rollup_num")
def _rollup_num_filter(v):
    """A roll-up cell: two decimals for a fraction, a whole number as such, nothing for no value."""
    if v is None:
        return ""
    return f"{v:.2f}" if v % 1 else str(int(v))


@bp.app_template_filter("field_status_label")
def _field_status_filter(s):
    return field_status_label(s)


@bp.app_template_filter("value_type_label")
def _value_type_filter(s):
    return value_type_label(s)


@bp.app_template_filter("aggregation_label")
def _aggregation_filter(s):
    return aggregation_label(s)


@bp.app_template_filter("period_label")
def _period_filter(s):
    return period_label(s)


@bp.app_template_filter("state_label")
@pass_eval_context
def _state_label_filter(eval_ctx, s):
    return _per_render(eval_ctx, "state", state_label)(s)


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    mine = tasks.my_submissions(actor)
    return render_template("forms/index.html", mine=mine, review=tasks.to_review(actor),
                           issued=tasks.list_tasks(actor), templates=list_templates(),
                           workload=tasks.workload(path=actor.unit_path or None, states=tasks.DONE,
                                                   submission_ids=[s.id for s in mine]))


@bp.route("/tasks/new", methods=["GET", "POST"])
@login_required
def new_task():
    actor = current_actor()
    if request.method == "POST":
        try:
            deadline = datetime.fromisoformat(request.form.get("deadline", "") + "T23:59:00")
        except ValueError:
            raise ValidationError(_("Give the deadline as a date.")) from None
        t = tasks.issue_task(actor, template_code=request.form.get("template", ""),
                             period=request.form.get("period", "").strip(), deadline=deadline,
                             title=request.form.get("title", "").strip(), target=request.form.get("target", ""),
                             unit_ids=[int(x) for x in request.form.get("unit_ids", "").replace("，", ",").split(",")
                                       if x.strip().isdigit()] or None)
        flash(_("Report issued to %(n)d unit(s).", n=len(_leaf_ids(t.id))), "success")
        return redirect(url_for("forms.task", task_id=t.id))
    return render_template("forms/new_task.html", templates=list_templates())


def _leaf_ids(task_id: int) -> list[int]:
    from office.forms.models import Submission

    return list(db.session.execute(db.select(Submission.id).where(Submission.task_id == task_id,
                                                                  Submission.kind == "leaf")).scalars())


def bars(rows, code: str) -> list[dict]:
    """A bar per row for the inline SVG chart of one element (widths in percent of the max)."""
    vals = [(r.name or r.key, r.values.get(code)) for r in rows]
    top = max((v for _, v in vals if v is not None), default=0) or 1
    return [{"label": n, "value": v, "width": round(100 * (v or 0) / top, 1), "y": i * 22}
            for i, (n, v) in enumerate(vals)]


@bp.get("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    actor = current_actor()
    t = tasks.get_task(actor, task_id)
    base = tasks.scope_path(actor, t)
    path = request.args.get("path") or base
    if not path.startswith(base) or not path.endswith("/"):
        raise NotFound(_("Not found."))
    division = db.session.execute(db.select(Division).where(Division.path == path)).scalar_one_or_none()
    total = rollup.rollup(t, path)
    rows = rollup.drilldown(t, path)
    codes = [f["element"] for f in t.template_version.fields()]
    by_code = elements_by_code(codes)
    els = [(code, by_code[code]) for code in codes]
    subs = level_submissions(t.id, path)
    charts = {code: bars(rows, code) for code, el in els if el.value_type in ("integer", "decimal", "percentage")}
    return render_template("forms/task.html", task=t, total=total, rows=rows, els=els, subs=subs, path=path,
                           base=base, division=division, charts=charts,
                           workload=tasks.workload(task_id=t.id, path=path, states=tasks.DONE), now=utcnow(),
                           may_review=lambda s: tasks.may_review(actor, s), may_urge=tasks.may_urge(actor, t))


def level_submissions(task_id: int, path: str) -> list:
    """The reports of the level a roll-up page shows: the units of ``path``'s division and of its
    child divisions (each child's row drills down to the units below it), with their units' names
    loaded in the same query. A province page lists its own and its cities' reports, not the
    townships' 1,400."""
    from sqlalchemy import func
    from sqlalchemy.orm import contains_eager

    from office.forms.models import Submission
    from office.org.models import Unit

    depth = func.length(Submission.path) - func.length(func.replace(Submission.path, "/", ""))
    return list(db.session.execute(
        db.select(Submission).join(Unit, Unit.id == Submission.unit_id).options(contains_eager(Submission.unit))
        .where(Submission.task_id == task_id, Submission.path.startswith(path), depth <= path.count("/") + 1)
        .order_by(Submission.path, Submission.id)).scalars())


@bp.get("/tasks/<int:task_id>/export.xlsx")
@login_required
def task_export(task_id: int):
    name, data = excel.rollup_export(current_actor(), task_id)
    return _xlsx(data, name)


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/tasks/<int:task_id>/urge")
@login_required
def urge(task_id: int):
    n = tasks.urge_late(current_actor(), task_id)
    flash(_("%(n)d unit(s) urged.", n=n), "success")
    return redirect(url_for("forms.task", task_id=task_id))


# What the fill page shows of a submission, read with it: its unit, its task and the form version.
_SHOWN = (joinedload(Submission.unit), joinedload(Submission.task).joinedload(ReportTask.template_version))


@bp.get("/submissions/<int:sub_id>")
@login_required
def submission(sub_id: int):
    actor = current_actor()
    sub = tasks.get_submission(actor, sub_id, options=_SHOWN)
    editable = sub.kind == "leaf" and sub.state in tasks.OPEN and tasks.may_fill(actor, sub)
    sections = tasks.form_view(sub) if sub.kind == "leaf" else []
    # Checks speak of stored values: before the first save the page shows prefills, not errors.
    checks = tasks.check(sub) if sub.kind == "leaf" and sub.field_status else None
    kids = tasks.children(sub)
    return render_template("forms/submission.html", sub=sub, sections=sections, editable=editable,
                           checks=checks, children=kids, may_review=review.may_decide(actor, sub),
                           may_submit=tasks.may_fill(actor, sub) and sub.state in tasks.OPEN,
                           approval=review.latest_request(sub),
                           pending=review.pending_below(sub),
                           may_review_child=lambda s: s.state == "submitted" and review.may_decide(actor, s),
                           workload=Workload(1, sub.fields_total, sub.fields_confirmed, sub.fields_edited,
                                             sub.fields_typed))


@bp.post("/submissions/<int:sub_id>/save")
@login_required
def save(sub_id: int):
    actor = current_actor()
    sub = tasks.get_submission(actor, sub_id)
    codes = [f["element"] for f in sub.task.template_version.fields()] if sub.kind == "leaf" else []
    if sub.kind == "leaf":
        posted = {c: request.form[f"f_{c}"] for c in codes if f"f_{c}" in request.form}
        versions = {}
        for c in codes:
            raw = request.form.get(f"v_{c}")
            if raw is not None:
                versions[c] = int(raw) if raw.isdigit() else 0
        exp = request.form.get("version", type=int)
        tasks.save(actor, sub_id, posted, versions, expected_version=exp)
    if request.form.get("action") == "submit":
        try:
            review.submit(actor, sub_id, warning_reason=request.form.get("warning_reason", ""))
        except ValidationError as exc:
            flash(exc.message, "error")
            return redirect(url_for("forms.submission", sub_id=sub_id))
        flash(_("Submitted."), "success")
    else:
        flash(_("Draft saved."), "success")
    return redirect(url_for("forms.submission", sub_id=sub_id))


@bp.post("/submissions/<int:sub_id>/approve")
@login_required
def approve(sub_id: int):
    review.approve(current_actor(), sub_id, note=request.form.get("note", ""),
                   expected_version=request.form.get("version", type=int))
    flash(_("Approved."), "success")
    return redirect(request.form.get("next") if _safe(request.form.get("next")) else
                    url_for("forms.submission", sub_id=sub_id))


@bp.post("/submissions/<int:sub_id>/return")
@login_required
def return_(sub_id: int):
    review.return_submission(current_actor(), sub_id, note=request.form.get("note", ""),
                             expected_version=request.form.get("version", type=int))
    flash(_("Returned with your note."), "success")
    return redirect(url_for("forms.submission", sub_id=sub_id))


def _safe(target):
    from office.web import is_safe_next

    return is_safe_next(target)


@bp.get("/submissions/<int:sub_id>/form.xlsx")
@login_required
def download(sub_id: int):
    name, data = excel.download(current_actor(), sub_id, filled=request.args.get("blank") != "1")
    return _xlsx(data, name)


@bp.post("/submissions/<int:sub_id>/upload")
@login_required
def upload(sub_id: int):
    f = request.files.get("file")
    if f is None or not f.filename:
        raise ValidationError(_("Choose a filled Excel file."))
    excel.upload(current_actor(), sub_id, f.read())
    flash(_("Excel values saved; check them and submit."), "success")
    return redirect(url_for("forms.submission", sub_id=sub_id))


@bp.route("/datasets", methods=["GET", "POST"])
@login_required
def datasets():
    actor = current_actor()
    if request.method == "POST":
        f = request.files.get("file")
        if f is None or not f.filename:
            raise ValidationError(_("Choose a CSV or Excel file."))
        try:
            as_of = date.fromisoformat(request.form.get("as_of", ""))
        except ValueError:
            raise ValidationError(_("Give the as-of date as YYYY-MM-DD.")) from None
        ds = shared.import_dataset(actor, name=request.form.get("name", ""),
                                   source_name=request.form.get("source_name", ""), as_of=as_of,
                                   data=f.read(), filename=f.filename)
        flash(_("%(n)d rows imported.", n=ds.row_count), "success")
        return redirect(url_for("forms.datasets"))
    return render_template("forms/datasets.html", datasets=shared.list_datasets(actor=actor))





# --- catalogue administration --------------------------------------------------------------------


def _catalogue_options(actor) -> dict:
    from office.forms.models import Aggregation, PeriodType, ValueType

    return {"value_types": [v.value for v in ValueType], "aggregations": [a.value for a in Aggregation],
            "period_types": [p.value for p in PeriodType], "owners": catalogue_admin.owner_choices(actor)}


@bp.route("/elements", methods=["GET", "POST"])
@login_required
def elements():
    actor = current_actor()
    form = {}
    if request.method == "POST":
        form = request.form
        try:
            el = catalogue_admin.element_from_form(actor, request.form)
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("Data element %(code)s created.", code=el.code), "success")
            return redirect(url_for("forms.elements"))
    return render_template("forms/elements.html", elements=list_elements(), form=form,
                           may_manage=catalogue_admin.may_manage(actor), **_catalogue_options(actor))


@bp.get("/templates")
@login_required
def templates_():
    actor = current_actor()
    return render_template("forms/templates.html", templates=list_templates(),
                           may_manage=catalogue_admin.may_manage(actor),
                           may_edit=lambda t: catalogue_admin.may_manage(actor, t.owner_function))


def _editor_rows(definition: dict) -> tuple[list[dict], list[dict]]:
    fields = [dict(f, section=s.get("title", "")) for s in definition.get("sections", []) for f in s["fields"]]
    return fields + [{} for _i in range(5)], list(definition.get("rules", [])) + [{} for _i in range(3)]


def _posted_rows(form) -> tuple[list[dict], list[dict]]:
    fields = []
    for i in range(catalogue_admin.MAX_FIELDS):
        if f"f{i}_element" not in form:
            break
        fields.append({"section": form.get(f"f{i}_section", ""), "element": form.get(f"f{i}_element", ""),
                       "label": form.get(f"f{i}_label", ""), "required": bool(form.get(f"f{i}_required")),
                       "min": form.get(f"f{i}_min", ""), "max": form.get(f"f{i}_max", ""),
                       "computed": form.get(f"f{i}_computed", ""), "warn_change_pct": form.get(f"f{i}_warn", "")})
    rules = []
    for i in range(catalogue_admin.MAX_RULES):
        if f"r{i}_expr" not in form:
            break
        rules.append({"expr": form.get(f"r{i}_expr", ""), "message": form.get(f"r{i}_message", ""),
                      "severity": form.get(f"r{i}_severity", "error")})
    return fields + [{} for _i in range(2)], rules + [{}]


@bp.route("/templates/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/templates/<code>/edit", methods=["GET", "POST"])
@login_required
def template_edit(code: str | None):
    actor = current_actor()
    tpl = catalogue_admin.get_template(code) if code else None
    if not catalogue_admin.may_manage(actor, tpl.owner_function if tpl else None):
        raise PermissionDenied(_("Only unit administrators and clerks of the owning department may do this."))
    if request.method == "POST":
        try:
            v = catalogue_admin.template_from_form(actor, request.form, code=code)
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            fields, rules = _posted_rows(request.form)
            return render_template("forms/template_edit.html", tpl=tpl, form=request.form, fields=fields,
                                   rules=rules, elements=list_elements(), **_catalogue_options(actor)), 400
        if v is None:
            flash(_("Nothing changed."), "info")
        else:
            flash(_("Form %(code)s saved as version %(v)d.", code=v.template.code, v=v.version), "success")
        return redirect(url_for("forms.templates_"))
    definition = catalogue_admin.current_definition(tpl) if tpl else {"sections": [], "rules": []}
    fields, rules = _editor_rows(definition)
    form = {"code": tpl.code, "name": tpl.name, "owner_function": tpl.owner_function,
            "period_type": tpl.period_type} if tpl else {}
    return render_template("forms/template_edit.html", tpl=tpl, form=form, fields=fields, rules=rules,
                           elements=list_elements(), **_catalogue_options(actor))


@bp.get("/templates/<code>/export.json")
@login_required
def template_export(code: str):
    name, body = catalogue_admin.export_file(current_actor(), code)
    return Response(body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/templates/import")
@login_required
def template_import():
    f = request.files.get("file")
    if f is None or not f.filename:
        raise ValidationError(_("Choose a form template JSON file."))
    try:
        v = catalogue_admin.import_template(current_actor(), f.read(1_000_001))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("forms.templates_"))
    if v is None:
        flash(_("The form is already up to date."), "info")
    else:
        flash(_("Form %(code)s saved as version %(v)d.", code=v.template.code, v=v.version), "success")
    return redirect(url_for("forms.templates_"))
