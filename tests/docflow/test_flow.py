"""The outgoing flow, distribution, forwarding and receiving, with the status tree at each step."""

from __future__ import annotations

import pytest

from office.docflow import service as df
from office.docflow.models import DocNumber, DocState, ReceiptState
from office.errors import Conflict, NotFound, PermissionDenied, ValidationError
from office.extensions import db
from office.timeutil import utcnow

from .conftest import approval_task, issue, leader_instructs, leader_signs, reviewer


def _receipt_of(doc_id, unit, root=False):
    from office.docflow.models import Receipt

    col = Receipt.root_document_id if root else Receipt.document_id
    return db.session.execute(db.select(Receipt).where(col == doc_id, Receipt.unit_id == unit.id)
                              .order_by(Receipt.id.desc())).scalars().first()


def test_province_notice_to_the_township(org, province_notice):
    doc = province_notice
    prov_clerk = org.actor("prov_clerk")
    assert doc.direction == "down" and doc.state == DocState.DRAFT
    assert {r.unit.code for r in doc.recipients} == {"330100-gov", "330200-gov", "330106-gov", "330102-gov",
                                                     "330203-gov"}

    df.submit(prov_clerk, doc.id)
    df.review(reviewer(org, "prov_clerk"), doc.id, approve=True)
    assert doc.state == DocState.SIGNOFF and doc.signoff_request_id is not None
    with pytest.raises(PermissionDenied):
        df.signoff(prov_clerk, doc.id)
    assert approval_task(prov_clerk, "docflow.signoff", doc.id) is None
    leader_signs(org, "prov_leader", doc, opinion="同意印发")  # in the leader's Approvals to-do
    db.session.refresh(doc)
    assert doc.state == DocState.SIGNED
    assert doc.signer_name == "李建国" and doc.signed_at is not None and doc.sign_opinion == "同意印发"
    df.recheck(prov_clerk, doc.id)
    assert doc.state == DocState.CHECKED
    df.allocate_number(prov_clerk, doc.id)
    year = utcnow().year
    assert doc.doc_number == f"浙政发〔{year}〕1号"
    df.allocate_number(prov_clerk, doc.id)  # re-run: the same number, no new one
    assert doc.doc_number == f"浙政发〔{year}〕1号"
    assert db.session.execute(db.select(db.func.count()).select_from(DocNumber)).scalar_one() == 1
    df.seal(prov_clerk, doc.id)
    dist = df.distribute(prov_clerk, doc.id)
    assert dist.recipient_count == 5 and doc.state == DocState.DISTRIBUTED
    with pytest.raises(Conflict):
        df.distribute(prov_clerk, doc.id)

    tree = df.status_tree(prov_clerk, doc.id)
    assert tree["counts"]["total"] == 5 and tree["counts"]["signed"] == 0 and tree["counts"]["handled"] == 0
    assert tree["levels"]["city"]["total"] == 2 and tree["levels"]["county"]["total"] == 3

    # The city signs for it and forwards it to its counties and townships.
    city_clerk = org.actor("city_clerk")
    hz = _receipt_of(doc.id, org.unit("330100", "gov"))
    df.sign_for(city_clerk, hz.id)
    assert hz.signed_for_by_name == "钱佳怡"
    assert df.status_tree(prov_clerk, doc.id)["counts"]["signed"] == 1
    cover = df.forward(city_clerk, hz.id, main=["group:county_governments", "group:township_governments"])
    assert cover.doc_number == f"杭政发〔{year}〕1号" and cover.forwards_document_id == doc.id
    tree = df.status_tree(prov_clerk, doc.id)
    assert tree["counts"]["total"] == 10
    assert tree["levels"]["township"]["total"] == 3
    city_node = next(n for n in tree["nodes"] if n["receipt_id"] == hz.id)
    assert city_node["counts"]["total"] == 6 and len(city_node["children"]) == 5

    # The township signs for it, registers, handles and closes it.
    town_clerk = org.actor("town_clerk")
    town = _receipt_of(doc.id, org.unit("330106109", "gov"), root=True)
    assert town.parent_receipt_id == hz.id and town.document_id == cover.id
    assert df.get_document(town_clerk, doc.id).body == doc.body  # the original reaches the township intact
    df.sign_for(town_clerk, town.id)
    df.register(town_clerk, town.id)
    assert town.reg_number == f"三政收〔{year}〕1号"
    df.propose(town_clerk, town.id, "请镇长阅示")
    df.request_instruction(town_clerk, town.id)
    leader_instructs(org, "town_leader", town, "请党政办落实")
    db.session.refresh(town)
    df.assign(town_clerk, town.id, org.user("town_clerk").id)
    tree = df.status_tree(prov_clerk, doc.id)
    assert (tree["counts"]["signed"], tree["counts"]["handled"]) == (2, 0)
    df.close(town_clerk, town.id, "已落实防汛责任")
    tree = df.status_tree(prov_clerk, doc.id)
    assert (tree["counts"]["total"], tree["counts"]["signed"], tree["counts"]["handled"]) == (10, 2, 1)
    assert tree["levels"]["township"] == {"total": 3, "signed": 1, "handled": 1, "overdue": 0,
                                          "returned": 0, "waiting": 2}
    assert [s.kind for s in df.steps(town)] == ["sign_for", "register", "propose", "instruct_request",
                                                 "instruct", "assign", "close"]
    instruction = next(s for s in df.steps(town) if s.kind == "instruct")
    assert (instruction.actor_name, instruction.text) == ("蒋国庆", "请党政办落实")

    # Overdue after the due date; urging reaches every straggler in one action.
    from datetime import timedelta

    from office import timeutil

    timeutil.freeze(utcnow() + timedelta(days=11))
    tree = df.status_tree(prov_clerk, doc.id)
    assert tree["counts"]["overdue"] == 9  # every receipt but the closed one
    assert df.urge(prov_clerk, doc.id) == 9
    from office.docflow.models import DocEvent

    actions = [e.action for e in db.session.execute(db.select(DocEvent).where(DocEvent.document_id == doc.id)
                                                   .order_by(DocEvent.id)).scalars()]
    for a in ("draft", "submit", "review_pass", "signoff", "recheck", "number", "seal", "distribute",
              "receipt_sign_for", "forward", "receipt_close", "urge"):
        assert a in actions


