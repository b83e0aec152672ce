"""Every level-walking feature on the real, irregular tree: towns directly under a city (东莞),
a county-level city directly under the province (琼海), a development zone's committee over towns
carved out of a county (广州开发区 over two 黄埔区 街道), a vertically managed survey team."""

from __future__ import annotations

import pytest

from office.approvals.resolve import resolve
from office.docflow import service as df
from office.docflow.models import Receipt
from office.errors import NotFound, ValidationError
from office.extensions import db
from office.forms import service as forms
from office.forms.models import Submission
from office.org import service as org
from tests.docflow.conftest import issue
from tests.forms.conftest import DEADLINE, ELEMENTS
from tests.forms.test_review import approve_task

SYSTEM_FORM = {"sections": [{"title": "Assistance", "fields": [
    {"element": "POP_TOTAL", "required": True}, {"element": "DIBAO_HH", "required": True}]}]}


@pytest.fixture
def catalogue(irregular):
    from office.actor import Actor

    system = Actor.system("test")
    for e in ELEMENTS:
        forms.create_element(system, **e)
    forms.create_template(system, code="CIVIL", name="Civil affairs form", definition=SYSTEM_FORM,
                          owner_function="mz")
    return irregular


def _receipt(doc_id, unit, root=False):
    col = Receipt.root_document_id if root else Receipt.document_id
    return db.session.execute(db.select(Receipt).where(col == doc_id, Receipt.unit_id == unit.id)
                              .order_by(Receipt.id.desc())).scalars().first()


def _request(o, clerk: str, lead: str, main, title="关于申请防汛物资的请示"):
    return df.create_draft(o.actor(clerk), doc_type="请示", title=title, body="东莞市人民政府：\n特此请示。",
                           lead_unit_id=o.unit(lead).id, main=main, note="联系人：袁芳，电话：0769-12345678")


def _sub(task, unit):
    return db.session.execute(db.select(Submission).where(Submission.task_id == task.id,
                                                          Submission.unit_id == unit.id)).scalar_one()


def _fill_submit(o, clerk, task, division, pop, hh):
    s = _sub(task, o.unit(division))
    forms.save(o.actor(clerk), s.id, {"POP_TOTAL": str(pop), "DIBAO_HH": str(hh)})
    forms.submit(o.actor(clerk), s.id)
    return s


# --- a town directly under a city (东莞市虎门镇) ------------------------------------------------


def test_town_under_a_city_sends_its_request_to_the_city(irregular):
    o = irregular
    town = o.unit("441900121")
    assert org.superior_government(town).code == "441900-gov"
    assert [u.code for u in org.government_chain(town)] == ["441900121-gov", "441900-gov", "440000-gov"]
    req = _request(o, "hm_clerk", "441900121", ["group:superior_government"])
    assert [r.unit.code for r in req.main_recipients()] == ["441900-gov"] and req.direction == "up"
    df.submit(o.actor("hm_clerk"), req.id)  # the routing rules pass: no county in between
    # Straight to the province skips the city: refused, naming the city government.
    skip = _request(o, "hm_clerk", "441900121", [o.unit("440000").id], title="越级请示")
    with pytest.raises(ValidationError, match="东莞市人民政府"):
        df.submit(o.actor("hm_clerk"), skip.id)


