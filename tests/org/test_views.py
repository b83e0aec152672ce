"""The organisation directory through the test client: the tree opened on one's own branch, the
next level fetched on demand, search by name and code, a unit's page with people in scope."""

from __future__ import annotations

from tests.conftest import login


def text(resp) -> str:
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_tree_opens_on_the_own_branch_only(irregular, client):
    login(client, "hm_clerk")
    html = text(client.get("/org/"))
    assert "东莞市" in html and "虎门镇" in html and "东城街道" in html
    assert "石岐街道" not in html and "黄埔区" not in html  # other branches are not loaded
    assert 'data-children="/org/divisions/442000/children"' in html


def test_next_level_on_demand_shows_zones_and_entrusted_towns(irregular, client):
    login(client, "gd_prov_clerk")
    gz = text(client.get("/org/divisions/440100/children"))
    assert "黄埔区" in gz and "广州开发区" in gz and "Zone" in gz
    zone = text(client.get("/org/divisions/440171/children"))
    assert "红山街道" in zone and "鱼珠街道" in zone and "Entrusted" in zone
    county = text(client.get("/org/divisions/440112/children"))
    assert "黄埔街道" in county and "鱼珠街道" not in county
    assert client.get("/org/divisions/999999/children").status_code == 404


def test_search_by_name_and_code(irregular, client):
    login(client, "qh_clerk")
    by_name = text(client.get("/org/?q=虎门"))
    assert "虎门镇" in by_name and "广东省 › 东莞市" in by_name
    by_code = text(client.get("/org/?q=4419001"))
    assert "虎门镇" in by_code and "东城街道" not in by_code
    organ = text(client.get("/org/?q=调查队"))
    assert "国家统计局东莞调查队" in organ
    assert "Nothing found." in text(client.get("/org/?q=不存在的地方"))


def test_unit_page_people_in_scope(irregular, client):
    humen = irregular.unit("441900121")
    login(client, "dg_clerk")  # the city sees its town's people
    html = text(client.get(f"/org/units/{humen.id}"))
    assert "东莞市虎门镇人民政府" in html and "袁芳" in html and "莫强" in html
    assert "东莞市人民政府" in html  # reports to
    client.post("/logout")
    login(client, "sq_clerk")  # a town of 中山 sees the page, not the people
    html = text(client.get(f"/org/units/{humen.id}"))
    assert "东莞市虎门镇人民政府" in html and "袁芳" not in html
    assert "shown to its own organs and to those above it" in html
    assert client.get("/org/units/999999").status_code == 404


def test_zone_county_and_vertical_pages(irregular, client):
    login(client, "gd_prov_clerk")
    zone = text(client.get(f"/org/units/{irregular.unit('440171').id}"))
    assert "Management committee" in zone and "红山街道" in zone and "广州市" in zone
    county = text(client.get(f"/org/units/{irregular.unit('440112').id}"))
    assert "Handed to zones" in county and "鱼珠街道" in county
    town = text(client.get(f"/org/units/{irregular.unit('440112003').id}"))
    assert "Administered by" in town and "黄埔区" in town
    team = text(client.get(f"/org/units/{irregular.unit('441900', 'dcd').id}"))
    assert "Managed vertically by" in team and "国家统计局广东调查总队" in team
    # A division page goes to its government.
    resp = client.get("/org/divisions/441900121")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/org/units/{irregular.unit('441900121').id}")


def test_login_required(irregular, client):
    resp = client.get("/org/")
    assert resp.status_code in (302, 401)


def test_api_children_follow_the_tree_of_administration(irregular, client):
    login(client, "gz_clerk")
    items = client.get("/api/org/divisions/440100/children").get_json()["items"]
    assert [(i["code"], i["kind"]) for i in items] == [("440112", "division"), ("440171", "zone")]
    zone = client.get("/api/org/divisions/440171/children").get_json()["items"]
    assert [i["code"] for i in zone] == ["440112002", "440112003"]
