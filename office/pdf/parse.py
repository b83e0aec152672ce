"""Plain text to body paragraphs, recognising the four GB/T 9704 numbering levels.

    一、 (level 1, 黑体)   （一） (level 2, 楷体)   1. (level 3)   （1） (level 4)

Each non-empty line is one paragraph (an official document's natural paragraph); leading
spaces, full-width spaces and tabs are dropped (the layout indents by two characters itself).
The document-flow module reuses ``parse_body`` for text typed into its editor.
"""

from __future__ import annotations

import re

from office.pdf.types import Paragraph

_CN_NUM = "一二三四五六七八九十百零〇"
LEVELS = [
    (1, re.compile(rf"^[{_CN_NUM}]+、")),
    (2, re.compile(rf"^[（(][{_CN_NUM}]+[）)]")),
    (3, re.compile(r"^[0-9０-９]+[.．](?![0-9０-９])")),
    (4, re.compile(r"^[（(][0-9０-９]+[）)]")),
]
_LEADING = re.compile(r"^[\s\u3000\ufeff]+")


def level_of(text: str) -> int:
    for level, pattern in LEVELS:
        if pattern.match(text):
            return level
    return 0


def parse_body(text: str) -> list[Paragraph]:
    paras = []
    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _LEADING.sub("", raw).rstrip()
        if not line:
            continue
        level = level_of(line)
        paras.append(Paragraph(text=line, level=level, heading_only=level in (1, 2) and not _ends_sentence(line)))
    return paras


def _ends_sentence(line: str) -> bool:
    return "。" in line[:-1] or line.endswith(("。", "；", "：", "！", "？"))


def split_heading(p: Paragraph) -> tuple[str, str]:
    """(head, rest): a run-in heading is the text up to and including its first full stop."""
    if p.level not in (1, 2):
        return "", p.text
    if p.heading_only:
        return p.text, ""
    idx = p.text.find("。")
    if idx < 0:
        return p.text, ""
    return p.text[: idx + 1], p.text[idx + 1:]