def test_province_notice_forwarded_by_the_city_reaches_its_towns(irregular):
    o = irregular
    prov = o.actor("gd_prov_clerk")
    doc = df.create_draft(prov, doc_type="通知", title="关于做好防汛工作的通知", body="各地级以上市人民政府：",
                          lead_unit_id=o.unit("440000").id, main=["group:subordinate_governments"])
    assert {r.unit.code for r in doc.recipients} == {"440100-gov", "441900-gov", "442000-gov"}
    issue(o, doc, clerk="gd_prov_clerk", leader="gd_prov_leader")
    dg = _receipt(doc.id, o.unit("441900"))
    df.sign_for(o.actor("dg_clerk"), dg.id)
    cover = df.forward(o.actor("dg_clerk"), dg.id, main=["group:subordinate_governments"])
    assert {r.unit.code for r in cover.recipients} == {"441900003-gov", "441900121-gov"}
    town = _receipt(doc.id, o.unit("441900121"), root=True)
    assert town.parent_receipt_id == dg.id
    df.sign_for(o.actor("hm_clerk"), town.id)
    assert df.get_document(o.actor("hm_clerk"), doc.id).title == doc.title
    tree = df.status_tree(prov, doc.id)
    assert tree["counts"]["total"] == 5 and tree["levels"]["township"]["total"] == 2
    assert tree["levels"]["city"] == {**tree["levels"]["city"], "total": 3, "signed": 1}
    # 中山's towns see nothing of 东莞's forward.
    with pytest.raises(NotFound):
        df.get_document(o.actor("sq_clerk"), cover.id)


def test_city_form_to_its_towns_reviewed_by_the_city_counted_once(catalogue):
    o = catalogue
    task = forms.issue_task(o.actor("dg_clerk"), template_code="CIVIL", period="2025Q3", deadline=DEADLINE,
                            target="townships")
    subs = db.session.execute(db.select(Submission).where(Submission.task_id == task.id)).scalars().all()
    assert {s.unit.code for s in subs} == {"441900003-gov", "441900121-gov"}
    assert {s.kind for s in subs} == {"leaf"} and all(s.parent_id is None for s in subs)
    hm = _fill_submit(o, "hm_clerk", task, "441900121", 5000, 40)
    dc = _fill_submit(o, "dc_clerk", task, "441900003", 3000, 20)
    approve_task(o.actor("dg_clerk"), hm)  # the city reviews its towns itself
    approve_task(o.actor("dg_clerk"), dc)
    assert {_sub(task, o.unit(c)).state for c in ("441900121", "441900003")} == {"approved"}
    city_path = o.unit("441900").path
    assert forms.rollup(task, city_path).values["POP_TOTAL"] == 8000
    rows = forms.drilldown(task, city_path)
    assert [(r.name, r.values["POP_TOTAL"]) for r in rows] == [("东城街道", 3000), ("虎门镇", 5000)]


def test_province_form_cascades_through_cities_zone_and_county_counting_each_town_once(catalogue):
    o = catalogue
    task = forms.issue_task(o.actor("gd_prov_clerk"), template_code="CIVIL", period="2025Q3", deadline=DEADLINE,
                            target="townships")
    subs = {s.unit.code: s for s in db.session.execute(
        db.select(Submission).where(Submission.task_id == task.id)).scalars()}
    leaves = {c for c, s in subs.items() if s.kind == "leaf"}
    assert leaves == {"440112001-gov", "440112002-gov", "440112003-gov", "441900003-gov", "441900121-gov",
                      "442000001-gov", "442000008-gov"}
    # 东莞's towns report to 东莞; 红山 and 鱼珠 to the zone's committee, 黄埔街道 to 黄埔区.
    assert subs["441900121-gov"].parent_id == subs["441900-gov"].id
    assert subs["440112003-gov"].parent_id == subs["440171-gov"].id
    assert subs["440112001-gov"].parent_id == subs["440112-gov"].id
    assert subs["440171-gov"].parent_id == subs["440100-gov"].id
    values = {"440112001": 100, "440112002": 200, "440112003": 400, "441900003": 1000, "441900121": 2000,
              "442000001": 10000, "442000008": 20000}
    clerks = {"440112001": "hpjd_clerk", "440112002": "hs_clerk", "440112003": "yz_clerk",
              "441900003": "dc_clerk", "441900121": "hm_clerk", "442000001": "sq_clerk", "442000008": "nl_clerk"}
    for code, pop in values.items():
        _fill_submit(o, clerks[code], task, code, pop, 1)
    prov_path = o.unit("440000").path
    total = forms.rollup(task, prov_path)
    assert total.values["POP_TOTAL"] == sum(values.values()) and total.progress.expected == 7
    assert {r.name: r.values["POP_TOTAL"] for r in forms.drilldown(task, prov_path)} == \
        {"广州市": 700, "东莞市": 3000, "中山市": 30000}
    gz = {r.name: r.values["POP_TOTAL"] for r in forms.drilldown(task, o.unit("440100").path)}
    assert gz == {"黄埔区": 100, "广州开发区": 600}  # the zone's towns are not in 黄埔区 too
    assert forms.rollup(task, o.unit("440112").path).values["POP_TOTAL"] == 100
    # The zone reviews its towns and reports up to the city.
    approve_task(o.actor("zone_clerk"), _sub(task, o.unit("440112002")))
    approve_task(o.actor("zone_clerk"), _sub(task, o.unit("440112003")))
    forms.submit(o.actor("zone_clerk"), subs["440171-gov"].id)
    approve_task(o.actor("gz_clerk"), _sub(task, o.unit("440171")))
    assert _sub(task, o.unit("440171")).state == "approved"


