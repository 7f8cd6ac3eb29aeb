#!/usr/bin/env bats
# The seed's two-step flow of issue 4, against the real distribution
# registry: per-platform images pushed (or not) under their own tags, a
# list made of them, one entry annotated, the list pushed; skopeo sees both
# platforms and a pull of linux/arm64 gets the aarch64 busybox. Also a
# list keeping a nested index child that exists only remotely.

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
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    store_setup
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# seed_images REPO MAC_PLATFORM: REPO:1.0-intel (amd64 busybox) and
# REPO:1.0-mac (arm64 busybox imported as MAC_PLATFORM, "" for the host's).
seed_images() {
    import_busybox amd64 linux/amd64 "$1:1.0-intel"
    import_busybox arm64 "$2" "$1:1.0-mac"
}

# check_pushed LIST: the registry has exactly the stored index, with the
# platforms linux/amd64 and linux/arm64; linux/arm64 pulled into an empty
# store is the aarch64 busybox.
check_pushed() {
    local list=$1 index raw child l
    index=$(ref_field "$list" .digest)
    raw=$(skopeo inspect --raw --tls-verify=false "docker://$list")
    cmp <(printf '%s' "$raw") "$(blob "$index")"
    [ "$(jq -r '[.manifests[].platform | .os + "/" + .architecture] | join(" ")' <<<"$raw")" \
        = "linux/amd64 linux/arm64" ]
    child=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' <<<"$raw")
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/pulled"
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$list"
    [ "$status" -eq 0 ]
    l=$(jq -r '.layers[0].digest' "$(blob "$child")")
    mkdir x
    tar -xzf "$(blob "$l")" -C x ./bin/busybox
    [[ "$(file -b x/bin/busybox)" == *aarch64* ]]
}

@test "manifest seed flow: push per-platform tags, create, annotate, push" {
    local app=$REG/app
    seed_images "$app" linux/arm64
    "$GANTRY" push "$app:1.0-intel" >/dev/null
    "$GANTRY" push "$app:1.0-mac" >/dev/null
    "$GANTRY" manifest create "$app:1.0" "$app:1.0-intel" "$app:1.0-mac"
    "$GANTRY" manifest annotate "$app:1.0" "$app:1.0-mac" --os linux --arch arm64
    run --separate-stderr "$GANTRY" --debug manifest push "$app:1.0"
    [ "$status" -eq 0 ]
    # The children were pushed with their tags: no blob moves again.
    [[ "$stderr" == *"0 blobs uploaded (0 bytes), 0 mounted, 4 already present"* ]]
    check_pushed "$app:1.0"
}

@test "manifest seed flow: local images straight into the list, then push" {
    local app=$REG/direct
    seed_images "$app" linux/arm64
    "$GANTRY" manifest create "$app:1.0" "$app:1.0-intel" "$app:1.0-mac"
    "$GANTRY" manifest annotate "$app:1.0" "$app:1.0-mac" --os linux --arch arm64
    run --separate-stderr "$GANTRY" --debug manifest push "$app:1.0"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"4 blobs uploaded"*", 0 mounted, 0 already present"* ]]
    # The per-platform tags were never pushed.
    run skopeo inspect --raw --tls-verify=false "docker://$app:1.0-mac"
    [ "$status" -ne 0 ]
    check_pushed "$app:1.0"
}

@test "manifest seed flow: the mac image imported as amd64 by mistake; annotate fixes it" {
    local app=$REG/mistake
    seed_images "$app" ""
    "$GANTRY" push "$app:1.0-intel" >/dev/null
    "$GANTRY" push "$app:1.0-mac" >/dev/null
    local intel mac
    intel=$(ref_field "$app:1.0-intel" .digest)
    mac=$(ref_field "$app:1.0-mac" .digest)
    # The seed's commands, unchanged: create takes the two linux/amd64
    # entries with a one-line warning...
    run --separate-stderr "$GANTRY" manifest create "$app:1.0" "$app:1.0-intel" "$app:1.0-mac"
    [ "$status" -eq 0 ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "gantry: warning: manifest list '$app:1.0': duplicate platform 'linux/amd64': $intel and $mac "* ]]
    [ "$output" = "$(ref_field "$app:1.0" .digest)" ]
    # ...a push before the fix is refused, and writes no tag...
    run --separate-stderr "$GANTRY" manifest push "$app:1.0"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: push '$app:1.0': duplicate platform 'linux/amd64': $intel and $mac (use --allow-duplicates to keep both)" ]
    run skopeo inspect --raw --tls-verify=false "docker://$app:1.0"
    [ "$status" -ne 0 ]
    # ...annotate fixes the entry, and the push goes through.
    "$GANTRY" manifest annotate "$app:1.0" "$app:1.0-mac" --os linux --arch arm64
    "$GANTRY" manifest push "$app:1.0" >/dev/null
    check_pushed "$app:1.0"
}

@test "manifest push: a nested index child that exists only remotely is copied, children first" {
    local inner=$REG/nested/inner:multi outer=$REG/nested-dst/outer:1 index size f
    seed_images "$REG/nested/app" linux/arm64
    "$GANTRY" manifest create "$inner" "$REG/nested/app:1.0-intel" "$REG/nested/app:1.0-mac" >/dev/null
    "$GANTRY" manifest push "$inner" >/dev/null
    index=$(ref_field "$inner" .digest)
    size=$(stat -c %s "$(blob "$index")")
    # A new store with only the outer list: its one entry is the inner
    # index (kept, not flattened), recorded as read from $inner.
    store_setup "$BATS_TEST_TMPDIR/outer"
    mkdir -p "$GANTRY_ROOT/blobs/sha256"
    printf '{"imageLayoutVersion":"1.0.0"}' >"$GANTRY_ROOT/oci-layout"
    printf '{"schemaVersion":2,"mediaType":"%s","manifests":[]}' "$MT_INDEX" >"$GANTRY_ROOT/index.json"
    f="$BATS_TEST_TMPDIR/outer.json"
    jq -cnj --arg mt "$MT_INDEX" --arg d "$index" --argjson s "$size" \
        '{schemaVersion: 2, mediaType: $mt, manifests: [{mediaType: $mt, digest: $d, size: $s}]}' >"$f"
    add_ref "$outer" "$MT_INDEX" "$f" >/dev/null
    jq -c --arg k "dev.gantry.manifest.source.$index" --arg v "$inner" \
        '.manifests[0].annotations[$k] = $v' "$GANTRY_ROOT/index.json" >"$f"
    mv "$f" "$GANTRY_ROOT/index.json"
    run --separate-stderr "$GANTRY" --debug manifest push "$outer"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"0 blobs uploaded (0 bytes), 4 mounted"* ]]
    skopeo inspect --raw --tls-verify=false "docker://$outer" | cmp - "$(blob "$(ref_field "$outer" .digest)")"
    skopeo inspect --raw --tls-verify=false "docker://$REG/nested-dst/outer@$index" |
        cmp - <(skopeo inspect --raw --tls-verify=false "docker://$inner")
    # The inner index's children are in the destination repository too.
    skopeo inspect --raw --tls-verify=false "docker://$inner" | jq -r '.manifests[].digest' |
        while read -r d; do
            skopeo inspect --raw --tls-verify=false "docker://$REG/nested-dst/outer@$d" >/dev/null
        done
}
