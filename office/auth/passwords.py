"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def policy_errors(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password under the configured policy (MLPS level 3 defaults)."""
    cfg = current_app.config
    errors = []
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        errors.append(_("The password must have at least %(n)d characters.", n=cfg["PASSWORD_MIN_LENGTH"]))
    classes = sum([
        any(c in string.ascii_lowercase for c in password),
        any(c in string.ascii_uppercase for c in password),
        any(c in string.digits for c in password),
        any(not c.isalnum() for c in password),
    ])
    if classes < cfg["PASSWORD_MIN_CLASSES"]:
        errors.append(_("The password must mix at least %(n)d of: lower case, upper case, digits, symbols.",
                        n=cfg["PASSWORD_MIN_CLASSES"]))
    if username and username.lower() in password.lower():
        errors.append(_("The password must not contain the user name."))
    return errors