# --- a county-level city directly under the province (海南 琼海市) ---------------------------


def test_county_under_the_province_likewise(catalogue):
    o = catalogue
    qh = o.unit("469002")
    assert org.superior_government(qh).code == "460000-gov"
    req = _request(o, "qh_clerk", "469002", ["group:superior_government"], title="琼海市关于申请资金的请示")
    assert [r.unit.code for r in req.main_recipients()] == ["460000-gov"]
    df.submit(o.actor("qh_clerk"), req.id)

    prov = o.actor("hn_prov_clerk")
    doc = df.create_draft(prov, doc_type="通知", title="关于做好防台风工作的通知", body="各市、县人民政府：",
                          lead_unit_id=o.unit("460000").id, main=["group:subordinate_governments"])
    assert {r.unit.code for r in doc.recipients} == {"460100-gov", "469002-gov"}
    issue(o, doc, clerk="hn_prov_clerk", leader="hn_prov_leader")
    r = _receipt(doc.id, qh)
    df.sign_for(o.actor("qh_clerk"), r.id)
    cover = df.forward(o.actor("qh_clerk"), r.id, main=["group:township_governments"])
    assert {x.unit.code for x in cover.recipients} == {"469002100-gov", "469002101-gov"}
    df.sign_for(o.actor("jj_clerk"), _receipt(doc.id, o.unit("469002100"), root=True).id)

    task = forms.issue_task(prov, template_code="CIVIL", period="2025Q3", deadline=DEADLINE, target="townships")
    subs = {s.unit.code: s for s in db.session.execute(
        db.select(Submission).where(Submission.task_id == task.id)).scalars()}
    assert subs["469002100-gov"].parent_id == subs["469002-gov"].id and subs["469002-gov"].parent_id is None
    jj = _fill_submit(o, "jj_clerk", task, "469002100", 500, 5)
    wq = _fill_submit(o, "wq_clerk", task, "469002101", 300, 3)
    _fill_submit(o, "zsjd_clerk", task, "460106001", 900, 9)
    approve_task(o.actor("qh_clerk"), jj)
    approve_task(o.actor("qh_clerk"), wq)
    forms.submit(o.actor("qh_clerk"), subs["469002-gov"].id)
    approve_task(prov, subs["469002-gov"])  # the province reviews 琼海 directly
    assert _sub(task, qh).state == "approved"
    path = o.unit("460000").path
    assert forms.rollup(task, path).values["POP_TOTAL"] == 1700
    assert {r.name: r.values["POP_TOTAL"] for r in forms.drilldown(task, path)} == {"海口市": 900, "琼海市": 800}


# --- a development zone's committee ---------------------------------------------------------


