#!/usr/bin/env bats
# Local platform selection through nested indexes (a list made with
# `manifest create --no-flatten` of local images): inspect --platform,
# save --platform and a build's FROM and COPY --from choose through the
# nested index with the rules pull uses (an exact direct match first, else
# the best match at any level), skip what is not stored, list nested
# platforms in the error, and refuse indexes nested more than 4 deep.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    # inner: arm64 and amd64; outer: arm/v7 directly, inner nested.
    "$GANTRY" manifest create demo/inner:1 demo/busybox:arm64 demo/busybox:amd64 >/dev/null
    "$GANTRY" manifest create --no-flatten demo/outer:1 demo/busybox:armhf demo/inner:1 >/dev/null
}

setup() {
    copy_file_store
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# wrap DIGEST: store an index whose one entry is the index DIGEST; prints its digest.
wrap() {
    local f="$BATS_TEST_TMPDIR/wrap.json"
    jq -cj --arg d "$1" --argjson s "$(stat -c %s "$(blob "$1")")" --arg mt "$MT_INDEX" \
        '{schemaVersion: 2, mediaType: $mt, manifests: [{mediaType: $mt, digest: $d, size: $s}]}' \
        <<<'null' >"$f"
    put_blob "$f"
}

# name_index NAME DIGEST: the full name NAME for the stored index DIGEST.
name_index() {
    local f="$BATS_TEST_TMPDIR/named.json"
    cp "$(blob "$2")" "$f"
    add_ref "$1" "$MT_INDEX" "$f" >/dev/null
}

@test "inspect --platform: a platform only inside the nested index is found" {
    local arm64 amd64
    arm64=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' demo/busybox:arm64)
    amd64=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' demo/busybox:amd64)
    run --separate-stderr "$GANTRY" inspect --platform linux/arm64 \
        --format '{{.Architecture}} {{.Descriptor.digest}}' demo/outer:1
    [ "$status" -eq 0 ]
    # arm/v7, listed directly, would do for arm64; the nested arm64 is exact.
    [ "$output" = "arm64 $arm64" ]
    # No --platform: the host's (pinned to linux/amd64), nested too.
    run --separate-stderr "$GANTRY" inspect --format '{{.Architecture}} {{.Descriptor.digest}}' demo/outer:1
    [ "$output" = "amd64 $amd64" ]
    run --separate-stderr "$GANTRY" inspect --platform linux/arm/v7 --format '{{.Architecture}}/{{.Variant}}' demo/outer:1
    [ "$output" = "arm/v7" ]
}

@test "inspect --platform: no match lists the nested platforms" {
    run --separate-stderr "$GANTRY" inspect --platform linux/s390x demo/outer:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no matching manifest for linux/s390x in 'docker.io/demo/outer:1' (it has: linux/arm/v7, linux/arm64, linux/amd64)" ]
}

@test "inspect --platform: nested children not stored are listed, never chosen" {
    add_index docker.io/demo/part:1 demo/busybox:arm64 missing:linux/s390x >/dev/null
    "$GANTRY" manifest create --no-flatten demo/outer2:1 demo/busybox:armhf demo/part:1 >/dev/null
    run --separate-stderr "$GANTRY" inspect --platform linux/s390x demo/outer2:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: manifest for linux/s390x in 'docker.io/demo/outer2:1' is not in the store (it has: linux/arm/v7, linux/arm64, linux/s390x(missing))" ]
    # The nested index itself gone (a partial pull): skipped, named in the error.
    local inner
    inner=$(digest_of docker.io/demo/inner:1)
    "$GANTRY" rmi demo/inner:1 >/dev/null
    rm "$(blob "$inner")"
    run --separate-stderr "$GANTRY" inspect --platform linux/amd64 demo/outer:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no matching manifest for linux/amd64 in 'docker.io/demo/outer:1' (it has: linux/arm/v7, index ${inner:7:12}(missing))" ]
    # What is stored still serves: arm/v7 is arm64's best local fallback now.
    run --separate-stderr "$GANTRY" inspect --platform linux/arm64 --format '{{.Architecture}}/{{.Variant}}' demo/outer:1
    [ "$status" -eq 0 ]
    [ "$output" = "arm/v7" ]
}

@test "save --platform: the nested platform's manifest is saved and loads back" {
    local arm64
    arm64=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' demo/busybox:arm64)
    "$GANTRY" save --platform linux/arm64 -o one.tar demo/outer:1
    tar -xOf one.tar index.json >one.json
    [ "$(jq -r '.manifests | length' one.json)" = 1 ]
    [ "$(jq -r '.manifests[0].digest' one.json)" = "$arm64" ]
    [ "$(jq -r '.manifests[0].platform.architecture' one.json)" = arm64 ]
    # Into an empty store: the image is whole.
    GANTRY_ROOT="$BATS_TEST_TMPDIR/other" "$GANTRY" load -i one.tar -t demo/one:1 >/dev/null
    run --separate-stderr env GANTRY_ROOT="$BATS_TEST_TMPDIR/other" \
        "$GANTRY" inspect --format '{{.Architecture}} {{.Descriptor.digest}}' demo/one:1
    [ "$status" -eq 0 ]
    [ "$output" = "arm64 $arm64" ]
}

@test "build: FROM and COPY --from a list resolve arm64 inside its nested index" {
    mkdir ctx
    cat >ctx/Dockerfile <<'DF'
FROM demo/outer:1 AS base
LABEL from=outer

FROM scratch
COPY --from=demo/outer:1 /bin/busybox /bin/busybox
DF
    run --separate-stderr "$GANTRY" build --platform linux/arm64 --target base -t demo/app:1 ctx
    [ "$status" -eq 0 ]
    # The base is the nested arm64 image: same architecture, same layer.
    [ "$("$GANTRY" inspect --format '{{.Architecture}}' demo/app:1)" = arm64 ]
    [ "$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' demo/app:1)" = \
        "$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' demo/busybox:arm64)" ]
    run --separate-stderr "$GANTRY" build --platform linux/arm64 -t demo/copy:1 ctx
    [ "$status" -eq 0 ]
    local m l
    m=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' demo/copy:1)
    l=$(jq -r '.layers[0].digest' "$(blob "$m")")
    mkdir x
    tar -xzf "$(blob "$l")" -C x bin/busybox 2>/dev/null || tar -xzf "$(blob "$l")" -C x ./bin/busybox
    cmp x/bin/busybox "$GANTRY_FIXTURES/busybox-arm64/rootfs/bin/busybox"
}

@test "nesting depth: four levels below the list are read, a fifth is refused" {
    local d
    d=$(digest_of docker.io/demo/inner:1)
    for _ in 1 2 3; do d=$(wrap "$d"); done
    # top -> 3 wrappers -> inner: inner's arm64 is 4 levels down.
    name_index docker.io/demo/deep4:1 "$(wrap "$d")"
    run --separate-stderr "$GANTRY" inspect --platform linux/arm64 --format '{{.Architecture}}' demo/deep4:1
    [ "$status" -eq 0 ]
    [ "$output" = arm64 ]
    d=$(wrap "$d")
    name_index docker.io/demo/deep5:1 "$(wrap "$d")"
    inner=$(digest_of docker.io/demo/inner:1)
    run --separate-stderr "$GANTRY" inspect --platform linux/arm64 demo/deep5:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: indexes nested too deep in 'docker.io/demo/deep5:1': $inner is more than 4 levels down" ]
}
