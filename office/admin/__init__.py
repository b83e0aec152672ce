"""Administration: units, users and roles within the administrator's scope; the audit log; the
security administrator's sign-in pages (second-factor policy and reset, failed sign-ins)."""


def init_app(app):
    from office.admin import security, views  # noqa: F401 - security adds its routes to views.bp

    app.register_blueprint(views.bp)
