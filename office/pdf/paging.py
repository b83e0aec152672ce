"""After layout, before the PDF is written: the seal page (GB/T 9704-2012 7.3.5) and the 版记 on the
last face of a double-sided print (7.4, 7.5).

Both work on the boxes WeasyPrint has laid out: lines are moved between pages and respaced, never laid
out again, so a document costs one layout pass whatever happens here.

**Seal page.** The seal (or an unsealed document's issuer and date) never stands on a page without
body text: the template keeps it with the lines before it (``break-before: avoid``), and when they do
not all fit, WeasyPrint carries lines over with it, as many as its keep rules ask (a two-line last
paragraph, the whole attachment list), which can leave a third of the page before empty. The standard
remedies that by adjusting line and character spacing (7.3.5.4); this module does, in this order:

1. *Tighten*: the lines of the page before the seal page are set closer, down to a pitch of 8.5 mm
   instead of 10.23 mm (about 26 lines to the page; 1.5 times the size-3 character, so half a
   character of white stays between lines), so that the lines carried over and the seal come back
   onto it and the seal shares the page with the text above it. The page is tightened as a whole
   (from its top, or on the first page from the 主送机关), so it has one even pitch; the signature
   block keeps its own spacing.
2. *Move lines*: when even that pitch does not hold them, lines go back onto the page before at the
   normal pitch, as many as fit, keeping two lines of text (one when two would leave that page too
   empty) above the seal.

Either way no page the text runs on from keeps room for more than ``MAX_EMPTY_LINES`` lines at its
foot because of the seal. Character spacing is left alone: a changed spacing breaks the lines anew (another layout
of the document, twice the time), and characters that leave the 28-column grid on part of a page show
more than lines set a little closer.

**版记.** Documents are printed on both sides, so the 版记 belongs at the foot of an even page. The
template sets it as a footnote of the last page; here it is lifted off that page and set at the foot of
the last text page when that page is even and has room, else alone on the next even page (after an
unnumbered blank page when the text ends on an even page that cannot hold it), without a page number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MM = 96 / 25.4  # CSS pixels per millimetre
MAX_EMPTY_LINES = 3  # empty lines at the foot of a page whose text runs on


def empty_lines(space: float, line: float) -> int:
    """How many lines of text ``space`` could hold (a part of a line holds none: the first page's body
    is not on the grid, its head being measured in millimetres)."""
    return math.floor(space / line + 0.02)
TIGHTEST_MM = 8.5  # the closest line pitch: 1.5 times the size-3 character (5.64 mm), about 26 lines a page
KEEP_LINES = 2  # lines of text kept above the seal on its page when lines move back
# The blocks whose lines may move: the body from the 主送机关 on (not the head, mark or title).
REGION = {"recipients", "body", "attach", "sign", "note"}
_EPS = 0.01 * MM


@dataclass
class Unit:
    """What moves as one piece: a line, or the signature block (issuer, date and seal)."""

    kind: str  # "line", "seal", "row" (of a joint signature) or "note" (附注 lines, which stay with the seal)
    top: float
    bottom: float
    boxes: list = field(default_factory=list)
    lead: float = 0.0  # the margin before it in an unbroken flow (lost when it starts a page)
    heading: bool = False  # a heading on a line of its own: it never ends a page


def _boxes():
    from weasyprint.formatting_structure import boxes

    return boxes


def _classes(box) -> set[str]:
    el = getattr(box, "element", None)
    if el is None or "::" in (getattr(box, "element_tag", "") or ""):
        return set()
    return set((el.get("class") or "").split())


def _roots(page_box) -> list:
    """The page's boxes of the root element (two when lines of another page were moved onto it)."""
    b = _boxes()
    return [c for c in page_box.children if not isinstance(c, b.MarginBox | b.FootnoteAreaBox)]


def _root(page_box):
    roots = _roots(page_box)
    return roots[0] if roots else None


def _flow_blocks(page_box) -> list:
    """The children of the document's ``.f-body`` block on this page ([] for other templates)."""
    b = _boxes()
    box = _root(page_box)
    for _ in range(4):  # html > body > div.f-body
        if box is None or "f-body" in _classes(box):
            break
        box = next((c for c in box.children if isinstance(c, b.BlockBox)), None)
    return list(box.children) if box is not None and "f-body" in _classes(box) else []


def _lines(box):
    b = _boxes()
    for c in getattr(box, "children", ()):
        if isinstance(c, b.LineBox):
            if c.height > 0:
                yield c
        elif isinstance(c, b.ParentBox) and c.is_in_normal_flow():
            yield from _lines(c)


def _px(value) -> float:
    return float(getattr(value, "value", value) or 0)


