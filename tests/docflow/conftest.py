"""Helpers for the document-flow tests: walk a document through the outgoing flow."""

from __future__ import annotations

import pytest

from office.approvals import service as approvals
from office.docflow import service as df
from office.extensions import db


def approval_task(actor, subject_type: str, subject_id):
    """The actor's open task in his Approvals to-do for that docflow subject."""
    for t in approvals.todo_tasks(actor):
        if t.request.subject_type == subject_type and t.request.subject_id == str(subject_id):
            return t
    return None


def leader_signs(org, leader: str, doc, opinion: str = "同意"):
    """The leader signs the document off in his Approvals to-do (签发 through the approval engine)."""
    actor = org.actor(leader)
    task = approval_task(actor, "docflow.signoff", doc.id)
    assert task is not None, f"{leader} has no sign-off task for document {doc.id}"
    approvals.approve(actor, task.id, opinion=opinion)
    return task


def leader_instructs(org, leader: str, receipt, opinion: str):
    """The leader gives his instruction (批办) by approving his task in Approvals."""
    actor = org.actor(leader)
    task = approval_task(actor, "docflow.instruction", receipt.id)
    assert task is not None, f"{leader} has no instruction task for receipt {receipt.id}"
    approvals.approve(actor, task.id, opinion=opinion)
    return task


# Separated duties: the drafter does not review his own draft. The reviewer of each drafting clerk's
# office, added to the mini organisation when a test first needs him.
REVIEWERS = {
    "prov_clerk": ("prov_staff", "陈志强", "330000", "office", ["staff"]),
    "city_clerk": ("city_staff", "何俊杰", "330100", "office", ["staff"]),
    "county_clerk": ("county_staff", "梁文斌", "330106", "office", ["staff"]),
    "other_county_clerk": ("other_county_staff", "孙倩", "330102", "office", ["staff"]),
    "town_clerk": ("town_staff", "吴丽", "330106109", "gov", ["staff"]),
}


def reviewer(org, clerk: str):
    """The actor who reviews the drafts of ``clerk``'s office (another person than the drafter)."""
    from office.auth.models import User

    if clerk in REVIEWERS:
        username, name, div, fn, roles = REVIEWERS[clerk]
    else:  # any other clerk: a staff member of his own unit
        unit_code = org.post(clerk).unit.code
        div, fn = unit_code.rsplit("-", 1)
        username, name, roles = f"{clerk}_reviewer", "审核员", ["staff"]
    if db.session.execute(db.select(User.id).where(User.username == username)).first() is None:
        org.add_user(username, name, div, fn, roles)
    return org.actor(username)


def submit_and_review(org, doc, clerk: str, opinion: str = ""):
    """The clerk submits his draft; another member of his office passes the review."""
    df.submit(org.actor(clerk), doc.id)
    return df.review(reviewer(org, clerk), doc.id, approve=True, reason=opinion)


def issue(org, doc, *, clerk: str, leader: str):
    """Submit, review (by another member of the office), sign off (in Approvals), re-check, number,
    seal and distribute ``doc``."""
    c = org.actor(clerk)
    submit_and_review(org, doc, clerk)
    leader_signs(org, leader, doc)
    df.recheck(c, doc.id)
    df.allocate_number(c, doc.id)
    df.seal(c, doc.id)
    return df.distribute(c, doc.id)


@pytest.fixture(autouse=True)
def english_messages(app_ctx):
    """Service messages are matched in English (the msgids), whatever the default locale."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture
def province_notice(org):
    doc = df.create_draft(org.actor("prov_clerk"), doc_type="通知", title="关于做好防汛工作的通知",
                          body="各市、县人民政府：\n一、提高认识\n（一）加强领导。\n1. 落实责任。",
                          lead_unit_id=org.unit("330000", "gov").id,
                          main=["group:city_governments", "group:county_governments"], due_days=10)
    return doc
