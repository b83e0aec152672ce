"""Administration: units, users and roles within the administrator's scope; the audit log."""


def init_app(app):
    from office.admin import views

    app.register_blueprint(views.bp)
