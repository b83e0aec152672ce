"""The code speaks of the code: no references to how work was commissioned, no import circle between
the drafting and sign-off halves of document flow, no approval-engine file past the size the project
splits at."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TICKET = re.compile(r"\bissues? ?#?\d+\b|\bthe issue\b|\bissue's\b", re.IGNORECASE)
TEXT_SUFFIXES = {".py", ".html", ".js", ".css", ".sh", ".md", ".toml", ".cfg"}


def _project_files():
    for top in ("office", "tests", "bench", "templates", "static", "scripts", "migrations"):
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and p.suffix in TEXT_SUFFIXES and "translations" not in p.parts:
                yield p
    for name in ("README.md", "ARCHITECTURE.md", "SECURITY.md", "Makefile", "pyproject.toml", "wsgi.py"):
        if (ROOT / name).exists():
            yield ROOT / name


def test_no_file_refers_to_tickets():
    hits = []
    for p in _project_files():
        if p == Path(__file__).resolve():
            continue
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if TICKET.search(line):
                hits.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "code and docs describe the code, not its commissioning:\n" + "\n".join(hits)


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_signoff_does_not_import_drafting():
    """drafting sends documents to sign-off; sign-off never reaches back into drafting."""
    imported = _imported_modules(ROOT / "office" / "docflow" / "signoff.py")
    assert not any(m == "office.docflow.drafting" or m.startswith("office.docflow.drafting.") for m in imported)


def test_approval_engine_files_stay_small():
    big = {p.name: n for p in (ROOT / "office" / "approvals").glob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not big, f"split these by concern: {big}"
