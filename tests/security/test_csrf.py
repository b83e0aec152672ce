"""CSRF: every state-changing route of the URL map (every rule that accepts POST, HTML and /api, every
filling of its URL parameters with real records) refuses a request without a token and one with a
wrong token, as the records' own users, who could otherwise act on them: 400 with the form-expired
message and nothing changed. The same requests with the right token get through the CSRF check,
so the sweep is not refused for some other reason."""

from __future__ import annotations

from office.extensions import db
from tests.conftest import csrf_from, login
from tests.security.test_access_matrix import _form_payload, _json_payload, fillings, snapshot, url_for_rule

MESSAGE = "The form has expired or was not sent from this site"
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def state_changing_requests(app, foreign) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule with a state-changing method; logout last."""
    out = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    for rule in rules:
        for method in sorted(rule.methods & STATE_CHANGING):
            for values in fillings(rule, foreign):
                out.append((rule.endpoint, method, url_for_rule(app, rule, values)))
    return out


def _send(client, method: str, url: str, foreign, token: str | None):
    headers = {"X-CSRFToken": token} if token is not None else {}
    if url.startswith("/api/"):
        return client.open(url, method=method, json=_json_payload(foreign), headers=headers)
    data = _form_payload(foreign, token or "")
    if token is None:
        data.pop("csrf_token")
    return client.open(url, method=method, data=data, headers=headers)


def test_only_post_changes_state():
    """The sweep below covers every state-changing method the app answers."""
    from office import create_app

    methods = set()
    for rule in create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).url_map.iter_rules():
        methods |= rule.methods
    assert methods & STATE_CHANGING == {"POST"}


def test_every_state_changing_route_refuses_a_missing_or_wrong_token(app, foreign):
    requests = state_changing_requests(app, foreign)
    assert len({endpoint for endpoint, _m, _u in requests}) >= 45

    # A token of another session: well-formed and signed, but not this session's.
    other = app.test_client()
    login(other, "sc_leader")
    foreign_token = csrf_from(other.get("/account").get_data(as_text=True))

    before = snapshot()
    problems = []
    for who in ("other_county_clerk", "other_county_admin"):
        client = app.test_client()
        assert login(client, who).status_code == 302
        for token in (None, "", "forged-token", foreign_token):
            for endpoint, method, url in requests:
                r = _send(client, method, url, foreign, token)
                if r.status_code != 400 or MESSAGE not in r.get_data(as_text=True):
                    problems.append(f"{who}: {method} {url} ({endpoint}) with token {token!r:.20} -> {r.status_code}")
        # Still logged in: the logout without a token was refused too.
        assert client.get("/").status_code == 200
    assert problems == [], "\n".join(problems)
    assert snapshot() == before, "a request without a valid CSRF token changed a record"


def test_anonymous_login_and_language_switch_need_the_token_too(app, org):
    client = app.test_client()
    r = client.post("/login", data={"username": "county_clerk", "password": "Test@2026pass"})
    assert r.status_code == 400 and MESSAGE in r.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in
    r = client.post("/lang", data={"lang": "en"})
    assert r.status_code == 400


def test_the_right_token_passes_the_check(app, foreign):
    """Control: with the session's own token the same requests are not refused as CSRF."""
    client = app.test_client()
    login(client, "other_county_clerk")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    passed = 0
    for endpoint, method, url in state_changing_requests(app, foreign):
        if endpoint == "auth.logout":
            continue
        r = _send(client, method, url, foreign, token)
        assert MESSAGE not in r.get_data(as_text=True), f"{method} {url} refused with a valid token"
        passed += 1
        db.session.rollback()
    assert passed > 45
