#!/usr/bin/env bash
# Runs every fuzz target of the module for a while, one after another.
#
#   scripts/fuzz.sh [DURATION] [go test flags...]   # default 5m each, e.g. scripts/fuzz.sh 5m -parallel 1
#
# A crasher is written to the package's testdata/fuzz/<Target>/ and then
# runs as a seed in every `go test`; the script stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
d="${1:-5m}"
shift || true
for f in $(grep -rl '^func Fuzz' --include='*_test.go' . | sort); do
  pkg="./$(dirname "${f#./}")"
  for t in $(grep -ho '^func Fuzz[A-Za-z0-9]*' "$f" | sed 's/^func //'); do
    start=$(date +%s)
    out=$(go test -run '^$' -fuzz "^$t\$" -fuzztime "$d" "$@" "$pkg" 2>&1) || { echo "FAIL $pkg $t"; echo "$out" | tail -30; exit 1; }
    execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1)
    echo "ok   $pkg $t ($d, $((  $(date +%s) - start ))s wall, ${execs:-execs: ?})"
  done
done
