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
