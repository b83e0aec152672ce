"""Random sequences of actions by random users never reach an invalid state."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from office.approvals import engine, service
from office.approvals.models import ACTIVE_TASK_STATES, ApprovalAction, ApprovalRequest, Task, TaskState
from office.errors import OfficeError
from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, users

PEOPLE = ["county_clerk", "county_leader", "county_deputy", "county_mz_leader", "city_leader", "prov_leader",
          "county_staff"]
ACTIONS = ["approve", "reject", "return_drafter", "return_prev", "transfer", "add_before", "add_after",
           "withdraw", "urge", "resubmit", "comment"]
DECISIONS = ("approve", "reject", "return", "transfer", "timeout_approve")


class ApprovalMachine(RuleBasedStateMachine):
    org = None
    flow = None

    def __init__(self):
        super().__init__()
        self.req_id = submit(self.org, "county_clerk", self.flow, title="状态机").id
        self.last_version = 0

    def _req(self) -> ApprovalRequest:
        db.session.expire_all()
        return db.session.get(ApprovalRequest, self.req_id)

    @rule(who=st.sampled_from(PEOPLE), action=st.sampled_from(ACTIONS), pick=st.integers(0, 5),
          other=st.sampled_from(PEOPLE))
    def act(self, who, action, pick, other):
        actor = self.org.actor(who)
        req = self._req()
        tasks = db.session.execute(select(Task).where(Task.request_id == req.id).order_by(Task.id)).scalars().all()
        mine = [t for t in tasks if t.state == TaskState.OPEN and engine.acting_for(actor, t)[0]]
        task = mine[0] if mine and pick < 4 else tasks[pick % len(tasks)]
        entitled = task.state == TaskState.OPEN and engine.acting_for(actor, task)[0] and req.state == "running"
        other_id = self.org.user(other).id
        try:
            if action == "approve":
                service.approve(actor, task.id)
            elif action == "reject":
                service.reject(actor, task.id, opinion="不同意")
            elif action == "return_drafter":
                service.return_task(actor, task.id, to="drafter", opinion="退回")
            elif action == "return_prev":
                service.return_task(actor, task.id, to=max(task.node_index - 1, 0), opinion="退回上一步")
            elif action == "transfer":
                service.transfer(actor, task.id, to_user_id=other_id)
            elif action in ("add_before", "add_after"):
                service.add_signer(actor, task.id, user_id=other_id, mode=action[4:])
            elif action == "withdraw":
                service.withdraw(actor, req.id)
                assert who == "county_clerk"
                return
            elif action == "urge":
                service.urge(actor, req.id)
                assert who == "county_clerk"
                return
            elif action == "resubmit":
                service.resubmit(actor, req.id)
                assert who == "county_clerk"
                return
            else:
                service.comment(actor, req.id, text="意见")
                return
        except OfficeError:
            db.session.rollback()
            return
        assert entitled, f"{who} did {action} on task {task.id} without the right"

    @invariant()
    def consistent(self):
        req = self._req()
        tasks = db.session.execute(select(Task).where(Task.request_id == req.id)).scalars().all()
        active = [t for t in tasks if t.state in ACTIVE_TASK_STATES]
        if req.state in ("approved", "rejected", "withdrawn", "returned"):
            assert not active, f"{req.state} request with active tasks"
        else:
            assert any(t.state == TaskState.OPEN for t in active), "running request with no open task"
            assert all(t.entry_no == req.entry_no and t.node_index == req.node_index for t in active)
        decided = Counter(a.task_id for a in db.session.execute(select(ApprovalAction).where(
            ApprovalAction.request_id == req.id, ApprovalAction.kind.in_(DECISIONS))).scalars())
        assert all(n == 1 for n in decided.values()), f"task decided twice: {decided}"
        for t in tasks:
            if t.state in (TaskState.APPROVED, TaskState.REJECTED, TaskState.RETURNED, TaskState.TRANSFERRED):
                assert decided[t.id] == 1 and t.decided_at is not None
        assert req.version >= self.last_version
        self.last_version = req.version


def test_random_actions_keep_the_engine_consistent(org):
    ApprovalMachine.org = org
    ApprovalMachine.flow = make_flow(
        node("all", assignees=users("county_leader", "county_mz_leader")),
        node("sequential", assignees=users("county_deputy", "city_leader")),
        node("any", assignees=users("prov_leader", "city_leader")), auto_pass=True)
    run_state_machine_as_test(ApprovalMachine, settings=settings(
        max_examples=30, stateful_step_count=15, deadline=None,
        suppress_health_check=list(HealthCheck)))
