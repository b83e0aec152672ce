"""Concurrent writers of one (element, unit, period) on PostgreSQL: one wins, the other gets
Conflict, and the store never holds two values."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from office.errors import Conflict
from office.extensions import db
from office.forms import service as forms
from office.forms.models import DataValue
from tests.forms.conftest import sub_of


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["insert", "update"])
@pytest.mark.parametrize("via", ["store", "form"])
def test_concurrent_writes_one_value(app, issued, catalogue, first, via):
    pop, civil = issued
    town = catalogue.unit("330106109")
    sub_id = sub_of(civil, town).id
    town_id = town.id
    actor = catalogue.actor("town_clerk")
    if first == "update":
        forms.save(actor, sub_id, {"POP_TOTAL": "100"})
    version = 0 if first == "insert" else 1
    barrier = threading.Barrier(2)
    results: list[str] = []

    def writer(value: str):
        with app.app_context():
            try:
                el = forms.element_by_code("POP_TOTAL")
                barrier.wait()  # both have read the same state before either writes
                if via == "store":
                    forms.write_value(actor, el, town_id, "2025Q3", value, float(value), source="typed",
                                      expected_version=version)
                    db.session.commit()
                else:
                    forms.save(actor, sub_id, {"POP_TOTAL": value}, {"POP_TOTAL": version})
                results.append("ok")
            except Conflict as exc:
                # The loser is told, in words, and his value is not stored over the winner's.
                assert "changed by someone else" in exc.message
                results.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(v,)) for v in ("200", "300")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["conflict", "ok"]
    db.session.expire_all()
    el = forms.element_by_code("POP_TOTAL")
    n = db.session.execute(select(func.count()).select_from(DataValue).where(
        DataValue.element_id == el.id, DataValue.unit_id == town.id)).scalar_one()
    assert n == 1
    assert forms.get_value("POP_TOTAL", town.id, "2025Q3").value_text in ("200", "300")
