"""The organisation directory (组织机构): the tree of divisions and zones, search, a unit's page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from office.auth.scope import path_in_scope
from office.errors import NotFound
from office.extensions import db
from office.org import service, tree
from office.org.models import Division, Unit
from office.web import current_actor, login_required, register_nav

bp = Blueprint("org", __name__, url_prefix="/org")

LEVEL_LABELS = {"province": _l("Province"), "city": _l("City"), "county": _l("County"),
                "township": _l("Township")}
KIND_LABELS = {"government": _l("Government"), "general_office": _l("General office"),
               "department": _l("Department")}
CHANGE_LABELS = {"created": _l("Created"), "renamed": _l("Renamed"), "recoded": _l("Code changed"),
                 "moved": _l("Moved"), "level": _l("Rank changed"), "merged": _l("Merged in"),
                 "zone_in": _l("Handed to a zone"), "zone_out": _l("Back from a zone"), "retired": _l("Retired")}


@bp.record_once
def _on_register(state):
    register_nav(state.app, "org", _l("Organisation"), "org.index", 80,
                 visible=lambda a: a.unit_id is not None or a.is_system)


@bp.context_processor
def _labels():
    from office.admin.views import ROLE_LABELS

    return {"level_labels": LEVEL_LABELS, "kind_labels": KIND_LABELS, "change_labels": CHANGE_LABELS,
            "role_labels": ROLE_LABELS}


def _division_or_404(code: str) -> Division:
    d = db.session.execute(select(Division).where(Division.code == code)).scalar_one_or_none()
    if d is None:
        raise NotFound(_("Not found."))
    return d


@bp.get("/")
@login_required
def index():
    actor = current_actor()
    q = (request.args.get("q") or "").strip()[:50]
    hits = tree.search(q) if q else []
    return render_template("org/tree.html", q=q, hits=hits, roots=[] if q else tree.open_branch(actor.unit_path),
                           mine=actor.unit_path)


@bp.get("/divisions/<code>/children")
@login_required
def children(code: str):
    """The next level of the tree, as the list the page inserts when a node is expanded."""
    d = _division_or_404(code)
    return render_template("org/_nodes.html", nodes=tree.children(d), mine=current_actor().unit_path)


@bp.get("/divisions/<code>")
@login_required
def division(code: str):
    d = _division_or_404(code)
    gov = service.government_of(d)
    if gov is not None:
        return redirect(url_for("org.unit", unit_id=gov.id))
    return _page(d, None)


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    u = db.session.get(Unit, unit_id)
    if u is None:
        raise NotFound(_("Not found."))
    return _page(u.division, u)


def _page(d: Division, u: Unit | None):
    from office.auth.service import people_of

    actor = current_actor()
    in_scope = bool(u) and path_in_scope(actor, u.path)
    file_parent = db.session.get(Division, d.gb_parent_id) if d.administered_by_zone else None
    carved = list(db.session.execute(select(Division).where(Division.gb_parent_id == d.id,
                                                            Division.parent_id != d.id)).scalars())
    return render_template(
        "org/unit.html", division=d, unit=u, trail=tree.ancestors(d), organs=tree.organs_of(d),
        kids=tree.children(d), people=people_of(u.id) if in_scope else [], in_scope=in_scope,
        superior=u.superior if u else None, file_parent=file_parent, carved=carved,
        zone_of={c.id: db.session.get(Division, c.parent_id) for c in carved}, history=tree.history(d),
        chain=service.government_chain(u) if u else [], mine=actor.unit_path)
