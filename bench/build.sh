#!/usr/bin/env bash
# bench/build.sh: gantry build beside buildah, in one run, on a Dockerfile
# `FROM scratch` + `COPY tree/ /` (a ~1 GB tree of this machine's /usr, from
# bench/make-rootfs.sh) + a small second COPY, for linux/amd64 and
# linux/arm64, pushed to a local distribution registry:
#   (a) end to end, cold: gantry build --push (or build then push while
#       `build --push` does not exist) vs buildah build --manifest + buildah
#       manifest push --all; every run starts from an empty store, an empty
#       buildah storage and an empty registry (wiped untimed);
#   (b) layer creation: gantry build of one platform of a one-COPY Dockerfile
#       into an empty store vs tar -C tree -cf - . | igzip -1 | sha256sum;
#   (c) a no-change rebuild: the same two-platform build into a store that
#       already has it (the step cache's work), alone and with its push to
#       a registry that has it too.
# Prints seconds, ratios, the issue's targets and peak RSS (of the largest
# process of each command). Best of $BENCH_RUNS (default 2) runs each.
#
# Environment: BENCH_SIZE_MB (tree size, default 1024), BENCH_RUNS,
# BENCH_BUILDAH_DRIVER (overlay, the default, or vfs), GANTRY (the binary).
# Needs root and buildah (bash scripts/deps.sh --bench). buildah gets a
# private configuration under the work directory (nothing in /etc changes):
# storage.conf (driver, graphroot, runroot), registries.conf (the local
# registry insecure, no unqualified search), an empty containers.conf, an
# accept-anything signature policy, BUILDAH_ISOLATION=chroot, TMPDIR; and it
# runs in its own mount namespace with an empty directory bound over
# /var/lib/containers/cache, where containers/image keeps root's blob-info
# cache, so no run learns from an earlier one (or from skopeo).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
. "$top/tests/registry/lib.bash"
gantry=${GANTRY:-$top/build/bin/gantry}
out="$top/bench/out"
runs=${BENCH_RUNS:-2}
size_mb=${BENCH_SIZE_MB:-1024}
driver=${BENCH_BUILDAH_DRIVER:-overlay}
platforms=linux/amd64,linux/arm64

