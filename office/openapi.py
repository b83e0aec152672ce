"""The OpenAPI 3.1 document of the JSON API (``GET /api/openapi.json``, for logged-in users).

Paths, methods and path parameters come from the URL map; everything else from the ``api_doc``
declaration written next to each route in the modules' ``api.py``::

    @bp.post("/tasks/<int:task_id>/<action>")
    @login_required
    @api_doc("Act on an approval task", path={"action": enum(*TASK_ACTIONS)}, body=TASK_BODY,
             response=obj(ok=BOOL, task=TASK, request=REQUEST))
    def act_on_task(task_id, action): ...

The declared request body and query parameters are also enforced: a request that does not match
them is refused with 400 before the view runs (``json_body()`` then returns the body), so the
document and the code cannot drift apart on what they accept. A route under /api without a declaration is reported by ``undeclared``
(and fails ``tests/security/test_openapi.py``).
"""

from __future__ import annotations

import re
from functools import wraps

import jsonschema_rs
from flask import Blueprint, Flask, current_app, g, jsonify, request
from flask_babel import gettext as _

from office.errors import ValidationError
from office.web import MAX_ID, login_required

bp = Blueprint("openapi", __name__, url_prefix="/api")

# --- schema helpers ----------------------------------------------------------------------------

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
NUM = {"type": "number"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# Times are stored in UTC without an offset and sent as such (``datetime.isoformat()``).
DATETIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$",
            "description": "ISO 8601 date and time in UTC, without an offset"}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def arr(items: dict, max_items: int | None = None) -> dict:
    out = {"type": "array", "items": items}
    if max_items is not None:
        out["maxItems"] = max_items
    return out


def obj(_optional: tuple[str, ...] = (), **props: dict) -> dict:
    """An object with these properties, all required except ``_optional`` (responses)."""
    return {"type": "object", "properties": props, "required": [k for k in props if k not in _optional]}


def body(**props: dict) -> dict:
    """A request body: every property optional (the services apply defaults and their own rules)."""
    return {"type": "object", "properties": props}


def number(minimum: int = 0, maximum: int = MAX_ID) -> dict:
    """An integer a client may send (bounded: the database stores 32-bit integers)."""
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def text(max_length: int = 5000) -> dict:
    return {"type": "string", "maxLength": max_length}


ERROR = obj(error=STR)
ITEMS = "items"
# Answers every operation may give besides its success (CSRF or body refused, not logged in,
# no permission, missing or outside scope, stale version or already handled, too large).
ERROR_STATUSES = {400: "Bad request or refused input", 401: "Not logged in", 403: "No permission",
                  404: "Missing or outside your scope", 409: "Changed by someone else or already handled",
                  413: "Request too large"}


def api_doc(summary: str, *, path: dict | None = None, query: dict | None = None, body: dict | None = None,
            response: dict | None = None, status: int = 200):
    """Declare one JSON route: its summary, path and query parameters, request body and answer.

    ``path`` refines the schema of path parameters (an enum of action names); ``query`` maps query
    parameter names to schemas. Put it under ``login_required`` so the login check runs first."""
    spec = {"summary": summary, "path": path or {}, "query": query or {}, "body": body,
            "response": response or {"type": "object"}, "status": status}
    validator = jsonschema_rs.validator_for(body) if body is not None else None
    query_validators = {name: jsonschema_rs.validator_for(schema) for name, schema in spec["query"].items()}

    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            for name, check in query_validators.items():
                _check_query(name, spec["query"][name], check)
            if validator is not None:
                g.json_body = _validated_body(validator)
            return view(*args, **kwargs)

        wrapped._openapi = spec
        return wrapped

    return decorate


def _validated_body(validator) -> dict:
    raw = request.get_data(cache=True)
    data = request.get_json(silent=True) if raw.strip() else {}
    if data is None:
        raise ValidationError(_("The request body is not JSON."))
    if _has_nul(data):  # no text of this system holds one, and PostgreSQL refuses it (web._carries_nul)
        raise ValidationError(_("The request could not be understood."))
    errors = list(validator.iter_errors(data))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.instance_path) or "body"
        raise ValidationError(_("The request body is not valid (%(where)s: %(detail)s).",
                                where=where, detail=first.message[:200]))
    return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _check_query(name: str, schema: dict, validator) -> None:
    if name not in request.args:
        return
    raw = request.args.get(name, "")
    value: object = raw
    if schema.get("type") == "integer":
        if raw == "":
            return  # an empty field of a search form: not given
        try:
            value = int(raw)
        except ValueError:
            value = raw
    errors = list(validator.iter_errors(value))
    if errors:
        raise ValidationError(_("The request is not valid (%(where)s: %(detail)s).", where=name,
                                detail=errors[0].message[:200]))


def json_body() -> dict:
    """The request body of a route declared with ``api_doc(body=...)``, already validated."""
    return g.get("json_body") or {}


# --- the document ------------------------------------------------------------------------------

_ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _api_rules(app: Flask):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith("/api/"):
            yield rule


def undeclared(app: Flask) -> list[str]:
    """``METHOD /path`` of every API route that has no ``api_doc`` declaration."""
    out = []
    for rule in _api_rules(app):
        if getattr(app.view_functions[rule.endpoint], "_openapi", None) is None:
            out.extend(f"{m} {rule.rule}" for m in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return out


def _path_parameters(rule, spec: dict) -> tuple[str, list[dict]]:
    params = []

    def replace(m: re.Match) -> str:
        converter, name = m.group(1) or "default", m.group(2)
        schema = spec["path"].get(name) or (ID if converter == "int" else {"type": "string", "minLength": 1})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        return "{" + name + "}"

    return _ARG.sub(replace, rule.rule), params


def _operation(rule, method: str, spec: dict) -> dict:
    _path, params = _path_parameters(rule, spec)
    params += [{"name": name, "in": "query", "required": False, "schema": schema}
               for name, schema in spec["query"].items()]
    responses = {str(spec["status"]): {"description": "OK",
                                       "content": {"application/json": {"schema": spec["response"]}}}}
    for code, description in ERROR_STATUSES.items():
        responses[str(code)] = {"description": description,
                                "content": {"application/json": {"schema": ERROR}}}
    op = {"operationId": rule.endpoint.replace(".", "_") + ("" if method == "GET" else f"_{method.lower()}"),
          "summary": spec["summary"], "tags": [rule.endpoint.split(".")[0].removesuffix("_api")],
          "parameters": params, "responses": responses}
    if method != "GET":
        op["security"] = [{"session": [], "csrf": []}]
    if spec["body"] is not None:
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": spec["body"]}}}
    return op


def document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    for rule in _api_rules(app):
        spec = getattr(app.view_functions[rule.endpoint], "_openapi", None)
        if spec is None:
            continue
        path, _params = _path_parameters(rule, spec)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, method, spec)
    return {
        "openapi": "3.1.0",
        "info": {"title": "office JSON API", "version": "1",
                 "description": "Log in through /login; the session cookie authenticates every call, and "
                                "every POST carries the session's CSRF token in the X-CSRFToken header "
                                "(the csrf_token of any page). Records outside the caller's scope answer 404."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"securitySchemes": {
            "session": {"type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME", "session")},
            "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
        }},
        "security": [{"session": []}],
    }


@bp.get("/openapi.json")
@login_required
@api_doc("This document", response={"type": "object", "required": ["openapi", "paths"]})
def openapi_json():
    return jsonify(document(current_app))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
