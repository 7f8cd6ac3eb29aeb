#!/usr/bin/env bash
# The main job end to end, on one machine, from Debian packages only:
# import a real busybox rootfs for three platforms, combine them into one
# multi-platform image, inspect it the way Docker users do, save it as an
# OCI archive and as a Docker archive, and load the OCI archive back.
# (Combining them into one tag: `gantry manifest create`.) Then build a
# Dockerfile for three platforms in one command, push the result to a real
# distribution registry on loopback and pull one platform back.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
gantry="$top/build/bin/gantry"
fx="$top/tests/fixtures/cache"
work=$(mktemp -d /tmp/gantry-demo.XXXXXX)
export GANTRY_ROOT="$work/store"
trap 'bash "$top/tests/registry/stop-registry.sh" "$work/registry"; rm -rf "$work"' EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$gantry" version
step "$gantry" platform normalize aarch64 x86_64 armhf
step "$gantry" import --platform linux/amd64 -c 'CMD ["/bin/sh"]' "$fx/busybox-amd64.tar.gz" demo/busybox:amd64
step "$gantry" import --platform linux/arm64 -c 'CMD ["/bin/sh"]' "$fx/busybox-arm64.tar.zst" demo/busybox:arm64
step "$gantry" import --platform linux/arm/v7 -c 'CMD ["/bin/sh"]' "$fx/busybox-armhf.tar" demo/busybox:armv7
step "$gantry" manifest create demo/busybox:1.35 demo/busybox:amd64 demo/busybox:arm64 demo/busybox:armv7
step "$gantry" manifest inspect demo/busybox:1.35
step "$gantry" images
for p in linux/amd64 linux/arm64 linux/arm/v7; do
  step "$gantry" inspect --platform $p --format '{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}} {{.Id}}' demo/busybox:1.35
done
# No --platform: the host's platform is chosen, by containerd's matching rules.
step "$gantry" inspect --format '{{.Os}}/{{.Architecture}}' demo/busybox:1.35
step "$gantry" save -o "$work/busybox.oci.tar" demo/busybox:1.35
step "$gantry" save -o "$work/busybox-arm64.oci.tar" demo/busybox:arm64
step "$gantry" save --format docker -o "$work/busybox-amd64.docker.tar" demo/busybox:amd64
step "$gantry" rmi demo/busybox:1.35 demo/busybox:arm64
step "$gantry" prune
step "$gantry" load -i "$work/busybox.oci.tar"
step "$gantry" load -i "$work/busybox-arm64.oci.tar"
step "$gantry" images --digests
# One Dockerfile, three platforms, one command.
mkdir -p "$work/ctx"
cp "$fx/busybox-amd64/rootfs/bin/busybox" "$work/ctx/busybox-amd64"
cp "$fx/busybox-arm64/rootfs/bin/busybox" "$work/ctx/busybox-arm64"
cp "$fx/busybox-armhf/rootfs/bin/busybox" "$work/ctx/busybox-armv7"
cat > "$work/ctx/Dockerfile" <<'DOCKERFILE'
# A stage on the build platform gathers every binary; the final stage picks
# the one for the platform being built.
FROM --platform=$BUILDPLATFORM scratch AS all
COPY busybox-* /dist/
FROM scratch
ARG TARGETARCH
ARG TARGETVARIANT
COPY --from=all /dist/busybox-${TARGETARCH}${TARGETVARIANT} /bin/busybox
LABEL org.opencontainers.image.title="busybox for ${TARGETARCH}${TARGETVARIANT}"
CMD ["/bin/busybox", "sh"]
DOCKERFILE
step "$gantry" build --platform linux/amd64,linux/arm64,linux/arm/v7 -t demo/app:1 "$work/ctx"
step "$gantry" manifest inspect demo/app:1

# A real registry on loopback: push every platform, pull one back.
bash "$top/tests/registry/start-registry.sh" "$work/registry" >/dev/null
reg="127.0.0.1:$(cat "$work/registry/port")"
step "$gantry" push demo/app:1 "$reg/demo/app:1"
export GANTRY_ROOT="$work/store2"
step "$gantry" pull --platform linux/arm64 "$reg/demo/app:1"
step "$gantry" images
export GANTRY_ROOT="$work/store"

if command -v skopeo >/dev/null; then
  step skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:1.35"
  echo
  step skopeo inspect --format '{{.Os}}/{{.Architecture}}' "docker-archive:$work/busybox-amd64.docker.tar"
fi
echo
echo "demo: done"
