"""JSON API for the organisation directory (readable by every logged-in user)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from office.errors import NotFound
from office.extensions import db
from office.org import service
from office.org.models import Division, Unit
from office.web import login_required

bp = Blueprint("org_api", __name__, url_prefix="/api/org")


def unit_json(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "short_name": u.short_name, "kind": u.kind,
            "function_code": u.function_code, "level": u.level}


@bp.get("/units")
@login_required
def units():
    q = (request.args.get("q") or "").strip()[:50]
    if not q:
        return jsonify(items=[])
    rows = db.session.execute(service.search_units(q, limit=20)).scalars()
    return jsonify(items=[unit_json(u) for u in rows])


@bp.get("/divisions/<code>/children")
@login_required
def division_children(code: str):
    d = db.session.execute(select(Division).where(Division.code == code)).scalar_one_or_none()
    if d is None:
        raise NotFound("Not found.")
    return jsonify(items=[{"code": c.code, "name": c.name, "level": c.level} for c in service.children(d)])
