#!/usr/bin/env bash
# Installs, checks, removes and purges a dock-agent .deb in a throw-away root
# with `dpkg --root`, and verifies the systemd unit. Run by .ci/run after
# scripts/release.sh and scripts/deb.sh.
#
#   deploy/test-deb.sh dist/dock-agent_<version>_amd64.deb
#
# The maintainer scripts run chrootless (--force-script-chrootless, dpkg
# exports DPKG_ROOT) so they need no shell inside the root; the root gets a
# minimal account database so postinst really creates the user and groups
# there (groupadd/useradd --prefix), the way an image builder would see it.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"
deb="${1:?usage: deploy/test-deb.sh PACKAGE.deb}"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
fail() { echo "deb test: $*" >&2; exit 1; }

mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/etc"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ndialout:x:20:\n' >"$root/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
printf 'root:*::\ndialout:*::\n' >"$root/etc/gshadow"
chmod 0640 "$root/etc/shadow" "$root/etc/gshadow"

dpkg_root() { dpkg --root="$root" --force-script-chrootless --log=/dev/null "$@"; }

echo "deb test: install $deb into $root"
dpkg_root -i "$deb"
for f in /usr/bin/dock-agent /usr/bin/dockctl /lib/systemd/system/dock-agent.service \
  /etc/dock-agent/agent.yaml.example /usr/share/doc/dock-agent/examples/dock.yaml \
  /usr/share/doc/dock-agent/copyright /usr/share/doc/dock-agent/changelog.gz \
  /usr/share/man/man8/dock-agent.8.gz /usr/share/man/man1/dockctl.1.gz \
  /usr/share/lintian/overrides/dock-agent; do
  [ -e "$root$f" ] || fail "$f missing after install"
done
head -1 "$root/usr/share/doc/dock-agent/copyright" | grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' \
  || fail "copyright is not machine-readable (DEP-5)"
zcat "$root/usr/share/doc/dock-agent/changelog.gz" | head -1 | grep -q "^dock-agent ($(dpkg-deb -f "$deb" Version)) " \
  || fail "changelog.gz does not start with this version's entry"
zcat "$root/usr/share/man/man1/dockctl.1.gz" | grep -q '^\.SS map$' || fail "dockctl.1 lacks the map command"
zcat "$root/usr/share/man/man8/dock-agent.8.gz" | grep -q '^\.B \\-check$' || fail "dock-agent.8 lacks -check"
[ -x "$root/usr/bin/dock-agent" ] || fail "/usr/bin/dock-agent not executable"
grep -q '^dock-agent:' "$root/etc/passwd" || fail "user dock-agent not created"
grep -q '^gpio:' "$root/etc/group" || fail "group gpio not created"
grep -q '^dialout:.*dock-agent' "$root/etc/group" || fail "dock-agent not in dialout"
grep -q '^gpio:.*dock-agent' "$root/etc/group" || fail "dock-agent not in gpio"
[ "$(stat -c %a "$root/etc/dock-agent")" = 750 ] || fail "/etc/dock-agent mode $(stat -c %a "$root/etc/dock-agent"), want 750"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/dock-agent.service" ] || fail "service enabled by the package"
dpkg_root -s dock-agent | grep -q '^Status: install ok installed' || fail "dpkg status not installed"
"$root/usr/bin/dock-agent" -version | grep -q '^dock-agent ' || fail "dock-agent -version"
"$root/usr/bin/dock-agent" -check -config "$root/etc/dock-agent/agent.yaml.example" >/dev/null \
  || fail "the shipped example config does not pass -check"

echo "deb test: reinstall keeps an edited conffile"
echo "# edited by the operator" >>"$root/etc/dock-agent/agent.yaml.example"
echo "id: mine" >"$root/etc/dock-agent/agent.yaml"
dpkg_root --force-confold -i "$deb"
grep -q 'edited by the operator' "$root/etc/dock-agent/agent.yaml.example" || fail "conffile overwritten on reinstall"
gid=$(grep '^dock-agent:' "$root/etc/group" | cut -d: -f3)
[ "$(stat -c %g:%a "$root/etc/dock-agent")" = "$gid:750" ] || fail "/etc/dock-agent is $(stat -c %g:%a "$root/etc/dock-agent") after reinstall, want $gid:750 (group dock-agent)"
[ "$(grep -c '^dock-agent:' "$root/etc/passwd")" = 1 ] || fail "user dock-agent created twice"

echo "deb test: remove"
mkdir -p "$root/var/lib/dock-agent"
echo x >"$root/var/lib/dock-agent/telemetry.db"
dpkg_root -r dock-agent
for f in /usr/bin/dock-agent /usr/bin/dockctl /lib/systemd/system/dock-agent.service; do
  [ ! -e "$root$f" ] || fail "$f still there after remove"
done
[ -e "$root/etc/dock-agent/agent.yaml.example" ] || fail "conffile removed by remove (only purge removes it)"
[ -e "$root/var/lib/dock-agent/telemetry.db" ] || fail "state removed by remove (only purge removes it)"

echo "deb test: purge"
dpkg_root -P dock-agent
[ ! -e "$root/etc/dock-agent/agent.yaml.example" ] || fail "conffile still there after purge"
[ ! -e "$root/var/lib/dock-agent" ] || fail "state dir still there after purge"
[ -e "$root/etc/dock-agent/agent.yaml" ] || fail "purge removed the operator's agent.yaml"
if dpkg_root -s dock-agent 2>/dev/null | grep -q '^Status: install'; then fail "still installed after purge"; fi
echo "deb test: ok"
