#!/usr/bin/env bash
# Release builds: static (CGO_ENABLED=0) dock-agent and dockctl for the dock
# boards (linux/arm64, linux/arm GOARM=7) and linux/amd64, version stamped in.
#
#   scripts/release.sh [VERSION]      # default: git describe
#
# Output: dist/<goarch>/dock-agent and dist/<goarch>/dockctl (goarch: arm64,
# armhf, amd64 in Debian's names), and dist/SHA256SUMS.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
. scripts/toolchain.sh

version="${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
version="${version#v}"
out=dist
rm -rf "$out"
mkdir -p "$out"

# debian-arch goos goarch goarm
targets=(
  "arm64 linux arm64 -"
  "armhf linux arm 7"
  "amd64 linux amd64 -"
)
for t in "${targets[@]}"; do
  read -r deb goos goarch goarm <<<"$t"
  dir="$out/$deb"
  mkdir -p "$dir"
  for cmd in agent dockctl; do
    bin=dockctl
    [ "$cmd" = agent ] && bin=dock-agent
    env_arm=()
    [ "$goarm" != "-" ] && env_arm=(GOARM="$goarm")
    echo "release: $bin $version for $goos/$goarch${goarm/#-/}" >&2
    env CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" "${env_arm[@]}" \
      go build -trimpath -buildvcs=false \
        -ldflags "-s -w -X main.version=$version" \
        -o "$dir/$bin" "./cmd/$cmd"
  done
done
echo "$version" >"$out/VERSION"
(cd "$out" && sha256sum */dock-agent */dockctl >SHA256SUMS)
ls -l "$out"/*/ >&2
