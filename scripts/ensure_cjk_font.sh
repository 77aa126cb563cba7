#!/usr/bin/env bash
# Make sure a font with Chinese glyphs is installed (figures and PDFs need one).
# Installs Debian's fonts-wqy-microhei when none is found; needs root or sudo.
set -euo pipefail
if command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh family 2>/dev/null)" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "riskmodel: no Chinese font found and no apt-get; install a CJK font (e.g. WenQuanYi Micro Hei or Noto Sans CJK SC)" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "riskmodel: installing a Chinese font needs root: apt-get install fonts-wqy-microhei" >&2; exit 1
  fi
fi
echo "riskmodel: installing a Chinese font (fonts-wqy-microhei) ..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fontconfig fonts-wqy-microhei >/dev/null
# matplotlib caches the font list: drop its cache so the new font is seen
rm -rf "${HOME:-/root}/.cache/matplotlib" 2>/dev/null || true
