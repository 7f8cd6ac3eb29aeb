#!/usr/bin/env bats
# pull and copy through a nested index, against the real distribution
# registry: a list (amd64, a nested index holding arm64 only, arm/v7) made
# by `manifest create --no-flatten` and pushed. --platform finds arm64
# inside the nested index and stores the list, the nested index and the
# arm64 image; the error for a missing platform lists the nested ones;
# --all-platforms and a plain copy take every level; an index nested more
# than 4 levels down (PUT raw with curl) is refused.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
    export REG
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    "$GANTRY" manifest create demo/busybox:inner demo/busybox:arm64 >/dev/null
    export LIST=$REG/pn/outer:1
    "$GANTRY" manifest create --no-flatten "$LIST" demo/busybox:amd64 demo/busybox:inner \
        demo/busybox:armhf >/dev/null
    "$GANTRY" manifest push "$LIST" >/dev/null
    export OUTER INNER ARM64 AMD64 ARMHF
    OUTER=$(ref_field "$LIST" .digest)
    INNER=$(ref_field docker.io/demo/busybox:inner .digest)
    ARM64=$(ref_field docker.io/demo/busybox:arm64 .digest)
    AMD64=$(ref_field docker.io/demo/busybox:amd64 .digest)
    ARMHF=$(ref_field docker.io/demo/busybox:armhf .digest)
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    store_setup "$BATS_TEST_TMPDIR/pulled"
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# busybox_machine ROOT MANIFEST_DIGEST: `file` on bin/busybox of the image's layer.
busybox_machine() {
    local m="$1/blobs/sha256/${2#sha256:}" l
    l=$(jq -r '.layers[0].digest' "$m")
    rm -rf x && mkdir x
    tar -xzf "$1/blobs/sha256/${l#sha256:}" -C x ./bin/busybox
    file -b x/bin/busybox
}

# has DIGEST...: each is a blob of the store.
has() {
    local d
    for d; do [ -f "$(blob "$d")" ] || { echo "missing $d"; return 1; }; done
}

# lacks DIGEST...: none is a blob of the store.
lacks() {
    local d
    for d; do [ ! -e "$(blob "$d")" ] || { echo "present $d"; return 1; }; done
}

@test "pull --platform: a platform only the nested index has; what is stored" {
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$LIST"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(digest_of "$LIST")" = "$OUTER" ]
    # The list, the nested index and the arm64 image; no other image.
    has "$OUTER" "$INNER" "$ARM64"
    cmp "$(blob "$INNER")" <(skopeo inspect --raw --tls-verify=false "docker://$REG/pn/outer@$INNER")
    lacks "$AMD64" "$ARMHF"
    [[ "$(busybox_machine "$GANTRY_ROOT" "$ARM64")" == *aarch64* ]]
    # skopeo still reads the store: the list's bytes, and the image by digest.
    cmp <(skopeo inspect --raw "oci:$GANTRY_ROOT:$LIST") "$(blob "$OUTER")"
    run skopeo inspect --raw "oci:$GANTRY_ROOT:$LIST"
    [ "$status" -eq 0 ]
    # gantry lists the nested index as local, the direct platforms missing.
    run "$GANTRY" manifest inspect --format '{{.Kind}}|{{.Platform}}|{{.Platforms}}|{{.Local}}' "$LIST"
    [ "$output" = "image|linux/amd64||no
index|unknown|linux/arm64|yes
image|linux/arm/v7||no" ]

    # A direct match is taken without reading the nested index.
    store_setup "$BATS_TEST_TMPDIR/direct"
    "$GANTRY" pull --platform linux/arm/v7 "$LIST" >/dev/null 2>&1
    has "$OUTER" "$ARMHF"
    lacks "$INNER" "$ARM64" "$AMD64"
}

@test "pull --platform: the error lists the nested index's platforms" {
    run --separate-stderr "$GANTRY" pull --platform linux/riscv64 "$LIST"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no linux/riscv64 image in $LIST (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]
    # Nothing was stored under the name.
    run "$GANTRY" images -q
    [ -z "$output" ]
}

