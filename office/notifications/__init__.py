"""One notification centre: in-app messages with unread counts, e-mail where SMTP is configured."""


def init_app(app):
    from office.notifications import api, models, service, views  # noqa: F401
    from office.web import register_card, unread_notifications

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    from flask_babel import lazy_gettext as _l

    register_card(app, "notifications", title=_l("Unread notifications"), order=90,
                  count=lambda actor: unread_notifications(actor.user_id),
                  endpoint="notifications.index")
