"""The four faces of an official document and the fast-subsetting check.

GB/T 9704 names four styles: 小标宋 (titles, organ mark), 仿宋 (body), 黑体 (level-1 headings),
楷体 (level-2 headings). Licensed faces are used where installed; otherwise free stand-ins from
Debian packages (fonts-noto-cjk, fonts-arphic-ukai, fonts-arphic-uming). Fonts are only ever
read from the local fontconfig set: nothing is fetched at run time.

Override with app config ``PDF_FONTS = {"title": ["My Face", ...], ...}`` (candidates in order).
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass

log = logging.getLogger(__name__)

# face -> (candidates, licensed first; CSS font-weight for the chosen stand-in)
DEFAULT_FACES: dict[str, list[str]] = {
    "title": ["方正小标宋_GBK", "方正小标宋简体", "FZXiaoBiaoSong-B05S", "FZXiaoBiaoSong-B05",
              "Noto Serif CJK SC"],
    "body": ["仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "AR PL UMing CN", "Noto Serif CJK SC"],
    "hei": ["黑体", "SimHei", "Noto Sans CJK SC"],
    "kai": ["楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC"],
    "song": ["宋体", "SimSun", "Noto Serif CJK SC", "AR PL UMing CN"],
}
STANDINS = {"Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UMing CN", "AR PL UKai CN"}
# Stand-ins that need a heavier weight to look like the licensed face.
BOLD_STANDINS = {"title": {"Noto Serif CJK SC"}}
# Last resort for glyphs missing from the chosen face (rare characters of names and places).
FALLBACK = ["Noto Serif CJK SC", "Noto Sans CJK SC", "AR PL UMing CN", "serif"]


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

    def css(self) -> str:
        chain = [self.family] + [f for f in FALLBACK if f != self.family]
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


def font_css(faces: dict[str, Face]) -> str:
    """CSS custom classes for the four faces (inserted before each print template's own CSS)."""
    rules = []
    for key, face in faces.items():
        rules.append(f".f-{key} {{ font-family: {face.css()}; font-weight: {face.weight}; }}")
    return "\n".join(rules)


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
