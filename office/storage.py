"""Uploaded files, shared by the modules: type by content (magic bytes, never the name), safe names,
content-addressed storage under ``STORAGE_DIR/<area>/`` by SHA-256, and download headers with
RFC 5987 file names.

Each module keeps its own table of attachments (what belongs to what, who may see it); this module
only knows bytes and names.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from flask_babel import gettext as _

from office.errors import ValidationError

ALLOWED = ("pdf", "docx", "xlsx", "ofd", "png", "jpg")
MIME = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "ofd": "application/ofd",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
ACCEPT = ".pdf,.docx,.xlsx,.ofd,.png,.jpg,.jpeg"


def sniff(data: bytes) -> str | None:
    """The file type by its content, never by its name (one of ``ALLOWED``, or None)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "OFD.xml" in names:
            return "ofd"
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "docx"
            if any(n.startswith("xl/") for n in names):
                return "xlsx"
    return None


def safe_name(name: str, file_type: str) -> str:
    """No path parts or control characters; the extension matches the content."""
    name = re.sub(r"[\x00-\x1f\x7f/\\:*?\"<>|]", "_", Path((name or "").replace("\\", "/")).name).strip(" .") \
        or "attachment"
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem[:150]}.{file_type}"


def check_upload(data: bytes, max_bytes: int) -> str:
    """The type of an acceptable upload; ValidationError for empty, too large or unaccepted files."""
    if not data:
        raise ValidationError(_("The file is empty."))
    if len(data) > max_bytes:
        raise ValidationError(_("The file is too large (at most %(mb)s MB).", mb=max_bytes // 1024 // 1024))
    kind = sniff(data)
    if kind is None:
        raise ValidationError(_("This file type is not accepted (by its content). Accepted: %(types)s.",
                                types="PDF, DOCX, XLSX, OFD, PNG, JPG"))
    return kind


def blob_path(area: str, sha256: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        raise ValueError("not a SHA-256 hex digest")
    return Path(current_app.config["STORAGE_DIR"]) / area / sha256[:2] / sha256


def store_blob(area: str, data: bytes) -> str:
    """Store ``data`` once (content-addressed, written atomically); returns its SHA-256."""
    digest = hashlib.sha256(data).hexdigest()
    path = blob_path(area, digest)
    # A file already there is reused unless it is damaged (then it is written again).
    if not path.is_file() or path.stat().st_size != len(data) or \
            hashlib.sha256(path.read_bytes()).hexdigest() != digest:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return digest


def read_blob(area: str, sha256: str) -> bytes:
    """The stored bytes, verified against their hash."""
    try:
        data = blob_path(area, sha256).read_bytes()
    except FileNotFoundError:
        raise ValidationError(_("The stored file is missing.")) from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ValidationError(_("The stored file is damaged."))
    return data


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``filename`` for old clients (ASCII only), ``filename*`` (RFC 5987, UTF-8) for the real name."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;%' else "_" for c in filename)
    stem, dot, ext = ascii_name.rpartition(".")
    if dot and not stem.strip("_. "):
        ascii_name = f"file.{ext}"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download_headers(filename: str) -> dict[str, str]:
    """Headers for sending a stored file as a download."""
    return {"Content-Disposition": content_disposition(filename), "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store"}
