"""Divisions (行政区划) and units (机关单位): the organisation every other module routes work through."""


def init_app(app):
    from office.org import api, models, views  # noqa: F401

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
