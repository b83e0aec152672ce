"""Append-only, hash-chained audit log (审计日志)."""


def init_app(app):
    from office.audit import labels, models, service  # noqa: F401
    from office.jobs.service import register_periodic

    # Who did a recorded action, for the audit log and the timelines: a person, or "System".
    app.add_template_global(labels.actor_label, "actor_label")

    # A signed digest of the chain head, written outside the database once a day.
    register_periodic("audit.anchor", 24 * 3600, service.write_anchor)
