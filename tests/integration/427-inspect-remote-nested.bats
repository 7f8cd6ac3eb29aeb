#!/usr/bin/env bats
# Nested indexes (`manifest create --no-flatten`) read from the real
# distribution registry by the commands that only look: inspect --remote
# finds a platform inside a nested index with pull's walk (a direct exact
# match reads no nested index: the registry's access log is counted), its
# error lists the nested platforms, an index nested too deep is refused;
# push --platform of a local list sends the nested image; manifest inspect
# of the remote list shows the nested index in its INDEX section.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    # One access log line per request, in registry.log (as 124 does).
    REGISTRY_LOG_ACCESSLOG_DISABLED=false start_registry "$REGDIR"
    export REG
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    "$GANTRY" manifest create demo/busybox:inner demo/busybox:arm64 >/dev/null
    # LIST: amd64, the nested index (arm64 only), arm/v7.
    export LIST=$REG/rn/outer:1
    "$GANTRY" manifest create --no-flatten "$LIST" demo/busybox:amd64 demo/busybox:inner \
        demo/busybox:armhf >/dev/null
    "$GANTRY" manifest push "$LIST" >/dev/null
    # FALLBACK: arm/v7 first (a fallback for arm64), then the nested index.
    export FALLBACK=$REG/rn/fallback:1
    "$GANTRY" manifest create --no-flatten "$FALLBACK" demo/busybox:armhf demo/busybox:inner \
        >/dev/null
    "$GANTRY" manifest push "$FALLBACK" >/dev/null
    export OUTER INNER ARM64 ARMHF
    OUTER=$(ref_field "$LIST" .digest)
    INNER=$(ref_field docker.io/demo/busybox:inner .digest)
    ARM64=$(ref_field docker.io/demo/busybox:arm64 .digest)
    ARMHF=$(ref_field docker.io/demo/busybox:armhf .digest)
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    copy_file_store
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# gantry_requests: the registry's access log lines written by gantry so far.
gantry_requests() {
    grep '"gantry/' "$REGDIR/registry.log" | sed -E 's/.*"([A-Z]+) ([^ ]+) HTTP[^"]*" ([0-9]+).*/\1 \2 \3/'
}

# requests_of CMD...: run CMD (output discarded); print the requests it made.
requests_of() {
    local before
    before=$(gantry_requests | wc -l)
    "$@" >/dev/null
    gantry_requests | tail -n +$((before + 1))
}

@test "inspect --remote --platform: a platform only the nested index has, as locally" {
    before=$(store_state)
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm64 \
        --format '{{.Os}}/{{.Architecture}} {{.Descriptor.digest}}' "$LIST"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "linux/arm64 $ARM64" ]
    # The same object as the local inspect of the same list, names aside.
    "$GANTRY" inspect --remote --platform linux/arm64 "$LIST" >remote.json
    "$GANTRY" inspect --platform linux/arm64 "$LIST" >local.json
    [ "$(jq -r '.[0].Id' remote.json)" = "$("$GANTRY" inspect --format '{{.Id}}' demo/busybox:arm64)" ]
    strip='.[0] | del(.RepoTags, .RepoDigests) | .Manifests |= map(del(.Present))'
    diff <(jq -S "$strip" local.json) <(jq -S "$strip" remote.json)
    [ "$(jq -r '.[0].Descriptor.platform.architecture' remote.json)" = arm64 ]
    [ "$(jq -r '.[0].RepoDigests[0]' remote.json)" = "$REG/rn/outer@$OUTER" ]
    [ "$(store_state)" = "$before" ]
}

@test "inspect --remote: the nested index is read only when no direct entry matches exactly" {
    # arm64: the list, the nested index and the arm64 manifest by digest, its config.
    reqs=$(requests_of "$GANTRY" inspect --remote --platform linux/arm64 "$LIST")
    echo "arm64: $reqs"
    [ "$(grep -c "^GET /v2/rn/outer/manifests/$INNER 200$" <<<"$reqs")" -eq 1 ]
    [ "$(grep -c "^GET /v2/rn/outer/manifests/$ARM64 200$" <<<"$reqs")" -eq 1 ]
    [ "$(grep -c '^GET /v2/rn/outer/manifests/' <<<"$reqs")" -eq 3 ]
    [ "$(grep -c '^GET /v2/rn/outer/blobs/' <<<"$reqs")" -eq 1 ]
    # arm/v7 is listed by the list itself: the nested index is not read.
    reqs=$(requests_of "$GANTRY" inspect --remote --platform linux/arm/v7 "$LIST")
    echo "arm/v7: $reqs"
    [ "$(grep -c "^GET /v2/rn/outer/manifests/$ARMHF 200$" <<<"$reqs")" -eq 1 ]
    [ "$(grep -c "$INNER" <<<"$reqs")" -eq 0 ]
    [ "$(grep -c '^GET /v2/rn/outer/manifests/' <<<"$reqs")" -eq 2 ]
    # The host's platform (linux/amd64) too.
    reqs=$(requests_of "$GANTRY" inspect --remote "$LIST")
    [ "$(grep -c "$INNER" <<<"$reqs")" -eq 0 ]
    [ "$(grep -c '^GET /v2/rn/outer/manifests/' <<<"$reqs")" -eq 2 ]
}

