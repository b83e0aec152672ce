"""The demo's documents follow separated duties: another member of the office reviews each draft, the
leaders sign with their stored signatures; only the one-clerk township combines duties, recorded."""

from __future__ import annotations

from sqlalchemy import select

from office.actor import Actor
from office.approvals import service as approvals
from office.approvals import sheet
from office.demo import run_demo
from office.docflow import demo as docflow_demo
from office.docflow.models import DocEvent, Document
from office.extensions import db

SYSTEM = Actor.system("test")


def test_demo_documents_have_separated_duties(app):
    run_demo(app, with_steps=False)
    docflow_demo.build()
    docs = db.session.execute(select(Document).where(Document.reviewed_by_id.isnot(None))).scalars().all()
    assert len(docs) >= 10
    combined = [d for d in docs if d.reviewed_by_id == d.drafter_id]
    assert [d.title for d in combined] == ["三墩镇人民政府关于防汛工作落实情况的报告"]
    assert all(d.signed_by_id not in (d.drafter_id, d.reviewed_by_id) for d in docs if d.signed_by_id)
    exceptions = db.session.execute(select(DocEvent.document_id).where(DocEvent.action == "duty_exception")).scalars()
    assert list(exceptions) == [combined[0].id]
    notice = db.session.execute(select(Document).where(Document.title == "浙江省人民政府关于切实做好防汛防台工作的通知",
                                                       Document.forwards_document_id.is_(None))).scalar_one()
    assert (notice.drafter_name, notice.reviewer_name, notice.signer_name) == ("王晓燕", "陈志强", "李建国")
    s = sheet.build_sheet(approvals.get_request(SYSTEM, notice.signoff_request_id))
    assert s.opinions[0].role == "签发" and s.opinions[0].signature_png  # the leader's stored signature
    town = sheet.build_sheet(approvals.get_request(SYSTEM, combined[0].signoff_request_id))
    assert town.notes == ["拟稿与审核由同一人（邓春燕）办理，经本单位设置允许一人兼岗。"]
