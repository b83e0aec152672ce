"""Sign-off (签发) and the leader's instruction (批办) run in the approval engine: the leader decides in
his Approvals to-do and what approvals records (opinion, name, date, signature) is what docflow shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from office.approvals import service as approvals
from office.docflow import service as df
from office.docflow.models import DocEvent, DocState, Receipt, ReceiptState
from office.errors import Conflict, PermissionDenied
from office.extensions import db

from .conftest import approval_task, issue, leader_instructs, leader_signs, reviewer

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def _to_signoff(org, doc, clerk="prov_clerk"):
    c = org.actor(clerk)
    df.submit(c, doc.id)
    df.review(reviewer(org, clerk), doc.id, approve=True, reason="格式规范")
    return c


def _events(doc):
    return [e.action for e in db.session.execute(db.select(DocEvent).where(DocEvent.document_id == doc.id)
                                                 .order_by(DocEvent.id)).scalars()]


def test_signoff_is_an_approval_task_with_the_signature(org, province_notice):
    doc = province_notice
    leader = org.actor("prov_leader")
    sig = approvals.save_signature(leader, PNG)
    _to_signoff(org, doc)
    assert doc.state == DocState.SIGNOFF
    req = approvals.get_request(leader, doc.signoff_request_id)
    assert (req.subject_type, req.subject_id, req.state) == ("docflow.signoff", str(doc.id), "running")
    assert req.unit_id == doc.lead_unit_id  # the request belongs to the issuing organ
    assert approvals.get_flow("docflow.signoff").current_version is not None  # seeded on first use
    task = approval_task(leader, "docflow.signoff", doc.id)
    assert task is not None and approvals.summary_of(req.subject_type, req.subject_id).endswith(doc.title)
    pair = (req.subject_type, req.subject_id)
    assert approvals.summaries_of([pair]) == {pair: approvals.summary_of(*pair)}  # a to-do list's lines
    assert approvals.get_subject("docflow.signoff").url(req.subject_id) == f"/documents/{doc.id}"
    # Nobody else has it in the to-do; the clerk cannot sign off for the leader.
    assert approval_task(org.actor("prov_clerk"), "docflow.signoff", doc.id) is None
    with pytest.raises(PermissionDenied):
        df.signoff(org.actor("prov_clerk"), doc.id, opinion="同意")

    approvals.approve(leader, task.id, opinion="同意，印发各地执行。")
    db.session.refresh(doc)
    assert doc.state == DocState.SIGNED
    assert (doc.signer_name, doc.sign_opinion, doc.signed_by_id) == ("李建国", "同意，印发各地执行。", leader.user_id)
    assert doc.sign_signature_id == sig.id and doc.signed_at is not None
    assert approvals.get_request(leader, doc.signoff_request_id).state == "approved"
    assert _events(doc)[-1] == "signoff"
    # A decided sign-off cannot be decided again from docflow.
    with pytest.raises(Conflict):
        df.signoff(leader, doc.id)


def test_leader_returns_then_the_same_request_is_resubmitted(org, province_notice):
    doc = province_notice
    c = _to_signoff(org, doc)
    leader = org.actor("prov_leader")
    first = doc.signoff_request_id
    task = approval_task(leader, "docflow.signoff", doc.id)
    approvals.return_task(leader, task.id, to="drafter", opinion="请补充落实责任的内容")
    db.session.refresh(doc)
    assert doc.state == DocState.DRAFT and doc.return_reason == "请补充落实责任的内容"
    assert "signoff_return" in _events(doc)
    # The drafter revises; review passes again: the returned request goes round again.
    df.update_draft(c, doc.id, body=doc.body + "\n二、压实责任")
    _to_signoff(org, doc)
    assert doc.signoff_request_id == first
    assert approvals.get_request(leader, first).state == "running"
    leader_signs(org, "prov_leader", doc, opinion="同意")
    db.session.refresh(doc)
    assert doc.state == DocState.SIGNED and doc.return_reason == ""


def test_returned_request_of_another_requester_is_superseded(org):
    county_clerk = org.actor("county_clerk")
    doc = df.create_draft(county_clerk, doc_type="通知", title="关于做好秋收工作的通知", body="各镇：",
                          lead_unit_id=org.unit("330106", "gov").id, main=["group:township_governments"])
    df.submit(county_clerk, doc.id)
    df.review(reviewer(org, "county_clerk"), doc.id, approve=True)
    first = doc.signoff_request_id
    leader = org.actor("county_leader")
    approvals.return_task(leader, approval_task(leader, "docflow.signoff", doc.id).id, opinion="再斟酌")
    # This time a leader of the government reviews (also allowed) and so becomes the requester.
    df.submit(county_clerk, doc.id)
    df.review(org.actor("county_deputy"), doc.id, approve=True)
    assert doc.signoff_request_id != first
    assert approvals.get_request(leader, first).state == "withdrawn"
    db.session.refresh(doc)
    assert doc.state == DocState.SIGNOFF  # withdrawing the superseded one did not move the document
    leader_signs(org, "county_leader", doc)
    assert db.session.get(type(doc), doc.id).state == DocState.SIGNED


def test_reject_and_withdraw_send_the_draft_back(org, province_notice):
    doc = province_notice
    _to_signoff(org, doc)
    leader = org.actor("prov_leader")
    approvals.reject(leader, approval_task(leader, "docflow.signoff", doc.id).id, opinion="暂不发文")
    db.session.refresh(doc)
    assert doc.state == DocState.DRAFT and doc.return_reason == "暂不发文"
    _to_signoff(org, doc)
    approvals.withdraw(reviewer(org, "prov_clerk"), doc.signoff_request_id, reason="撤回修改")
    db.session.refresh(doc)
    assert doc.state == DocState.DRAFT and "signoff_withdrawn" in _events(doc)


def test_stale_signoff_task_is_refused(org, province_notice):
    """A returned request the requester resubmits in Approvals while the draft is back with its drafter
    cannot sign the draft off behind the review."""
    doc = province_notice
    _to_signoff(org, doc)
    leader = org.actor("prov_leader")
    approvals.return_task(leader, approval_task(leader, "docflow.signoff", doc.id).id, opinion="修改")
    approvals.resubmit(reviewer(org, "prov_clerk"), doc.signoff_request_id)
    task = approval_task(leader, "docflow.signoff", doc.id)
    with pytest.raises(Conflict):
        approvals.approve(leader, task.id)
    db.session.rollback()
    assert db.session.get(type(doc), doc.id).state == DocState.DRAFT
    # Once the draft passes review again, the running request is taken over and the task counts.
    _to_signoff(org, doc)
    approvals.approve(leader, task.id, opinion="同意")
    assert db.session.get(type(doc), doc.id).state == DocState.SIGNED


def test_instruction_through_approvals(org, province_notice):
    doc = province_notice
    issue(org, doc, clerk="prov_clerk", leader="prov_leader")
    r = db.session.execute(db.select(Receipt).where(Receipt.document_id == doc.id,
                                                    Receipt.unit_id == org.unit("330106", "gov").id)).scalar_one()
    clerk = org.actor("county_clerk")
    df.sign_for(clerk, r.id)
    df.register(clerk, r.id)
    df.propose(clerk, r.id, "拟请区长阅示")
    with pytest.raises(PermissionDenied):
        df.request_instruction(org.actor("county_staff"), r.id)
    df.request_instruction(clerk, r.id, "请区长批示")
    assert r.state == ReceiptState.HANDLING and r.instruction_request_id is not None
    with pytest.raises(Conflict):  # already with the leader
        df.request_instruction(clerk, r.id)
    leader = org.actor("county_leader")
    req = approvals.get_request(leader, r.instruction_request_id)
    assert req.subject_type == "docflow.instruction" and req.unit_id == r.unit_id
    pair = (req.subject_type, req.subject_id)
    assert approvals.summaries_of([pair]) == {pair: approvals.summary_of(*pair)} and doc.title in approvals.summary_of(*pair)
    # The leader returns it once, then instructs.
    approvals.return_task(leader, approval_task(leader, "docflow.instruction", r.id).id, opinion="请先征求应急局意见")
    df.request_instruction(clerk, r.id)
    leader_instructs(org, "county_leader", r, "同意，请应急局牵头落实。")
    steps = [(s.kind, s.actor_name, s.text) for s in df.steps(r)]
    assert steps[-4:] == [("instruct_request", "罗静", "请区长批示"),
                          ("instruct_return", "宋立新", "请先征求应急局意见"),
                          ("instruct_request", "罗静", ""), ("instruct", "宋立新", "同意，请应急局牵头落实。")]
    # The leader may also instruct straight from the receipt (still an approval task of his).
    df.instruct(leader, r.id, "请于周五前反馈")
    assert df.steps(r)[-1].kind == "instruct" and df.steps(r)[-1].text == "请于周五前反馈"
    with pytest.raises(PermissionDenied):
        df.instruct(clerk, r.id, "我来批")


def test_approvals_does_not_import_docflow():
    root = Path(__file__).resolve().parents[2] / "office" / "approvals"
    for path in root.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "office.docflow" not in text and "from office import docflow" not in text, path.name
