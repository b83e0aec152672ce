"""JSON API of the reporting forms: tasks, submissions, values (thin over the services)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from office.auth.scope import path_in_scope
from office.errors import NotFound
from office.extensions import db
from office.forms import review, rollup, tasks, values
from office.forms.catalogue import element_by_code, element_period
from office.openapi import (
    BOOL,
    DATETIME,
    ID,
    INT,
    NUM,
    STR,
    api_doc,
    arr,
    body,
    json_body,
    nullable,
    number,
    obj,
    text,
)
from office.org.models import Unit
from office.web import current_actor, login_required

TASK = obj(id=ID, title=STR, template=STR, version=INT, period=STR, deadline=DATETIME, issuing_unit=STR,
           target=STR)
_WORKLOAD = obj(total=INT, prefilled_confirmed=INT, edited=INT, typed=INT)
SUBMISSION = obj(("fields",), id=ID, task_id=ID, unit=STR, unit_name=STR, kind=STR, state=STR, version=INT,
                 submitted_at=nullable(DATETIME), review_note=nullable(STR), workload=_WORKLOAD,
                 fields=arr(obj(code=STR, label=STR, value=STR, source=nullable(STR), source_ref=nullable(STR),
                                as_of=nullable(STR), version=nullable(INT), locked=BOOL, status=STR)))
_ROLLUP_ROW = obj(path=STR, name=STR, values={"type": "object"}, expected=INT, submitted=INT, approved=INT,
                  on_time=INT, late=INT, completeness=NUM)
_CODE = {"type": "string", "minLength": 1, "maxLength": 64}
VALUES_BODY = {"type": "object", "required": ["values"], "properties": {
    "values": {"type": "object", "propertyNames": _CODE, "maxProperties": 500,
               "additionalProperties": {"anyOf": [text(2000), NUM, {"type": "null"}]}},
    "versions": {"type": "object", "propertyNames": _CODE, "maxProperties": 500,
                 "additionalProperties": nullable(number())},
    "version": nullable(number())}}

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
@api_doc("Reporting tasks I issued or must fill", response=obj(items=arr(TASK)))
def list_tasks():
    return jsonify(items=[_task(t) for t in tasks.list_tasks(current_actor())])


@bp.get("/tasks/<int:task_id>")
@login_required
@api_doc("One task: the roll-up of a subtree (path, default my scope), its children and the workload",
         query={"path": text(200)},
         response=obj(task=TASK, rollup=_ROLLUP_ROW, children=arr(_ROLLUP_ROW), workload={"type": "object"}))
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
@api_doc("My unit's submissions and those I review", response=obj(items=arr(SUBMISSION), to_review=arr(SUBMISSION)))
def my_submissions():
    actor = current_actor()
    return jsonify(items=[_sub(s) for s in tasks.my_submissions(actor)],
                   to_review=[_sub(s) for s in tasks.to_review(actor)])


@bp.get("/submissions/<int:sub_id>")
@login_required
@api_doc("One submission with its fields", response=SUBMISSION)
def get_submission(sub_id: int):
    return jsonify(_sub(tasks.get_submission(current_actor(), sub_id), with_fields=True))


@bp.post("/submissions/<int:sub_id>/values")
@login_required
@api_doc("Save values of a submission: {values: {code: value}, versions: {code: version}, version}",
         body=VALUES_BODY, response=SUBMISSION)
def save_values(sub_id: int):
    b = json_body()
    versions = {k: int(v or 0) for k, v in (b.get("versions") or {}).items()}
    posted = {k: "" if v is None else str(v) for k, v in b["values"].items()}
    s = tasks.save(current_actor(), sub_id, posted, versions, expected_version=b.get("version"))
    return jsonify(_sub(s, with_fields=True))


@bp.post("/submissions/<int:sub_id>/submit")
@login_required
@api_doc("Submit for review (warning_reason explains values that break a warning rule)",
         body=body(warning_reason=text(2000)), response=SUBMISSION)
def submit(sub_id: int):
    review.submit(current_actor(), sub_id, warning_reason=json_body().get("warning_reason", ""))
    return jsonify(_sub(tasks.get_submission(current_actor(), sub_id)))


@bp.post("/submissions/<int:sub_id>/approve")
@login_required
@api_doc("Approve a submitted report", body=body(note=text(2000)), response=SUBMISSION)
def approve(sub_id: int):
    return jsonify(_sub(review.approve(current_actor(), sub_id, note=json_body().get("note", ""))))


@bp.post("/submissions/<int:sub_id>/return")
@login_required
@api_doc("Return a submitted report with a note", body=body(note=text(2000)), response=SUBMISSION)
def return_(sub_id: int):
    return jsonify(_sub(review.return_submission(current_actor(), sub_id, note=json_body().get("note", ""))))


@bp.get("/values")
@login_required
@api_doc("One value of the value store: element × unit × period, its source and history",
         query={"element": text(64), "unit": text(64), "period": text(20)},
         response=obj(("source", "source_ref", "as_of", "version", "locked", "updated_by", "updated_at", "history"),
                       element=STR, unit=STR, period=STR, value=nullable(STR), source=nullable(STR),
                       source_ref=nullable(STR), as_of=nullable(STR), version=INT, locked=BOOL,
                       updated_by=nullable(STR), updated_at=DATETIME, history=arr({"type": "object"})))
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
