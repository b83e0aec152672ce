"""Adapter to the approval engine (office/approvals) for sign-off (签发) and the leader's
instruction (批办).

Two subject types are registered with ``office.approvals.subjects``:

``docflow.signoff`` (subject id: the document id)
    started when a document reaches the sign-off stage (review passed, countersigning done, or a
    substantive change after sign-off); the leader decides in the Approvals to-do. Approved: the
    document is signed (the opinion, name, date and signature recorded by approvals) and waits for
    the re-check. Returned or rejected: back to the drafter with the leader's reasons.
``docflow.instruction`` (subject id: the receipt id)
    started when the receiving office sends a received document to its leader (送批办); the leader's
    approval opinion is the instruction (批示), recorded as the receipt's 批办 step.

The callbacks run inside the approval action's transaction (the engine commits). Approvals never
imports docflow; docflow uses only ``office.approvals.service``.
"""

from __future__ import annotations

import dataclasses

from flask import current_app, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from office.actor import Actor
from office.approvals import service as approvals
from office.docflow import duties, todo, words
from office.docflow.common import fingerprint, log
from office.docflow.models import DocState, Document, HandlingStep, Receipt, ReceiptState
from office.errors import Conflict, NotFound, PermissionDenied
from office.extensions import db
from office.org.models import Unit
from office.timeutil import utcnow

SIGNOFF = "docflow.signoff"
INSTRUCTION = "docflow.instruction"
SYSTEM = Actor.system("docflow")

# The flows seeded when the configured one does not exist (an administrator may edit them later).
DEFAULT_FLOWS = {
    SIGNOFF: ("公文签发", [{"name": "领导签发", "type": "single", "assignees": {"kind": "role", "role": "leader"},
                          "deadline_hours": 48}]),
    INSTRUCTION: ("收文批办", [{"name": "领导批办", "type": "single",
                            "assignees": {"kind": "role", "role": "leader"}, "deadline_hours": 48}]),
}
APPROVED_KINDS = ("approve", "auto_pass", "timeout_approve")


def approvals_available() -> bool:
    return True


# --- flows and requests ------------------------------------------------------------------------


def flow_key(subject_type: str) -> str:
    cfg = "DOCFLOW_SIGNOFF_FLOW" if subject_type == SIGNOFF else "DOCFLOW_INSTRUCTION_FLOW"
    return current_app.config.get(cfg) or subject_type


def ensure_flow(subject_type: str):
    """The configured flow, seeded with the default definition when it does not exist yet."""
    key = flow_key(subject_type)
    try:
        return approvals.get_flow(key)
    except NotFound:
        pass
    if subject_type not in DEFAULT_FLOWS or key != subject_type:
        raise NotFound(_("The approval flow %(key)s does not exist.", key=key))
    name, nodes = DEFAULT_FLOWS[subject_type]
    try:
        with db.session.begin_nested():
            return approvals.save_flow(SYSTEM, key=key, name=name, subject_type=subject_type,
                                       definition={"auto_pass_same_person": False, "nodes": nodes},
                                       commit=False)
    except Exception:  # noqa: BLE001 - seeded at the same moment by another request
        return approvals.get_flow(key)


def _as_unit(actor: Actor, unit: Unit) -> Actor:
    """The request belongs to the organ the step is for (a general office acts for its government),
    so the flow's assignees (e.g. the organ's leader) resolve from that organ."""
    if actor.unit_id == unit.id:
        return actor
    return dataclasses.replace(actor, unit_id=unit.id, unit_path=unit.path)


def _request(request_id: int | None):
    if not request_id:
        return None
    try:
        return approvals.get_request(SYSTEM, request_id)
    except NotFound:
        return None


def _superseded() -> set[int]:
    if "docflow_superseded" not in g:
        g.docflow_superseded = set()
    return g.docflow_superseded