die() {
    echo "bench/build.sh: $*" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || die "run as root (buildah's own storage, unshare -m)"
command -v buildah >/dev/null || die "buildah is missing: bash scripts/deps.sh --bench"
[ -x "$gantry" ] || die "no gantry binary at '$gantry' (make build, or set GANTRY)"

tarball="$out/rootfs-${size_mb}m.tar"
[ "$size_mb" = 1024 ] && tarball="$out/rootfs-1g.tar" # shared with the other benches
bash "$top/bench/make-rootfs.sh" "$tarball" "$size_mb"

work=$(mktemp -d "$out/build.XXXXXX")
regdir="$work/registry"
trap 'stop_server "$regdir"; rm -rf "$work"' EXIT
export DOCKER_CONFIG="$work/docker" # no logins (buildah wants the file to exist)
mkdir -p "$DOCKER_CONFIG"
echo '{"auths": {}}' > "$DOCKER_CONFIG/config.json"

# The context: the tree, a small file, the two Dockerfiles.
ctx="$work/context"
mkdir -p "$ctx/tree"
tar -C "$ctx/tree" -xf "$tarball"
echo "bench/build.sh: the second, small layer" > "$ctx/small.txt"
printf 'FROM scratch\nCOPY tree/ /\nCOPY small.txt /etc/bench-small.txt\n' > "$ctx/Dockerfile"
printf 'FROM scratch\nCOPY tree/ /\n' > "$ctx/Dockerfile.layer"
bytes=$(du -sb "$ctx/tree" | cut -f1)
nfiles=$(find "$ctx/tree" -type f | wc -l)
mb=$(awk "BEGIN{printf \"%.0f\", $bytes/1e6}")
tar -C "$ctx/tree" -cf - . | cat > /dev/null # warm the page cache for everyone alike

start_registry "$regdir"
accept='application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.list.v2+json'
accept+=',application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'

# buildah's private configuration (see the top of this file).
bh="$work/buildah"
mkdir -p "$bh/tmp" "$bh/blob-info-cache"
cat > "$bh/storage.conf" <<EOF
[storage]
driver = "$driver"
graphroot = "$bh/storage"
runroot = "$bh/run"
EOF
cat > "$bh/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REG"
insecure = true
EOF
: > "$bh/containers.conf"
echo '{"default": [{"type": "insecureAcceptAnything"}]}' > "$bh/policy.json"
cat > "$bh/buildah" <<EOF
#!/usr/bin/env bash
export CONTAINERS_STORAGE_CONF='$bh/storage.conf'
export CONTAINERS_REGISTRIES_CONF='$bh/registries.conf'
export CONTAINERS_CONF='$bh/containers.conf'
export BUILDAH_ISOLATION=chroot
export TMPDIR='$bh/tmp'
# (mkdir -p only makes the directory buildah itself would make)
exec unshare -m bash -c 'mkdir -p /var/lib/containers/cache &&
    mount --bind "\$0" /var/lib/containers/cache && exec buildah "\$@"' '$bh/blob-info-cache' "\$@"
EOF
chmod +x "$bh/buildah"
fresh_buildah() {
    rm -rf "$bh/storage" "$bh/run" "$bh/blob-info-cache" "$bh/tmp"
    mkdir -p "$bh/blob-info-cache" "$bh/tmp"
}

# check_pushed TAG LAYERS: the registry has TAG as an index of linux/amd64
# and linux/arm64 images of LAYERS layers each (buildah build without
# --layers squashes a stage's steps into one layer).
check_pushed() {
    local idx d n
    idx=$(curl -sf -H "Accept: $accept" "http://$REG/v2/bench/app/manifests/$1") ||
        die "bench/app:$1 is not in the registry"
    [ "$(jq -r '[.manifests[].platform.architecture] | sort | join(",")' <<< "$idx")" = amd64,arm64 ] ||
        die "bench/app:$1 is not a linux/amd64 + linux/arm64 index: $idx"
    for d in $(jq -r '.manifests[].digest' <<< "$idx"); do
        n=$(curl -sf -H "Accept: $accept" "http://$REG/v2/bench/app/manifests/$d" | jq '.layers | length') ||
            die "bench/app:$1: no manifest $d"
        [ "$n" = "$2" ] || die "bench/app:$1 ($d) has $n layers, want $2"
    done
}

# (a) end to end, the two tools interleaved run by run.
ghelp=$("$gantry" build --help 2>&1 || true)
gpush=0
gmode="gantry build, then gantry push (no build --push yet)"
if grep -q -- --push <<< "$ghelp"; then
    gpush=1
    gmode="gantry build --push"
fi
gantry_e2e() { # STORE TAG: the end-to-end gantry command, to bench/app:TAG
    local g="GANTRY_ROOT='$1' '$gantry' --progress quiet" ref="$REG/bench/app:$2"
    if [ $gpush = 1 ]; then
        echo "$g build -q --platform $platforms -t $ref --push '$ctx'"
    else
        echo "$g build -q --platform $platforms -t $ref '$ctx' && $g push -q $ref"
    fi
}
gstore="$work/gantry-store"
gcmd=$(gantry_e2e "$gstore" g)
bcmd="'$bh/buildah' build -q --signature-policy '$bh/policy.json' --platform $platforms"
bcmd+=" --manifest bench-app '$ctx' && '$bh/buildah' manifest push -q --signature-policy"
bcmd+=" '$bh/policy.json' --all --tls-verify=false bench-app docker://$REG/bench/app:b"
for _ in $(seq "$runs"); do
    rm -rf "$gstore" "$regdir/data/docker"
    keep_best gend "$gcmd"
    check_pushed g 2
    fresh_buildah
    rm -rf "$regdir/data/docker"
    keep_best bend "$bcmd"
    check_pushed b 1
done
fresh_buildah

# (b) one layer of the tree.
lstore="$work/layer-store"
for _ in $(seq "$runs"); do
    rm -rf "$lstore"
    keep_best glayer "GANTRY_ROOT='$lstore' '$gantry' --progress quiet build -q --platform linux/amd64 -f '$ctx/Dockerfile.layer' -t bench/layer:1 '$ctx'"
    keep_best igzip "tar -C '$ctx/tree' -cf - . | igzip -1 | sha256sum"
done
rm -rf "$lstore"

# (c) no change: the same build again into the store that has it (the
# step cache's work, once there is one), alone and with the push to a
# registry that has it too (the end-to-end command again).
rstore="$work/rebuild-store"
rcmd="GANTRY_ROOT='$rstore' '$gantry' --progress quiet build -q --platform $platforms -t $REG/bench/app:r '$ctx'"
rpcmd=$(gantry_e2e "$rstore" r)
rm -rf "$regdir/data/docker"
bash -c "$rpcmd" > /dev/null
best_of "$runs" grebuild "$rcmd"
best_of "$runs" grepush "$rpcmd"
check_pushed r 2

yesno() { # VALUE OP LIMIT
    awk -v v="$1" -v l="$3" -v op="$2" \
        'BEGIN{ok = op == ">=" ? v >= l : op == "<=" ? v <= l : v < l; print ok ? "yes" : "no"}'
}
speedup=$(awk "BEGIN{printf \"%.2f\", $bend_secs/$gend_secs}")
lratio=$(awk "BEGIN{printf \"%.2f\", $glayer_secs/$igzip_secs}")
row() { # name gantry-secs other-secs ratio target met gantry-rss other-rss
    printf '| %-34s | %8.2f | %8s | %7s | %-8s | %-3s | %10.1f | %9s |\n' "$@"
}
mib() { awk "BEGIN{printf \"%.1f\", $1/1024}"; }
echo
echo "gantry build beside buildah $(buildah --version | cut -d' ' -f3) (storage $driver, isolation chroot):"
echo "FROM scratch + COPY of a ${mb} MB tree (${nfiles} files) + a small COPY, for linux/amd64"
echo "and linux/arm64, pushed to a local registry; best of $runs; gantry: $gmode"
echo
echo "| measurement                        | gantry s |  other s |   ratio | target   | met | gantry MiB | other MiB |"
echo "| ---------------------------------- | -------- | -------- | ------- | -------- | --- | ---------- | --------- |"
row "end to end (other: buildah)" "$gend_secs" "$bend_secs" "${speedup}x" ">= 5x" \
    "$(yesno "$speedup" ">=" 5)" "$(mib "$gend_rss")" "$(mib "$bend_rss")"
row "one layer (other: igzip pipeline)" "$glayer_secs" "$igzip_secs" "${lratio}x" "<= 1.5x" \
    "$(yesno "$lratio" "<=" 1.5)" "$(mib "$glayer_rss")" "$(mib "$igzip_rss")"
row "no-change rebuild (2 platforms)" "$grebuild_secs" "-" "-" "< 0.2 s" \
    "$(yesno "$grebuild_secs" "<" 0.2)" "$(mib "$grebuild_rss")" "-"
row "no-change rebuild + push" "$grepush_secs" "-" "-" "-" "-" "$(mib "$grepush_rss")" "-"
echo
echo "end to end ratio = buildah / gantry (speed-up); one layer ratio = gantry / pipeline,"
echo "the pipeline being tar -C tree -cf - . | igzip -1 | sha256sum;"
echo "one layer = gantry build of 'FROM scratch + COPY tree/ /' for linux/amd64 into an empty store;"
echo "MiB = peak RSS of the largest process of the command (GNU time %M)"
