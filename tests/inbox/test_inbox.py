"""The inbox seen by the people it serves: items per post, per role, with delegation (代理); the
rebuild command that repairs it; the upgrade that fills it; the to-do page reading it in one
statement."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from office.approvals import service as approvals
from office.auth import service as auth
from office.docflow import service as docflow
from office.errors import ValidationError
from office.extensions import db
from office.inbox import lists as inbox
from office.inbox import rebuild
from office.inbox.models import InboxItem
from office.timeutil import utcnow
from tests.approvals.helpers import make_flow, node, open_tasks, submit, users
from tests.conftest import login


def _titles(actor) -> list[str]:
    return [i.title for i in inbox.items(actor, 100)]


def _notice(org, title="关于做好防汛工作的通知"):
    """A county notice to both townships, distributed (the clerk reviews, the leader signs off)."""
    from tests.docflow.conftest import issue

    doc = docflow.create_draft(org.actor("county_clerk"), doc_type="通知", title=title, body="正文",
                               lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    issue(org, doc, clerk="county_clerk", leader="county_leader")
    return doc


def test_a_receipt_is_on_the_list_of_everyone_who_handles_it_under_that_post(org):
    _notice(org)
    town = org.unit("330106109", "gov")
    # Each township's clerk and leader see it to sign for; another county's clerk does not.
    assert _titles(org.actor("town_clerk")) == ["Sign for: 关于做好防汛工作的通知"]
    assert _titles(org.actor("town_leader")) == ["Sign for: 关于做好防汛工作的通知"]
    assert _titles(org.actor("town2_clerk")) == ["Sign for: 关于做好防汛工作的通知"]
    assert _titles(org.actor("other_county_clerk")) == []
    # A clerk appointed afterwards sees it at once: items are kept for the unit's roles, not copied
    # to each person.
    newcomer = org.add_user("town_clerk2", "新文书", "330106109", "gov", ["clerk"])
    assert _titles(org.actor(newcomer.username)) == ["Sign for: 关于做好防汛工作的通知"]
    # Signed for by one, it reads "Handle" for all of them.
    receipt = next(r for r in docflow.incoming(org.actor("town_clerk")))[0]
    docflow.sign_for(org.actor("town_leader"), receipt.id)
    assert _titles(org.actor("town_clerk2")) == ["Handle: 关于做好防汛工作的通知"]
    assert receipt.unit_id == town.id


def test_a_person_with_two_posts_sees_each_posts_items_under_it(org):
    from office.actor import actor_for_post
    from office.auth.models import Post, PostRole

    clerk = org.user("county_clerk")
    db.session.add(Post(user_id=clerk.id, unit_id=org.unit("330106", "mz").id, title="兼民政局收发",
                        is_primary=False, role_rows=[PostRole(role="clerk")]))
    db.session.commit()
    city = docflow.create_draft(org.actor("city_clerk"), doc_type="通知", title="市政府通知", body="正文",
                                lead_unit_id=org.unit("330100", "gov").id, main=["330106-gov", "330106-mz"])
    from tests.docflow.conftest import issue

    issue(org, city, clerk="city_clerk", leader="city_leader")
    office_post, mz_post = sorted(clerk.posts, key=lambda p: p.id)
    # The office handles the county government's documents; the bureau's are the bureau's.
    assert [i.url for i in inbox.items(actor_for_post(office_post), 10)] != \
        [i.url for i in inbox.items(actor_for_post(mz_post), 10)]
    assert len(inbox.items(actor_for_post(office_post), 10)) == 1 == len(inbox.items(actor_for_post(mz_post), 10))
    assert inbox.count(actor_for_post(office_post)) == 1


def test_a_delegate_sees_his_principals_approvals_while_the_delegation_runs(org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    req = submit(org, "county_clerk", flow, title="购置办公设备的请示")
    leader, deputy = org.actor("county_leader"), org.actor("county_deputy")
    assert _titles(deputy) == []
    today = utcnow().date()
    d = auth.add_delegation(leader, org.user("county_deputy"), today, today + timedelta(days=1))
    assert _titles(deputy) == ["Request: 购置办公设备的请示"] and _titles(leader) == ["Request: 购置办公设备的请示"]
    # The deputy standing in for the leader and the leader for the deputy: still one line each.
    auth.add_delegation(deputy, org.user("county_leader"), today, today + timedelta(days=1))
    assert _titles(deputy) == ["Request: 购置办公设备的请示"] and _titles(leader) == ["Request: 购置办公设备的请示"]
    auth.revoke_delegation(leader, d)
    assert _titles(deputy) == []
    # A request submitted while the delegation runs is routed to the delegate on the leader's behalf:
    # both see it, the delegate's own delegate does not.
    auth.add_delegation(leader, org.user("county_deputy"), today, today + timedelta(days=1))
    req2 = submit(org, "county_clerk", flow, title="第二件请示")
    assert open_tasks(req2)[0].assignee_id == org.user("county_deputy").id
    assert "Request: 第二件请示" in _titles(leader) and "Request: 第二件请示" in _titles(deputy)
    assert req.id != req2.id



def test_the_approvals_to_do_list_holds_the_principals_tasks_while_the_delegation_runs(org):
    from office.approvals import queries

    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    req = submit(org, "county_clerk", flow, title="购置办公设备的请示")
    leader, deputy = org.actor("county_leader"), org.actor("county_deputy")
    assert queries.todo_lines(deputy) == [] and queries.todo_count(deputy) == 0
    today = utcnow().date()
    d = auth.add_delegation(leader, org.user("county_deputy"), today, today + timedelta(days=1))
    db.session.commit()
    lines = queries.todo_lines(org.actor("county_deputy"))
    assert [(line.request_id, line.summary) for line in lines] == [(req.id, "Request: 购置办公设备的请示")]
    assert queries.todo_count(org.actor("county_deputy")) == 1
    auth.revoke_delegation(leader, d)
    db.session.commit()
    assert queries.todo_lines(org.actor("county_deputy")) == [] and queries.todo_count(org.actor("county_deputy")) == 0


def test_rebuild_reports_and_repairs_a_damaged_inbox(app, org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    submit(org, "county_clerk", flow, title="请示甲")
    submit(org, "county_clerk", flow, title="请示乙")
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["inbox-rebuild", "--check"])
    assert ok.exit_code == 0 and "inbox agrees with the modules" in ok.output
    # Damage it below the services: one item lost, one changed.
    rows = db.session.execute(select(InboxItem).order_by(InboxItem.id)).scalars().all()
    db.session.delete(rows[0])
    rows[1].subject = "篡改"
    db.session.commit()
    check = runner.invoke(args=["inbox-rebuild", "--check"])
    assert check.exit_code == 1 and "1 missing, 1 changed" in check.output, check.output
    assert db.session.execute(select(InboxItem.subject).where(InboxItem.id == rows[1].id)).scalar_one() == "篡改"
    fixed = runner.invoke(args=["inbox-rebuild"])
    assert fixed.exit_code == 0 and "2 difference(s) written" in fixed.output, fixed.output
    assert runner.invoke(args=["inbox-rebuild", "--check"]).exit_code == 0
    assert sorted(_titles(org.actor("county_leader"))) == ["Request: 请示乙", "Request: 请示甲"]


def test_bulk_load_gives_what_the_live_writes_gave(org):
    _notice(org)
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    submit(org, "county_clerk", flow, title="请示甲", amount=1234.5)
    people = ["town_clerk", "town_leader", "county_leader", "county_clerk"]
    before = {p: _titles(org.actor(p)) for p in people}
    assert before["town_clerk"] and before["county_leader"]
    db.session.execute(InboxItem.__table__.delete())  # as in a database filled below the services
    db.session.commit()
    assert inbox.count(org.actor("town_clerk")) == 0
    assert rebuild.bulk_load() > 0
    db.session.commit()
    assert {p: _titles(org.actor(p)) for p in people} == before
    assert all(r.differences == 0 for r in rebuild.run(write=False))


def test_upgrade_fills_the_inbox_of_an_existing_database(app, org):
    """The migration that adds the table fills it from the modules' records."""
    from flask_migrate import downgrade, upgrade

    _notice(org)
    before = _titles(org.actor("town_clerk"))
    assert before
    db.session.commit()
    db.session.remove()
    downgrade(revision="0015_auth_second_factor")
    upgrade(revision="heads")
    assert _titles(org.actor("town_clerk")) == before
    assert all(r.differences == 0 for r in rebuild.run(write=False))


def test_the_todo_page_and_its_count_are_one_statement_each(app, client, org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    for i in range(3):
        submit(org, "county_clerk", flow, title=f"请示{i}")
    login(client, "county_leader")
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        if "inbox_item" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = client.get("/todo").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert len(re.findall(r'<li><a href="/approvals/', page)) == 3
    assert len(seen) == 2, seen  # the count (with the workbench cards' counts), and the page


def test_a_change_refused_leaves_the_inbox_as_it_was(org):
    flow = make_flow(node("single", assignees=users("county_leader")), subject_type="request")
    req = submit(org, "county_clerk", flow, title="请示甲")
    task = open_tasks(req)[0]
    before = db.session.execute(select(InboxItem.id, InboxItem.state)).all()
    with pytest.raises(ValidationError):
        approvals.reject(org.actor("county_leader"), task.id, opinion="")  # an opinion is required
    db.session.rollback()
    # A change made and rolled back: nothing of it reaches the inbox at the next commit.
    approvals.approve(org.actor("county_leader"), task.id, commit=False)
    db.session.rollback()
    db.session.commit()
    assert db.session.execute(select(InboxItem.id, InboxItem.state)).all() == before
