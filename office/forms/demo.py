"""Demo content: five unified forms of three departments sharing their data elements, shared
datasets, issued by the departments of 西湖区 to its townships for 2025Q3 and 2025Q4; the first
period filled and approved, the second part filled and reviewed (三墩镇 left for the visitor)."""

from __future__ import annotations

import random
from datetime import date, datetime

from sqlalchemy import select

from office.actor import Actor, actor_for_post
from office.auth.models import Post, User
from office.demo import DEMO_DIVISIONS, register_demo_step
from office.extensions import db
from office.forms import review, shared, tasks
from office.forms.catalogue import create_element, create_template, element_by_code
from office.forms.models import FormTemplate, Submission
from office.forms.values import prefill
from office.org.models import Level, Unit, UnitKind
from office.org.service import units_under

PERIODS = [("2025Q3", date(2025, 9, 30), datetime(2025, 10, 15, 15, 59)),
           ("2025Q4", date(2025, 12, 31), datetime(2026, 1, 15, 15, 59))]
LEFT_FOR_VISITOR = "330106109"  # 三墩镇: Q4 unfilled, the demo clerk fills it

# code, name, type, unit of measure, aggregation, period type, owner, carry forward, definition
ELEMENTS = [
    ("POP_REG", "户籍人口", "integer", "人", "sum", "quarter", "tj", False, "公安户籍登记的人口数，期末数"),
    ("POP_RES", "常住人口", "integer", "人", "sum", "quarter", "tj", False, "居住半年以上的人口，人口监测数"),
    ("HOUSEHOLDS", "户籍户数", "integer", "户", "sum", "quarter", "tj", False, "公安户籍登记的户数"),
    ("POP_60", "60岁及以上老年人口", "integer", "人", "sum", "quarter", "mz", False, "户籍人口中60周岁及以上"),
    ("POP_80", "80岁及以上老年人口", "integer", "人", "sum", "quarter", "mz", False, "户籍人口中80周岁及以上"),
    ("AREA_KM2", "行政区域面积", "decimal", "平方公里", "sum", "static", "zrzy", True, "国土调查面积"),
    ("VILLAGES", "行政村数", "integer", "个", "sum", "static", "mz", True, "期末行政村个数"),
    ("COMMUNITIES", "社区数", "integer", "个", "sum", "static", "mz", True, "期末城市社区个数"),
    ("ENTERPRISES", "规模以上工业企业数", "integer", "家", "sum", "quarter", "tj", False, "市场监管和统计名录"),
    ("FISCAL_REV", "一般公共预算收入", "decimal", "万元", "sum", "quarter", "cz", False, "本年累计"),
    ("GDP", "地区生产总值", "decimal", "万元", "sum", "quarter", "tj", False, "本年累计，现价"),
    ("DIBAO_HH", "低保户数", "integer", "户", "sum", "quarter", "mz", False, "城乡最低生活保障在册户数"),
    ("DIBAO_PERSONS", "低保人数", "integer", "人", "sum", "quarter", "mz", False, "城乡最低生活保障在册人数"),
    ("TEKUN_PERSONS", "特困供养人数", "integer", "人", "sum", "quarter", "mz", False, "特困人员供养在册人数"),
    ("DIBAO_FUNDS", "低保金发放额", "decimal", "万元", "sum", "quarter", "mz", False, "本季度发放"),
    ("ELDERLY_BEDS", "养老机构床位数", "integer", "张", "sum", "quarter", "mz", True, "期末床位数"),
    ("ELDERLY_CENTERS", "居家养老服务中心", "integer", "个", "sum", "static", "mz", True, "期末运营个数"),
    ("DISABLED", "持证残疾人数", "integer", "人", "sum", "quarter", "mz", False, "残联持证人数"),
    ("DISABLED_SUBSIDY", "两项补贴享受人数", "integer", "人", "sum", "quarter", "mz", False,
     "困难残疾人生活补贴和重度残疾人护理补贴"),
    ("DISABLED_FUNDS", "两项补贴发放额", "decimal", "万元", "sum", "quarter", "mz", False, "本季度发放"),
    ("INSPECTIONS", "安全生产检查次数", "integer", "次", "sum", "quarter", "yjgl", False, "本季度"),
    ("HAZARDS_FOUND", "发现隐患数", "integer", "项", "sum", "quarter", "yjgl", False, "本季度"),
    ("HAZARDS_FIXED", "整改隐患数", "integer", "项", "sum", "quarter", "yjgl", False, "本季度"),
    ("HAS_PLAN", "已修订应急预案", "yesno", "", "none", "quarter", "yjgl", True, "近三年内修订"),
    ("SHELTERS", "应急避难场所", "integer", "个", "sum", "static", "yjgl", True, "期末个数"),
]
RATIOS = [
    ("DIBAO_RATE", "低保率", "DIBAO_PERSONS", "POP_REG", "mz", "低保人数占户籍人口比重"),
    ("AGING_RATE", "老龄化率", "POP_60", "POP_REG", "mz", "60岁及以上人口占户籍人口比重"),
    ("FIX_RATE", "隐患整改率", "HAZARDS_FIXED", "HAZARDS_FOUND", "yjgl", "整改数占发现数比重"),
]


