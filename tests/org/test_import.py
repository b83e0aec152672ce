"""Importing real division trees: irregular parents, GB/T grouping rows, bad rows named by line,
re-imports (区划调整) that rename, re-code and merge in place; zones and vertical superiors."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from office.audit.models import AuditEvent
from office.docflow import service as df
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.forms import service as forms
from office.forms.models import Submission
from office.org import service
from office.org.models import Division, DivisionChange, Unit
from tests.org.conftest import GD_HN, ORGANS

DATA = Path(__file__).resolve().parents[2] / "office" / "data"


def count(model=Division) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def levels() -> Counter:
    return Counter(db.session.execute(select(Division.level)).scalars())


def test_guangdong_imports_completely_with_towns_under_two_cities(app_ctx):
    first = service.import_divisions(DATA / "guangdong-divisions.csv")
    assert first.created == 1754 and levels() == {"province": 1, "city": 21, "county": 122, "township": 1610}
    for code, towns in (("441900", 32), ("442000", 23)):
        city = service.get_division(code)
        kids = service.children(city)
        assert len(kids) == towns and {k.level for k in kids} == {"township"}
        assert all(k.path == f"440000/{code}/{k.code}/" for k in kids)
    humen = service.get_division("441900121")
    assert (humen.name, humen.parent.code) == ("虎门镇", "441900")
    again = service.import_divisions(DATA / "guangdong-divisions.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1754)


@pytest.mark.parametrize("name, total, direct", [("hainan", 248, 15), ("hubei", 1377, 4)])
def test_county_level_units_directly_under_the_province(app_ctx, name, total, direct):
    assert service.import_divisions(DATA / f"{name}-divisions.csv").created == total
    province = db.session.execute(select(Division).where(Division.level == "province")).scalar_one()
    kids = [d for d in service.children(province) if d.level == "county"]
    assert len(kids) == direct and all(d.path == f"{province.code}/{d.code}/" for d in kids)


def test_gbt_grouping_rows_are_left_out(app_ctx):
    """GB/T 2260 lists 仙桃 under 429000 省直辖县级行政区划: it is governed by the province."""
    lines = (DATA / "hubei-divisions.csv").read_text(encoding="utf-8").splitlines()
    gbt = [lines[0], "429000,省直辖县级行政区划,city,420000"]
    for ln in lines[1:]:
        code, name, level, parent = ln.split(",")
        gbt.append(f"{code},{name},{level},{'429000' if parent == '420000' and code.startswith('429') else parent}")
    result = service.import_divisions(io.StringIO("\n".join(gbt) + "\n"))
    assert result.created == 1377 and result.grouping == 1 and "grouping" in str(result)
    assert db.session.execute(select(Division).where(Division.code == "429000")).first() is None
    xiantao = service.get_division("429004")
    assert xiantao.parent.code == "420000" and xiantao.path == "420000/429004/"
    # The file of the civil affairs ministry (without the grouping row) is the same tree.
    assert service.import_divisions(DATA / "hubei-divisions.csv").unchanged == 1377
    with pytest.raises(ValidationError, match="line 2: unknown division '429000'.*grouping row"):
        service.import_units(io.StringIO("code,name,short_name,kind,function_code,division_code\n"
                                         "x-gov,某人民政府,某政,government,gov,429000\n"))


BASE = "code,name,level,parent_code\n440000,广东省,province,\n440100,广州市,city,440000\n" \
       "440112,黄埔区,county,440100\n"


@pytest.mark.parametrize("rows, message", [
    ("441999001,某镇,township,441999", "line 5: unknown parent 441999"),
    ("440100,广州市,city,440000", "line 5: duplicate code 440100 (first on line 3)"),
    ("440199,某区,county,440112", "line 5: a county cannot sit under a county (440199 under 440112)"),
    ("440112001,黄埔街道,township,440112\n440198,某市,city,440112001",
     "line 6: a city cannot sit under a township"),
    ("440301,甲区,county,440302\n440302,乙区,county,440301", "cycle of parents: 440301 -> 440302 -> 440301"),
    ("440199,某区,county,440199", "line 5: division 440199 is its own parent"),
    ("44A199,某区,county,440100", "line 5: bad division code '44A199'"),
    ("4401991,某区,county,440100", "line 5: bad division code 4401991: a county code has 6 digits"),
    ("450199,某区,county,440100", "line 5: bad division code 450199: it is not in the province"),
    ("440199,某区,prefecture,440100", "line 5: unknown level 'prefecture'"),
    ("440199,,county,440100", "line 5: division 440199 has no name"),
])
def test_a_bad_row_imports_nothing_and_names_the_line(app_ctx, rows, message):
    with pytest.raises(ValidationError) as exc:
        service.import_divisions(io.StringIO(BASE + rows + "\n"))
    assert message in exc.value.message
    assert count() == 0


def test_a_bad_row_in_a_reimport_changes_nothing(app_ctx):
    service.import_divisions(io.StringIO(GD_HN))
    paths = dict(db.session.execute(select(Division.code, Division.path)).all())
    changed = GD_HN.replace("440112,黄埔区", "440112,黄埔新区") + "441900999,某镇,township,449999\n"
    with pytest.raises(ValidationError, match="line 21: unknown parent 449999"):
        service.import_divisions(io.StringIO(changed))
    assert service.get_division("440112").name == "黄埔区"
    assert dict(db.session.execute(select(Division.code, Division.path)).all()) == paths


def test_townships_under_a_city_and_counties_under_the_province_are_accepted(app_ctx):
    result = service.import_divisions(io.StringIO(
        "code,name,level,parent_code\n440000,广东省,province,\n441900,东莞市,city,440000\n"
        "441900121,虎门镇,township,441900\n460000,海南省,province,\n469002,琼海市,county,460000\n"))
    assert result.created == 5
    assert service.get_division("441900121").path == "440000/441900/441900121/"


OLD = """code,name,level,parent_code
440000,广东省,province,
440100,广州市,city,440000
440112,黄埔区,county,440100
440112001,黄埔街道,township,440112
440183,增城市,county,440100
440183001,荔城街道,township,440183
440183002,增江街道,township,440183
441900,东莞市,city,440000
441900003,东城街道,township,441900
441900004,南城街道,township,441900
"""
NEW = """code,name,level,parent_code,former_code
440000,广东省,province,,
440100,广州市,city,440000,
440112,黄埔新区,county,440100,
440112001,黄埔街道,township,440112,
440118,增城区,county,440100,440183
440118001,荔城街道,township,440118,440183001
440118002,增江街道,township,440118,440183002
441900,东莞市,city,440000,
441900003,东城街道,township,441900,441900004
"""


def test_reimport_renames_recodes_and_merges_in_place_keeping_documents_forms_and_people(app_ctx):
    from office.demo import build_units
    from tests.conftest import Org
    from tests.forms.conftest import DEADLINE, ELEMENTS

    service.import_divisions(io.StringIO(OLD))
    build_units()
    db.session.commit()
    o = Org()
    o.add_user("zc_clerk", "邓华", "440183", "office", ["clerk"])
    o.add_user("lc_clerk", "曾敏", "440183001", "gov", ["clerk"])
    o.add_user("nc_clerk", "黎平", "441900004", "gov", ["clerk"])
    o.add_user("dc_clerk", "邝丽", "441900003", "gov", ["clerk"])
    o.add_user("gz_clerk", "李敏", "440100", "office", ["clerk"])
    zc_doc = df.create_draft(o.actor("zc_clerk"), doc_type="通知", title="增城市关于春耕的通知", body="……",
                             lead_unit_id=o.unit("440183").id, main=["group:township_governments"])
    nc_doc = df.create_draft(o.actor("nc_clerk"), doc_type="报告", title="南城街道工作报告", body="……",
                             lead_unit_id=o.unit("441900004").id, main=["group:superior_government"])
    from office.actor import Actor

    for e in ELEMENTS:
        forms.create_element(Actor.system("t"), **e)
    forms.create_template(Actor.system("t"), code="CIVIL", name="Civil affairs form", definition={
        "sections": [{"title": "A", "fields": [{"element": "POP_TOTAL"}]}]}, owner_function="mz")
    task = forms.issue_task(o.actor("gz_clerk"), template_code="CIVIL", period="2025Q3", deadline=DEADLINE)
    lc_sub = db.session.execute(select(Submission).where(Submission.task_id == task.id, Submission.unit_id ==
                                                         o.unit("440183001").id)).scalar_one()
    forms.save(o.actor("lc_clerk"), lc_sub.id, {"POP_TOTAL": "4321"})
    zengcheng_id = service.get_division("440183").id
    units_before = count(Unit)

    result = service.import_divisions(io.StringIO(NEW))
    assert (result.created, result.merged) == (0, 1)
    zc = service.get_division("440118")
    assert zc.id == zengcheng_id and zc.name == "增城区" and zc.path == "440000/440100/440118/"
    assert service.get_division("440112").name == "黄埔新区"
    assert db.session.execute(select(Division).where(Division.code.in_(["440183", "441900004"]))).first() is None
    assert count(Unit) == units_before  # no organ is lost
    gov = o.unit("440183")  # unit codes stay; the organ moved with its division
    assert gov.path == "440000/440100/440118/" and gov.division_id == zengcheng_id
    assert o.unit("440183001").path == "440000/440100/440118/440118001/"
    # Documents, reports and people are still there, in the new paths.
    assert df.get_document(o.actor("zc_clerk"), zc_doc.id).path == "440000/440100/440118/"
    assert forms.get_submission(o.actor("lc_clerk"), lc_sub.id).path == "440000/440100/440118/440118001/"
    rows = {r.name: r.values["POP_TOTAL"] for r in forms.drilldown(task, o.unit("440100").path)}
    assert rows["增城区"] == 4321
    # The merged town: its organ is inactive in the town that absorbed it, its records with it.
    nancheng = o.unit("441900004")
    assert not nancheng.active and nancheng.division.code == "441900003"
    assert df.get_document(o.actor("dc_clerk"), nc_doc.id).title == "南城街道工作报告"
    assert df.get_document(o.actor("nc_clerk"), nc_doc.id).path == "440000/441900/441900003/"
    assert service.government_of(service.get_division("441900003")).code == "441900003-gov"
    # History and audit.
    changes = {(c.change, (c.before or {}).get("code")) for c in db.session.execute(select(DivisionChange))
               .scalars()}
    assert {("recoded", "440183"), ("renamed", "440183"), ("renamed", "440112"), ("merged", "441900004"),
            ("recoded", "440183001")} <= changes
    merged = db.session.execute(select(DivisionChange).where(DivisionChange.change == "merged")).scalar_one()
    assert merged.division_id == service.get_division("441900003").id
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "org.import_divisions")
                            .order_by(AuditEvent.id.desc())).scalars().first()
    after = json.loads(ev.after) if isinstance(ev.after, str) else ev.after
    assert after["merged"] == 1 and any("440183" in c for c in after["changes"])
    # The same file again changes nothing.
    again = service.import_divisions(io.StringIO(NEW))
    assert (again.created, again.updated, again.merged, again.unchanged) == (0, 0, 0, 9)


def test_former_code_errors_name_the_line(app_ctx):
    service.import_divisions(io.StringIO(OLD))
    with pytest.raises(ValidationError, match="line 3: former code 440999 of 440118 is not in the database"):
        service.import_divisions(io.StringIO("code,name,level,parent_code,former_code\n440000,广东省,province,,\n"
                                             "440118,增城区,county,440100,440999\n"))
    with pytest.raises(ValidationError, match="line 4: unknown parent 440183 .*replaced by 440118"):
        service.import_divisions(io.StringIO("code,name,level,parent_code,former_code\n440000,广东省,province,,\n"
                                             "440118,增城区,county,440100,440183\n"
                                             "440183009,某街道,township,440183,\n"))
    assert service.get_division("440183").name == "增城市"


# --- zones and vertical superiors ----------------------------------------------------------------

HEADER = "code,name,short_name,kind,function_code,division_code,parent_code,administers,superior_code\n"


def test_zone_import_is_idempotent_and_releasing_a_town_moves_it_back(irregular):
    assert service.get_division("440171").kind == "zone"
    assert service.get_division("440171").name == "广州开发区"
    again = service.import_units(io.StringIO(ORGANS))
    assert (again.created, again.updated) == (0, 0)
    yz = irregular.unit("440112003")
    doc = df.create_draft(irregular.actor("yz_clerk"), doc_type="报告", title="鱼珠街道报告", body="……",
                          lead_unit_id=yz.id, main=["group:superior_government"])
    assert doc.main_recipients()[0].unit.code == "440171-gov"
    released = ORGANS.replace("440112002;440112003", "440112002")
    service.import_units(io.StringIO(released))
    yz = irregular.unit("440112003")
    assert yz.path == "440000/440100/440112/440112003/"
    assert df.get_document(irregular.actor("hp_clerk"), doc.id).path == yz.path
    with pytest.raises(NotFound):
        df.get_document(irregular.actor("zone_clerk"), doc.id)
    kinds = [c.change for c in db.session.execute(select(DivisionChange).where(
        DivisionChange.division_id == service.get_division("440112003").id)).scalars()]
    assert kinds[-2:] == ["zone_in", "zone_out"]


@pytest.mark.parametrize("row, message", [
    ("440172-gov,某新区管理委员会,某新,committee,gov,440172,440100,440199001,",
     "line 2: zone 440172 administers an unknown division '440199001'"),
    ("440172-gov,某新区管理委员会,某新,committee,gov,440172,440100,440112003,",
     "line 2: 440112003 鱼珠街道 is administered by zone 440171"),
    ("440172-gov,某新区管理委员会,某新,committee,gov,440172,440100,441900121,",
     "line 2: 441900121 虎门镇 is not a division of 广州市"),
    ("440172-gov,某新区管理委员会,某新,committee,gov,440172,440100,440112,",
     "line 2: a county-level zone administers divisions of a lower rank"),
    ("440172-gov,某新区管理委员会,某新,committee,gov,440112,440100,,",
     "line 2: 440112 is the division 黄埔区; a zone needs a code of its own"),
    ("440172-gov,某新区管理委员会,某新,committee,gov,440172,,,",
     "line 2: committee 440172-gov needs the parent_code"),
    ("441900-tax,东莞市税务局,莞税,department,sw,441900,,,440000-sw",
     "line 2: unknown superior unit '440000-sw'"),
    ("440112-dcd,黄埔调查队,埔调,department,dcd,440112,,,441900-dcd",
     "line 2: the superior 441900-dcd of 440112-dcd must sit in a division above it"),
    ("441900-gov,东莞市人民政府,莞政,government,gov,441900,,,440000-dcd",
     "line 2: a government answers to the government above it"),
])
def test_bad_organ_rows_import_nothing(irregular, row, message):
    before = count(Unit), count(Division)
    with pytest.raises(ValidationError) as exc:
        service.import_units(io.StringIO(HEADER + row + "\n"))
    assert message in exc.value.message
    assert (count(Unit), count(Division)) == before
    assert irregular.unit("440112003").path == "440000/440100/440171/440112003/"


def test_cli_imports_a_province_with_its_organs(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-divisions", str(DATA / "hainan-divisions.csv"), "--with-organs"])
    assert result.exit_code == 0, result.output
    assert "248 created" in result.output and "organs:" in result.output
    qionghai = db.session.execute(select(Unit).where(Unit.code == "469002-gov")).scalar_one()
    assert qionghai.name == "琼海市人民政府" and qionghai.path == "460000/469002/"
    town = db.session.execute(select(Unit).where(Unit.code == "460400100-gov")).scalar_one()
    assert town.name == "儋州市那大镇人民政府" and town.path == "460000/460400/460400100/"


@pytest.mark.postgres
def test_concurrent_imports_of_one_file_take_turns(app):
    """Two imports at once: the second waits for the first and finds everything in place."""
    import threading

    barrier = threading.Barrier(2)
    results: list[str] = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(str(service.import_divisions(io.StringIO(GD_HN))))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["0 created, 0 updated, 19 unchanged", "19 created, 0 updated, 0 unchanged"]
    assert count() == 19
