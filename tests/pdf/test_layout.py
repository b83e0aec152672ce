"""GB/T 9704 geometry of seals, joint documents, letters and the 版记 rules; rare characters of the
demo province print as themselves; a character no font holds is reported, not silently boxed."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import date

import pdfplumber
import pytest

from office.config import BASE_DIR
from office.pdf import samples
from office.pdf.parse import parse_body
from office.pdf.render import GRID, render_pdf
from office.pdf.types import Issuer, OfficialDocument
from tests.conftest import login
from tests.pdf.conftest import MM, em_top_mm, pdftotext, squash

RIGHT = GRID.left + GRID.width


def _chars(page, size=None):
    return [c for c in page.chars if c["text"].strip() and (size is None or round(c["size"]) == size)]


def _run(page, text, size=16):
    """The characters of the first occurrence of ``text`` set in ``size`` on ``page``."""
    chars = _chars(page, size)
    s = "".join(c["text"] for c in chars)
    i = s.index(text)
    return chars[i:i + len(text)]


def _span(chars) -> tuple[float, float]:
    return min(c["x0"] for c in chars) / MM, max(c["x1"] for c in chars) / MM


def _seals(page) -> list[dict]:
    return [{k: im[k] / MM for k in ("x0", "x1", "top", "bottom")} for im in page.images]


def _sealed_page(pdf):
    return next(p for p in pdf.pages if p.images)


def test_single_seal_centred_over_issuer_and_date_four_characters_in(app):
    doc = samples.notice()
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        page = _sealed_page(pdf)
        (seal,) = _seals(page)
        name, when = _run(page, "浙江省人民政府"), _run(page, "2026年11月21日")
        # the date ends four characters in from the right edge of the text block
        assert _span(when)[1] == pytest.approx(RIGHT - 4 * GRID.ch, abs=1)
        # the seal is centred over the name and the date, which sit below its centre
        centre = (seal["x0"] + seal["x1"]) / 2
        assert centre == pytest.approx(sum(_span(when)) / 2, abs=1)
        assert centre == pytest.approx(sum(_span(name)) / 2, abs=1)
        middle = (seal["top"] + seal["bottom"]) / 2
        assert seal["top"] < name[0]["top"] / MM and when[0]["bottom"] / MM < seal["bottom"]
        assert middle < (name[0]["top"] + when[0]["bottom"]) / 2 / MM
        # the seal's top is within one line of the text above it
        above = max(c["bottom"] for c in _chars(page, 16) if c["bottom"] / MM < seal["top"]) / MM
        assert seal["top"] - above < GRID.line


def test_joint_sealed_document_every_issuer_its_own_seal_none_touching(app):
    issuers = [Issuer("浙江省人民政府", samples.SEAL), Issuer("浙江省民政厅", samples.SEAL2),
               Issuer("浙江省统计局", samples.SEAL)]
    doc = samples.notice(organ_mark="", issuers=issuers)
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        first = pdf.pages[0]
        # the mark: every issuer's name, red, all spread to one width, 文件 to their right
        big = [c for c in _chars(first) if c["size"] > 30]
        lines: dict[float, list] = {}
        for c in big:
            lines.setdefault(round(c["top"] / MM), []).append(c)
        names = ["".join(c["text"] for c in sorted(v, key=lambda c: c["x0"])) for _, v in sorted(lines.items())]
        assert [n.replace("文件", "") for n in names] == [i.name for i in issuers]
        spans = [_span([c for c in v if c["text"] not in "文件"]) for _, v in sorted(lines.items())]
        assert all(s == pytest.approx(spans[0], abs=1) for s in spans)
        assert all(c["non_stroking_color"][0] > 0.8 and c["non_stroking_color"][1] < 0.1 for c in big)

        page = _sealed_page(pdf)
        seals = _seals(page)
        assert len(seals) == len(issuers)
        for a in range(len(seals)):
            s = seals[a]
            assert GRID.left - 0.5 <= s["x0"] and s["x1"] <= RIGHT + 0.5  # within the text block
            for b in seals[a + 1:]:  # no two seals meet
                apart_x = s["x1"] < b["x0"] - 0.5 or b["x1"] < s["x0"] - 0.5
                apart_y = s["bottom"] < b["top"] - 0.5 or b["bottom"] < s["top"] - 0.5
                assert apart_x or apart_y, (s, b)
        # each seal is centred over its own issuer's name; the last one over the last name and the date
        for issuer, seal in zip(issuers, sorted(seals, key=lambda s: (round(s["top"]), s["x0"])), strict=True):
            name = _run(page, issuer.name)
            assert (seal["x0"] + seal["x1"]) / 2 == pytest.approx(sum(_span(name)) / 2, abs=1)
            assert seal["top"] < name[0]["top"] / MM < seal["bottom"]
        when = _run(page, "2026年11月21日")
        assert (seals[-1]["x0"] + seals[-1]["x1"]) / 2 == pytest.approx(sum(_span(when)) / 2, abs=1)
        assert seals[-1]["top"] < when[0]["top"] / MM < seals[-1]["bottom"]


def _red_rules(page):
    return [r for r in page.rects if r["non_stroking_color"] and r["non_stroking_color"][0] > 0.8]


def _double_lines(page) -> list[list[tuple[float, float]]]:
    """Each red double line as its two rules, top to bottom: [(top, thickness), (top, thickness)] in mm.
    A border is drawn as a rectangle with another cut out of it, so the ink is every other band
    between the distinct edges of overlapping red rectangles."""
    groups: list[list[float]] = []
    for r in sorted(_red_rules(page), key=lambda r: r["top"]):
        top, bottom = round(r["top"] / MM, 2), round(r["bottom"] / MM, 2)
        if groups and top <= max(groups[-1]) + 0.01:
            groups[-1] += [top, bottom]
        else:
            groups.append([top, bottom])
    lines = []
    for edges in groups:
        e = sorted(set(edges))
        lines.append([(e[i], round(e[i + 1] - e[i], 2)) for i in range(0, len(e) - 1, 2)])
    return lines


def test_letter_format(app):
    """信函格式 (GB/T 9704-2012 10.2): mark 30 mm from the top, a red double line 上粗下细 4 mm under it and
    one 上细下粗 20 mm from the foot, both 170 mm and centred on the text block; copy number and urgency
    flush left, the number flush right, the first of them 7/8 of a size-3 character under the line; the
    title two lines under the last of them; no page number on the first page; a 版记 of the CC only."""
    doc = samples.notice(format="letter", organ_mark="", doc_number="浙政办函〔2026〕5号")
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        first = pdf.pages[0]
        mark = [c for c in _chars(first) if c["size"] > 30]
        assert "".join(c["text"] for c in mark) == "浙江省人民政府"
        assert min(em_top_mm(c, first.height) for c in mark) == pytest.approx(30, abs=0.5)  # 30 mm from the top
        mark_bottom = max(em_top_mm(c, first.height) + c["size"] / MM for c in mark)
        rules = _red_rules(first)
        assert all(r["width"] / MM == pytest.approx(170, abs=0.5) for r in rules)  # double lines 170 mm ...
        assert all((r["x0"] + r["x1"]) / 2 / MM == pytest.approx(GRID.left + GRID.width / 2, abs=0.5)
                   for r in rules)  # ... centred on the text block
        top, bottom = _double_lines(first)
        (thick, thick_w), (thin, thin_w) = top
        assert thick_w > thin_w + 0.3 and thin - thick < 2  # 上粗下细, close together
        assert thick == pytest.approx(mark_bottom + 4, abs=0.5)  # 4 mm under the mark
        (thin2, thin2_w), (thick2, thick2_w) = bottom
        assert thick2_w > thin2_w + 0.3 and thick2 - thin2 < 2  # 上细下粗
        assert thick2 + thick2_w == pytest.approx(297 - 20, abs=0.5)  # 20 mm from the foot
        line_bottom = top[1][0] + top[1][1]
        # under the first double line: the copy number and urgency flush left, the number flush right
        number = _run(first, doc.doc_number)
        copy, urgency = _run(first, doc.copy_number), _run(first, doc.urgency)
        assert _span(number)[1] == pytest.approx(RIGHT, abs=0.5)
        assert _span(copy)[0] == pytest.approx(GRID.left, abs=0.5)
        assert _span(urgency)[0] == pytest.approx(GRID.left, abs=0.5)
        assert abs(number[0]["top"] - copy[0]["top"]) < 0.5  # on the same first line
        size3 = 16 / MM
        for run in (number, copy):  # 7/8 of a size-3 character under the line
            assert min(em_top_mm(c, first.height) for c in run) - line_bottom == pytest.approx(size3 * 7 / 8, abs=0.5)
        # the title two lines under the last element (line box to line box)
        title = [c for c in _chars(first) if round(c["size"]) == 22]
        urgency_box_bottom = max(em_top_mm(c, first.height) for c in urgency) + size3 + (GRID.line - size3) / 2
        title_box_top = min(em_top_mm(c, first.height) for c in title) - (GRID.line - 22 / MM) / 2
        assert title_box_top - urgency_box_bottom == pytest.approx(2 * GRID.line, abs=0.7)
        # no mark character hides anything: nothing else overlaps the mark's lines
        assert all(c["top"] / MM > max(m["bottom"] for m in mark) / MM for c in _chars(first, 16))
        assert not [c for c in _chars(first, 14) if c["top"] / MM > 262]  # no page number on the first page
        assert "—2—" in "".join(pdf.pages[1].extract_text().split())
        last = pdf.pages[-1].extract_text()
        assert "抄送" in last and "印发" not in last  # a letter's 版记 has no printing organ or date


def test_joint_mark_centred_as_a_block_with_wenjian_beside_the_names(app):
    """联合行文 (7.2.1): the names one under another, 文件 to their right and centred on them, the whole
    block centred on the text block, its top 35 mm under the text block's top; the number two lines
    under it, the red line 4 mm under the number; each first-row seal's top within a line of the text."""
    issuers = [Issuer("浙江省人民政府", samples.SEAL), Issuer("浙江省民政厅", samples.SEAL2),
               Issuer("浙江省统计局", samples.SEAL)]
    doc = samples.notice(organ_mark="", issuers=issuers)
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        first = pdf.pages[0]
        big = [c for c in _chars(first) if c["size"] > 30]
        wenjian = [c for c in big if c["text"] in "文件"]
        names = [c for c in big if c not in wenjian]
        assert "".join(c["text"] for c in wenjian) == "文件"
        left, right = _span(big)
        assert (left + right) / 2 == pytest.approx(GRID.left + GRID.width / 2, abs=0.5)
        assert _span(wenjian)[0] > _span(names)[1]  # to the right of every name
        top = min(em_top_mm(c, first.height) for c in names)
        bottom = max(em_top_mm(c, first.height) + c["size"] / MM for c in names)
        assert top == pytest.approx(GRID.top + 35, abs=0.5)
        wj_top = min(em_top_mm(c, first.height) for c in wenjian)
        assert wj_top + wenjian[0]["size"] / MM / 2 == pytest.approx((top + bottom) / 2, abs=0.5)
        number = _run(first, doc.doc_number)
        number_top = min(em_top_mm(c, first.height) for c in number)
        assert number_top - bottom == pytest.approx(2 * GRID.line + (GRID.line - 16 / MM) / 2, abs=0.7)
        (line,) = _red_rules(first)
        number_bottom = max(em_top_mm(c, first.height) + 16 / MM for c in number)
        assert line["top"] / MM - number_bottom == pytest.approx(4, abs=0.5)
        assert line["width"] / MM == pytest.approx(GRID.width, abs=0.5)
        assert _span(number)[0] + _span(number)[1] == pytest.approx(2 * GRID.left + GRID.width, abs=1)  # centred
        page = _sealed_page(pdf)
        seals = sorted(_seals(page), key=lambda s: s["top"])
        row = [s for s in seals if abs(s["top"] - seals[0]["top"]) < 0.5]
        assert len(row) == 2  # the first row holds two seals, their tops level
        above = max(c["bottom"] for c in _chars(page, 16) if c["bottom"] / MM < seals[0]["top"]) / MM
        assert 0 < seals[0]["top"] - above < GRID.line


