"""Official PDFs: one rendering service for every module (GB/T 9704 documents, approval and
receipt sheets, filled forms, archive catalogues), cached, rendered in background jobs,
optionally PDF/A and PAdES-signed. See office/pdf/README.md."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

log = logging.getLogger(__name__)

# fontconfig reads FONTCONFIG_FILE when WeasyPrint builds its font set and when fonts.py runs fc-list:
# the app's file adds the Fandol faces of texlive-lang-chinese (outside fontconfig's own paths) to the
# system's set. Set before anything below imports WeasyPrint; a deployer's own value wins.
FONTCONFIG_FILE = Path(__file__).resolve().parent / "fontconfig" / "fonts.conf"
os.environ.setdefault("FONTCONFIG_FILE", str(FONTCONFIG_FILE))

pki_cli = AppGroup("pki", help="The project-managed demo CA for signing PDFs.")


@pki_cli.command("init")
@click.option("--unit", "units", multiple=True, help="Unit code (default: every unit in the database).")
def pki_init(units):
    """Create the demo root CA and a signing certificate per unit under STORAGE_DIR/pki."""
    from office.pdf import pki

    root = pki.init_root()
    click.echo(f"root CA: {root}")
    rows = []
    try:
        from office.extensions import db
        from office.org.models import Unit

        q = db.select(Unit.code, Unit.name)
        if units:
            q = q.where(Unit.code.in_(units))
        rows = list(db.session.execute(q).all())
    except Exception as exc:  # noqa: BLE001 - no database yet: certificates for the named units only
        log.warning("pki init: could not list units (%s)", exc)
    known = {code for code, _ in rows}
    rows += [(u, u) for u in units if u not in known]
    if not rows:
        rows = [("demo", "office demo unit")]
    for code, name in rows:
        click.echo(f"unit {code}: {pki.issue_unit(code, name)}")


@click.command("verify-pdf")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Extra trusted root certificates (PEM or DER); the project root CA is always trusted.")
def verify_pdf_cmd(path, trust):
    """Report whether a signed PDF is valid or tampered (exit code 1 when not valid)."""
    from office.pdf.sign import verify_trusting_project_ca

    verdict = verify_trusting_project_ca(Path(path).read_bytes(), [Path(t) for t in trust])
    for line in verdict.lines:
        click.echo(line)
    click.echo("VALID" if verdict.ok else "NOT VALID (tampered, unsigned or untrusted)")
    if not verdict.ok:
        sys.exit(1)


def init_app(app: Flask) -> None:
    from office.pdf import models, service  # noqa: F401 - tables and the pdf.render job
    from office.pdf.fonts import font_report, harfbuzz_subset_available, installed_families, resolve_faces
    from office.pdf.views import bp
    from office.web import register_health_check

    app.register_blueprint(bp)
    app.cli.add_command(pki_cli)
    app.cli.add_command(verify_pdf_cmd)

    if not harfbuzz_subset_available():
        log.error("=" * 78)
        log.error("libharfbuzz-subset0 is MISSING: WeasyPrint falls back to fontTools and PDF rendering "
                  "is ~100x slower (seconds per document). Install it: scripts/install-system-deps.sh")
        log.error("=" * 78)

    body = resolve_faces(app.config)["body"].family
    if installed_families() and not any(k in body for k in ("仿宋", "FangSong", "Fang")):
        log.warning("PDF body face is %s, not a 仿宋 face as GB/T 9704 asks: install texlive-lang-chinese "
                    "(scripts/install-system-deps.sh) or a licensed 仿宋_GB2312 (PDF_FONTS)", body)

    def _health() -> dict:
        return font_report(current_app.config)

    register_health_check(app, _health)
