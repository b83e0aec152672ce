"""Security fixtures: records of every kind owned by 上城区 (330102) and its township, and attackers
of every role in the unrelated 海曙区 (330203) and its township."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from office.actor import Actor
from office.extensions import db

# Every record of the victim county carries this string in its title or name; an attacker's
# response must never contain it.
MARK = "MARK7Q9Z"
SYSTEM = Actor.system("test")
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (username, name, division, unit function, roles, rank): the attackers, none related to 上城区.
ATTACKERS = [
    ("hs_clerk", "海曙文书", "330203", "office", ["clerk"], None),
    ("hs_leader", "海曙区长", "330203", "gov", ["leader"], 1),
    ("hs_admin", "海曙管理员", "330203", "office", ["unit_admin"], None),
    ("hs_sysadmin", "海曙系统管理员", "330203", "office", ["sys_admin"], None),
    ("hs_secadmin", "海曙安全管理员", "330203", "office", ["sec_admin"], None),
    ("hs_auditor", "海曙审计员", "330203", "office", ["audit_admin"], None),
    ("nm_staff", "南门科员", "330203001", "gov", ["staff"], None),
]


@dataclass
class Foreign:
    """Ids of the victim county's records, by kind."""

    ids: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, key):
        return self.ids[key]


def png() -> bytes:
    from tests.approvals.test_views import png as make

    return make()


def build_foreign(org) -> Foreign:
    """Records of every kind in 上城区: a distributed document with an attachment and its receipt, a
    stand-alone approval request with an attachment, its open task, a unit flow, a signature, a form
    task and submission, a notification, a shared dataset, a rendered PDF, a user and his post."""
    from office.approvals import flows, standalone
    from office.approvals import service as approvals
    from office.docflow import service as df
    from office.docflow.models import Receipt
    from office.forms import service as forms
    from office.forms.models import Submission
    from office.notifications.models import Notification
    from office.notifications.service import notify
    from office.pdf.models import PdfRequest
    from tests.docflow.conftest import issue
    from tests.forms.conftest import ELEMENTS, POP_FORM

    org.add_user("sc_leader", "上城区长", "330102", "gov", ["leader"], 1)
    org.add_user("qb_clerk", "清波文书", "330102001", "gov", ["clerk"])
    clerk = org.actor("other_county_clerk")
    leader = org.actor("sc_leader")
    f = Foreign()

    # A document, with an attachment, issued to the county's township: one receipt there.
    doc = df.create_draft(clerk, doc_type="通知", title=f"关于{MARK}的通知", body=f"正文{MARK}",
                          lead_unit_id=org.unit("330102", "gov").id, main=["group:township_governments"],
                          note=f"备注{MARK}")
    att = df.add_attachment(clerk, doc.id, f"附件{MARK}.pdf", PDF_BYTES)
    approvals.save_signature(leader, png())
    issue(org, doc, clerk="other_county_clerk", leader="sc_leader")
    receipt = db.session.execute(db.select(Receipt).where(Receipt.document_id == doc.id)).scalars().first()
    f.ids.update(doc=doc.id, doc_attachment=att.id, receipt=receipt.id)
    f.ids["signature"] = approvals.current_signature(leader.user_id).id
    # A draft too (edit, import and upload routes act on drafts).
    draft = df.create_draft(clerk, doc_type="通知", title=f"草稿{MARK}", body=f"草稿正文{MARK}",
                            lead_unit_id=org.unit("330102", "gov").id, main=["group:township_governments"])
    f.ids["draft"] = draft.id

    # A unit flow of the county and a stand-alone request through it, with an attachment.
    flow = flows.save_flow(SYSTEM, key="sc-flow", name=f"上城流程{MARK}", subject_type="request",
                           unit_id=org.unit("330102", "office").id,
                           definition={"nodes": [{"name": "区长审批", "type": "single",
                                                  "assignees": {"kind": "user", "users": ["sc_leader"]}}]})
    req = standalone.submit(clerk, title=f"请示{MARK}", body=f"请示正文{MARK}", flow=flow,
                            attachments=[(f"清单{MARK}.pdf", PDF_BYTES)])
    task = next(t for t in approvals.todo_tasks(leader) if t.request_id == req.id)
    f.ids.update(flow=flow.id, request=req.id, task=task.id,
                 request_attachment=standalone.item_and_attachments(req)[1][0].id)

    # A form task issued by the county to its township, and the township's submission.
    for e in ELEMENTS:
        forms.create_element(SYSTEM, **e)
    forms.create_template(SYSTEM, code="POP", name="Population form", definition=POP_FORM, owner_function="tj")
    ftask = forms.issue_task(clerk, template_code="POP", period="2025Q3", deadline=datetime(2025, 10, 15, 23, 59),
                             title=f"人口{MARK}")
    sub = db.session.execute(db.select(Submission).where(
        Submission.task_id == ftask.id, Submission.unit_id == org.unit("330102001").id)).scalar_one()
    forms.save(org.actor("qb_clerk"), sub.id, {"POP_MALE": "12345", "POP_FEMALE": "23456"})
    f.ids.update(form_task=ftask.id, submission=sub.id, template="POP")

    # A shared dataset with rows only for the county's township.
    ds = forms.import_dataset(org.actor("other_county_admin"), name=f"数据{MARK}", source_name=f"来源{MARK}",
                              as_of=date(2025, 9, 30),
                              data="division_code,element_code,period,value\n330102001,POP_TOTAL,2025Q3,777\n")
    f.ids["dataset"] = ds.id

    # A notification and a rendered PDF of the document, both the victim clerk's.
    victim = org.user("other_county_clerk")
    notify([victim.id], "info", f"通知{MARK}", body=f"内容{MARK}", url=f"/documents/{doc.id}")
    db.session.commit()
    f.ids["notification"] = db.session.execute(db.select(Notification.id).where(
        Notification.user_id == victim.id)).scalars().first()
    pdf_req = df.request_document_pdf(clerk, doc.id)
    f.ids["pdf"] = pdf_req.id
    db.session.expire_all()
    from office.pdf.models import PdfFile, PdfStatus

    assert db.session.get(PdfFile, db.session.get(PdfRequest, pdf_req.id).key).status == PdfStatus.DONE

    f.ids.update(user=victim.id, post=org.post("other_county_clerk").id, unit=org.unit("330102", "office").id,
                 division="330102")
    return f


@pytest.fixture
def foreign(org) -> Foreign:
    from flask_babel import force_locale

    with force_locale("en"):
        return build_foreign(org)


@pytest.fixture
def attackers(org):
    for username, name, div, fn, roles, rank in ATTACKERS:
        org.add_user(username, name, div, fn, roles, rank)
    return [a[0] for a in ATTACKERS]
