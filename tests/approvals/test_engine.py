"""The engine through its service API: every node type and action, and the routing rules."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import gettext
from sqlalchemy import select

from office.approvals import service
from office.approvals.models import (
    ApprovalAction,
    ApprovalRequest,
    CarbonCopy,
    FlowVersion,
    StandaloneRequest,
    Task,
    TaskState,
)
from office.audit.models import AuditEvent
from office.auth import service as auth
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.notifications.models import Notification
from tests.approvals.helpers import ADMIN, make_flow, node, open_tasks, refresh, submit, task_of, users


def kinds(req):
    return [a.kind for a in db.session.execute(select(ApprovalAction).where(
        ApprovalAction.request_id == req.id).order_by(ApprovalAction.id)).scalars()]


def test_single_approve_default_opinion_and_subject_callback(org):
    flow = make_flow(node("single", assignees={"kind": "gov_leader"}))
    req = submit(org, "county_clerk", flow, amount="1200")
    t = task_of(org, req, "county_leader")
    assert db.session.execute(select(Notification).where(
        Notification.user_id == org.user("county_leader").id, Notification.kind == "assignment")).first()
    service.approve(org.actor("county_leader"), t.id, version=req.version)
    refresh(req)
    assert req.state == "approved" and req.finished_at is not None
    assert db.session.get(Task, t.id).opinion == "同意"
    assert db.session.get(StandaloneRequest, int(req.subject_id)).status == "approved"
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "approvals.approve")).scalar_one()
    assert ev.actor_id == org.user("county_leader").id and '"state": "running"' in ev.before
    assert '"approved"' in ev.after
    assert kinds(req) == ["submit", "approve", "node_done", "finish"]


def test_all_node_countersign_completes_once(org):
    flow = make_flow(node("all", assignees={"kind": "unit_leaders", "units": ["330106-gov", "330106-mz"]}),
                     node("single", assignees=users("city_leader")))
    req = submit(org, "county_clerk", flow)
    assert {t.assignee_id for t in open_tasks(req)} == {org.user("county_leader").id,
                                                        org.user("county_mz_leader").id}
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id)
    assert refresh(req).node_index == 0
    service.approve(org.actor("county_mz_leader"), task_of(org, req, "county_mz_leader").id)
    assert refresh(req).node_index == 1
    assert kinds(req).count("node_done") == 1
    task_of(org, req, "city_leader")


def test_any_node_first_approval_decides_and_cancels_others(org):
    flow = make_flow(node("any", assignees=users("county_leader", "county_deputy")))
    req = submit(org, "county_clerk", flow)
    other = task_of(org, req, "county_leader")
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id)
    assert refresh(req).state == "approved"
    assert db.session.get(Task, other.id).state == TaskState.CANCELLED
    with pytest.raises(Conflict):
        service.approve(org.actor("county_leader"), other.id)


def test_any_node_first_reject_decides(org):
    flow = make_flow(node("any", assignees=users("county_leader", "county_deputy")))
    req = submit(org, "county_clerk", flow)
    with pytest.raises(ValidationError):
        service.reject(org.actor("county_leader"), task_of(org, req, "county_leader").id, opinion=" ")
    service.reject(org.actor("county_leader"), task_of(org, req, "county_leader").id, opinion="不符合规定")
    assert refresh(req).state == "rejected"
    assert open_tasks(req) == []
    assert db.session.get(StandaloneRequest, int(req.subject_id)).status == "rejected"


def test_sequential_in_order(org):
    flow = make_flow(node("sequential", assignees=users("county_deputy", "county_leader")))
    req = submit(org, "county_clerk", flow)
    assert [t.assignee_id for t in open_tasks(req)] == [org.user("county_deputy").id]
    pending = db.session.execute(select(Task).where(Task.request_id == req.id, Task.state == "pending")).scalar_one()
    with pytest.raises(Conflict):
        service.approve(org.actor("county_leader"), pending.id)
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id)
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id)
    assert refresh(req).state == "approved"


def test_cc_node_and_condition(org):
    flow = make_flow(node("cc", assignees=users("county_staff")),
                     node("single", assignees=users("city_leader"), condition="amount > 10000"),
                     node("single", assignees={"kind": "gov_leader"}))
    small = submit(org, "county_clerk", flow, amount="500")
    assert db.session.execute(select(CarbonCopy).where(CarbonCopy.request_id == small.id)).scalar_one() \
        .user_id == org.user("county_staff").id
    task_of(org, small, "county_leader")
    assert "skip" in kinds(small)
    big = submit(org, "county_clerk", flow, title="大额", amount="50000")
    task_of(org, big, "city_leader")


def test_leader_up_to_province_goes_county_city_province(org):
    flow = make_flow(node("sequential", name="逐级", assignees={"kind": "leader_up_to", "level": "province"}))
    req = submit(org, "county_clerk", flow)
    seen = []
    for name in ("county_leader", "city_leader", "prov_leader"):
        t = task_of(org, req, name)
        assert len(open_tasks(req)) == 1
        seen.append(name)
        service.approve(org.actor(name), t.id)
    assert refresh(req).state == "approved"
    assert seen == ["county_leader", "city_leader", "prov_leader"]


def test_leader_up_levels_and_function_line(org):
    flow = make_flow(node("single", assignees={"kind": "leader_up", "levels": 1}))
    req = submit(org, "county_clerk", flow)
    task_of(org, req, "city_leader")
    flow2 = make_flow(node("single", assignees={"kind": "role", "role": "leader"}))
    req2 = submit(org, "town_clerk", flow2)
    task_of(org, req2, "town_leader")


def test_dedupe_and_auto_pass(org):
    flow = make_flow(node("all", assignees={"kind": "unit_leaders", "units": ["330106-gov", "330106-gov"]}),
                     node("single", assignees=users("county_leader")),
                     node("single", assignees=users("city_leader")), auto_pass=True)
    req = submit(org, "county_clerk", flow)
    assert len(open_tasks(req)) == 1
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id)
    assert refresh(req).node_index == 2
    auto = db.session.execute(select(Task).where(Task.request_id == req.id, Task.node_index == 1)).scalar_one()
    assert auto.state == TaskState.AUTO_PASSED
    assert "auto_pass" in kinds(req)
    # without the flag, the same person signs twice
    flow2 = make_flow(node("single", assignees=users("county_leader")),
                      node("single", assignees=users("county_leader")))
    req2 = submit(org, "county_clerk", flow2, title="二")
    service.approve(org.actor("county_leader"), task_of(org, req2, "county_leader").id)
    assert refresh(req2).node_index == 1
    task_of(org, req2, "county_leader")


def test_empty_assignee_policies(org):
    refuse = make_flow(node("single", assignees={"kind": "role", "role": "leader"}, empty="refuse"))
    with pytest.raises(ValidationError) as exc:
        submit(org, "county_clerk", refuse)
    assert "“single”" in exc.value.message  # names the step nobody can handle
    db.session.rollback()
    assert db.session.execute(select(ApprovalRequest)).first() is None
    admin = make_flow(node("single", name="科室负责人", assignees={"kind": "role", "role": "leader"}, empty="admin"))
    req = submit(org, "county_clerk", admin)
    task_of(org, req, "county_admin")
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "approvals.empty_assignee")).scalar_one()
    assert "unit_admin" in ev.after
    skip = make_flow(node("single", assignees={"kind": "role", "role": "leader"}, empty="skip"),
                     node("single", assignees={"kind": "gov_leader"}))
    req3 = submit(org, "county_clerk", skip, title="三")
    task_of(org, req3, "county_leader")


def test_delegation_routes_to_delegate_and_records_both(org):
    auth.add_delegation(org.actor("county_leader"), org.user("county_deputy"), date.today() - timedelta(days=1),
                        date.today() + timedelta(days=3), "出差")
    flow = make_flow(node("single", assignees={"kind": "gov_leader"}))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_deputy")
    assert t.on_behalf_of_id == org.user("county_leader").id
    service.approve(org.actor("county_deputy"), t.id, opinion="同意（代）")
    act = db.session.execute(select(ApprovalAction).where(ApprovalAction.kind == "approve")).scalar_one()
    assert act.actor_name == "谢晓东" and act.on_behalf_of_name == "宋立新"
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "approvals.approve")).scalar_one()
    assert ev.on_behalf_of_id == org.user("county_leader").id


def test_withdraw_only_until_an_approver_acted(org):
    flow = make_flow(node("single", assignees=users("county_deputy")), node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    with pytest.raises((PermissionDenied, NotFound)):
        service.withdraw(org.actor("county_staff"), req.id)
    service.withdraw(org.actor("county_clerk"), req.id)
    assert refresh(req).state == "withdrawn" and open_tasks(req) == []
    req2 = submit(org, "county_clerk", flow, title="二")
    service.approve(org.actor("county_deputy"), task_of(org, req2, "county_deputy").id)
    with pytest.raises(Conflict):
        service.withdraw(org.actor("county_clerk"), req2.id)


def test_return_to_drafter_then_resubmit_and_reapprove(org):
    flow = make_flow(node("single", assignees=users("county_deputy")),
                     node("single", assignees=users("county_deputy")), auto_pass=True)
    req = submit(org, "county_clerk", flow)
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id)
    assert refresh(req).state == "approved"  # auto-passed the second node
    flow2 = make_flow(node("single", assignees=users("county_deputy")),
                      node("single", assignees=users("county_leader")))
    req2 = submit(org, "county_clerk", flow2, title="二")
    service.approve(org.actor("county_deputy"), task_of(org, req2, "county_deputy").id)
    with pytest.raises(ValidationError):
        service.return_task(org.actor("county_leader"), task_of(org, req2, "county_leader").id, opinion="")
    service.return_task(org.actor("county_leader"), task_of(org, req2, "county_leader").id, opinion="请补充材料")
    assert refresh(req2).state == "returned" and open_tasks(req2) == []
    assert db.session.get(StandaloneRequest, int(req2.subject_id)).status == "returned"
    with pytest.raises(Conflict):
        service.resubmit(org.actor("county_clerk"), req2.id, version=req2.version - 1)
    service.resubmit(org.actor("county_clerk"), req2.id, version=req2.version)
    assert refresh(req2).state == "running" and req2.node_index == 0
    service.approve(org.actor("county_deputy"), task_of(org, req2, "county_deputy").id)
    service.approve(org.actor("county_leader"), task_of(org, req2, "county_leader").id)
    assert refresh(req2).state == "approved"


def test_return_to_earlier_node_rearms_and_never_auto_passes(org):
    flow = make_flow(node("single", assignees=users("county_deputy"), deadline_hours=8),
                     node("single", assignees=users("county_deputy")),
                     node("single", assignees=users("county_leader")), auto_pass=True)
    req = submit(org, "county_clerk", flow)
    first = task_of(org, req, "county_deputy")
    service.approve(org.actor("county_deputy"), first.id)
    assert refresh(req).node_index == 2  # node 1 auto-passed
    service.return_task(org.actor("county_leader"), task_of(org, req, "county_leader").id, to=0,
                        opinion="重新审核")
    refresh(req)
    assert req.node_index == 0
    again = task_of(org, req, "county_deputy")
    assert again.id != first.id and again.due_at is not None and again.reminded_at is None
    service.approve(org.actor("county_deputy"), again.id)
    # node 1 is a re-entry: not auto-passed this time
    assert refresh(req).node_index == 1
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id)
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id)
    assert refresh(req).state == "approved"
    with pytest.raises(ValidationError):
        flow3 = make_flow(node("single", assignees=users("county_leader")))
        r3 = submit(org, "county_clerk", flow3, title="三")
        service.return_task(org.actor("county_leader"), task_of(org, r3, "county_leader").id, to=0, opinion="x")


def test_transfer(org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_leader")
    new = service.transfer(org.actor("county_leader"), t.id, to_user_id=org.user("county_deputy").id,
                           opinion="请谢副区长处理")
    assert db.session.get(Task, t.id).state == TaskState.TRANSFERRED
    with pytest.raises(Conflict):
        service.approve(org.actor("county_leader"), t.id)
    with pytest.raises(ValidationError):
        service.transfer(org.actor("county_deputy"), new.id, to_user_id=org.user("county_deputy").id)
    service.approve(org.actor("county_deputy"), new.id)
    assert refresh(req).state == "approved"


@pytest.mark.parametrize("mode,order", [
    ("before", ["county_deputy", "county_leader"]),
    ("after", ["county_leader", "county_deputy"]),
    ("alongside", None),
])
def test_add_signer(org, mode, order):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_leader")
    service.add_signer(org.actor("county_leader"), t.id, user_id=org.user("county_deputy").id, mode=mode)
    if order is None:
        assert len(open_tasks(req)) == 2
        order = ["county_deputy", "county_leader"]
    else:
        assert len(open_tasks(req)) == 1
    for name in order:
        assert refresh(req).state == "running"
        service.approve(org.actor(name), task_of(org, req, name).id)
    assert refresh(req).state == "approved"


def test_add_signer_after_in_any_node(org):
    flow = make_flow(node("any", assignees=users("county_leader", "county_mz_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_leader")
    service.add_signer(org.actor("county_leader"), t.id, user_id=org.user("county_deputy").id, mode="after")
    service.approve(org.actor("county_leader"), t.id)
    assert refresh(req).state == "running"
    assert [x.assignee_id for x in open_tasks(req)] == [org.user("county_deputy").id]
    service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id)
    assert refresh(req).state == "approved"


def test_urge_is_rate_limited_and_notifies(org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    assert service.urge(org.actor("county_clerk"), req.id, message="请尽快") == 1
    with pytest.raises(Conflict):
        service.urge(org.actor("county_clerk"), req.id)
    with pytest.raises((PermissionDenied, NotFound)):
        service.urge(org.actor("county_staff"), req.id)
    assert db.session.execute(select(Notification).where(Notification.kind == "urge")).scalar_one() \
        .user_id == org.user("county_leader").id


def test_comment_and_cc(org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    service.comment(org.actor("county_leader"), req.id, text="请附预算表")
    with pytest.raises(NotFound):
        service.comment(org.actor("other_county_clerk"), req.id, text="x")
    service.carbon_copy(org.actor("county_clerk"), req.id, user_ids=[org.user("county_staff").id])
    assert [c.request_id for c in service.copied_to_me(org.actor("county_staff"))] == [req.id]
    assert service.can_view(org.actor("county_staff"), req)
    assert "comment" in kinds(req) and "cc" in kinds(req)


def test_stale_version_and_already_handled(org):
    flow = make_flow(node("all", assignees=users("county_leader", "county_deputy")))
    req = submit(org, "county_clerk", flow)
    v = req.version
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id, version=v)
    with pytest.raises(Conflict) as exc:
        service.approve(org.actor("county_deputy"), task_of(org, req, "county_deputy").id, version=v)
    assert exc.value.message == gettext("This request was changed by someone else. Reload the page and try again.")
    t = db.session.execute(select(Task).where(Task.assignee_id == org.user("county_leader").id)).scalar_one()
    with pytest.raises(Conflict) as exc:
        service.approve(org.actor("county_leader"), t.id)
    assert exc.value.message == gettext("This task has already been handled.")


def test_stranger_cannot_act(org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_leader")
    with pytest.raises(NotFound):
        service.approve(org.actor("other_county_clerk"), t.id)
    with pytest.raises(PermissionDenied):
        service.approve(org.actor("county_clerk"), t.id)
    assert db.session.get(Task, t.id).state == TaskState.OPEN


def test_running_request_keeps_its_flow_version(org):
    flow = make_flow(node("single", assignees=users("county_leader")), key="versioned")
    req = submit(org, "county_clerk", flow)
    v1 = req.flow_version_id
    service.save_flow(ADMIN, key="versioned", name="versioned", definition={"nodes": [
        node("single", assignees=users("city_leader"))]})
    assert db.session.execute(select(FlowVersion).where(FlowVersion.flow_id == flow.id)).scalars().all()[-1].number == 2
    service.approve(org.actor("county_leader"), task_of(org, req, "county_leader").id)
    assert refresh(req).state == "approved" and req.flow_version_id == v1


def test_flow_validation_and_export_import(org):
    with pytest.raises(ValidationError):
        service.validate_definition({"nodes": [node("single", assignees=users("nobody"))]})
    with pytest.raises(ValidationError):
        service.validate_definition({"nodes": [node("bogus", assignees=users("county_leader"))]})
    with pytest.raises(ValidationError):
        service.validate_definition({"nodes": [node("single", assignees=users("county_leader"),
                                                    condition="__import__('os')")]})
    with pytest.raises(PermissionDenied):
        service.save_flow(org.actor("county_clerk"), key="x", name="x",
                          definition={"nodes": [node("single", assignees=users("county_leader"))]})
    flow = make_flow(node("single", assignees=users("county_leader"), deadline_hours=24), key="exp")
    data = service.export_flow(flow)
    data["key"] = "imported"
    imp = service.import_flow(org.actor("county_admin"), data)
    assert imp.current_version.definition == flow.current_version.definition
