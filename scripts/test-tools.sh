#!/usr/bin/env bash
# Installs the real clients the interop tests run against Skillvault, each
# pinned to a version that runs on the machine's Node 20, from the npm
# registry into one folder (default /tmp/skillvault-test-tools), once.
# make test runs it and passes the tools' paths to the tests; a test whose
# client is missing fails in CI (CI=true) and is skipped elsewhere.
#
#   scripts/test-tools.sh [DIR]
set -uo pipefail
dir="${1:-${SKILLVAULT_TEST_TOOLS:-/tmp/skillvault-test-tools}}"
status=0

# tool NAME PACKAGE@VERSION: installs the package into DIR/NAME unless
# that exact version is there already.
tool() {
  local name="$1" spec="$2" d="$dir/$1"
  [ -f "$d/.installed" ] && [ "$(cat "$d/.installed")" = "$spec" ] && return 0
  echo "test-tools: installing $spec into $d"
  rm -rf "$d" && mkdir -p "$d"
  if npm install --prefix "$d" --no-audit --no-fund --no-update-notifier --ignore-scripts --loglevel=error "$spec" >"$d/npm.log" 2>&1; then
    echo "$spec" >"$d/.installed"
  else
    echo "test-tools: could not install $spec (see $d/npm.log); the tests that run it will fail in CI" >&2
    status=1
  fi
}

tool skills skills@1.5.18                                 # the skills CLI (discovery interop)
tool inspector @modelcontextprotocol/inspector@2.12.0     # MCP Inspector CLI (Skills extension)
tool mcp-sdk @modelcontextprotocol/sdk@1.32.2              # MCP TypeScript SDK client (OAuth flow)
tool claude @anthropic-ai/claude-code@2.1.112             # Claude Code's plugin commands (git marketplace); the newest plain-JS release that runs on Node 20
exit $status
