"""Approval pages (thin): to-do, done, my requests, copied to me, the request page and its actions,
stand-alone requests, signatures and the flow editor."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import inspect, select
from sqlalchemy.orm import joinedload

from office import storage
from office.approvals import engine, flows, queries, sheet, signatures, standalone, subjects
from office.approvals.labels import ACTION_LABELS, ASSIGNEE_KINDS, DECISION_FLASH, NODE_TYPES, STATE_LABELS
from office.approvals.models import ApprovalAction, ApprovalRequest, FlowVersion, Signature, Task
from office.auth.models import User
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.web import current_actor, login_required, paged

bp = Blueprint("approvals", __name__, url_prefix="/approvals")


@bp.app_context_processor
def _labels():
    return {"approval_state_labels": STATE_LABELS, "approval_action_labels": ACTION_LABELS,
            "approval_node_labels": dict(NODE_TYPES)}


# --- lists ---------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def todo():
    """The open tasks, 50 a page, soonest due first (the count is the workbench card's)."""
    actor = current_actor()
    p, rows = paged(lambda limit, offset: queries.todo_lines(actor, limit, offset), lambda: queries.todo_count(actor))
    return render_template("approvals/list.html", tab="todo", paging=p, rows=rows)


@bp.get("/done")
@login_required
def done():
    actor = current_actor()
    return render_template("approvals/list.html", tab="done", rows=queries.done_lines(actor))


@bp.get("/mine")
@login_required
def mine():
    reqs = queries.my_requests(current_actor())
    return render_template("approvals/list.html", tab="mine",
                           reqs=[{"req": r, "summary": subjects.summary_of(r.subject_type, r.subject_id)}
                                 for r in reqs])


@bp.get("/cc")
@login_required
def cc():
    ccs = queries.copied_to_me(current_actor())
    return render_template("approvals/list.html", tab="cc",
                           reqs=[{"req": c.request, "summary": subjects.summary_of(c.request.subject_type,
                                                                                   c.request.subject_id)}
                                 for c in ccs])


# --- the request page ----------------------------------------------------------------------------


# What the request page shows of a request: its flow version and flow and its unit, read with it.
_SHOWN = (joinedload(ApprovalRequest.flow_version).joinedload(FlowVersion.flow), joinedload(ApprovalRequest.unit))


@bp.get("/<int:request_id>")
@login_required
def show(request_id: int):
    actor = current_actor()
    req, tasks, people = queries.shown_request(actor, request_id, options=_SHOWN)
    actions = queries.timeline(req)
    item, attachments = standalone.item_and_attachments(req)
    return render_template(
        "approvals/request.html", req=req, actions=actions, tasks=tasks, people=people,
        nodes=req.flow_version.nodes, flow=req.flow_version.flow, allowed=queries.allowed(actor, req, tasks),
        summary=queries.summary(req), subject_url=queries.subject_url(req), item=item,
        attachments=attachments, accept=storage.ACCEPT,
        may_edit_attachments=(item is not None and req.state == "returned" and req.requester_id == actor.user_id),
        subject_label=(subjects.get_subject(req.subject_type).label
                       if subjects.get_subject(req.subject_type) else req.subject_type),
        words=subjects.words_of(req.subject_type))


def _user_ids(field: str) -> list[int]:
    """The people a form names: user names or user ids (the picker posts what the server takes),
    several separated by commas."""
    values = [v.strip() for raw in request.form.getlist(field) for v in raw.replace("，", ",").split(",")
              if v.strip()]
    if not values:
        raise ValidationError(_("Choose a person."))
    out = []
    for v in values:
        uid = db.session.execute(select(User.id).where(User.username == v, User.active.is_(True))) \
            .scalar_one_or_none()
        if uid is None and v.isdigit() and int(v) < 2**31:
            uid = db.session.execute(select(User.id).where(User.id == int(v), User.active.is_(True))) \
                .scalar_one_or_none()
        if uid is None:
            raise ValidationError(_("No active user named %(name)s.", name=v))
        out.append(uid)
    return list(dict.fromkeys(out))


def _user_id(field: str) -> int:
    ids = _user_ids(field)
    if len(ids) != 1:
        raise ValidationError(_("Choose one person."))
    return ids[0]


@bp.post("/<int:request_id>/act")
@login_required
def act(request_id: int):
    actor = current_actor()
    f = request.form
    action = f.get("action", "")
    version = f.get("version")
    opinion = f.get("opinion", "")
    task_id = f.get("task_id", type=int)
    if task_id is not None:
        owner = db.session.execute(select(Task.request_id).where(Task.id == task_id)).scalar_one_or_none()
        if owner != request_id:
            raise NotFound(_("No such approval task."))
    try:
        if action in DECISION_FLASH:
            if action == "approve":
                engine.approve(actor, task_id, opinion=opinion, version=version)
            elif action == "reject":
                engine.reject(actor, task_id, opinion=opinion, version=version)
            else:
                engine.return_task(actor, task_id, to=f.get("to", "drafter"), opinion=opinion, version=version)
            # The subject's hand-off (where the approver goes next, what happens next), else back here.
            url, message = subjects.after_decision_of(actor, db.session.get(ApprovalRequest, request_id), action) \
                or (url_for("approvals.show", request_id=request_id), str(DECISION_FLASH[action]))
            flash(message, "success")
            return redirect(url)
        if action == "transfer":
            engine.transfer(actor, task_id, to_user_id=_user_id("user"), opinion=opinion, version=version)
            flash(_("Transferred."), "success")
        elif action == "add_signer":
            engine.add_signer(actor, task_id, user_id=_user_id("user"), mode=f.get("mode", ""),
                              opinion=opinion, version=version)
            flash(_("Signer added."), "success")
        elif action == "withdraw":
            engine.withdraw(actor, request_id, reason=opinion, version=version)
            flash(_("Withdrawn."), "success")
        elif action == "resubmit":
            engine.resubmit(actor, request_id, version=version)
            flash(_("Submitted again."), "success")
        elif action == "urge":
            engine.urge(actor, request_id, message=opinion)
            flash(_("The approvers have been reminded."), "success")
        elif action == "comment":
            engine.comment(actor, request_id, text=opinion)
            flash(_("Comment added."), "success")
        elif action == "cc":
            engine.carbon_copy(actor, request_id, user_ids=_user_ids("user"))
            flash(_("Copied."), "success")
        else:
            abort(400)
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(url_for("approvals.show", request_id=request_id))


# --- stand-alone requests ------------------------------------------------------------------------


def _uploads() -> list[tuple[str, bytes]]:
    """The uploaded files (name, bytes), each read up to one byte past the cap (so it is refused)."""
    cap = standalone.max_attachment_bytes() + 1
    return [(f.filename, f.read(cap)) for f in request.files.getlist("attachments") if f and f.filename]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    actor = current_actor()
    if request.method == "POST":
        try:
            req = standalone.submit(actor, title=request.form.get("title", ""), body=request.form.get("body", ""),
                                    amount=request.form.get("amount"), flow=request.form.get("flow_id", type=int)
                                    or 0, attachments=_uploads())
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return _new_form(actor, request.form), 400
        flash(_("Submitted for approval."), "success")
        # The committed request's id from its identity: reading req.id would load the request again.
        return redirect(url_for("approvals.show", request_id=inspect(req).identity[0]))
    return _new_form(actor, {})


def _new_form(actor, form):
    """The new-request form with the flows the actor may choose (listed only when it is shown)."""
    return render_template("approvals/new.html", flows=flows.available_flows(actor, standalone.SUBJECT), form=form,
                           accept=storage.ACCEPT)


@bp.get("/<int:request_id>/attachments/<int:attachment_id>")
@login_required
def attachment(request_id: int, attachment_id: int):
    att, data = standalone.open_attachment(current_actor(), request_id, attachment_id)
    return Response(data, mimetype=storage.MIME[att.file_type], headers=storage.download_headers(att.name))


@bp.post("/<int:request_id>/attachments")
@login_required
def attachment_add(request_id: int):
    try:
        rows = standalone.add_attachments(current_actor(), request_id, _uploads(),
                                          version=request.form.get("version"))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("%(n)s file(s) attached.", n=len(rows)), "success")
    return redirect(url_for("approvals.show", request_id=request_id))


