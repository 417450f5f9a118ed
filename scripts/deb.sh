#!/usr/bin/env bash
# Debian packages from the release builds: one dock-agent_<version>_<arch>.deb
# per architecture in dist/, built with dpkg-deb (no debhelper needed).
#
#   scripts/release.sh [VERSION] && scripts/deb.sh
#
# The package installs the binaries, the systemd unit (enabled by nobody),
# /etc/dock-agent/agent.yaml.example (a conffile: never overwritten on
# upgrade), the docs, the copyright file (deploy/debian/copyright), a Debian
# changelog made from CHANGELOG.md, man pages made from the binaries' own -h
# (deploy/genman) and lintian overrides; postinst creates the user and groups.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
. scripts/toolchain.sh

out=dist
version="$(cat "$out/VERSION" 2>/dev/null || true)"
[ -n "$version" ] || { echo "deb: no $out/VERSION: run scripts/release.sh first" >&2; exit 1; }
# Debian versions must start with a digit; a bare commit hash gets a 0~ prefix.
case "$version" in [0-9]*) debver="$version" ;; *) debver="0~$version" ;; esac

# The page and changelog dates are the commit's, so that a rebuild of the
# same commit gives the same files (SOURCE_DATE_EPOCH overrides).
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
day="$(date -u -d "@$epoch" +%Y-%m-%d)"
maint="$(sed -n 's/^Maintainer: //p' deploy/debian/control.in)"

# Every Go module linked into the binaries must have a paragraph in the
# copyright file: a new dependency cannot slip in without its licence.
missing=""
for m in $(go version -m "$out"/amd64/dock-agent "$out"/amd64/dockctl | awk '$1 == "dep" {print $2}' | sort -u); do
  grep -q "^Files: vendor/$m/\*\|^       vendor/$m/\*" deploy/debian/copyright || missing="$missing $m"
done
[ -z "$missing" ] || { echo "deb: deploy/debian/copyright has no paragraph for:$missing" >&2; exit 1; }

gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
# Man pages from the flag sets, through binaries of this machine's
# architecture (the release builds may not run here).
go build -trimpath -o "$gen/bin/dock-agent" ./cmd/agent
go build -trimpath -o "$gen/bin/dockctl" ./cmd/dockctl
go run ./deploy/genman -bin "$gen/bin/dock-agent" -section 8 -version "$debver" -date "$day" \
  -title "daemon of a patrol-drone dock: dock hardware, MAVLink vehicle link, MQTT" -see-also "dockctl(1)" >"$gen/dock-agent.8"
go run ./deploy/genman -bin "$gen/bin/dockctl" -section 1 -version "$debver" -date "$day" \
  -title "operator's tool for a Dock Agent installation" -see-also "dock-agent(8)" >"$gen/dockctl.1"
gzip -9n "$gen/dock-agent.8" "$gen/dockctl.1"

# The Debian changelog of this native package: one entry for this version,
# its bullets the headings of CHANGELOG.md's section for it (or of
# [Unreleased]), pointing at the full CHANGELOG.md.
{
  echo "dock-agent ($debver) unstable; urgency=medium"
  echo
  awk -v v="$version" '
    /^## \[/ { insec = (index($0, "[" v "]") || index($0, "[Unreleased]")) && !done; if (insec) found = 1; else if (found) done = 1; next }
    insec && /^### / { sub(/^### /, ""); print "  * " $0 }
  ' CHANGELOG.md | fold -s -w 78 | sed 's/^\([^ ]\)/    \1/'
  echo "  * The changes in full: /usr/share/doc/dock-agent/CHANGELOG.md."
  echo
  echo " -- $maint  $(date -u -R -d "@$epoch")"
} >"$gen/changelog"
gzip -9n "$gen/changelog"

for arch in arm64 armhf amd64; do
  [ -x "$out/$arch/dock-agent" ] || { echo "deb: $out/$arch/dock-agent missing: run scripts/release.sh" >&2; exit 1; }
  root="$(mktemp -d)"
  chmod 0755 "$root"
  trap 'rm -rf "$root" "$gen"' EXIT
  install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/usr/share/doc/dock-agent/examples" "$root/usr/share/man/man1" "$root/usr/share/man/man8" \
    "$root/usr/share/lintian/overrides"
  install -d -m 0750 "$root/etc/dock-agent"
  install -m 0755 "$out/$arch/dock-agent" "$out/$arch/dockctl" "$root/usr/bin/"
  install -m 0644 deploy/dock-agent.service "$root/lib/systemd/system/"
  install -m 0644 config/examples/dock.yaml "$root/etc/dock-agent/agent.yaml.example"
  install -m 0644 config/examples/dock.yaml config/examples/bench.yaml "$root/usr/share/doc/dock-agent/examples/"
  for d in README.md CHANGELOG.md docs/deploy.md docs/operations.md docs/architecture.md docs/mqtt-api.md docs/hardware.md; do
    [ -f "$d" ] && install -m 0644 "$d" "$root/usr/share/doc/dock-agent/"
  done
  install -m 0644 deploy/debian/copyright "$root/usr/share/doc/dock-agent/copyright"
  install -m 0644 "$gen/changelog.gz" "$root/usr/share/doc/dock-agent/changelog.gz"
  install -m 0644 "$gen/dockctl.1.gz" "$root/usr/share/man/man1/"
  install -m 0644 "$gen/dock-agent.8.gz" "$root/usr/share/man/man8/"
  install -m 0644 deploy/debian/lintian-overrides "$root/usr/share/lintian/overrides/dock-agent"
  install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$root/DEBIAN/"
  install -m 0644 deploy/debian/conffiles "$root/DEBIAN/"
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
    deploy/debian/control.in >"$root/DEBIAN/control"
  deb="$out/dock-agent_${debver}_${arch}.deb"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  echo "deb: $deb" >&2
  rm -rf "$root"
  trap 'rm -rf "$gen"' EXIT
done
ls -l "$out"/*.deb >&2
