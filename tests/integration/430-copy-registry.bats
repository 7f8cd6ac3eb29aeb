#!/usr/bin/env bats
# gantry copy against two real distribution registries on loopback ports:
# registry -> registry (same registry: mounted; another: copied, digests
# identical), registry <-> oci:DIR (read by skopeo), store -> oci-archive,
# --platform subsets, and errors that leave nothing at the destination.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry" REGDIR2="$BATS_FILE_TMPDIR/registry2"
    start_registry "$REGDIR"
    export REG1=$REG
    start_registry "$REGDIR2"
    export REG2=$REG
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    "$GANTRY" manifest create demo/busybox:multi demo/busybox:amd64 demo/busybox:arm64 \
        demo/busybox:armhf >/dev/null
    "$GANTRY" push -q demo/busybox:multi "$REG1/src/busybox:multi" >/dev/null
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
    stop_server "$REGDIR2"
}

setup() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    copy_file_store
    cd "$BATS_TEST_TMPDIR"
}

teardown() {
    if [ -e "$BATS_TEST_TMPDIR/fake/pid" ]; then
        stop_server "$BATS_TEST_TMPDIR/fake"
    fi
}

raw() {
    skopeo inspect --raw --tls-verify=false "docker://$1"
}

@test "copy: same registry, another repository: every blob mounted" {
    run --separate-stderr "$GANTRY" --debug copy "docker://$REG1/src/busybox:multi" "$REG1/dst/busybox:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"copy: 0 blobs copied (0 bytes), 6 mounted, 0 already present, 4 manifests written"* ]]
    [ "$(raw "$REG1/dst/busybox:1")" = "$(raw "$REG1/src/busybox:multi")" ]
    # Again: everything is there already.
    run --separate-stderr "$GANTRY" --debug copy "docker://$REG1/src/busybox:multi" "$REG1/dst/busybox:1"
    [[ "$stderr" == *"0 mounted, 6 already present, 1 manifests written"* ]]
}

@test "copy: another registry: blobs copied, digests identical" {
    run --separate-stderr "$GANTRY" --debug copy "docker://$REG1/src/busybox:multi" "docker://$REG2/other/busybox:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"copy: 6 blobs copied"*", 0 mounted, 0 already present"* ]]
    [ "$(raw "$REG2/other/busybox:1")" = "$(raw "$REG1/src/busybox:multi")" ]
    # Every child readable at the destination, by digest.
    for d in $(raw "$REG1/src/busybox:multi" | jq -r '.manifests[].digest'); do
        skopeo inspect --raw --tls-verify=false "docker://$REG2/other/busybox@$d" >/dev/null
    done
}

@test "copy: registry to oci:DIR read by skopeo, and oci:DIR back to a registry" {
    run --separate-stderr "$GANTRY" copy "$REG1/src/busybox:multi" "oci:$BATS_TEST_TMPDIR/layout:v1"
    [ "$status" -eq 0 ]
    [ "$output" = "oci:$BATS_TEST_TMPDIR/layout:v1: digest: $(raw "$REG1/src/busybox:multi" | sha256sum | sed 's/^/sha256:/; s/ .*//') size: $(raw "$REG1/src/busybox:multi" | wc -c)" ]
    [ "$(skopeo inspect --raw "oci:$BATS_TEST_TMPDIR/layout:v1")" = "$(raw "$REG1/src/busybox:multi")" ]
    skopeo inspect --override-arch arm64 "oci:$BATS_TEST_TMPDIR/layout:v1" | jq -e '.Architecture == "arm64"'
    run --separate-stderr "$GANTRY" copy -q "oci:$BATS_TEST_TMPDIR/layout:v1" "docker://$REG2/fromoci/busybox:1"
    [ "$status" -eq 0 ]
    [ "$output" = "$REG2/fromoci/busybox:1" ]
    [ "$(raw "$REG2/fromoci/busybox:1")" = "$(raw "$REG1/src/busybox:multi")" ]
}

@test "copy: gantry:REF to oci-archive:FILE, readable by skopeo and gantry load" {
    run --separate-stderr "$GANTRY" copy --platform linux/arm64 gantry:demo/busybox:multi "oci-archive:$BATS_TEST_TMPDIR/a.tar"
    [ "$status" -eq 0 ]
    arm64=$("$GANTRY" inspect --platform linux/arm64 --format '{{.Descriptor.digest}}' demo/busybox:multi)
    [ "$(skopeo inspect --raw "oci-archive:$BATS_TEST_TMPDIR/a.tar" | sha256sum | cut -d' ' -f1)" = "${arm64#sha256:}" ]
    # Nothing left beside the archive.
    [ "$(ls -A "$BATS_TEST_TMPDIR" | grep -c gantry-copy)" = 0 ]
    # And back from the archive into a registry.
    run --separate-stderr "$GANTRY" copy "oci-archive:$BATS_TEST_TMPDIR/a.tar" "$REG2/fromarchive/busybox:1"
    [ "$status" -eq 0 ]
    [ "$(raw "$REG2/fromarchive/busybox:1" | sha256sum | cut -d' ' -f1)" = "${arm64#sha256:}" ]
}

@test "copy --platform: a smaller index with the chosen children" {
    run --separate-stderr "$GANTRY" copy --platform linux/arm64,linux/arm/v7 "$REG1/src/busybox:multi" "$REG2/sub/busybox:two"
    [ "$status" -eq 0 ]
    run raw "$REG2/sub/busybox:two"
    [ "$(jq -r '[.manifests[].platform.architecture] | join(",")' <<<"$output")" = "arm64,arm" ]
    src=$(raw "$REG1/src/busybox:multi")
    [ "$(jq -r '[.manifests[].digest] | join(",")' <<<"$output")" = \
      "$(jq -r '[.manifests[] | select(.platform.architecture != "amd64") | .digest] | join(",")' <<<"$src")" ]
    [ "${#output}" -lt "${#src}" ]
}

