"""Attachments: stored once under STORAGE_DIR by SHA-256, size cap, type by content (magic bytes)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from office.actor import Actor
from office.docflow.common import commit, get_document, log, own_document
from office.docflow.models import Attachment, DocState, Document
from office.errors import NotFound, ValidationError
from office.extensions import db

# The type-by-content check and safe names are shared with other modules (office.storage);
# the names stay importable from here.
from office.storage import ALLOWED, MIME, safe_name, sniff  # noqa: F401


def max_bytes() -> int:
    return int(current_app.config.get("DOCFLOW_MAX_ATTACHMENT_MB", 20)) * 1024 * 1024


def storage_path(sha256: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "docflow" / sha256[:2] / sha256


def add_attachment(actor: Actor, doc_id: int, filename: str, data: bytes) -> Attachment:
    doc = own_document(actor, doc_id, lock=True)
    if doc.state not in DocState.EDITABLE:
        raise ValidationError(_("Attachments can no longer be changed on a numbered document."))
    if len(data) > max_bytes():
        raise ValidationError(_("The file is too large (at most %(mb)s MB).", mb=max_bytes() // 1024 // 1024))
    if not data:
        raise ValidationError(_("The file is empty."))
    kind = sniff(data)
    if kind is None:
        raise ValidationError(_("This file type is not accepted (by its content). Accepted: %(types)s.",
                                types="PDF, DOCX, XLSX, OFD, PNG, JPG"))
    digest = hashlib.sha256(data).hexdigest()
    path = storage_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    pos = (db.session.execute(select(func.max(Attachment.position)).where(Attachment.document_id == doc.id))
           .scalar() or 0) + 1
    att = Attachment(document_id=doc.id, position=pos, name=safe_name(filename, kind), sha256=digest,
                     size=len(data), file_type=kind)
    db.session.add(att)
    log(actor, doc.id, "attach", att.name, after={"sha256": digest, "size": len(data)})
    commit()
    return att


def remove_attachment(actor: Actor, doc_id: int, attachment_id: int) -> None:
    doc = own_document(actor, doc_id, lock=True)
    if doc.state not in DocState.EDITABLE:
        raise ValidationError(_("Attachments can no longer be changed on a numbered document."))
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.document_id != doc.id:
        raise NotFound(_("Not found."))
    db.session.delete(att)
    log(actor, doc.id, "detach", att.name)
    commit()


def open_attachment(actor: Actor, doc_id: int, attachment_id: int) -> tuple[Attachment, bytes]:
    """The attachment of a document the actor may see, verified against its hash."""
    doc: Document = get_document(actor, doc_id)
    att = db.session.get(Attachment, attachment_id)
    if att is None or att.document_id != doc.id:
        raise NotFound(_("Not found."))
    data = storage_path(att.sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != att.sha256:
        raise ValidationError(_("The stored file is damaged."))
    from office.audit import service as audit

    audit.record_download(actor, "document_attachment", att.id, att.name, unit_id=doc.lead_unit_id)
    return att, data