def _start(actor: Actor, unit: Unit, subject_type: str, subject_id: int, title: str, previous_id: int | None,
           fields: dict | None = None, *, adopt_running: bool = False):
    """Start (or, for the same requester, resubmit) the approval of a subject; returns the request.

    A request the leader returned to the drafter stays "returned" in approvals: the same requester
    submits it again, anyone else supersedes it (it is withdrawn, a new one starts). A request
    already running again (resubmitted in Approvals) is taken over when ``adopt_running``."""
    old = _request(previous_id)
    if old is not None and old.state == "running":
        if adopt_running:
            return old
        raise Conflict(_("This is already with the leader for approval."))
    if old is not None and old.state == "returned":
        if old.requester_id == actor.user_id:
            return approvals.resubmit(actor, old.id, fields=fields, commit=False)
        _superseded().add(old.id)  # its withdrawal callback must not move the subject
        approvals.withdraw(SYSTEM, old.id, reason=_("Superseded: submitted again."), commit=False)
    flow = ensure_flow(subject_type)
    return approvals.start(_as_unit(actor, unit), subject_type=subject_type, subject_id=subject_id,
                           title=title, flow=flow, fields=fields or {}, commit=False)


def _decision(req) -> dict:
    """Who decided the request last, with opinion, time and signature (from approvals' timeline)."""
    for a in reversed(approvals.timeline(req)):
        if a.kind in APPROVED_KINDS + ("reject", "return", "withdraw"):
            principal = a.on_behalf_of_id
            name = approvals.who(a.actor_name, a.on_behalf_of_name) if a.actor_name else a.on_behalf_of_name
            return {"kind": a.kind, "user_id": principal or a.actor_id, "actor_id": a.actor_id,
                    "actor_name": a.actor_name, "name": name, "opinion": a.opinion or "", "at": a.created_at,
                    "signature_id": a.signature_id}
    return {"kind": "", "user_id": None, "actor_id": None, "actor_name": "", "name": "", "opinion": "",
            "at": utcnow(), "signature_id": None}


def _decider(d: dict, unit: Unit) -> Actor:
    """The person who decided in approvals, for the document's history and the audit chain."""
    if d["actor_id"] is None:
        return Actor.system("approvals")
    return Actor(user_id=d["actor_id"], name=d["actor_name"], unit_id=unit.id, unit_path=unit.path)


def open_task(actor: Actor, request_id: int | None):
    """The actor's open task on the request (or None)."""
    req = _request(request_id)
    if req is None or req.state != "running":
        return None
    return approvals.allowed(actor, req).task


def request_of(doc: Document):
    """The document's sign-off request in approvals (or None)."""
    return _request(doc.signoff_request_id)


def request_running(request_id: int | None) -> bool:
    req = _request(request_id)
    return req is not None and req.state == "running"


# --- sign-off (签发) ------------------------------------------------------------------------------


def start_signoff(actor: Actor, doc: Document) -> None:
    """The document has just been put in SIGNOFF: send it to the leader through approvals."""
    req = _start(actor, doc.lead_unit, SIGNOFF, doc.id, _("Sign-off: %(title)s", title=doc.title)[:200],
                 doc.signoff_request_id, fields={"doc_type": doc.doc_type, "direction": doc.direction,
                                                 "urgency": doc.urgency, "title": doc.title},
                 adopt_running=True)
    doc.signoff_request_id = req.id


def decide_signoff(actor: Actor, doc: Document, *, approve: bool, opinion: str = "") -> None:
    """The leader decides from the document page or the API: the same approval task, through the engine."""
    task = open_task(actor, doc.signoff_request_id)
    if task is None:
        raise PermissionDenied(_("Only the leader the sign-off was sent to signs off this document."))
    if approve:
        approvals.approve(actor, task.id, opinion=opinion)
    else:
        approvals.return_task(actor, task.id, to="drafter", opinion=opinion)


