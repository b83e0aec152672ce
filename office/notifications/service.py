"""Sending and reading notifications. Every module notifies through ``notify``."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from office.actor import Actor
from office.errors import NotFound
from office.extensions import db
from office.jobs.service import enqueue, job
from office.notifications.models import Notification
from office.timeutil import utcnow

log = logging.getLogger(__name__)

KINDS = ("assignment", "urge", "reminder", "deadline", "info")


def notify(user_ids, kind: str, title: str, *, body: str = "", url: str = "",
           unit_id: int | None = None) -> int:
    """Add one message per user in the caller's transaction; e-mail follows after commit."""
    return notify_units({unit_id: [int(u) for u in user_ids if u is not None]}, kind, title, body=body, url=url)


def notify_units(users_by_unit: dict[int | None, list[int]], kind: str, title: str, *, body: str = "",
                 url: str = "") -> int:
    """``notify`` for many units at once (each message keeps its unit): one INSERT, one e-mail job."""
    now = utcnow()
    rows = [dict(user_id=u, unit_id=unit_id, kind=kind, title=title[:200], body=body, url=url[:300],
                 created_at=now) for unit_id, users in users_by_unit.items() for u in sorted(set(users))]
    if not rows:
        return 0
    db.session.execute(Notification.__table__.insert(), rows)
    if current_app.config.get("SMTP_HOST"):
        enqueue("notifications.send_email", user_ids=sorted({r["user_id"] for r in rows}), title=title, body=body,
                url=url)
    return len(rows)


def unread_count_of(user_id_column):
    """``unread_count`` as a scalar subquery correlated with ``user_id_column`` (one statement can
    read it with the user)."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id_column, Notification.read_at.is_(None))
            .correlate_except(Notification).scalar_subquery())


def unread_count(user_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


_LIST_COLUMNS = (Notification.id, Notification.kind, Notification.title, Notification.body, Notification.url,
                 Notification.unit_id, Notification.created_at, Notification.read_at)


@cache
def _list_statement(unread_only: bool):
    q = select(*_LIST_COLUMNS).where(Notification.user_id == bindparam("user"))
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    return q.order_by(Notification.id.desc()).limit(bindparam("limit")).offset(bindparam("offset"))


def list_for(user_id: int, *, unread_only: bool = False, limit: int = 50, offset: int = 0):
    """The user's latest notifications, newest first, as rows with the attributes a list shows
    (id, kind, title, body, url, unit_id, created_at, read_at), not whole objects (the statement
    is built once)."""
    return db.session.connection().execute(_list_statement(unread_only),
                                           {"user": user_id, "limit": limit, "offset": offset}).all()


def mark_read(actor: Actor, notification_id: int) -> Notification:
    n = db.session.get(Notification, notification_id)
    if n is None or n.user_id != actor.user_id:
        raise NotFound(_("Not found."))
    if n.read_at is None:
        n.read_at = utcnow()
        db.session.commit()
    return n


def mark_all_read(actor: Actor) -> int:
    n = db.session.execute(
        update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    db.session.commit()
    return n


@job("notifications.send_email")
def send_email(user_ids: list[int], title: str, body: str = "", url: str = "") -> int:
    from office.auth.models import User

    cfg = current_app.config
    users = db.session.execute(select(User).where(User.id.in_(user_ids), User.email.isnot(None))).scalars()
    sent = 0
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"] or "")
        for u in users:
            msg = EmailMessage()
            msg["Subject"] = title
            msg["From"] = cfg["MAIL_FROM"]
            msg["To"] = u.email
            msg.set_content(body + (f"\n\n{url}" if url else ""))
            smtp.send_message(msg)
            sent += 1
    db.session.execute(
        update(Notification).where(Notification.user_id.in_(user_ids), Notification.title == title[:200],
                                   Notification.emailed_at.is_(None)).values(emailed_at=utcnow()))
    return sent
