"""Hand-off after a step of the outgoing flow: what happened, what comes next and who does it, and
where the person who acted lands.

The rule: when the document's next step is the actor's own (the clerk re-checks, numbers, seals and
distributes in a row), he stays on the document with that step marked; otherwise, when he has
another item of the same kind waiting (the next draft to review, the next document to countersign,
the next sign-off), he goes to it; else back to the document, its next step marked with who has it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from office.actor import Actor
from office.docflow import duties, signoff
from office.docflow.common import acts_for
from office.docflow.models import DocState, Document
from office.docflow.outgoing import is_reviewer
from office.docflow.words import NEXT_STEP, TODO_LINES
from office.extensions import db
from office.org.models import Unit, UnitKind


@dataclass
class NextStep:
    state: str
    label: str  # the step: 审核, 签发, 编号 ...
    who: str  # who has it: an office, units, the leader's name ("" when nobody in particular)
    mine: bool  # the actor may take it now


def _office_of(lead: Unit) -> Unit:
    """The office that does a government's clerical work (review, numbering, seal): its general office."""
    if lead.kind == UnitKind.GOVERNMENT:
        office = db.session.execute(db.select(Unit).where(Unit.division_id == lead.division_id,
                                                          Unit.kind == UnitKind.GENERAL_OFFICE)).scalars().first()
        if office is not None:
            return office
    return lead


def may_review(actor: Actor, doc: Document) -> bool:
    return is_reviewer(actor, doc) and not (duties.earlier_duties(doc, actor.user_id, duties.REVIEW)
                                            and not duties.combine_allowed(doc.lead_unit))


def may_countersign(actor: Actor, doc: Document) -> bool:
    if not actor.has_role("leader"):
        return False
    if duties.earlier_duties(doc, actor.user_id, duties.COUNTERSIGN) and not duties.combine_allowed(doc.lead_unit):
        return False
    return any(i.position > 0 and i.countersigned_at is None and acts_for(actor, i.unit) for i in doc.issuers)


def _clerk_of_issuer(actor: Actor, doc: Document) -> bool:
    """Re-check, number, seal and distribute are the issuing office's clerk's (a leader may, but
    they are not waiting for him)."""
    return actor.has_role("clerk") and any(acts_for(actor, i.unit) for i in doc.issuers)


def next_step(actor: Actor, doc: Document) -> NextStep:
    state = doc.state
    label = str(NEXT_STEP.get(state, state))
    if state == DocState.DRAFT:
        return NextStep(state, label, doc.drafter_name, actor.user_id == doc.drafter_id)
    if state == DocState.REVIEW:
        return NextStep(state, label, _office_of(doc.lead_unit).name, may_review(actor, doc))
    if state == DocState.COUNTERSIGN:
        waiting = [i.unit.name for i in doc.issuers if i.position > 0 and i.countersigned_at is None]
        return NextStep(state, label, "、".join(waiting), may_countersign(actor, doc))
    if state == DocState.SIGNOFF:
        req = signoff.request_of(doc)
        from office.approvals import service as approvals

        names = approvals.waiting_for(req) if req is not None else []
        return NextStep(state, label, "、".join(names), signoff.open_task(actor, doc.signoff_request_id) is not None)
    if state in (DocState.SIGNED, DocState.CHECKED, DocState.NUMBERED, DocState.SEALED):
        return NextStep(state, label, _office_of(doc.lead_unit).name, _clerk_of_issuer(actor, doc))
    return NextStep(state, label, "", False)


# --- the message -------------------------------------------------------------------------------


def _done(action: str, doc: Document, result) -> str | None:
    """What the action did, in the words of its step (None: the next step says it all)."""
    if action == "number":
        return _("Numbered: %(number)s", number=doc.doc_number)
    if action == "void_number":
        return _("The number %(number)s is void", number=result)
    if action == "distribute":
        return _("Distributed to %(n)s units", n=getattr(result, "recipient_count", 0))
    if action == "recall":
        return _("Recalled from %(n)s units", n=result or 0)
    if action == "urge":
        return _("%(n)s units urged", n=result or 0)
    if action == "review_return":
        return _("Returned for revision to %(name)s", name=doc.drafter_name)
    if action == "countersign_object":
        return _("Your objection went back to the drafter %(name)s", name=doc.drafter_name)
    if action == "withdraw":
        return _("Withdrawn from review")
    if action == "signoff_return":
        return _("Returned to the drafter %(name)s", name=doc.drafter_name)
    if action == "recheck" and doc.state == DocState.SIGNOFF:
        return _("Changed after sign-off")
    return {"review_pass": _("Review passed"), "countersign": _("Countersigned (agreed)"),
            "recheck": _("Re-checked"), "seal": _("Sealed"), "archive": _("Filed in the archive"),
            "signoff": _("Approved for issue")}.get(action)