def _signoff_doc(req, *, strict: bool) -> Document | None:
    if req.id in _superseded():
        return None
    doc = db.session.execute(select(Document).where(Document.id == int(req.subject_id)).with_for_update()
                             ).scalar_one_or_none()
    if doc is not None:
        todo.touch_document(doc.id)  # inbox: rewritten at commit, under this lock
    current = doc is not None and doc.state == DocState.SIGNOFF and doc.signoff_request_id in (None, req.id)
    if not current:
        if strict:
            raise Conflict(_("This sign-off is out of date: the document was returned or changed since. "
                             "It will come back for sign-off after its review."))
        return None
    return doc


def _on_signoff_approved(req) -> None:
    doc = _signoff_doc(req, strict=True)
    d = _decision(req)
    doc.signoff_request_id = req.id
    doc.signed_by_id, doc.signer_name, doc.signed_at = d["user_id"], d["name"][:64], d["at"]
    doc.sign_opinion = d["opinion"] or approvals.DEFAULT_OPINION
    doc.sign_signature_id = d["signature_id"]
    doc.signed_fingerprint = fingerprint(doc)
    doc.return_reason = ""
    doc.state = DocState.SIGNED
    decider = _decider(d, doc.lead_unit)
    # The history names the one who acted; the signer again only when someone signed for him (代理).
    signer = "" if doc.signer_name == decider.name else f"{doc.signer_name} · "
    log(decider, doc.id, "signoff", f"{signer}{doc.sign_opinion}",
        unit_name=doc.lead_unit.name, before={"state": DocState.SIGNOFF},
        after={"state": DocState.SIGNED, "approval_request": req.id})
    duties.record_exception(decider, doc, duties.SIGNOFF, duties.earlier_duties(doc, d["user_id"], duties.SIGNOFF),
                            name=doc.signer_name)


def _signoff_excluded(req) -> dict[int, str]:
    """Separated duties for approvals: the document's drafter and reviewer do not sign it off."""
    doc = db.session.get(Document, int(req.subject_id))
    return duties.signoff_excluded(doc) if doc is not None else {}


def _may_view_signoff(actor: Actor, req) -> bool:
    """The people of the issuing organ (its office's drafter and clerks) see its sign-off record."""
    from office.auth.scope import path_in_scope
    from office.docflow.common import acts_for

    doc = db.session.get(Document, int(req.subject_id))
    return doc is not None and path_in_scope(actor, doc.path) and any(acts_for(actor, i.unit) for i in doc.issuers)


def _after_signoff(actor, req, kind):
    from office.docflow import handoff

    return handoff.after_signoff_decision(actor, req, kind)


def _signoff_sheet(req, sheet):
    from office.docflow import printing

    return printing.signoff_sheet(req, sheet)


def _signoff_back(action: str):
    def cb(req) -> None:
        doc = _signoff_doc(req, strict=False)
        if doc is None:
            return
        d = _decision(req)
        doc.return_reason = d["opinion"] or _("Withdrawn from sign-off.")
        doc.state = DocState.DRAFT
        log(_decider(d, doc.lead_unit), doc.id, action, doc.return_reason, unit_name=doc.lead_unit.name,
            before={"state": DocState.SIGNOFF}, after={"state": DocState.DRAFT, "approval_request": req.id})
    return cb


# --- instruction (批办) ---------------------------------------------------------------------------


def start_instruction(actor: Actor, r: Receipt, doc: Document) -> None:
    req = _start(actor, r.unit, INSTRUCTION, r.id, _("Instruction: %(title)s", title=doc.title)[:200],
                 r.instruction_request_id, fields={"doc_type": doc.doc_type, "urgency": doc.urgency,
                                                   "title": doc.title})
    r.instruction_request_id = req.id


