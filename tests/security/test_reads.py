"""Reading changes nothing: every GET route, run by the people who may see the records, leaves every
table as it was (only audit events of downloads and exports are added); each export or download
writes exactly one audit event."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from office.audit.models import AuditEvent
from office.extensions import db
from tests.conftest import login
from tests.security.test_access_matrix import all_requests, matched_endpoint, snapshot

# Those who may read the records (owner county clerk, its leader and administrator, the township
# clerk who filled the form) and the province's administrators.
READERS = ["other_county_clerk", "sc_leader", "other_county_admin", "qb_clerk", "sysadmin", "auditor"]
READ_EVENTS = {"file.downloaded", "access.denied"}


def _events() -> Counter:
    return Counter(db.session.execute(select(AuditEvent.action)).scalars())


def test_no_get_changes_state(app, foreign):
    gets = [(rule, url) for rule, method, url in all_requests(app, foreign)
            if method == "GET" and matched_endpoint(app, url, "GET") == rule.endpoint]
    seen = Counter()
    for who in READERS:
        client = app.test_client()
        assert login(client, who).status_code == 302
        before, events = snapshot(), _events()
        for _rule, url in gets:
            r = client.get(url)
            assert r.status_code < 500, f"{who}: GET {url} -> {r.status_code}"
            seen[r.status_code] += 1
        assert snapshot() == before, f"a GET as {who} changed a record"
        added = _events() - events
        assert set(added) <= READ_EVENTS, f"GETs as {who} wrote {dict(added)}"
    # The sweep did reach the records (not only refusals).
    assert seen[200] > 100


def _downloads(object_type: str) -> int:
    return len(db.session.execute(select(AuditEvent).where(AuditEvent.action == "file.downloaded",
                                                           AuditEvent.object_type == object_type)).all())


@pytest.mark.parametrize("who, url, object_type", [
    ("other_county_clerk", "/documents/{doc}/attachments/{doc_attachment}", "document_attachment"),
    ("other_county_clerk", "/approvals/{request}/attachments/{request_attachment}", "approval_attachment"),
    ("other_county_clerk", "/pdf/r/{pdf}/download", "pdf"),
    ("qb_clerk", "/reports/submissions/{submission}/form.xlsx", "form_submission"),
    ("other_county_clerk", "/reports/tasks/{form_task}/export.xlsx", "form_task"),
    ("other_county_admin", "/approvals/flows/{flow}/export.json", "approval_flow"),
    ("sysadmin", "/reports/templates/{template}/export.json", "form_template"),
])
def test_each_export_and_download_writes_one_event(app, org, foreign, who, url, object_type):
    client = app.test_client()
    login(client, who)
    url = url.format(**foreign.ids)
    assert _downloads(object_type) == 0
    r = client.get(url)
    assert r.status_code == 200 and r.data
    assert "attachment" in r.headers.get("Content-Disposition", "")
    assert _downloads(object_type) == 1
    ev = db.session.execute(select(AuditEvent).where(AuditEvent.action == "file.downloaded")).scalar_one()
    assert ev.actor_id == org.user(who).id
    if object_type == "form_template":
        return  # the form catalogue is the whole province's
    # A refused download writes no download event.
    outsider = app.test_client()
    login(outsider, "county_clerk")
    assert outsider.get(url).status_code in (403, 404)
    assert _downloads(object_type) == 1


def test_archive_export_is_audited_even_when_empty(app, foreign):
    client = app.test_client()
    login(client, "other_county_clerk")
    r = client.get(f"/documents/archive/export?year=2025&unit_id={foreign.ids['unit']}")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    actions = [a for a in db.session.execute(select(AuditEvent.action)).scalars()]
    assert actions.count("docflow.archive_export") == 1
