"""The one value store: shared between forms, prefill order and sources, history, locking."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from office.errors import Conflict, PermissionDenied, ValidationError
from office.extensions import db
from office.forms import expr
from office.forms import service as forms
from office.forms.models import DataValue, Source
from tests.forms.conftest import DEADLINE, SYSTEM, sub_of


def view(sub):
    return {f.code: f for _t, fs in forms.form_view(sub) for f in fs}


def test_expression_language_is_safe():
    assert expr.evaluate("A + B * 2", {"A": 1, "B": 3}) == 7
    assert expr.evaluate("A == B + C", {"A": 5, "B": 2, "C": 3}) is True
    assert expr.evaluate("max(A, B) if A > 0 else -1", {"A": 2, "B": 9}) == 9
    assert expr.evaluate("A / B", {"A": 1, "B": 0}) is None
    assert expr.evaluate("A + 1", {"A": None}) is None
    for bad in ("__import__('os')", "A.__class__", "open('x')", "[1, 2]", "'text'", "lambda: 1", "A[0]",
                "(lambda: 1)()", "().__class__"):
        with pytest.raises(ValidationError):
            expr.parse(bad)


def test_value_entered_in_form_a_shows_in_form_b_and_edit_in_b_shows_in_a(issued, catalogue):
    pop, civil = issued
    town = catalogue.unit("330106109")
    clerk = catalogue.actor("town_clerk")
    a, b = sub_of(pop, town), sub_of(civil, town)
    forms.save(clerk, a.id, {"POP_MALE": "510", "POP_FEMALE": "490"})
    f = view(b)["POP_TOTAL"]
    assert f.prefill.text == "1000"
    assert f.prefill.source == Source.FORM and f.prefill.source_ref == "Population form"
    forms.save(clerk, b.id, {"POP_TOTAL": "1200", "DIBAO_HH": "12"})
    fa = view(a)["POP_TOTAL"]
    assert fa.prefill.text == "1200" and fa.prefill.source == Source.FORM
    assert fa.prefill.source_ref == "Civil affairs form"
    el = forms.element_by_code("POP_TOTAL")
    rows = db.session.execute(db.select(DataValue).where(DataValue.element_id == el.id,
                                                         DataValue.unit_id == town.id)).scalars().all()
    assert len(rows) == 1 and rows[0].version == 2
    hist = forms.history(rows[0].id)
    assert [h.new_text for h in hist] == ["1000", "1200"]
    # The store refuses a second row for the same key.
    db.session.add(DataValue(element_id=el.id, unit_id=town.id, period="2025Q3", value_text="1", value_num=1,
                             source="typed"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_prefill_order_and_sources(issued, catalogue):
    pop, civil = issued
    town = catalogue.unit("330106109")
    clerk = catalogue.actor("town_clerk")
    csv_data = ("division_code,element_code,period,value\n"
                "330106109,POP_TOTAL,2025Q3,2000\n330106110,POP_TOTAL,2025Q3,1500\n"
                "330106109,DIBAO_HH,2025Q3,30\n")
    forms.import_dataset(SYSTEM, name="Registered population", source_name="Public security household register",
                         as_of=date(2025, 9, 30), data=csv_data)
    # The last period's static value is carried forward.
    el = forms.element_by_code("VILLAGES")
    forms.write_value(SYSTEM, el, town.id, "2025Q2", "14", 14.0, source=Source.TYPED)
    db.session.commit()
    b = sub_of(civil, town)
    fields = view(b)
    assert fields["POP_TOTAL"].prefill.source == Source.SHARED
    assert fields["POP_TOTAL"].prefill.source_ref == "Public security household register"
    assert fields["POP_TOTAL"].prefill.source_date == date(2025, 9, 30)
    assert fields["VILLAGES"].prefill.source == Source.CARRIED and fields["VILLAGES"].prefill.text == "14"
    assert fields["INCOME"].prefill is None
    # A stored value beats the dataset.
    forms.save(clerk, sub_of(pop, town).id, {"POP_MALE": "1000", "POP_FEMALE": "1001"})
    assert view(b)["POP_TOTAL"].prefill.text == "2001"
    # Confirming keeps the source; the workload counts confirmed and typed fields.
    forms.save(clerk, b.id, {"POP_TOTAL": "2001", "VILLAGES": "14", "DIBAO_HH": "31", "INCOME": "3.5"})
    b = sub_of(civil, town)
    assert b.field_status == {"POP_TOTAL": "confirmed", "VILLAGES": "confirmed", "DIBAO_HH": "edited",
                              "INCOME": "typed"}
    assert (b.fields_total, b.fields_confirmed, b.fields_edited, b.fields_typed) == (5, 2, 1, 1)
    v = forms.get_value("VILLAGES", town.id, "2025Q3")
    assert v.source == Source.CONFIRMED and v.source_ref == "2025Q2"


def test_computed_field_and_bad_value(issued, catalogue):
    pop, _ = issued
    town = catalogue.unit("330106109")
    clerk = catalogue.actor("town_clerk")
    a = sub_of(pop, town)
    with pytest.raises(ValidationError, match="not a valid"):
        forms.save(clerk, a.id, {"POP_MALE": "abc", "POP_FEMALE": "1"})
    assert forms.get_value("POP_FEMALE", town.id, "2025Q3") is None  # nothing saved
    forms.save(clerk, a.id, {"POP_MALE": "3", "POP_FEMALE": "4"})
    v = forms.get_value("POP_TOTAL", town.id, "2025Q3")
    assert v.value_text == "7" and v.source == Source.COMPUTED


def test_stale_page_loses_with_conflict(issued, catalogue):
    pop, civil = issued
    town = catalogue.unit("330106109")
    clerk = catalogue.actor("town_clerk")
    b = sub_of(civil, town)
    forms.save(clerk, b.id, {"POP_TOTAL": "100", "DIBAO_HH": "2"})
    seen = forms.get_value("DIBAO_HH", town.id, "2025Q3").version
    forms.save(clerk, b.id, {"DIBAO_HH": "3"}, {"DIBAO_HH": seen})  # first writer wins
    with pytest.raises(Conflict, match="changed by someone else"):
        forms.save(clerk, b.id, {"DIBAO_HH": "4"}, {"DIBAO_HH": seen})
    assert forms.get_value("DIBAO_HH", town.id, "2025Q3").value_text == "3"
    # A page that saw no value at all also loses against a value stored meanwhile.
    with pytest.raises(Conflict):
        forms.save(clerk, b.id, {"INCOME": "2"}, {"INCOME": 0})  # nobody stored INCOME: fine
        forms.save(clerk, b.id, {"INCOME": "5"}, {"INCOME": 0})


def test_template_versions_do_not_touch_issued_tasks(issued, catalogue):
    pop, _ = issued
    from office.forms.models import FormTemplate

    t = db.session.execute(db.select(FormTemplate).where(FormTemplate.code == "POP")).scalar_one()
    new = {"sections": [{"title": "Population", "fields": [{"element": "POP_TOTAL"}]}]}
    v2 = forms.new_template_version(SYSTEM, t, new)
    assert v2.version == 2
    assert len(pop.template_version.fields()) == 3
    t2 = forms.issue_task(catalogue.actor("county_clerk"), template_code="POP", period="2025Q4", deadline=DEADLINE)
    assert len(t2.template_version.fields()) == 1
    with pytest.raises(ValidationError):
        forms.new_template_version(SYSTEM, t, {"sections": [{"title": "x", "fields": [{"element": "NOPE"}]}]})
    with pytest.raises(ValidationError):
        forms.new_template_version(SYSTEM, t, {"sections": [{"title": "x", "fields": [
            {"element": "POP_TOTAL", "computed": "__import__('os')"}]}]})


def test_dataset_import_is_all_or_nothing_with_lines(catalogue):
    bad = ("division_code,element_code,period,value\n"
           "330106109,POP_TOTAL,2025Q3,2000\n"
           "999999999,POP_TOTAL,2025Q3,1\n"
           "330106110,NOPE,2025Q3,1\n"
           "330106110,POP_TOTAL,2025Q3,many\n")
    with pytest.raises(ValidationError) as exc:
        forms.import_dataset(SYSTEM, name="p", source_name="s", as_of=date(2025, 9, 30), data=bad)
    msg = exc.value.message
    assert "line 3" in msg and "line 4" in msg and "line 5" in msg and "line 2" not in msg
    assert forms.list_datasets() == []
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["division_code", "element_code", "period", "value"])
    wb.active.append(["330106109", "POP_TOTAL", "2025Q3", 2000])
    wb.active.append([330106110, "POP_TOTAL", "2025Q3", 1500])
    import io

    buf = io.BytesIO()
    wb.save(buf)
    ds = forms.import_dataset(SYSTEM, name="p", source_name="s", as_of=date(2025, 9, 30), data=buf.getvalue(),
                              filename="pop.xlsx")
    assert ds.row_count == 2
    with pytest.raises(PermissionDenied):
        forms.import_dataset(catalogue.actor("town_clerk"), name="p", source_name="s", as_of=date(2025, 9, 30),
                             data="x")


def test_a_save_writes_its_values_in_element_order(issued, catalogue, monkeypatch):
    """Every save writes in one order (element id), so two reports of one unit that share elements,
    saved at the same moment, never wait on each other's new values crosswise (a deadlock)."""
    from office.forms import tasks

    pop, civil = issued
    town = catalogue.unit("330106109")
    written = []
    real = tasks.write_value

    def recording(actor, el, *args, **kwargs):
        written.append(el.id)
        return real(actor, el, *args, **kwargs)

    monkeypatch.setattr(tasks, "write_value", recording)
    posted = {"INCOME": "3.5", "DIBAO_HH": "31", "VILLAGES": "14", "POP_TOTAL": "2001"}
    forms.save(catalogue.actor("town_clerk"), sub_of(civil, town).id, posted)
    assert len(written) >= 4 and written == sorted(written)