@test "pull --all-platforms: every level of the list" {
    run --separate-stderr "$GANTRY" --debug pull --all-platforms "$LIST"
    echo "$stderr"
    [ "$status" -eq 0 ]
    has "$OUTER" "$INNER" "$ARM64" "$AMD64" "$ARMHF"
    local d
    for d in "$ARM64" "$AMD64" "$ARMHF"; do
        has $(jq -r '.config.digest, .layers[].digest' "$(blob "$d")")
    done
    run "$GANTRY" manifest inspect --format '{{.Kind}}|{{.Local}}' "$LIST"
    [ "$output" = "image|yes
index|yes
image|yes" ]
}

@test "copy --platform through the nested index; a plain copy takes every level" {
    run --separate-stderr "$GANTRY" copy --platform linux/arm64 "docker://$LIST" "oci:$PWD/one:1"
    echo "$stderr"
    [ "$status" -eq 0 ]
    # One platform: the arm64 manifest alone, its digest kept.
    [ "$(jq -r '.manifests[0].digest' one/index.json)" = "$ARM64" ]
    [[ "$(busybox_machine "$PWD/one" "$ARM64")" == *aarch64* ]]
    skopeo inspect "oci:$PWD/one:1" | jq -e '.Architecture == "arm64"'

    # Two platforms: a new, flat index of the chosen entries.
    run --separate-stderr "$GANTRY" copy --platform linux/arm64,linux/amd64 "docker://$LIST" "oci:$PWD/two:1"
    [ "$status" -eq 0 ]
    local top
    top=$(jq -r '.manifests[0].digest' two/index.json)
    jq -e --arg a "$ARM64" --arg b "$AMD64" '[.manifests[].digest] == [$a, $b]' \
        "two/blobs/sha256/${top#sha256:}"
    jq -e '[.manifests[].platform.architecture] == ["arm64", "amd64"]' "two/blobs/sha256/${top#sha256:}"

    run --separate-stderr "$GANTRY" copy --platform linux/s390x "docker://$LIST" "oci:$PWD/none:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no linux/s390x image in $LIST (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]

    # No --platform: the list, the nested index and every image, same bytes.
    run --separate-stderr "$GANTRY" copy "docker://$LIST" "oci:$PWD/all:1"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.manifests[0].digest' all/index.json)" = "$OUTER" ]
    local d
    for d in "$OUTER" "$INNER" "$ARM64" "$AMD64" "$ARMHF"; do
        [ -f "all/blobs/sha256/${d#sha256:}" ]
    done
    cmp <(skopeo inspect --raw "oci:$PWD/all:1") "all/blobs/sha256/${OUTER#sha256:}"
    # And registry to registry: the nested index goes before the list.
    run --separate-stderr "$GANTRY" copy "docker://$LIST" "docker://$REG/pn-copy/outer:1"
    echo "$stderr"
    [ "$status" -eq 0 ]
    cmp <(skopeo inspect --raw --tls-verify=false "docker://$REG/pn-copy/outer@$INNER") \
        "all/blobs/sha256/${INNER#sha256:}"
    [ "$(skopeo inspect --raw --tls-verify=false "docker://$REG/pn-copy/outer:1" | sha256sum | cut -d' ' -f1)" = "${OUTER#sha256:}" ]
}

@test "an index nested more than 4 levels down is refused; 4 levels are read" {
    local repo=pn/deep
    # The arm64 image in the repository, then indexes around it, by digest.
    "$GANTRY" --root "$BATS_FILE_TMPDIR/base" push demo/busybox:arm64 "$REG/$repo:arm64" >/dev/null
    put_nested_chain "$repo" "$ARM64" "$(stat -c %s "$BATS_FILE_TMPDIR/base/blobs/sha256/${ARM64#sha256:}")" 5
    # Tag 5: the top and 4 nested indexes, the image in the last.
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$REG/$repo:5"
    echo "$stderr"
    [ "$status" -eq 0 ]
    has "$ARM64"
    # Tag 6: one level more; the index of tag 1 is 5 levels down.
    local fifth
    fifth=$(skopeo inspect --raw --tls-verify=false "docker://$REG/$repo:1" | sha256sum | cut -d' ' -f1)
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$REG/$repo:6"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: indexes nested too deep in '$REG/$repo:6': sha256:$fifth is more than 4 levels down" ]
    run --separate-stderr "$GANTRY" pull --all-platforms "$REG/$repo:6"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: indexes nested too deep in '$REG/$repo:6': sha256:$fifth is more than 4 levels down" ]
    run --separate-stderr "$GANTRY" copy "docker://$REG/$repo:6" "oci:$PWD/deep:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: indexes nested too deep in '$REG/$repo:6': sha256:$fifth is more than 4 levels down" ]
    # Only what tag 5 stored is named.
    [ "$(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$GANTRY_ROOT/index.json")" = "$REG/$repo:5" ]
}
