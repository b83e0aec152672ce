"""Helpers for the document-flow tests: walk a document through the outgoing flow."""

from __future__ import annotations

import pytest

from office.docflow import service as df


def issue(org, doc, *, clerk: str, leader: str):
    """Submit, review, sign off, re-check, number, seal and distribute ``doc``."""
    c, lead = org.actor(clerk), org.actor(leader)
    df.submit(c, doc.id)
    df.review(c, doc.id, approve=True)
    df.signoff(lead, doc.id, opinion="同意")
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
