#!/usr/bin/env bash
# Runs every Go fuzz target of the repository for a short, bounded time
# each (FUZZTIME, default 10s), one after another, and fails if any finds
# a crash. A failing input is written to testdata/fuzz/<Target>/ of its
# package: commit it, and `go test` replays it as a regular test from then
# on, so a crash found once stays found.
#
#   scripts/fuzz.sh                   # every target, 10s each
#   FUZZTIME=2m scripts/fuzz.sh       # longer
#   scripts/fuzz.sh ./internal/api    # only the targets under a folder
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10s}"
minimize="${FUZZMINIMIZETIME:-2s}"
root="${1:-.}"

# "dir Target" lines for every func FuzzXxx(f *testing.F) in a test file.
mapfile -t targets < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' "$root" |
  sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u)

if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets under $root" >&2
  exit 1
fi

failed=()
for t in "${targets[@]}"; do
  dir="${t% *}"
  name="${t#* }"
  case "$dir" in ./*) ;; *) dir="./$dir" ;; esac
  echo "== $name ($dir, $fuzztime)"
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$dir"; then
    failed+=("$name ($dir)")
  fi
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets found a failure:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "The failing inputs are in testdata/fuzz/ of those packages; fix the bug and commit them as regression tests." >&2
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets ran for $fuzztime each without a failure"
