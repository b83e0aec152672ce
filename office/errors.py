"""Domain errors raised by services; the web layer maps them to 400/403/404/409 with the message."""

from __future__ import annotations


class OfficeError(Exception):
    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class ValidationError(OfficeError):
    """Bad input: nothing was changed."""

    status = 400


class PermissionDenied(OfficeError):
    status = 403


class NotFound(OfficeError):
    """Missing, or outside the user's scope: both look the same to the user."""

    status = 404


class Conflict(OfficeError):
    """Already handled, changed by someone else, or a replayed action."""

    status = 409
