"""Official PDFs of the document flow, through ``office.pdf``: the GB/T 9704 document built from the
document's data, the receipt processing sheet (收文处理笺), and the archival PDF of the archive package
(PDF/A-3b, PAdES-signed with the organ's certificate when the project CA issued one)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app

from office.actor import Actor
from office.docflow.common import get_document, get_receipt
from office.docflow.models import Document, HandlingStep, Receipt
from office.extensions import db
from office.pdf import service as pdf
from office.pdf.parse import parse_body
from office.pdf.types import Issuer, OfficialDocument, Opinion, OutgoingSheet, ReceiptSheet, cn_date

log = logging.getLogger(__name__)

# How a named recipient group reads on the printed document (主送 / 抄送).
GROUP_LABELS = {
    "subordinate_governments": "各下级人民政府",
    "city_governments": "各市人民政府",
    "county_governments": "各县（市、区）人民政府",
    "township_governments": "各乡镇人民政府、街道办事处",
    "line_down": "本系统各下级单位",
    "line_next": "本系统下一级各单位",
    "same_level_departments": "本级各部门",
}


def local_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz).date()


def _recipient_names(rows) -> list[str]:
    out: list[str] = []
    for r in rows:
        name = GROUP_LABELS.get(r.group_key) or r.unit.name
        if name not in out:
            out.append(name)
    return out


def seal_image(unit) -> str | None:
    """The organ's seal image (a demo seal drawn once per unit under STORAGE_DIR/seals)."""
    path = Path(current_app.config["STORAGE_DIR"]) / "seals" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', unit.code)}.png"
    if not path.is_file():
        try:
            from office.pdf.seal_image import make_seal

            make_seal(unit.name, path, size=400)
        except Exception:  # noqa: BLE001 - an unsealed PDF is better than none
            log.exception("could not draw the seal of %s", unit.code)
            return None
    return str(path)


