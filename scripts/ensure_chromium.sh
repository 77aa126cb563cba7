#!/usr/bin/env bash
# Make sure a Chromium is installed for the workbench's browser tests
# (tests/workbench/test_browser.py drives it with Playwright's Python package;
# Playwright's own browser download is not used). Installs Debian's chromium
# when it is missing and we are root or have sudo. Never fails the build: when it
# cannot install, it says why and those tests skip, saying so too.
# The tests look for $RISKMODEL_CHROMIUM, then /usr/bin/chromium.
set -uo pipefail

have_chromium() {
  if [ -n "${RISKMODEL_CHROMIUM:-}" ] && [ -x "${RISKMODEL_CHROMIUM}" ]; then return 0; fi
  [ -x /usr/bin/chromium ]
}

if have_chromium; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "riskmodel: Chromium not found and no apt-get: install Chromium (or set RISKMODEL_CHROMIUM to its path) to run the workbench's browser tests; they skip meanwhile" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "riskmodel: Chromium not found; installing it needs root: apt-get install chromium (the workbench's browser tests skip meanwhile)" >&2
    exit 0
  fi
fi
echo "riskmodel: installing Chromium (for the workbench's browser tests) ..."
if $SUDO apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
  have_chromium || echo "riskmodel: chromium installed but /usr/bin/chromium still not found; the browser tests will skip" >&2
else
  echo "riskmodel: apt-get install chromium failed; the workbench's browser tests will skip" >&2
fi
exit 0
