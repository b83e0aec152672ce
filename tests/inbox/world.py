"""A small office at work, for the inbox tests: people of the test organisation drafting, reviewing,
signing off, numbering, sealing, distributing, signing for, handling and urging documents; approving,
rejecting, returning, transferring, adding signers to and withdrawing requests, with delegations
and deadlines; issuing, filling, submitting, reviewing and returning reports.

Each step is a service call by a person acting in one of his posts; ``choose`` picks among the
possibilities (hypothesis draws it in the stateful test, ``random`` in scripts). A step the
services refuse (wrong state, wrong person) is rolled back and is a step too: it must leave the
inbox as it was."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import delete, select, text

from office.actor import Actor, actor_for_post
from office.approvals import service as approvals
from office.approvals.models import ApprovalRequest, RequestState, Task, TaskState
from office.auth import service as auth
from office.auth.models import Delegation, Post, PostRole, User
from office.docflow import service as docflow
from office.docflow.models import Document, HandlingStep, Receipt
from office.errors import OfficeError
from office.extensions import db
from office.forms import service as forms
from office.forms.models import ReportTask, Submission
from office.timeutil import freeze, utcnow

SYSTEM = Actor.system("test")
TITLES = ["关于做好防汛工作的通知", "关于秸秆禁烧的通知", "关于开展安全生产大检查的通知", "关于2025年工作总结的报告",
          "50%的村完成改厕的情况报告", "关于调整办公用房的请示"]
# Who may draft what (lead unit, co-issuers, recipients, type).
DRAFTS = [
    ("county_clerk", "330106-gov", [], ["group:township_governments"], "通知"),
    ("county_clerk", "330106-gov", ["330106-mz"], ["group:township_governments"], "通知"),
    ("county_clerk@mz", "330106-mz", [], ["330106109-gov", "330106110-gov"], "通知"),
    ("city_clerk", "330100-gov", [], ["group:county_governments"], "通知"),
    ("town_clerk", "330106109-gov", [], ["group:superior_government"], "报告"),
]
PEOPLE = ["prov_leader", "prov_clerk", "city_leader", "city_clerk", "county_leader", "county_deputy",
          "county_clerk", "county_clerk@mz", "county_staff", "county_admin", "county_mz_leader",
          "other_county_clerk", "town_clerk", "town_leader", "town2_clerk"]
KEEP = {"division", "unit", "user_account", "post", "post_role", "form_element", "form_template",
        "form_template_version", "approval_flow", "approval_flow_version", "alembic_version", "audit_head"}
_flow_n = itertools.count(1)


def setup_office(org) -> dict:
    """What the sequences share: the county clerk's second post (in the civil affairs bureau), the
    forms catalogue, the approval flows of stand-alone requests."""
    from office.approvals import flows
    from tests.forms.conftest import CIVIL_FORM, ELEMENTS, POP_FORM

    clerk = org.user("county_clerk")
    db.session.add(Post(user_id=clerk.id, unit_id=org.unit("330106", "mz").id, title="兼民政局收发",
                        is_primary=False, role_rows=[PostRole(role="clerk")]))
    for e in ELEMENTS:
        forms.create_element(SYSTEM, **e)
    forms.create_template(SYSTEM, code="POP", name="Population form", definition=POP_FORM, owner_function="tj")
    forms.create_template(SYSTEM, code="CIVIL", name="Civil affairs form", definition=CIVIL_FORM,
                          owner_function="mz")

    def flow(*nodes):
        key = f"inboxflow{next(_flow_n)}"
        flows.save_flow(SYSTEM, key=key, name=key, subject_type="request",
                        definition={"auto_pass_same_person": False, "nodes": list(nodes)})
        return key

    def users(*names):
        return {"kind": "user", "users": list(names)}

    county = [
        flow({"name": "审批", "type": "single", "assignees": users("county_leader"), "deadline_hours": 2}),
        flow({"name": "会签", "type": "all", "assignees": users("county_leader", "county_deputy")},
             {"name": "市里", "type": "single", "assignees": users("city_leader")}),
        flow({"name": "或签", "type": "any", "assignees": users("county_deputy", "county_mz_leader")}),
        flow({"name": "依次", "type": "sequential", "assignees": users("county_deputy", "county_leader"),
              "deadline_hours": 1, "timeout": "approve"}),
    ]
    town = [flow({"name": "镇长", "type": "single", "assignees": users("town_leader")})]
    db.session.commit()
    return {"county": county, "town": town}


def reset_records() -> None:
    """Every module's records gone (the organisation, catalogue and flows stay)."""
    freeze(None)
    db.session.rollback()
    for t in reversed(db.metadata.sorted_tables):
        if t.name not in KEEP:
            db.session.execute(delete(t))
    db.session.execute(text("DELETE FROM audit_head"))
    db.session.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    db.session.commit()