def _rules(page) -> list[tuple[float, float]]:
    """(y, thickness) in mm of every horizontal black rule: a border is drawn as an outer rectangle
    with an inner one cut out, so its thickness is the gap between the two."""
    boxes = {(round(r["x0"], 2), round(r["top"], 2), round(r["x1"], 2), round(r["bottom"], 2)) for r in page.rects
             if r["non_stroking_color"] in ((0,), (0, 0, 0), (0.0, 0.0, 0.0), [0, 0, 0])}
    found = set()
    for o in boxes:
        for i in boxes:
            if i != o and o[0] <= i[0] and i[2] <= o[2] and o[1] <= i[1] and i[3] <= o[3]:
                for y, t in ((o[1], i[1] - o[1]), (i[3], o[3] - i[3])):
                    if t > 0.05 * MM:
                        found.add((round(y / MM, 1), round(t / MM, 2)))
    return sorted(found)


def test_banji_rules_outer_035_middle_025(notice_pdf):
    _, result = notice_pdf
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        rules = _rules(pdf.pages[-1])
        assert [t for _, t in rules] == pytest.approx([0.35, 0.25, 0.35], abs=0.03)
        assert rules[-1][0] + rules[-1][1] == pytest.approx(GRID.top + GRID.height, abs=1)


def _rare_province_characters() -> str:
    """Characters of the province's place names outside GB 2312 (the fonts most likely to lack them)."""
    names = [r["name"] for r in csv.DictReader(open(BASE_DIR / "office" / "data" / "zhejiang-divisions.csv",
                                                    encoding="utf-8"))]
    rare = set()
    for ch in "".join(names):
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            rare.add(ch)
    return "".join(sorted(rare))


