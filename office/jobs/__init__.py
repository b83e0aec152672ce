"""Background jobs: one facade, an outbox in the database, RQ or in-process execution."""


def init_app(app):
    from office.jobs import models, service  # noqa: F401