def test_recall_only_from_those_who_have_not_signed(org, province_notice):
    doc = province_notice
    issue(org, doc, clerk="prov_clerk", leader="prov_leader")
    hz = _receipt_of(doc.id, org.unit("330100", "gov"))
    df.sign_for(org.actor("city_clerk"), hz.id)
    assert df.recall(org.actor("prov_clerk"), doc.id, reason="发送范围有误") == 4
    tree = df.status_tree(org.actor("prov_clerk"), doc.id)
    assert tree["counts"]["total"] == 1
    with pytest.raises(NotFound):  # the recalled county no longer sees it
        df.get_document(org.actor("other_county_clerk"), doc.id)
    with pytest.raises(Conflict):
        df.recall(org.actor("prov_clerk"), doc.id, reason="again")


def test_return_as_missent(org, province_notice):
    doc = province_notice
    issue(org, doc, clerk="prov_clerk", leader="prov_leader")
    r = _receipt_of(doc.id, org.unit("330106", "gov"))
    with pytest.raises(ValidationError):
        df.return_missent(org.actor("county_clerk"), r.id, " ")
    df.return_missent(org.actor("county_clerk"), r.id, "非我单位业务")
    assert r.state == ReceiptState.RETURNED
    assert df.status_tree(org.actor("prov_clerk"), doc.id)["counts"]["returned"] == 1


def test_substantive_change_after_signoff_goes_back_to_the_signer(org, province_notice):
    doc = province_notice
    c = org.actor("prov_clerk")
    df.submit(c, doc.id)
    df.review(reviewer(org, "prov_clerk"), doc.id, approve=True)
    leader_signs(org, "prov_leader", doc)
    first_request = doc.signoff_request_id
    df.update_draft(c, doc.id, body=doc.body + "\n  ")  # whitespace only: not substantive
    df.recheck(c, doc.id)
    assert doc.state == DocState.CHECKED
    df.update_draft(c, doc.id, body=doc.body + "\n二、新增要求")
    df.recheck(c, doc.id)
    assert doc.state == DocState.SIGNOFF
    leader_signs(org, "prov_leader", doc, opinion="同意修改后印发")  # a new approval request
    assert doc.signoff_request_id != first_request and doc.state == DocState.SIGNED
    assert doc.sign_opinion == "同意修改后印发"
    revs = df.revisions(doc)
    assert len(revs) == 3
    d = df.diff(doc, 2, 3)
    assert "+二、新增要求" in d


def test_review_return_and_stale_version(org, province_notice):
    doc = province_notice
    c, r = org.actor("prov_clerk"), reviewer(org, "prov_clerk")
    v = doc.version
    df.submit(c, doc.id, version=v)
    with pytest.raises(Conflict):
        df.review(r, doc.id, approve=True, version=v)  # page from before the submit
    with pytest.raises(ValidationError):
        df.review(r, doc.id, approve=False, reason="")
    df.review(r, doc.id, approve=False, reason="文种不当")
    assert doc.state == DocState.DRAFT and doc.return_reason == "文种不当"


