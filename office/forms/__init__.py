"""Unified reporting forms (一表通): a data element catalogue, one value store keyed by (element,
unit, period), shared datasets, versioned templates with safe expressions, reporting tasks that
cascade up the levels with review, roll-up in SQL, Excel round-trip and the workload meter."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from office.audit import labels as audit_labels
    from office.forms import api, choices, models, todo, views  # noqa: F401
    from office.inbox import lists as inbox
    from office.web import register_card, register_nav

    choices.register()
    app.register_blueprint(views.bp)
    audit_labels.register_actions("forms", {
        "submit": _l("Report submitted"), "approve": _l("Report approved"), "return": _l("Report returned"),
        "withdraw": _l("Report withdrawn"), "saved": _l("Report saved"), "urged": _l("Urged to submit"),
        "task_issued": _l("Report task issued"), "template_created": _l("Form template created"),
        "template_versioned": _l("Form template changed"), "element_created": _l("Data element created"),
        "dataset_imported": _l("Shared data imported")})
    audit_labels.register_object_types({
        "form_submission": _l("Report"), "form_task": _l("Report task"), "form_template": _l("Form template"),
        "form_element": _l("Data element"), "form_dataset": _l("Shared data")})
    app.register_blueprint(api.bp)
    register_nav(app, "reports", _l("Reports"), "forms.index", 50,
                 visible=lambda actor: bool(actor.unit_id) or actor.is_system)
    register_card(app, "reports", title=_l("Reports to fill or review"), endpoint="forms.index", order=50,
                  count=lambda actor: inbox.count(actor, todo.MODULE))
    from office.forms import demo  # noqa: F401  (registers its demo step)
    from office.org.paths import register_path_copies

    register_path_copies(models.ReportTask.path, models.Submission.path)
