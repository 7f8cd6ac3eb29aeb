#!/usr/bin/env bash
# Make the test fixtures from Debian packages (no internet registry needed):
# real static busybox binaries for amd64, arm64 and armhf, each as a tiny
# rootfs tarball. Output: tests/fixtures/cache/ (idempotent).
#
#   cache/busybox-<arch>/rootfs/          bin/busybox + bin/sh symlink
#   cache/busybox-<arch>.tar              uncompressed rootfs tarball
#   cache/busybox-<arch>.tar.gz           the same, gzip
#   cache/busybox-<arch>.tar.zst          the same, zstd
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/tests/fixtures/cache"
mkdir -p "$out"
cd "$out"

for arch in amd64 arm64 armhf; do
  [ -s "busybox-$arch.tar.zst" ] && continue
  rm -rf "busybox-$arch" debs-$arch
  mkdir -p "debs-$arch" "busybox-$arch/pkg"
  chmod 777 "debs-$arch" # apt-get download runs as _apt when it can
  (cd "debs-$arch" && apt-get download -qq "busybox-static:$arch")
  dpkg-deb -x debs-$arch/busybox-static_*.deb "busybox-$arch/pkg"
  root="busybox-$arch/rootfs"
  mkdir -p "$root/bin" "$root/etc" "$root/tmp"
  cp "busybox-$arch/pkg/bin/busybox" "$root/bin/busybox"
  for t in sh ls cat echo uname; do ln -sf busybox "$root/bin/$t"; done
  echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
      -C "$root" -cf "busybox-$arch.tar" .
  gzip -n -c "busybox-$arch.tar" > "busybox-$arch.tar.gz"
  zstd -q -f "busybox-$arch.tar" -o "busybox-$arch.tar.zst"
  rm -rf "debs-$arch" "busybox-$arch/pkg"
done
echo "fixtures: $(ls "$out" | tr '\n' ' ')"
