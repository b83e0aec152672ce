"""The four faces of an official document and the fast-subsetting check.

GB/T 9704 names four styles: 小标宋 (titles, organ mark), 仿宋 (body), 黑体 (level-1 headings),
楷体 (level-2 headings). Licensed faces are used where installed; otherwise free stand-ins from
Debian packages: the Fandol faces (texlive-lang-chinese: FandolFang 仿宋, FandolSong 宋体, FandolHei
黑体, FandolKai 楷体; found through the app's fontconfig file, see office/pdf/__init__.py), then
fonts-noto-cjk and fonts-arphic-ukai/-uming. Fonts are only ever read from the local fontconfig set:
nothing is fetched at run time.

Override with app config ``PDF_FONTS = {"title": ["My Face", ...], ...}`` (candidates in order).
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

log = logging.getLogger(__name__)

# face -> candidates in order: licensed faces first, then the free Fandol faces (texlive-lang-chinese,
# GPL with the font exception: embedding them does not put a document under the GPL), then Noto CJK /
# AR PL, which every install has.
DEFAULT_FACES: dict[str, list[str]] = {
    "title": ["方正小标宋_GBK", "方正小标宋简体", "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05",
              "Noto Serif CJK SC"],
    "body": ["仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "FandolFang", "AR PL UMing CN",
             "Noto Serif CJK SC"],
    "hei": ["黑体", "SimHei", "FandolHei", "Noto Sans CJK SC"],
    "kai": ["楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "FandolKai", "AR PL UKai CN", "Noto Serif CJK SC"],
    # 宋体: page numbers (GB/T 9704 7.5: 4号半角宋体阿拉伯数字).
    "song": ["宋体", "SimSun", "FandolSong", "AR PL UMing CN", "Noto Serif CJK SC"],
}
FREE = {"FandolFang", "FandolSong", "FandolHei", "FandolKai"}
STANDINS = FREE | {"Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UMing CN", "AR PL UKai CN"}
# Stand-ins that need a heavier weight to look like the licensed face.
BOLD_STANDINS = {"title": {"Noto Serif CJK SC"}}
# Last resort for glyphs missing from the chosen face (rare characters of names and places; the Fandol
# faces hold GB 2312 and little more), closest in style first: a Song face for 仿宋 and 宋体, a sans
# face for 黑体, a Kai face for 楷体.
FALLBACK = ["Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UMing CN", "serif"]
FALLBACK_BY_FACE = {
    "hei": ["Noto Sans CJK SC", "Noto Serif CJK SC", "AR PL UMing CN", "serif"],
    "kai": ["AR PL UKai CN", "Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UMing CN", "serif"],
}


@functools.lru_cache(maxsize=1)
def installed_families() -> frozenset[str]:
    """Family names known to fontconfig (every localised name of every face)."""
    if not shutil.which("fc-list"):
        return frozenset()
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names: set[str] = set()
    for line in out.splitlines():
        names.update(n.strip() for n in line.split(",") if n.strip())
    return frozenset(names)


@dataclass(frozen=True)
class Face:
    key: str
    family: str  # the face chosen
    licensed: bool
    weight: int

    def css(self, text: str | None = None) -> str:
        """The face's family, then fallbacks: all of its fallback order when ``text`` is unknown, else
        only the families that hold a character of ``text`` the face lacks (a short chain is faster)."""
        order = FALLBACK_BY_FACE.get(self.key, FALLBACK)
        chain = [self.family] + (fallbacks_for(self.family, text, order) if text is not None and
                                 installed_families() else [f for f in order if f != self.family])
        return ", ".join(f'"{f}"' if f != "serif" else f for f in chain)


def resolve_faces(config: dict | None = None) -> dict[str, Face]:
    wanted = dict(DEFAULT_FACES)
    wanted.update((config or {}).get("PDF_FONTS") or {})
    have = installed_families()
    faces = {}
    for key, candidates in wanted.items():
        chosen = next((c for c in candidates if c in have), candidates[-1])
        licensed = chosen in have and chosen not in STANDINS
        weight = 700 if chosen in BOLD_STANDINS.get(key, set()) else 400
        faces[key] = Face(key, chosen, licensed, weight)
    return faces


def font_css(faces: dict[str, Face], text: str | None = None) -> str:
    """CSS custom classes for the four faces (inserted before each print template's own CSS);
    ``text`` (every character the document prints) trims each fallback chain to what it needs."""
    rules = []
    for key, face in faces.items():
        rules.append(f".f-{key} {{ font-family: {face.css(text)}; font-weight: {face.weight}; }}")
    return "\n".join(rules)


# --- coverage: which installed family holds which characters -----------------------------------

def _needed(text: str) -> set[str]:
    """The characters that print a glyph (no spaces, controls, format or combining marks)."""
    return {c for c in set(text) if unicodedata.category(c) not in ("Cc", "Cf", "Mn", "Zs", "Zl", "Zp")}


@functools.lru_cache(maxsize=64)
def _charset(family: str) -> tuple[list[int], list[int]]:
    """fontconfig's charset of ``family`` (every face of it) as sorted (starts, ends) ranges."""
    if not shutil.which("fc-list"):
        return [], []
    try:
        out = subprocess.run(["fc-list", "--format", "%{charset}\n", family], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return [], []
    ranges = set()
    for token in out.split():
        lo, _, hi = token.partition("-")
        ranges.add((int(lo, 16), int(hi or lo, 16)))
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):  # faces of one family overlap: merge into disjoint ranges
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [a for a, _ in merged], [b for _, b in merged]


def covers(family: str, ch: str) -> bool:
    starts, ends = _charset(family)
    i = bisect.bisect_right(starts, ord(ch)) - 1
    return i >= 0 and ends[i] >= ord(ch)


@functools.lru_cache(maxsize=4096)
def _any_family_with(ch: str) -> str:
    """Some installed family holding ``ch`` ('' when none does): the last resort for rare characters."""
    if not shutil.which("fc-list"):
        return ""
    try:
        out = subprocess.run(["fc-list", f":charset={ord(ch):x}", "family"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    names = sorted(line.split(",")[0].strip() for line in out.splitlines() if line.strip())
    return names[0] if names else ""


def fallbacks_for(family: str, text: str, order: list[str] = FALLBACK) -> list[str]:
    """The families after ``family`` that the characters of ``text`` need, in ``order``, then any
    installed family for a character none of them has."""
    lacking = {c for c in _needed(text) if not covers(family, c)}
    chain = []
    for f in order:
        if not lacking or f == family or f == "serif":
            continue
        held = {c for c in lacking if covers(f, c)}
        if held:
            chain.append(f)
            lacking -= held
    for c in sorted(lacking):
        f = _any_family_with(c)
        if f and f not in chain and f != family:
            chain.append(f)
    return chain


def mark_fallbacks(text: str, family: str) -> Markup:
    """``text`` escaped, each run of characters that ``family`` lacks wrapped in ``<span class="fb">``.

    A glyph from a fallback face brings that face's ascent and descent into its line, and WeasyPrint
    makes the line taller to hold them (0.7 mm for a Noto CJK glyph in a Fandol line), which would
    push every later line off the 22-line grid; the template gives these spans no line height of
    their own, so the line keeps the paragraph's pitch.
    """
    lacking = {c for c in _needed(text) if not covers(family, c)} if installed_families() else set()
    if not lacking:
        return escape(text)
    runs = re.compile("([" + re.escape("".join(sorted(lacking))) + "]+)")
    return Markup("").join(Markup('<span class="fb">%s</span>') % part if i % 2 else escape(part)
                           for i, part in enumerate(runs.split(text)))


def missing_glyphs(text: str) -> str:
    """The characters of ``text`` that no installed font holds (they would print as empty boxes)."""
    if not installed_families():
        return ""
    known = [f for f in FALLBACK if f != "serif"]
    return "".join(sorted(c for c in _needed(text) if not any(covers(f, c) for f in known)
                          and not _any_family_with(c)))


def harfbuzz_subset_available() -> bool:
    """WeasyPrint subsets fonts fast with libharfbuzz-subset; without it fontTools takes ~100x longer."""
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except Exception:  # noqa: BLE001
        return False
    return bool(harfbuzz_subset) and bool(harfbuzz.hb_version_atleast(4, 1, 0))


def font_report(config: dict | None = None) -> dict:
    faces = resolve_faces(config)
    return {
        "pdf_harfbuzz_subset": "ok" if harfbuzz_subset_available() else
        "MISSING (install libharfbuzz-subset0: PDF rendering ~100x slower)",
        "pdf_fonts": {k: f.family + ("" if f.licensed else " (free stand-in)") for k, f in faces.items()},
    }