# Rare characters of personal names (the demo's people and common given names) and a CJK Ext. B one.
RARE_NAMES = "䢺澂喆堃燚𡐓龚劼昇燊"


def test_rare_characters_print_as_themselves_in_every_face(app):
    rare = _rare_province_characters()
    assert len(rare) >= 10 and "垟" in rare and "峃" in rare  # 三垟街道, 大峃镇 ...
    text = rare + RARE_NAMES
    body = parse_body(f"一、{text}\n（一）{text}。\n{text}。\n1.{text}。")
    doc = OfficialDocument(title=f"关于{text}的通知", issuers=[Issuer(f"{rare[:3]}县人民政府")], body=body,
                           sign_date=date(2026, 11, 21), signers=[RARE_NAMES[:3]], direction="up",
                           doc_number="文政〔2026〕1号", cc=[text], printing_organ=text, print_date=date(2026, 11, 21))
    result = render_pdf(doc)
    assert result.missing_glyphs == ""
    got = squash(pdftotext(result.pdf))
    # headings 黑体 and 楷体 (AR PL UKai lacks 峃), title 小标宋, body 仿宋, 签发人 楷体, 版记
    for part in [doc.title, *(p.text for p in body), "签发人：" + RARE_NAMES[:3], "抄送：" + text + "。",
                 text, "2026年11月21日印发"]:
        assert squash(part) in got, part
    assert set(got) <= set(squash(doc.to_json()) + "".join(doc.mark) + "签发人：抄送。印发年月日文件—0123456789")


