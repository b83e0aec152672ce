"""The access matrix: every route of the URL map, HTML and JSON, tried by users of every role from a
unit unrelated to the records named in the URL, with GET and with POST (a valid CSRF token): the
answer is 403/404 (405 where the method does not exist) and never shows the records' data. A route
whose URL parameters this file cannot fill fails the test, so a new route forces an update here."""

from __future__ import annotations

from sqlalchemy import select

from office.extensions import db
from tests.conftest import csrf_from, login
from tests.security.conftest import MARK, PDF_BYTES

# Open to everybody (declared ``public``): still no record data in the answer.
PUBLIC = {"static", "auth.login", "auth.logout", "web.set_language", "web.healthz"}

# Shared by design across units, still without any record data of another county:
SHARED = {
    # the administrative division tree (GB/T 2260 codes and names) is public geography, and so is
    # the directory of organs; the people of an organ are shown only within scope
    "org_api.division_children",
    "org.index",
    "org.children",
    "org.division",
    "org.unit",
    # the form catalogue is one for the whole province; catalogue administrators of any unit manage it
    "forms.template_edit",
    "forms.template_export",
}

# Names of the victim county's people: never in an attacker's answer either.
SECRETS = (MARK, "孔明", "上城区长", "清波文书")

DOC_ACTIONS = sorted(__import__("office.docflow.views", fromlist=["ACTIONS"]).ACTIONS)
RECEIPT_ACTIONS = sorted(__import__("office.docflow.views", fromlist=["RECEIPT_ACTIONS"]).RECEIPT_ACTIONS)
TASK_ACTIONS = ("approve", "reject", "return", "transfer", "add_signer")
REQUEST_ACTIONS = ("withdraw", "resubmit", "urge", "comment", "cc")

# (endpoint or blueprint, argument) -> the kinds of record ids of ``Foreign`` that fill it.
PARAMS = {
    ("admin", "unit_id"): ["unit"],
    ("admin", "user_id"): ["user"],
    ("admin", "post_id"): ["post"],
    ("approvals", "request_id"): ["request"],
    ("approvals_api", "request_id"): ["request"],
    ("pdf", "request_id"): ["pdf"],
    ("approvals", "attachment_id"): ["request_attachment"],
    ("approvals", "flow_id"): ["flow"],
    ("approvals", "signature_id"): ["signature"],
    ("approvals_api", "task_id"): ["task"],
    ("forms", "task_id"): ["form_task"],
    ("forms_api", "task_id"): ["form_task"],
    ("forms", "sub_id"): ["submission"],
    ("forms_api", "sub_id"): ["submission"],
    ("forms", "code"): ["template"],
    ("org_api", "code"): ["division"],
    ("org", "code"): ["division"],
    ("org", "unit_id"): ["unit"],
    ("docflow", "doc_id"): ["doc", "draft"],
    ("docflow_api", "doc_id"): ["doc", "draft"],
    ("docflow", "att_id"): ["doc_attachment"],
    ("docflow", "receipt_id"): ["receipt"],
    ("docflow_api", "receipt_id"): ["receipt"],
    ("notifications", "notification_id"): ["notification"],
    ("notifications_api", "notification_id"): ["notification"],
}
NAMES = {
    "docflow.action": DOC_ACTIONS, "docflow_api.action": DOC_ACTIONS,
    "docflow.receipt_action": RECEIPT_ACTIONS, "docflow_api.receipt_action": RECEIPT_ACTIONS,
    "approvals_api.act_on_task": TASK_ACTIONS, "approvals_api.act_on_request": REQUEST_ACTIONS,
}


class Unfillable(AssertionError):
    pass


def fillings(rule, foreign) -> list[dict]:
    """Every combination of real foreign ids (and action names) for the rule's arguments."""
    if rule.endpoint == "static":
        return [{"filename": "css/app.css"}]
    combos: list[dict] = [{}]
    blueprint = rule.endpoint.split(".")[0]
    for arg in sorted(rule.arguments):
        if arg in ("name", "action") and rule.endpoint in NAMES:
            options = list(NAMES[rule.endpoint])
        else:
            kinds = PARAMS.get((rule.endpoint, arg)) or PARAMS.get((blueprint, arg))
            if kinds is None:
                raise Unfillable(f"{rule.rule}: no foreign record fills <{arg}>; add it to PARAMS")
            options = [foreign[k] for k in kinds]
        combos = [{**c, arg: o} for c in combos for o in options]
    return combos


def url_for_rule(app, rule, values: dict) -> str:
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method=sorted(rule.methods)[0],
                                                   force_external=False)


def matched_endpoint(app, url: str, method: str) -> str | None:
    """The endpoint that answers ``method url`` (None: the URL exists, the method does not)."""
    from werkzeug.exceptions import MethodNotAllowed

    try:
        endpoint, _args = app.url_map.bind("localhost").match(url, method)
    except MethodNotAllowed:
        return None
    return endpoint


