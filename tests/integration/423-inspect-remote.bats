#!/usr/bin/env bats
# gantry inspect --remote against the real distribution registry (Debian's
# docker-registry on a free 127.0.0.1 port): the same object as a local
# inspect, the platform chosen with the same rules, no layer fetched and
# nothing written to the store; platform and missing-tag errors.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
    export REG
    # demo/busybox:multi (three platforms) and demo/busybox:arm64 (one),
    # pushed with gantry.
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    "$GANTRY" manifest create demo/busybox:multi demo/busybox:amd64 demo/busybox:arm64 \
        demo/busybox:armhf >/dev/null
    "$GANTRY" push demo/busybox:multi "$REG/demo/busybox:multi" >/dev/null
    "$GANTRY" push demo/busybox:arm64 "$REG/single/busybox:1" >/dev/null
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    copy_file_store
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

@test "inspect --remote: --platform picks the entry, Id as locally, nothing stored" {
    before=$(store_state)
    run --separate-stderr "$GANTRY" inspect --remote --format '{{.Os}}/{{.Architecture}}' \
        --platform linux/arm64 "$REG/demo/busybox:multi"
    [ "$status" -eq 0 ]
    [ "$output" = "linux/arm64" ]
    for p in linux/amd64 linux/arm64 linux/arm/v7; do
        remote=$("$GANTRY" inspect --remote --platform "$p" --format '{{.Id}}' \
            "$REG/demo/busybox:multi")
        local_id=$("$GANTRY" inspect --platform "$p" --format '{{.Id}}' demo/busybox:multi)
        [ "$remote" = "$local_id" ]
        [[ "$remote" == sha256:* ]]
    done
    [ "$(store_state)" = "$before" ]
    # An empty store stays empty: it is not even created.
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/empty"
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm/v7 \
        --format '{{.Architecture}}/{{.Variant}}' "$REG/demo/busybox:multi"
    [ "$status" -eq 0 ]
    [ "$output" = "arm/v7" ]
    [ ! -e "$GANTRY_ROOT" ]
}

@test "inspect --remote: the same object as the local inspect, names aside" {
    "$GANTRY" inspect --remote "$REG/demo/busybox:multi" > remote.json
    "$GANTRY" inspect demo/busybox:multi > local.json
    # The host (pinned to linux/amd64) chooses, as locally.
    [ "$(jq -r '.[0].Architecture' remote.json)" = amd64 ]
    strip='.[0] | del(.RepoTags, .RepoDigests) | .Manifests |= map(del(.Present))'
    diff <(jq -S "$strip" local.json) <(jq -S "$strip" remote.json)
    # The layers were all stored: the local Size is the registry's too.
    [ "$(jq '.[0].Size' remote.json)" = "$(jq '.[0].Size' local.json)" ]
    [ "$(jq '.[0].Manifests | length' remote.json)" -eq 3 ]
    [ "$(jq '[.[0].Manifests[] | has("Present")] | any' remote.json)" = false ]
    index=$(ref_field docker.io/demo/busybox:multi .digest)
    [ "$(jq -r '.[0].RepoTags | join(",")' remote.json)" = "$REG/demo/busybox:multi" ]
    [ "$(jq -r '.[0].RepoDigests | join(",")' remote.json)" = "$REG/demo/busybox@$index" ]
}

@test "inspect --remote: a single-platform image shows whatever its platform" {
    run --separate-stderr "$GANTRY" inspect --remote --format '{{.Os}}/{{.Architecture}} {{.Id}}' \
        "$REG/single/busybox:1"
    [ "$status" -eq 0 ]
    [ "$output" = "linux/arm64 $("$GANTRY" inspect --format '{{.Id}}' demo/busybox:arm64)" ]
    "$GANTRY" inspect --remote "$REG/single/busybox:1" > single.json
    [ "$(jq '.[0] | has("Manifests")' single.json)" = false ]
    [ "$(jq -r '.[0].Descriptor.platform.architecture' single.json)" = arm64 ]
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/amd64 "$REG/single/busybox:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no matching manifest for linux/amd64 in '$REG/single/busybox:1' (it has: linux/arm64)" ]
}

@test "inspect --remote: an unknown platform lists what the image has" {
    before=$(store_state)
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/riscv64 "$REG/demo/busybox:multi"
    [ "$status" -eq 1 ]
    [ "$output" = "[]" ]
    [ "$stderr" = "gantry: no matching manifest for linux/riscv64 in '$REG/demo/busybox:multi' (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]
    [ "$(store_state)" = "$before" ]
}

@test "inspect --remote: a missing tag is a clear error, the other REFs still print" {
    run --separate-stderr "$GANTRY" inspect --remote --format '{{.Architecture}}' \
        "$REG/demo/busybox:nope" "$REG/single/busybox:1"
    [ "$status" -eq 1 ]
    [ "$output" = "arm64" ]
    [ "$stderr" = "gantry: fetch manifest '$REG/demo/busybox:nope': HTTP 404 not found: MANIFEST_UNKNOWN: manifest unknown" ]
    run --separate-stderr "$GANTRY" inspect --remote "$REG/nosuch/repo:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch manifest '$REG/nosuch/repo:1': HTTP 404 "* ]]
}

@test "inspect --remote: --insecure and --tls-verify" {
    run --separate-stderr "$GANTRY" inspect --remote --insecure --format '{{.Os}}' "$REG/single/busybox:1"
    [ "$status" -eq 0 ]
    [ "$output" = linux ]
    run --separate-stderr "$GANTRY" inspect --remote --tls-verify=false --format '{{.Os}}' "$REG/single/busybox:1"
    [ "$status" -eq 0 ]
    [ "$output" = linux ]
    run --separate-stderr "$GANTRY" inspect --remote --tls-verify=maybe "$REG/single/busybox:1"
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: invalid --tls-verify 'maybe': want true or false"* ]]
    run --separate-stderr "$GANTRY" inspect --insecure demo/busybox:arm64
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: --insecure and --tls-verify need --remote"* ]]
    run "$GANTRY" inspect --help
    [ "$status" -eq 0 ]
    [[ "$output" == *"--remote"* ]]
}

# Last: it removes a layer from the registry's storage.
@test "inspect --remote: layers are never fetched" {
    m=$(ref_field docker.io/demo/busybox:armhf .digest)
    layer=$(jq -r '.layers[0].digest' "$(blob "$m")")
    rm "$REGDIR/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer#sha256:}/data"
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm/v7 \
        --format '{{.Architecture}}/{{.Variant}} {{.Size}}' "$REG/demo/busybox:multi"
    [ "$status" -eq 0 ]
    [ "$output" = "arm/v7 $(jq '.layers[0].size' "$(blob "$m")")" ]
    # The layer is really gone: a pull fails.
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/pulled"
    run --separate-stderr "$GANTRY" pull --platform linux/arm/v7 "$REG/demo/busybox:multi"
    [ "$status" -eq 1 ]
}
