"""Handwritten signatures (手写签名): a PNG drawn on a canvas or uploaded, checked by content."""

from __future__ import annotations

import base64
import struct

from flask_babel import gettext as _
from sqlalchemy import select, update

from office.actor import Actor
from office.approvals.models import Signature
from office.audit import service as audit
from office.errors import NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200 * 1024
MAX_SIDE = 2000


def check_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a well-formed PNG within the size cap; ValidationError otherwise."""
    if not data:
        raise ValidationError(_("Choose a PNG image."))
    if len(data) > MAX_BYTES:
        raise ValidationError(_("The signature image is larger than 200 KB."))
    if not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR" or len(data) < 33:
        raise ValidationError(_("The signature must be a PNG image."))
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValidationError(_("The signature image has an odd size."))
    if b"IEND" not in data[-12:]:
        raise ValidationError(_("The PNG image is truncated."))
    return width, height


def data_url_bytes(data_url: str) -> bytes:
    prefix = "data:image/png;base64,"
    if not data_url or not data_url.startswith(prefix):
        raise ValidationError(_("The signature must be a PNG image."))
    if len(data_url) > MAX_BYTES * 4 // 3 + 100:
        raise ValidationError(_("The signature image is larger than 200 KB."))
    try:
        return base64.b64decode(data_url[len(prefix):], validate=True)
    except ValueError:
        raise ValidationError(_("The signature must be a PNG image.")) from None


def save_signature(actor: Actor, data: bytes) -> Signature:
    if actor.user_id is None:
        raise PermissionDenied()
    w, h = check_png(data)
    db.session.execute(update(Signature).where(Signature.user_id == actor.user_id,
                                               Signature.active.is_(True)).values(active=False))
    sig = Signature(user_id=actor.user_id, image=data, mime="image/png", active=True, created_at=utcnow())
    db.session.add(sig)
    db.session.flush()
    audit.record(actor, "approvals.signature_saved", object_type="approval_signature", object_id=sig.id,
                 after={"bytes": len(data), "width": w, "height": h})
    db.session.commit()
    return sig


def remove_signature(actor: Actor) -> None:
    db.session.execute(update(Signature).where(Signature.user_id == actor.user_id,
                                               Signature.active.is_(True)).values(active=False))
    audit.record(actor, "approvals.signature_removed", object_type="approval_signature",
                 object_id=actor.user_id)
    db.session.commit()


def current_signature(user_id: int | None) -> Signature | None:
    if user_id is None:
        return None
    return db.session.execute(select(Signature).where(Signature.user_id == user_id, Signature.active.is_(True))
                              .order_by(Signature.id.desc())).scalars().first()


def signature_image(actor: Actor, signature_id: int, may_view) -> Signature:
    """A signature image: its owner, or anyone who may view a request it was used on."""
    sig = db.session.get(Signature, signature_id)
    if sig is None or not (sig.user_id == actor.user_id or may_view(sig)):
        raise NotFound(_("Not found."))
    return sig
