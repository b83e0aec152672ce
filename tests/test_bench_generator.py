"""The benchmark dataset generator (bench/generate.py), built tiny on SQLite: what it writes is
valid for the app's own services, so the benchmark keeps measuring real pages (not timed)."""

from __future__ import annotations

from sqlalchemy import func, select

from bench import generate
from bench.measure import post_actor, sealed_notice
from office.auth.service import authenticate
from office.extensions import db


def test_tiny_dataset_serves_the_app(tmp_path):
    m = generate.generate(0.002, backend="sqlite", fields=4, sqlite_path=tmp_path / "bench.db",
                          manifest_path=tmp_path / "dataset.json")
    assert m["counts"]["doc_document"] == 400
    assert m["counts"]["doc_receipt"] == 2000
    assert m["counts"]["form_value"] == 1387 * 5 * 4
    assert (tmp_path / "dataset.json").exists()

    app = generate.make_app(m["database_url"])
    with app.app_context():
        from office.approvals.models import Task
        from office.docflow import distribution, receiving, search
        from office.docflow.models import Receipt
        from office.forms import rollup
        from office.forms.models import FormTemplateVersion, ReportTask
        from office.forms.values import prefill

        assert authenticate(m["busy_clerk"]["username"], m["password"]).username == "busy_clerk"
        clerk = post_actor(m["busy_clerk"]["username"])
        assert receiving.incoming(clerk), "the busy clerk's office received documents"
        open_tasks = db.session.execute(select(func.count()).select_from(Task).where(
            Task.assignee_id == clerk.user_id, Task.state == "open")).scalar_one()
        assert open_tasks >= 1, "approval requests wait for the busy clerk"
        # The to-do items of the rows loaded below the services are in the inbox, as the services
        # would have written them.
        from office.inbox import lists as inbox
        from office.inbox import rebuild

        assert inbox.count(clerk, "approvals") == open_tasks and inbox.count(clerk, "docflow") > 0
        assert all(r.differences == 0 for r in rebuild.run(write=False))

        task = db.session.get(ReportTask, m["rollup_task_id"])
        total = rollup.rollup(task, m["province"]["path"])
        cities = rollup.drilldown(task, m["province"]["path"])
        assert len(cities) == 11 and total.progress.expected == 1387
        code = next(iter(total.values))
        assert total.values[code] == sum(c.values[code] for c in cities) > 0

        version = db.session.get(FormTemplateVersion, m["forms"][0]["version_id"])
        filled = prefill(version, m["township"]["unit_id"], m["current_period"])
        assert len(filled) == 4 and all(p.stored for p in filled.values())

        province = post_actor(m["province"]["clerk_username"])
        assert search.search(province, "通知")

        # The numbering counters continue after the generated numbers: a new notice is distributed.
        sender = post_actor("330000-gov.clerk")
        doc_id = sealed_notice(sender, [m["busy_clerk"]["unit_id"]], 0)
        distribution.distribute(sender, doc_id)
        assert db.session.execute(select(Receipt.state).where(Receipt.document_id == doc_id)).scalar_one() == \
            "delivered"
