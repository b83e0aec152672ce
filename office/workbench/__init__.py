"""The workbench (工作台): each module's counts through a small registry, and the to-do list read
from the inbox (``office.inbox``)."""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from office.inbox import lists as inbox
    from office.web import register_card, register_nav
    from office.workbench import views

    app.register_blueprint(views.bp)
    register_nav(app, "workbench", _l("Workbench"), "workbench.index", 10)
    register_nav(app, "todo", _l("To do"), "workbench.todo", 20)
    register_card(app, "todo", title=_l("To do"), order=10, count=inbox.count, endpoint="workbench.todo")
