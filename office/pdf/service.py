"""The render cache and background rendering.

``request_pdf(obj, filename)`` returns a PdfRequest at once: the file is either in the cache
(same kind, template version, content and options -> same key -> same file) or a ``pdf.render``
job is enqueued; the page polls ``/pdf/r/<id>/status`` and downloads from ``/pdf/r/<id>/download``.
``ensure_pdf(obj)`` renders synchronously (CLI, archive, tests) through the same cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError

from office.extensions import db
from office.jobs.service import enqueue, job
from office.pdf.models import PdfFile, PdfRequest, PdfStatus
from office.pdf.render import render_pdf, template_version
from office.pdf.types import from_json
from office.timeutil import utcnow

log = logging.getLogger(__name__)


def render_key(obj, *, archival: bool = False, sign_unit: str = "") -> str:
    parts = [obj.kind, template_version(obj.kind), f"archival={int(archival)}", f"sign={sign_unit}", obj.to_json()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def file_path(key: str) -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "pdf" / key[:2] / f"{key}.pdf"


def _cached(row: PdfFile | None) -> bool:
    return row is not None and row.status == PdfStatus.DONE and file_path(row.key).is_file()


def _file_row(obj, archival: bool, sign_unit: str) -> PdfFile:
    key = render_key(obj, archival=archival, sign_unit=sign_unit)
    row = db.session.get(PdfFile, key)
    if row is None:
        row = PdfFile(key=key, kind=obj.kind, payload=obj.to_json(), archival=archival, sign_unit=sign_unit,
                      status=PdfStatus.PENDING, pages=0, size=0, seconds=0.0, error="")
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:  # someone else asked for the same file at the same moment
            row = db.session.get(PdfFile, key)
    return row


def request_pdf(obj, filename: str, *, user_id: int | None = None, archival: bool = False,
                sign_unit: str = "") -> PdfRequest:
    """A handle to the rendered file; enqueues the render unless it is cached or under way.
    The caller commits (the job runs after the commit)."""
    row = _file_row(obj, archival, sign_unit)
    if not _cached(row) and row.status != PdfStatus.RUNNING:
        row.status = PdfStatus.PENDING
        row.error = ""
        enqueue("pdf.render", key=row.key)
    req = PdfRequest(key=row.key, user_id=user_id, filename=_clean_filename(filename))
    db.session.add(req)
    db.session.flush()
    return req


def _clean_filename(name: str) -> str:
    name = "".join(c for c in (name or "document") if c >= " " and c not in '/\\:*?"<>|').strip() or "document"
    return name if name.lower().endswith(".pdf") else name + ".pdf"


@job("pdf.render")
def render_job(key: str) -> dict:
    row = db.session.get(PdfFile, key)
    if row is None:
        return {"skipped": "gone"}
    if _cached(row):
        return {"cached": key}
    row.status = PdfStatus.RUNNING
    db.session.commit()
    try:
        result = _render_to_file(row)
    except Exception as exc:
        db.session.rollback()
        row = db.session.get(PdfFile, key)
        row.status = PdfStatus.FAILED
        row.error = f"{type(exc).__name__}: {exc}"[:2000]
        row.finished_at = utcnow()
        db.session.commit()
        raise
    return {"key": key, "pages": result.pages}


def _render_to_file(row: PdfFile):
    obj = from_json(row.kind, row.payload)
    result = render_pdf(obj, archival=row.archival, sign_unit=row.sign_unit)
    path = file_path(row.key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(result.pdf)
    os.replace(tmp, path)  # atomic: a reader never sees half a file
    row.status = PdfStatus.DONE
    row.error = MISSING_GLYPHS + result.missing_glyphs if result.missing_glyphs else ""
    row.pages = result.pages
    row.size = len(result.pdf)
    row.seconds = round(result.seconds, 4)
    row.finished_at = utcnow()
    db.session.commit()
    return result


MISSING_GLYPHS = "missing glyphs: "


def missing_glyphs(row: PdfFile) -> str:
    """Characters of a finished file that no installed font holds (printed as empty boxes)."""
    return row.error[len(MISSING_GLYPHS):] if row.error.startswith(MISSING_GLYPHS) else ""


def describe_glyphs(chars: str) -> str:
    """Characters with their code points (the reader's screen may lack the font too): 𱍐 U+31350."""
    return "，".join(f"{c} U+{ord(c):04X}" for c in chars)


def ensure_pdf(obj, *, archival: bool = False, sign_unit: str = "") -> Path:
    """Render now (through the cache) and return the file's path."""
    row = _file_row(obj, archival, sign_unit)
    if not _cached(row):
        _render_to_file(row)
    else:
        db.session.commit()
    return file_path(row.key)


def downloadable(actor, request_id: int) -> tuple[PdfRequest, Path]:
    """The actor's own finished render request and its file (NotFound otherwise); the download is
    audited."""
    from office.audit import service as audit
    from office.errors import NotFound

    req = db.session.get(PdfRequest, request_id)
    row = db.session.get(PdfFile, req.key) if req is not None and req.user_id == actor.user_id else None
    if row is None or row.status != PdfStatus.DONE or not file_path(row.key).is_file():
        raise NotFound()
    audit.record_download(actor, "pdf", req.id, req.filename)
    return req, file_path(row.key)
