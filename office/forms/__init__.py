"""Unified reporting forms (一表通): a data element catalogue, one value store keyed by (element,
unit, period), shared datasets, versioned templates with safe expressions, reporting tasks that
cascade up the levels with review, roll-up in SQL, Excel round-trip and the workload meter."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from office.forms import api, choices, models, todo, views  # noqa: F401
    from office.inbox import lists as inbox
    from office.web import register_card, register_nav

    choices.register()
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_nav(app, "reports", _l("Reports"), "forms.index", 50,
                 visible=lambda actor: bool(actor.unit_id) or actor.is_system)
    register_card(app, "reports", title=_l("Reports to fill or review"), endpoint="forms.index", order=50,
                  count=lambda actor: inbox.count(actor, todo.MODULE))
    from office.forms import demo  # noqa: F401  (registers its demo step)
    from office.org.paths import register_path_copies

    register_path_copies(models.ReportTask.path, models.Submission.path)
