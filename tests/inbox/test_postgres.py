"""The inbox under concurrent actions and its query plans, on PostgreSQL: the inbox is written under
the row lock of the state change, so two actions at once on one item leave one consistent row; the
to-do page, its count and the unread count are index scans."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from office.actor import actor_for_post
from office.approvals import service as approvals
from office.auth.models import Post
from office.docflow import service as docflow
from office.errors import Conflict
from office.extensions import db
from office.inbox import lists as inbox
from office.inbox.models import OPEN, InboxItem
from tests.approvals.helpers import make_flow, node, open_tasks, submit, users
from tests.conftest import run_threads
from tests.inbox.world import assert_inbox_agrees

pytestmark = pytest.mark.postgres


def _open_rows(source_type: str, source_id: int) -> list:
    return db.session.execute(select(InboxItem.item, InboxItem.kind, InboxItem.line, InboxItem.user_id,
                                     InboxItem.unit_id).where(
        InboxItem.source_type == source_type, InboxItem.source_id == source_id, InboxItem.state == OPEN)).all()


def test_two_people_signing_for_one_receipt_leave_one_row(app, org):
    from tests.docflow.conftest import issue

    doc = docflow.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于做好防汛工作的通知",
                               body="正文", lead_unit_id=org.unit("330106", "gov").id, main=["330106109-gov"])
    issue(org, doc, clerk="county_clerk", leader="county_leader")
    receipt_id = docflow.incoming(org.actor("town_clerk"))[0][0].id
    posts = [org.post("town_clerk").id, org.post("town_leader").id]
    db.session.commit()

    def work(i):
        docflow.sign_for(actor_for_post(db.session.get(Post, posts[i % 2])), receipt_id)
        return "ok"

    results = run_threads(app, 6, work)
    assert results.count("ok") == 1, results
    assert all(isinstance(r, Conflict) for r in results if r != "ok"), results
    db.session.expire_all()
    assert [(r.kind, r.line) for r in _open_rows("receipt", receipt_id)] == [("receipt", "docflow.handle")]
    assert inbox.items(org.actor("town_leader"), 10)[0].title == "Handle: 关于做好防汛工作的通知"
    assert_inbox_agrees()


def test_twenty_approvals_of_one_task_leave_the_next_step_once(app, org):
    flow = make_flow(node("single", assignees=users("county_leader")), node("single", assignees=users("city_leader")))
    req = submit(org, "county_clerk", flow)
    task_id = open_tasks(req)[0].id
    post_id = org.post("county_leader").id
    db.session.commit()

    def work(i):
        approvals.approve(actor_for_post(db.session.get(Post, post_id)), task_id, opinion=f"同意{i}")
        return "ok"

    results = run_threads(app, 20, work)
    assert results.count("ok") == 1, results
    db.session.expire_all()
    rows = _open_rows("approval_request", req.id)
    assert [r.user_id for r in rows] == [org.user("city_leader").id]
    assert inbox.count(org.actor("county_leader")) == 0 and inbox.count(org.actor("city_leader")) == 1
    assert_inbox_agrees()


def test_two_townships_approved_at_once_make_the_county_roll_up_ready_once(app, org):
    """The roll-up waits for every report below it: two approved at the same moment (each under
    its own row lock) must still leave the county's "Report up" item, exactly once."""
    from datetime import datetime

    from office.forms import service as forms
    from office.forms.models import Submission
    from tests.inbox.world import setup_office

    setup_office(org)
    task = forms.issue_task(org.actor("city_clerk"), template_code="POP", period="2025Q3",
                            deadline=datetime(2025, 10, 15), target="townships")
    subs = db.session.execute(select(Submission).where(Submission.task_id == task.id, Submission.kind == "leaf",
                                                       Submission.path.like("%330106%"))).scalars().all()
    assert len(subs) == 2
    for sub in subs:
        clerk = org.actor("town_clerk" if sub.unit.code.startswith("330106109") else "town2_clerk")
        forms.save(clerk, sub.id, {"POP_MALE": "510", "POP_FEMALE": "490"})
        forms.submit(clerk, sub.id, warning_reason="属实")
    parent_id = subs[0].parent_id
    post_id = org.post("county_clerk").id
    ids = [s.id for s in subs]
    db.session.commit()

    def work(i):
        forms.approve(actor_for_post(db.session.get(Post, post_id)), ids[i], note="")
        return "ok"

    results = run_threads(app, 2, work)
    assert results == ["ok", "ok"], results
    db.session.expire_all()
    rows = _open_rows("submission", parent_id)
    assert {(r.item, r.line) for r in rows} == {("fill", "forms.report_up")}
    assert len(rows) == len({r.unit_id for r in rows}) == 2  # the county government and its office
    lines = [i.title for i in inbox.items(org.actor("county_clerk"), 50)]
    assert lines.count("Report up: Population form 2025Q3") == 1, lines
    assert_inbox_agrees()


def _plan(stmt, params: dict) -> str:
    compiled = stmt.compile(dialect=db.engine.dialect)
    rows = db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}", compiled.construct_params(params))
    return "\n".join(r[0] for r in rows)


def test_the_todo_page_count_and_unread_count_are_index_scans(org):
    """With an office's worth of other people's items in the table, the actor's list and count
    are read through the two indexes (no scan of the table), the unread count through its own."""
    from datetime import timedelta

    from office.inbox.models import UNDATED
    from office.notifications.models import Notification
    from office.timeutil import utcnow

    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    submit(org, "county_clerk", flow, title="请示甲")
    now = utcnow()
    others = [dict(module="approvals", source_type="approval_request", source_id=100_000 + i, item=str(i),
                   user_id=10_000 + i % 500, unit_id=0 if i % 2 else 10_000 + i % 300,
                   role_group="" if i % 3 else "clerk,leader", delegable=True, kind="approval",
                   line="approvals.title", subject=f"请示{i}", detail="", url=f"/approvals/{i}", urgency="",
                   due_at=None, due_sort=UNDATED, since=now - timedelta(minutes=i), rank=10, seq=i,
                   state="open" if i % 4 else "done") for i in range(20_000)]
    db.session.execute(InboxItem.__table__.insert(), others)
    db.session.commit()
    db.session.execute(text("ANALYZE inbox_item"))
    actor = org.actor("county_leader")
    in_unit, groups, params = inbox._shape(actor)
    assert groups  # a leader of a unit: the unit's items for his roles too
    for stmt, extra in ((inbox._list_statement(in_unit, len(groups), False),
                         {"upto": 50, "limit": 50, "offset": 0}),
                        (inbox._count_statement(in_unit, len(groups)), {})):
        plan = _plan(stmt, {**params, **extra})
        assert "Seq Scan on inbox_item" not in plan, plan
        assert "ix_inbox_person" in plan and "ix_inbox_unit" in plan, plan
    plan = _plan(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)), {})
    # Either of the user's notification indexes (the unread one, or the latest-first one with the
    # unread filter): the planner picks by the table's size; never a scan of everyone's messages.
    assert "Seq Scan on notification" not in plan, plan
    assert "ix_notification_user_unread" in plan or "ix_notification_user_latest" in plan, plan
    assert [i.title for i in inbox.items(actor, 50)] == ["Request: 请示甲"]
