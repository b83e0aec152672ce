#!/usr/bin/env bash
# Install the Debian packages the app needs when they are missing: CJK fonts and HarfBuzz's
# subsetting library (fast PDF rendering), Pango (WeasyPrint), poppler-utils (PDF checks) and
# Chromium (browser tests), wrk (the web load benchmark). Does nothing when everything is present.
set -euo pipefail
PKGS=(fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming libharfbuzz-subset0 libpango-1.0-0
      libpangoft2-1.0-0 poppler-utils chromium wrk)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing system packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "warning: not root and no sudo; install these yourself: ${missing[*]}" >&2; exit 0; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
