"""JSON API for the organisation directory (readable by every logged-in user)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from office.errors import NotFound
from office.extensions import db
from office.openapi import ID, STR, api_doc, arr, nullable, obj, text
from office.org import service
from office.org.models import Division, Unit
from office.web import login_required

UNIT = obj(id=ID, code=STR, name=STR, short_name=nullable(STR), kind=STR, function_code=nullable(STR),
           level=nullable(STR))

bp = Blueprint("org_api", __name__, url_prefix="/api/org")


def unit_json(u: Unit) -> dict:
    return {"id": u.id, "code": u.code, "name": u.name, "short_name": u.short_name, "kind": u.kind,
            "function_code": u.function_code, "level": u.level}


@bp.get("/units")
@login_required
@api_doc("Units whose name, short name or code matches q (20 at most)", query={"q": text(50)},
         response=obj(items=arr(UNIT)))
def units():
    q = (request.args.get("q") or "").strip()[:50]
    if not q:
        return jsonify(items=[])
    rows = db.session.execute(service.search_units(q, limit=20)).scalars()
    return jsonify(items=[unit_json(u) for u in rows])


@bp.get("/divisions/<code>/children")
@login_required
@api_doc("The divisions and zones directly under one in the tree of administration (GB/T 2260 code)",
         response=obj(items=arr(obj(code=STR, name=STR, level=STR, kind=STR))))
def division_children(code: str):
    d = db.session.execute(select(Division).where(Division.code == code)).scalar_one_or_none()
    if d is None:
        raise NotFound("Not found.")
    return jsonify(items=[{"code": c.code, "name": c.name, "level": c.level, "kind": c.kind}
                          for c in service.children(d)])