def test_void_number_keeps_reason_and_is_never_reused(org, province_notice):
    doc = province_notice
    c = org.actor("prov_clerk")
    df.submit(c, doc.id)
    df.review(reviewer(org, "prov_clerk"), doc.id, approve=True)
    leader_signs(org, "prov_leader", doc)
    df.recheck(c, doc.id)
    df.allocate_number(c, doc.id)
    first = doc.doc_number
    df.void_number(c, doc.id, "文号错用")
    df.allocate_number(c, doc.id)
    assert doc.doc_number != first and doc.doc_number.endswith("〕2号")
    voided = db.session.execute(db.select(DocNumber).where(DocNumber.voided_at.isnot(None))).scalar_one()
    assert voided.number == first and voided.void_reason == "文号错用"


def test_joint_document_needs_countersign(org):
    prov = org.unit("330000", "gov")
    doc = df.create_draft(org.actor("county_clerk"), doc_type="通知", title="关于联合开展检查的通知",
                          body="各镇：", co_issuer_ids=[org.unit("330106", "mz").id],
                          lead_unit_id=org.unit("330106", "gov").id,
                          main=["group:township_governments"])
    c = org.actor("county_clerk")
    df.submit(c, doc.id)
    df.review(reviewer(org, "county_clerk"), doc.id, approve=True)
    assert doc.state == DocState.COUNTERSIGN
    with pytest.raises(PermissionDenied):
        df.countersign(org.actor("county_leader"), doc.id)
    df.countersign(org.actor("county_mz_leader"), doc.id, opinion="同意")
    assert doc.state == DocState.SIGNOFF
    leader_signs(org, "county_leader", doc)
    assert doc.state == DocState.SIGNED
    with pytest.raises(ValidationError, match="same level"):
        df.create_draft(org.actor("county_clerk"), doc_type="通知", title="联合", co_issuer_ids=[prov.id],
                        main=["group:township_governments"])


def test_request_goes_up_and_is_answered(org):
    county_clerk = org.actor("county_clerk")
    city_gov = org.unit("330100", "gov")
    req = df.create_draft(county_clerk, doc_type="请示", title="关于申请防汛物资的请示", body="市政府：",
                          lead_unit_id=org.unit("330106", "gov").id, main=[city_gov.id],
                          note="联系人：罗静，电话：0571-12345678")
    assert req.direction == "up"
    issue(org, req, clerk="county_clerk", leader="county_leader")
    assert req.signer_name == "宋立新" and req.doc_number.startswith("西政发")
    r = _receipt_of(req.id, city_gov)
    city_clerk = org.actor("city_clerk")
    df.sign_for(city_clerk, r.id)
    reply = df.create_draft(city_clerk, doc_type="批复", title="关于同意调拨防汛物资的批复", body="西湖区人民政府：",
                            lead_unit_id=city_gov.id, reply_to_id=req.id)
    assert reply.reply_to_id == req.id and reply.direction == "down"
    assert [x.unit_id for x in reply.recipients] == [req.lead_unit_id]
    issue(org, reply, clerk="city_clerk", leader="city_leader")
    assert reply.doc_number.startswith("杭政函")
    back = _receipt_of(reply.id, org.unit("330106", "gov"))
    assert back is not None and back.state == ReceiptState.DELIVERED


@pytest.mark.parametrize("kwargs, message", [
    (dict(doc_type="请示", main=["330000-gov"], note="联系人"), "skip a level"),
    (dict(doc_type="请示", main=["330100-gov", "330000-gov"], note="联系人"), "one main recipient"),
    (dict(doc_type="报告", main=["330100-gov"], cc=["330106109-gov"]), "subordinate"),
    (dict(doc_type="请示", main=["330100-gov"]), "contact person"),
    (dict(doc_type="批复", main=["330106109-gov"]), "answers a request"),
])
def test_routing_rules(org, kwargs, message):
    c = org.actor("county_clerk")
    doc = df.create_draft(c, title="测试", body="", lead_unit_id=org.unit("330106", "gov").id, **kwargs)
    with pytest.raises(ValidationError, match=message):
        df.submit(c, doc.id)


def test_skipping_allowed_when_the_skipped_organ_is_copied(org):
    c = org.actor("county_clerk")
    doc = df.create_draft(c, doc_type="报告", title="关于灾情的报告", lead_unit_id=org.unit("330106", "gov").id,
                          main=["330000-gov"], cc=["330100-gov"])
    df.submit(c, doc.id)
    assert doc.state == DocState.REVIEW


def test_classified_levels_refused(org):
    with pytest.raises(ValidationError, match="classified"):
        df.create_draft(org.actor("county_clerk"), doc_type="通知", title="x", sensitivity="机密",
                        main=["group:township_governments"])
    with pytest.raises(ValidationError, match="Unknown document type"):
        df.create_draft(org.actor("county_clerk"), doc_type="简报", title="x")
