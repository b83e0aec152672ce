#!/usr/bin/env bash
# Install the Debian packages the app needs when they are missing: the CJK faces of official PDFs
# (texlive-lang-chinese: the Fandol 仿宋/宋体/黑体/楷体 faces, GPL with the font exception, the only
# Debian package that ships them; fonts-noto-cjk and AR PL for titles and rare characters), HarfBuzz's
# subsetting library (fast PDF rendering), Pango (WeasyPrint), poppler-utils (PDF checks) and Chromium
# (browser tests), wrk (the web load benchmark). Does nothing when everything is present; safe to rerun.
set -euo pipefail
PKGS=(fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming texlive-lang-chinese libharfbuzz-subset0
      libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium wrk)
# The Fandol faces lie outside fontconfig's paths; office/pdf/fontconfig/fonts.conf adds them.
FONTCONF="$(cd "$(dirname "$0")/.." && pwd)/office/pdf/fontconfig/fonts.conf"
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "warning: not root and no sudo; install these yourself: ${missing[*]}" >&2; exit 0; fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  # texlive-lang-chinese pulls in texlive-base (about 280 MB in all): no lighter package carries Fandol.
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
# fontconfig's cache of those directories, built once (a no-op when it is current).
if command -v fc-cache >/dev/null && [ -f "$FONTCONF" ]; then
  if [ "$(id -u)" -eq 0 ]; then FONTCONFIG_FILE="$FONTCONF" fc-cache -s >/dev/null 2>&1 || true
  else FONTCONFIG_FILE="$FONTCONF" fc-cache >/dev/null 2>&1 || true; fi
fi
