#!/usr/bin/env bash
# govulncheck over the whole module, against the Go vulnerability database
# taken from the module proxy (golang.org/x/vulndb, pinned below) rather
# than vuln.go.dev, which CI machines may not reach. Exits non-zero when a
# vulnerability is reachable from our code.
#
#   scripts/vulncheck.sh            # uses $GOTOOLCHAIN (scripts/toolchain.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
. scripts/toolchain.sh

vulndb=golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018
vuln=golang.org/x/vuln/cmd/govulncheck@v1.9.0
db="${VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/dock-agent/vulndb-${vulndb##*@}}"

if [ ! -f "$db/index/db.json" ]; then
  echo "vulncheck: building the vulnerability database from $vulndb into $db" >&2
  src=$(go mod download -json "$vulndb" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src/data/osv" ] || { echo "vulncheck: no data/osv in $src" >&2; exit 1; }
  rm -rf "$db.tmp"
  go run "golang.org/x/vulndb/cmd/indexdb@${vulndb##*@}" -vulns "$src/data/osv" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
echo "vulncheck: $(go version) against $db" >&2
go run "$vuln" -db "file://$db" ./...
