"""Catalogue administration through the pages: data elements and form templates (sections, fields
bound to elements, computed fields, rules), JSON export and import, and who may do it."""

from __future__ import annotations

import io
import json

import pytest

from office.extensions import db
from office.forms import service as forms
from office.forms.models import DataElement, FormTemplate, FormTemplateVersion
from tests.conftest import csrf_from, login
from tests.forms.conftest import DEADLINE


@pytest.fixture
def mz_clerk(catalogue):
    catalogue.add_user("county_mz_clerk", "韩冰", "330106", "mz", ["clerk"])
    return catalogue


def _token(client, url="/reports/templates"):
    return csrf_from(client.get(url).get_data(as_text=True))


def _element(code):
    return db.session.execute(db.select(DataElement).where(DataElement.code == code)).scalar_one_or_none()


def _template(code):
    db.session.expire_all()
    return db.session.execute(db.select(FormTemplate).where(FormTemplate.code == code)).scalar_one_or_none()


ELDERLY = {
    "code": "ELDERLY", "name": "Elderly population", "owner_function": "mz", "period_type": "quarter",
    "f0_section": "People", "f0_element": "POP_MALE", "f0_required": "1", "f0_min": "0",
    "f1_section": "", "f1_element": "POP_FEMALE", "f1_required": "1", "f1_min": "0",
    "f2_section": "", "f2_element": "POP_TOTAL", "f2_computed": "POP_MALE + POP_FEMALE", "f2_warn": "20",
    "f3_section": "Plans", "f3_element": "HAS_PLAN", "f3_label": "Emergency plan revised",
    "f4_section": "", "f4_element": "",
    "r0_expr": "POP_TOTAL >= POP_MALE", "r0_message": "Total below male", "r0_severity": "error",
    "r1_expr": "", "r1_message": "", "r1_severity": "warning",
}