@bp.post("/<int:request_id>/attachments/<int:attachment_id>/delete")
@login_required
def attachment_remove(request_id: int, attachment_id: int):
    try:
        standalone.remove_attachment(current_actor(), request_id, attachment_id,
                                     version=request.form.get("version"))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Attachment removed."), "success")
    return redirect(url_for("approvals.show", request_id=request_id))


@bp.post("/<int:request_id>/sheet.pdf")
@login_required
def sheet_pdf(request_id: int):
    """Render the approval sheet (审批单) in the background; the PDF page polls and downloads it."""
    pdf_req = sheet.request_sheet_pdf(current_actor(), request_id)
    db.session.commit()
    return redirect(url_for("pdf.page", request_id=pdf_req.id))


# --- signatures ----------------------------------------------------------------------------------


@bp.route("/signature", methods=["GET", "POST"])
@login_required
def signature():
    actor = current_actor()
    if request.method == "POST":
        try:
            if request.form.get("remove"):
                signatures.remove_signature(actor)
                flash(_("Signature removed."), "success")
            else:
                upload = request.files.get("image")
                if upload is not None and upload.filename:
                    data = upload.read(signatures.MAX_BYTES + 1)
                else:
                    data = signatures.data_url_bytes(request.form.get("data_url", ""))
                signatures.save_signature(actor, data)
                flash(_("Signature saved."), "success")
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        return redirect(url_for("approvals.signature"))
    return render_template("approvals/signature.html", current=signatures.current_signature(actor.user_id))