NO_FONT = "\U00031350"  # CJK Extension G: no installed font holds it


def test_a_character_no_font_holds_is_reported(app, org, client):
    from office.extensions import db
    from office.pdf.service import request_pdf

    doc = samples.notice(title=f"关于{NO_FONT}村的通知")
    assert render_pdf(doc).missing_glyphs == NO_FONT
    assert render_pdf(samples.notice()).missing_glyphs == ""
    user = org.user("county_clerk")
    req = request_pdf(doc, "通知", user_id=user.id)
    db.session.commit()
    login(client, "county_clerk")
    assert client.get(f"/pdf/r/{req.id}/status").get_json()["missing_glyphs"] == NO_FONT
    page = client.get(f"/pdf/r/{req.id}").get_data(as_text=True)
    assert NO_FONT in page and "pdf-missing" in page and 'class="pdf-missing flash flash-error" role="alert">' in page


def test_sheet_signatures_keep_the_name_and_form_numbers_align_right(app):
    from office.pdf.types import Opinion, OutgoingSheet, ReportForm

    sheet = OutgoingSheet(organ="浙江省人民政府办公厅", title="关于推进协同办公的通知",
                          opinions=[Opinion("签发", "李建国", opinion="同意。", signed_at="2026年11月21日",
                                            signature_png=samples.SEAL)])
    result = render_pdf(sheet)
    text = squash(pdftotext(result.pdf))
    assert "李建国" in text  # the signature image does not replace the printed name
    form = ReportForm(title="统计表", unit="鄞州区人民政府", period="2026年第4季度", columns=["地区", "覆盖率", "单位数"],
                      rows=[["三垟街道", "98%", "1,041"], ["大峃镇", "100%", "7"]])
    with pdfplumber.open(io.BytesIO(render_pdf(form).pdf)) as pdf:
        page = pdf.pages[0]
        rights = {t: _span(_run(page, t, size=round(_run(page, t, size=None)[0]["size"])))[1]
                  for t in ("98%", "100%", "1,041")}
        lefts = {t: _span(_run(page, t, size=round(_run(page, t, size=None)[0]["size"])))[0] for t in ("三垟街道", "大峃镇")}
    assert rights["98%"] == pytest.approx(rights["100%"], abs=0.3)  # numbers flush right in their column
    assert lefts["三垟街道"] == pytest.approx(lefts["大峃镇"], abs=0.3)  # text flush left