def test_department_clerk_creates_elements_and_a_template(mz_clerk, client):
    login(client, "county_mz_clerk")
    page = client.get("/reports/elements").get_data(as_text=True)
    assert 'id="element-form"' in page
    r = client.post("/reports/elements", data={
        "csrf_token": csrf_from(page), "code": "ELDERLY_80", "name": "Population aged 80+",
        "value_type": "integer", "unit_of_measure": "persons", "aggregation": "sum", "period_type": "quarter",
        "owner_function": "mz", "definition": "Registered, 80 or older"})
    assert r.status_code == 302
    el = _element("ELDERLY_80")
    assert (el.name, el.owner_function, el.value_type, el.unit_of_measure) == \
        ("Population aged 80+", "mz", "integer", "persons")
    # A bad element is reported and nothing is created.
    page = client.post("/reports/elements", data={
        "csrf_token": csrf_from(page), "code": "bad code", "name": "x", "value_type": "integer",
        "aggregation": "sum", "period_type": "quarter", "owner_function": "mz"}).get_data(as_text=True)
    assert "capital letters" in page
    assert _element("BAD CODE") is None
    # A ratio needs its numerator and denominator.
    page = client.post("/reports/elements", data={
        "csrf_token": csrf_from(page), "code": "OLD_RATE", "name": "Share", "value_type": "percentage",
        "aggregation": "ratio", "numerator_code": "ELDERLY_80", "denominator_code": "NOPE",
        "period_type": "quarter", "owner_function": "mz"}).get_data(as_text=True)
    assert "numerator and denominator" in page and _element("OLD_RATE") is None
    # The template editor: sections, fields bound to elements, a computed field and a rule.
    token = _token(client, "/reports/templates/new")
    r = client.post("/reports/templates/new", data={"csrf_token": token, **ELDERLY})
    assert r.status_code == 302, r.get_data(as_text=True)
    t = _template("ELDERLY")
    assert t.owner_function == "mz" and t.current_version == 1
    v1 = forms.current_version("ELDERLY")
    assert [s["title"] for s in v1.definition["sections"]] == ["People", "Plans"]
    fields = {f["element"]: f for f in v1.fields()}
    assert fields["POP_MALE"] == {"element": "POP_MALE", "required": True, "min": 0}
    assert fields["POP_TOTAL"]["computed"] == "POP_MALE + POP_FEMALE" and fields["POP_TOTAL"]["warn_change_pct"] == 20
    assert fields["HAS_PLAN"]["label"] == "Emergency plan revised"
    assert v1.definition["rules"] == [{"expr": "POP_TOTAL >= POP_MALE", "message": "Total below male",
                                      "severity": "error"}]
    # The form works: issue it, fill it, the computed field and the rule apply.
    task = forms.issue_task(mz_clerk.actor("county_mz_clerk"), template_code="ELDERLY", period="2025Q3",
                            deadline=DEADLINE)
    from tests.forms.conftest import sub_of

    sub = sub_of(task, mz_clerk.unit("330106109"))
    forms.save(mz_clerk.actor("town_clerk"), sub.id, {"POP_MALE": "10", "POP_FEMALE": "12"})
    assert forms.get_value("POP_TOTAL", sub.unit_id, "2025Q3").value_text == "22"
    # Editing: a new version; the issued task keeps version 1; saving unchanged makes none.
    page = client.get("/reports/templates/ELDERLY/edit").get_data(as_text=True)
    assert 'value="POP_MALE + POP_FEMALE"' in page
    changed = {**ELDERLY, "name": "Elderly population (rev.)", "f3_required": "1"}
    changed.pop("code")
    r = client.post("/reports/templates/ELDERLY/edit", data={"csrf_token": csrf_from(page), **changed})
    assert r.status_code == 302
    assert _template("ELDERLY").current_version == 2 and _template("ELDERLY").name == "Elderly population (rev.)"
    assert db.session.get(FormTemplateVersion, task.template_version_id).version == 1
    r = client.post("/reports/templates/ELDERLY/edit", data={"csrf_token": csrf_from(page), **changed})
    assert _template("ELDERLY").current_version == 2
    # Mistakes are named and nothing is saved: an unknown name in a rule, a bad expression.
    bad = {**changed, "r0_expr": "POP_TOTAL >= NOBODY"}
    r = client.post("/reports/templates/ELDERLY/edit", data={"csrf_token": csrf_from(page), **bad})
    assert r.status_code == 400 and "NOBODY" in r.get_data(as_text=True)
    bad = {**changed, "f2_computed": "__import__('os')"}
    r = client.post("/reports/templates/ELDERLY/edit", data={"csrf_token": csrf_from(page), **bad})
    assert r.status_code == 400 and "bad expression" in r.get_data(as_text=True)
    assert _template("ELDERLY").current_version == 2


