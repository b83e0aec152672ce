"""Workbench (工作台) and the to-do list (待办), read from the inbox."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from office.inbox import lists as inbox
from office.web import cards, current_actor, login_required, paging

bp = Blueprint("workbench", __name__)


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    shown = []
    for card in cards():
        shown.append({"key": card.key, "title": card.title, "count": card.count(actor),
                      "url": url_for(card.endpoint)})
    return render_template("workbench/index.html", cards=shown, todo=inbox.items(actor, limit=10))


@bp.get("/todo")
@login_required
def todo():
    """The whole to-do list, 50 items a page, soonest due first."""
    actor = current_actor()
    p = paging(inbox.count(actor))
    return render_template("workbench/todo.html", items=inbox.items(actor, p.size, p.offset), paging=p)
