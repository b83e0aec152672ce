"""What the per-request cost work changed that a user can see: the approvals to-do is paged 50 a
page, and the benchmarks' timing headers appear only when asked for."""

from __future__ import annotations

import re

from office import create_app
from tests.conftest import login
from tests.test_todo_paging import _requests_due


def _task_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-task="(\d+)">', html)


def test_approvals_to_do_is_paged_soonest_due_first(client, org):
    reqs = _requests_due(org, 53)
    login(client, "county_leader")
    first = client.get("/approvals/").get_data(as_text=True)
    second = client.get("/approvals/?page=2").get_data(as_text=True)
    assert len(_task_rows(first)) == 50 and len(_task_rows(second)) == 3
    shown = re.findall(r'href="/approvals/(\d+)"', first) + re.findall(r'href="/approvals/(\d+)"', second)
    assert shown == [str(r.id) for r in reversed(reqs)]  # the last submitted is due soonest
    assert 'href="/approvals/?page=2"' in first and "Page 2 of 2" in second


def test_timing_headers_only_when_asked_for(client, org, app):
    """Off (the default): no header. On (OFFICE_REQUEST_TIMING=1): each response tells its CPU ms
    and its statements: the session with the user, his posts and unread count, and the list."""
    from office.extensions import db
    from office.timing import CPU_HEADER, QUERIES_HEADER

    login(client, "county_clerk")
    plain = client.get("/notifications/")
    assert plain.status_code == 200 and CPU_HEADER not in plain.headers and QUERIES_HEADER not in plain.headers

    timed = create_app({**{k: app.config[k] for k in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR",
                                                      "STORAGE_DIR", "BABEL_DEFAULT_LOCALE")},
                        "TESTING": True, "REDIS_URL": None, "JOBS_INPROCESS_MODE": "sync", "REQUEST_TIMING": True})
    with timed.app_context():
        try:
            c = timed.test_client()
            login(c, "county_clerk")
            c.get("/notifications/")  # the first request of a new process also opens its connection
            r = c.get("/notifications/")
            assert r.status_code == 200 and float(r.headers[CPU_HEADER]) > 0
            assert int(r.headers[QUERIES_HEADER]) == 2
        finally:
            db.session.remove()
            db.engine.dispose()



def test_the_second_factor_check_read_with_the_session_follows_the_policy(app, org, monkeypatch):
    """Every request reads whether one of the user's roles must use a second factor in the session's
    own statement; for every user it says what ``required_for`` says: the configured default, the
    security administrator's choice role by role, and a role he has not decided on."""
    from sqlalchemy import select

    from office.auth import second_factor
    from office.auth.models import SecondFactorPolicy, User
    from office.extensions import db

    users = db.session.execute(select(User)).scalars().all()
    condition = second_factor.required_for_sql(db.session.get_bind().dialect.name)  # as the session reads it

    def agree() -> dict[int, bool]:
        said = dict(db.session.execute(select(User.id, condition), second_factor.required_defaults()).all())
        expected = {u.id: second_factor.required_for(u) for u in users}
        assert {k: bool(v) for k, v in said.items()} == expected
        return expected

    assert not any(agree().values())  # the development default: nobody
    monkeypatch.setitem(app.config, "MFA_REQUIRED_ROLES", ["leader", "sec_admin"])
    assert set(agree().values()) == {True, False}
    # decided: clerks must, leaders need not (overriding the default); staff undecided, default none
    db.session.add_all([SecondFactorPolicy(role="clerk", required=True), SecondFactorPolicy(role="leader",
                                                                                            required=False)])
    db.session.commit()
    expected = agree()
    assert expected[org.user("county_clerk").id] and not expected[org.user("county_leader").id]
    assert expected[org.user("secadmin").id]  # undecided: the default still holds


def test_a_page_does_not_send_the_session_cookie_again_and_sign_out_ends_it(client, org):
    """The cookie is set when the session changes (login, language) and lasts to the session's
    absolute limit; pages do not sign and send it again. Sign-out still ends the session at once."""
    r = login(client, "county_clerk")
    assert any(c.startswith("session=") for c in r.headers.getlist("Set-Cookie"))
    client.get("/todo")  # the first page after login stores the session's form token
    page = client.get("/todo")
    assert page.status_code == 200 and page.headers.getlist("Set-Cookie") == []
    assert client.get("/").headers.getlist("Set-Cookie") == []
    from tests.conftest import csrf_from

    token = csrf_from(page.get_data(as_text=True))
    switched = client.post("/lang", data={"lang": "en", "next": "/todo", "csrf_token": token})
    assert any(c.startswith("session=") for c in switched.headers.getlist("Set-Cookie"))
    assert "Log out" in client.get("/todo").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": token})
    after = client.get("/todo")
    assert after.status_code == 302 and "/login" in after.headers["Location"]


