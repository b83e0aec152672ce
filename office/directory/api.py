"""JSON routes of the picker (thin): search, recent choices, one level of the tree, names of values."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from office.directory import service
from office.openapi import ID, STR, api_doc, arr, nullable, number, obj, text
from office.web import current_actor, login_required

bp = Blueprint("directory_api", __name__, url_prefix="/api/directory")

CHOICE = obj(value=STR, id=ID, name=STR, detail=STR)
PLACE = obj(code=STR, name=STR)
COMMON = {"purpose": text(40), "context": text(40)}


def _args():
    return request.args.get("purpose", ""), request.args.get("context", "")


@bp.get("/search")
@login_required
@api_doc("People or units matching q (name, user name, pinyin initials or spelling, unit) within what the "
         "purpose lets me address", query={**COMMON, "q": text(40)}, response=obj(items=arr(CHOICE)))
def search():
    purpose, context = _args()
    return jsonify(items=[c.json() for c in service.search(current_actor(), purpose, request.args.get("q", ""),
                                                            context)])


@bp.get("/recent")
@login_required
@api_doc("My last choices for the purpose, still within its scope", query=COMMON, response=obj(items=arr(CHOICE)))
def recent():
    purpose, context = _args()
    return jsonify(items=[c.json() for c in service.recent(current_actor(), purpose, context)])


@bp.get("/resolve")
@login_required
@api_doc("The names of values a form holds (comma separated ids, user names or codes)",
         query={**COMMON, "values": text(4000)}, response=obj(items=arr(CHOICE)))
def resolve():
    purpose, context = _args()
    values = request.args.get("values", "").replace("，", ",").split(",")
    return jsonify(items=[c.json() for c in service.resolve(current_actor(), purpose, values, context)])


@bp.get("/browse")
@login_required
@api_doc("One level of the tree of government for the purpose: child divisions, organs, or a unit's people",
         query={**COMMON, "division": text(12), "unit": number(1)},
         response=obj(("division", "up", "divisions", "units", "unit", "people"), division=PLACE,
                      up=nullable(PLACE), divisions=arr(obj(code=STR, name=STR, children={"type": "integer"})),
                      units=arr(obj(("value", "detail"), id=ID, name=STR, value=STR, detail=STR)),
                      unit=obj(id=ID, name=STR), people=arr(CHOICE)))
def browse():
    purpose, context = _args()
    return jsonify(service.browse(current_actor(), purpose, context, division=request.args.get("division", ""),
                                  unit_id=request.args.get("unit", type=int)))
