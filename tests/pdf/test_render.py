"""Rendered text is the input text (no wrong or missing glyph), and GB/T 9704 geometry holds."""

from __future__ import annotations

import io
from datetime import date

import pdfplumber
import pytest

from office.pdf import samples
from office.pdf.parse import parse_body
from office.pdf.render import GRID, render_pdf
from office.pdf.types import Issuer, OfficialDocument
from tests.pdf.conftest import MM, expected_parts, pdftotext, squash
from tests.pdf.conftest import baseline_mm as _baseline_mm
from tests.pdf.conftest import em_top_mm as _em_top_mm


def test_pdftotext_equals_document_text(notice_pdf):
    doc, result = notice_pdf
    text = squash(pdftotext(result.pdf))
    expected = "".join(squash(p) for p in expected_parts(doc))
    # Same characters: nothing missing, nothing substituted, nothing extra ...
    assert sorted(text) == sorted(expected)
    # ... in reading order, up to the 版记 line (organ left, date right: either order is fine).
    head = expected[: expected.index("抄送")]
    assert text.startswith(head)


def test_rare_characters_of_names_and_places(app):
    body = parse_body(f"一、试点地区\n{samples.RARE}。\n（一）联系人\n龚劼、王喆、李昇、陈燊、嵊州、衢州、丽水、瓯海、鄞州、婺城、磐安、缙云。")
    doc = OfficialDocument(title=f"关于{samples.RARE[:11]}的通知", issuers=[Issuer("缙云县人民政府")],
                           body=body, sign_date=date(2026, 11, 21))
    pdf = render_pdf(doc).pdf
    text = squash(pdftotext(pdf))
    for ch in set(samples.RARE) - set("、"):
        assert ch in text, ch
    assert squash(doc.title) in text
    for p in body:
        assert squash(p.text) in text
    assert set(text) <= set(squash("".join(expected_parts(doc)) + doc.mark))


def _chars(page):
    return [c for c in page.chars if c["text"].strip()]


def test_margins_and_text_block(notice_pdf):
    _, result = notice_pdf
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        assert len(pdf.pages) >= 4
        banji = [c for c in _chars(pdf.pages[-1]) if round(c["size"]) == 14]
        assert GRID.left - 0.5 < min(c["x0"] for c in banji) / MM
        assert max(c["x1"] for c in banji) / MM < GRID.left + GRID.width + 0.5
        text_pages = [p for p in pdf.pages if any(round(c["size"]) == 16 for c in _chars(p))]
        assert len(text_pages) >= 4 and pdf.pages[-1] not in text_pages  # the last face holds only the 版记
        for page in pdf.pages:
            assert abs(page.width / MM - 210) < 0.5 and abs(page.height / MM - 297) < 0.5
        for page in text_pages:
            body = [c for c in _chars(page) if round(c["size"]) == 16]
            left = min(c["x0"] for c in body) / MM
            right = max(c["x1"] for c in body) / MM
            assert abs(left - GRID.left) < 1, left
            assert right <= GRID.left + GRID.width + 1, right
            top = min(_em_top_mm(c, page.height) for c in body)
            assert top >= GRID.top - 1
            # at most 28 full-width characters per line
            lines = {}
            for c in body:
                lines.setdefault(round(_baseline_mm(c, page.height), 1), []).append(c)
            assert max(sum(1 for c in v if ord(c["text"]) > 0x2e80) for v in lines.values()) <= 28


def test_22_lines_per_full_page(notice_pdf):
    _, result = notice_pdf
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        page = pdf.pages[2]
        baselines = sorted({round(_baseline_mm(c, page.height), 1) for c in _chars(page) if round(c["size"]) == 16})
        pitches = [b - a for a, b in zip(baselines, baselines[1:], strict=False)]
        assert min(pitches) == pytest.approx(GRID.line, abs=0.3)
        assert baselines[-1] - baselines[0] <= GRID.height
        first = baselines[0] - GRID.top
        assert first == pytest.approx(GRID.line / 2 + 0.35 * 16 / MM, abs=1.5)


