#!/usr/bin/env bash
# The README's two commands on a bare Debian 12, as a new user meets them.
#
#   sudo tools/fresh-machine.sh [ROOT]        (or: sudo make test-fresh)
#
# Builds a minimal Debian 12 root with debootstrap (--variant=minbase, plus python3,
# python3-venv, git, make and ca-certificates), installs ONLY the packages named on the
# README's first `apt-get install` line (its prerequisites), clones this repository's
# committed HEAD into it, and runs `make brief` and `make test` there, in a chroot.
# Uncommitted changes are not part of the test. Chromium, LibreOffice, poppler and
# Node.js are not installed, so the tests that need them must skip with their reason.
#
# Needs root, debootstrap, and network access to the Debian mirror and PyPI. Not part
# of `make test`. Settings (environment):
#   FRESH_ROOT     where to build the root (default: the first argument, else
#                  /var/tmp/policybrief-fresh); reused when it already holds a root
#   FRESH_MIRROR   the Debian mirror (default: http://deb.debian.org/debian)
#   FRESH_CA_CERTS extra CA certificate files (space-separated) the chroot must trust,
#                  for a network whose TLS is intercepted; none by default
# The root is left in place (a second run reuses it, with a new clone).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-${FRESH_ROOT:-/var/tmp/policybrief-fresh}}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
base_packages=python3,python3-venv,git,make,ca-certificates

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh-machine: needs root (debootstrap, chroot, mount): sudo $0 $*" >&2
  exit 1
fi
command -v debootstrap >/dev/null || {
  echo "fresh-machine: debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }

# The README's prerequisites: the packages of its first `apt-get install` line.
# shellcheck disable=SC2207
packages=($(grep -m1 -o 'apt-get install [^`#]*' "$repo/README.md" \
            | sed 's/^apt-get install//' | tr ' ' '\n' | grep -v '^-' | grep -v '^$' || true))
if [ ${#packages[@]} -eq 0 ]; then
  echo "fresh-machine: README.md names no 'apt-get install' line" >&2
  exit 1
fi
echo "== README's packages: ${packages[*]}"

if [ ! -x "$root/usr/bin/python3" ]; then
  echo "== debootstrap --variant=minbase bookworm $root"
  debootstrap --variant=minbase --include="$base_packages" bookworm "$root" "$mirror"
fi

mounted=()
cleanup() {
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; mounted+=("$root/proc"); }
mkdir -p "$root/dev/shm"
mountpoint -q "$root/dev/shm" || { mount -t tmpfs tmpfs "$root/dev/shm"; mounted+=("$root/dev/shm"); }
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if [ -n "${FRESH_CA_CERTS:-}" ]; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  for cert in $FRESH_CA_CERTS; do
    cp "$cert" "$root/usr/local/share/ca-certificates/$(basename "${cert%.*}").crt"
  done
  chroot "$root" update-ca-certificates >/dev/null
fi

echo "== apt-get install ${packages[*]} (in the root, nothing else)"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
chroot "$root" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null

work=/home/analyst/policybrief
rm -rf "$root$work"
mkdir -p "$root/home/analyst"
git clone -q "$repo" "$root$work"
git -C "$root$work" checkout -q --detach "$(git -C "$repo" rev-parse HEAD)"
echo "== cloned $(git -C "$root$work" log -1 --format='%h %s')"

run() {
  chroot "$root" env -i HOME=/home/analyst PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 TERM=dumb bash -c "cd $work && $1"
}
echo "== make brief"
run "make brief"
test -s "$root$work/build/brief.pdf"
echo "== make test"
run "make test"
echo "== fresh machine: make brief wrote build/brief.pdf, make test passed"
