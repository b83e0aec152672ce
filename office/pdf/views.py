"""Render status (polled by the page) and downloads with RFC 5987 file names."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, jsonify, render_template, request, send_file, url_for
from flask_login import current_user

from office.extensions import db
from office.pdf.models import PdfFile, PdfRequest, PdfStatus
from office.pdf.service import describe_glyphs, downloadable, missing_glyphs
from office.web import current_actor, login_required

bp = Blueprint("pdf", __name__, url_prefix="/pdf")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``filename`` for old clients (ASCII only), ``filename*`` (RFC 5987, UTF-8) for the real name."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in filename)
    if ascii_name.strip("_. ") == "pdf":
        ascii_name = "document.pdf"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _own(request_id: int) -> tuple[PdfRequest, PdfFile]:
    req = db.session.get(PdfRequest, request_id)
    if req is None or req.user_id != current_user.id:
        abort(404)
    return req, db.session.get(PdfFile, req.key)


@bp.get("/r/<int:request_id>")
@login_required
def page(request_id: int):
    req, f = _own(request_id)
    return render_template("pdf/status.html", req=req, file=f, missing=describe_glyphs(missing_glyphs(f)) if f else "")


@bp.get("/r/<int:request_id>/status")
@login_required
def status(request_id: int):
    req, f = _own(request_id)
    body = {"status": f.status, "pages": f.pages, "size": f.size, "filename": req.filename}
    if f.status == PdfStatus.DONE:
        body["download"] = url_for("pdf.download", request_id=req.id)
        if missing_glyphs(f):
            body["missing_glyphs"] = missing_glyphs(f)
            body["missing_glyphs_text"] = describe_glyphs(missing_glyphs(f))
    if f.status == PdfStatus.FAILED:
        body["error"] = "rendering failed"
    return jsonify(body)


@bp.get("/r/<int:request_id>/download")
@login_required
def download(request_id: int):
    req, path = downloadable(current_actor(), request_id)
    resp = send_file(path, mimetype="application/pdf", conditional=True, etag=req.key, max_age=0)
    resp.headers["Content-Disposition"] = content_disposition(req.filename)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/verify", methods=["GET", "POST"])
@login_required
def verify():
    """Upload a signed PDF: valid, or tampered / unsigned / untrusted (the same check as verify-pdf)."""
    from office.pdf.sign import verify_trusting_project_ca

    verdict, name = None, ""
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            abort(400)
        name = upload.filename
        verdict = verify_trusting_project_ca(upload.read())
    return render_template("pdf/verify.html", verdict=verdict, name=name), (200 if verdict is None or verdict.ok
                                                                              else 422)