def test_organ_mark_number_red_line_and_title(notice_pdf):
    doc, result = notice_pdf
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        page = pdf.pages[0]
        mark = [c for c in _chars(page) if c["text"] in doc.mark and c["size"] > 30]
        assert mark and all(c["non_stroking_color"][0] > 0.8 and c["non_stroking_color"][1] < 0.1 for c in mark)
        mark_top = min(_em_top_mm(c, page.height) for c in mark)
        assert mark_top == pytest.approx(GRID.top + 35, abs=1)
        cx = (min(c["x0"] for c in mark) + max(c["x1"] for c in mark)) / 2 / MM
        assert cx == pytest.approx(GRID.left + GRID.width / 2, abs=1)

        reds = [r for r in page.rects if r["non_stroking_color"] and r["non_stroking_color"][0] > 0.8]
        assert len(reds) == 1
        line = reds[0]
        assert line["width"] / MM == pytest.approx(156, abs=1)
        assert line["x0"] / MM == pytest.approx(GRID.left, abs=1)
        number = [c for c in _chars(page) if round(c["size"]) == 16 and c["text"] in doc.doc_number
                  and mark_top + 10 < _em_top_mm(c, page.height) < line["top"] / MM]
        number_bottom = max(_baseline_mm(c, page.height) + 0.12 * 16 / MM for c in number)
        assert line["top"] / MM - number_bottom == pytest.approx(4, abs=1)
        mark_bottom = max(_baseline_mm(c, page.height) + 0.12 * c["size"] / MM for c in mark)
        number_top = min(_em_top_mm(c, page.height) for c in number)
        # two blank lines between the mark and the number
        assert number_top - mark_bottom == pytest.approx(2 * GRID.line + (GRID.line - 16 / MM) / 2, abs=1)

        title = [c for c in _chars(page) if round(c["size"]) == 22]
        assert "".join(c["text"] for c in title) == doc.title
        title_top = min(_em_top_mm(c, page.height) for c in title)
        assert title_top - line["bottom"] / MM == pytest.approx(2 * GRID.line + (GRID.line - 22 / MM) / 2, abs=1)


def test_page_numbers_odd_right_even_left(notice_pdf):
    _, result = notice_pdf
    ch14 = 14 / MM
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        assert len(pdf.pages) >= 3
        for n, page in enumerate(pdf.pages, 1):
            nums = [c for c in _chars(page) if round(c["size"]) == 14 and _baseline_mm(c, page.height) > 262]
            if not any(round(c["size"]) == 16 for c in _chars(page)):  # a blank page or the 版记's: unnumbered
                assert nums == []
                continue
            assert "".join(c["text"] for c in nums) == f"—{n}—"
            top = min(_em_top_mm(c, page.height) for c in nums)
            assert top == pytest.approx(GRID.top + GRID.height + 7, abs=1)
            if n % 2:
                right = max(c["x1"] for c in nums) / MM
                assert right == pytest.approx(GRID.left + GRID.width - ch14, abs=1)
            else:
                left = min(c["x0"] for c in nums) / MM
                assert left == pytest.approx(GRID.left + ch14, abs=1)


def test_banji_at_foot_of_last_page(notice_pdf):
    _, result = notice_pdf
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        page = pdf.pages[-1]
        black = [r for r in page.rects if r["non_stroking_color"] in ((0, 0, 0), (0.0, 0.0, 0.0), [0, 0, 0])
                 or r["non_stroking_color"] == (0,)]
        bottom = max(r["bottom"] for r in black) / MM
        assert bottom == pytest.approx(GRID.top + GRID.height, abs=1)
        assert all(r["width"] / MM == pytest.approx(156, abs=1) for r in black)
        for earlier in pdf.pages[:-1]:
            assert "抄送" not in (earlier.extract_text() or "")


def _numbered(page) -> str:
    return "".join(c["text"] for c in _chars(page) if round(c["size"]) == 14 and _baseline_mm(c, page.height) > 262)


