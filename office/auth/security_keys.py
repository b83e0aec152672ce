"""Security keys and platform authenticators (WebAuthn, through duo-labs' ``webauthn``): the
registration and the sign-in ceremonies. The challenge of a ceremony is kept on the server-side
session row, used once and valid for five minutes; attestation is not asked for ("none"), the
public key and the signature counter are kept (a counter that goes backwards is refused: a cloned
key)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from office.auth.models import User, UserSession, WebAuthnCredential
from office.auth.second_factor import WEBAUTHN, enrolled, finish_sign_in, keys_of, require_may_enrol
from office.errors import ValidationError
from office.extensions import db
from office.timeutil import utcnow

CHALLENGE_MINUTES = 5
REGISTER = "register"
SIGN_IN = "sign_in"


@dataclass(frozen=True)
class RelyingParty:
    """Who the keys are for: the host name (RP ID) and the origin the browser reports."""

    id: str
    origin: str
    name: str


def _descriptors(user_id: int) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=k.credential_id) for k in keys_of(user_id)]


def _remember(session_row: UserSession, kind: str, challenge: bytes) -> None:
    session_row.challenge = bytes_to_base64url(challenge)
    session_row.challenge_kind = kind
    session_row.challenge_at = utcnow()
    db.session.commit()


def _take_challenge(session_row: UserSession, kind: str) -> bytes:
    """The session's pending challenge of this kind, used up now whatever the outcome."""
    challenge, pending_kind, at = session_row.challenge, session_row.challenge_kind, session_row.challenge_at
    session_row.challenge = session_row.challenge_kind = session_row.challenge_at = None
    db.session.commit()
    if not challenge or pending_kind != kind or at is None or \
            utcnow() - at > timedelta(minutes=CHALLENGE_MINUTES):
        raise ValidationError(_("The request to the security key has expired. Try again."))
    return base64url_to_bytes(challenge)


def _user_handle(user: User) -> bytes:
    return f"office-user-{user.id}".encode()


def registration_options(user: User, session_row: UserSession, rp: RelyingParty) -> dict:
    require_may_enrol(user, session_row)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=user.username, user_id=_user_handle(user),
        user_display_name=user.name, exclude_credentials=_descriptors(user.id),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED))
    _remember(session_row, REGISTER, options.challenge)
    return json.loads(options_to_json(options))


def register(user: User, session_row: UserSession, credential: dict, rp: RelyingParty, name: str = "", *,
             ip: str = "", user_agent: str = "") -> WebAuthnCredential:
    """Check the authenticator's answer to ``registration_options`` and keep the new key."""
    require_may_enrol(user, session_row)
    challenge = _take_challenge(session_row, REGISTER)
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        current_app.logger.info("security key registration refused: %s", exc)
        raise ValidationError(_("The security key could not be registered. Try again.")) from exc
    if db.session.execute(select(WebAuthnCredential.id).where(
            WebAuthnCredential.credential_id == verified.credential_id)).first():
        raise ValidationError(_("This security key is registered already."))
    key = WebAuthnCredential(user_id=user.id, credential_id=verified.credential_id,
                             public_key=verified.credential_public_key, sign_count=verified.sign_count,
                             name=(name or "").strip()[:64] or _("Security key"), aaguid=verified.aaguid or "")
    db.session.add(key)
    db.session.flush()
    enrolled(user, session_row, WEBAUTHN, {"key": key.name}, ip=ip, user_agent=user_agent)
    db.session.commit()
    return key


def authentication_options(user: User, session_row: UserSession, rp: RelyingParty) -> dict:
    keys = _descriptors(user.id)
    if not keys:
        raise ValidationError(_("You have no security key."))
    options = generate_authentication_options(rp_id=rp.id, allow_credentials=keys,
                                              user_verification=UserVerificationRequirement.PREFERRED)
    _remember(session_row, SIGN_IN, options.challenge)
    return json.loads(options_to_json(options))


def sign_in(user: User, session_row: UserSession, credential: dict, rp: RelyingParty, *, ip: str = "",
            user_agent: str = "") -> WebAuthnCredential | None:
    """Check the key's answer to ``authentication_options``: the key must be one of this user's.
    None when refused (the caller counts the failure)."""
    challenge = _take_challenge(session_row, SIGN_IN)
    raw_id = credential.get("rawId") if isinstance(credential, dict) else None
    try:
        key_id = base64url_to_bytes(raw_id) if isinstance(raw_id, str) else b""
    except ValueError:
        key_id = b""
    key = db.session.execute(select(WebAuthnCredential).where(
        WebAuthnCredential.credential_id == key_id, WebAuthnCredential.user_id == user.id)
        .with_for_update()).scalar_one_or_none()
    if key is None:
        return None
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=key.public_key, credential_current_sign_count=key.sign_count)
    except (WebAuthnException, ValueError, TypeError, KeyError) as exc:
        current_app.logger.info("security key sign-in refused: %s", exc)
        db.session.rollback()
        return None
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    finish_sign_in(user, session_row, WEBAUTHN, ip=ip, user_agent=user_agent, detail={"key": key.name})
    return key
