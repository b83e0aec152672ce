"""Static files under content-hashed URLs, cached by browsers for a year.

At start-up every file under ``static/`` is hashed once (SHA-256, first 12 hex digits), and
``url_for('static', filename='css/office.css')`` (``static_url`` in templates) writes
``/static/css/office.css?v=3f2a9c0d1b7e``. The static route answers a URL whose ``v`` is the
file's hash with ``Cache-Control: public, max-age=31536000, immutable``: a changed file gets a new
URL, so a browser never asks for a file twice and never keeps a stale one. Without ``v``, or with
an old one, the file is served as before (revalidated), e.g. for ``url()`` references inside CSS.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request, url_for

IMMUTABLE = "public, max-age=31536000, immutable"
PARAM = "v"


def content_hashes(folder: Path) -> dict[str, str]:
    """``{"css/office.css": "<12 hex digits>"}`` for every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()[:12]
            for p in sorted(folder.rglob("*")) if p.is_file()}


def static_url(filename: str) -> str:
    return url_for("static", filename=filename)


def init_app(app: Flask) -> None:
    if not app.static_folder:
        return
    hashes = content_hashes(Path(app.static_folder))
    app.extensions["office_static_hashes"] = hashes

    @app.url_defaults
    def _hashed_static(endpoint, values):
        if endpoint == "static" and PARAM not in values:
            digest = hashes.get(values.get("filename"))
            if digest:
                values[PARAM] = digest

    serve = app.view_functions["static"]

    def static(filename: str):
        resp = serve(filename=filename)
        if resp.status_code == 200 and request.args.get(PARAM) == hashes.get(filename):
            resp.headers["Cache-Control"] = IMMUTABLE
            resp.expires = None
        return resp

    static._office_access = "public"
    app.view_functions["static"] = static
    app.jinja_env.globals["static_url"] = static_url
