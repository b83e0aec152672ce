"""The OpenAPI document of the JSON API, and a schemathesis run against it.

Every /api route is in the document (a route without a declaration fails here); schemathesis then
sends generated requests, valid and invalid, to each operation through the Flask app in-process,
as logged-in users with a real session and CSRF token, with both random ids and the ids of real
records: no answer may be a 5xx, and every answer must match the document (status, content type,
body schema). The run is bounded: a few examples per operation and mode."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from office.openapi import document, undeclared
from tests.conftest import csrf_from, login
from tests.security.test_access_matrix import PARAMS

USER_AGENT = "office-api-test"
# The owners of the records (clerk, leader of 上城区, the township clerk who fills the form) and an
# administrator: between them every operation reaches real records, not only 404s.
USERS = ["other_county_clerk", "sc_leader", "qb_clerk", "other_county_admin"]
EXAMPLES = 10  # per operation, mode and user: the whole run stays within a few minutes


def _session(app, username: str):
    """A logged-in test client, and the headers and cookies that carry its session elsewhere."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    assert login(client, username).status_code == 302
    token = csrf_from(client.get("/account").get_data(as_text=True))
    return client, {"X-CSRFToken": token, "User-Agent": USER_AGENT}, {"session": client.get_cookie("session").value}


def test_every_api_route_is_in_the_document(app, org):
    assert undeclared(app) == []
    doc = document(app)
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {rule.rule} is missing from the OpenAPI document"
    assert len(documented) >= 25


def test_a_route_without_a_declaration_is_reported(tmp_path):
    from flask import jsonify

    from office import create_app
    from office.web import login_required

    other = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "INSTANCE_DIR": str(tmp_path),
                        "STORAGE_DIR": str(tmp_path / "s"), "REDIS_URL": None})

    @other.post("/api/documents/<int:doc_id>/stamp")
    @login_required
    def stamp(doc_id):
        return jsonify(ok=True)

    assert undeclared(other) == ["POST /api/documents/<int:doc_id>/stamp"]


def test_document_is_for_logged_in_users_and_describes_the_api(app, org):
    client = app.test_client()
    assert client.get("/api/openapi.json").status_code == 401
    login(client, "county_clerk")
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/api/approvals/tasks/{task_id}/{action}"]["post"]
    params = {p["name"]: p for p in op["parameters"]}
    assert params["task_id"]["schema"]["type"] == "integer"
    assert "approve" in params["action"]["schema"]["enum"]
    assert "opinion" in op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert op["security"] == [{"session": [], "csrf": []}]
    answer = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert "id" in answer["properties"]["task"]["required"]
    assert set(op["responses"]) >= {"200", "400", "401", "403", "404", "409"}


def test_a_body_that_breaks_the_document_is_refused_with_400(app, foreign):
    client, h, _cookies = _session(app, "qb_clerk")
    url = f"/api/reports/submissions/{foreign['submission']}/values"
    for bad in ([1, 2], {"values": ["POP_MALE"]}, {"values": {"POP_MALE": "1"}, "versions": {"POP_MALE": "x"}},
                "just a string"):
        r = client.post(url, json=bad, headers=h)
        assert r.status_code == 400, bad
        assert "not valid" in r.get_json()["error"]
    r = client.post(url, data=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 400 and "not JSON" in r.get_json()["error"]
    # The valid form of the same request is accepted.
    r = client.post(url, json={"values": {"POP_MALE": "12346"}}, headers=h)
    assert r.status_code == 200, r.get_json()


def test_a_huge_id_in_a_url_is_404_not_a_database_error(app, org):
    client = app.test_client()
    login(client, "county_clerk")
    for url in ("/api/documents/99999999999999999999999", "/documents/9223372036854775808",
                "/api/approvals/requests/2147483648"):
        assert client.get(url).status_code == 404, url


def _real_ids(foreign, op) -> list[dict]:
    """Path parameters of real records for this operation (all combinations are not needed: one each)."""
    blueprint = op.definition.raw.get("operationId", "").split("_api_")[0] + "_api"
    names = [p.name for p in op.path_parameters]
    out = {}
    for name in names:
        kinds = PARAMS.get((blueprint, name))
        if kinds:
            out[name] = [foreign[k] for k in kinds]
    if not out:
        return []
    fills = [{}]
    for name, values in out.items():
        fills = [{**f, name: v} for f in fills for v in values]
    return fills


def _fuzz(strategy, headers: dict, cookies: dict, checks: list) -> None:
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        response = case.call(headers=headers, cookies=cookies)
        case.validate_response(response, checks=checks)

    run()


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(app, foreign):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    problems: list[str] = []
    ran = 0
    for username in USERS:
        client, headers, cookies = _session(app, username)
        schema = schemathesis.openapi.from_dict(client.get("/api/openapi.json").get_json())
        schema.app = app
        for result in schema.get_all_operations():
            op = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategies = [op.as_strategy(generation_mode=mode)]
                strategies += [op.as_strategy(generation_mode=mode, path_parameters=ids)
                               for ids in _real_ids(foreign, op)]

                # Invalid requests must be refused (4xx, as documented), never crash the app.
                wanted = checks if mode == GenerationMode.POSITIVE else [not_a_server_error, content_type_conformance]

                try:
                    _fuzz(st.one_of(strategies), headers, cookies, wanted)
                    ran += 1
                except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure
                    problems.append(f"{username} {mode.value} {op.label}: {str(exc)[:1500]}")
    assert problems == [], "\n\n".join(problems)
    assert ran >= 4 * 2 * 25