class World:
    def __init__(self, org, flows: dict, choose):
        self.org, self.flows, self.choose = org, flows, choose
        self.log: list[str] = []

    # --- who -----------------------------------------------------------------------------------

    def post(self, who: str) -> Post:
        name, _, where = who.partition("@")
        user = self.org.user(name)
        if where:
            return next(p for p in user.posts if p.unit.code.endswith(f"-{where}"))
        return auth.primary_post(user)

    def actor(self, who: str) -> Actor:
        return actor_for_post(self.post(who))

    def all_actors(self) -> list[Actor]:
        posts = db.session.execute(select(Post).order_by(Post.id)).scalars()
        return [actor_for_post(p) for p in posts]

    def pick(self, options, label: str = ""):
        options = list(options)
        return self.choose(options, label) if options else None

    # --- one step ------------------------------------------------------------------------------

    def attempt(self, what: str, fn, *args, **kwargs):
        """Run one service call; a refusal is rolled back (and recorded in the log)."""
        try:
            out = fn(*args, **kwargs)
            db.session.commit()
            self.log.append(what)
            return out
        except OfficeError as exc:
            db.session.rollback()
            self.log.append(f"{what} -> refused: {exc.message}")
            return None

    # --- documents -----------------------------------------------------------------------------

    def draft(self):
        who, lead, co, main, doc_type = self.pick(DRAFTS, "draft")
        unit = self.org.unit(*lead.split("-"))
        co_ids = [self.org.unit(*c.split("-")).id for c in co]
        due = self.pick([None, 1, 5], "due_days")
        title = self.pick(TITLES, "title")
        self.attempt(f"{who} drafts {title}", docflow.create_draft, self.actor(who), doc_type=doc_type,
                     title=title, body="正文", lead_unit_id=unit.id, co_issuer_ids=co_ids, main=main,
                     due_days=due)

    def _documents(self):
        return list(db.session.execute(select(Document).order_by(Document.id)).scalars())

    def advance_document(self, doc=None, *, surely: bool = False):
        """The next step of a document by a person who may take it (or, unless ``surely``, by one
        who may not)."""
        doc = doc or self.pick(self._documents(), "document")
        if doc is None:
            return
        units = [i.unit for i in doc.issuers if i.position > 0] if doc.state == "countersign" else [doc.lead_unit]
        right = [p for u in units for p in self._acting_people(u, roles=("clerk", "leader"))]
        who = self.pick(right if surely and right else right * 4 + ["county_staff", "town_leader", "city_clerk"],
                        "who")
        a = self.actor(who)
        state = doc.state
        if state == "draft":
            self.attempt(f"{who} submits {doc.id}", docflow.submit, a, doc.id)
        elif state == "review":
            if self.pick([True, True, False], "pass"):
                self.attempt(f"{who} passes review of {doc.id}", docflow.review, a, doc.id, approve=True)
            else:
                self.attempt(f"{who} returns {doc.id}", docflow.review, a, doc.id, approve=False, reason="请修改")
        elif state == "countersign":
            self.attempt(f"{who} countersigns {doc.id}", docflow.countersign, a, doc.id, opinion="同意")
        elif state == "signoff":
            self.act_on_task(subject=("docflow.signoff", doc.id), surely=surely)
        elif state in ("signed", "checked"):
            if state == "signed" and self.pick([False, False, True], "edit"):
                self.edit_document(doc)
            else:
                self.attempt(f"{who} rechecks {doc.id}", docflow.recheck, a, doc.id)
                self.attempt(f"{who} numbers {doc.id}", docflow.allocate_number, a, doc.id)
        elif state == "numbered":
            self.attempt(f"{who} seals {doc.id}", docflow.seal, a, doc.id)
        elif state == "sealed":
            self.attempt(f"{who} distributes {doc.id}", docflow.distribute, a, doc.id)
        elif state == "distributed":
            if self.pick([True, False], "urge or recall"):
                self.attempt(f"{who} urges {doc.id}", docflow.urge, a, doc.id)
            else:
                self.attempt(f"{who} recalls {doc.id}", docflow.recall, a, doc.id, reason="发错了")

    def push_document(self):
        """A document taken several steps on by the right people (so that receipts exist)."""
        doc = self.pick(self._documents(), "document")
        for _ in range(self.pick([3, 9], "steps")):
            if doc is None or doc.state in ("distributed", "archived"):
                return
            self.advance_document(doc, surely=True)
            doc = db.session.get(Document, doc.id)

    def edit_document(self, doc=None):
        doc = doc or self.pick(self._documents(), "document")
        if doc is None:
            return
        who = self.pick(["county_clerk", "city_clerk", "town_clerk", "county_clerk@mz"], "who")
        title = self.pick(TITLES, "title") + "（修改）"
        self.attempt(f"{who} edits {doc.id}", docflow.update_draft, self.actor(who), doc.id, title=title)

    # --- receipts ------------------------------------------------------------------------------

    def _receipts(self):
        return list(db.session.execute(select(Receipt).order_by(Receipt.id)).scalars())

    def _acting_people(self, unit, roles=()) -> list[str]:
        """Who works for ``unit`` in the document flow (with one of ``roles``): its people, and a
        government's office's."""
        people = self._people_of(unit.id, roles)
        if unit.kind == "government" and unit.level != "township":
            people += self._people_of(self.org.unit(unit.code.split("-")[0], "office").id, roles)
        return people

    def _people_of(self, unit_id: int, roles=()) -> list[str]:
        q = select(User.username, Post.is_primary).join(Post, Post.user_id == User.id).where(Post.unit_id == unit_id)
        if roles:
            q = q.where(Post.id.in_(select(PostRole.post_id).where(PostRole.role.in_(roles))))
        return [name if primary else f"{name}@mz" for name, primary in db.session.execute(q).all()]

    def handle_receipt(self):
        r = self.pick(self._receipts(), "receipt")
        if r is None:
            return
        who = self.pick(self._acting_people(r.unit) or ["county_clerk"], "who")
        a = self.actor(who)
        likely = {"delivered": ["sign_for", "sign_for", "return"],
                  "signed": ["register", "propose", "assign", "circulate", "instruct", "forward"],
                  "registered": ["assign", "circulate", "propose", "instruct", "close"],
                  "handling": ["close", "circulate", "assign", "read", "instruct"],
                  "done": ["read", "forward"]}.get(r.state, [])
        step = self.pick(likely * 3 + ["sign_for", "register", "propose", "assign", "circulate", "read", "close",
                                       "instruct", "forward", "return"], "step")
        rid = r.id
        if step == "sign_for":
            self.attempt(f"{who} signs for {rid}", docflow.sign_for, a, rid)
        elif step == "register":
            self.attempt(f"{who} registers {rid}", docflow.register, a, rid)
        elif step == "propose":
            self.attempt(f"{who} proposes on {rid}", docflow.propose, a, rid, "请办理")
        elif step == "assign":
            target = self.pick(self._users_of(r.unit_id), "assignee")
            if target:
                self.attempt(f"{who} assigns {rid} to {target}", docflow.assign, a, rid, target)
        elif step == "circulate":
            targets = self._users_of(r.unit_id)
            if targets:
                self.attempt(f"{who} circulates {rid}", docflow.circulate, a, rid, targets[:2])
        elif step == "read":
            steps = db.session.execute(select(HandlingStep).where(
                HandlingStep.receipt_id == rid, HandlingStep.kind == "circulate",
                HandlingStep.read_at.is_(None))).scalars().all()
            s = self.pick(steps, "reader")
            if s is not None:
                reader = db.session.get(User, s.target_user_id)
                post = next((p for p in reader.posts if p.unit_id == r.unit_id), None) or reader.posts[0]
                self.attempt(f"{reader.username} reads {rid}", docflow.mark_read, actor_for_post(post), rid)
        elif step == "close":
            self.attempt(f"{who} closes {rid}", docflow.close, a, rid, "已办")
        elif step == "instruct":
            if self.pick([True, False], "send or decide"):
                self.attempt(f"{who} sends {rid} for instruction", docflow.request_instruction, a, rid)
            else:
                self.act_on_task(subject=("docflow.instruction", rid))
        elif step == "forward":
            self.attempt(f"{who} forwards {rid}", docflow.forward, a, rid, main=["group:township_governments"])
        else:
            self.attempt(f"{who} returns {rid}", docflow.return_missent, a, rid, "非本单位")

    def _users_of(self, unit_id: int) -> list[int]:
        return list(db.session.execute(select(Post.user_id).where(Post.unit_id == unit_id)
                                       .order_by(Post.user_id)).scalars())

    # --- approvals -----------------------------------------------------------------------------

    def request(self):
        who = self.pick(["county_clerk", "town_clerk", "county_staff"], "requester")
        flows = self.flows["town" if who == "town_clerk" else "county"]
        flow = self.pick(flows, "flow")
        amount = self.pick([None, 1234.5, 52000], "amount")
        from office.approvals import standalone

        self.attempt(f"{who} requests via {flow}", standalone.submit, self.actor(who),
                     title=self.pick(TITLES, "title"), body="正文", amount=amount, flow=flow)

    def _open_tasks(self, subject=None):
        q = select(Task).join(ApprovalRequest, ApprovalRequest.id == Task.request_id).where(
            Task.state == TaskState.OPEN, ApprovalRequest.state == RequestState.RUNNING).order_by(Task.id)
        if subject is not None:
            q = q.where(ApprovalRequest.subject_type == subject[0], ApprovalRequest.subject_id == str(subject[1]))
        return list(db.session.execute(q).scalars())

    def act_on_task(self, subject=None, *, surely: bool = False):
        task = self.pick(self._open_tasks(subject), "task")
        if task is None:
            return
        user = db.session.get(User, task.assignee_id)
        delegate = auth.delegate_for(task.assignee_id)
        if delegate is not None and self.pick([False, True], "by delegate"):
            user = delegate
        a = actor_for_post(auth.primary_post(user))
        tid, req = task.id, task.request
        what = "approve" if surely else self.pick(
            ["approve", "approve", "approve", "reject", "return", "return_node", "transfer", "add_signer"], "action")
        label = f"{user.username} {what}s task {tid} of request {req.id}"
        if what == "approve":
            self.attempt(label, approvals.approve, a, tid, opinion="同意")
        elif what == "reject":
            self.attempt(label, approvals.reject, a, tid, opinion="不同意")
        elif what == "return":
            self.attempt(label, approvals.return_task, a, tid, to="drafter", opinion="请补充")
        elif what == "return_node":
            self.attempt(label, approvals.return_task, a, tid, to=0, opinion="重新审")
        else:
            other = self.org.user(self.pick(["county_deputy", "county_leader", "county_mz_leader", "city_leader",
                                             "town_leader"], "other"))
            if what == "transfer":
                self.attempt(f"{label} to {other.username}", approvals.transfer, a, tid, to_user_id=other.id)
            else:
                mode = self.pick(["before", "after", "alongside"], "mode")
                self.attempt(f"{label} {mode} {other.username}", approvals.add_signer, a, tid, user_id=other.id,
                             mode=mode)

    def requester_acts(self):
        reqs = list(db.session.execute(select(ApprovalRequest).where(ApprovalRequest.state.in_(
            [RequestState.RUNNING, RequestState.RETURNED])).order_by(ApprovalRequest.id)).scalars())
        req = self.pick(reqs, "request")
        if req is None:
            return
        post = db.session.get(Post, req.requester_post_id) if req.requester_post_id else None
        a = actor_for_post(post) if post else self.actor("county_clerk")
        what = self.pick(["withdraw", "resubmit", "urge"], "requester action")
        fn = {"withdraw": approvals.withdraw, "resubmit": approvals.resubmit, "urge": approvals.urge}[what]
        self.attempt(f"requester {what}s {req.id}", fn, a, req.id)

    def delegate(self):
        principal, delegate = self.pick([("county_leader", "county_deputy"), ("town_leader", "town_clerk"),
                                         ("county_deputy", "county_leader")], "delegation")
        live = db.session.execute(select(Delegation).where(
            Delegation.principal_id == self.org.user(principal).id, Delegation.revoked_at.is_(None))).scalars().first()
        a = self.actor(principal)
        if live is not None and self.pick([True, False], "revoke"):
            self.attempt(f"{principal} revokes delegation", auth.revoke_delegation, a, live)
            return
        today = utcnow().date()
        start = today + timedelta(days=self.pick([0, 0, 1], "starts in"))
        self.attempt(f"{principal} delegates to {delegate}", auth.add_delegation, a, self.org.user(delegate),
                     start, start + timedelta(days=self.pick([0, 2], "days")), "出差")

    def time_passes(self):
        hours = self.pick([1, 3, 30], "hours")
        freeze(utcnow() + timedelta(hours=hours))
        self.attempt(f"{hours} hours pass", approvals.scan_deadlines, utcnow(), inline=True)

    # --- reports -------------------------------------------------------------------------------

    def issue_report(self):
        who, target = self.pick([("county_clerk", "townships"), ("city_clerk", "townships"),
                                 ("city_clerk", "counties")], "issuer")
        template = self.pick(["POP", "CIVIL"], "template")
        period = self.pick(["2025Q1", "2025Q2", "2025Q3"], "period")
        deadline = utcnow().replace(microsecond=0) + timedelta(days=self.pick([1, 10], "deadline"))
        self.attempt(f"{who} issues {template} {period} to {target}", forms.issue_task, self.actor(who),
                     template_code=template, period=period, deadline=deadline, target=target)

    def _submissions(self):
        return list(db.session.execute(select(Submission).order_by(Submission.id)).scalars())

    def advance_report(self):
        sub = self.pick(self._submissions(), "submission")
        if sub is None:
            return
        task = db.session.get(ReportTask, sub.task_id)
        sid = sub.id
        filler = self.pick(self._people_of(sub.unit_id) or ["town_clerk"], "filler")
        if sub.state in ("draft", "returned"):
            if sub.kind == "leaf":
                values = {"POP_MALE": "510", "POP_FEMALE": "490"} if task.title.startswith("Population") \
                    else {"POP_TOTAL": "1000", "DIBAO_HH": "5"}
                self.attempt(f"{filler} fills {sid}", forms.save, self.actor(filler), sid, values)
            self.attempt(f"{filler} submits {sid}", forms.submit, self.actor(filler), sid, warning_reason="属实")
            return
        parent = db.session.get(Submission, sub.parent_id) if sub.parent_id else None
        reviewing = parent.unit if parent else task.issuing_unit
        who = self.pick(self._acting_people(reviewing) * 3 + ["county_staff", "town_clerk"], "reviewer")
        what = self.pick(["approve", "approve", "return"], "review")
        if what == "approve":
            self.attempt(f"{who} approves report {sid}", forms.approve, self.actor(who), sid, note="")
        else:
            self.attempt(f"{who} returns report {sid}", forms.return_submission, self.actor(who), sid,
                         note="数据有误")

    STEPS = ("draft", "draft", "push_document", "push_document", "push_document", "advance_document",
             "edit_document", "handle_receipt", "handle_receipt", "handle_receipt", "handle_receipt", "request",
             "act_on_task", "act_on_task", "act_on_task", "requester_acts", "delegate", "time_passes",
             "issue_report", "advance_report", "advance_report", "advance_report")

    def step(self, name: str | None = None):
        name = name or self.pick(self.STEPS, "step")
        getattr(self, name)()
        return name


def assert_inbox_agrees(world: World | None = None) -> None:
    """The inbox holds exactly what the modules' records give."""
    from office.inbox import rebuild

    reports = rebuild.run(write=False)
    bad = [f"{r.source_type}: {r.samples}" for r in reports if r.differences]
    assert not bad, "\n".join(bad + (world.log[-8:] if world else []))


def assert_lists_agree(world: World) -> None:
    """Every actor's to-do list is as long as its count, and its approvals are the ones the
    approvals module's own to-do query gives (delegation included)."""
    from office.approvals import queries
    from office.inbox import lists as inbox

    for actor in world.all_actors():
        items = inbox.items(actor, 10_000)
        assert len(items) == inbox.count(actor), actor
        mine = sorted((i.url, i.due_at) for i in items if i.module == "approvals")
        theirs = sorted((f"/approvals/{t.request_id}", t.due_at) for t in queries.todo_tasks(actor, 10_000))
        assert mine == theirs, (actor.name, mine, theirs, world.log[-8:])