def test_the_layout_is_in_the_users_language_each_request(client, org):
    """The layout's words and routes are made once per language; each user still sees his own."""
    from tests.conftest import csrf_from

    login(client, "county_clerk")
    en = client.get("/notifications/").get_data(as_text=True)
    assert "Log out" in en and "Collaborative Office" in en and 'href="/notifications/"' in en
    client.post("/lang", data={"lang": "zh_CN", "next": "/", "csrf_token": csrf_from(en)})
    zh = client.get("/notifications/").get_data(as_text=True)
    assert "退出登录" in zh and "协同办公平台" in zh and "Log out" not in zh
    other = client.application.test_client()
    login(other, "county_staff")
    assert "Log out" in other.get("/notifications/").get_data(as_text=True)


def _timed_app(app):
    return create_app({**{k: app.config[k] for k in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR",
                                                      "STORAGE_DIR", "BABEL_DEFAULT_LOCALE")},
                       "TESTING": True, "REDIS_URL": None, "JOBS_INPROCESS_MODE": "sync", "REQUEST_TIMING": True})


def test_lists_read_their_rows_and_total_in_one_statement(app, org):
    """The incoming, outgoing and approvals lists each read the session (with the units the clerk
    works for and whose approvals he handles) and then one statement for the page's rows with the
    list's total; the outgoing list's issuers' names come with them on PostgreSQL."""
    from office.docflow import service as df
    from office.extensions import db
    from office.timing import QUERIES_HEADER

    clerk = org.actor("county_clerk")
    gov = org.unit("330106", "gov")
    df.create_draft(clerk, doc_type="通知", title="关于开展检查的通知", lead_unit_id=gov.id,
                    main=["group:township_governments"])
    postgres = db.session.get_bind().dialect.name == "postgresql"
    timed = _timed_app(app)
    with timed.app_context():
        try:
            c = timed.test_client()
            login(c, "county_clerk")
            c.get("/documents/")  # the first request of a new process also opens its connection
            cost = {path: (r.status_code, int(r.headers[QUERIES_HEADER]))
                    for path in ("/documents/", "/documents/outgoing", "/approvals/")
                    for r in [c.get(path)]}
            assert cost == {"/documents/": (200, 2), "/documents/outgoing": (200, 2 if postgres else 3),
                            "/approvals/": (200, 2)}
        finally:
            db.session.remove()
            db.engine.dispose()


def test_a_page_past_the_end_shows_the_last_page(client, org):
    """The lists read their total with their rows: a page past the end (no row to carry it) is
    counted apart and shows the last page; a page that is no number, the first."""
    _requests_due(org, 53)
    login(client, "county_leader")
    second = client.get("/approvals/?page=2").get_data(as_text=True)
    past = client.get("/approvals/?page=9").get_data(as_text=True)
    assert _task_rows(past) == _task_rows(second) and len(_task_rows(past)) == 3 and "Page 2 of 2" in past
    assert _task_rows(client.get("/approvals/?page=x").get_data(as_text=True)) == \
        _task_rows(client.get("/approvals/").get_data(as_text=True))
    empty = client.get("/documents/outgoing?page=4").get_data(as_text=True)
    assert "No documents" in empty or "没有" in empty


def test_the_units_and_principals_read_with_the_session_are_the_services(app, org):
    """What the session's statement reads for the lists (the government a general office works
    for, whose approvals a deputy handles today by delegation) is what the services read alone,
    for every post; a delegation given or revoked shows on the deputy's next page."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from office.actor import actor_for_post
    from office.auth import service as auth
    from office.auth.identity import load_identity
    from office.auth.models import Post, UserSession
    from office.docflow.common import acting_unit_ids
    from office.extensions import db
    from office.web import _session_also
    from tests.approvals.helpers import make_flow, node, submit, users

    submit(org, "county_clerk", make_flow(node("single", assignees=users("county_leader")), subject_type="request"),
           title="请示：经费")
    deputy = org.user("county_deputy")
    dialect = db.session.get_bind().dialect.name

    def read(token_hash: str):
        return load_identity(token_hash, also=_session_also(dialect),
                             params={"mfa_defaults": [], "principals_on": date.today()})

    for post in db.session.execute(select(Post)).scalars():
        db.session.add(UserSession(token_hash=f"t{post.id}", user_id=post.user_id, post_id=post.id))
    db.session.commit()
    for post in db.session.execute(select(Post)).scalars():
        live = read(f"t{post.id}")
        from_session = actor_for_post(live.post, user=live.user)
        assert acting_unit_ids(from_session) == acting_unit_ids(actor_for_post(post)), post.unit.name
    assert read(f"t{org.post('county_deputy').id}").also[2] is None

    leader = org.actor("county_leader")
    delegation = auth.add_delegation(leader, deputy, date.today(), date.today() + timedelta(days=2), "出差")
    assert auth.parse_ids(read(f"t{org.post('county_deputy').id}").also[2]) == (org.user("county_leader").id,)
    c = app.test_client()
    login(c, "county_deputy")
    assert "请示：经费" in c.get("/approvals/").get_data(as_text=True)
    auth.revoke_delegation(leader, delegation)
    assert "请示：经费" not in c.get("/approvals/").get_data(as_text=True)
