"""Whom the document pages' pickers offer: the receiving unit's people for assignment and
circulation, its lower units for forwarding; another unit's receipt is not found."""

from __future__ import annotations

import pytest

from office.directory import service as directory
from office.docflow import service as df
from office.errors import NotFound

from .conftest import issue


@pytest.fixture
def county_receipt(org):
    doc = df.create_draft(org.actor("city_clerk"), doc_type="通知", title="关于开展安全检查的通知", body="正文",
                          lead_unit_id=org.unit("330100", "gov").id, main=[org.unit("330106", "gov").id])
    issue(org, doc, clerk="city_clerk", leader="city_leader")
    from office.docflow.models import Receipt
    from office.extensions import db

    return db.session.execute(db.select(Receipt).where(Receipt.document_id == doc.id)).scalar_one()


def names(choices):
    return {c.name for c in choices}


def test_assignment_offers_the_receiving_units_people_only(org, county_receipt):
    clerk = org.actor("county_clerk")
    ctx = str(county_receipt.id)
    people = directory.browse(clerk, "docflow.assign", ctx, unit_id=county_receipt.unit_id)["people"]
    assert {p["name"] for p in people} == {"宋立新", "谢晓东"}  # the county government's people
    assert names(directory.search(clerk, "docflow.circulate", "谢", ctx)) == {"谢晓东"}
    assert directory.search(clerk, "docflow.assign", "罗静", ctx) == []  # the office is another unit
    with pytest.raises(NotFound):
        directory.search(org.actor("other_county_clerk"), "docflow.assign", "谢", ctx)


def test_forwarding_offers_the_lower_units(org, county_receipt):
    found = names(directory.search(org.actor("county_clerk"), "docflow.forward", "人民政府", str(county_receipt.id)))
    assert found and all("三墩镇" in n or "双浦镇" in n for n in found)
