#!/usr/bin/env bats
# gantry manifest --no-flatten, against the real distribution registry: a
# child that is itself an index (local, or read from a registry) kept as
# one nested entry by create and add; inspect shows it as a nested index,
# not a platform; push sends its children, then it, then the list, and
# skopeo sees exactly the stored documents. Also the request count of
# create + push when the children are already in the registry (the
# registry's access log, switched on through its environment).

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v skopeo >/dev/null || skip "skopeo is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    # distribution reads REGISTRY_<SECTION>_<KEY> over its config file:
    # one access log line per request, in registry.log.
    REGISTRY_LOG_ACCESSLOG_DISABLED=false start_registry "$REGDIR"
    export REG
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
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

# raw REF: the registry's bytes for REF.
raw() {
    skopeo inspect --raw --tls-verify=false "docker://$1"
}

# busybox_machine ROOT MANIFEST_DIGEST: `file` on bin/busybox of the image's layer.
busybox_machine() {
    local m="$1/blobs/sha256/${2#sha256:}" l
    l=$(jq -r '.layers[0].digest' "$m")
    rm -rf x && mkdir x
    tar -xzf "$1/blobs/sha256/${l#sha256:}" -C x ./bin/busybox
    file -b x/bin/busybox
}

# gantry_requests: the registry's access log lines written by gantry so far.
gantry_requests() {
    grep '"gantry/' "$REGDIR/registry.log" | sed -E 's/.*"([A-Z]+) ([^ ]+) HTTP[^"]*" ([0-9]+).*/\1 \2 \3/'
}