def test_fill_page_asks_each_field_by_its_kind(catalogue, client):
    from tests.conftest import login

    forms.create_element(SYSTEM, code="ROAD_GRADE", name="Road grade", value_type="choice",
                         choices=["一级", "二级"], aggregation="none", period_type="quarter")
    forms.create_element(SYSTEM, code="SURVEY_DAY", name="Survey day", value_type="date", aggregation="none",
                         period_type="quarter")
    forms.create_template(SYSTEM, code="ROADS", name="Roads form", definition={"sections": [{
        "title": "Roads", "fields": [{"element": "POP_TOTAL"}, {"element": "INCOME"}, {"element": "HAS_PLAN"},
                                     {"element": "ROAD_GRADE"}, {"element": "SURVEY_DAY"}]}]})
    task = forms.issue_task(catalogue.actor("county_clerk"), template_code="ROADS", period="2025Q3",
                            deadline=DEADLINE)
    sub = sub_of(task, catalogue.unit("330106109"))
    login(client, "town_clerk")
    page = client.get(f"/reports/submissions/{sub.id}").get_data(as_text=True)
    assert '<span class="muted">(persons)</span>' in page
    assert 'name="f_POP_TOTAL" value="" data-prefill="" inputmode="decimal"' in page
    assert 'name="f_INCOME" value="" data-prefill="" inputmode="decimal"' in page
    assert '<select id="f_HAS_PLAN" name="f_HAS_PLAN"><option value=""></option><option value="yes"' in page
    assert ('<select id="f_ROAD_GRADE" name="f_ROAD_GRADE"><option value=""></option><option >一级</option>'
            '<option >二级</option></select>') in page
    assert 'name="f_SURVEY_DAY" value="" data-prefill="" type="date"' in page


def test_values_are_read_by_their_exact_element_and_period(catalogue):
    """A page asks for some elements in one period and others in another (a year element in a
    monthly form): it gets those values and no other element's value of the other period."""
    from office.forms.values import read_values, value_records, write_value

    town = catalogue.unit("330106109")
    clerk = catalogue.actor("town_clerk")
    total, male = forms.element_by_code("POP_TOTAL"), forms.element_by_code("POP_MALE")
    for el in (total, male):
        for period, n in (("2025Q2", 1), ("2025Q3", 2)):
            write_value(clerk, el, town.id, period, f"{el.code}-{period}", float(n), source=Source.TYPED)
    db.session.commit()
    keys = [(total.id, "2025Q3"), (male.id, "2025Q2"), (male.id, "2024Q4")]
    for read in (value_records, read_values):
        got = read(town.id, keys)
        assert {k: v.value_text for k, v in got.items()} == {
            (total.id, "2025Q3"): "POP_TOTAL-2025Q3", (male.id, "2025Q2"): "POP_MALE-2025Q2"}
    assert value_records(town.id, []) == {}
