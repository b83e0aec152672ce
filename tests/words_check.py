"""The words checker: what a person sees on a page, a PDF, an Excel file or an e-mail, and the two
kinds of words that must not be there: a catalogue id left untranslated, and the code's own
identifiers (node kinds, states, module, job and subject names, audit action keys, role keys).

``visible_text(html)`` keeps the text nodes and the attributes a person reads (title, placeholder,
aria-label, alt, the value of buttons); ``Checker(locale).problems(chunks)`` names what is wrong.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "office" / "translations"
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")

SKIP_TAGS = {"script", "style", "template", "noscript", "textarea"}  # a textarea holds what the user typed
READ_ATTRS = ("title", "placeholder", "aria-label", "alt", "aria-description")
BUTTON_INPUTS = {"submit", "button", "reset"}
INLINE = {"a", "b", "i", "em", "strong", "abbr", "br"}


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._skip = 0
        self._text: list[str] = []

    def _flush(self):
        text = " ".join("".join(self._text).split())
        if text:
            self.chunks.append(text)
        self._text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in SKIP_TAGS:
            self._skip += 1
            if tag == "textarea" and a.get("placeholder"):
                self.chunks.append(" ".join(a["placeholder"].split()))
            return
        # Emphasis and links do not break a sentence; blocks, cells and spans (tags, labels) do.
        if tag not in INLINE:
            self._flush()
        for name in READ_ATTRS:
            if a.get(name):
                self.chunks.append(" ".join(a[name].split()))
        if tag == "input" and (a.get("type") or "").lower() in BUTTON_INPUTS and a.get("value"):
            self.chunks.append(a["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in SKIP_TAGS:
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if tag not in INLINE:
            self._flush()

    def handle_data(self, data):
        if not self._skip:
            self._text.append(data)

    def close(self):
        super().close()
        self._flush()


def visible_text(html: str) -> list[str]:
    """The pieces of text a person reads on the page (each text block and each read attribute)."""
    p = _Visible()
    p.feed(html)
    p.close()
    return p.chunks


def _catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def _singular(m) -> str:
    return m.id[0] if isinstance(m.id, (list, tuple)) else m.id


def _msgstr(m) -> str:
    return m.string[0] if isinstance(m.string, (list, tuple)) else (m.string or "")


def untranslated_patterns(locale: str) -> list[str]:
    """The catalogue texts that must not appear on a page in ``locale``: the msgids whose translation
    differs from them (on a zh_CN page an English msgid means a string went out untranslated).
    A msgid with placeholders gives its literal pieces of two words or more."""
    out: set[str] = set()
    for m in _catalogue(locale):
        msgid = _singular(m) if m.id else ""
        if not msgid or not _msgstr(m) or _msgstr(m) == msgid:
            continue
        if locale.startswith("zh") and not re.search(r"[A-Za-z]{2}", msgid):
            continue
        for piece in PLACEHOLDER.split(msgid):
            piece = " ".join(piece.split()).strip(" :;,.()·-→")
            words = re.findall(r"[A-Za-z]+", piece)
            if not words:
                continue
            # A single word is checked only when it is the whole msgid (a label); parts need two words.
            if len(words) >= 2 or (piece == msgid and len(piece) >= 3):
                out.add(piece)
    return sorted(out, key=len, reverse=True)


def _word_regex(words) -> re.Pattern | None:
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return None
    alt = "|".join(re.escape(w) for w in words)
    # Whole words: not inside an identifier, a path, an e-mail address or a code like 330106-gov.
    return re.compile(rf"(?<![\w\-/@.])(?:{alt})(?![\w\-/@]|\.\w)")


class Checker:
    """Finds untranslated catalogue ids and internal tokens in the visible text of one locale."""

    def __init__(self, locale: str, tokens, *, msgids=None):
        self.locale = locale
        self.zh = locale.startswith("zh")
        self.msgids = _word_regex(untranslated_patterns(locale) if msgids is None else msgids)
        tokens = set(tokens)
        # An identifier that is also an English word ("single", "pending", "all") is an internal token
        # on an English page only when it stands alone (a table cell, a tag, an attribute) or is
        # written like code; on a Chinese page any occurrence is.
        self.coded = {t for t in tokens if not re.fullmatch(r"[a-z]+", t)}
        self.plain = tokens - self.coded
        self.tokens = _word_regex(tokens if self.zh else self.coded)

    def problems(self, chunks) -> list[str]:
        found = []
        for chunk in chunks:
            if self.msgids is not None:
                for m in self.msgids.finditer(chunk):
                    found.append(f"untranslated {m.group(0)!r} in {chunk[:120]!r}")
            if self.tokens is not None:
                for m in self.tokens.finditer(chunk):
                    found.append(f"internal token {m.group(0)!r} in {chunk[:120]!r}")
            if not self.zh:
                for piece in re.split(r"\s*[:·|,;]\s*", chunk):
                    if piece in self.plain:
                        found.append(f"internal token {piece!r} in {chunk[:120]!r}")
        return found


def internal_tokens(app) -> set[str]:
    """The code's own identifiers, read from the code and the demo's database: enums and state
    constants, modules and blueprints, job handlers, subject types, inbox sources, role keys, audit
    action keys (those in the code and those recorded)."""
    from sqlalchemy import select

    import office
    from office.approvals import subjects
    from office.approvals.models import NodeType, RequestState, TaskState
    from office.audit.models import AuditEvent
    from office.auth.models import Role
    from office.docflow.models import DocState, ReceiptState
    from office.extensions import db
    from office.forms.models import Aggregation, PeriodType, Source, SubmissionState, ValueType
    from office.inbox import service as inbox
    from office.jobs import service as jobs

    tokens: set[str] = set()
    for enum in (NodeType, RequestState, TaskState, Role, Source, SubmissionState, ValueType, Aggregation,
                 PeriodType):
        tokens |= {e.value for e in enum}
    for cls in (DocState, ReceiptState):
        tokens |= {v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}
    tokens |= {m.rsplit(".", 1)[-1] for m in office.MODULES} - {"web"}
    tokens |= set(app.blueprints)
    tokens |= set(jobs._handlers)
    tokens |= {s.key for s in subjects.subject_types()}
    tokens |= {s.key for s in inbox.sources()} | set(inbox._lines)
    tokens |= set(db.session.execute(select(AuditEvent.action).distinct()).scalars())
    tokens |= set(re.findall(r"audit\.record\([^,]+,\s*\"([a-z_]+\.[a-z_.]+)\"",
                             "\n".join(p.read_text() for p in (ROOT / "office").rglob("*.py"))))
    return {t for t in tokens if t and len(t) > 1}
