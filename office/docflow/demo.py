"""Demo content: documents in every state; a province notice distributed to the city and county
governments and forwarded by 杭州市 to its counties and townships; a county 请示 answered by a 批复.
Duties are separated as in a general office: 王晓燕 (prov_clerk) drafts, 陈志强 (prov_staff) reviews,
李建国 (prov_leader) signs off; the township 三墩镇, whose office has one clerk, may combine duties."""

from __future__ import annotations

from sqlalchemy import func, select

from office.demo import register_demo_step
from office.extensions import db

NOTICE_BODY = """各市、县（市、区）人民政府，省政府直属各单位：
为切实做好今年防汛防台工作，确保人民群众生命财产安全，现就有关事项通知如下：
一、提高思想认识
（一）压实防汛责任。各地要落实行政首长负责制。
（二）加强值班值守。严格执行24小时值班和领导带班制度。
二、强化隐患排查
1. 全面排查山塘水库、地质灾害点。
2. 对排查发现的问题建立清单，限期整改。
（1）一般隐患当日整改；
（2）重大隐患挂牌督办。
三、做好应急准备
各地要储备必要的防汛物资，于10日内将落实情况报省政府办公厅。"""


def _actor(username: str):
    from office.actor import actor_for_post
    from office.auth.models import User
    from office.auth.service import primary_post

    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    return actor_for_post(primary_post(user))


def _unit(code: str):
    from office.org.models import Unit

    return db.session.execute(select(Unit).where(Unit.code == code)).scalar_one()


# Separated duties: each drafting clerk's draft is reviewed by another member of her office.
REVIEWERS = {"prov_clerk": "prov_staff", "city_clerk": "city_staff", "county_clerk": "county_staff"}
# The leaders who sign off or instruct in the demo store a handwritten signature first.
SIGNERS = ("prov_leader", "prov_office_leader", "city_leader", "county_leader", "town_leader")


