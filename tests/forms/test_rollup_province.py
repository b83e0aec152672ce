"""Province roll-up over the 1,387 real townships equals the independent computation."""

from __future__ import annotations

import random
from datetime import datetime

import pytest
from sqlalchemy import insert, select

from office.actor import Actor
from office.demo import DIVISIONS_CSV, build_units
from office.extensions import db
from office.forms import service as forms
from office.forms.models import DataValue, Submission
from office.org.models import Unit
from office.org.service import import_divisions
from tests.forms.conftest import SYSTEM


def test_province_rollup_over_all_townships():
    import_divisions(DIVISIONS_CSV)
    build_units()
    db.session.commit()
    for code, agg, vt in (("POP_TOTAL", "sum", "integer"), ("DIBAO_HH", "sum", "integer"),
                          ("INCOME", "average", "decimal")):
        forms.create_element(SYSTEM, code=code, name=code, value_type=vt, aggregation=agg, period_type="quarter")
    forms.create_element(SYSTEM, code="DIBAO_RATE", name="rate", value_type="percentage", aggregation="ratio",
                         numerator_code="DIBAO_HH", denominator_code="POP_TOTAL", period_type="quarter")
    forms.create_template(SYSTEM, code="PROV", name="Province form", definition={"sections": [
        {"title": "s", "fields": [{"element": "POP_TOTAL"}, {"element": "DIBAO_HH"}, {"element": "INCOME"},
                                  {"element": "DIBAO_RATE", "computed": "DIBAO_HH * 100 / POP_TOTAL"}]}]})
    prov = db.session.execute(select(Unit).where(Unit.code == "330000-gov")).scalar_one()
    actor = Actor(user_id=None, name="省统计", unit_id=prov.id, unit_path=prov.path, roles=frozenset({"clerk"}))
    task = forms.issue_task(actor, template_code="PROV", period="2025Q3", deadline=datetime(2025, 10, 15))
    leaves = db.session.execute(select(Submission.unit_id, Submission.path).where(
        Submission.task_id == task.id, Submission.kind == "leaf")).all()
    assert len(leaves) == 1387
    els = {c: forms.element_by_code(c) for c in ("POP_TOTAL", "DIBAO_HH", "INCOME")}
    rnd = random.Random(5)
    raw = {}
    rows = []
    for unit_id, path in leaves:
        pop, hh, inc = rnd.randint(2000, 90000), rnd.randint(0, 900), round(rnd.uniform(2, 9), 2)
        raw[unit_id] = (path, pop, hh, inc)
        for code, v in (("POP_TOTAL", pop), ("DIBAO_HH", hh), ("INCOME", inc)):
            rows.append(dict(element_id=els[code].id, unit_id=unit_id, period="2025Q3", value_text=str(v),
                             value_num=float(v), source="typed", source_ref="", version=1,
                             updated_by_name="bulk", updated_at=datetime(2025, 10, 1)))
    db.session.execute(insert(DataValue), rows)
    # A value outside the task (another period, a county unit) must not count.
    db.session.execute(insert(DataValue), [dict(element_id=els["POP_TOTAL"].id, unit_id=leaves[0][0],
                                                period="2025Q2", value_text="1", value_num=1.0, source="typed",
                                                version=1, updated_by_name="x", updated_at=datetime(2025, 1, 1))])
    db.session.commit()

    total = forms.rollup(task, "330000/")
    pops = [v[1] for v in raw.values()]
    hhs = [v[2] for v in raw.values()]
    incs = [v[3] for v in raw.values()]
    assert total.values["POP_TOTAL"] == sum(pops)
    assert total.values["DIBAO_HH"] == sum(hhs)
    assert total.values["INCOME"] == pytest.approx(sum(incs) / len(incs))
    assert total.values["DIBAO_RATE"] == pytest.approx(100.0 * sum(hhs) / sum(pops))
    assert total.progress.expected == 1387
    # The drill-down to cities adds up to the same figures, each equal to its own raw sum.
    cities = forms.drilldown(task, "330000/")
    assert len(cities) == 11
    assert sum(r.values["POP_TOTAL"] for r in cities) == sum(pops)
    hz = next(r for r in cities if r.key == "330000/330100/")
    hz_raw = [v for v in raw.values() if v[0].startswith("330000/330100/")]
    assert hz.values["POP_TOTAL"] == sum(v[1] for v in hz_raw)
    assert hz.values["DIBAO_RATE"] == pytest.approx(100.0 * sum(v[2] for v in hz_raw) / sum(v[1] for v in hz_raw))
    assert hz.values["INCOME"] == pytest.approx(sum(v[3] for v in hz_raw) / len(hz_raw))
