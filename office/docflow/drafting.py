"""Drafting: recipients and the routing rules, drafts and their revisions with their differences.
The steps after the draft (review, countersign, sign-off, re-check, seal) are in ``outgoing``."""

from __future__ import annotations

import difflib

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from office.actor import Actor
from office.approvals import service as approvals
from office.docflow.common import (
    actor_unit,
    acts_for,
    check_version,
    commit,
    get_document,
    log,
    own_document,
    refresh_tokens,
    unit,
)
from office.docflow.models import (
    CLASSIFIED,
    DOC_TYPES,
    URGENCIES,
    DocState,
    Document,
    DocumentIssuer,
    DocumentRecipient,
    DocumentRevision,
)
from office.docflow.signoff import SIGNOFF
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.org import service as org
from office.org.models import LEVEL_ORDER, Unit, UnitKind

DEFAULT_SENSITIVITY = ("", "内部", "工作秘密")


def N_(text: str) -> str:
    """Marks a text for the catalogue; the page translates it when it shows it."""
    return text


# Named recipient groups, relative to the lead issuing unit (translated by the pages).
GROUPS = {
    "subordinate_governments": N_("All governments one level below"),
    "city_governments": N_("All city governments under us"),
    "county_governments": N_("All county governments under us"),
    "township_governments": N_("All township governments under us"),
    "line_down": N_("Our function's line below us (all levels)"),
    "line_next": N_("Our function's line one level below"),
    "same_level_departments": N_("Departments at our level"),
    "superior_government": N_("The government one level up"),
}


def allowed_sensitivity() -> tuple[str, ...]:
    return tuple(current_app.config.get("DOCFLOW_ALLOWED_SENSITIVITY", DEFAULT_SENSITIVITY))


# --- recipients --------------------------------------------------------------------------------


def expand_group(key: str, lead: Unit) -> list[Unit]:
    """A named group relative to the lead unit, on the real tree: "one level below" is the divisions
    directly under the lead's (东莞市: its towns; 海南省: its cities and its counties)."""
    depth = LEVEL_ORDER.index(lead.level) if lead.level in LEVEL_ORDER else 0
    below = [lv.value for lv in LEVEL_ORDER[depth + 1:]]
    if key == "subordinate_governments":
        return list(db.session.execute(org.child_governments(lead)).scalars())
    if key in ("city_governments", "county_governments", "township_governments"):
        level = key.split("_")[0]
        if level not in below:
            return []
        return list(db.session.execute(org.units_under(lead.path, kind=UnitKind.GOVERNMENT,
                                                       level=level)).scalars())
    if key == "line_down":
        return list(db.session.execute(org.vertical_line_down(lead)).scalars())
    if key == "line_next":
        return list(db.session.execute(org.line_next(lead)).scalars())
    if key == "same_level_departments":
        return [u for u in db.session.execute(org.same_level_units(lead)).scalars()
                if u.kind == UnitKind.DEPARTMENT and u.id != lead.id]
    if key == "superior_government":
        sup = org.superior_government(lead)
        return [sup] if sup else []
    raise ValidationError(_("Unknown recipient group %(key)s.", key=key))


def resolve_recipients(specs, lead: Unit) -> list[tuple[Unit, str]]:
    """``specs``: unit ids, unit codes, or "group:<key>"; returns (unit, group key) without repeats."""
    out: dict[int, tuple[Unit, str]] = {}
    for spec in specs or []:
        if spec in (None, ""):
            continue
        s = str(spec).strip()
        if s.startswith("group:"):
            for u in expand_group(s[6:], lead):
                out.setdefault(u.id, (u, s[6:]))
            continue
        u = db.session.get(Unit, int(s)) if s.isdigit() else db.session.execute(
            select(Unit).where(Unit.code == s)).scalar_one_or_none()
        if u is None or not u.active:
            raise ValidationError(_("Unknown recipient unit %(spec)s.", spec=s))
        out.setdefault(u.id, (u, ""))
    return list(out.values())


def relation(lead: Unit, other: Unit) -> str:
    """How ``other`` stands to ``lead``: "up" (a superior organ), "down" (subordinate), "across".
    A vertically managed unit's superiors are the organs of its line, not its local government."""
    if lead.superior_id is not None or other.superior_id is not None:
        if org.is_above(other, lead):
            return "up"
        if org.is_above(lead, other):
            return "down"
        if lead.superior_id is not None and lead.path.startswith(other.path):
            return "across"  # its local government and the organs above it
    if other.path == lead.path:
        if lead.kind == UnitKind.GOVERNMENT and other.kind != UnitKind.GOVERNMENT:
            return "down"
        if other.kind == UnitKind.GOVERNMENT and lead.kind != UnitKind.GOVERNMENT:
            return "up"
        return "across"
    if lead.path.startswith(other.path):
        if other.kind == UnitKind.GOVERNMENT or other.function_code == lead.function_code:
            return "up"
        return "across"
    if other.path.startswith(lead.path):
        if lead.kind == UnitKind.GOVERNMENT or other.function_code == lead.function_code \
                or lead.kind == UnitKind.GENERAL_OFFICE:
            return "down"
        return "across"
    return "across"


