"""Static files: content-hashed URLs cached for a year, the plain URL still served."""

from __future__ import annotations

import re

from office.assets import IMMUTABLE, content_hashes


def test_pages_link_hashed_static_files_cached_for_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    css = re.search(r'href="(/static/css/office\.css\?v=([0-9a-f]{12}))"', page)
    assert css, "the layout links the stylesheet with its content hash"
    r = client.get(css.group(1))
    assert r.status_code == 200 and r.headers["Cache-Control"] == IMMUTABLE
    plain = client.get("/static/css/office.css")
    assert plain.status_code == 200 and plain.data == r.data
    assert "immutable" not in plain.headers.get("Cache-Control", "")
    # An old hash (a page of an earlier release) gets today's file, not cached for a year.
    old = client.get("/static/css/office.css?v=000000000000")
    assert old.status_code == 200 and "immutable" not in old.headers.get("Cache-Control", "")
    assert client.get("/static/css/missing.css?v=000000000000").status_code == 404


def test_a_changed_file_gets_a_new_hash(tmp_path):
    (tmp_path / "css").mkdir()
    f = tmp_path / "css" / "a.css"
    f.write_text("body{}")
    first = content_hashes(tmp_path)["css/a.css"]
    f.write_text("body{color:red}")
    assert content_hashes(tmp_path)["css/a.css"] != first