def _f(code, **kw):
    return {"element": code, **kw}


FORMS = [
    ("MZ_DIBAO", "低保和特困供养情况季报", "mz", [
        ("基本情况", [_f("POP_REG", required=True), _f("HOUSEHOLDS")]),
        ("救助对象", [_f("DIBAO_HH", required=True, min=0), _f("DIBAO_PERSONS", required=True, min=0),
                      _f("TEKUN_PERSONS", min=0), _f("DIBAO_FUNDS", required=True, min=0, warn_change_pct=30),
                      _f("DIBAO_RATE", computed="DIBAO_PERSONS * 100 / POP_REG")]),
    ], [{"expr": "DIBAO_PERSONS >= DIBAO_HH", "message": "低保人数不应少于低保户数", "severity": "error"}]),
    ("MZ_ELDERLY", "老年人口和养老服务季报", "mz", [
        ("老年人口", [_f("POP_REG", required=True), _f("POP_60", required=True), _f("POP_80"),
                      _f("AGING_RATE", computed="POP_60 * 100 / POP_REG")]),
        ("养老服务", [_f("ELDERLY_BEDS", min=0), _f("ELDERLY_CENTERS", min=0), _f("VILLAGES"),
                      _f("COMMUNITIES")]),
    ], [{"expr": "POP_60 >= POP_80", "message": "80岁以上人口不应多于60岁以上人口", "severity": "error"}]),
    ("MZ_DISABLED", "残疾人两项补贴发放季报", "mz", [
        ("补贴发放", [_f("POP_REG"), _f("DISABLED", required=True), _f("DISABLED_SUBSIDY", required=True),
                      _f("DISABLED_FUNDS", required=True, warn_change_pct=30), _f("DIBAO_PERSONS")]),
    ], [{"expr": "DISABLED_SUBSIDY <= DISABLED", "message": "享受补贴人数不应多于持证残疾人数",
         "severity": "error"}]),
    ("YJ_SAFETY", "安全生产检查情况季报", "yjgl", [
        ("检查情况", [_f("ENTERPRISES"), _f("INSPECTIONS", required=True, min=0),
                      _f("HAZARDS_FOUND", required=True, min=0), _f("HAZARDS_FIXED", required=True, min=0),
                      _f("FIX_RATE", computed="HAZARDS_FIXED * 100 / HAZARDS_FOUND")]),
        ("应急准备", [_f("HAS_PLAN"), _f("SHELTERS"), _f("POP_RES")]),
    ], [{"expr": "HAZARDS_FIXED <= HAZARDS_FOUND", "message": "整改数不应多于发现数", "severity": "error"}]),
    ("TJ_BASIC", "人口和经济基本情况季报", "tj", [
        ("人口", [_f("POP_REG", required=True), _f("POP_RES", required=True), _f("HOUSEHOLDS"), _f("POP_60")]),
        ("区域", [_f("AREA_KM2"), _f("VILLAGES"), _f("COMMUNITIES")]),
        ("经济", [_f("ENTERPRISES"), _f("FISCAL_REV"), _f("GDP", required=True, warn_change_pct=40)]),
    ], []),
]

