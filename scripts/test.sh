#!/usr/bin/env bash
# The project's test command (README): every package under the race
# detector. Fuzz targets run over their seed corpus as ordinary tests.
# The toolchain is scripts/toolchain.sh's (GOTOOLCHAIN overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin"
. scripts/toolchain.sh
go test -race -count=1 -timeout 20m ./... "$@"
