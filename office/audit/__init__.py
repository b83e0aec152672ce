"""Append-only, hash-chained audit log (审计日志)."""


def init_app(app):
    from office.audit import models  # noqa: F401
