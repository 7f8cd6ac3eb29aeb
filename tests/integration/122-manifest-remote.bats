#!/usr/bin/env bats
# gantry manifest with remote references, against the real distribution
# registry (and a second instance for cross-registry copies): a local
# three-platform list pushed and pulled back per platform; lists created
# from remote references (manifests and configs only, no layers), amended,
# edited and pushed to the same repository, another repository (mounts)
# and another registry (copies); manifest inspect of remote references;
# errors that change nothing.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry" REG2DIR="$BATS_FILE_TMPDIR/registry2"
    start_registry "$REGDIR"
    export REG1=$REG
    start_registry "$REG2DIR"
    export REG2=$REG
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    # Per-platform images in the first registry, pushed by skopeo.
    local a
    for a in amd64 arm64 armhf; do
        skopeo copy -q --dest-tls-verify=false "oci:$GANTRY_ROOT:docker.io/demo/busybox:$a" \
            "docker://$REG1/src/busybox:$a"
    done
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
    stop_server "$REG2DIR"
}

setup() {
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    copy_file_store
    SRC_ROOT=$GANTRY_ROOT
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# empty_store NAME: switch to a new, empty store.
empty_store() {
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/$1"
}

# layer_machine ROOT MANIFEST_DIGEST: `file` on bin/busybox of the image's layer.
layer_machine() {
    local m="$1/blobs/sha256/${2#sha256:}" l
    l=$(jq -r '.layers[0].digest' "$m")
    rm -rf x && mkdir x
    tar -xzf "$1/blobs/sha256/${l#sha256:}" -C x ./bin/busybox
    file -b x/bin/busybox
}

# layer_blobs_local: how many layer blobs of the src images the store holds.
layer_blobs_local() {
    local n=0 a m l
    for a in amd64 arm64 armhf; do
        m=$(skopeo inspect --raw --tls-verify=false "docker://$REG1/src/busybox:$a")
        for l in $(jq -r '.layers[].digest' <<<"$m"); do
            [ ! -f "$GANTRY_ROOT/blobs/sha256/${l#sha256:}" ] || n=$((n + 1))
        done
    done
    echo $n
}

@test "manifest push: a local three-platform list, annotated; pulled back per platform" {
    local list=$REG1/local/busybox:multi
    "$GANTRY" manifest create "$list" demo/busybox:amd64 demo/busybox:arm64 demo/busybox:armhf
    "$GANTRY" manifest annotate "$list" demo/busybox:armhf --variant v7 --annotation org.example=1
    run --separate-stderr "$GANTRY" manifest push "$list"
    [ "$status" -eq 0 ]
    index=$(ref_field "$list" .digest)
    [ "$output" = "multi: digest: $index size: $(stat -c %s "$(blob "$index")")" ]
    skopeo inspect --raw --tls-verify=false "docker://$list" | cmp - "$(blob "$index")"
    for p in linux/arm64:aarch64 linux/arm/v7:ARM,; do
        empty_store "pull-${p%%:*}"
        run --separate-stderr "$GANTRY" pull --platform "${p%%:*}" "$list"
        [ "$status" -eq 0 ]
        child=$(jq -r --arg a "${p%%:*}" '.manifests[] | select(("linux/" +
            .platform.architecture + (if .platform.variant then "/" + .platform.variant
            else "" end)) == $a) | .digest' "$(blob "$index" | sed "s|$GANTRY_ROOT|$SRC_ROOT|")")
        [[ "$(layer_machine "$GANTRY_ROOT" "$child")" == *"${p#*:}"* ]]
    done
}

