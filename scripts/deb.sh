#!/usr/bin/env bash
# Debian packages from the release builds: one dock-agent_<version>_<arch>.deb
# per architecture in dist/, built with dpkg-deb (no debhelper needed).
#
#   scripts/release.sh [VERSION] && scripts/deb.sh
#
# The package installs the binaries, the systemd unit (enabled by nobody),
# /etc/dock-agent/agent.yaml.example (a conffile: never overwritten on
# upgrade) and the docs; postinst creates the user and groups.
set -euo pipefail
cd "$(dirname "$0")/.."

out=dist
version="$(cat "$out/VERSION" 2>/dev/null || true)"
[ -n "$version" ] || { echo "deb: no $out/VERSION: run scripts/release.sh first" >&2; exit 1; }
# Debian versions must start with a digit; a bare commit hash gets a 0~ prefix.
case "$version" in [0-9]*) debver="$version" ;; *) debver="0~$version" ;; esac

for arch in arm64 armhf amd64; do
  [ -x "$out/$arch/dock-agent" ] || { echo "deb: $out/$arch/dock-agent missing: run scripts/release.sh" >&2; exit 1; }
  root="$(mktemp -d)"
  chmod 0755 "$root"
  trap 'rm -rf "$root"' EXIT
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/usr/share/doc/dock-agent/examples"
  install -d -m 0750 "$root/etc/dock-agent"
  install -m 0755 "$out/$arch/dock-agent" "$out/$arch/dockctl" "$root/usr/bin/"
  install -m 0644 deploy/dock-agent.service "$root/lib/systemd/system/"
  install -m 0644 config/examples/dock.yaml "$root/etc/dock-agent/agent.yaml.example"
  install -m 0644 config/examples/dock.yaml config/examples/bench.yaml "$root/usr/share/doc/dock-agent/examples/"
  for d in README.md CHANGELOG.md docs/deploy.md docs/operations.md docs/architecture.md docs/mqtt-api.md docs/hardware.md; do
    [ -f "$d" ] && install -m 0644 "$d" "$root/usr/share/doc/dock-agent/"
  done
  [ -f LICENSE ] && install -m 0644 LICENSE "$root/usr/share/doc/dock-agent/copyright"
  install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"
  install -m 0644 deploy/debian/conffiles "$root/DEBIAN/"
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    deploy/debian/control.in >"$root/DEBIAN/control"
  deb="$out/dock-agent_${debver}_${arch}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  echo "deb: $deb" >&2
  rm -rf "$root"
  trap - EXIT
done
ls -l "$out"/*.deb >&2
