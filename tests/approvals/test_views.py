"""Pages and JSON API through the test client."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib

from sqlalchemy import select

from office.approvals.models import ApprovalRequest, Flow, Signature, Task
from office.extensions import db
from tests.approvals.helpers import make_flow, node, submit, task_of, users
from tests.conftest import csrf_from, login, post_form


def png(width=40, height=20) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def no_inline_script_or_style(html: str):
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert " style=" not in html, "inline style"


def test_stand_alone_request_through_the_pages(client, org):
    make_flow(node("single", name="区长审批", assignees={"kind": "gov_leader"}), key="std", subject_type="request")
    login(client, "county_clerk")
    page = client.get("/approvals/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    no_inline_script_or_style(html)
    flow_id = db.session.execute(select(Flow.id).where(Flow.key == "std")).scalar_one()
    r = client.post("/approvals/new", data={"csrf_token": csrf_from(html), "title": "购置办公设备的请示",
                                            "body": "拟购置电脑 10 台。", "amount": "52,000", "flow_id": flow_id})
    assert r.status_code == 302
    req = db.session.execute(select(ApprovalRequest)).scalar_one()
    mine = client.get("/approvals/mine").get_data(as_text=True)
    assert "购置办公设备的请示" in mine
    client.post("/logout", data={"csrf_token": csrf_from(mine)})

    login(client, "county_leader")
    todo = client.get("/approvals/").get_data(as_text=True)
    assert "购置办公设备的请示" in todo and "52,000.00" in todo
    assert "购置办公设备的请示" in client.get("/todo").get_data(as_text=True)  # unified to-do list
    assert "Approvals" in client.get("/").get_data(as_text=True) or "审批" in client.get("/").get_data(as_text=True)
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    no_inline_script_or_style(page)
    assert f'name="version" value="{req.version}"' in page
    task = task_of(org, req, "county_leader")
    # a stale page is refused
    stale = client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "approve",
                                                          "task_id": task.id, "version": req.version - 1})
    assert stale.status_code == 409
    ok = client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "approve",
                                                       "task_id": task.id, "version": req.version,
                                                       "opinion": "同意购置"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req.id).state == "approved"
    again = client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "approve",
                                                          "task_id": task.id})
    assert again.status_code == 409
    done = client.get("/approvals/done").get_data(as_text=True)
    assert "同意购置" in done
    timeline = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    assert "同意购置" in timeline and "data-kind=\"approve\"" in timeline


def test_request_page_is_404_outside_scope(client, org):
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    login(client, "other_county_clerk")
    assert client.get(f"/approvals/{req.id}").status_code == 404
    assert client.get(f"/api/approvals/requests/{req.id}").status_code == 404


def test_api_lists_and_acts(client, org):
    flow = make_flow(node("single", assignees=users("county_leader")), node("single", assignees=users("city_leader")))
    req = submit(org, "county_clerk", flow)
    login(client, "county_leader")
    items = client.get("/api/approvals/tasks").get_json()["items"]
    assert [i["request_id"] for i in items] == [req.id]
    token = csrf_from(client.get("/approvals/").get_data(as_text=True))
    h = {"X-CSRFToken": token}
    r = client.post(f"/api/approvals/tasks/{items[0]['id']}/reject", json={"opinion": ""}, headers=h)
    assert r.status_code == 400
    r = client.post(f"/api/approvals/tasks/{items[0]['id']}/approve",
                    json={"version": items[0]["request_version"]}, headers=h)
    assert r.status_code == 200 and r.get_json()["task"]["opinion"] == "同意"
    r = client.post(f"/api/approvals/tasks/{items[0]['id']}/approve", json={}, headers=h)
    assert r.status_code == 409
    assert client.get("/api/approvals/tasks?box=done").get_json()["items"][0]["state"] == "approved"
    detail = client.get(f"/api/approvals/requests/{req.id}").get_json()
    assert detail["request"]["node_index"] == 1


def test_view_actions_return_transfer_withdraw_cc(client, org):
    flow = make_flow(node("single", assignees=users("county_deputy")), node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    login(client, "county_deputy")
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    t = task_of(org, req, "county_deputy")
    r = client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "transfer",
                                                      "task_id": t.id, "user": "county_mz_leader"})
    assert r.status_code == 302
    task_of(org, req, "county_mz_leader")
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "transfer", "task_id": t.id,
                                                       "user": "nobody"}, page=f"/approvals/{req.id}")
    assert r.status_code in (302, 409)
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "county_clerk")
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "cc", "user": "county_staff"},
                  page=f"/approvals/{req.id}")
    assert r.status_code == 302
    # the transfer counts as an approver's action: no withdrawal any more
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "withdraw"}, page=f"/approvals/{req.id}")
    assert r.status_code == 409
    r = post_form(client, f"/approvals/{req.id}/act", {"action": "urge"}, page=f"/approvals/{req.id}")
    assert r.status_code == 302


def test_signature_upload_draw_and_display(client, org):
    login(client, "county_leader")
    page = client.get("/approvals/signature").get_data(as_text=True)
    no_inline_script_or_style(page)
    assert "approvals-signature.js" in page
    token = csrf_from(page)
    import io

    bad = client.post("/approvals/signature", data={"csrf_token": token,
                                                    "image": (io.BytesIO(b"GIF89a" + b"0" * 100), "x.png")})
    assert bad.status_code == 302
    assert db.session.execute(select(Signature)).first() is None
    big = client.post("/approvals/signature", data={"csrf_token": token,
                                                    "image": (io.BytesIO(png() + b"0" * 300_000), "x.png")})
    assert big.status_code == 302 and db.session.execute(select(Signature)).first() is None
    ok = client.post("/approvals/signature", data={"csrf_token": token, "image": (io.BytesIO(png()), "s.png")})
    assert ok.status_code == 302
    drawn = client.post("/approvals/signature", data={
        "csrf_token": token, "data_url": "data:image/png;base64," + base64.b64encode(png(60, 30)).decode()})
    assert drawn.status_code == 302
    sigs = db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()
    assert [s.active for s in sigs] == [False, True]
    flow = make_flow(node("single", assignees=users("county_leader")))
    req = submit(org, "county_clerk", flow)
    t = task_of(org, req, "county_leader")
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    client.post(f"/approvals/{req.id}/act", data={"csrf_token": csrf_from(page), "action": "approve",
                                                  "task_id": t.id})
    assert db.session.get(Task, t.id).signature_id == sigs[1].id
    page = client.get(f"/approvals/{req.id}").get_data(as_text=True)
    assert f"/approvals/signature/{sigs[1].id}.png" in page
    img = client.get(f"/approvals/signature/{sigs[1].id}.png")
    assert img.status_code == 200 and img.data.startswith(b"\x89PNG")
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "other_county_clerk")
    assert client.get(f"/approvals/signature/{sigs[1].id}.png").status_code == 404


def test_flow_editor_form_json_export_import(client, org):
    login(client, "county_clerk")
    assert client.get("/approvals/flows/edit").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/approvals/").get_data(as_text=True))})
    login(client, "county_admin")
    page = client.get("/approvals/flows/edit").get_data(as_text=True)
    no_inline_script_or_style(page)
    r = client.post("/approvals/flows/edit", data={
        "csrf_token": csrf_from(page), "mode": "form", "key": "ed1", "name": "编辑器流程", "scope": "unit",
        "node_count": "0", "auto_pass": "1",
        "n0_name": "领导审批", "n0_type": "sequential", "n0_kind": "leader_up_to", "n0_value": "city",
        "n0_condition": "amount > 100", "n0_deadline": "24", "n0_timeout": "remind", "n0_empty": "refuse"})
    assert r.status_code == 302
    flow = db.session.execute(select(Flow).where(Flow.key == "ed1")).scalar_one()
    d = flow.current_version.definition
    assert d["auto_pass_same_person"] is True
    assert d["nodes"][0]["assignees"] == {"kind": "leader_up_to", "level": "city"}
    assert d["nodes"][0]["condition"] == "amount > 100" and d["nodes"][0]["deadline_hours"] == 24
    bad = client.post(f"/approvals/flows/{flow.id}/edit", data={
        "csrf_token": csrf_from(page), "mode": "json", "name": "x", "definition": '{"nodes": [{"type": "x"}]}'})
    assert bad.status_code == 200 and flow.current_version.number == 1
    exported = client.get(f"/approvals/flows/{flow.id}/export.json")
    data = json.loads(exported.data)
    data["key"] = "ed2"
    r = client.post("/approvals/flows/import", data={"csrf_token": csrf_from(page), "json": json.dumps(data)})
    assert r.status_code == 302
    assert db.session.execute(select(Flow).where(Flow.key == "ed2")).scalar_one().current_version.definition == d
    assert "ed2" in client.get("/approvals/flows").get_data(as_text=True)