@bp.get("/signature/<int:signature_id>.png")
@login_required
def signature_image(signature_id: int):
    actor = current_actor()

    def may_view(sig: Signature) -> bool:
        rids = db.session.execute(select(ApprovalAction.request_id).where(
            ApprovalAction.signature_id == sig.id).distinct().limit(50)).scalars().all()
        return any(engine.can_view(actor, db.session.get(ApprovalRequest, r)) for r in rids)

    sig = signatures.signature_image(actor, signature_id, may_view)
    resp = Response(sig.image, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


# --- flow editor ---------------------------------------------------------------------------------


def _require_editor():
    if not flows.may_edit(current_actor()):
        abort(403)


@bp.get("/flows")
@login_required
def flow_list():
    actor = current_actor()
    return render_template("approvals/flows.html", flows=flows.all_flows(actor), may_edit=flows.may_edit(actor),
                           subject_labels={st.key: st.label for st in subjects.subject_types()})


def _nodes_from_form(form) -> list[dict]:
    nodes = []
    for i in range(int(form.get("node_count", 0) or 0) + 1):
        name = (form.get(f"n{i}_name") or "").strip()
        kind = form.get(f"n{i}_kind") or ""
        value = (form.get(f"n{i}_value") or "").strip()
        if not name and not value and kind != "gov_leader":
            continue
        if form.get(f"n{i}_delete"):
            continue
        a: dict = {"kind": kind}
        parts = [p.strip() for p in value.replace("，", ",").split(",") if p.strip()]
        if kind == "user":
            a["users"] = parts
        elif kind == "unit_leaders":
            a["units"] = parts
        elif kind == "role":
            a["role"] = value
        elif kind == "leader_up":
            a["levels"] = int(value) if value.isdigit() else 1
        elif kind == "leader_up_to":
            a["level"] = value or "province"
        n = {"name": name, "type": form.get(f"n{i}_type") or "single", "assignees": a,
             "condition": (form.get(f"n{i}_condition") or "").strip() or None,
             "deadline_hours": (form.get(f"n{i}_deadline") or "").strip() or None,
             "timeout": form.get(f"n{i}_timeout") or "remind",
             "empty": form.get(f"n{i}_empty") or "admin"}
        nodes.append(n)
    return nodes


def _node_rows(definition: dict) -> list[dict]:
    rows = []
    for n in definition.get("nodes", []):
        a = n.get("assignees", {})
        kind = a.get("kind", "user")
        value = {"user": ",".join(a.get("users", [])), "unit_leaders": ",".join(a.get("units", [])),
                 "role": a.get("role", ""), "leader_up": str(a.get("levels", "")),
                 "leader_up_to": a.get("level", "")}.get(kind, "")
        rows.append({"name": n.get("name", ""), "type": n.get("type"), "kind": kind, "value": value,
                     "condition": n.get("condition", ""), "deadline": n.get("deadline_hours") or "",
                     "timeout": n.get("timeout", "remind"), "empty": n.get("empty", "admin")})
    return rows


@bp.route("/flows/edit", methods=["GET", "POST"], defaults={"flow_id": None})
@bp.route("/flows/<int:flow_id>/edit", methods=["GET", "POST"])
@login_required
def flow_edit(flow_id: int | None):
    _require_editor()
    actor = current_actor()
    flow = flows.editable_flow(actor, flow_id) if flow_id else None
    if request.method == "POST":
        f = request.form
        try:
            if f.get("mode") == "json":
                definition = json.loads(f.get("definition") or "null")
            else:
                definition = {"auto_pass_same_person": bool(f.get("auto_pass")), "nodes": _nodes_from_form(f)}
            unit_id = actor.unit_id if f.get("scope") == "unit" else None
            saved = flows.save_flow(actor, key=flow.key if flow else f.get("key", ""), name=f.get("name", ""),
                                    definition=definition, subject_type=f.get("subject_type", ""),
                                    unit_id=flow.unit_id if flow else unit_id)
        except ValueError:
            flash(_("The flow definition is not valid JSON."), "error")
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("Flow saved (version %(n)s).", n=saved.current_version.number), "success")
            return redirect(url_for("approvals.flow_edit", flow_id=saved.id))
    definition = flow.current_version.definition if flow and flow.current_version else {"nodes": []}
    return render_template("approvals/flow_edit.html", flow=flow, rows=_node_rows(definition),
                           definition=json.dumps(definition, ensure_ascii=False, indent=2),
                           auto_pass=definition.get("auto_pass_same_person", False),
                           node_types=NODE_TYPES, assignee_kinds=ASSIGNEE_KINDS,
                           subject_types=subjects.subject_types())


@bp.get("/flows/<int:flow_id>/export.json")
@login_required
def flow_export(flow_id: int):
    _require_editor()
    name, body = flows.export_file(current_actor(), flow_id)
    return Response(body, mimetype="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/flows/import")
@login_required
def flow_import():
    _require_editor()
    upload = request.files.get("file")
    data = upload.read(512 * 1024) if upload is not None and upload.filename else request.form.get("json", "")
    try:
        flow = flows.import_flow(current_actor(), data)
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("approvals.flow_list"))
    flash(_("Flow imported."), "success")
    return redirect(url_for("approvals.flow_edit", flow_id=flow.id))


@bp.post("/flows/<int:flow_id>/active")
@login_required
def flow_active(flow_id: int):
    _require_editor()
    actor = current_actor()
    flows.set_active(actor, flows.editable_flow(actor, flow_id), request.form.get("active") == "1")
    return redirect(url_for("approvals.flow_list"))

