"""HTML print templates to PDF bytes: one entry point for every module.

``render_pdf(obj)`` takes one of the input dataclasses (office.pdf.types), renders its template
under ``templates/pdf/``, and has WeasyPrint write it with the restricted fetcher and the
configured faces. ``archival=True`` writes PDF/A-3b with XMP metadata (title, issuer, number,
date) taken from the document.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from markupsafe import Markup

from office.pdf import fonts, paging
from office.pdf.fetcher import RestrictedFetcher
from office.pdf.parse import split_heading
from office.pdf.types import cn_date

log = logging.getLogger(__name__)

# Bump when a template changes its output in a way its source hash would not show (CSS in Python).
TEMPLATE_VERSION = "2026.12.1"  # the Fandol faces, 22-line pitch, seal page and 版记 placement (paging.py)
TEMPLATES = {
    "document": "pdf/document.html",
    "outgoing_sheet": "pdf/outgoing_sheet.html",
    "approval_sheet": "pdf/approval_sheet.html",
    "receipt_sheet": "pdf/receipt_sheet.html",
    "report_form": "pdf/report_form.html",
    "archive_catalogue": "pdf/archive_catalogue.html",
}
_SHARED = ["pdf/_base.html", "pdf/_gbt9704.css", "pdf/_sheet.css", "pdf/_opinion.html"]


@dataclass(frozen=True)
class Grid:
    """GB/T 9704-2012 geometry in millimetres."""

    top: float = 37.0
    left: float = 28.0
    width: float = 156.0
    height: float = 225.0
    lines: int = 22
    chars: int = 28
    body_pt: float = 16.0

    @property
    def right(self) -> float:
        return 210.0 - self.left - self.width

    @property
    def bottom(self) -> float:
        return 297.0 - self.top - self.height

    @property
    def line(self) -> float:
        """Line pitch: 22 lines fill the text block. Rounded down to the 4 decimals the CSS prints, so
        that the 22nd line fits (rounded up, 22 lines overran the block by 0.6 µm and pages held 21)."""
        return math.floor(self.height / self.lines * 10000) / 10000

    @property
    def ch(self) -> float:  # character pitch: 28 characters fill a line
        return self.width / self.chars

    @property
    def letter_spacing(self) -> float:
        # A hair tighter than exact so 28 characters never wrap on rounding.
        return self.ch - self.body_pt * 25.4 / 72 - 0.002


GRID = Grid()


def template_version(kind: str) -> str:
    """Declared version plus a hash of the template sources: editing a template invalidates the cache."""
    loader = current_app.jinja_env.loader
    h = hashlib.sha256(TEMPLATE_VERSION.encode())
    for name in [TEMPLATES[kind], *_SHARED]:
        src, _, _ = loader.get_source(current_app.jinja_env, name)
        h.update(src.encode("utf-8"))
    return h.hexdigest()[:16]


def cache_key(obj) -> str:
    payload = obj.kind + "\n" + template_version(obj.kind) + "\n" + obj.to_json()
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def static_dir() -> Path:
    return Path(current_app.static_folder).resolve()


def make_fetcher() -> RestrictedFetcher:
    roots = [static_dir()] + [Path(p) for p in current_app.config.get("PDF_ASSET_ROOTS", [])]
    return RestrictedFetcher(roots)


_NUMBER = re.compile(r"^[-+]?[¥$]?\d[\d,]*(\.\d+)?%?$")


def number_like(value) -> bool:
    """A table cell holding a number (right-aligned in print): 12, -3.5, 1,200, 98%, ¥12.00."""
    return isinstance(value, int | float) or bool(_NUMBER.match(str(value).strip()))


def render_html(obj, fetcher: RestrictedFetcher | None = None, *, signing: bool = False) -> str:
    fetcher = fetcher or make_fetcher()
    faces = fonts.resolve_faces(current_app.config)
    # The app's Jinja environment (autoescaping .html), without request context processors.
    current_app.jinja_env.tests.setdefault("number_like", number_like)
    template = current_app.jinja_env.get_template(TEMPLATES[obj.kind])
    return template.render(
        d=obj, g=GRID, signing=signing, font_css=Markup(fonts.font_css(faces, printed_text(obj))),
        page_number_font=Markup(faces["song"].css("— 0123456789")),
        asset=fetcher.allow_file, static=lambda name: (static_dir() / name).as_uri(),
        cn_date=cn_date, split_heading=split_heading, metadata=metadata(obj),
        fb=lambda text, key="body": fonts.mark_fallbacks(str(text), faces[key].family),
    )


def printed_text(obj) -> str:
    """Every character the input can print (its JSON holds all its text; the rest is ASCII)."""
    return obj.to_json()


def metadata(obj) -> dict:
    """Title/author/subject/keywords for the PDF info dictionary and XMP (via HTML <meta>)."""
    title = getattr(obj, "title", "") or getattr(obj, "fonds", "")
    issuers = getattr(obj, "issuers", None)
    author = "、".join(i.name for i in issuers) if issuers else (
        getattr(obj, "organ", "") or getattr(obj, "unit", "") or "")
    number = getattr(obj, "doc_number", "")
    d = getattr(obj, "sign_date", None)
    subject = " ".join(x for x in (number, cn_date(d) if d else "") if x)
    return {"title": title, "author": author, "subject": subject,
            "keywords": ", ".join(x for x in (number, d.isoformat() if d else "") if x)}


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    seconds: float
    refused: list[str] = field(default_factory=list)
    seals: list = field(default_factory=list)  # SealBox of each seal image (for the signature widget)
    missing_glyphs: str = ""  # characters no installed font holds: they print as empty boxes


_local = threading.local()


def font_config():
    """One WeasyPrint FontConfiguration per thread, reused for every render.

    A fresh one per render (WeasyPrint's default) grows a worker by hundreds of MB over a few dozen
    renders; reused, memory stays flat (bench/pdf_bench.py reports it).
    """
    fc = getattr(_local, "font_config", None)
    if fc is None:
        from weasyprint.text.fonts import FontConfiguration

        fc = _local.font_config = FontConfiguration()
    return fc


def html_to_pdf(html: str, fetcher: RestrictedFetcher | None = None, *, archival: bool = False) -> RenderResult:
    import weasyprint

    fetcher = fetcher or make_fetcher()
    started = time.perf_counter()
    source = weasyprint.HTML(string=html, base_url=static_dir().as_uri() + "/", url_fetcher=fetcher)
    doc = paging.finish(source.render(font_config=font_config()), GRID.line * paging.MM)
    options = {"pdf_variant": "pdf/a-3b"} if archival else {}
    pdf = doc.write_pdf(**options)
    if fetcher.refused:
        log.warning("PDF render refused %d URL(s): %s", len(fetcher.refused), fetcher.refused[:5])
    from office.pdf.sign import seal_boxes

    return RenderResult(pdf, len(doc.pages), time.perf_counter() - started, list(fetcher.refused),
                        seal_boxes(doc))


def render_pdf(obj, *, archival: bool = False, sign_unit: str = "",
               fetcher: RestrictedFetcher | None = None) -> RenderResult:
    """Render ``obj``; ``archival`` writes PDF/A-3b; ``sign_unit`` signs (PAdES) with that unit's
    certificate, the seal image becoming the signature's visible appearance."""
    fetcher = fetcher or make_fetcher()
    signing = bool(sign_unit)
    result = html_to_pdf(render_html(obj, fetcher, signing=signing), fetcher, archival=archival)
    result.missing_glyphs = fonts.missing_glyphs(printed_text(obj))
    if result.missing_glyphs:
        log.error("PDF %s: no installed font holds %s (U+%s): they print as empty boxes; install a font "
                  "that has them (PDF_FONTS)", obj.kind, result.missing_glyphs,
                  ", U+".join(f"{ord(c):04X}" for c in result.missing_glyphs))
    if signing:
        from office.pdf.sign import sign_pdf

        seal = next((i.seal_png for i in getattr(obj, "issuers", []) if i.seal_png), None)
        box = result.seals[0] if result.seals else None
        result.pdf = sign_pdf(result.pdf, sign_unit, seal_png=seal, box=box,
                              reason=metadata(obj)["subject"] or metadata(obj)["title"])
    return result
