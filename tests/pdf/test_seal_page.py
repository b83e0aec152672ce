"""GB/T 9704-2012 7.3.5: the seal (or an unsealed document's issuer and date) shares its page with body
text, and no page the text runs on from ends with more than three empty lines.

Documents of 1 to 14 pages, each series a sweep of body lengths one line apart through a whole page
period (or across one in steps), so that the signature block falls at every line of a page, on odd and
even pages, with and without attachments, 附注 and 版记, sealed, unsealed and jointly sealed, in the
文件 and the 信函 format. Empty lines are lines of text that would have fitted (the first page's body
is off the grid by a part of a line, its head being measured in millimetres). Measured
on the PDF with pdfplumber; the text is checked whole with pdftotext (no line lost or doubled when
lines move between pages).
"""

from __future__ import annotations

import io
import math

import pdfplumber
import pytest

from office.pdf import samples
from office.pdf.paging import MAX_EMPTY_LINES, TIGHTEST_MM
from office.pdf.parse import parse_body
from office.pdf.render import GRID, render_pdf
from office.pdf.types import Issuer, cn_date
from tests.pdf.conftest import MM, expected_parts, pdftotext, squash

INTRO = "为深入贯彻落实省委、省政府关于推进数字政府建设的决策部署，进一步提升跨层级协同办公水平，经省政府同意，现就有关事项通知如下。"
PARA = samples.NOTICE_BODY.split("\n")[2]  # three lines
LAST = "各地各部门在执行中遇到的问题，请及时报告省政府办公厅。"  # two lines
BOTTOM = GRID.top + GRID.height
SIZE = 16 / MM  # size 3 (16 pt) in mm


