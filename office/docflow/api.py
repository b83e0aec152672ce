"""JSON API of the document flow, over the same services as the pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from office.docflow import receiving
from office.docflow import service as df
from office.docflow.models import Document
from office.extensions import db
from office.openapi import (
    BOOL,
    DATETIME,
    ID,
    INT,
    STR,
    api_doc,
    arr,
    body,
    enum,
    json_body,
    nullable,
    number,
    obj,
    text,
)
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


# --- schemas of the answers and request bodies (OpenAPI, office/openapi.py) ----------------------

DOCUMENT = obj(id=ID, type=STR, title=STR, number=nullable(STR), state=STR, direction=STR, urgency=STR,
               sensitivity=STR, issuers=arr(STR), version=INT, reply_to_id=nullable(INT),
               forwards_document_id=nullable(INT))
_RECIPIENT = obj(unit_id=ID, name=STR)
DOCUMENT_FULL = {**DOCUMENT, "properties": {**DOCUMENT["properties"], **obj(
    body=STR, note=STR, signer=nullable(STR), sign_opinion=nullable(STR), signed_at=nullable(DATETIME),
    signoff_request_id=nullable(INT), main=arr(_RECIPIENT), cc=arr(_RECIPIENT),
    attachments=arr(obj(id=ID, name=STR, size=INT, type=STR, sha256=STR)))["properties"]}}
DOCUMENT_FULL["required"] = list(DOCUMENT_FULL["properties"])
RECEIPT = obj(id=ID, document_id=ID, root_document_id=ID, unit=STR, state=STR, reg_number=nullable(STR),
              signed_for_by=nullable(STR), assignee=nullable(STR), result=nullable(STR),
              due_at=nullable(DATETIME), version=INT, instruction_request_id=nullable(INT))
VERSION = {"anyOf": [number(), {"type": "string", "pattern": "^[0-9]{1,9}$"}, {"type": "null"}]}
UNIT_REFS = arr({"anyOf": [ID, text(100)]}, max_items=2000)
CREATE_BODY = body(type=text(20), title=text(200), body=text(100_000), lead_unit_id=nullable(ID),
                   co_issuers=arr(ID, max_items=50), main=UNIT_REFS, cc=UNIT_REFS, urgency=text(20),
                   sensitivity=text(20), note=text(2000), due_days=nullable(number(0, 3650)),
                   reply_to_id=nullable(ID))
ACTION_BODY = body(version=VERSION, text=text(), retention=text(10), org_code=text(40))
RECEIPT_BODY = body(version=VERSION, text=text(), user_id={"anyOf": [ID, arr(ID, max_items=500)]},
                    main=UNIT_REFS)


def _actions(name: str) -> list[str]:
    from office.docflow import views

    return sorted(getattr(views, name))


@bp.get("")
@login_required
@api_doc("Search the documents in my scope",
         query={"q": text(200), "type": text(20), "year": number(1900, 9999),
                "state": text(30), "number": text(100)},
         response=obj(items=arr(DOCUMENT)))
def search():
    a = request.args
    rows = df.search(current_actor(), a.get("q", ""), doc_type=a.get("type") or None,
                     year=a.get("year", type=int), state=a.get("state") or None, number=a.get("number") or None)
    return jsonify(items=[doc_json(d) for d in rows])


@bp.post("")
@login_required
@api_doc("Create a draft", body=CREATE_BODY, response=DOCUMENT_FULL, status=201)
def create():
    b = json_body()
    doc = df.create_draft(current_actor(), doc_type=b.get("type", ""), title=b.get("title", ""),
                          body=b.get("body", ""), lead_unit_id=b.get("lead_unit_id"),
                          co_issuer_ids=b.get("co_issuers", []), main=b.get("main", []), cc=b.get("cc", []),
                          urgency=b.get("urgency", ""), sensitivity=b.get("sensitivity", ""),
                          note=b.get("note", ""), due_days=b.get("due_days"), reply_to_id=b.get("reply_to_id"))
    return jsonify(doc_json(doc, True)), 201


@bp.get("/<int:doc_id>")
@login_required
@api_doc("One document, with its text, recipients and attachments", response=DOCUMENT_FULL)
def show(doc_id: int):
    return jsonify(doc_json(df.get_document(current_actor(), doc_id), True))


@bp.get("/<int:doc_id>/tree")
@login_required
@api_doc("Who has received, signed for and handled a distributed document",
         response=obj(document_id=ID, title=STR, counts={"type": "object"}))
def tree(doc_id: int):
    return jsonify(df.status_tree(current_actor(), doc_id))


@bp.post("/<int:doc_id>/<name>")
@login_required
@api_doc("Act on a document (submit, review, sign off, number, seal, distribute, ...)",
         path={"name": enum(*_actions("ACTIONS"))}, body=ACTION_BODY,
         response=obj(ok=BOOL, result=nullable(INT), document=DOCUMENT))
def action(doc_id: int, name: str):
    from office.docflow.views import ACTIONS

    fn = ACTIONS.get(name)
    if fn is None:
        return jsonify(error="unknown action"), 404
    out = fn(current_actor(), doc_id, json_body())
    doc = db.session.get(Document, doc_id)
    return jsonify(ok=True, result=out if isinstance(out, int) else None, document=doc_json(doc))


@bp.get("/incoming")
@login_required
@api_doc("Documents received by my unit", query={"state": text(30)},
         response=obj(items=arr({**RECEIPT, "properties": {**RECEIPT["properties"], "title": STR,
                                                           "number": nullable(STR)}})))
def incoming():
    rows = receiving.incoming(current_actor(), state=request.args.get("state") or None)
    return jsonify(items=[dict(receipt_json(r), title=d.title, number=d.doc_number) for r, d in rows])


@bp.get("/receipts/<int:receipt_id>")
@login_required
@api_doc("One receipt of my unit", response=RECEIPT)
def receipt(receipt_id: int):
    r = df.get_receipt(current_actor(), receipt_id, act=False)
    return jsonify(receipt_json(r))


class _Form(dict):
    def getlist(self, key):
        v = self.get(key, [])
        return [str(x) for x in (v if isinstance(v, list) else [v])]


@bp.post("/receipts/<int:receipt_id>/<name>")
@login_required
@api_doc("Act on a receipt (sign for, register, propose, instruct, assign, close, forward, ...)",
         path={"name": enum(*_actions("RECEIPT_ACTIONS"))}, body=RECEIPT_BODY,
         response=obj(("receipt", "document"), ok=BOOL, receipt=RECEIPT, document=DOCUMENT))
def receipt_action(receipt_id: int, name: str):
    from office.docflow.views import RECEIPT_ACTIONS

    fn = RECEIPT_ACTIONS.get(name)
    if fn is None:
        return jsonify(error="unknown action"), 404
    b = _Form(json_body())
    if name == "forward":
        out = df.forward(current_actor(), receipt_id, main=b.getlist("main"), cover_text=b.get("text", ""))
        return jsonify(ok=True, document=doc_json(out))
    fn(current_actor(), receipt_id, b)
    return jsonify(ok=True, receipt=receipt_json(df.get_receipt(current_actor(), receipt_id, act=False)))
