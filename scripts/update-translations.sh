#!/usr/bin/env bash
# Re-extract UI strings, merge them into the zh_CN and en catalogues, and compile the .mo files.
#
#   scripts/update-translations.sh
#
# New msgids land in office/translations/{zh_CN,en}/LC_MESSAGES/messages.po with an empty msgstr;
# tests/test_i18n.py fails, naming them, until every zh_CN entry is translated. The en catalogue stays
# empty on purpose: English falls back to the msgid. Fuzzy matching is off so a changed string is never
# shown with a stale translation of its predecessor.
#
# office/translations/zh_Hans_CN is a symlink to zh_CN: Babel parses "zh_CN" as zh_Hans_CN, and that is
# the directory name Flask-Babel looks up. The locales are named explicitly below so the alias is not
# updated or compiled a second time.
set -euo pipefail

cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
DIR=office/translations
POT=$DIR/messages.pot
LOCALES=(zh_CN en)

"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -o "$POT" office templates
for l in "${LOCALES[@]}"; do
  "$PYBABEL" update -i "$POT" -d "$DIR" -l "$l" --no-fuzzy-matching
done
for l in "${LOCALES[@]}"; do
  "$PYBABEL" compile -d "$DIR" -l "$l"
done