def derive_direction(doc: Document) -> str:
    lead = doc.lead_unit
    rels = {relation(lead, r.unit) for r in doc.main_recipients()}
    if "up" in rels:
        return "up"
    if rels == {"down"}:
        return "down"
    return "across" if rels else "down"


def skipped_organs(lead: Unit, target: Unit) -> list[Unit]:
    """The organs between ``lead`` and a superior ``target`` on the chain of command."""
    chain = org.government_chain(lead)
    if lead.superior_id is None:
        return [g for g in chain if len(target.path) < len(g.path) < len(lead.path)]
    ids = [u.id for u in chain]
    return chain[1:ids.index(target.id)] if target.id in ids else []


def check_routing(doc: Document) -> None:
    """The routing rules of the 2012 regulations (Articles 13–16), with clear messages."""
    lead = doc.lead_unit
    mains, ccs = doc.main_recipients(), doc.cc_recipients()
    if not mains:
        raise ValidationError(_("Choose at least one main recipient (主送)."))
    levels = {i.unit.level for i in doc.issuers}
    if len(levels) > 1:
        raise ValidationError(_("Joint issuance is only possible among organs of the same level."))
    direction = derive_direction(doc)
    rels = [relation(lead, r.unit) for r in mains]
    if direction == "up":
        if len(mains) != 1:
            raise ValidationError(_("An upward document has exactly one main recipient; send copies "
                                    "to other superior organs as CC."))
        if any(relation(lead, c.unit) == "down" for c in ccs):
            raise ValidationError(_("An upward document may not be copied to subordinate organs."))
        target = mains[0].unit
        cc_paths = {c.unit.path for c in ccs}
        # The levels in between on the real chain (a town of 东莞 has none below the city; a
        # vertically managed unit's are the organs of its line).
        for organ in skipped_organs(lead, target):
            if organ.path not in cc_paths:
                raise ValidationError(_("An upward document may not skip a level: copy it to the skipped "
                                        "organ (%(name)s) or send it to your direct superior.",
                                        name=organ.name))
    if doc.doc_type == "请示":
        if direction != "up" or rels != ["up"]:
            raise ValidationError(_("A request (请示) goes to one superior organ only: one main recipient, "
                                    "one matter."))
        if not (doc.note or "").strip():
            raise ValidationError(_("A request (请示) needs the contact person and phone number in the "
                                    "note (附注)."))
    if doc.doc_type == "批复":
        orig = db.session.get(Document, doc.reply_to_id) if doc.reply_to_id else None
        if orig is None or orig.doc_type != "请示":
            raise ValidationError(_("A reply (批复) answers a request (请示): link it to the request."))
        if direction == "up":
            raise ValidationError(_("A reply (批复) goes down to the organ that sent the request."))


# --- saving ------------------------------------------------------------------------------------


def _validate_fields(data: dict) -> None:
    if data.get("doc_type") is not None and data["doc_type"] not in DOC_TYPES:
        raise ValidationError(_("Unknown document type. Choose one of: %(types)s.", types="、".join(DOC_TYPES)))
    if data.get("title") is not None and not data["title"].strip():
        raise ValidationError(_("The document needs a title."))
    if data.get("title") and len(data["title"]) > 300:
        raise ValidationError(_("The title is too long (300 characters at most)."))
    if data.get("urgency") not in (None, *URGENCIES):
        raise ValidationError(_("Urgency is 特急, 加急 or none."))
    sens = data.get("sensitivity")
    if sens is not None:
        if sens in CLASSIFIED:
            raise ValidationError(_("This system may not hold classified documents (%(level)s). Handle "
                                    "them through the classified network and its procedures.", level=sens))
        if sens not in allowed_sensitivity():
            raise ValidationError(_("The sensitivity marking %(level)s is not allowed in this system.",
                                    level=sens))


def _set_recipients(doc: Document, main, cc) -> None:
    lead = doc.lead_unit
    main_units = resolve_recipients(main, lead)
    cc_units = [(u, g) for u, g in resolve_recipients(cc, lead) if u.id not in {m.id for m, _ in main_units}]
    issuers = {i.unit_id for i in doc.issuers}
    doc.recipients = [DocumentRecipient(unit_id=u.id, unit=u, role="main", group_key=g)
                      for u, g in main_units if u.id not in issuers] + \
                     [DocumentRecipient(unit_id=u.id, unit=u, role="cc", group_key=g)
                      for u, g in cc_units if u.id not in issuers]


def _add_revision(actor: Actor, doc: Document) -> None:
    n = (db.session.execute(select(func.max(DocumentRevision.number))
                            .where(DocumentRevision.document_id == doc.id)).scalar() or 0) + 1
    db.session.add(DocumentRevision(document_id=doc.id, number=n, title=doc.title, body=doc.body,
                                    author_id=actor.user_id, author_name=actor.name, state=doc.state))


