#!/usr/bin/env bash
# Checks, before `make test` runs anything, that every program the suite
# needs is installed, and prints the one command that installs what is
# missing. Exit 2 when something is missing, so a run never fails half-way
# through for want of a tool.
set -uo pipefail

missing_cmds=()
pkgs=()
need() { # need PROGRAM DEBIAN_PACKAGE [PATH...]
  local prog="$1" pkg="$2"
  shift 2
  command -v "$prog" >/dev/null 2>&1 && return
  for p in "$@"; do [ -x "$p" ] && return; done
  missing_cmds+=("$prog")
  case " ${pkgs[*]-} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
}

need go "golang (or Go 1.26+ from go.dev)" /usr/local/go/bin/go
need initdb postgresql /usr/lib/postgresql/*/bin/initdb
need psql postgresql-client
need pgbouncer pgbouncer /usr/sbin/pgbouncer
need chromium chromium /usr/bin/chromium
need git git
need node nodejs
need npm npm
need curl curl
need tar tar
need pgrep procps

if [ ${#missing_cmds[@]} -gt 0 ]; then
  echo "make test: missing ${missing_cmds[*]}" >&2
  echo "install them first (as root), then run make test again:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends ${pkgs[*]}" >&2
  echo "(.ci/run does this on a fresh Debian machine)" >&2
  exit 2
fi
