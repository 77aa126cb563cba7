#!/usr/bin/env bash
# Make sure PostgreSQL's server programs (initdb, pg_ctl) are installed: the tests of
# the team tracking server (tests/tracking/test_team_server.py) start a throwaway
# cluster with them. Installs Debian's postgresql when they are missing and we are
# root or have sudo. Never fails the build: when it cannot install, it says why and
# those tests skip, saying so too.
set -uo pipefail

have_postgres() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return 0; fi
  # Debian keeps them off PATH, in /usr/lib/postgresql/<version>/bin
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then return 0; fi
  done
  return 1
}

if have_postgres; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "riskmodel: PostgreSQL not found and no apt-get: install PostgreSQL's server programs (initdb, pg_ctl) to run the team-server tests; they skip meanwhile" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "riskmodel: PostgreSQL not found; installing it needs root: apt-get install postgresql (the team-server tests skip meanwhile)" >&2
    exit 0
  fi
fi
echo "riskmodel: installing PostgreSQL (for the team tracking server tests) ..."
if $SUDO apt-get update -qq \
  && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; then
  have_postgres || echo "riskmodel: postgresql installed but initdb/pg_ctl still not found; the team-server tests will skip" >&2
else
  echo "riskmodel: apt-get install postgresql failed; the team-server tests will skip" >&2
fi
exit 0
