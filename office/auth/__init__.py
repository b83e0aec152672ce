"""People, posts, roles, delegation, login and sessions."""


def init_app(app):
    from office.auth import choices, models, second_factor_views, views  # noqa: F401
    from office.auth.throttle import prune
    from office.jobs.service import register_periodic

    choices.register()
    app.register_blueprint(views.bp)
    register_periodic("auth.prune_login_failures", 3600, prune)