@test "manifest create --no-flatten: a local index kept as one entry; inspect views" {
    local list=$REG/nl/outer:1 inner index outer
    "$GANTRY" manifest create demo/busybox:inner demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    inner=$(digest_of docker.io/demo/busybox:inner)
    "$GANTRY" manifest create --no-flatten "$list" demo/busybox:inner demo/busybox:armhf
    outer=$(digest_of "$list")
    # The stored list: the inner index as {mediaType, digest, size}, no platform.
    jq -e --arg d "$inner" --arg mt "$MT_INDEX" --argjson s "$(stat -c %s "$(blob "$inner")")" \
        '.manifests[0] == {mediaType: $mt, digest: $d, size: $s}' "$(blob "$outer")"
    jq -e '.manifests | length == 2' "$(blob "$outer")"
    jq -e '.manifests[1].platform == {architecture: "arm", os: "linux", variant: "v7"}' "$(blob "$outer")"

    # Default view: the platform, then the nested index with what it holds.
    run --separate-stderr "$GANTRY" manifest inspect "$list"
    [ "$status" -eq 0 ]
    local l
    mapfile -t l <<<"$output"
    [ "${#l[@]}" -eq 5 ]
    [[ "${l[0]}" =~ ^PLATFORM\ +DIGEST\ +SIZE\ +LOCAL$ ]]
    [[ "${l[1]}" =~ ^linux/arm/v7\ +sha256:[0-9a-f]{64}\ +[0-9.]+[kM]?B\ +yes$ ]]
    [ -z "${l[2]}" ]
    [[ "${l[3]}" =~ ^INDEX\ +PLATFORMS\ +SIZE\ +LOCAL$ ]]
    [[ "${l[4]}" =~ ^$inner\ +linux/amd64,\ linux/arm64\ +[0-9.]+MB\ +yes$ ]]
    # --format: one row per platform or nested index, .Kind tells them apart.
    run "$GANTRY" manifest inspect --format '{{.Kind}}|{{.Platform}}|{{.Platforms}}|{{.MediaType}}' "$list"
    [ "$output" = "index|unknown|linux/amd64, linux/arm64|$MT_INDEX
image|linux/arm/v7||$MT_MANIFEST" ]
    # --verbose: the nested index's document under OCIIndex.
    run "$GANTRY" manifest inspect -v "$list"
    [ "$(jq -r '.[0].Descriptor.digest' <<<"$output")" = "$inner" ]
    [ "$(jq -r '.[0].Ref' <<<"$output")" = "$REG/nl/outer@$inner" ]
    jq -e '.[0].OCIIndex.manifests | length == 2' <<<"$output"
    jq -e '.[1].OCIManifest.layers | length == 1' <<<"$output"

    # Without --no-flatten the same REFs give three platforms.
    run "$GANTRY" manifest create "$REG/nl/flat:1" demo/busybox:inner demo/busybox:armhf
    run "$GANTRY" manifest inspect --format '{{.Kind}} {{.Platform}}' "$REG/nl/flat:1"
    [ "$output" = "image linux/amd64
image linux/arm64
image linux/arm/v7" ]

    # An index holding an index cannot be kept nested: nothing changes.
    local before
    before=$(store_state)
    run --separate-stderr "$GANTRY" manifest create --no-flatten demo/busybox:deep "$list"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: '$list' cannot be kept nested: its entry $inner is of type $MT_INDEX, only image manifests can be" ]
    [ "$(store_state)" = "$before" ]
}

@test "manifest push: a local nested index goes first, skopeo sees the stored documents; pull through it" {
    local list=$REG/np/outer:1 inner outer d
    "$GANTRY" manifest create demo/busybox:inner demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    inner=$(digest_of docker.io/demo/busybox:inner)
    "$GANTRY" manifest create "$list" demo/busybox:armhf >/dev/null
    # add --no-flatten: the index joins as one entry.
    "$GANTRY" manifest add --no-flatten "$list" demo/busybox:inner >/dev/null
    outer=$(digest_of "$list")
    jq -e --arg d "$inner" '.manifests[1].digest == $d and (.manifests[1] | has("platform") | not)' \
        "$(blob "$outer")"
    run --separate-stderr "$GANTRY" --debug manifest push "$list"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "1: digest: $outer size: $(stat -c %s "$(blob "$outer")")" ]
    [[ "$stderr" == *"6 blobs uploaded"*", 0 mounted, 0 already present, 5 manifests written"* ]]
    # Exactly the stored list, the stored inner index, its children.
    cmp <(raw "$list") "$(blob "$outer")"
    cmp <(raw "$REG/np/outer@$inner") "$(blob "$inner")"
    for d in $(jq -r '.manifests[].digest' "$(blob "$inner")"); do
        cmp <(raw "$REG/np/outer@$d") "$(blob "$d")"
    done
    # Again: everything is there, nothing moves, nothing is written.
    run --separate-stderr "$GANTRY" --debug manifest push "$list"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"0 blobs uploaded (0 bytes), 0 mounted, 2 already present, 0 manifests written"* ]]

    # The nested index, by digest, pulls per platform; so does the list's
    # tag, through the nested index (125-pull-nested.bats has more).
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/pulled"
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$REG/np/outer@$inner"
    [ "$status" -eq 0 ]
    d=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' <(raw "$REG/np/outer@$inner"))
    [[ "$(busybox_machine "$GANTRY_ROOT" "$d")" == *aarch64* ]]
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/pulled-list"
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$list"
    [ "$status" -eq 0 ]
    [ -f "$(blob "$inner")" ] && [ -f "$(blob "$d")" ]
    [[ "$(busybox_machine "$GANTRY_ROOT" "$d")" == *aarch64* ]]
}

@test "manifest add --no-flatten: a remote index kept nested, pushed to another repository (mounted)" {
    local inner=$REG/nr/inner:1 list=$REG/nr/outer:1 dest=$REG/nr-dst/outer:1 index outer
    "$GANTRY" manifest create "$inner" demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    "$GANTRY" manifest push "$inner" >/dev/null
    index=$(digest_of "$inner")
    # A new store: the armhf image only; the inner index is read remotely.
    store_setup "$BATS_TEST_TMPDIR/other"
    import_busybox armhf linux/arm/v7 demo/busybox:armhf
    "$GANTRY" manifest create "$list" demo/busybox:armhf >/dev/null
    "$GANTRY" manifest add --no-flatten "$list" "docker://$inner" >/dev/null
    outer=$(digest_of "$list")
    jq -e --arg d "$index" '.manifests[1] | .digest == $d and (has("platform") | not)' "$(blob "$outer")"
    # Its document and its children's manifests are stored; no layer is.
    cmp <(raw "$inner") "$(blob "$index")"
    run "$GANTRY" manifest inspect --format '{{.Kind}}|{{.Platforms}}|{{.Local}}' "$list"
    [ "$output" = "image||yes
index|linux/amd64, linux/arm64|no" ]
    run --separate-stderr "$GANTRY" --debug manifest push "$list" "$dest"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"2 blobs uploaded"*", 4 mounted, 0 already present, 5 manifests written"* ]]
    cmp <(raw "$dest") "$(blob "$outer")"
    cmp <(raw "$REG/nr-dst/outer@$index") "$(blob "$index")"
    # inspect of the remote list shows the nested index the same way.
    run --separate-stderr "$GANTRY" manifest inspect --format '{{.Kind}}|{{.Platforms}}|{{.Size}}' "$dest"
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" =~ ^index\|linux/amd64,\ linux/arm64\|[0-9.]+MB$ ]]
    run --separate-stderr "$GANTRY" manifest inspect "docker://$dest"
    [ "$status" -eq 0 ]
    local l
    mapfile -t l <<<"$output"
    [[ "${l[3]}" =~ ^INDEX\ +PLATFORMS\ +SIZE\ +LOCAL$ ]]
    [[ "${l[4]}" =~ ^$index\ +linux/amd64,\ linux/arm64\ +[0-9.]+MB\ +no$ ]]
}