def test_zone_committee_issues_to_its_towns_and_the_county_no_longer_sees_them(catalogue):
    o = catalogue
    zone = o.actor("zone_clerk")
    task = forms.issue_task(zone, template_code="CIVIL", period="2025Q3", deadline=DEADLINE, target="townships")
    subs = db.session.execute(db.select(Submission).where(Submission.task_id == task.id)).scalars().all()
    assert {s.unit.code for s in subs} == {"440112002-gov", "440112003-gov"}
    yz = _fill_submit(o, "yz_clerk", task, "440112003", 400, 4)
    _fill_submit(o, "hs_clerk", task, "440112002", 200, 2)
    approve_task(zone, yz)
    assert forms.rollup(task, o.unit("440171").path).values["POP_TOTAL"] == 600
    # 黄埔区 issues to the one town it still administers; it cannot open the zone's reports.
    hp = forms.issue_task(o.actor("hp_clerk"), template_code="CIVIL", period="2025Q3", deadline=DEADLINE,
                          target="townships")
    assert [s.unit.code for s in db.session.execute(
        db.select(Submission).where(Submission.task_id == hp.id)).scalars()] == ["440112001-gov"]
    with pytest.raises(NotFound):
        forms.get_submission(o.actor("hp_clerk"), yz.id)
    assert forms.get_submission(o.actor("gz_clerk"), yz.id).id == yz.id
    # The town's request goes to the committee, not to 黄埔区.
    assert org.superior_government(o.unit("440112003")).code == "440171-gov"
    # The code and the file parent stay: 鱼珠街道 is still 440112003 of 黄埔区.
    d = org.get_division("440112003")
    assert d.gb_parent_id == org.get_division("440112").id and d.parent_id == org.get_division("440171").id


# --- approvals on the real chain, and the vertical line ----------------------------------------


def test_leader_levels_up_walk_the_real_chain(irregular):
    o = irregular
    leader = {u: o.user(u).id for u in ("dg_leader", "gd_prov_leader", "qh_leader", "hn_prov_leader",
                                        "zone_leader", "gz_leader", "hm_leader")}
    town = o.unit("441900121")
    assert resolve({"kind": "leader_up", "levels": 1}, town) == [leader["dg_leader"]]
    assert resolve({"kind": "leader_up", "levels": 2}, town) == [leader["gd_prov_leader"]]
    assert resolve({"kind": "leader_up_to", "level": "city"}, town) == [leader["hm_leader"], leader["dg_leader"]]
    jj = o.unit("469002100")
    assert resolve({"kind": "leader_up", "levels": 1}, jj) == [leader["qh_leader"]]
    assert resolve({"kind": "leader_up_to", "level": "province"}, o.unit("469002")) == \
        [leader["qh_leader"], leader["hn_prov_leader"]]
    yz = o.unit("440112003")
    assert resolve({"kind": "leader_up", "levels": 1}, yz) == [leader["zone_leader"]]
    assert resolve({"kind": "leader_up", "levels": 2}, yz) == [leader["gz_leader"]]


def test_vertically_managed_unit_answers_to_its_line(irregular):
    o = irregular
    team, corps = o.unit("441900", "dcd"), o.unit("440000", "dcd")
    assert org.superior_government(team).id == corps.id
    assert [u.id for u in org.vertical_line_up(team)] == [corps.id]
    assert team.id in {u.id for u in db.session.execute(org.vertical_line_down(corps)).scalars()}
    assert resolve({"kind": "leader_up", "levels": 1}, team) == [o.user("gd_dcd_leader").id]
    # Its request goes to the corps; the local government is not its superior.
    req = df.create_draft(o.actor("dg_dcd_clerk"), doc_type="请示", title="关于调查经费的请示", body="……",
                          lead_unit_id=team.id, main=["group:superior_government"], note="联系人：巫婷")
    assert [r.unit.id for r in req.main_recipients()] == [corps.id] and req.direction == "up"
    df.submit(o.actor("dg_dcd_clerk"), req.id)
    wrong = df.create_draft(o.actor("dg_dcd_clerk"), doc_type="请示", title="关于场地的请示", body="……",
                            lead_unit_id=team.id, main=[o.unit("441900").id], note="联系人：巫婷")
    assert wrong.direction == "across"
    with pytest.raises(ValidationError, match="one superior organ"):
        df.submit(o.actor("dg_dcd_clerk"), wrong.id)
