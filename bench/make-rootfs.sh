#!/usr/bin/env bash
# Make a ~1 GB uncompressed rootfs tarball from this machine's /usr (real
# binaries, libraries and text), deterministic for a given machine.
# Usage: bench/make-rootfs.sh OUT.tar [SIZE_MB]
set -euo pipefail
out=$1
size_mb=${2:-1024}
[ -s "$out" ] && exit 0
mkdir -p "$(dirname "$out")"
list=$(mktemp)
# Regular files only, sorted, until the size budget is used.
# (awk stops early on purpose: ignore the producers' SIGPIPE)
{ find /usr/lib /usr/share /usr/bin -xdev -type f -size -64M -printf '%s %p\n' 2>/dev/null |
  sort -k2 | awk -v max=$((size_mb * 1024 * 1024)) '{ if (t + $1 > max) exit; t += $1; print substr($0, index($0, " ") + 1) }' > "$list"; } || true
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out.tmp" \
    --no-recursion -T "$list" 2>/dev/null || true
rm -f "$list"
mv "$out.tmp" "$out"
