"""The demo province: Zhejiang's real division tree, an organ set for every division, demo people.

Later modules add their demo content with ``register_demo_step``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, insert, select

from office.actor import Actor
from office.audit import service as audit
from office.auth.models import Post, PostRole, User
from office.auth.passwords import hash_password
from office.extensions import db
from office.org import service as org
from office.org.models import Division, DivisionKind, Unit, UnitKind

DIVISIONS_CSV = Path(__file__).parent / "data" / "zhejiang-divisions.csv"
DEMO_PASSWORD = "Demo@2026!"

# (function code, province name suffix, city/county name suffix, short-name suffix)
DEPARTMENTS = [
    ("fgw", "发展和改革委员会", "发展和改革局", "发改"),
    ("cz", "财政厅", "财政局", "财"),
    ("jy", "教育厅", "教育局", "教"),
    ("mz", "民政厅", "民政局", "民"),
    ("wsjk", "卫生健康委员会", "卫生健康局", "卫健"),
    ("yjgl", "应急管理厅", "应急管理局", "应急"),
    ("tj", "统计局", "统计局", "统"),
    ("zrzy", "自然资源厅", "自然资源和规划局", "自然资源"),
]

# The demo people: (username, name, division code, unit function, title, roles, rank)
DEMO_DIVISIONS = {"province": "330000", "city": "330100", "county": "330106", "township": "330106109"}
DEMO_PEOPLE = [
    ("prov_clerk", "王晓燕", "province", "office", "文书", ["clerk"], None),
    ("prov_staff", "陈志强", "province", "office", "秘书处科员", ["staff"], None),
    ("prov_leader", "李建国", "province", "gov", "省长", ["leader"], 1),
    ("prov_deputy", "张卫东", "province", "gov", "副省长", ["leader"], 2),
    ("prov_office_leader", "刘振华", "province", "office", "办公厅主任", ["leader"], 1),
    ("prov_mz_clerk", "赵丽萍", "province", "mz", "民政厅文书", ["clerk"], None),
    ("prov_mz_leader", "孙海峰", "province", "mz", "民政厅厅长", ["leader"], 1),
    ("prov_admin", "周敏", "province", "office", "单位管理员", ["unit_admin"], None),
    ("sysadmin", "吴昊", "province", "office", "系统管理员", ["sys_admin"], None),
    ("secadmin", "郑凯", "province", "office", "安全管理员", ["sec_admin"], None),
    ("auditor", "冯雪", "province", "office", "安全审计员", ["audit_admin"], None),
    ("city_clerk", "钱佳怡", "city", "office", "文书", ["clerk"], None),
    ("city_staff", "何俊杰", "city", "office", "科员", ["staff"], None),
    ("city_leader", "杨光明", "city", "gov", "市长", ["leader"], 1),
    ("city_deputy", "黄蓓蓓", "city", "gov", "副市长", ["leader"], 2),
    ("city_mz_clerk", "林小梅", "city", "mz", "民政局文书", ["clerk"], None),
    ("city_mz_leader", "郭建平", "city", "mz", "民政局局长", ["leader"], 1),
    ("city_admin", "高峰", "city", "office", "单位管理员", ["unit_admin"], None),
    ("county_clerk", "罗静", "county", "office", "文书", ["clerk"], None),
    ("county_staff", "梁文斌", "county", "office", "科员", ["staff"], None),
    ("county_leader", "宋立新", "county", "gov", "区长", ["leader"], 1),
    ("county_deputy", "谢晓东", "county", "gov", "副区长", ["leader"], 2),
    ("county_mz_clerk", "韩冰", "county", "mz", "民政局文书", ["clerk"], None),
    ("county_mz_leader", "唐永红", "county", "mz", "民政局局长", ["leader"], 1),
    ("county_tj_clerk", "曹磊", "county", "tj", "统计局文书", ["clerk"], None),
    ("county_admin", "许丹", "county", "office", "单位管理员", ["unit_admin"], None),
    ("town_clerk", "邓春燕", "township", "gov", "党政办文书", ["clerk"], None),
    ("town_staff", "彭浩", "township", "gov", "社会事务办科员", ["staff"], None),
    ("town_leader", "蒋国庆", "township", "gov", "镇长", ["leader"], 1),
    ("town_admin", "蔡琳", "township", "gov", "单位管理员", ["unit_admin"], None),
]

_steps: list[tuple[int, str, Callable[[], None]]] = []


def register_demo_step(order: int, name: str, fn: Callable[[], None]) -> None:
    """Modules add their demo content; steps run in ``order`` after the organisation exists."""
    _steps.append((order, name, fn))


def _stem(name: str) -> str:
    """"杭州市" -> "杭州", "西湖区" -> "西湖", "转塘街道" -> "转塘"."""
    for suffix in ("自治县", "街道", "省", "市", "区", "县", "镇", "乡"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def _full_name(div: Division, by_id: dict[int, Division]) -> str:
    """County and township organs carry their city's name: "杭州市西湖区", "杭州市西湖区转塘街道",
    "东莞市虎门镇". A county-level unit directly under the province has its own name alone
    ("仙桃市"), and so do its townships' organs after it ("仙桃市沙嘴街道")."""
    parent_id = div.gb_parent_id or div.parent_id  # the name follows the division file, not a zone
    if div.level in ("province", "city") or parent_id is None:
        return div.name
    parent = by_id[parent_id]
    if parent.level == "province":
        return div.name
    if div.level == "county" or parent.level == "city":
        return parent.name + div.name
    return _full_name(parent, by_id) + div.name


