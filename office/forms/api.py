"""JSON API of the reporting forms: tasks, submissions, values (thin over the services)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from office.auth.scope import path_in_scope
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.forms import review, rollup, tasks, values
from office.forms.catalogue import element_by_code, element_period
from office.org.models import Unit
from office.web import current_actor, login_required

bp = Blueprint("forms_api", __name__, url_prefix="/api/reports")


def _task(t) -> dict:
    return {"id": t.id, "title": t.title, "template": t.template_version.template.code,
            "version": t.template_version.version, "period": t.period, "deadline": t.deadline.isoformat(),
            "issuing_unit": t.issuing_unit.code, "target": t.target}


def _sub(s, with_fields: bool = False) -> dict:
    out = {"id": s.id, "task_id": s.task_id, "unit": s.unit.code, "unit_name": s.unit.name, "kind": s.kind,
           "state": s.state, "version": s.version,
           "submitted_at": s.submitted_at.isoformat() if s.submitted_at else None,
           "review_note": s.review_note,
           "workload": {"total": s.fields_total, "prefilled_confirmed": s.fields_confirmed,
                        "edited": s.fields_edited, "typed": s.fields_typed}}
    if with_fields and s.kind == "leaf":
        out["fields"] = [{"code": f.code, "label": f.label, "value": f.prefill.text if f.prefill else "",
                          "source": f.prefill.source if f.prefill else None,
                          "source_ref": f.prefill.source_ref if f.prefill else "",
                          "as_of": f.prefill.source_date.isoformat() if f.prefill and f.prefill.source_date else None,
                          "version": f.prefill.version if f.prefill else None,
                          "locked": bool(f.prefill and f.prefill.locked), "status": f.status}
                         for _title, fs in tasks.form_view(s) for f in fs]
    return out


@bp.get("/tasks")
@login_required
def list_tasks():
    return jsonify(items=[_task(t) for t in tasks.list_tasks(current_actor())])


@bp.get("/tasks/<int:task_id>")
@login_required
def get_task(task_id: int):
    actor = current_actor()
    t = tasks.get_task(actor, task_id)
    path = request.args.get("path") or tasks.scope_path(actor, t)
    if not path.startswith(tasks.scope_path(actor, t)):
        raise NotFound(_("Not found."))
    total = rollup.rollup(t, path)

    def row(r):
        p = r.progress
        return {"path": r.key, "name": r.name, "values": r.values, "expected": p.expected,
                "submitted": p.submitted, "approved": p.approved, "on_time": p.on_time, "late": p.late,
                "completeness": p.completeness}

    return jsonify(task=_task(t), rollup=row(total), children=[row(r) for r in rollup.drilldown(t, path)],
                   workload=tasks.workload(task_id=t.id, path=path).as_dict())


@bp.get("/submissions")
@login_required
def my_submissions():
    actor = current_actor()
    return jsonify(items=[_sub(s) for s in tasks.my_submissions(actor)],
                   to_review=[_sub(s) for s in tasks.to_review(actor)])


@bp.get("/submissions/<int:sub_id>")
@login_required
def get_submission(sub_id: int):
    return jsonify(_sub(tasks.get_submission(current_actor(), sub_id), with_fields=True))


@bp.post("/submissions/<int:sub_id>/values")
@login_required
def save_values(sub_id: int):
    body = request.get_json(silent=True) or {}
    if not isinstance(body.get("values"), dict):
        raise ValidationError(_("Send {\"values\": {code: value}}."))
    versions = {k: int(v or 0) for k, v in (body.get("versions") or {}).items()}
    s = tasks.save(current_actor(), sub_id, {k: str(v) for k, v in body["values"].items()}, versions,
                   expected_version=body.get("version"))
    return jsonify(_sub(s, with_fields=True))


@bp.post("/submissions/<int:sub_id>/submit")
@login_required
def submit(sub_id: int):
    body = request.get_json(silent=True) or {}
    review.submit(current_actor(), sub_id, warning_reason=body.get("warning_reason", ""))
    return jsonify(_sub(tasks.get_submission(current_actor(), sub_id)))


@bp.post("/submissions/<int:sub_id>/approve")
@login_required
def approve(sub_id: int):
    body = request.get_json(silent=True) or {}
    return jsonify(_sub(review.approve(current_actor(), sub_id, note=body.get("note", ""))))


@bp.post("/submissions/<int:sub_id>/return")
@login_required
def return_(sub_id: int):
    body = request.get_json(silent=True) or {}
    return jsonify(_sub(review.return_submission(current_actor(), sub_id, note=body.get("note", ""))))


@bp.get("/values")
@login_required
def get_value():
    """?element=CODE&unit=UNITCODE&period=2025Q3: the one value, its source and history."""
    actor = current_actor()
    el = element_by_code(request.args.get("element", ""))
    unit = db.session.execute(db.select(Unit).where(Unit.code == request.args.get("unit", ""))).scalar_one_or_none()
    if unit is None or not path_in_scope(actor, unit.path):
        raise NotFound(_("Not found."))
    period = element_period(el, request.args.get("period", ""))
    v = values.read_values(unit.id, [(el.id, period)]).get((el.id, period))
    if v is None:
        return jsonify(element=el.code, unit=unit.code, period=period, value=None)
    return jsonify(element=el.code, unit=unit.code, period=period, value=v.value_text, source=v.source,
                   source_ref=v.source_ref, as_of=v.source_date.isoformat() if v.source_date else None,
                   version=v.version, locked=v.locked_by_id is not None, updated_by=v.updated_by_name,
                   updated_at=v.updated_at.isoformat(),
                   history=[{"version": h.version, "old": h.old_text, "new": h.new_text, "source": h.source,
                             "by": h.actor_name, "at": h.at.isoformat()} for h in values.history(v.id)])
