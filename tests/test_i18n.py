"""Translations: the zh_CN catalogue is complete, its placeholders match, it is up to date with the code,
and the compiled .mo files match the .po files.

A new UI string fails test_catalogue_is_up_to_date_with_the_code with its text and location: run
scripts/update-translations.sh, then translate the new msgids in office/translations/zh_CN/LC_MESSAGES/messages.po.
The en catalogue is left empty on purpose: English falls back to the msgid.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "office" / "translations"
LOCALES = ("zh_CN", "en")
ZH_PO = TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "messages.po"

# printf-style conversions as Python's % operator reads them: %(name)s, %d, %.2f, %%
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[diouxXeEfFgGcrsa%]")
SAMPLE = {"d": 1, "i": 1, "o": 1, "u": 1, "x": 1, "X": 1, "c": 65, "e": 1.5, "E": 1.5, "f": 1.5, "F": 1.5,
          "g": 1.5, "G": 1.5}


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def _compile(po: Path) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, _read(po), use_fuzzy=False)
    return buf.getvalue()


def ensure_compiled() -> None:
    """(Re)write each .mo whose content differs from its .po (what `make install` does with pybabel compile).

    Atomic replace, so a test process reading the file never sees half of it."""
    for lang in LOCALES:
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        data = _compile(po)
        if mo.exists() and mo.read_bytes() == data:
            continue
        fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages.", suffix=".mo")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, mo)


# At collection time, before any test of the session runs: Flask-Babel caches a locale's catalogue on first use,
# so compiling in a fixture would come too late for tests collected from other modules.
ensure_compiled()


def _placeholders(s: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(s))


def _sample_args(msgid: str) -> dict:
    return {m.group(1): SAMPLE.get(m.group(2), "x")
            for m in re.finditer(r"%\(([^)]*)\)[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])", msgid)}


def _label(message) -> str:
    where = ", ".join(f"{f}:{n}" for f, n in message.locations[:3])
    return f"{message.id!r} ({where})" if where else repr(message.id)


def _zh_messages():
    return [m for m in _read(ZH_PO) if m.id]


def test_every_zh_cn_entry_is_translated():
    problems = []
    for m in _zh_messages():
        forms = m.string if isinstance(m.string, (list, tuple)) else (m.string,)
        if m.fuzzy:
            problems.append(f"fuzzy: {_label(m)}")
        elif not all(s and s.strip() for s in forms):
            problems.append(f"untranslated: {_label(m)}")
    assert not problems, (f"{len(problems)} zh_CN entries need a translation in {ZH_PO.relative_to(ROOT)}:\n"
                          + "\n".join(problems))


def test_zh_cn_placeholders_match_the_msgid():
    catalog = _read(ZH_PO)
    problems = []
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, (list, tuple)):
            singular, plural = m.id[0], m.id[1]
            forms = list(m.string)
            # With one plural form (Chinese) msgstr[0] stands for every n, so it follows msgid_plural.
            expected = [singular if (i == 0 and catalog.num_plurals > 1) else plural for i in range(len(forms))]
        else:
            forms, expected = [m.string], [m.id]
        for msgid, msgstr in zip(expected, forms, strict=True):
            if not msgstr:
                continue  # reported by test_every_zh_cn_entry_is_translated
            if _placeholders(msgid) != _placeholders(msgstr):
                problems.append(f"{_label(m)}: {msgstr!r} has {_placeholders(msgstr)}, "
                                f"expected {_placeholders(msgid)}")
                continue
            # Templates always apply % (even without arguments), so a stray % in a translation breaks the page.
            args = _sample_args(msgid)
            try:
                msgid % args
            except (TypeError, ValueError, KeyError):
                continue  # not a %-formatted string
            try:
                msgstr % args
            except (TypeError, ValueError, KeyError) as exc:
                problems.append(f"{_label(m)}: {msgstr!r} cannot be formatted ({exc})")
    assert not problems, "zh_CN placeholders differ from the msgid:\n" + "\n".join(problems)


def test_catalogue_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    pot = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(["pybabel", "--quiet", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                                "-o", str(pot), "office", "templates"])
    extracted = [m for m in _read(pot) if m.id]
    assert extracted, "extraction found no messages"
    known = {(m.id if isinstance(m.id, str) else tuple(m.id), m.context) for m in _zh_messages()}
    missing = [m for m in extracted if (m.id if isinstance(m.id, str) else tuple(m.id), m.context) not in known]
    assert not missing, (
        f"{len(missing)} UI strings are not in the zh_CN catalogue; run scripts/update-translations.sh and "
        f"translate them in {ZH_PO.relative_to(ROOT)}:\n" + "\n".join(_label(m) for m in missing))


@pytest.mark.parametrize("lang", LOCALES)
def test_compiled_catalogues_match_the_po_files(lang):
    po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing; run `make install` or scripts/update-translations.sh"
    assert mo.read_bytes() == _compile(po), f"{mo.relative_to(ROOT)} is stale; recompile the catalogues"


def test_chinese_is_served_from_the_compiled_catalogue():
    # Flask-Babel looks the catalogue up by str(Locale.parse("zh_CN")), which is "zh_Hans_CN":
    # office/translations/zh_Hans_CN is a symlink to zh_CN for that reason.
    zh = Translations.load(str(TRANSLATIONS), [Locale.parse("zh_CN")])
    assert isinstance(zh, Translations), "no catalogue found for zh_CN as Flask-Babel looks it up"
    assert zh.gettext("Workbench") == "工作台"
    assert zh.gettext("Log in") == "登录"
    assert zh.gettext("%(n)d units") % {"n": 3} == "共 3 个单位"
    en = Translations.load(str(TRANSLATIONS), [Locale.parse("en")])
    assert en.gettext("Workbench") == "Workbench"