@test "manifest create + push with the children already in the registry: request count" {
    local repo=$REG/cnt/app a before create push
    for a in amd64 arm64; do
        "$GANTRY" push demo/busybox:$a "$repo:$a" >/dev/null
    done
    # From remote references, in a new store: manifests and configs only.
    store_setup "$BATS_TEST_TMPDIR/fresh"
    before=$(gantry_requests | wc -l)
    "$GANTRY" manifest create "$repo:1" "docker://$repo:amd64" "docker://$repo:arm64" >/dev/null
    create=$(gantry_requests | tail -n +$((before + 1)))
    echo "create: $create"
    [ "$(grep -c . <<<"$create")" -eq 5 ]
    [ "$(grep -c '^GET /v2/ ' <<<"$create")" -eq 1 ]
    [ "$(grep -cE '^GET /v2/cnt/app/manifests/(amd64|arm64) 200$' <<<"$create")" -eq 2 ]
    [ "$(grep -cE '^GET /v2/cnt/app/blobs/sha256:[0-9a-f]{64} 200$' <<<"$create")" -eq 2 ]
    before=$(gantry_requests | wc -l)
    "$GANTRY" manifest push "$repo:1" >/dev/null
    push=$(gantry_requests | tail -n +$((before + 1)))
    echo "push: $push"
    # Each child manifest is looked up once; the tag is looked up, then put.
    [ "$(grep -c . <<<"$push")" -eq 5 ]
    [ "$(grep -c '^GET /v2/ ' <<<"$push")" -eq 1 ]
    [ "$(grep -cE '^HEAD /v2/cnt/app/manifests/sha256:[0-9a-f]{64} 200$' <<<"$push")" -eq 2 ]
    [ "$(grep -cE '^HEAD /v2/cnt/app/manifests/1 404$' <<<"$push")" -eq 1 ]
    [ "$(grep -cE '^PUT /v2/cnt/app/manifests/1 201$' <<<"$push")" -eq 1 ]
    # No blob moved: no upload was even started.
    [ "$(grep -c '/blobs/uploads' <<<"$create$push")" -eq 0 ]
    cmp <(raw "$repo:1") "$(blob "$(digest_of "$repo:1")")"

    # The seed flow (local children, pushed under their tags before): each
    # child's blobs and manifest are looked up, nothing is uploaded.
    store_setup
    "$GANTRY" manifest create "$repo:2" demo/busybox:amd64 demo/busybox:arm64 >/dev/null
    before=$(gantry_requests | wc -l)
    "$GANTRY" manifest push "$repo:2" >/dev/null
    push=$(gantry_requests | tail -n +$((before + 1)))
    echo "local push: $push"
    [ "$(grep -c . <<<"$push")" -eq 9 ]
    [ "$(grep -cE '^HEAD /v2/cnt/app/blobs/sha256:[0-9a-f]{64} 200$' <<<"$push")" -eq 4 ]
    [ "$(grep -cE '^HEAD /v2/cnt/app/manifests/sha256:[0-9a-f]{64} 200$' <<<"$push")" -eq 2 ]
    [ "$(grep -c '/blobs/uploads' <<<"$push")" -eq 0 ]
}