def _attachment_name(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def official_document(doc: Document) -> OfficialDocument:
    """The GB/T 9704 input from the document's own data."""
    sealed = doc.sealed_at is not None
    issuers = [Issuer(i.unit.name, seal_image(i.unit) if sealed else None) for i in doc.issuers]
    note = (doc.note or "").strip()
    if note and not note.startswith(("（", "(")):
        note = f"（{note}）"
    fmt = {"函": "letter", "纪要": "minutes"}.get(doc.doc_type, "document")
    return OfficialDocument(
        title=doc.title, issuers=issuers, body=parse_body(doc.body), doc_number=doc.doc_number or "",
        organ_mark=(doc.lead_unit.name + "文件") if fmt == "document" and not doc.is_joint else "",
        main_recipients=_recipient_names(doc.main_recipients()), cc=_recipient_names(doc.cc_recipients()),
        attachments=[_attachment_name(a.name) for a in doc.attachments],
        signers=[doc.signer_name] if doc.direction == "up" and doc.signer_name else [],
        sign_date=local_date(doc.signed_at), urgency=doc.urgency or "", sensitivity=doc.sensitivity or "",
        printing_organ=doc.printing_organ or "", print_date=doc.printing_date, direction=doc.direction,
        note=note, format=fmt)


def pdf_filename(doc: Document) -> str:
    return f"{doc.doc_number or doc.title}.pdf"


def request_document_pdf(actor: Actor, doc_id: int):
    """A render request for the document's official PDF (anyone who may see the document)."""
    doc = get_document(actor, doc_id)
    req = pdf.request_pdf(official_document(doc), pdf_filename(doc), user_id=actor.user_id)
    db.session.commit()
    return req


def receipt_sheet(r: Receipt) -> ReceiptSheet:
    doc = db.session.get(Document, r.document_id)
    steps = list(db.session.execute(db.select(HandlingStep).where(HandlingStep.receipt_id == r.id)
                                    .order_by(HandlingStep.id)).scalars())
    proposed = "；".join(s.text for s in steps if s.kind == "propose" and s.text)
    instructions = [Opinion(role="批办", name=s.actor_name, unit=r.unit.name, opinion=s.text,
                            signed_at=cn_date(local_date(s.created_at))) for s in steps if s.kind == "instruct"]
    remarks = []
    if r.assignee_name:
        remarks.append(f"承办人：{r.assignee_name}")
    if r.signed_for_by_name:
        remarks.append(f"签收人：{r.signed_for_by_name}")
    return ReceiptSheet(
        organ=r.unit.name, title=doc.title, from_organ="、".join(i.unit.name for i in doc.issuers),
        doc_number=doc.doc_number or "", received=cn_date(local_date(r.signed_at or r.delivered_at)),
        receipt_number=r.reg_number or "", urgency=doc.urgency or "", sensitivity=doc.sensitivity or "",
        proposed=proposed, instructions=instructions, result=r.result or "", remarks="；".join(remarks))


def request_receipt_pdf(actor: Actor, receipt_id: int):
    r = get_receipt(actor, receipt_id, act=False)
    doc = db.session.get(Document, r.document_id)
    req = pdf.request_pdf(receipt_sheet(r), f"收文处理笺-{r.reg_number or doc.title}.pdf", user_id=actor.user_id)
    db.session.commit()
    return req


# --- the 发文稿纸 of a sign-off request ------------------------------------------------------------

DECISIONS = {"approve": "", "timeout_approve": "【超时通过】", "return": "【退回】", "reject": "【不同意】"}


def _drafting_unit(doc: Document) -> str:
    """The unit the draft was written in (the general office for a government's documents)."""
    from office.docflow.models import DocEvent

    name = db.session.execute(db.select(DocEvent.unit_name).where(DocEvent.document_id == doc.id,
                                                                  DocEvent.action == "draft")
                              .order_by(DocEvent.id)).scalars().first()
    return name or doc.lead_unit.name


def signoff_sheet(req, sheet=None) -> OutgoingSheet:
    """The approval sheet of a document's sign-off is its 发文稿纸: 签发 (every decision of the
    sign-off request, with the leader's signature image), 会签, 审核 and 拟稿, each with name and
    date; the document's number, urgency, recipients and attachments; the separated-duty
    exceptions under 备注. The requester (who sent it for sign-off) appears once, as the reviewer."""
    from office.approvals import service as approvals
    from office.docflow.duties import exception_notes
    from office.docflow.words import SHEET_ROLES

    doc = db.session.get(Document, int(req.subject_id))
    if doc is None:
        return sheet
    day = lambda moment: cn_date(local_date(moment))  # noqa: E731
    opinions = [Opinion(role=SHEET_ROLES["signoff"], name=approvals.who(a.actor_name, a.on_behalf_of_name),
                        opinion=DECISIONS[a.kind] + (a.opinion or ""), signed_at=day(a.created_at),
                        signature_png=approvals.signature_png(a.signature_id))
                for a in approvals.timeline(req) if a.kind in DECISIONS]
    opinions += [Opinion(role=SHEET_ROLES["countersign"], name=i.countersigned_name, unit=i.unit.name,
                         opinion=i.countersign_opinion, signed_at=day(i.countersigned_at),
                         signature_png=approvals.signature_png(i.countersign_signature_id))
                 for i in doc.issuers if i.position > 0 and i.countersigned_at is not None]
    if doc.reviewed_at is not None:
        opinions.append(Opinion(role=SHEET_ROLES["review"], name=doc.reviewer_name,
                                opinion=doc.review_opinion or "审核通过", signed_at=day(doc.reviewed_at),
                                signature_png=approvals.signature_png(doc.review_signature_id)))
    opinions.append(Opinion(role=SHEET_ROLES["draft"], name=doc.drafter_name, signed_at=day(doc.created_at)))
    return OutgoingSheet(
        organ=doc.lead_unit.name, title=doc.title, doc_number=doc.doc_number or "", urgency=doc.urgency or "",
        sensitivity=doc.sensitivity or "", main_recipients=_recipient_names(doc.main_recipients()),
        cc=_recipient_names(doc.cc_recipients()), drafting_unit=_drafting_unit(doc),
        copies=str(len(doc.recipients)) if doc.recipients else "", opinions=opinions,
        attachments=[_attachment_name(a.name) for a in doc.attachments], notes=exception_notes(doc))


def _sign_unit(doc: Document) -> str:
    """The lead organ's unit code when the project CA issued it a certificate (else no signature)."""
    try:
        from office.pdf import pki

        _key, cert = pki.unit_paths(doc.lead_unit.code)
        return doc.lead_unit.code if cert.is_file() else ""
    except (ValueError, KeyError, OSError):
        return ""


def archival_pdf(doc: Document) -> bytes:
    """PDF/A-3b of the document, signed when the organ has a certificate; falls back to unsigned
    PDF/A, then to the plain PDF."""
    obj = official_document(doc)
    sign = _sign_unit(doc)
    attempts = [(True, sign)] if sign else []
    attempts += [(True, ""), (False, "")]
    last: Exception | None = None
    for archival, sign_unit in attempts:
        try:
            return pdf.ensure_pdf(obj, archival=archival, sign_unit=sign_unit).read_bytes()
        except Exception as exc:  # noqa: BLE001 - try the next, simpler rendering
            db.session.rollback()
            log.warning("archival PDF of document %s (archival=%s, sign=%s) failed: %s", doc.id, archival,
                        sign_unit, exc)
            last = exc
    raise RuntimeError(f"no PDF for document {doc.id}") from last
