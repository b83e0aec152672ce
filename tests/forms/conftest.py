"""Forms fixtures: a small catalogue, two forms sharing elements, a task issued by the county."""

from __future__ import annotations

from datetime import datetime

import pytest

from office.actor import Actor
from office.forms import service as forms

SYSTEM = Actor.system("test")

ELEMENTS = [
    dict(code="POP_TOTAL", name="Registered population", value_type="integer", unit_of_measure="persons",
         aggregation="sum", period_type="quarter", owner_function="tj"),
    dict(code="POP_MALE", name="Male population", value_type="integer", aggregation="sum", period_type="quarter"),
    dict(code="POP_FEMALE", name="Female population", value_type="integer", aggregation="sum",
         period_type="quarter"),
    dict(code="DIBAO_HH", name="Subsistence allowance households", value_type="integer", aggregation="sum",
         period_type="quarter", owner_function="mz"),
    dict(code="INCOME", name="Average income", value_type="decimal", aggregation="average", period_type="quarter"),
    dict(code="VILLAGES", name="Administrative villages", value_type="integer", aggregation="sum",
         period_type="static"),
    dict(code="HAS_PLAN", name="Has an emergency plan", value_type="yesno", aggregation="none",
         period_type="quarter"),
]

POP_FORM = {
    "sections": [{"title": "Population", "fields": [
        {"element": "POP_MALE", "required": True, "min": 0},
        {"element": "POP_FEMALE", "required": True, "min": 0},
        {"element": "POP_TOTAL", "computed": "POP_MALE + POP_FEMALE", "warn_change_pct": 20},
    ]}],
    "rules": [{"expr": "POP_TOTAL >= POP_MALE", "message": "Total below male", "severity": "error"}],
}

CIVIL_FORM = {
    "sections": [
        {"title": "Basics", "fields": [{"element": "POP_TOTAL", "required": True},
                                       {"element": "VILLAGES"}]},
        {"title": "Assistance", "fields": [{"element": "DIBAO_HH", "required": True, "min": 0,
                                            "warn_change_pct": 50},
                                           {"element": "INCOME"}, {"element": "HAS_PLAN"}]},
    ],
    "rules": [{"expr": "DIBAO_HH <= POP_TOTAL", "message": "More households than people", "severity": "error"},
              {"expr": "DIBAO_HH * 100 <= POP_TOTAL", "message": "Unusually many households",
               "severity": "warning"}],
}

DEADLINE = datetime(2025, 10, 15, 23, 59)


@pytest.fixture(autouse=True)
def english(app_ctx):
    """Service messages in English (the msgids), whatever the default locale."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def catalogue(org):
    for e in ELEMENTS:
        forms.create_element(SYSTEM, **e)
    forms.create_element(SYSTEM, code="DIBAO_RATE", name="Subsistence allowance rate", value_type="percentage",
                         aggregation="ratio", numerator_code="DIBAO_HH", denominator_code="POP_TOTAL",
                         period_type="quarter")
    forms.create_template(SYSTEM, code="POP", name="Population form", definition=POP_FORM, owner_function="tj")
    forms.create_template(SYSTEM, code="CIVIL", name="Civil affairs form", definition=CIVIL_FORM,
                          owner_function="mz")
    return org


def sub_of(task, unit):
    from office.extensions import db
    from office.forms.models import Submission

    return db.session.execute(db.select(Submission).where(Submission.task_id == task.id,
                                                          Submission.unit_id == unit.id)).scalar_one()


@pytest.fixture
def issued(catalogue):
    """The county office issues both forms for 2025Q3 to its two townships."""
    clerk = catalogue.actor("county_clerk")
    pop = forms.issue_task(clerk, template_code="POP", period="2025Q3", deadline=DEADLINE)
    civil = forms.issue_task(clerk, template_code="CIVIL", period="2025Q3", deadline=DEADLINE)
    return pop, civil
