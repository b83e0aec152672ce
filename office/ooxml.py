"""Untrusted Office Open XML packages (.docx, .xlsx) are checked before any parser opens them.

The ZIP: size cap, member count, declared uncompressed total and per-member ratio (zip bombs), no
absolute or ``..`` paths, no encryption, the parts the format requires; ``zipfile`` enforces the
declared sizes when reading. The XML: any part with a DTD is refused, which shuts out external
entities (XXE) and entity expansion whatever the parser behind does.
"""

from __future__ import annotations

import io
import re
import zipfile

from flask_babel import gettext as _

from office.errors import ValidationError

MAX_MEMBERS = 1000
MAX_RATIO = 200  # uncompressed / compressed, for members above 1 MB
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_package(data: bytes, *, kind: str, required: tuple[str, ...], max_in: int, max_out: int) -> None:
    """Refuse ``data`` unless it is a reasonable package of ``kind`` (".docx", ".xlsx")."""
    if len(data) > max_in:
        raise ValidationError(_("The file is too large."))
    if not data.startswith(b"PK\x03\x04"):
        raise ValidationError(_("That is not a %(kind)s file.", kind=kind))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ValidationError(_("That is not a %(kind)s file.", kind=kind)) from None
    if len(infos) > MAX_MEMBERS:
        raise ValidationError(_("The %(kind)s file has too many parts.", kind=kind))
    total = 0
    names = set()
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or "\x00" in name:
            raise ValidationError(_("The %(kind)s file is malformed.", kind=kind))
        if info.flag_bits & 0x1:
            raise ValidationError(_("Encrypted %(kind)s files cannot be imported.", kind=kind))
        total += info.file_size
        if total > max_out:
            raise ValidationError(_("The %(kind)s file unpacks to too much data.", kind=kind))
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ValidationError(_("The %(kind)s file unpacks to too much data.", kind=kind))
        names.add(name)
    if not set(required) <= names:
        raise ValidationError(_("That is not a %(kind)s file.", kind=kind))
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")):
            with zf.open(info) as fh:  # bounded by the declared size checked above
                if _DTD.search(fh.read(info.file_size + 1)):
                    raise ValidationError(_("The %(kind)s file contains a DTD and is refused.", kind=kind))
