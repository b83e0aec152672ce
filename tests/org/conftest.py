"""An irregular organisation from real division codes (民政部 2025): Guangdong's 东莞 and 中山 have
towns directly under the city, Hainan's 琼海 is a county-level city directly under the province; a
development zone of 广州 administers two towns of 黄埔区; the survey team of 东莞 is managed
vertically by the provincial survey corps."""

from __future__ import annotations

import io

import pytest

from office.extensions import db
from tests.conftest import Org

GD_HN = """code,name,level,parent_code
440000,广东省,province,
440100,广州市,city,440000
440112,黄埔区,county,440100
440112001,黄埔街道,township,440112
440112002,红山街道,township,440112
440112003,鱼珠街道,township,440112
441900,东莞市,city,440000
441900003,东城街道,township,441900
441900121,虎门镇,township,441900
442000,中山市,city,440000
442000001,石岐街道,township,442000
442000008,南朗街道,township,442000
460000,海南省,province,
460100,海口市,city,460000
460106,龙华区,county,460100
460106001,中山街道,township,460106
469002,琼海市,county,460000
469002100,嘉积镇,township,469002
469002101,万泉镇,township,469002
"""

ORGANS = """code,name,short_name,kind,function_code,division_code,parent_code,administers,superior_code
440171-gov,广州开发区管理委员会,穗开管,committee,gov,440171,440100,440112002;440112003,
440000-dcd,国家统计局广东调查总队,粤调,department,dcd,440000,,,
441900-dcd,国家统计局东莞调查队,莞调,department,dcd,441900,,,440000-dcd
"""

PEOPLE = [
    ("gd_prov_clerk", "黄文静", "440000", "office", ["clerk"], None),
    ("gd_prov_leader", "陈国强", "440000", "gov", ["leader"], 1),
    ("gz_clerk", "李敏", "440100", "office", ["clerk"], None),
    ("gz_leader", "周海", "440100", "gov", ["leader"], 1),
    ("hp_clerk", "梁静", "440112", "office", ["clerk"], None),
    ("hp_leader", "何伟", "440112", "gov", ["leader"], 1),
    ("hpjd_clerk", "冯丽", "440112001", "gov", ["clerk"], None),
    ("zone_clerk", "林峰", "440171", "gov", ["clerk"], None),
    ("zone_leader", "郑建", "440171", "gov", ["leader"], 1),
    ("yz_clerk", "罗芳", "440112003", "gov", ["clerk"], None),
    ("hs_clerk", "谢红", "440112002", "gov", ["clerk"], None),
    ("dg_clerk", "钟晓", "441900", "office", ["clerk"], None),
    ("dg_leader", "叶明", "441900", "gov", ["leader"], 1),
    ("hm_clerk", "袁芳", "441900121", "gov", ["clerk"], None),
    ("hm_leader", "莫强", "441900121", "gov", ["leader"], 1),
    ("dc_clerk", "邝丽", "441900003", "gov", ["clerk"], None),
    ("zs_clerk", "甘玲", "442000", "office", ["clerk"], None),
    ("sq_clerk", "卢洁", "442000001", "gov", ["clerk"], None),
    ("nl_clerk", "区燕", "442000008", "gov", ["clerk"], None),
    ("hn_prov_clerk", "符小兰", "460000", "office", ["clerk"], None),
    ("hn_prov_leader", "王海平", "460000", "gov", ["leader"], 1),
    ("hk_clerk", "吴琼", "460100", "office", ["clerk"], None),
    ("lh_clerk", "邢军", "460106", "office", ["clerk"], None),
    ("zsjd_clerk", "云霞", "460106001", "gov", ["clerk"], None),
    ("qh_clerk", "蒙慧", "469002", "office", ["clerk"], None),
    ("qh_leader", "卓文", "469002", "gov", ["leader"], 1),
    ("jj_clerk", "陈珊", "469002100", "gov", ["clerk"], None),
    ("wq_clerk", "黎娜", "469002101", "gov", ["clerk"], None),
    ("dg_dcd_clerk", "巫婷", "441900", "dcd", ["clerk"], None),
    ("gd_dcd_leader", "温志", "440000", "dcd", ["leader"], 1),
]


def build_irregular() -> Org:
    from office.demo import build_units
    from office.org.service import import_divisions, import_units

    import_divisions(io.StringIO(GD_HN))
    build_units()
    db.session.commit()
    import_units(io.StringIO(ORGANS))
    o = Org()
    for username, name, div, fn, roles, rank in PEOPLE:
        o.add_user(username, name, div, fn, roles, rank)
    return o


@pytest.fixture
def irregular(app_ctx) -> Org:
    return build_irregular()


@pytest.fixture(autouse=True)
def english_messages(app_ctx):
    from flask_babel import force_locale

    with force_locale("en"):
        yield
