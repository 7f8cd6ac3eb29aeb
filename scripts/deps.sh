#!/usr/bin/env bash
# Install every build and test dependency on Debian 12 (idempotent).
# Also enables the arm64 and armhf architectures so the test fixtures can
# download real static busybox binaries for each platform.
# `--bench` also installs what only the benchmarks need (bench/build.sh
# compares with buildah); the default list, used by CI, stays as it is.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git ca-certificates
  libssl-dev libjansson-dev libarchive-dev libisal-dev libzstd-dev liblzma-dev libbz2-dev libcurl4-openssl-dev
  libcmocka-dev bats jq skopeo isal zstd gzip tar file binutils docker-registry apache2-utils
  clang clang-format python3
)
if [ "${1:-}" = --bench ]; then
  packages+=(buildah)
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

need_update=0
for a in arm64 armhf; do
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    $SUDO dpkg --add-architecture "$a"
    need_update=1
  fi
done

if [ ${#missing[@]} -gt 0 ] || [ $need_update = 1 ] || [ ! -e /var/lib/apt/lists/lock ] ||
   ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
  # A mirror mid-sync can fail one index; what matters is what installs next.
  $SUDO apt-get update -qq || echo "deps: warning: apt-get update reported errors" >&2
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "deps: all installed"
