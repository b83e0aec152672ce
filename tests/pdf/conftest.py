"""Shared helpers for the PDF tests: text extraction (pdftotext) and geometry (pdfplumber)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

MM = 72 / 25.4
EM_TOP = 0.88  # Noto CJK: the ideographic em box spans 0.88 em above the baseline


def baseline_mm(c, page_height):
    return (page_height - c["matrix"][5]) / MM


def em_top_mm(c, page_height):
    """Top of a character's em box (the face's own ascent varies; the em box does not)."""
    return baseline_mm(c, page_height) - EM_TOP * c["size"] / MM


def pdftotext(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "pdftotext missing: `make install` installs poppler-utils"
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")


def squash(text: str) -> str:
    """No whitespace, no page numbers (a paragraph may run across a page break)."""
    text = re.sub(r"—\s*\d+\s*—", "", text)
    return re.sub(r"\s+", "", text)


def expected_parts(doc) -> list[str]:
    """Every text an official document prints, in reading order (the 版记's organ and date either way)."""
    from office.pdf.types import cn_date

    parts = [doc.copy_number, doc.urgency, doc.mark, doc.doc_number, doc.title]
    parts += ["，".join(doc.main_recipients) + "："] if doc.main_recipients else []
    parts += [p.text for p in doc.body]
    if doc.attachments:
        parts += ["附件："] + ([f"{i}.{a}" for i, a in enumerate(doc.attachments, 1)] if len(doc.attachments) > 1
                             else doc.attachments)
    parts += [i.name for i in doc.issuers] + [cn_date(doc.sign_date), doc.note]
    parts += ["抄送：" + "，".join(doc.cc) + "。"] if doc.cc else []
    parts += [cn_date(doc.print_date) + "印发", doc.printing_organ] if doc.printing_organ and doc.format != "letter" else []
    return [p for p in parts if p]


@pytest.fixture(scope="module")
def notice_pdf(app):
    from office.pdf import samples
    from office.pdf.render import render_pdf

    with app.app_context():
        doc = samples.notice()
        return doc, render_pdf(doc)
