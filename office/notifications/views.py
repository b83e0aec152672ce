"""The notification centre."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from office.notifications import service
from office.web import current_actor, is_safe_next, login_required

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    unread_only = request.args.get("unread") == "1"
    items = service.list_for(actor.user_id, unread_only=unread_only, limit=100)
    return render_template("notifications/index.html", items=items, unread_only=unread_only)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    n = service.mark_read(current_actor(), notification_id)
    return redirect(n.url if is_safe_next(n.url) else url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    service.mark_all_read(current_actor())
    return redirect(url_for("notifications.index"))
