"""People, posts, roles, delegation, login and sessions."""


def init_app(app):
    from office.auth import models, views  # noqa: F401

    app.register_blueprint(views.bp)