def _units(page_box, seen: set) -> list[Unit]:
    """The page's movable units in reading order; ``seen`` holds the elements of earlier pages."""
    b = _boxes()
    units: list[Unit] = []
    for block in _flow_blocks(page_box):
        cls = _classes(block)
        if not cls & REGION:
            continue
        if "joint-sign" in cls:  # rows of two seals five lines apart, each moving on its own; the last
            rows = [r for r in block.children if "jrow" in _classes(r)]  # (issuer, date) keeps its height
            units += [Unit("row" if r is not rows[-1] else "seal", r.position_y, r.position_y + r.margin_height(),
                           [r]) for r in rows]
            continue
        if "sign" in cls:
            top = block.content_box_y()
            units.append(Unit("seal", top, top + block.height, [block]))
            continue
        floats = [c for c in block.descendants() if isinstance(c, b.BlockBox) and c.is_floated()]
        lead = 0.0 if block.element in seen else _px(block.style["margin_top"]) + _px(block.style["padding_top"])
        parts = [c for c in block.children if isinstance(c, b.BlockBox)] if "body" in cls else [block]
        kind, first = "note" if "note" in cls else "line", True
        for part in parts:  # the body's paragraphs, else the block itself
            heading = "hd" in _classes(part)
            for line in _lines(part):
                units.append(Unit(kind, line.position_y, line.position_y + line.height,
                                  [line, *floats] if first else [line], lead if first else 0.0, heading))
                first = False
    seen.update(block.element for block in _flow_blocks(page_box))
    return units


def _area(page_box) -> tuple[float, float]:
    """Top and bottom of the page area (the text block), in CSS pixels."""
    top = page_box.content_box_y()
    return top, top + page_box.height


def _move(units, dy: float) -> None:
    for u in units:
        for box in u.boxes:
            box.translate(0, dy)
        u.top += dy
        u.bottom += dy


def _keep_only(box, ids: set):
    """A copy of ``box`` holding only the paths to the boxes in ``ids`` (None when there are none)."""
    if id(box) in ids:
        return box
    kids = [k for k in (_keep_only(c, ids) for c in getattr(box, "children", ())) if k is not None]
    return box.copy_with_children(kids) if kids else None


def _without(box, ids: set):
    """``box`` without the boxes in ``ids`` (copied only along the paths that lose one)."""
    kids = getattr(box, "children", None)
    if not kids:
        return box
    new, changed = [], False
    for c in kids:
        if id(c) in ids:
            changed = True
            continue
        n = _without(c, ids)
        changed |= n is not c
        new.append(n)
    return box.copy_with_children(new) if changed else box


def seal_page(page_boxes: list, line: float) -> set[int]:
    """Tighten, else move lines, so that the page before the seal page is not left half empty.

    ``page_boxes`` (WeasyPrint PageBoxes, the 版记 already taken off) is changed in place; returns the
    indexes of the pages that changed (a page taken out is not among them). The 版记 does not count:
    when the tightened page cannot hold it too, it goes onto a page of its own (``place_banji``).
    """
    seal_at = next((i for i in range(len(page_boxes) - 1, -1, -1)
                    if any("sign" in _classes(blk) for blk in _flow_blocks(page_boxes[i]))), None)
    if not seal_at or seal_at != len(page_boxes) - 1:
        return set()
    p, s = seal_at - 1, seal_at
    seen: set = set()
    up, us = _units(page_boxes[p], seen), _units(page_boxes[s], seen)
    if not up or not us:
        return set()
    top_p, bottom_p = _area(page_boxes[p])
    if empty_lines(bottom_p - up[-1].bottom, line) <= MAX_EMPTY_LINES:
        return set()
    # 1. Tighten: both pages' units on page p, every line's slot and every space between units scaled
    # by f (a line's glyphs centred in its slot, as on a grid of that pitch); the signature block keeps
    # its height (its issuer and date lines, the seal over them).
    units = up + us
    gaps = [min(up[0].lead, up[0].top - top_p)]  # the blank line under the title on the first page
    gaps += [b.top - a.bottom for a, b in zip(units, units[1:], strict=False)]
    gaps[len(up)] = us[0].lead  # the margin lost at the top of page s
    y0 = up[0].top - gaps[0]
    rigid = sum(u.bottom - u.top for u in units if u.kind == "seal")
    flexible = sum(gaps) + sum(u.bottom - u.top for u in units if u.kind != "seal")
    f = min(1.0, (bottom_p - y0 - rigid) / flexible) if flexible > 0 else 0.0
    if f * line >= TIGHTEST_MM * MM - _EPS:
        y = y0
        for u, gap in zip(units, gaps, strict=True):
            h = u.bottom - u.top
            y += gap * f
            slot = h if u.kind == "seal" else h * f
            # a line's glyphs centred in its slot; a row of seals at the top of its own (rows stay at
            # least 42.5 mm apart at the closest pitch, so 42 mm seals never touch)
            _move([u], y + (0 if u.kind == "row" else (slot - h) / 2) - u.top)
            y += slot
        root_p, root_s = _root(page_boxes[p]), _root(page_boxes[s])
        kids = list(page_boxes[p].children)
        kids.insert(kids.index(root_p) + 1, root_s)
        page_boxes[p].children = kids
        del page_boxes[s]
        return {p}
    # 2. Move lines: the first lines of the seal page back onto page p, keeping two above the seal, or
    # one when two would leave page p too empty.
    seal = next(i for i, u in enumerate(us) if u.kind in ("seal", "row"))
    start = up[-1].bottom + us[0].lead
    k = 0
    for keep in (KEEP_LINES, 1):
        k = 0
        while k < seal - min(keep, seal) and start + us[k].bottom - us[0].top <= bottom_p + _EPS:
            k += 1
        while k and us[k - 1].heading:  # a heading goes with the text under it
            k -= 1
        if k and empty_lines(bottom_p - (start + us[k - 1].bottom - us[0].top), line) <= MAX_EMPTY_LINES:
            break
    if k == 0:
        return set()
    pulled, rest = us[:k], us[k:]
    top_s = _area(page_boxes[s])[0]
    _move(pulled, start - us[0].top)
    _move(rest, top_s - rest[0].top)
    ids = {id(box) for u in pulled for box in u.boxes}
    root_s = _root(page_boxes[s])
    kids = list(page_boxes[p].children)
    kids.insert(kids.index(_root(page_boxes[p])) + 1, _keep_only(root_s, ids))
    page_boxes[p].children = kids
    page_boxes[s].children = [_without(root_s, ids) if c is root_s else c for c in page_boxes[s].children]
    return {p, s}