# The datasets: (name, source, elements)
DATASETS = [
    ("户籍人口", "公安人口户籍管理系统", ["POP_REG", "HOUSEHOLDS", "POP_60", "POP_80"]),
    ("常住人口", "统计局人口监测", ["POP_RES"]),
    ("社会救助对象", "浙江省大救助信息系统", ["DIBAO_HH", "DIBAO_PERSONS", "TEKUN_PERSONS"]),
    ("残疾人两项补贴", "残联两项补贴信息系统", ["DISABLED", "DISABLED_SUBSIDY"]),
    ("企业名录和财政收入", "市场监管和财政一体化平台", ["ENTERPRISES", "FISCAL_REV"]),
]


def base_numbers(code: str, period_index: int) -> dict[str, float]:
    """Deterministic, plausible figures of one township (quarter 0 or 1)."""
    rnd = random.Random(int(code))
    pop = rnd.randint(30000, 120000)
    grow = 1 + 0.004 * period_index
    p = round(pop * grow)
    d = {
        "POP_REG": p, "POP_RES": round(p * rnd.uniform(1.1, 1.6)), "HOUSEHOLDS": round(p / 2.6),
        "POP_60": round(p * 0.21 * (1 + 0.01 * period_index)), "POP_80": round(p * 0.04),
        "AREA_KM2": round(rnd.uniform(8, 60), 2), "VILLAGES": rnd.randint(0, 18), "COMMUNITIES": rnd.randint(3, 25),
        "ENTERPRISES": rnd.randint(10, 160) + period_index, "FISCAL_REV": round(p * 0.9 * (1 + period_index), 1),
        "GDP": round(p * 3.1 * (1 + period_index) + 1000 * period_index, 1),
        "DIBAO_HH": round(p * 0.004), "TEKUN_PERSONS": round(p * 0.0006) + period_index,
        "DIBAO_FUNDS": round(p * 0.004 * 1.6 * 0.3 * (1 + 0.05 * period_index), 1),
        "ELDERLY_BEDS": rnd.randint(80, 600), "ELDERLY_CENTERS": rnd.randint(1, 8),
        "DISABLED": round(p * 0.016), "DISABLED_SUBSIDY": round(p * 0.007),
        "DISABLED_FUNDS": round(p * 0.007 * 0.045 * (1 + 0.03 * period_index), 1),
        "INSPECTIONS": rnd.randint(20, 90) + 5 * period_index, "HAZARDS_FOUND": rnd.randint(10, 60),
        "HAS_PLAN": "yes", "SHELTERS": rnd.randint(2, 12),
    }
    d["DIBAO_PERSONS"] = round(d["DIBAO_HH"] * 1.6)
    d["HAZARDS_FIXED"] = d["HAZARDS_FOUND"] - rnd.randint(0, 4)
    return d


def _actor_of_unit(unit: Unit) -> Actor:
    return Actor(user_id=None, name=f"{unit.short_name}文书", unit_id=unit.id, unit_path=unit.path,
                 roles=frozenset({"clerk"}))


def _actor(username: str | None, unit_code: str) -> Actor:
    unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one()
    if username:
        post = db.session.execute(select(Post).join(User, User.id == Post.user_id).where(
            User.username == username, Post.unit_id == unit.id)).scalars().first()
        if post is not None:
            return actor_for_post(post)
    return _actor_of_unit(unit)


def townships(county: str = DEMO_DIVISIONS["county"]) -> list[Unit]:
    county_gov = db.session.execute(select(Unit).where(Unit.code == f"{county}-gov")).scalar_one()
    return list(db.session.execute(units_under(county_gov.path, kind=UnitKind.GOVERNMENT,
                                               level=Level.TOWNSHIP)).scalars())


def build_catalogue() -> None:
    system = Actor.system("demo")
    for code, name, vt, uom, agg, pt, owner, carry, definition in ELEMENTS:
        create_element(system, code=code, name=name, value_type=vt, unit_of_measure=uom, aggregation=agg,
                       period_type=pt, owner_function=owner, carry_forward=carry, definition=definition,
                       commit=False)
    for code, name, num, den, owner, definition in RATIOS:
        create_element(system, code=code, name=name, value_type="percentage", unit_of_measure="%",
                       aggregation="ratio", numerator_code=num, denominator_code=den, period_type="quarter",
                       owner_function=owner, definition=definition, commit=False)
    for code, name, owner, sections, rules in FORMS:
        create_template(system, code=code, name=name, owner_function=owner, period_type="quarter", commit=False,
                        definition={"sections": [{"title": t, "fields": f} for t, f in sections], "rules": rules})
    db.session.commit()


