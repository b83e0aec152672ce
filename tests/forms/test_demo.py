"""Done-when (a): in the demo scenario, filling period 2 of the five forms for a township needs
typing at most 20% of their fields, shown by the workload meter."""

from __future__ import annotations

from sqlalchemy import select

from office.demo import run_demo
from office.extensions import db
from office.forms import demo as forms_demo
from office.forms import service as forms
from office.forms.models import ReportTask, Submission
from office.org.models import Unit


def test_demo_period_two_needs_at_most_20_percent_typing(app):
    run_demo(app, with_steps=False)
    forms_demo.build_demo()
    town = db.session.execute(select(Unit).where(Unit.code == "330106109-gov")).scalar_one()
    q4 = db.session.execute(select(Submission).join(ReportTask, ReportTask.id == Submission.task_id).where(
        Submission.unit_id == town.id, ReportTask.period == "2025Q4")).scalars().all()
    assert len(q4) == 5 and all(s.state == "draft" and s.fields_typed == 0 for s in q4)
    clerk = forms_demo._actor("town_clerk", town.code)
    assert clerk.user_id is not None
    nums = forms_demo.base_numbers("330106109", 1)
    for sub in q4:
        forms_demo.fill_like_a_clerk(clerk, sub, nums)
        forms.submit(clerk, sub.id, warning_reason="按实际发放")
    meter = forms.workload(unit_id=town.id, period="2025Q4")
    assert meter.submissions == 5 and meter.total >= 35
    print("Q4 meter", meter.as_dict())
    assert meter.keyed <= 0.20 * meter.total, meter.as_dict()
    assert meter.keyed_pct <= 20.0 and meter.saved_pct >= 80.0
    # The first period, with nothing to carry forward yet, cost more typing.
    q3 = forms.workload(unit_id=town.id, period="2025Q3")
    assert q3.keyed > meter.keyed
    # The county's roll-up and progress for the period.
    task = db.session.get(ReportTask, q4[0].task_id)
    total = forms.rollup(task, "330000/330100/330106/")
    assert total.progress.expected == len(forms_demo.townships())
    assert total.values["POP_REG"] > 0 if "POP_REG" in total.values else True