def build_units() -> int:
    """A government for every division; a general office and departments at province, city, county.

    Works on any imported tree (townships under a city, county-level units under the province);
    zones are left out: their committees are imported with ``import-units``."""
    everything = db.session.execute(select(Division)).scalars().all()
    by_id = {d.id: d for d in everything}
    divisions = [d for d in everything if d.kind == DivisionKind.DIVISION]
    have = set(db.session.execute(select(Unit.code)).scalars())
    rows = []
    for d in divisions:
        full = _full_name(d, by_id)
        abbr = _stem(d.name)[0]
        gov_name = f"{full}人民政府"
        if d.level == "township" and d.name.endswith("街道"):
            gov_name = f"{full}办事处"
        units = [(f"{d.code}-gov", gov_name, f"{abbr}政", UnitKind.GOVERNMENT, "gov")]
        if d.level != "township":
            office = "办公厅" if d.level == "province" else "办公室"
            units.append((f"{d.code}-office", f"{gov_name}{office}", f"{abbr}政办", UnitKind.GENERAL_OFFICE,
                          "office"))
            for fc, prov_suffix, local_suffix, short in DEPARTMENTS:
                name = f"{full}{prov_suffix if d.level == 'province' else local_suffix}"
                units.append((f"{d.code}-{fc}", name, f"{abbr}{short}", UnitKind.DEPARTMENT, fc))
        for code, name, short, kind, fc in units:
            if code not in have:
                rows.append(dict(code=code, name=name, short_name=short, kind=kind.value, function_code=fc,
                                 division_id=d.id, path=d.path, level=d.level, active=True))
    if rows:
        db.session.execute(insert(Unit), rows)
    return len(rows)


def build_people() -> int:
    pw = hash_password(DEMO_PASSWORD)
    created = 0
    for username, name, where, fc, title, roles, rank in DEMO_PEOPLE:
        if db.session.execute(select(User.id).where(User.username == username)).first():
            continue
        unit = db.session.execute(
            select(Unit).where(Unit.code == f"{DEMO_DIVISIONS[where]}-{fc}")).scalar_one()
        user = User(username=username, name=name, password_hash=pw, email=f"{username}@demo.invalid")
        db.session.add(user)
        db.session.flush()
        db.session.add(Post(user_id=user.id, unit_id=unit.id, title=title, rank=rank, is_primary=True,
                            role_rows=[PostRole(role=r) for r in roles]))
        created += 1
    # One person with posts in two units: the county office clerk also clerks for the county
    # civil affairs bureau (he sees and acts for each separately).
    clerk = db.session.execute(select(User).where(User.username == "county_clerk")).scalar_one()
    mz = db.session.execute(select(Unit).where(Unit.code == f"{DEMO_DIVISIONS['county']}-mz")).scalar_one()
    if not db.session.execute(select(Post.id).where(Post.user_id == clerk.id, Post.unit_id == mz.id)).first():
        db.session.add(Post(user_id=clerk.id, unit_id=mz.id, title="兼民政局收发", is_primary=False,
                            role_rows=[PostRole(role="clerk")]))
    return created


def run_demo(app: Flask | None = None, *, with_steps: bool = True) -> dict:
    app = app or current_app
    result = {}
    result["divisions"] = str(org.import_divisions(DIVISIONS_CSV))
    result["units_created"] = build_units()
    result["people_created"] = build_people()
    audit.record(Actor.system("demo"), "demo.organisation_built", after=result)
    db.session.commit()
    if with_steps:
        for _order, name, fn in sorted(_steps, key=lambda s: s[0]):
            fn()
            db.session.commit()
            result[name] = "ok"
    return result


def is_seeded() -> bool:
    return (db.session.execute(select(func.count()).select_from(User)).scalar_one() or 0) > 0