def test_export_and_import_a_template(mz_clerk, client):
    login(client, "county_mz_clerk")
    token = _token(client, "/reports/templates/new")
    assert client.post("/reports/templates/new", data={"csrf_token": token, **ELDERLY}).status_code == 302
    r = client.get("/reports/templates/ELDERLY/export.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = json.loads(r.get_data(as_text=True))
    assert data["format"] == "office.forms.template/1" and data["code"] == "ELDERLY" and data["version"] == 1
    assert {e["code"] for e in data["elements"]} == {"POP_MALE", "POP_FEMALE", "POP_TOTAL", "HAS_PLAN"}
    # Import as another form, with a data element this system does not have yet.
    data["code"], data["name"] = "ELDERLY2", "Elderly population, copy"
    data["elements"].append({"code": "BEDS", "name": "Care home beds", "value_type": "integer",
                             "aggregation": "sum", "period_type": "quarter", "owner_function": "mz"})
    data["definition"]["sections"][1]["fields"].append({"element": "BEDS", "min": 0})
    r = client.post("/reports/templates/import", data={
        "csrf_token": token, "file": (io.BytesIO(json.dumps(data).encode()), "elderly2.json")},
        content_type="multipart/form-data")
    assert r.status_code == 302
    assert _template("ELDERLY2").current_version == 1 and _element("BEDS").owner_function == "mz"
    assert "BEDS" in {f["element"] for f in forms.current_version("ELDERLY2").fields()}
    # Importing the same again changes nothing; a changed definition makes a new version.
    client.post("/reports/templates/import", data={
        "csrf_token": token, "file": (io.BytesIO(json.dumps(data).encode()), "elderly2.json")},
        content_type="multipart/form-data")
    assert _template("ELDERLY2").current_version == 1
    data["definition"]["rules"] = []
    client.post("/reports/templates/import", data={
        "csrf_token": token, "file": (io.BytesIO(json.dumps(data).encode()), "elderly2.json")},
        content_type="multipart/form-data")
    assert _template("ELDERLY2").current_version == 2
    # A broken file is refused with nothing half-imported.
    data2 = {**data, "code": "ELDERLY3", "elements": [*data["elements"], {
        "code": "CHAIRS", "name": "Chairs", "value_type": "integer", "owner_function": "mz"}]}
    data2["definition"] = {"sections": [{"title": "x", "fields": [{"element": "CHAIRS"}, {"element": "MISSING"}]}]}
    page = client.post("/reports/templates/import", data={
        "csrf_token": token, "file": (io.BytesIO(json.dumps(data2).encode()), "x.json")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "MISSING" in page
    assert _template("ELDERLY3") is None and _element("CHAIRS") is None
    page = client.post("/reports/templates/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"not json"), "x.json")},
        content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "not valid JSON" in page


def test_who_may_administer_the_catalogue(mz_clerk, client):
    # Another department's clerk may not create what mz owns, nor edit mz's forms.
    mz_clerk.add_user("county_tj_clerk", "曹磊", "330106", "tj", ["clerk"])
    login(client, "county_tj_clerk")
    token = _token(client, "/reports/elements")
    r = client.post("/reports/elements", data={"csrf_token": token, "code": "X1", "name": "x",
                                               "value_type": "integer", "aggregation": "sum",
                                               "period_type": "year", "owner_function": "mz"})
    assert r.status_code == 403 and _element("X1") is None
    assert client.get("/reports/templates/CIVIL/edit").status_code == 403  # owned by mz
    assert client.get("/reports/templates/POP/edit").status_code == 200  # owned by tj
    client.post("/logout", data={"csrf_token": token})
    # The county's unit administrator manages every department's entries.
    login(client, "county_admin")
    assert client.get("/reports/templates/CIVIL/edit").status_code == 200
    token = _token(client, "/reports/elements")
    r = client.post("/reports/elements", data={"csrf_token": token, "code": "X2", "name": "x",
                                               "value_type": "integer", "aggregation": "sum",
                                               "period_type": "year", "owner_function": "yjgl"})
    assert r.status_code == 302 and _element("X2").owner_function == "yjgl"
    client.post("/logout", data={"csrf_token": token})
    # A township clerk and the county office clerk (not a department) only read.
    for username in ("town_clerk", "county_clerk"):
        login(client, username)
        page = client.get("/reports/elements").get_data(as_text=True)
        assert 'id="element-form"' not in page and "POP_TOTAL" in page
        assert client.get("/reports/templates/new").status_code == 403
        token = csrf_from(page)
        r = client.post("/reports/templates/new", data={"csrf_token": token, **ELDERLY})
        assert r.status_code == 403 and _template("ELDERLY") is None
        r = client.post("/reports/templates/import", data={
            "csrf_token": token, "file": (io.BytesIO(b'{"format": "office.forms.template/1"}'), "x.json")},
            content_type="multipart/form-data")
        assert r.status_code in (302, 403)
        client.post("/logout", data={"csrf_token": token})