def all_requests(app, foreign):
    """(rule, method, url) for every rule, GET and POST, with every filling; logout last."""
    out = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    for rule in rules:
        for values in fillings(rule, foreign):
            url = url_for_rule(app, rule, values)
            for method in ("GET", "POST"):
                out.append((rule, method, url))
    return out


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, except the ones a refused request may add to (audit trail, the
    attackers' own sessions and login counters)."""
    skip = {"audit_event", "audit_head", "user_session", "login_throttle", "alembic_version"}
    db.session.expire_all()
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in skip:
            continue
        out[table.name] = sorted(repr(tuple(r)) for r in db.session.execute(select(table)).all())
    return out


def _form_payload(foreign, token: str) -> dict:
    """A well-formed form, with forged references to the foreign records and a file for uploads."""
    import io

    from tests.docflow.test_docx_pdf import _docx, _sample

    return {"csrf_token": token, "version": "1", "text": "x", "opinion": "x", "action": "approve",
            "task_id": str(foreign["task"]), "post_id": str(foreign["post"]), "user_id": str(foreign["user"]),
            "unit_id": str(foreign["unit"]), "active": "0", "roles": "clerk", "lang": "en", "next": "/",
            "file": (io.BytesIO(PDF_BYTES), "a.pdf"), "attachments": (io.BytesIO(PDF_BYTES), "b.pdf"),
            "docx": (io.BytesIO(_docx(_sample)), "c.docx")}


def _json_payload(foreign) -> dict:
    return {"version": 1, "opinion": "x", "text": "x", "reason": "x", "mode": "after", "to": "drafter",
            "user_id": foreign["user"], "user_ids": [foreign["user"]], "values": {"POP_MALE": "1"}}


def _check(problems, who, rule, method, url, r, expected):
    body = r.get_data(as_text=True)
    leaked = [s for s in SECRETS if s in body or s in (r.headers.get("Location") or "")]
    if leaked:
        problems.append(f"{who}: {method} {url} ({rule.endpoint}) shows {leaked} [{r.status_code}]")
    if r.status_code >= 500 or (expected is not None and r.status_code not in expected):
        problems.append(f"{who}: {method} {url} ({rule.endpoint}) -> {r.status_code}, expected {sorted(expected or [])}")


def _sweep(app, client, who, requests, foreign, token, logged_in: bool, problems):
    for rule, method, url in requests:
        endpoint = matched_endpoint(app, url, method)
        if endpoint is None:
            expected = {405}
        elif endpoint != rule.endpoint:
            continue  # another rule answers this method on the same URL; its own turn checks it
        elif rule.endpoint in PUBLIC or rule.endpoint in SHARED:
            expected = None
        elif not logged_in:
            expected = {401} if url.startswith("/api/") else {302}
        elif rule.arguments:
            expected = {403, 404}
        else:
            expected = None  # the attacker's own lists and forms: only no foreign data
        if method == "POST" and url.startswith("/api/"):
            r = client.post(url, json=_json_payload(foreign), headers={"X-CSRFToken": token})
        elif method == "POST":
            r = client.post(url, data=_form_payload(foreign, token), headers={"X-CSRFToken": token})
        else:
            r = client.get(url)
        _check(problems, who, rule, method, url, r, expected)
        if not logged_in and expected == {302} and r.status_code == 302:
            assert "/login" in r.headers["Location"], url


def test_every_rule_is_filled(app, foreign):
    """A new route with a parameter nobody knows how to fill fails here (and in the matrix)."""
    requests = all_requests(app, foreign)
    endpoints = {rule.endpoint for rule, _m, _u in requests}
    assert endpoints == {r.endpoint for r in app.url_map.iter_rules()}


def test_unrelated_units_get_403_or_404_and_no_data(app, foreign, attackers):
    requests = all_requests(app, foreign)
    before = snapshot()
    problems: list[str] = []
    for who in attackers:
        client = app.test_client()
        assert login(client, who).status_code == 302
        token = csrf_from(client.get("/account").get_data(as_text=True))
        _sweep(app, client, who, requests, foreign, token, True, problems)
    assert problems == [], "\n".join(problems)
    assert snapshot() == before, "a refused request changed a record"


def test_anonymous_is_sent_to_login_everywhere_but_public_routes(app, foreign):
    requests = all_requests(app, foreign)
    before = snapshot()
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    problems: list[str] = []
    _sweep(app, client, "anonymous", requests, foreign, token, False, problems)
    assert problems == [], "\n".join(problems)
    assert snapshot() == before


def test_public_routes_are_exactly_these(app):
    from office.web import declared_access

    public = {e for e in app.view_functions if declared_access(app, e) == "public"}
    assert public == PUBLIC


def test_a_new_route_with_an_unknown_parameter_fails_the_matrix(app, foreign):
    from werkzeug.routing import Map, Rule

    rule = Rule("/documents/<int:doc_id>/stamps/<int:stamp_id>", endpoint="docflow.stamp", methods=["GET"])
    Map([rule])  # binding the rule parses its arguments
    try:
        fillings(rule, foreign)
    except Unfillable as exc:
        assert "stamp_id" in str(exc)
    else:
        raise AssertionError("an unknown parameter was filled")