def default_prefix(lead: Unit, doc_type: str) -> str:
    return lead.short_name + ("函" if doc_type in ("函", "批复") else "发")


def _printing_organ(lead: Unit) -> str:
    """A government's documents are printed by its general office."""
    if lead.kind == UnitKind.GOVERNMENT:
        office = db.session.execute(select(Unit).where(Unit.division_id == lead.division_id,
                                                       Unit.kind == UnitKind.GENERAL_OFFICE)).scalars().first()
        if office is not None:
            return office.name
    return lead.name


def create_draft(actor: Actor, *, doc_type: str, title: str, body: str = "", lead_unit_id: int | None = None,
                 co_issuer_ids=(), main=(), cc=(), urgency: str = "", sensitivity: str = "", note: str = "",
                 printing_organ: str = "", due_days: int | None = None, number_prefix: str = "",
                 reply_to_id: int | None = None) -> Document:
    _validate_fields(dict(doc_type=doc_type, title=title, urgency=urgency, sensitivity=sensitivity))
    mine = actor_unit(actor)
    lead = unit(lead_unit_id) if lead_unit_id else mine
    if lead.id != mine.id and not acts_for(actor, lead):
        # A general office drafts for its government; nobody drafts for another organ.
        raise PermissionDenied(_("You may only draft documents for your own unit."))
    issuers = [lead]
    for uid in co_issuer_ids or ():
        u = unit(int(uid))
        if u.id not in {i.id for i in issuers}:
            issuers.append(u)
    if any(u.level != lead.level for u in issuers):
        raise ValidationError(_("Joint issuance is only possible among organs of the same level."))
    reply_to = None
    if reply_to_id:
        reply_to = get_document(actor, int(reply_to_id))
    doc = Document(doc_type=doc_type, title=title.strip(), body=body or "", lead_unit_id=lead.id,
                   lead_unit=lead, path=lead.path, drafter_id=actor.user_id, drafter_name=actor.name,
                   urgency=urgency or "", sensitivity=sensitivity or "", note=note or "",
                   printing_organ=printing_organ or _printing_organ(lead),
                   due_days=due_days, number_prefix=number_prefix or default_prefix(lead, doc_type),
                   reply_to_id=reply_to.id if reply_to else None, state=DocState.DRAFT)
    doc.issuers = [DocumentIssuer(unit_id=u.id, unit=u, position=i) for i, u in enumerate(issuers)]
    if reply_to is not None and not main:
        main = [reply_to.lead_unit_id]
    _set_recipients(doc, main, cc)
    doc.direction = derive_direction(doc)
    refresh_tokens(doc)
    db.session.add(doc)
    db.session.flush()
    _add_revision(actor, doc)
    log(actor, doc.id, "draft", doc.title)
    commit()
    return doc


EDITABLE_FIELDS = ("doc_type", "title", "body", "urgency", "sensitivity", "note", "printing_organ",
                   "due_days", "number_prefix")


def update_draft(actor: Actor, doc_id: int, *, version=None, main=None, cc=None, **fields) -> Document:
    doc = own_document(actor, doc_id, lock=True)
    check_version(doc, version)
    if doc.state not in DocState.EDITABLE:
        raise ValidationError(_("A numbered document can no longer be changed; void its number first."))
    fields = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS and v is not None}
    _validate_fields(fields)
    before = {"title": doc.title}
    for k, v in fields.items():
        setattr(doc, k, v.strip() if k == "title" else v)
    if main is not None or cc is not None:
        _set_recipients(doc, main if main is not None else [r.unit_id for r in doc.main_recipients()],
                        cc if cc is not None else [r.unit_id for r in doc.cc_recipients()])
    doc.direction = derive_direction(doc)
    if doc.state == DocState.CHECKED:
        doc.state = DocState.SIGNED  # changed after the re-check: re-check again
    refresh_tokens(doc)
    db.session.flush()
    _add_revision(actor, doc)
    log(actor, doc.id, "save", doc.title, before=before)
    approvals.subject_changed(SIGNOFF, doc.id)  # inbox: the leader's sign-off line shows the title
    commit()
    return doc


def revisions(doc: Document) -> list[DocumentRevision]:
    return list(db.session.execute(select(DocumentRevision).where(DocumentRevision.document_id == doc.id)
                                   .order_by(DocumentRevision.number)).scalars())


def diff(doc: Document, a: int, b: int) -> list[str]:
    """Unified difference of title and body between revisions ``a`` and ``b``."""
    revs = {r.number: r for r in db.session.execute(
        select(DocumentRevision).where(DocumentRevision.document_id == doc.id,
                                       DocumentRevision.number.in_((a, b)))).scalars()}
    if a not in revs or b not in revs:
        raise ValidationError(_("No such revision."))
    ra, rb = revs[a], revs[b]
    old = [f"# {ra.title}"] + ra.body.splitlines()
    new = [f"# {rb.title}"] + rb.body.splitlines()
    return list(difflib.unified_diff(old, new, f"r{a}", f"r{b}", lineterm=""))