def import_datasets(period: str, as_of: date, period_index: int, units: list[Unit]) -> None:
    admin = Actor(user_id=None, name="数据管理员", roles=frozenset({"system", "sys_admin"}))
    for name, source, codes in DATASETS:
        lines = ["division_code,element_code,period,value"]
        for u in units:
            nums = base_numbers(u.division.code, period_index)
            lines += [f"{u.division.code},{c},{period},{nums[c]}" for c in codes]
        shared.import_dataset(admin, name=f"{name} {period}", source_name=source, as_of=as_of,
                              data="\n".join(lines) + "\n", filename=f"{name}-{period}.csv")


ISSUERS = {"mz": ("county_mz_clerk", "mz"), "yjgl": (None, "yjgl"), "tj": ("county_tj_clerk", "tj")}


def issue(period: str, deadline: datetime) -> list:
    county = DEMO_DIVISIONS["county"]
    out = []
    for code, name, owner, _s, _r in FORMS:
        username, fc = ISSUERS[owner]
        actor = _actor(username, f"{county}-{fc}")
        out.append(tasks.issue_task(actor, template_code=code, period=period, deadline=deadline,
                                    title=f"{name}（{period}）"))
    return out


def fill_like_a_clerk(actor: Actor, sub: Submission, nums: dict) -> None:
    """Confirm every prefilled value, type the others (what a clerk does on the fill page)."""
    version = sub.task.template_version
    pre = prefill(version, sub.unit_id, sub.task.period)
    posted = {}
    for f in version.fields():
        code = f["element"]
        if f.get("computed"):
            continue
        posted[code] = pre[code].text if code in pre else str(nums[code])
    tasks.save(actor, sub.id, posted)


def _decider(sub: Submission, default: Actor) -> Actor:
    """Who reviews a submission in the demo: the department's clerk, or (a report submitted by a
    person goes through Approvals) whoever holds the approval task."""
    if review.request_of(sub, ("running",)) is None or review.open_task(default, sub) is not None:
        return default
    from office.auth.service import primary_post

    for uid in review.reviewers(sub):
        post = primary_post(db.session.get(User, uid))
        actor = actor_for_post(post) if post else None
        if actor is not None and review.open_task(actor, sub) is not None:
            return actor
    return default


def build_demo(*, leave: str | None = LEFT_FOR_VISITOR) -> None:
    if db.session.execute(select(FormTemplate.id).where(FormTemplate.code == "MZ_DIBAO")).first():
        return
    build_catalogue()
    towns = townships()
    county = DEMO_DIVISIONS["county"]
    for idx, (period, as_of, deadline) in enumerate(PERIODS):
        import_datasets(period, as_of, idx, towns)
        issued = issue(period, deadline)
        for ti, t in enumerate(towns):
            if idx == 1 and (t.division.code == leave or ti % 3 == 2):
                continue  # Q4: 三墩镇 and every third township have not started
            clerk = _actor("town_clerk", t.code) if t.division.code == DEMO_DIVISIONS["township"] \
                else _actor_of_unit(t)
            nums = base_numbers(t.division.code, idx)
            for task in issued:
                sub = db.session.execute(select(Submission).where(Submission.task_id == task.id,
                                                                  Submission.unit_id == t.id)).scalar_one()
                fill_like_a_clerk(clerk, sub, nums)
                if idx == 1 and ti % 3 == 1:
                    continue  # saved as draft
                review.submit(clerk, sub.id, warning_reason="按实际发放")
                owner = next(f[2] for f in FORMS if f[0] == task.template_version.template.code)
                username, fc = ISSUERS[owner]
                reviewer = _decider(sub, _actor(username, f"{county}-{fc}"))
                if idx == 0:
                    review.approve(reviewer, sub.id, note="审核通过")
                elif ti % 6 == 0:
                    review.return_submission(reviewer, sub.id, note="请核实本季度发放金额")
    db.session.commit()


register_demo_step(50, "forms", build_demo)

__all__ = ["build_demo", "element_by_code"]