def _receipt_for(req) -> Receipt | None:
    if req.id in _superseded():
        return None
    r = db.session.execute(select(Receipt).where(Receipt.id == int(req.subject_id)).with_for_update()
                           ).scalar_one_or_none()
    if r is None or r.instruction_request_id not in (None, req.id):
        return None
    todo.touch_receipt(r.id)  # inbox: rewritten at commit, under this lock
    return r


def _instruction_step(req, kind: str) -> None:
    r = _receipt_for(req)
    if r is None:
        if kind == "instruct":
            raise Conflict(_("This instruction request is out of date."))
        return
    if kind == "instruct" and r.state not in ReceiptState.OPEN:
        raise Conflict(_("This received document is no longer being handled."))
    d = _decision(req)
    text = d["opinion"] or (approvals.DEFAULT_OPINION if kind == "instruct" else _("Withdrawn."))
    r.instruction_request_id = req.id
    if kind == "instruct" and r.state in (ReceiptState.SIGNED, ReceiptState.REGISTERED):
        r.state = ReceiptState.HANDLING
    db.session.add(HandlingStep(receipt_id=r.id, kind=kind, actor_id=d["user_id"], actor_name=d["name"][:64],
                                text=text, signature_id=d["signature_id"] if kind == "instruct" else None,
                                created_at=d["at"]))
    who = _decider(d, r.unit)
    log(who, r.document_id, f"receipt_{kind}", text, receipt_id=r.id, unit_name=r.unit.name,
        after={"approval_request": req.id})
    if r.root_document_id != r.document_id:
        log(who, r.root_document_id, f"receipt_{kind}", text, receipt_id=r.id, unit_name=r.unit.name)


def _summary(kind: str):
    def summary(subject_id: str) -> str:
        if kind == SIGNOFF:
            doc = db.session.get(Document, int(subject_id))
            return _("Sign-off: %(title)s", title=doc.title) if doc else ""
        r = db.session.get(Receipt, int(subject_id))
        doc = db.session.get(Document, r.document_id) if r else None
        return _("Instruction (批办): %(title)s", title=doc.title) if doc else ""
    return summary


def _summaries(kind: str):
    """The same lines for many subjects, one query (a leader's to-do list)."""
    def summaries(subject_ids: list[str]) -> dict[str, str]:
        ids = [int(i) for i in subject_ids]
        if kind == SIGNOFF:
            line = _("Sign-off: %(title)s")
            rows = db.session.execute(select(Document.id, Document.title).where(Document.id.in_(ids)))
        else:
            line = _("Instruction (批办): %(title)s")
            rows = db.session.execute(select(Receipt.id, Document.title)
                                      .join(Document, Document.id == Receipt.document_id).where(Receipt.id.in_(ids)))
        return {str(i): line % {"title": title} for i, title in rows}
    return summaries


def register() -> None:
    approvals.register_subject(
        SIGNOFF, label=_l("Document sign-off (签发)"), summary=_summary(SIGNOFF), summaries=_summaries(SIGNOFF),
        todo_lines=todo.signoff_lines, url=lambda sid: f"/documents/{int(sid)}", on_approved=_on_signoff_approved,
        on_returned=_signoff_back("signoff_return"), on_rejected=_signoff_back("signoff_reject"),
        on_withdrawn=_signoff_back("signoff_withdrawn"), excluded=_signoff_excluded, words=words.SIGNOFF_WORDS,
        after_decision=_after_signoff, sheet=_signoff_sheet, may_view=_may_view_signoff)
    approvals.register_subject(
        INSTRUCTION, label=_l("Leader's instruction (批办)"), summary=_summary(INSTRUCTION),
        summaries=_summaries(INSTRUCTION), todo_lines=todo.instruction_lines,
        url=lambda sid: f"/documents/receipts/{int(sid)}",
        words=words.INSTRUCTION_WORDS, on_approved=lambda req: _instruction_step(req, "instruct"),
        on_returned=lambda req: _instruction_step(req, "instruct_return"),
        on_rejected=lambda req: _instruction_step(req, "instruct_return"))


register()
