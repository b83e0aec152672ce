"""Archive (归档): filing finished documents with DA/T 22-2015 archive numbers, and the archive package
(ZIP of the archival PDFs or texts, metadata JSON, SHA-256 manifest) per year and organ."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from office.actor import Actor
from office.auth.scope import require_in_scope
from office.docflow.common import acts_for, commit, log, own_document, unit
from office.docflow.models import ArchiveRecord, DocState, Document
from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.org.models import UnitKind
from office.org.service import subtree_clause

RETENTIONS = ("Y", "D30", "D10")


def fonds_of(u) -> str:
    """The fonds code (全宗号): configured per unit code, else derived from the unit."""
    configured = current_app.config.get("DOCFLOW_FONDS", {})
    return configured.get(u.code) or f"Z{u.id:03d}"


def org_code_of(u) -> str:
    if u.kind == UnitKind.GOVERNMENT:
        return "ZF"
    if u.kind == UnitKind.GENERAL_OFFICE:
        return "BGS"
    return (u.function_code or "BM").upper()[:10]


def archive_number(fonds: str, year: int, retention: str, org_code: str, item: int) -> str:
    """``Z109-WS·2026-Y-BGS-0001``."""
    return f"{fonds}-WS·{year}-{retention}-{org_code}-{item:04d}"


def file_document(actor: Actor, doc_id: int, *, retention: str = "Y", org_code: str = "",
                  fonds: str = "") -> ArchiveRecord:
    from office.docflow.numbering import next_value

    doc = own_document(actor, doc_id, lock=True)
    if doc.state == DocState.ARCHIVED:
        raise Conflict(_("This document is already filed."))
    if doc.state != DocState.DISTRIBUTED:
        raise Conflict(_("Only distributed documents are filed."))
    if retention not in RETENTIONS:
        raise ValidationError(_("Retention is Y (permanent), D30 or D10."))
    if not actor.has_role("clerk", "leader"):
        raise PermissionDenied(_("The clerk files documents."))
    u = doc.lead_unit
    fonds = (fonds or fonds_of(u)).strip()
    org_code = (org_code or org_code_of(u)).strip().upper()
    year = doc.number_year or doc.created_at.year
    item = next_value(u.id, f"ARCHIVE:{fonds}:{retention}:{org_code}", year)
    number = archive_number(fonds, year, retention, org_code, item)
    rec = ArchiveRecord(document_id=doc.id, unit_id=u.id, path=u.path, archive_number=number, fonds=fonds,
                        year=year, retention=retention, org_code=org_code, item_no=item,
                        pages=max(1, len(doc.body) // 1200 + 1), filed_by_name=actor.name)
    db.session.add(rec)
    doc.state = DocState.ARCHIVED
    doc.search_tokens = (doc.search_tokens + " " + " ".join(
        number[i:i + 2] for i in range(len(number) - 1))).strip()
    log(actor, doc.id, "archive", number, after={"archive_number": number})
    commit()
    return rec


def stamp(rec: ArchiveRecord) -> dict:
    """The archive stamp (归档章): fonds, year, retention, organisation, item, pages."""
    return {"fonds": rec.fonds, "year": rec.year, "retention": rec.retention, "org": rec.org_code,
            "item": f"{rec.item_no:04d}", "pages": rec.pages, "number": rec.archive_number}


def records(actor: Actor, *, year: int | None = None, unit_id: int | None = None, q: str = "",
            limit: int = 200) -> list[ArchiveRecord]:
    stmt = select(ArchiveRecord).join(Document, Document.id == ArchiveRecord.document_id)
    if not actor.is_system:
        stmt = stmt.where(subtree_clause(ArchiveRecord.path, actor.unit_path or "-/"))
    if year:
        stmt = stmt.where(ArchiveRecord.year == int(year))
    if unit_id:
        stmt = stmt.where(ArchiveRecord.unit_id == int(unit_id))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(ArchiveRecord.archive_number.like(like) | Document.title.like(like)
                          | Document.doc_number.like(like))
    return list(db.session.execute(stmt.order_by(ArchiveRecord.archive_number).limit(limit)).scalars())


def render_archival(doc: Document) -> tuple[str, bytes]:
    """The archival rendering: the official PDF from office.pdf (PDF/A-3b, signed with the organ's
    certificate when it has one; see ``printing.archival_pdf``), else the plain text."""
    from office.docflow.printing import archival_pdf

    try:
        return "pdf", archival_pdf(doc)
    except Exception:  # noqa: BLE001 - fall back to text rather than lose the package
        current_app.logger.exception("PDF rendering failed for document %s", doc.id)
    lines = [doc.lead_unit.name if doc.lead_unit else "", doc.doc_number or "", "", doc.title, ""]
    lines += [", ".join(r.unit.name for r in doc.main_recipients()) + "：", doc.body, ""]
    if doc.attachments:
        lines += ["附件：" + "；".join(f"{a.position}. {a.name}" for a in doc.attachments)]
    lines += [doc.lead_unit.name if doc.lead_unit else "",
              doc.printing_date.isoformat() if doc.printing_date else ""]
    if doc.note:
        lines += [f"（{doc.note}）"]
    return "txt", "\n".join(lines).encode("utf-8")


def export_package(actor: Actor, unit_id: int, year: int) -> bytes:
    """ZIP: one archival file per filed document, metadata.json, manifest-sha256.txt."""
    u = unit(unit_id)
    require_in_scope(actor, u)
    if not acts_for(actor, u) and not actor.has_role("leader", "clerk"):
        raise PermissionDenied(_("Only the organ's clerk or leader exports its archive."))
    recs = list(db.session.execute(select(ArchiveRecord).where(ArchiveRecord.unit_id == u.id,
                                                               ArchiveRecord.year == int(year))
                                   .order_by(ArchiveRecord.item_no)).scalars())
    buf = io.BytesIO()
    manifest, meta = [], []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rec in recs:
            doc = rec.document
            ext, data = render_archival(doc)
            name = f"{rec.archive_number}.{ext}"
            zf.writestr(name, data)
            manifest.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
            meta.append({"archive_number": rec.archive_number, "stamp": stamp(rec), "file": name,
                         "title": doc.title, "doc_number": doc.doc_number, "type": doc.doc_type,
                         "issuers": [i.unit.name for i in doc.issuers],
                         "main_recipients": [r.unit.name for r in doc.main_recipients()],
                         "cc": [r.unit.name for r in doc.cc_recipients()], "signer": doc.signer_name,
                         "signed_at": doc.signed_at.isoformat() if doc.signed_at else None,
                         "printing_date": doc.printing_date.isoformat() if doc.printing_date else None,
                         "urgency": doc.urgency, "sensitivity": doc.sensitivity,
                         "attachments": [{"name": a.name, "sha256": a.sha256, "size": a.size}
                                         for a in doc.attachments],
                         "filed_by": rec.filed_by_name, "filed_at": rec.filed_at.isoformat()})
        meta_bytes = json.dumps({"organ": u.name, "year": int(year), "items": meta}, ensure_ascii=False,
                                indent=2).encode("utf-8")
        zf.writestr("metadata.json", meta_bytes)
        manifest.append(f"{hashlib.sha256(meta_bytes).hexdigest()}  metadata.json")
        zf.writestr("manifest-sha256.txt", "\n".join(manifest) + "\n")
    if recs:
        log(actor, recs[0].document_id, "archive_export", f"{u.name} {year}")
    else:
        from office.audit import service as audit

        audit.record(actor, "docflow.archive_export", object_type="unit", object_id=u.id, unit_id=u.id,
                     after={"year": int(year), "items": 0})
    commit()
    return buf.getvalue()
