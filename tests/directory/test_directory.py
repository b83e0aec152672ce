"""The directory behind the picker: search by name, pinyin and unit, scope per purpose, recent
choices, the tree, and the JSON routes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from office.approvals import service as approvals
from office.approvals.models import CarbonCopy, Task, TaskState
from office.directory import service as directory
from office.errors import ValidationError
from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, users
from tests.conftest import csrf_from, login, post_form


@pytest.fixture
def people(org):
    org.add_user("liuzh", "刘振华", "330106", "mz", ["staff"])
    org.add_user("liuzh2", "刘振华", "330102", "office", ["staff"])  # the same name in another county
    return org


def names(choices):
    return [c.name for c in choices]


def test_search_by_name_pinyin_initials_full_spelling_and_user_name(people):
    clerk = people.actor("county_clerk")
    for q in ("刘振华", "振华", "lzh", "LZH", "liuzhen", "liuzhenhua", "liuzh"):
        found = directory.search(clerk, "approvals.cc", q)
        assert names(found)[:1] == ["刘振华"], q
        assert found[0].value == "liuzh" and "民政" in found[0].detail, q
    assert directory.search(clerk, "approvals.cc", "lzx") == []


def test_search_by_unit_name_finds_its_people(people):
    found = directory.search(people.actor("county_clerk"), "approvals.cc", "西湖区民政局")
    assert "唐永红" in names(found) and "刘振华" in names(found)


def test_people_outside_the_actors_subtree_are_not_offered(people):
    found = directory.search(people.actor("other_county_clerk"), "approvals.cc", "lzh")
    assert [c.value for c in found] == ["liuzh2"]  # his own county's 刘振华, not 西湖区's
    town = directory.search(people.actor("town_clerk"), "approvals.cc", "宋立新")
    assert town == []  # the county leader is above the township clerk's subtree


def test_delegates_are_the_people_of_the_leaders_own_unit(people):
    leader = people.actor("county_leader")
    assert names(directory.search(leader, "auth.delegate", "谢晓东")) == ["谢晓东"]
    assert directory.search(leader, "auth.delegate", "刘振华") == []  # another unit of the county
    assert directory.search(leader, "auth.delegate", "宋立新") == []  # himself


def test_units_by_name_short_name_code_and_pinyin(people):
    clerk = people.actor("county_clerk")
    for q in ("西湖区民政局", "民政", "330106-mz", "hzsxhqmzj", "hangzhoushixihu"):
        assert "杭州市西湖区民政局" in names(directory.search(clerk, "docflow.cc", q)), q
    for q in ("sdz", "sandun"):  # units by the pinyin of any part of the name
        assert "杭州市西湖区三墩镇人民政府" in names(directory.search(clerk, "docflow.cc", q)), q


def test_a_match_only_inside_renmin_zhengfu_comes_after_the_real_ones(people):
    found = names(directory.search(people.actor("county_clerk"), "docflow.cc", "民政"))
    first_government = next(i for i, n in enumerate(found) if n.endswith("人民政府"))
    assert all("民政" in n for n in found[:first_government]) and first_government >= 3


def test_a_request_goes_only_to_superior_organs(people):
    clerk = people.actor("county_clerk")
    up = names(directory.search(clerk, "docflow.main", "人民政府", context="请示"))
    assert up and all("人民政府" in n for n in up)
    assert "杭州市人民政府" in up and not any("街道" in n or "镇" in n for n in up)
    down = names(directory.search(clerk, "docflow.main", "人民政府", context="通知"))
    assert set(up) < set(down)


def test_report_targets_are_units_below(people):
    found = names(directory.search(people.actor("county_clerk"), "forms.target", "人民政府"))
    assert found and "杭州市西湖区人民政府" not in found and "杭州市人民政府" not in found


def test_recent_choices_follow_what_was_posted_newest_first(people):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(people, "county_clerk", flow)
    clerk = people.actor("county_clerk")
    approvals.carbon_copy(clerk, req.id, user_ids=[people.user("county_staff").id])
    approvals.carbon_copy(clerk, req.id, user_ids=[people.user("liuzh").id])
    assert names(directory.recent(clerk, "approvals.cc")) == ["刘振华", "梁文斌"]
    assert directory.recent(people.actor("county_leader"), "approvals.cc") == []
    for i in range(10):
        people.add_user(f"extra{i}", f"同事{i}", "330106", "office", ["staff"])
        directory.remember(clerk, "approvals.cc", [people.user(f"extra{i}").id])
    db.session.commit()
    assert len(directory.recent(clerk, "approvals.cc")) == directory.RECENT


def test_out_of_scope_ids_are_refused_and_nothing_changes(people):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(people, "county_clerk", flow)
    outsider = people.user("liuzh2")
    with pytest.raises(ValidationError, match="刘振华"):
        approvals.carbon_copy(people.actor("county_clerk"), req.id, user_ids=[outsider.id])
    db.session.rollback()
    assert db.session.execute(select(CarbonCopy).where(CarbonCopy.request_id == req.id)).first() is None


def test_browse_the_tree_within_scope(people):
    clerk = people.actor("county_clerk")
    level = directory.browse(clerk, "approvals.cc")
    assert level["division"]["name"] == "西湖区"
    mz = next(u for u in level["units"] if u["name"] == "杭州市西湖区民政局")
    assert {d["name"] for d in level["divisions"]} >= {"三墩镇"}
    inside = directory.browse(clerk, "approvals.cc", unit_id=mz["id"])
    assert {p["name"] for p in inside["people"]} == {"唐永红", "刘振华"}
    up = directory.browse(clerk, "approvals.cc", division=level["up"]["code"])
    assert [d["name"] for d in up["divisions"]] == ["西湖区"]  # 上城区 is outside his subtree


# --- the JSON routes and the forms ---------------------------------------------------------------


def test_api_search_recent_resolve_browse(client, people):
    login(client, "county_clerk")
    r = client.get("/api/directory/search?purpose=approvals.cc&q=lzh")
    assert r.status_code == 200 and [i["name"] for i in r.get_json()["items"]] == ["刘振华"]
    assert client.get("/api/directory/search?purpose=nope&q=lzh").status_code == 400
    r = client.get("/api/directory/resolve?purpose=approvals.cc&values=liuzh,liuzh2")
    assert [i["value"] for i in r.get_json()["items"]] == ["liuzh"]
    assert client.get("/api/directory/browse?purpose=approvals.cc").get_json()["division"]["name"] == "西湖区"
    assert client.get("/api/directory/recent?purpose=approvals.cc").get_json() == {"items": []}


def test_api_needs_login(client, people):
    assert client.get("/api/directory/search?purpose=approvals.cc&q=lzh").status_code in (401, 302)


def test_forged_out_of_scope_cc_and_transfer_are_refused_with_a_message(client, people):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(people, "county_clerk", flow)
    outsider = people.user("liuzh2")
    login(client, "county_clerk")
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "cc", "user": str(outsider.id)},
                  page=f"/approvals/{req.id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "outside the people you may address" in page or "不在您可以" in page
    assert db.session.execute(select(CarbonCopy).where(CarbonCopy.request_id == req.id)).first() is None
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "county_leader")
    task = db.session.execute(select(Task).where(Task.request_id == req.id, Task.state == TaskState.OPEN)).scalar_one()
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "transfer", "task_id": task.id,
                                                       "user": "liuzh2"}, page=f"/approvals/{req.id}")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "刘振华" in page and ("outside the people you may address" in page or "不在您可以" in page)
    db.session.expire_all()
    assert db.session.get(Task, task.id).state == TaskState.OPEN
    # an id the picker posts works like a user name
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "transfer", "task_id": task.id,
                                                       "user": str(people.user("county_deputy").id)},
                  page=f"/approvals/{req.id}")
    db.session.expire_all()
    assert db.session.get(Task, task.id).state == TaskState.TRANSFERRED


def test_forged_delegate_outside_the_unit_is_refused(client, people):
    login(client, "county_leader")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    r = post_form(client, "/account", {"dl-csrf_token": token, "action": "delegate", "dl-delegate": "liuzh", "dl-start": "2026-12-01",
                                       "dl-end": "2026-12-03", "dl-reason": ""}, page="/account")
    page = r.get_data(as_text=True) if r.status_code != 302 else client.get(r.headers["Location"]).get_data(as_text=True)
    assert "刘振华" in page and ("outside the people you may address" in page or "不在您可以" in page)
    from office.auth.models import Delegation

    assert db.session.execute(select(Delegation)).first() is None
