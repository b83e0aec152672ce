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

