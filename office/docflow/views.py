"""Thin HTML routes of the document flow: lists, draft editor, document page, receipts, archive."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from office.auth.scope import path_in_scope
from office.docflow import handoff, receiving, signoff
from office.docflow import service as df
from office.docflow.common import RECEIPT_LABELS, STATE_LABELS, acts_for
from office.docflow.models import (
    DOC_TYPES,
    URGENCIES,
    DocState,
    Document,
    DocumentIssuer,
)
from office.docflow.words import BUTTONS, EVENTS
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.web import current_actor, login_required, paged

bp = Blueprint("docflow", __name__, url_prefix="/documents")


class _PageLabels(dict):
    """State labels translated once per page, not once per row (a list repeats a few states)."""

    def __init__(self, lazy: dict):
        super().__init__()
        self._lazy = lazy

    def __missing__(self, key):
        value = self[key] = str(self._lazy[key])
        return value

    def get(self, key, default=None):
        return self[key] if key in self._lazy else default


@bp.context_processor
def _labels():
    return {"state_labels": _PageLabels(STATE_LABELS), "receipt_labels": _PageLabels(RECEIPT_LABELS)}


def _ids(name: str) -> list[str]:
    out = []
    for v in request.form.getlist(name):
        out.extend(x.strip() for x in v.replace("，", ",").split(",") if x.strip())
    return out


def _numbers(values) -> list[int]:
    """Ids from form values, one each or several comma separated (as the picker posts them)."""
    return [int(x) for v in values for x in str(v).replace("，", ",").split(",") if x.strip().isdigit()
            and int(x) < 2**31]


@bp.get("/")
@login_required
def incoming():
    actor = current_actor()
    state = request.args.get("state", "open")
    p, rows = paged(lambda limit, offset: receiving.incoming_lines(actor, state=state or None, limit=limit,
                                                                   offset=offset),
                    lambda: receiving.incoming_count(actor, state=state or None))
    return render_template("docflow/incoming.html", rows=rows, state=state, paging=p)


@bp.get("/outgoing")
@login_required
def outgoing():
    """The documents of the organs the actor works for, last changed first, 50 a page."""
    actor = current_actor()
    p, rows = paged(lambda limit, offset: df.unit_documents(actor, limit=limit, offset=offset),
                    lambda: df.unit_document_count(actor))
    return render_template("docflow/outgoing.html", rows=rows, paging=p)


@bp.get("/search")
@login_required
def search():
    actor = current_actor()
    a = request.args
    rows = df.search(actor, a.get("q", ""), doc_type=a.get("type") or None,
                     year=int(a["year"]) if a.get("year", "").isdigit() else None, state=a.get("state") or None,
                     number=a.get("number") or None)
    return render_template("docflow/search.html", rows=rows, args=a, doc_types=DOC_TYPES,
                           states=DocState.ALL)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    actor = current_actor()
    if request.method == "POST":
        f = request.form
        title, body = f.get("title", ""), f.get("body", "")
        upload = request.files.get("docx")
        if upload is not None and upload.filename:
            draft = df.import_docx(upload.read(_max_upload() + 1))
            title, body = title.strip() or draft.title, draft.body
        doc = df.create_draft(actor, doc_type=f.get("doc_type", ""), title=title,
                              body=body, lead_unit_id=int(f["lead_unit_id"])
                              if f.get("lead_unit_id", "").isdigit() else None,
                              co_issuer_ids=[int(x) for x in _ids("co_issuers") if x.isdigit()],
                              main=_ids("main") + f.getlist("main_group"), cc=_ids("cc"),
                              urgency=f.get("urgency", ""), sensitivity=f.get("sensitivity", ""),
                              note=f.get("note", ""), due_days=int(f["due_days"]) if f.get("due_days", "")
                              .isdigit() else None,
                              reply_to_id=int(f["reply_to_id"]) if f.get("reply_to_id", "").isdigit() else None)
        flash(_("Draft saved."), "success")
        return redirect(url_for("docflow.show", doc_id=doc.id))
    return render_template("docflow/edit.html", doc=None, doc_types=DOC_TYPES, urgencies=URGENCIES,
                           groups=df.GROUPS, reply_to=request.args.get("reply_to", ""))


def _max_upload() -> int:
    from office.docflow.attachments import max_bytes

    return max_bytes()


@bp.post("/<int:doc_id>/import-docx")
@login_required
def import_docx(doc_id: int):
    upload = request.files.get("docx")
    if upload is None or not upload.filename:
        flash(_("Choose a .docx file."), "warning")
    else:
        df.import_into(current_actor(), doc_id, upload.read(_max_upload() + 1), version=request.form.get("version"),
                       replace_title=bool(request.form.get("replace_title")))
        flash(_("The .docx draft was imported as a new revision."), "success")
    return redirect(url_for("docflow.show", doc_id=doc_id))


@bp.post("/<int:doc_id>/pdf")
@login_required
def document_pdf(doc_id: int):
    req = df.request_document_pdf(current_actor(), doc_id)
    return redirect(url_for("pdf.page", request_id=req.id))


@bp.post("/receipts/<int:receipt_id>/pdf")
@login_required
def receipt_pdf(receipt_id: int):
    req = df.request_receipt_pdf(current_actor(), receipt_id)
    return redirect(url_for("pdf.page", request_id=req.id))


@bp.post("/<int:doc_id>/edit")
@login_required
def edit(doc_id: int):
    f = request.form
    df.update_draft(current_actor(), doc_id, version=f.get("version"), title=f.get("title"), body=f.get("body"),
                    doc_type=f.get("doc_type"), urgency=f.get("urgency"), sensitivity=f.get("sensitivity"),
                    note=f.get("note"), main=_ids("main") if "main" in f else None,
                    cc=_ids("cc") if "cc" in f else None)
    flash(_("Saved as a new revision."), "success")
    return redirect(url_for("docflow.show", doc_id=doc_id))


# What the document page needs of a document as records: its issuers (with their units) and lead
# unit, read with it (the steps' permission checks use them). Its recipients, attachments and
# revisions are listed as plain values (``shown_parts``), its events as rows (``timeline``).
_SHOWN = (joinedload(Document.issuers).joinedload(DocumentIssuer.unit), joinedload(Document.lead_unit))


def _show(doc_id: int, *, failed: str = "", form=None, status: int = 200):
    """The document page; after a refused action, with the form the person filled in kept."""
    actor = current_actor()
    doc = df.get_document(actor, doc_id, options=_SHOWN)
    events = df.timeline(doc.id)
    parts = df.shown_parts(doc.id)
    revs = parts.revisions
    diff = []
    if len(revs) > 1:
        a = request.args.get("a", type=int) or revs[-2]
        b = request.args.get("b", type=int) or revs[-1]
        diff = df.diff(doc, a, b)
    issuer = any(acts_for(actor, i.unit) for i in doc.issuers)
    tree = df.status_tree(actor, doc.id, doc) if doc.state in (DocState.DISTRIBUTED, DocState.ARCHIVED) else None
    signoff_task = signoff.open_task(actor, doc.signoff_request_id) if doc.state == DocState.SIGNOFF else None
    return render_template("docflow/show.html", doc=doc, parts=parts, events=events, revs=revs, diff=diff, issuer=issuer,
                           tree=tree, doc_types=DOC_TYPES, urgencies=URGENCIES, signoff_task=signoff_task,
                           nxt=handoff.next_step(actor, doc), may_review=handoff.may_review(actor, doc),
                           may_countersign=handoff.may_countersign(actor, doc), buttons=BUTTONS,
                           event_labels=_PageLabels(EVENTS), failed=failed, form=form or {},
                           may_withdraw=doc.state == DocState.REVIEW and actor.user_id == doc.drafter_id), status


@bp.get("/<int:doc_id>")
@login_required
def show(doc_id: int):
    return _show(doc_id)


def _void(a, d, f):
    old = df.get_document(a, d).doc_number
    df.void_number(a, d, f.get("text", ""), version=f.get("version"))
    return old


ACTIONS = {
    "submit": lambda a, d, f: df.submit(a, d, version=f.get("version")),
    "withdraw": lambda a, d, f: df.withdraw(a, d, reason=f.get("text", ""), version=f.get("version")),
    "review_pass": lambda a, d, f: df.review(a, d, approve=True, reason=f.get("text", ""), version=f.get("version")),
    "review_return": lambda a, d, f: df.review(a, d, approve=False, reason=f.get("text", ""),
                                               version=f.get("version")),
    "countersign": lambda a, d, f: df.countersign(a, d, opinion=f.get("text", ""), version=f.get("version")),
    "countersign_object": lambda a, d, f: df.countersign(a, d, opinion=f.get("text", ""), agree=False,
                                                         version=f.get("version")),
    "signoff": lambda a, d, f: df.signoff(a, d, opinion=f.get("text", ""), version=f.get("version")),
    "signoff_return": lambda a, d, f: df.signoff(a, d, opinion=f.get("text", ""), approve=False,
                                                 version=f.get("version")),
    "recheck": lambda a, d, f: df.recheck(a, d, version=f.get("version")),
    "number": lambda a, d, f: df.allocate_number(a, d, version=f.get("version")),
    "void_number": _void,
    "seal": lambda a, d, f: df.seal(a, d, version=f.get("version")),
    "distribute": lambda a, d, f: df.distribute(a, d, version=f.get("version")),
    "urge": lambda a, d, f: df.urge(a, d, message=f.get("text", "")),
    "recall": lambda a, d, f: df.recall(a, d, reason=f.get("text", "")),
    "archive": lambda a, d, f: df.file_document(a, d, retention=f.get("retention", "Y"),
                                                org_code=f.get("org_code", "")),
}


@bp.post("/<int:doc_id>/action/<name>")
@login_required
def action(doc_id: int, name: str):
    """One step on the document. A refusal (bad input, not his step, a stale page) is shown on the
    document page with the form kept; after the step the person lands on the next thing to do."""
    fn = ACTIONS.get(name)
    if fn is None:
        return render_template("errors/error.html", status=404, message=_("Not found.")), 404
    actor = current_actor()
    try:
        out = fn(actor, doc_id, request.form)
    except (ValidationError, PermissionDenied, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _show(doc_id, failed=name, form=request.form, status=exc.status)
    doc = df.get_document(actor, doc_id)
    url, text = handoff.land(actor, doc, name, out)
    flash(text, "success")
    return redirect(url)


@bp.post("/<int:doc_id>/attachments")
@login_required
def upload(doc_id: int):
    file = request.files.get("file")
    if file is None:
        flash(_("Choose a file."), "warning")
    else:
        df.add_attachment(current_actor(), doc_id, file.filename or "", file.read())
        flash(_("Attachment added."), "success")
    return redirect(url_for("docflow.show", doc_id=doc_id))


@bp.get("/<int:doc_id>/attachments/<int:att_id>")
@login_required
def download(doc_id: int, att_id: int):
    from io import BytesIO

    from office.docflow.attachments import MIME

    att, data = df.open_attachment(current_actor(), doc_id, att_id)
    return send_file(BytesIO(data), mimetype=MIME[att.file_type], as_attachment=True, download_name=att.name)


@bp.get("/<int:doc_id>/tree")
@login_required
def tree(doc_id: int):
    actor = current_actor()
    doc = df.get_document(actor, doc_id)
    return render_template("docflow/tree.html", doc=doc, tree=df.status_tree(actor, doc_id, doc))


@bp.get("/receipts/<int:receipt_id>")
@login_required
def receipt(receipt_id: int):
    actor = current_actor()
    r = df.get_receipt(actor, receipt_id, act=False)
    doc = db.session.get(Document, r.document_id)
    original = db.session.get(Document, r.root_document_id) if r.root_document_id != r.document_id else None
    from office.auth.service import users_with_role

    people = {u.id: u for role in ("staff", "clerk", "leader") for u, _p in users_with_role(r.unit_id, role)}
    instruction_task = signoff.open_task(actor, r.instruction_request_id)
    instruction_running = signoff.request_running(r.instruction_request_id)
    return render_template("docflow/receipt.html", r=r, doc=doc, original=original, steps=df.steps(r),
                           people=list(people.values()), groups=df.GROUPS, instruction_task=instruction_task,
                           instruction_running=instruction_running)


def _one_person(form) -> int:
    """The one person a receipt is assigned to (承办人): a single id, or a message."""
    ids = form.getlist("user_id")
    if len(ids) != 1 or not str(ids[0]).isdigit():
        raise ValidationError(_("Choose one person to handle the document."))
    return int(ids[0])


RECEIPT_ACTIONS = {
    "sign_for": lambda a, r, f: df.sign_for(a, r, version=f.get("version")),
    "return": lambda a, r, f: df.return_missent(a, r, f.get("text", ""), version=f.get("version")),
    "register": lambda a, r, f: df.register(a, r, version=f.get("version")),
    "propose": lambda a, r, f: df.propose(a, r, f.get("text", ""), version=f.get("version")),
    "instruct": lambda a, r, f: df.instruct(a, r, f.get("text", ""), version=f.get("version")),
    "request_instruction": lambda a, r, f: df.request_instruction(a, r, f.get("text", ""),
                                                                  version=f.get("version")),
    "assign": lambda a, r, f: df.assign(a, r, _one_person(f), f.get("text", ""), version=f.get("version")),
    "close": lambda a, r, f: df.close(a, r, f.get("text", ""), version=f.get("version")),
    "circulate": lambda a, r, f: df.circulate(a, r, _numbers(f.getlist("user_id")),
                                              version=f.get("version")),
    "read": lambda a, r, f: df.mark_read(a, r),
    "forward": lambda a, r, f: df.forward(a, r, main=_ids("main") + f.getlist("main_group"),
                                          cover_text=f.get("text", "")),
}


# What the person is told after each receipt action.
RECEIPT_DONE = {
    "sign_for": _l("Signed for."), "return": _l("Returned to the sender as mis-sent."),
    "register": _l("Registered."), "propose": _l("Proposal recorded."),
    "request_instruction": _l("Sent to the leader for instruction."), "assign": _l("Assigned for handling."),
    "close": _l("Closed: the handling is finished."), "circulate": _l("Sent round for reading."),
    "read": _l("Marked as read."), "forward": _l("Forwarded to the units below."),
}


@bp.post("/receipts/<int:receipt_id>/<name>")
@login_required
def receipt_action(receipt_id: int, name: str):
    fn = RECEIPT_ACTIONS.get(name)
    if fn is None:
        return render_template("errors/error.html", status=404, message=_("Not found.")), 404
    out = fn(current_actor(), receipt_id, request.form)
    flash(str(RECEIPT_DONE.get(name, _("Done."))), "success")
    if isinstance(out, Document):
        return redirect(url_for("docflow.show", doc_id=out.id))
    return redirect(url_for("docflow.receipt", receipt_id=receipt_id))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """The unit administrator's page: how the unit's outgoing documents are handled (one person may
    combine duties where the office has one clerk)."""
    from office.docflow import duties
    from office.docflow.common import unit as load_unit

    actor = current_actor()
    unit_id = request.values.get("unit_id", type=int) or actor.unit_id
    u = load_unit(unit_id)
    if not path_in_scope(actor, u.path):
        raise NotFound(_("Not found."))
    if not duties.may_set(actor, u):
        raise PermissionDenied(_("Only the unit administrator of %(unit)s sets how its documents are handled.",
                                 unit=u.name))
    status = 200
    if request.method == "POST":
        try:
            choice = request.form.get("combine_duties")
            if choice not in ("0", "1"):
                raise ValidationError(_("Choose whether duties are separated or combined."))
            duties.set_combine_duties(actor, u.id, choice == "1", request.form.get("reason", ""))
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            status = 400
        else:
            flash(_("Saved: the settings of %(unit)s.", unit=u.name), "success")
            return redirect(url_for("docflow.settings", unit_id=u.id))
    return render_template("docflow/settings.html", unit=u, row=duties.settings_of(u.id),
                           form=request.form if status != 200 else {}), status


@bp.get("/archive")
@login_required
def archive():
    actor = current_actor()
    year = request.args.get("year", type=int)
    return render_template("docflow/archive.html", records=df.records(actor, year=year, q=request.args.get("q", "")),
                           year=year)


@bp.get("/archive/export")
@login_required
def archive_export():
    actor = current_actor()
    year = request.args.get("year", type=int)
    unit_id = request.args.get("unit_id", type=int) or actor.unit_id
    if not year:
        return render_template("errors/error.html", status=400, message=_("Choose a year.")), 400
    data = df.export_package(actor, unit_id, year)
    return Response(data, mimetype="application/zip",
                    headers={"Content-Disposition": f"attachment; filename=archive-{unit_id}-{year}.zip"})