FANG = ("Fang", "仿宋")  # FandolFang, FangSong_GB2312 ...


def _face(c) -> str:
    return c["fontname"].split("+", 1)[-1]


def test_pdffonts_shows_a_fangsong_face_for_the_body(notice_pdf, tmp_path):
    """GB/T 9704: body 3号仿宋, level-1 headings 黑体, level-2 楷体, page numbers 宋体 (FandolFang,
    FandolHei, FandolKai, FandolSong when no licensed face is installed)."""
    assert shutil.which("pdffonts"), "pdffonts missing: `make install` installs poppler-utils"
    doc, result = notice_pdf
    path = tmp_path / "notice.pdf"
    path.write_bytes(result.pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    embedded = [line.split()[0].split("+", 1)[-1] for line in out.splitlines()[2:] if line.strip()]
    assert any(f in name for name in embedded for f in FANG), embedded
    with pdfplumber.open(io.BytesIO(result.pdf)) as pdf:
        page = pdf.pages[1]
        body = _run(page, "《党政机关公文格式》规范公文版式")  # a plain body line
        assert all(any(f in _face(c) for f in FANG) for c in body), {_face(c) for c in body}
        assert all(_face(c) in embedded for c in body)  # the face pdffonts lists is the body's
        heading1, heading2 = _run(page, "二、主要任务"), _run(page, "（一）统一公文处理。")
        assert all("Hei" in _face(c) or "黑体" in _face(c) for c in heading1), {_face(c) for c in heading1}
        assert all("Kai" in _face(c) or "楷" in _face(c) for c in heading2), {_face(c) for c in heading2}
        number = [c for c in _chars(page, 14) if c["top"] / MM > 262]
        assert number and all("Song" in _face(c) or "宋" in _face(c) for c in number if c["text"].isdigit())


def test_a_rare_character_from_another_face_keeps_the_line_on_the_grid(app):
    """Fandol holds GB 2312: 喆, 燊, 昇 come from Noto CJK, whose taller ascent must not push their
    line (and every line after it) off the 22-line grid."""
    rare = "联系人：龚劼、王喆、李昇、陈燊、嵊州、衢州。"
    lines = "\n".join(f"{i}.{rare}" if i % 2 else f"{i}.各地要按时报送本地区工作进展情况。" for i in range(1, 60))
    doc = samples.notice(body=parse_body(lines), attachments=[], cc=[], printing_organ="")
    with pdfplumber.open(io.BytesIO(render_pdf(doc).pdf)) as pdf:
        for page in pdf.pages[1:3]:  # full pages
            baselines = sorted({round((page.height - c["matrix"][5]) / MM, 2) for c in _chars(page, 16)})
            assert len(baselines) == GRID.lines  # 22 lines to the page
            pitches = [b - a for a, b in zip(baselines, baselines[1:], strict=False)]
            assert max(pitches) - min(pitches) < 0.05 and min(pitches) == pytest.approx(GRID.line, abs=0.03)
            assert any(_face(c).startswith("Noto") for c in _chars(page, 16))  # fallback glyphs are on them


def test_the_app_points_fontconfig_at_the_fandol_faces_unless_told_otherwise(tmp_path):
    """The Fandol faces lie outside fontconfig's paths: importing office.pdf points FONTCONFIG_FILE at
    the app's file (system set plus their directory), and leaves a deployer's own file alone."""
    import os
    import sys

    from office.config import BASE_DIR

    code = "import os, office.pdf; print(os.environ['FONTCONFIG_FILE'])"
    env = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"}
    ours = subprocess.run([sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert ours == str(BASE_DIR / "office" / "pdf" / "fontconfig" / "fonts.conf")
    if shutil.which("fc-list"):
        families = subprocess.run(["fc-list", ":", "family"], env={**env, "FONTCONFIG_FILE": ours},
                                  capture_output=True, text=True).stdout
        assert all(f in families for f in ("FandolFang", "FandolHei", "FandolKai", "FandolSong"))
    own = tmp_path / "fonts.conf"
    kept = subprocess.run([sys.executable, "-c", code], env={**env, "FONTCONFIG_FILE": str(own)}, cwd=BASE_DIR,
                          capture_output=True, text=True, check=True).stdout.strip()
    assert kept == str(own)
