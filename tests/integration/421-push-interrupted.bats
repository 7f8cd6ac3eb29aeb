#!/usr/bin/env bats
# The real registry stopped in the middle of a push, then restarted on the
# same storage: `gantry push` again completes and uploads only what the
# registry does not have yet.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    REGDIR="$BATS_TEST_TMPDIR/registry"
    store_setup
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

teardown() {
    stop_server "$REGDIR"
}

# registry_has_blob DIGEST: the blob is committed in the registry's storage.
registry_has_blob() {
    local h=${1#sha256:}
    [ -f "$REGDIR/data/docker/registry/v2/blobs/sha256/${h:0:2}/$h/data" ]
}

@test "push: stopped by the registry going down, completed after its restart" {
    # A two-platform image with a 48 MiB layer (random, so compression
    # cannot shrink it): its upload takes long enough to be cut.
    mkdir rootfs
    head -c 48M /dev/urandom > rootfs/big
    tar -C rootfs -cf big.tar .
    "$GANTRY" import --platform linux/amd64 big.tar demo/big:amd64 >/dev/null
    import_busybox arm64 linux/arm64 demo/big:arm64
    "$GANTRY" manifest create demo/big:multi demo/big:amd64 demo/big:arm64 >/dev/null
    config=$("$GANTRY" inspect --platform linux/amd64 --format '{{.Id}}' demo/big:multi)

    start_registry "$REGDIR"
    # The arm64 child is there already; then the whole image, one job:
    # the largest blob (the big layer) goes first, and is cut.
    "$GANTRY" push -q --platform linux/arm64 demo/big:multi "$REG/big/image:arm64" >/dev/null
    "$GANTRY" --debug push --jobs 1 demo/big:multi "$REG/big/image:1" > push1.out 2> push1.err &
    pid=$!
    uploads="$REGDIR/data/docker/registry/v2/repositories/big/image/_uploads"
    for _ in $(seq 1 1000); do
        [ -n "$(find "$uploads" -name data -size +1M 2>/dev/null)" ] && break
        sleep 0.01
    done
    [ -n "$(find "$uploads" -name data -size +1M 2>/dev/null)" ]
    stop_server "$REGDIR"
    # The client retries a while (see docs/registry.md) before giving up.
    rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 1 ]
    # Usually the big layer's upload is cut; on a loaded machine it may end
    # just before the stop, and the next blob's HEAD is what fails.
    grep -Eq "^gantry: (push|head) blob '$REG/big/image@sha256:" push1.err
    run skopeo inspect --raw --tls-verify=false "docker://$REG/big/image:1"
    [ "$status" -ne 0 ]

    start_registry "$REGDIR"
    run --separate-stderr "$GANTRY" --debug push --jobs 1 demo/big:multi "$REG/big/image:1"
    [ "$status" -eq 0 ]
    # Only what is missing goes up: the big layer (unless it ended just
    # before the stop) and the amd64 config; arm64's blobs were there.
    line=$(grep '^push: ' <<<"$stderr")
    uploaded=$(sed -E 's/^push: ([0-9]+) blobs uploaded.*/\1/' <<<"$line")
    present=$(sed -E 's/.* ([0-9]+) already present.*/\1/' <<<"$line")
    [ "$present" -ge 2 ]
    [ "$uploaded" -ge 1 ]
    [ $((uploaded + present)) -eq 4 ]
    [[ "$line" == *", 2 manifests written" ]] # the arm64 manifest was there too
    registry_has_blob "$config"
    skopeo inspect --raw --tls-verify=false "docker://$REG/big/image:1" |
        cmp - <("$GANTRY" manifest inspect --raw demo/big:multi)
    run --separate-stderr "$GANTRY" --debug push demo/big:multi "$REG/big/image:1"
    [[ "$stderr" == *"push: 0 blobs uploaded (0 bytes), 0 mounted, 4 already present, 0 manifests written"* ]]
}
