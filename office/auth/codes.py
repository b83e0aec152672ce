"""Codes typed at sign-in: the authenticator app (TOTP, RFC 6238, 6 digits every 30 seconds, SHA-1
as every app supports it) and the one-time recovery codes. TOTP secrets are stored encrypted
(AES-GCM, key derived from ``OFFICE_MFA_KEY`` or else ``SECRET_KEY``); recovery codes only as
keyed hashes."""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import os
import secrets
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from office.audit import service as audit
from office.auth.models import RecoveryCode, TotpCredential, User, UserSession
from office.auth.second_factor import (
    RECOVERY,
    TOTP,
    _actor_of,
    enrolled,
    finish_sign_in,
    require_may_enrol,
)
from office.errors import PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow

RECOVERY_CODES = 10
# 31 symbols without 0/o, 1/l/i (read out and typed without confusion); 24 of them carry 118 bits, so
# a keyed SHA-256 is enough to store them (ASVS: 112 bits or more need no password hash).
RECOVERY_LENGTH = 24
_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
TOTP_STEP_SECONDS = 30


# --- keys ------------------------


def _key(purpose: bytes) -> bytes:
    master = current_app.config.get("MFA_KEY") or current_app.config["SECRET_KEY"]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"office-second-factor", info=purpose).derive(
        master.encode())


def _seal(secret: str) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(_key(b"totp")).encrypt(nonce, secret.encode(), b"totp")).decode()


def _unseal(sealed: str) -> str | None:
    try:
        raw = base64.b64decode(sealed)
        return AESGCM(_key(b"totp")).decrypt(raw[:12], raw[12:], b"totp").decode()
    except (InvalidTag, ValueError):
        return None  # another key (OFFICE_MFA_KEY or SECRET_KEY changed): the app must be reset


def _code_hash(code: str) -> str:
    return hmac.new(_key(b"recovery"), _normalise_code(code).encode(), hashlib.sha256).hexdigest()


def _normalise_code(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


# --- TOTP --------------------------------------------------------------------------------------


def _step(now: datetime) -> int:
    return calendar.timegm(now.utctimetuple()) // TOTP_STEP_SECONDS


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (now, or one either side for clock drift) whose code this is."""
    code = "".join(c for c in code or "" if not c.isspace())
    if len(code) != 6 or not code.isdigit():
        return None
    otp = pyotp.TOTP(secret)
    here = _step(now)
    for step in (here - 1, here, here + 1):
        if hmac.compare_digest(otp.generate_otp(step), code):
            return step
    return None


class TotpEnrolment:
    """A new authenticator-app secret, shown once: as a QR code and as text to type in."""

    def __init__(self, user: User, secret: str):
        issuer = current_app.config.get("MFA_ISSUER") or "Office"
        self.secret = secret
        self.uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
        self.qr = segno.make(self.uri, error="m").svg_data_uri(scale=5, border=2)

    @property
    def grouped(self) -> str:
        return " ".join(self.secret[i:i + 4] for i in range(0, len(self.secret), 4))


def start_totp(user: User, session_row: UserSession) -> TotpEnrolment:
    """A fresh secret for the authenticator app, not in use until a code from it is confirmed."""
    require_may_enrol(user, session_row)
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id,
                                                    TotpCredential.confirmed_at.is_(None)))
    secret = pyotp.random_base32(32)
    db.session.add(TotpCredential(user_id=user.id, secret=_seal(secret)))
    db.session.commit()
    return TotpEnrolment(user, secret)


def pending_totp(user: User, session_row: UserSession) -> TotpEnrolment | None:
    """The secret being set up, to show it again after a mistyped confirmation code."""
    require_may_enrol(user, session_row)
    cred = db.session.execute(select(TotpCredential).where(
        TotpCredential.user_id == user.id, TotpCredential.confirmed_at.is_(None))
        .order_by(TotpCredential.id.desc())).scalars().first()
    secret = _unseal(cred.secret) if cred else None
    return TotpEnrolment(user, secret) if secret else None


def confirm_totp(user: User, session_row: UserSession, code: str, *, ip: str = "", user_agent: str = "") -> bool:
    """The first code from the app: it replaces an earlier app, and the session counts as passed."""
    require_may_enrol(user, session_row)
    cred = db.session.execute(select(TotpCredential).where(
        TotpCredential.user_id == user.id, TotpCredential.confirmed_at.is_(None))
        .order_by(TotpCredential.id.desc()).with_for_update()).scalars().first()
    if cred is None:
        raise ValidationError(_("Start the set-up again: no new authenticator app is waiting for a code."))
    secret = _unseal(cred.secret)
    now = utcnow()
    step = _matching_step(secret, code, now) if secret else None
    if step is None:
        return False
    db.session.execute(delete(TotpCredential).where(TotpCredential.user_id == user.id,
                                                    TotpCredential.id != cred.id))
    cred.confirmed_at = now
    cred.last_step = step
    cred.last_used_at = now
    enrolled(user, session_row, TOTP, {}, ip=ip, user_agent=user_agent)
    db.session.commit()
    return True


def check_totp(user: User, code: str) -> bool:
    """A code of the user's app, at most once: a code accepted once (or an older one) is refused,
    also within its 30 seconds. In the caller's transaction (the row stays locked)."""
    cred = db.session.execute(select(TotpCredential).where(
        TotpCredential.user_id == user.id, TotpCredential.confirmed_at.is_not(None))
        .with_for_update()).scalars().first()
    secret = _unseal(cred.secret) if cred else None
    if secret is None:
        return False
    now = utcnow()
    step = _matching_step(secret, code, now)
    if step is None or step <= cred.last_step:
        return False
    cred.last_step = step
    cred.last_used_at = now
    return True


# --- recovery codes ----------------------------------------------------------------------------


def new_recovery_codes(user: User, session_row: UserSession, *, ip: str = "", user_agent: str = "") -> list[str]:
    """Ten new one-time codes (the earlier ones stop working), returned once and kept hashed."""
    if session_row.second_factor_at is None or user.second_factor is None:
        raise PermissionDenied(_("Set up a second factor first."))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _i in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_ALPHABET) for _j in range(RECOVERY_LENGTH))
        codes.append("-".join(raw[i:i + 4] for i in range(0, RECOVERY_LENGTH, 4)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    audit.record(_actor_of(user, ip, user_agent), "auth.recovery_codes_created", object_type="user",
                 object_id=user.id, after={"count": RECOVERY_CODES})
    db.session.commit()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """Spend one recovery code (in the caller's transaction): each works once."""
    if len(_normalise_code(code)) != RECOVERY_LENGTH:
        return False
    n = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _code_hash(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())).rowcount
    return n == 1


def looks_like_recovery_code(code: str) -> bool:
    return len(_normalise_code(code)) == RECOVERY_LENGTH


def pass_with_code(user: User, session_row: UserSession, code: str, *, ip: str = "", user_agent: str = "") -> str | None:
    """A code typed at sign-in: the app's code or a recovery code. Returns the method that passed,
    or None (the caller counts the failure)."""
    if user.second_factor is None:
        return None
    if looks_like_recovery_code(code):
        method = RECOVERY if use_recovery_code(user, code) else None
    else:
        method = TOTP if check_totp(user, code) else None
    if method is None:
        db.session.rollback()
        return None
    finish_sign_in(user, session_row, method, ip=ip, user_agent=user_agent)
    return method