def signature_png(name: str) -> bytes:
    """A demo handwritten signature: the name in a brush face, dark blue on transparent."""
    import io
    import subprocess

    from PIL import Image, ImageDraw, ImageFont

    try:
        face = subprocess.run(["fc-match", "-f", "%{file}", "AR PL UKai CN"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        font = ImageFont.truetype(face, 84) if face else ImageFont.load_default()
    except (OSError, subprocess.SubprocessError):
        font = ImageFont.load_default()
    img = Image.new("RGBA", (360, 120), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((180, 60), name, font=font, fill=(20, 30, 110, 255), anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _signatures() -> None:
    from office.approvals import service as approvals

    for username in SIGNERS:
        a = _actor(username)
        if approvals.current_signature(a.user_id) is None:
            approvals.save_signature(a, signature_png(a.name))


def _walk(doc, clerk: str, leader: str, until: str = "distributed"):
    from office.docflow import service as df

    c, lead, rev = _actor(clerk), _actor(leader), _actor(REVIEWERS[clerk])
    steps = [("review", lambda: df.submit(c, doc.id)),
             ("signoff", lambda: df.review(rev, doc.id, approve=True, reason="格式规范，同意报签")),
             ("signed", lambda: df.signoff(lead, doc.id, opinion="同意")),
             ("checked", lambda: df.recheck(c, doc.id)),
             ("numbered", lambda: df.allocate_number(c, doc.id)),
             ("sealed", lambda: df.seal(c, doc.id)),
             ("distributed", lambda: df.distribute(c, doc.id))]
    for state, fn in steps:
        fn()
        if state == until:
            break
    return doc


def build() -> None:
    from office.docflow import service as df
    from office.docflow.models import Document, Receipt

    if db.session.execute(select(func.count()).select_from(Document)).scalar_one():
        return
    _signatures()
    prov_clerk, city_clerk = _actor("prov_clerk"), _actor("city_clerk")
    county_clerk, town_clerk = _actor("county_clerk"), _actor("town_clerk")
    prov_gov, city_gov, county_gov = _unit("330000-gov"), _unit("330100-gov"), _unit("330106-gov")

    notice = df.create_draft(prov_clerk, doc_type="通知", title="浙江省人民政府关于切实做好防汛防台工作的通知",
                             body=NOTICE_BODY, lead_unit_id=prov_gov.id, urgency="特急", due_days=10,
                             main=["group:city_governments", "group:county_governments"])
    _walk(notice, "prov_clerk", "prov_leader")
    hz = db.session.execute(select(Receipt).where(Receipt.document_id == notice.id,
                                                  Receipt.unit_id == city_gov.id)).scalar_one()
    df.sign_for(city_clerk, hz.id)
    df.register(city_clerk, hz.id)
    df.forward(city_clerk, hz.id, main=["group:county_governments", "group:township_governments"])
    xh = db.session.execute(select(Receipt).where(Receipt.document_id == notice.id,
                                                  Receipt.unit_id == county_gov.id)).scalar_one()
    df.sign_for(county_clerk, xh.id)
    df.register(county_clerk, xh.id)
    df.propose(county_clerk, xh.id, "拟请区长阅示，由区应急管理局牵头落实。")
    df.instruct(_actor("county_leader"), xh.id, "同意，请抓紧落实。")
    town = db.session.execute(select(Receipt).where(Receipt.root_document_id == notice.id,
                                                    Receipt.unit_id == _unit("330106109-gov").id)).scalar_one()
    df.sign_for(town_clerk, town.id)
    df.register(town_clerk, town.id)
    df.assign(town_clerk, town.id, _actor("town_staff").user_id, "请社会事务办落实")
    df.close(_actor("town_staff"), town.id, "已完成辖区山塘水库排查，储备沙袋2000只。")

    # A county 请示 up to the city, answered by a 批复.
    req = df.create_draft(county_clerk, doc_type="请示", title="杭州市西湖区人民政府关于申请防汛专项资金的请示",
                          body="市政府：\n一、基本情况\n二、资金需求\n妥否，请批示。", lead_unit_id=county_gov.id,
                          main=[city_gov.id], note="联系人：罗静，电话：0571-87000000")
    _walk(req, "county_clerk", "county_leader")
    r = db.session.execute(select(Receipt).where(Receipt.document_id == req.id)).scalar_one()
    df.sign_for(city_clerk, r.id)
    reply = df.create_draft(city_clerk, doc_type="批复", title="杭州市人民政府关于同意拨付西湖区防汛专项资金的批复",
                            body="西湖区人民政府：\n你区《关于申请防汛专项资金的请示》收悉。经研究，同意。",
                            lead_unit_id=city_gov.id, reply_to_id=req.id)
    _walk(reply, "city_clerk", "city_leader")

    # 三墩镇's office has one clerk: its unit administrator lets one person combine duties, and the
    # clerk drafts and reviews the township's report herself (recorded, printed on the 发文稿纸).
    town_gov = _unit("330106109-gov")
    df.set_combine_duties(_actor("town_admin"), town_gov.id, True, "镇党政办仅一名文书，拟稿与审核由同一人办理")
    report = df.create_draft(town_clerk, doc_type="报告", title="三墩镇人民政府关于防汛工作落实情况的报告",
                             body="西湖区人民政府：\n一、责任落实情况\n二、隐患排查情况\n特此报告。",
                             lead_unit_id=town_gov.id, main=[county_gov.id])
    df.submit(town_clerk, report.id)
    df.review(town_clerk, report.id, approve=True, reason="同意报签")
    df.signoff(_actor("town_leader"), report.id, opinion="同意上报")
    for step in (df.recheck, df.allocate_number, df.seal, df.distribute):
        step(town_clerk, report.id)

    # One document in every other state of the outgoing flow.
    states = ["draft", "review", "signoff", "signed", "checked", "numbered", "sealed"]
    for i, until in enumerate(states):
        d = df.create_draft(prov_clerk, doc_type="通知" if i % 2 else "意见",
                            title=f"关于{['加强安全生产', '做好秋冬季森林防火', '推进数字政府建设', '规范公文处理', '开展统计执法检查', '做好年终财务决算', '加强基层治理'][i]}工作的{'通知' if i % 2 else '意见'}",
                            body="各市人民政府：\n一、总体要求\n二、主要任务\n三、保障措施", lead_unit_id=prov_gov.id,
                            main=["group:city_governments"])
        if until != "draft":
            _walk(d, "prov_clerk", "prov_leader", until)
    # An archived document.
    old = df.create_draft(prov_clerk, doc_type="通报", title="关于表扬防汛工作先进集体的通报", body="各市人民政府：",
                          lead_unit_id=prov_gov.id, main=["group:city_governments"])
    _walk(old, "prov_clerk", "prov_leader")
    df.file_document(prov_clerk, old.id, retention="D30")


register_demo_step(40, "docflow", build)