def _has_content(box) -> bool:
    b = _boxes()
    return box is not None and any((isinstance(x, b.TextBox) and x.text.strip()) or isinstance(x, b.ReplacedBox)
                                   for x in box.descendants())


def take_banji(page_boxes: list):
    """Take the 版记 (the footnote area holding ``.banji``) off the last page; a page that held only
    the 版记 goes. Returns the footnote area box, or None."""
    b = _boxes()
    if not page_boxes:
        return None
    last = page_boxes[-1]
    notes = [c for c in last.children if isinstance(c, b.FootnoteAreaBox)
             and any("banji" in _classes(x) for x in c.descendants())]
    if not notes:
        return None
    last.children = [c for c in last.children if c not in notes]
    if len(page_boxes) > 1 and not any(_has_content(r) for r in _roots(last)):
        page_boxes.pop()
    return notes[0]


def _content_bottom(page_box) -> float:
    """The bottom of the page's last line of text or of its signature block."""
    b = _boxes()
    bottoms = []
    for root in _roots(page_box):
        for x in root.descendants():
            if isinstance(x, b.LineBox) and x.height > 0 and any(
                    isinstance(t, b.TextBox) and t.text.strip() for t in x.descendants()):
                bottoms.append(x.position_y + x.height)
            elif "sign" in _classes(x):
                bottoms.append(x.content_box_y() + x.height)
    return max(bottoms, default=_area(page_box)[0])


def place_banji(page_boxes: list, banji) -> set[int]:
    """Set the 版记 at the foot of the last text page when that page is even and has room, else alone
    on the next even page, unnumbered (after a blank unnumbered page when needed). Returns the indexes
    of the pages that changed or were added."""
    if banji is None:
        return set()
    n = len(page_boxes)
    last = page_boxes[-1]
    if n % 2 == 0 and _content_bottom(last) <= banji.position_y + _EPS:
        last.children = [*last.children, banji]  # the footnote area keeps its place at the page's foot
        return {n - 1}
    if n % 2 == 0:
        page_boxes.append(last.copy_with_children([]))
    page_boxes.append(last.copy_with_children([banji]))
    return set(range(n, len(page_boxes)))


def finish(doc, line: float):
    """The laid-out document with its seal page fitted and its 版记 on the last face."""
    from weasyprint.document import Page

    pages = {id(p._page_box): p for p in doc.pages}
    page_boxes = [p._page_box for p in doc.pages]
    banji = take_banji(page_boxes)
    changed = {id(page_boxes[i]) for i in seal_page(page_boxes, line)}
    if banji is not None:  # the last page lost its 版记
        changed.add(id(page_boxes[-1]))
    changed |= {id(page_boxes[i]) for i in place_banji(page_boxes, banji)}
    if not changed and len(page_boxes) == len(doc.pages):
        return doc
    return doc.copy([Page(pb) if id(pb) in changed or id(pb) not in pages else pages[id(pb)] for pb in page_boxes])
