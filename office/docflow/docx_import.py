"""A .docx draft imported into the body structure of the editor: one line per paragraph, with the
official numbering levels (一、 （一） 1. （1）) written out, so ``office.pdf.parse.parse_body`` styles
each level exactly as for typed text. Word's automatic numbering and heading styles become the
markers of their level.

Untrusted input: the ZIP is checked before python-docx opens it (size, member count, declared
uncompressed total and ratio, no path tricks; ``zipfile`` enforces the declared sizes when
reading) and any XML part with a DTD is refused (python-docx's lxml parser does not resolve
entities and lxml never fetches from the network, but a DTD has no business in a .docx).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from office.errors import ValidationError
from office.ooxml import check_package
from office.pdf.parse import level_of, parse_body

_CN_DIGITS = "零一二三四五六七八九"


@dataclass
class DocxDraft:
    title: str
    body: str

    @property
    def paragraphs(self):
        return parse_body(self.body)


def _limits() -> tuple[int, int]:
    cfg = current_app.config
    max_in = int(cfg.get("DOCFLOW_MAX_ATTACHMENT_MB", 20)) * 1024 * 1024
    max_out = int(cfg.get("DOCFLOW_DOCX_MAX_UNCOMPRESSED_MB", 50)) * 1024 * 1024
    return max_in, max_out


def check_zip(data: bytes) -> None:
    """Refuse what is not a reasonable .docx before anything parses it."""
    max_in, max_out = _limits()
    check_package(data, kind=".docx", required=("[Content_Types].xml", "word/document.xml"),
                  max_in=max_in, max_out=max_out)


def _cn(n: int) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def marker(level: int, n: int) -> str:
    return {1: f"{_cn(n)}、", 2: f"（{_cn(n)}）", 3: f"{n}.", 4: f"（{n}）"}[level]


_HEADING = re.compile(r"^(heading|标题)\s*([1-4])$", re.IGNORECASE)


def _para_level(p) -> int:
    """The numbering level of a Word paragraph: list level (numPr/ilvl) or heading style; 0 if none."""
    ppr = p._p.pPr
    numpr = ppr.numPr if ppr is not None else None
    if numpr is not None and numpr.numId is not None and numpr.numId.val != 0:
        ilvl = numpr.ilvl.val if numpr.ilvl is not None else 0
        return min(int(ilvl), 3) + 1
    name = (p.style.name if p.style is not None else "") or ""
    m = _HEADING.match(name.strip())
    return int(m.group(2)) if m else 0


def _is_title(p) -> bool:
    name = ((p.style.name if p.style is not None else "") or "").strip().lower()
    return name in ("title", "标题")


def import_docx(data: bytes) -> DocxDraft:
    """Body text (and the title when the draft has a Title paragraph) of a .docx draft."""
    check_zip(data)
    import docx
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - python-docx raises many kinds on a broken file
        raise ValidationError(_("The .docx file could not be read.")) from None
    title = ""
    lines: list[str] = []
    counters = [0, 0, 0, 0, 0]
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            p = Paragraph(child, document)
            text = re.sub(r"[\t\u3000 ]+", lambda m: "　" if "\u3000" in m.group() else " ",
                          p.text).strip()
            if not text:
                continue
            if not title and not lines and _is_title(p):
                title = text
                continue
            level = _para_level(p)
            if level and not level_of(text):
                counters[level] += 1
                for deeper in range(level + 1, 5):
                    counters[deeper] = 0
                text = marker(level, counters[level]) + text
            elif level_of(text):
                lv = level_of(text)
                counters[lv] += 1
                for deeper in range(lv + 1, 5):
                    counters[deeper] = 0
            lines.append(text)
        elif child.tag == qn("w:tbl"):
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    t = " ".join(cell.text.split())
                    if t and (not cells or cells[-1] != t):  # merged cells repeat their text
                        cells.append(t)
                if cells:
                    lines.append("　".join(cells))
    if not lines and not title:
        raise ValidationError(_("The .docx file has no text."))
    return DocxDraft(title=title[:300], body="\n".join(lines))


def import_into(actor, doc_id: int, data: bytes, *, version=None, replace_title: bool = False):
    """Replace a draft's body with an imported .docx (a new revision, like every save)."""
    from office.docflow.drafting import update_draft

    draft = import_docx(data)
    fields = {"body": draft.body}
    if replace_title and draft.title:
        fields["title"] = draft.title
    return update_draft(actor, doc_id, version=version, **fields)
