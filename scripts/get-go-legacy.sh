#!/bin/sh
# Fetch Debian bullseye's Go 1.15 (golang-1.15-go + golang-1.15-src) without root and without
# touching the host's apt state, and unpack it under the cgocheck cache:
#   ${CGOCHECK_HOME:-${XDG_CACHE_HOME:-~/.cache}/cgocheck}/go/1.15-debian/
# Go 1.15 is the oldest Go at hand that writes the pre-1.18 `.go.buildinfo` layout (pointers to
# Go string headers); the tests use it as the differential oracle for that layout.
#
# Idempotent: when the GOROOT is already complete it does nothing. Prints the GOROOT on stdout
# (progress goes to stderr). Use the GOROOT with GO111MODULE=on and without GOTOOLCHAIN.
set -eu

if [ -n "${CGOCHECK_HOME:-}" ]; then
  base="$CGOCHECK_HOME"
else
  base="${XDG_CACHE_HOME:-$HOME/.cache}/cgocheck"
fi
dest="$base/go/1.15-debian"
goroot="$dest/usr/lib/go-1.15"

if [ -x "$goroot/bin/go" ] && [ -f "$goroot/src/runtime/extern.go" ] && [ -f "$dest/.complete" ]; then
  echo "$goroot"
  exit 0
fi

mkdir -p "$base/go"
# One fetch at a time (parallel test workers, two shells): wait, then look again.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$base/go/.1.15-debian.lock"
  flock 9
  if [ -x "$goroot/bin/go" ] && [ -f "$dest/.complete" ]; then
    echo "$goroot"
    exit 0
  fi
fi

src_list=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && { src_list="$f"; break; }
done

tmp=$(mktemp -d "$base/go/.legacy-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts" "$tmp/debs" "$tmp/root"
touch "$tmp/status"

if [ -n "$src_list" ]; then
  # First stanza of the host's deb822 source (Types, URIs, Components, Signed-By), Suites changed.
  awk 'BEGIN{s=0} /^[[:space:]]*$/{ if (s) exit; next } /^#/ {next} {s=1; print}' "$src_list" \
    | sed 's/^Suites:.*/Suites: bullseye/' > "$tmp/parts/bullseye.sources"
elif [ -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bullseye\nComponents: main\nSigned-By: %s\n' \
    /usr/share/keyrings/debian-archive-keyring.gpg > "$tmp/parts/bullseye.sources"
else
  echo "get-go-legacy: no deb822 source in /etc/apt/sources.list.d/ and no Debian archive keyring" >&2
  exit 3
fi

# the host's architecture: this Go runs here (it cross-compiles to the targets itself)
arch=$(dpkg --print-architecture)
O="-o APT::Architecture=$arch -o APT::Architectures=$arch -o Dir::State::Lists=$tmp/lists
   -o Dir::Cache=$tmp/cache -o Dir::State::status=$tmp/status -o Dir::Etc::SourceList=/dev/null
   -o Dir::Etc::SourceParts=$tmp/parts"
# As root apt drops to _apt for downloads, which cannot write into our private folders.
if [ "$(id -u)" = 0 ]; then O="$O -o APT::Sandbox::User=root"; fi

echo "get-go-legacy: apt-get update (bullseye, private state in $tmp)" >&2
# shellcheck disable=SC2086
apt-get $O -qq update >&2
echo "get-go-legacy: downloading golang-1.15-go golang-1.15-src" >&2
# shellcheck disable=SC2086
(cd "$tmp/debs" && apt-get $O -qq download golang-1.15-go golang-1.15-src >&2)
for d in "$tmp/debs"/*.deb; do
  echo "get-go-legacy: unpacking $(basename "$d")" >&2
  dpkg -x "$d" "$tmp/root"
done

# Debian links usr/lib/go-1.15/src etc. into usr/share/go-1.15: make absolute links relative.
find "$tmp/root" -type l | while read -r l; do
  t=$(readlink "$l")
  case "$t" in
    /*) rel=$(realpath -m --relative-to="$(dirname "$l")" "$tmp/root$t"); ln -sfn "$rel" "$l" ;;
  esac
done

if [ ! -x "$tmp/root/usr/lib/go-1.15/bin/go" ]; then
  echo "get-go-legacy: unpacked packages have no usr/lib/go-1.15/bin/go" >&2
  exit 3
fi
(cd "$tmp/debs" && sha256sum ./*.deb) > "$tmp/root/SHA256SUMS"
touch "$tmp/root/.complete"
rm -rf "$dest"
mv "$tmp/root" "$dest"
echo "$goroot"