def body(pages: int, lines: int):
    """About ``pages`` pages of headings and three-line paragraphs, then ``lines`` one-line items and a
    two-line closing paragraph: each further item puts the signature block one line lower."""
    text = [INTRO]
    for i in range(pages * 5):
        if i % 5 == 0:
            text.append("一二三四五六七八九十"[i // 5 % 10] + "、重点任务")
        text.append(PARA)
    text += [f"{i}.各地要按时报送本地区工作进展情况。" for i in range(1, lines + 1)]
    return parse_body("\n".join([*text, LAST]))


def document(variant: str, pages: int, lines: int):
    b = body(pages, lines)
    if variant == "plain":  # unsealed, nothing after the date
        return samples.notice(body=b, issuers=[Issuer("浙江省人民政府")], attachments=[], note="", cc=[],
                              printing_organ="")
    if variant == "joint":
        return samples.notice(body=b, organ_mark="", issuers=[
            Issuer("浙江省人民政府", samples.SEAL), Issuer("浙江省民政厅", samples.SEAL2),
            Issuer("浙江省统计局", samples.SEAL)])
    if variant == "letter":
        return samples.notice(body=b, format="letter", organ_mark="", doc_number="浙政办函〔2026〕5号")
    if variant == "attachments":
        return samples.notice(body=b, attachments=[f"第{i}批试点地区名单" for i in range(1, 7)])
    return samples.notice(body=b)  # sealed, two attachments, 附注, 版记


def _rows(page) -> list[tuple[float, str, list]]:
    """(baseline mm, text, chars) of every size-3 line on the page, top to bottom."""
    rows: dict[float, list] = {}
    for c in page.chars:
        if c["text"].strip() and round(c["size"]) == 16:
            rows.setdefault(round((page.height - c["matrix"][5]) / MM, 1), []).append(c)
    return [(y, "".join(c["text"] for c in sorted(cs, key=lambda c: c["x0"])), cs) for y, cs in sorted(rows.items())]


def _signature_rows(doc, rows):
    """The rows that hold only issuer names and the date (the signature block)."""
    parts = sorted([i.name for i in doc.issuers] + [cn_date(doc.sign_date)], key=len, reverse=True)

    def only_signature(text):
        for p in parts:
            text = text.replace(p, "")
        return text == ""

    return [r for r in rows if only_signature(r[1])]


def problems(doc, pdf: bytes) -> list[str]:
    """What is wrong with the seal page and the pages before it (empty when all is well).

    A joint signature of three issuers is two rows of seals, nine lines high: no pitch of 8.5 mm or
    more brings it back under the text when a page has fewer than nine lines left, so there the page
    before may keep less room than the block needs, never more.
    """
    found = []
    rows_of_seals = (len(doc.issuers) + 1) // 2
    allowed = MAX_EMPTY_LINES if rows_of_seals < 2 else 5 * rows_of_seals - 2
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        pages = [_rows(p) for p in opened.pages]
        seal_at = max(i for i, rows in enumerate(pages) if any(cn_date(doc.sign_date) in t for _, t, _ in rows))
        for i, rows in enumerate(pages[:seal_at + 1]):
            if not rows:
                found.append(f"page {i + 1} before the seal page is empty")
                continue
            pitches = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
            if pitches and min(pitches) < TIGHTEST_MM - 0.05:
                found.append(f"page {i + 1}: lines {min(pitches):.2f} mm apart")
            if i < seal_at:
                foot = rows[-1][0] + 0.12 * SIZE + (GRID.line - SIZE) / 2  # the last line's box
                empty = math.floor((BOTTOM - foot) / GRID.line + 0.02)  # lines that would have fitted
                if empty > allowed:
                    found.append(f"page {i + 1}: {empty} empty lines at its foot")
        rows = pages[seal_at]
        signature = _signature_rows(doc, rows)
        text = [r for r in rows if r not in signature and r[1] != doc.note]
        if sum(len(t) for _, t, _ in text) < 4:
            found.append(f"the seal page {seal_at + 1} holds no body text")
        seals = [{k: im[k] / MM for k in ("x0", "x1", "top", "bottom")} for im in opened.pages[seal_at].images]
        if doc.sealed and not seals:
            found.append(f"no seal on the page of the date ({seal_at + 1})")
        for seal in seals:
            for _, t, cs in text:
                if any(c["x0"] / MM < seal["x1"] and seal["x0"] < c["x1"] / MM and c["top"] / MM < seal["bottom"]
                       and seal["top"] < c["bottom"] / MM for c in cs):
                    found.append(f"the seal covers body text: {t}")
        if seals:
            first = min(s["top"] for s in seals)
            above = [c["bottom"] / MM for _, _, cs in text for c in cs if c["bottom"] / MM < first]
            if not above or first - max(above) > GRID.line:
                found.append("the seal's top is more than a line below the text")
        if any(pages[seal_at + 1:]):
            found.append("body text after the seal page")
        if (doc.cc or doc.printing_organ) and len(opened.pages) % 2:
            found.append("the 版记 is not on an even page")
    expected = "".join(squash(p) for p in expected_parts(doc))
    if len(doc.issuers) > 1 and not doc.organ_mark:  # the joint mark: every issuer's name, then 文件
        expected = expected.replace(doc.mark, "".join(i.name for i in doc.issuers) + "文件", 1)
    if sorted(squash(pdftotext(pdf))) != sorted(expected):
        found.append("the text differs from the document's")
    return found


def seal_line(doc, pdf: bytes) -> tuple[int, int]:
    """(page, line of the text block) of the date."""
    with pdfplumber.open(io.BytesIO(pdf)) as opened:
        for i in range(len(opened.pages) - 1, -1, -1):
            for y, t, _ in _rows(opened.pages[i]):
                if cn_date(doc.sign_date) in t:
                    return i + 1, round((y - GRID.top) / GRID.line)
    raise AssertionError("no date")


SERIES = [  # variant, pages of text before the items, item counts
    ("notice", 0, range(0, 23)),  # one and two pages
    ("notice", 1, range(0, 23)),  # three and four pages
    ("notice", 10, range(0, 23, 4)),  # twelve pages and more
    ("plain", 0, range(0, 23, 2)),  # one page, then two
    ("plain", 4, range(1, 23, 2)),
    ("joint", 0, range(0, 23, 3)),  # three issuers: two rows of seals
    ("attachments", 2, range(0, 23, 3)),
    ("letter", 0, range(1, 23, 3)),
]


@pytest.mark.parametrize(("variant", "pages", "lengths"), SERIES,
                         ids=[f"{v}-{p}p-{r.start}to{r.stop - 1}by{r.step}" for v, p, r in SERIES])
def test_seal_shares_its_page_and_no_page_before_is_left_empty(app, variant, pages, lengths):
    failures, positions, page_counts = [], set(), set()
    for n in lengths:
        doc = document(variant, pages, n)
        result = render_pdf(doc)
        failures += [f"{n} items: {p}" for p in problems(doc, result.pdf)]
        positions.add(seal_line(doc, result.pdf))
        page_counts.add(result.pages)
    assert failures == []
    if lengths.step == 1:  # a whole period: the date at many lines of the page, on more than one page
        assert len({line for _, line in positions}) >= 12 and len({page for page, _ in positions}) >= 2, positions
    assert min(page_counts) >= 1 and max(page_counts) <= 16


def test_the_sweep_spans_one_to_twelve_pages(app):
    counts = {render_pdf(document("plain", 0, 0)).pages, render_pdf(document("notice", 10, 22)).pages}
    assert min(counts) == 1 and max(counts) >= 12


def test_the_seal_page_before_the_fix_is_tightened_not_emptied(app):
    """The notice whose last paragraph, attachments and seal did not fit under the text of its page
    (the benchmark's): the page is set at a closer pitch (not under 8.5 mm) and holds them."""
    doc = samples.tightened_notice()
    result = render_pdf(doc)
    assert problems(doc, result.pdf) == []
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        rows = _rows(pdf.pages[1])
        pitches = [b[0] - a[0] for a, b in zip(rows, rows[1:], strict=False)]
        assert TIGHTEST_MM - 0.05 <= min(pitches) < GRID.line - 0.3  # tightened ...
        assert pdf.pages[1].images  # ... and the seal is on that page, under the text
        assert LAST in "".join(t for _, t, _ in rows)
