"""Approvals (审批): one engine for sign-off, countersigning (会签) and cross-level escalation.

Flows are versioned templates of nodes (single, all/会签, any/或签, sequential/依次, cc/抄送) with
safe conditions and deadlines; assignees are resolved from the organisation when a node is
reached, with delegation (代理). Subjects (documents, form submissions, stand-alone requests)
register callbacks through ``office.approvals.subjects``; this package imports none of them.
"""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from office.approvals import api, deadlines, models, standalone, todo, views  # noqa: F401
    from office.audit import labels as audit_labels
    from office.inbox import lists as inbox
    from office.web import register_card, register_nav

    app.config.setdefault("APPROVALS_URGE_MINUTES", 30)
    app.config.setdefault("APPROVALS_MAX_ATTACHMENT_MB", 20)
    from office.approvals import choices

    choices.register()
    app.register_blueprint(views.bp)
    audit_labels.register_actions("approvals", {
        **views.ACTION_LABELS, "empty_assignee": _l("Nobody for the step"), "attach": _l("Attachment added"),
        "detach": _l("Attachment removed"), "flow_saved": _l("Flow saved"), "flow_active": _l("Flow switched on or off"),
        "signature_saved": _l("Signature saved"), "signature_removed": _l("Signature removed")})
    audit_labels.register_object_types({
        "approval_request": _l("Approval request"), "approval_flow": _l("Approval flow"),
        "approval_signature": _l("Signature"), "approval_standalone": _l("Request for instructions"),
        "approval_attachment": _l("Attachment")})
    app.register_blueprint(api.bp)
    register_nav(app, "approvals", _l("Approvals"), "approvals.todo", 30,
                 visible=lambda actor: actor.user_id is not None)
    register_card(app, "approvals", title=_l("Approvals waiting for me"), order=20,
                  count=lambda actor: inbox.count(actor, todo.MODULE), endpoint="approvals.todo")
    # Every worker scans for due deadlines once a minute; each firing takes the request's row lock.
    from office.jobs.service import register_periodic

    register_periodic("approvals.scan_deadlines", 60, lambda: deadlines.scan_deadlines())

    @app.cli.command("approvals-scan")
    def _scan():
        """Fire due approval deadlines now (workers also do it every minute)."""
        import click

        n = deadlines.scan_deadlines(inline=True)
        click.echo(f"{n} task(s) checked")

    from office.approvals import demo  # noqa: F401  (registers its demo step)
    from office.org.paths import register_path_copies

    register_path_copies(models.Flow.unit_path, models.ApprovalRequest.unit_path)
