"""Demo content: flows for documents, report review and stand-alone requests (请示件), and requests
in every state for the demo people of 西湖区, 三墩镇 and 杭州市."""

from __future__ import annotations

from sqlalchemy import select

from office.actor import Actor, actor_for_post
from office.approvals import engine, flows, standalone
from office.approvals.models import ApprovalRequest, Task, TaskState
from office.auth.models import User
from office.auth.service import primary_post
from office.demo import register_demo_step
from office.extensions import db

SYSTEM = Actor.system("demo")

FLOWS = [
    ("document.signoff", "公文审核签发", "", True, [
        {"name": "处室负责人核稿", "type": "single", "assignees": {"kind": "role", "role": "leader"},
         "empty": "skip", "deadline_hours": 24},
        {"name": "领导签发", "type": "single", "assignees": {"kind": "gov_leader"}, "deadline_hours": 48},
    ]),
    ("report.review", "报表上级审核", "form_submission", False, [
        {"name": "上级审核", "type": "any", "assignees": {"kind": "subject"}, "empty": "refuse",
         "deadline_hours": 72},
    ]),
    ("request.standard", "请示件审批（大额逐级报批）", "request", True, [
        {"name": "本级政府领导审批", "type": "single", "assignees": {"kind": "gov_leader"}, "deadline_hours": 48},
        {"name": "大额逐级报批", "type": "sequential", "condition": "amount > 100000",
         "assignees": {"kind": "leader_up_to", "level": "city"}, "deadline_hours": 72},
        {"name": "抄送文书", "type": "cc", "assignees": {"kind": "role", "role": "clerk"}, "empty": "skip"},
    ]),
    ("request.countersign", "请示件会签（区政府与区民政局）", "request", False, [
        {"name": "会签", "type": "all", "assignees": {"kind": "unit_leaders", "units": ["330106-gov", "330106-mz"]},
         "deadline_hours": 48},
        {"name": "区领导或签", "type": "any", "assignees": {"kind": "user", "users": ["county_leader",
                                                                                   "county_deputy"]}},
    ]),
    ("request.escalate", "逐级上报至省", "request", False, [
        {"name": "逐级审批", "type": "sequential", "assignees": {"kind": "leader_up_to", "level": "province"},
         "deadline_hours": 72},
    ]),
]


def _actor(username: str) -> Actor | None:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    post = primary_post(user) if user else None
    return actor_for_post(post) if post else None


def _task(req: ApprovalRequest, username: str) -> Task | None:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        return None
    return db.session.execute(select(Task).where(Task.request_id == req.id, Task.state == TaskState.OPEN,
                                                 Task.assignee_id == user.id)).scalars().first()


def _act(fn, username: str, req: ApprovalRequest, **kw) -> None:
    actor, task = _actor(username), _task(req, username)
    if actor is not None and task is not None:
        fn(actor, task.id, **kw)


def seed() -> None:
    if db.session.execute(select(ApprovalRequest.id).limit(1)).first():
        return
    for key, name, subject_type, auto_pass, nodes in FLOWS:
        flows.save_flow(SYSTEM, key=key, name=name, subject_type=subject_type,
                        definition={"auto_pass_same_person": auto_pass, "nodes": nodes}, commit=False)
    db.session.commit()
    clerk, town, city, staff = (_actor(u) for u in ("county_clerk", "town_clerk", "city_clerk", "county_staff"))
    if not all((clerk, town, city, staff)):
        return
    # running, waiting for the county leader
    standalone.submit(clerk, title="关于购置办公电脑的请示", body="因业务需要，拟购置办公电脑10台。",
                      amount="52000", flow="request.standard")
    # a large amount: approved by the county leader, now with the city leader
    r = standalone.submit(clerk, title="关于申请防汛专项资金的请示", body="申请防汛专项资金，用于堤防加固。",
                          amount="1500000", flow="request.standard")
    _act(engine.approve, "county_leader", r, opinion="同意，报市政府审批。")
    # county → city → province, now with the province leader
    r = standalone.submit(clerk, title="关于西湖区养老服务设施建设的请示", body="拟建设区级养老服务中心。",
                          amount="3000000", flow="request.escalate")
    _act(engine.approve, "county_leader", r, opinion="同意上报。")
    _act(engine.approve, "city_leader", r, opinion="同意，请省政府审定。")
    # countersign half done
    r = standalone.submit(clerk, title="关于开展困难群众走访慰问的请示", body="春节前走访慰问困难群众。",
                          amount="80000", flow="request.countersign")
    _act(engine.approve, "county_mz_leader", r, opinion="同意，民政局负责组织实施。")
    # approved (township)
    r = standalone.submit(town, title="关于三墩镇文化礼堂修缮的请示", body="文化礼堂屋顶漏水，需修缮。",
                          amount="45000", flow="request.standard")
    _act(engine.approve, "town_leader", r, opinion="同意。")
    # rejected (city)
    r = standalone.submit(city, title="关于增加公务用车的请示", body="申请增加公务用车2辆。", amount="600000",
                          flow="request.standard")
    _act(engine.reject, "city_leader", r, opinion="不符合公务用车编制管理规定，不同意。")
    # returned to the drafter
    r = standalone.submit(staff, title="关于举办业务培训班的请示", body="拟举办公文写作培训班。", amount="12000",
                          flow="request.standard")
    _act(engine.return_task, "county_leader", r, to="drafter", opinion="请补充培训方案和经费预算明细。")
    # withdrawn
    r = standalone.submit(clerk, title="关于调整办公用房的请示", body="（已撤回）", flow="request.standard")
    engine.withdraw(clerk, r.id, reason="情况有变，撤回。")
    db.session.commit()


register_demo_step(30, "approvals", seed)