@test "manifest create: remote references read without layers; inspect; annotate; push" {
    empty_store remote
    local list=$REG1/src/busybox:multi
    run --separate-stderr "$GANTRY" manifest create "$list" "$REG1/src/busybox:amd64" \
        "docker://$REG1/src/busybox:arm64"
    [ "$status" -eq 0 ]
    [ "$(layer_blobs_local)" -eq 0 ]
    # index + 2 manifests + 2 configs
    [ "$(ls "$GANTRY_ROOT/blobs/sha256" | wc -l)" -eq 5 ]
    run "$GANTRY" manifest inspect --format '{{.Platform}} {{.Local}}' "$list"
    [ "$output" = "linux/amd64 no
linux/arm64 no" ]
    # Annotate by the remote reference the entry was read from.
    "$GANTRY" manifest annotate "$list" "$REG1/src/busybox:arm64" --os-version 1.2 \
        --os-features gpu
    [ "$(jq -r '.manifests[1].platform["os.version"]' "$(blob "$(ref_field "$list" .digest)")")" = 1.2 ]
    # Amend with a third platform, then remove one.
    "$GANTRY" manifest create --amend "$list" "$REG1/src/busybox:armhf" >/dev/null
    "$GANTRY" manifest remove "$list" linux/amd64 >/dev/null
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$list"
    echo "$output"
    [ "${lines[0]}" = "linux(gpu)/arm64" ] || [ "${lines[0]}" = "linux(1.2,gpu)/arm64" ] || [[ "${lines[0]}" == *arm64* && "${lines[0]}" == *gpu* ]]
    [ "${lines[1]}" = "linux/arm/v7" ]
    [ "${#lines[@]}" -eq 2 ]
    [ "$(layer_blobs_local)" -eq 0 ]
    run --separate-stderr "$GANTRY" --debug manifest push "$list"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"0 blobs uploaded (0 bytes)"* ]]
    skopeo inspect --raw --tls-verify=false "docker://$list" | cmp - "$(blob "$(ref_field "$list" .digest)")"
}

@test "manifest push: remote children mounted into another repository, copied to another registry" {
    empty_store remote
    local list=$REG1/other/busybox:multi
    "$GANTRY" manifest create "$list" "$REG1/src/busybox:amd64" "$REG1/src/busybox:arm64" >/dev/null
    run --separate-stderr "$GANTRY" --debug manifest push "$list"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"0 blobs uploaded (0 bytes), 4 mounted"* ]]
    skopeo inspect --raw --tls-verify=false "docker://$list" | cmp - "$(blob "$(ref_field "$list" .digest)")"
    run --separate-stderr "$GANTRY" --debug manifest push --purge "$list" "$REG2/copy/busybox:multi"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"4 blobs uploaded"*", 0 mounted"* ]]
    [ -z "$(ref_field "$list" .digest)" ]
    [ "$(layer_blobs_local)" -eq 0 ]
    empty_store pulled
    "$GANTRY" pull --platform linux/arm64 "$REG2/copy/busybox:multi" >/dev/null
    child=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' \
        "$(blob "$(ref_field "$REG2/copy/busybox:multi" .digest)")")
    [[ "$(layer_machine "$GANTRY_ROOT" "$child")" == *aarch64* ]]
}

@test "manifest inspect: remote references, nothing stored" {
    "$GANTRY" manifest create "$REG1/insp/busybox:multi" demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    "$GANTRY" manifest push "$REG1/insp/busybox:multi" >/dev/null
    empty_store none
    run --separate-stderr "$GANTRY" manifest inspect --raw "docker://$REG1/insp/busybox:multi"
    [ "$status" -eq 0 ]
    skopeo inspect --raw --tls-verify=false "docker://$REG1/insp/busybox:multi" | cmp - <(printf '%s' "$output")
    run --separate-stderr "$GANTRY" manifest inspect --format '{{.Platform}} {{.Local}}' \
        "$REG1/insp/busybox:multi"
    [ "$output" = "linux/amd64 no
linux/arm64 no" ]
    [ ! -e "$GANTRY_ROOT/blobs" ] || [ -z "$(ls -A "$GANTRY_ROOT/blobs/sha256")" ]
}

@test "manifest push: a child that exists nowhere is refused; nothing is pushed" {
    "$GANTRY" manifest create "$REG1/part/busybox:multi" demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    "$GANTRY" manifest push "$REG1/part/busybox:multi" >/dev/null
    empty_store partial
    "$GANTRY" pull --platform linux/amd64 "$REG1/part/busybox:multi" >/dev/null
    "$GANTRY" tag "$REG1/part/busybox:multi" "$REG1/nowhere/busybox:multi"
    state_before=$(store_state)
    # The arm64 child is not in the store, not in the destination
    # repository, and the list records no source for it.
    run --separate-stderr "$GANTRY" manifest push "$REG1/nowhere/busybox:multi"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: cannot push '$REG1/nowhere/busybox:multi': linux/arm64 (sha256:"*") is not in the store and not in the registry" ]]
    [ "$(store_state)" = "$state_before" ]
    run skopeo inspect --raw --tls-verify=false "docker://$REG1/nowhere/busybox:multi"
    [ "$status" -ne 0 ]
}
