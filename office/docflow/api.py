"""JSON API of the document flow, over the same services as the pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from office.docflow import receiving
from office.docflow import service as df
from office.docflow.models import Document
from office.extensions import db
from office.web import current_actor, login_required

bp = Blueprint("docflow_api", __name__, url_prefix="/api/documents")


def doc_json(d: Document, full: bool = False) -> dict:
    out = {"id": d.id, "type": d.doc_type, "title": d.title, "number": d.doc_number, "state": d.state,
           "direction": d.direction, "urgency": d.urgency, "sensitivity": d.sensitivity,
           "issuers": [i.unit.name for i in d.issuers], "version": d.version,
           "reply_to_id": d.reply_to_id, "forwards_document_id": d.forwards_document_id}
    if full:
        out.update(body=d.body, note=d.note, signer=d.signer_name, sign_opinion=d.sign_opinion,
                   signed_at=d.signed_at.isoformat() if d.signed_at else None,
                   signoff_request_id=d.signoff_request_id,
                   main=[{"unit_id": r.unit_id, "name": r.unit.name} for r in d.main_recipients()],
                   cc=[{"unit_id": r.unit_id, "name": r.unit.name} for r in d.cc_recipients()],
                   attachments=[{"id": a.id, "name": a.name, "size": a.size, "type": a.file_type,
                                 "sha256": a.sha256} for a in d.attachments])
    return out


def receipt_json(r) -> dict:
    return {"id": r.id, "document_id": r.document_id, "root_document_id": r.root_document_id,
            "unit": r.unit.name, "state": r.state, "reg_number": r.reg_number,
            "signed_for_by": r.signed_for_by_name, "assignee": r.assignee_name, "result": r.result,
            "due_at": r.due_at.isoformat() if r.due_at else None, "version": r.version,
            "instruction_request_id": r.instruction_request_id}


def _body() -> dict:
    return request.get_json(silent=True) or {}


@bp.get("")
@login_required
def search():
    a = request.args
    rows = df.search(current_actor(), a.get("q", ""), doc_type=a.get("type") or None,
                     year=a.get("year", type=int), state=a.get("state") or None, number=a.get("number") or None)
    return jsonify(items=[doc_json(d) for d in rows])


@bp.post("")
@login_required
def create():
    b = _body()
    doc = df.create_draft(current_actor(), doc_type=b.get("type", ""), title=b.get("title", ""),
                          body=b.get("body", ""), lead_unit_id=b.get("lead_unit_id"),
                          co_issuer_ids=b.get("co_issuers", []), main=b.get("main", []), cc=b.get("cc", []),
                          urgency=b.get("urgency", ""), sensitivity=b.get("sensitivity", ""),
                          note=b.get("note", ""), due_days=b.get("due_days"), reply_to_id=b.get("reply_to_id"))
    return jsonify(doc_json(doc, True)), 201


@bp.get("/<int:doc_id>")
@login_required
def show(doc_id: int):
    return jsonify(doc_json(df.get_document(current_actor(), doc_id), True))


@bp.get("/<int:doc_id>/tree")
@login_required
def tree(doc_id: int):
    return jsonify(df.status_tree(current_actor(), doc_id))


@bp.post("/<int:doc_id>/<name>")
@login_required
def action(doc_id: int, name: str):
    from office.docflow.views import ACTIONS

    fn = ACTIONS.get(name)
    if fn is None:
        return jsonify(error="unknown action"), 404
    out = fn(current_actor(), doc_id, _body())
    doc = db.session.get(Document, doc_id)
    return jsonify(ok=True, result=out if isinstance(out, int) else None, document=doc_json(doc))


@bp.get("/incoming")
@login_required
def incoming():
    rows = receiving.incoming(current_actor(), state=request.args.get("state") or None)
    return jsonify(items=[dict(receipt_json(r), title=d.title, number=d.doc_number) for r, d in rows])


@bp.get("/receipts/<int:receipt_id>")
@login_required
def receipt(receipt_id: int):
    r = df.get_receipt(current_actor(), receipt_id, act=False)
    return jsonify(receipt_json(r))


class _Form(dict):
    def getlist(self, key):
        v = self.get(key, [])
        return [str(x) for x in (v if isinstance(v, list) else [v])]


@bp.post("/receipts/<int:receipt_id>/<name>")
@login_required
def receipt_action(receipt_id: int, name: str):
    from office.docflow.views import RECEIPT_ACTIONS

    fn = RECEIPT_ACTIONS.get(name)
    if fn is None:
        return jsonify(error="unknown action"), 404
    b = _Form(_body())
    if name == "forward":
        out = df.forward(current_actor(), receipt_id, main=b.getlist("main"), cover_text=b.get("text", ""))
        return jsonify(ok=True, document=doc_json(out))
    fn(current_actor(), receipt_id, b)
    return jsonify(ok=True, receipt=receipt_json(df.get_receipt(current_actor(), receipt_id, act=False)))
