"""JSON API of the notification centre."""

from __future__ import annotations

from flask import Blueprint, jsonify

from office.notifications import service
from office.openapi import BOOL, DATETIME, ID, INT, STR, api_doc, arr, nullable, obj
from office.web import current_actor, login_required

NOTIFICATION = obj(id=ID, kind=STR, title=STR, body=nullable(STR), url=nullable(STR), created_at=DATETIME,
                   read=BOOL)

bp = Blueprint("notifications_api", __name__, url_prefix="/api/notifications")


@bp.get("")
@login_required
@api_doc("My latest notifications", response=obj(unread=INT, items=arr(NOTIFICATION)))
def list_notifications():
    actor = current_actor()
    items = service.list_for(actor.user_id, limit=100)
    return jsonify(
        unread=service.unread_count(actor.user_id),
        items=[{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
                "created_at": n.created_at.isoformat(), "read": n.read_at is not None} for n in items],
    )


@bp.post("/<int:notification_id>/read")
@login_required
@api_doc("Mark one of my notifications read", response=obj(ok=BOOL, unread=INT))
def read(notification_id: int):
    service.mark_read(current_actor(), notification_id)
    return jsonify(ok=True, unread=service.unread_count(current_actor().user_id))