def _then(n: NextStep) -> str | None:
    """What comes next, with who has it."""
    if n.state == DocState.REVIEW:
        return _("sent for review to %(who)s", who=n.who)
    if n.state == DocState.COUNTERSIGN:
        return _("sent for countersigning to %(who)s", who=n.who)
    if n.state == DocState.SIGNOFF:
        return _("sent for sign-off to %(who)s", who=n.who)
    if n.state == DocState.DISTRIBUTED:
        return _("next: follow up the receipts")
    if n.state in (DocState.SIGNED, DocState.CHECKED, DocState.NUMBERED, DocState.SEALED):
        return _("next: %(step)s", step=n.label) if n.mine else \
            _("next: %(step)s by %(who)s", step=n.label, who=n.who)
    return None


def message(actor: Actor, doc: Document, action: str, result=None) -> str:
    n = next_step(actor, doc)
    done, then = _done(action, doc, result), _then(n)
    if done and then:
        return _("%(done)s, %(next)s", done=done, next=then)
    text = done or then or _("Done.")
    return text[:1].upper() + text[1:]


# --- where to land -----------------------------------------------------------------------------


def _next_outgoing(actor: Actor, doc: Document, state: str, fits) -> Document | None:
    """The first other document waiting in ``state`` in the actor's to-do list (the inbox)."""
    from office.inbox import lists

    line = f"docflow.state.{state}"
    for r in lists.rows(actor, 50, module="docflow"):
        if r.source_type == "document" and r.line == line and r.source_id != doc.id:
            other = db.session.get(Document, r.source_id)
            if other is not None and other.state == state and fits(actor, other):
                return other
    return None


SAME_KIND = {"review_pass": (DocState.REVIEW, may_review), "review_return": (DocState.REVIEW, may_review),
             "countersign": (DocState.COUNTERSIGN, may_countersign),
             "countersign_object": (DocState.COUNTERSIGN, may_countersign)}


def _next_signoff(actor: Actor, request_id: int | None) -> tuple[str, str] | None:
    """The next sign-off waiting for the actor in Approvals: (url, its to-do line)."""
    from office.approvals import service as approvals

    for t in approvals.todo_tasks(actor):
        if t.request.subject_type == signoff.SIGNOFF and t.request_id != request_id:
            line = approvals.summary_of(t.request.subject_type, t.request.subject_id) or t.request.title
            return f"/approvals/{t.request_id}", line
    return None


def _next_item(actor: Actor, doc: Document, action: str, request_id: int | None) -> tuple[str, str] | None:
    if action in ("signoff", "signoff_return"):
        return _next_signoff(actor, request_id)
    if action not in SAME_KIND:
        return None
    state, fits = SAME_KIND[action]
    other = _next_outgoing(actor, doc, state, fits)
    return (f"/documents/{other.id}", str(TODO_LINES[state]) % {"t": other.title}) if other else None


def land(actor: Actor, doc: Document, action: str, result=None, *, text: str | None = None,
         request_id: int | None = None) -> tuple[str, str]:
    """(url, message) after ``action`` on ``doc``."""
    text = text or message(actor, doc, action, result)
    here = f"/documents/{doc.id}"
    if next_step(actor, doc).mine:
        return here, text
    other = _next_item(actor, doc, action, request_id or doc.signoff_request_id)
    if other is None:
        return here, text
    url, line = other
    return url, _("%(message)s. Next in your to-do: %(line)s", message=text, line=line)


def after_signoff_decision(actor: Actor, req, kind: str) -> tuple[str, str] | None:
    """The leader decided a sign-off on the approval page: hand-off as on the document page."""
    doc = db.session.get(Document, int(req.subject_id))
    if doc is None:
        return None
    db.session.refresh(doc)
    action = "signoff" if kind == "approve" else "signoff_return"
    return land(actor, doc, action, request_id=req.id)