def test_banji_goes_to_an_even_last_face_without_a_number(app):
    """Printed double-sided, the 版记 is on the back of the last sheet: an even page. When the text
    ends on an odd page it goes alone onto the next page, unnumbered; when the text fills an even
    page, a blank unnumbered page comes first (GB/T 9704-2012 7.5)."""
    para = samples.NOTICE_BODY.split("\n")[2]
    seen = set()
    for paras, short in ((0, 1), (3, 1), (5, 1), (10, 1), (2, 10)):
        doc = samples.notice(body=parse_body("\n".join([para] * paras + ["短句。"] * short)))
        with app.app_context():
            result = render_pdf(doc)
        with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
            pages = pdf.pages
            assert len(pages) % 2 == 0 and result.pages == len(pages)
            assert "抄送" in pages[-1].extract_text()
            assert all("抄送" not in (p.extract_text() or "") for p in pages[:-1])
            text_ends = max(i for i, p in enumerate(pages, 1) if any(round(c["size"]) == 16 for c in _chars(p)))
            if text_ends == len(pages):  # the text ends on an even page: the 版记 shares it, numbered
                assert _numbered(pages[-1]) == f"—{len(pages)}—"
                seen.add("shared")
            else:  # the 版记 alone on the last page, unnumbered
                assert _numbered(pages[-1]) == ""
                assert not [c for c in _chars(pages[-1]) if round(c["size"]) == 16]
                if text_ends == len(pages) - 2:  # and the blank page before it, unnumbered too
                    assert _chars(pages[-2]) == []
                    seen.add("blank")
                else:
                    assert text_ends == len(pages) - 1
                    seen.add("alone")
    assert seen == {"shared", "alone", "blank"}  # every case was exercised


def test_signature_block_never_alone_on_a_page(app):
    para = samples.NOTICE_BODY.split("\n")[2]
    for n in range(14, 26):
        doc = samples.notice(body=parse_body("\n".join([para] * 3 + ["短句。"] * n)), cc=[], printing_organ="")
        with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
            last = pdf.pages[-1]
            body = [c for c in _chars(last) if round(c["size"]) == 16]
            text = "".join(c["text"] for c in body)
            assert "2026年11月21日" in text
            # something besides the issuer, date and note is on the signature's page
            rest = text.replace("浙江省人民政府", "").replace("2026年11月21日", "").replace(doc.note, "")
            assert len(rest) >= 4, (n, text)


def test_upward_document_number_and_signer(app):
    doc = samples.notice(direction="up", signers=["李建国"], main_recipients=["国务院"], organ_mark="")
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        page = pdf.pages[0]
        sig = next(x for x in _chars(page) if x["text"] == "签")
        line = sorted((c for c in _chars(page) if round(c["size"]) == 16
                       and abs(_baseline_mm(c, page.height) - _baseline_mm(sig, page.height)) < 1),
                      key=lambda c: c["x0"])
        text = "".join(c["text"] for c in line)
        assert text.startswith(doc.doc_number) and text.endswith("签发人：李建国")
        assert min(c["x0"] for c in line) / MM == pytest.approx(GRID.left + GRID.ch, abs=1)
        assert max(c["x1"] for c in line) / MM == pytest.approx(GRID.left + GRID.width - GRID.ch, abs=1)


def test_joint_document_shows_every_issuer(app):
    doc = samples.notice(organ_mark="", issuers=[Issuer("浙江省人民政府", samples.SEAL),
                                                  Issuer("杭州市人民政府", samples.SEAL2)])
    text = squash(pdftotext(render_pdf(doc).pdf))
    assert text.count("浙江省人民政府") >= 2 and text.count("杭州市人民政府") >= 2


@pytest.mark.parametrize("fmt", ["letter", "minutes"])
def test_letter_and_minutes(app, fmt):
    doc = samples.notice(format=fmt, organ_mark="", minutes_attendees=["龚劼", "王喆"])
    text = squash(pdftotext(render_pdf(doc).pdf))
    assert squash(doc.title) in text and squash(doc.body[0].text) in text
    if fmt == "minutes":
        assert "浙江省人民政府纪要" in text and "出席：龚劼，王喆" in text