@test "inspect --remote: the nested exact match beats a direct fallback" {
    # linux/arm64 can run arm/v7, listed first; the nested arm64 is exact.
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm64 \
        --format '{{.Architecture}} {{.Descriptor.digest}}' "$FALLBACK"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "arm64 $ARM64" ]
    # arm/v8 has no exact match anywhere: the arm/v7 fallback.
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm/v8 \
        --format '{{.Architecture}}/{{.Variant}} {{.Descriptor.digest}}' "$FALLBACK"
    [ "$status" -eq 0 ]
    [ "$output" = "arm/v7 $ARMHF" ]
}

@test "inspect --remote: the error lists the nested index's platforms" {
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/riscv64 "$LIST"
    [ "$status" -eq 1 ]
    [ "$output" = "[]" ]
    [ "$stderr" = "gantry: no matching manifest for linux/riscv64 in '$LIST' (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]
}

@test "inspect --remote: an index nested more than 4 levels down is refused; 4 are read" {
    local repo=rn/deep fifth
    "$GANTRY" push demo/busybox:arm64 "$REG/$repo:arm64" >/dev/null
    put_nested_chain "$repo" "$ARM64" "$(stat -c %s "$(blob "$ARM64")")" 5
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm64 \
        --format '{{.Descriptor.digest}}' "$REG/$repo:5"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "$ARM64" ]
    fifth=$(skopeo inspect --raw --tls-verify=false "docker://$REG/$repo:1" | sha256sum | cut -d' ' -f1)
    run --separate-stderr "$GANTRY" inspect --remote --platform linux/arm64 "$REG/$repo:6"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: indexes nested too deep in '$REG/$repo:6': sha256:$fifth is more than 4 levels down" ]
}

@test "push --platform: the image of a nested index, arm64 in the registry" {
    local dest=$REG/rn/pushed:arm64
    run --separate-stderr "$GANTRY" push --platform linux/arm64 "$LIST" "$dest"
    echo "$stderr"
    [ "$status" -eq 0 ]
    # The arm64 manifest alone, its bytes kept.
    [ "$(skopeo inspect --raw --tls-verify=false "docker://$dest" | sha256sum | cut -d' ' -f1)" = "${ARM64#sha256:}" ]
    run skopeo inspect --tls-verify=false "docker://$dest"
    [ "$status" -eq 0 ]
    [ "$(jq -r '.Os + "/" + .Architecture' <<<"$output")" = linux/arm64 ]
    # Its layer is there too: a fresh pull of it succeeds.
    store_setup "$BATS_TEST_TMPDIR/pulled"
    run --separate-stderr "$GANTRY" pull "$dest"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$("$GANTRY" inspect --format '{{.Architecture}}' "$dest")" = arm64 ]
}

@test "manifest inspect of the remote list: the nested index in its INDEX section" {
    fmt='{{.Kind}}|{{.Platform}}|{{.Platforms}}|{{.Digest}}|{{.Size}}'
    "$GANTRY" manifest inspect --format "$fmt" "$LIST" >local.txt
    # A fresh store: everything is read from the registry.
    store_setup "$BATS_TEST_TMPDIR/fresh"
    run --separate-stderr "$GANTRY" manifest inspect --format "$fmt" "docker://$LIST"
    echo "$stderr"
    [ "$status" -eq 0 ]
    diff local.txt <(echo "$output")
    [ "$(sed -n 2p <<<"$output" | cut -d'|' -f1-4)" = "index|unknown|linux/arm64|$INNER" ]
    # The default view: platforms, then the INDEX section with what it holds.
    run --separate-stderr "$GANTRY" manifest inspect "docker://$LIST"
    [ "$status" -eq 0 ]
    local l
    mapfile -t l <<<"$output"
    [ "${#l[@]}" -eq 6 ]
    [[ "${l[0]}" =~ ^PLATFORM\ +DIGEST\ +SIZE\ +LOCAL$ ]]
    [[ "${l[1]}" =~ ^linux/amd64\ +sha256:[0-9a-f]{64}\ +[0-9.]+[kM]?B\ +no$ ]]
    [[ "${l[2]}" =~ ^linux/arm/v7\ +$ARMHF\ +[0-9.]+[kM]?B\ +no$ ]]
    [ -z "${l[3]}" ]
    [[ "${l[4]}" =~ ^INDEX\ +PLATFORMS\ +SIZE\ +LOCAL$ ]]
    [[ "${l[5]}" =~ ^$INNER\ +linux/arm64\ +[0-9.]+[kM]?B\ +no$ ]]
    # -v: the nested index's document under OCIIndex, byte for byte the registry's.
    "$GANTRY" manifest inspect -v "docker://$LIST" >v.json
    jq -e --arg d "$INNER" '.[1].Ref | endswith("@" + $d)' v.json
    diff <(jq -S '.[1].OCIIndex' v.json) \
        <(skopeo inspect --raw --tls-verify=false "docker://$REG/rn/outer@$INNER" | jq -S .)
}
