"""Divisions and units: import rules, subtree and line queries."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from office.demo import DIVISIONS_CSV
from office.errors import ValidationError
from office.extensions import db
from office.org import service
from office.org.models import Division, Unit

ROOT = Path(__file__).resolve().parent.parent


def count_divisions() -> int:
    return db.session.execute(select(func.count()).select_from(Division)).scalar_one()


def test_zhejiang_import_levels_parents_and_idempotence():
    first = service.import_divisions(DIVISIONS_CSV)
    assert first.created == 1489
    levels = Counter(db.session.execute(select(Division.level)).scalars())
    assert levels == {"province": 1, "city": 11, "county": 90, "township": 1387}
    by_id = {d.id: d for d in db.session.execute(select(Division)).scalars()}
    depth = {"province": 0, "city": 1, "county": 2, "township": 3}
    for d in by_id.values():
        if d.parent_id is None:
            assert d.level == "province"
            continue
        parent = by_id[d.parent_id]
        assert depth[d.level] == depth[parent.level] + 1  # Zhejiang has all four levels everywhere
        assert d.path == parent.path + d.code + "/"
    hangzhou = service.get_division("330100")
    assert db.session.get(Division, service.get_division("330106").parent_id).code == "330100"
    under = db.session.execute(service.divisions_under(hangzhou, level="county")).scalars().all()
    assert {d.code[:4] for d in under} == {"3301"} and len(under) == 13

    again = service.import_divisions(DIVISIONS_CSV)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1489)


@pytest.mark.parametrize("bad_row, message", [
    ("330199,无名县,county,339900", "line 5: unknown parent 339900"),
    ("330100,杭州市,city,330000", "line 5: duplicate code 330100 (first on line 3)"),
    ("330199,无名县,prefecture,330100", "line 5: unknown level 'prefecture'"),
    ("330107,某区,county,330106", "line 5: a county cannot sit under a county"),
])
def test_bad_row_imports_nothing_and_names_the_line(bad_row, message):
    csv = "code,name,level,parent_code\n330000,浙江省,province,\n330100,杭州市,city,330000\n" \
          f"330106,西湖区,county,330100\n{bad_row}\n"
    with pytest.raises(ValidationError) as exc:
        service.import_divisions(io.StringIO(csv))
    assert message in exc.value.message
    db.session.rollback()
    assert count_divisions() == 0


def test_cli_import_reports_error_and_exit_code(tmp_path, app):
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code\n330000,浙江省,province,\n330100,杭州市,city,330000\n"
                   "330101,某市,city,330100\n", encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-divisions", str(bad)])
    assert result.exit_code == 1
    assert "line 4: a city cannot sit under a city" in result.output
    assert count_divisions() == 0
    good = runner.invoke(args=["import-divisions", str(DIVISIONS_CSV)])
    assert good.exit_code == 0 and "1489 created" in good.output


def test_import_units_checks_division_and_kind(org):
    csv = "code,name,short_name,kind,function_code,division_code\n" \
          "330106-sj,杭州市西湖区审计局,西审,department,sj,330106\n" \
          "330106-xx,某单位,某,bureau,xx,330106\n"
    with pytest.raises(ValidationError) as exc:
        service.import_units(io.StringIO(csv))
    assert "line 3: unknown unit kind 'bureau'" in exc.value.message
    db.session.rollback()
    assert db.session.execute(select(Unit).where(Unit.code == "330106-sj")).first() is None
    ok = service.import_units(io.StringIO(csv.splitlines()[0] + "\n" + csv.splitlines()[1] + "\n"))
    assert ok.created == 1
    assert service.import_units(io.StringIO(csv.splitlines()[0] + "\n" + csv.splitlines()[1] + "\n")).unchanged == 1


def test_vertical_and_horizontal_lines(org):
    county_mz = org.unit("330106", "mz")
    up = service.vertical_line_up(county_mz)
    assert [u.name for u in up] == ["杭州市民政局", "浙江省民政厅"]
    prov_mz = org.unit("330000", "mz")
    down = db.session.execute(service.vertical_line_down(prov_mz)).scalars().all()
    assert {u.code for u in down} == {"330100-mz", "330200-mz", "330106-mz", "330102-mz", "330203-mz"}
    same = db.session.execute(service.same_level_units(county_mz)).scalars().all()
    assert {u.code for u in same} >= {"330106-gov", "330106-office", "330106-mz"}
    assert all(u.division_id == county_mz.division_id for u in same)
    assert service.superior_government(org.unit("330106109", "gov")).code == "330106-gov"
    governments = db.session.execute(
        service.units_under(service.get_division("330100").path, kind="government")).scalars().all()
    assert {u.code for u in governments} == {"330100-gov", "330106-gov", "330102-gov", "330106109-gov",
                                             "330106110-gov", "330102001-gov"}
    assert org.unit("330106", "gov").name == "杭州市西湖区人民政府"
    assert org.unit("330106", "gov").short_name == "西政"


def test_subtree_range_query_uses_an_index(app):
    """The materialized-path subtree query is an index range scan, not a table scan."""
    service.import_divisions(DIVISIONS_CSV)
    q = service.divisions_under(service.get_division("330100"))
    sql = str(q.compile(db.engine, compile_kwargs={"literal_binds": True}))
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(r) for r in db.session.execute(db.text("EXPLAIN QUERY PLAN " + sql)))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    else:
        db.session.execute(db.text("ANALYZE division"))
        db.session.execute(db.text("SET enable_seqscan = off"))
        plan = " ".join(r[0] for r in db.session.execute(db.text("EXPLAIN " + sql)))
        db.session.execute(db.text("SET enable_seqscan = on"))
        assert "Index" in plan, plan


def test_demo_builds_whole_province(app):
    from office.auth.models import User
    from office.demo import run_demo

    result = run_demo(app, with_steps=False)
    assert result["units_created"] > 2400
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() >= 30
    # Every division has a government; province, city and county have a general office too.
    govs = db.session.execute(select(func.count()).select_from(Unit).where(Unit.kind == "government")).scalar_one()
    assert govs == 1489
    again = run_demo(app, with_steps=False)
    assert again["units_created"] == 0 and again["people_created"] == 0


def test_flask_cli_is_wired():
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "office", "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    for cmd in ("import-divisions", "import-units", "demo", "audit-verify", "worker"):
        assert cmd in out
