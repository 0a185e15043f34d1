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

# fuzz_once DIR NAME LOG: one bounded run of a target, its output also in LOG.
fuzz_once() {
  go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$1" 2>&1 | tee "$3"
  return "${PIPESTATUS[0]}"
}

# corpus DIR NAME: the failing inputs go has written for a target so far.
corpus() { ls "$1/testdata/fuzz/$2" 2>/dev/null || true; }

# Go before 1.27 can end a fuzz run that found nothing with a bare
# "context deadline exceeded" when -fuzztime runs out under load: a race
# in its fuzzing coordinator (https://go.dev/issue/75804), not a failing
# input. Such a run writes no input, so it is run once more (and if the
# race strikes again, reported but not failed); a failure that writes an
# input, or says anything else, fails the script.
failed=()
flaked=()
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for t in "${targets[@]}"; do
  dir="${t% *}"
  name="${t#* }"
  case "$dir" in ./*) ;; *) dir="./$dir" ;; esac
  for attempt in 1 2; do
    echo "== $name ($dir, $fuzztime)"
    before="$(corpus "$dir" "$name")"
    if fuzz_once "$dir" "$name" "$log"; then
      break
    fi
    if [ "$(corpus "$dir" "$name")" != "$before" ] ||
      ! grep -qx '    context deadline exceeded' "$log" || [ "$(grep -c -- '^--- FAIL' "$log")" != 1 ]; then
      failed+=("$name ($dir)")
      break
    fi
    if [ "$attempt" = 1 ]; then
      echo "fuzz.sh: $name stopped with Go's fuzztime race (go.dev/issue/75804) and wrote no input; running it again"
    else
      flaked+=("$name ($dir)")
    fi
  done
done

echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets found a failure:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "The failing inputs are in testdata/fuzz/ of those packages; fix the bug and commit them as regression tests." >&2
  exit 1
fi
if [ ${#flaked[@]} -gt 0 ]; then
  echo "fuzz.sh: twice stopped by Go's fuzztime race, with no failing input: ${flaked[*]}" >&2
fi
echo "fuzz.sh: ${#targets[@]} targets ran for $fuzztime each without a failing input"