@test "copy: errors are clear and write nothing at the destination" {
    run --separate-stderr "$GANTRY" copy "dir:/x" "oci:$BATS_TEST_TMPDIR/e1"
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: unknown transport 'dir' in 'dir:/x' (want docker://, gantry:, oci: or oci-archive:)"* ]]
    run --separate-stderr "$GANTRY" copy "$REG1/src/nothing:1" "oci:$BATS_TEST_TMPDIR/e2"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: "*"src/nothing:1"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/e2" ]
    run --separate-stderr "$GANTRY" copy --platform linux/riscv64 "$REG1/src/busybox:multi" "$REG2/bad/busybox:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no linux/riscv64 image in $REG1/src/busybox:multi (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]
    run skopeo inspect --raw --tls-verify=false "docker://$REG2/bad/busybox:1"
    [ "$status" -ne 0 ]
    run --separate-stderr "$GANTRY" copy --platform linux/nope/x/y "$REG1/src/busybox:multi" "oci:$BATS_TEST_TMPDIR/e3"
    [ "$status" -ne 0 ]
    [[ "$stderr" == "gantry: "*"platform"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/e3" ]
    run --separate-stderr "$GANTRY" copy "oci-archive:$BATS_TEST_TMPDIR/none.tar" "$REG2/bad/busybox:2"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: open '$BATS_TEST_TMPDIR/none.tar'"* ]]
}

# big_image NAME: a one-platform image with a 12 MiB random layer (three
# times the copy stream's buffer), pushed to $REG1/src/NAME:1.
big_image() {
    mkdir -p rootfs
    head -c 12M /dev/urandom > rootfs/big
    tar -C rootfs -cf big.tar .
    "$GANTRY" import --platform linux/amd64 big.tar "demo/$1:1" >/dev/null
    "$GANTRY" push -q "demo/$1:1" "$REG1/src/$1:1" >/dev/null
}

@test "copy: registry to registry streams, no scratch file, bounded memory" {
    big_image big
    # Nowhere to put a temporary file: a scratch copy of a blob would fail.
    run --separate-stderr env TMPDIR="$BATS_TEST_TMPDIR/none" /usr/bin/time -f '%M' -o rss \
        "$GANTRY" --debug copy "docker://$REG1/src/big:1" "docker://$REG2/big/stream:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"copy: 2 blobs copied"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/none" ]
    [ "$(raw "$REG2/big/stream:1")" = "$(raw "$REG1/src/big:1")" ]
    layer=$(raw "$REG1/src/big:1" | jq -r '.layers[0].digest')
    [ "$(curl -fsS "http://$REG2/v2/big/stream/blobs/$layer" | sha256sum | cut -d' ' -f1)" = "${layer#sha256:}" ]
    # Peak RSS (kB) within the 64 MB target.
    [ "$(cat rss)" -lt 65536 ]
}

@test "copy: a cut upload resumes by fetching the source again from the destination's offset" {
    big_image cut
    start_fake "$BATS_TEST_TMPDIR/fake" --fault patch-cut-once
    run --separate-stderr "$GANTRY" --debug copy --chunk-size 1m "docker://$REG1/src/cut:1" "docker://$FAKE/dst/cut:1"
    [ "$status" -eq 0 ]
    layer=$(raw "$REG1/src/cut:1" | jq -r '.layers[0].digest')
    # The first PATCH was cut halfway (512 KiB in): the registry said so,
    # and the source was fetched again from there with Range.
    [ "$(requests "$BATS_TEST_TMPDIR/fake" 'select(.method == "GET" and (.path | contains("/blobs/uploads/"))) | .status')" = 204 ]
    [[ "$stderr" == *"blob $layer: fetching the source again from byte 524288"* ]]
    # The fake registry verified the digest of the whole blob (PUT 201).
    [ "$(requests "$BATS_TEST_TMPDIR/fake" 'select(.method == "PUT" and (.path | contains("/blobs/uploads/"))) | .status' | sort -u)" = 201 ]
    [ "$(raw "$FAKE/dst/cut:1")" = "$(raw "$REG1/src/cut:1")" ]
}

@test "copy: a truncated source blob stops the upload, nothing is committed" {
    start_fake "$BATS_TEST_TMPDIR/fake" --fault blob-truncated
    "$GANTRY" push -q --platform linux/arm64 demo/busybox:multi "$FAKE/src/busybox:1" >/dev/null
    run --separate-stderr "$GANTRY" copy "docker://$FAKE/src/busybox:1" "docker://$REG2/trunc/busybox:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: "*"size mismatch: got "*" bytes, want "* ]]
    run skopeo inspect --raw --tls-verify=false "docker://$REG2/trunc/busybox:1"
    [ "$status" -ne 0 ]
    # No layer of the image was committed at the destination.
    [ -z "$(find "$REGDIR2/data/docker/registry/v2/repositories/trunc" -path '*/_layers/*' -name link 2>/dev/null)" ]
}

@test "copy: a corrupt source blob (right size, wrong bytes) fails on its digest" {
    start_fake "$BATS_TEST_TMPDIR/fake" --fault blob-corrupt
    "$GANTRY" push -q --platform linux/arm64 demo/busybox:multi "$FAKE/src/busybox:1" >/dev/null
    run --separate-stderr "$GANTRY" copy "docker://$FAKE/src/busybox:1" "docker://$REG2/corrupt/busybox:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: "*"digest mismatch: got sha256:"*", want sha256:"* ]]
    [ -z "$(find "$REGDIR2/data/docker/registry/v2/repositories/corrupt" -path '*/_layers/*' -name link 2>/dev/null)" ]
}
