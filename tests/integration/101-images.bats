#!/usr/bin/env bats
# gantry images: the default table, --digests, -q, --no-trunc, --format
# (table templates, {{json .}}, json) and the REPOSITORY[:TAG] filter, for
# single-platform images and for a multi-platform index with a missing child.

bats_require_minimum_version 1.5.0

MT_INDEX=application/vnd.oci.image.index.v1+json
MT_MANIFEST=application/vnd.oci.image.manifest.v1+json

setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    : "${GANTRY_FIXTURES:?GANTRY_FIXTURES must point at tests/fixtures/cache}"
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/store"
    export GANTRY_HOST_PLATFORM=linux/amd64
}

blob() {
    echo "$GANTRY_ROOT/blobs/sha256/${1#sha256:}"
}

# add_index NAME REF... : store an OCI index of the manifests of REF... under
# the full name NAME. "missing:OS/ARCH" adds an entry whose manifest is not
# in the store.
add_index() {
    local name=$1 entries='[]' r d p f
    shift
    for r in "$@"; do
        if [[ "$r" == missing:* ]]; then
            p=${r#missing:}
            entries=$(jq -c --arg os "${p%%/*}" --arg arch "${p#*/}" --arg mt "$MT_MANIFEST" \
                '. + [{mediaType: $mt, digest: ("sha256:" + ("5" * 64)), size: 1234,
                       platform: {os: $os, architecture: $arch}}]' <<<"$entries")
            continue
        fi
        d=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$r")
        p=$("$GANTRY" inspect --format '{{json .Descriptor.platform}}' "$r")
        entries=$(jq -c --arg d "$d" --argjson s "$(stat -c %s "$(blob "$d")")" \
            --argjson p "$p" --arg mt "$MT_MANIFEST" \
            '. + [{mediaType: $mt, digest: $d, size: $s, platform: $p}]' <<<"$entries")
    done
    f="$BATS_TEST_TMPDIR/index.json.new"
    jq -cj --argjson m "$entries" --arg mt "$MT_INDEX" \
        '{schemaVersion: 2, mediaType: $mt, manifests: $m}' <<<'null' >"$f"
    d="sha256:$(sha256sum <"$f" | cut -d' ' -f1)"
    cp "$f" "$(blob "$d")"
    jq -c --arg n "$name" --arg d "$d" --argjson s "$(stat -c %s "$f")" --arg mt "$MT_INDEX" \
        '.manifests += [{mediaType: $mt, digest: $d, size: $s,
                         annotations: {"org.opencontainers.image.ref.name": $n}}]' \
        "$GANTRY_ROOT/index.json" >"$f"
    mv "$f" "$GANTRY_ROOT/index.json"
    echo "$d"
}

import_three() {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" busybox:amd64 >/dev/null
    "$GANTRY" import --platform arm64 "$GANTRY_FIXTURES/busybox-arm64.tar.gz" busybox:arm64 >/dev/null
    "$GANTRY" import --platform armhf "$GANTRY_FIXTURES/busybox-armhf.tar.gz" \
        localhost:5000/tools/busybox:armhf >/dev/null
}

@test "images: an empty store prints only the header" {
    run --separate-stderr "$GANTRY" images
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "REPOSITORY   TAG       IMAGE ID   PLATFORMS   SIZE      CREATED" ]
    run --separate-stderr "$GANTRY" images -q
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

@test "images: the default table, sorted by name, aligned like docker" {
    import_three
    run --separate-stderr "$GANTRY" images
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 4 ]
    [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +PLATFORMS\ +SIZE\ +CREATED$ ]]
    id=$("$GANTRY" inspect --format '{{.Id}}' busybox:amd64)
    [[ "${lines[1]}" =~ ^busybox\ +amd64\ +${id:7:12}\ +linux/amd64\ +[0-9.]+[kM]B\ +[0-9]+\ seconds?\ ago$|^busybox\ +amd64\ +${id:7:12}\ +linux/amd64\ +[0-9.]+[kM]B\ +Less\ than\ a\ second\ ago$ ]]
    [[ "${lines[2]}" == "busybox "*" arm64 "*" linux/arm64 "* ]]
    [[ "${lines[3]}" == "localhost:5000/tools/busybox "*" armhf "*" linux/arm/v7 "* ]]
    # Every column starts at the same offset on every line (padding 3).
    col=$(awk 'NR == 1 { print index($0, "TAG") }' <<<"$output")
    for n in 2 3 4; do
        [ "$(sed -n "${n}p" <<<"$output" | cut -c"$col")" != " " ]
        [ "$(sed -n "${n}p" <<<"$output" | cut -c"$((col - 1))")" = " " ]
    done
}

@test "images: -q, --no-trunc and --digests" {
    import_three
    run --separate-stderr "$GANTRY" images -q
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 3 ]
    for l in "${lines[@]}"; do [[ "$l" =~ ^[0-9a-f]{12}$ ]]; done
    run --separate-stderr "$GANTRY" images -q --no-trunc busybox:arm64
    [ "$output" = "$("$GANTRY" inspect --format '{{.Id}}' busybox:arm64)" ]
    run --separate-stderr "$GANTRY" images --digests busybox:arm64
    [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +DIGEST\ +IMAGE\ ID ]]
    digest=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' busybox:arm64)
    [[ "${lines[1]}" == *" $digest "* ]]
}

@test "images: --format templates, table templates and json" {
    import_three
    run --separate-stderr "$GANTRY" images --format '{{.Repository}}:{{.Tag}} {{.Platforms}}'
    [ "$status" -eq 0 ]
    [ "$output" = "busybox:amd64 linux/amd64
busybox:arm64 linux/arm64
localhost:5000/tools/busybox:armhf linux/arm/v7" ]
    run --separate-stderr "$GANTRY" images --format 'table {{.Tag}}\t{{.Platforms}}' busybox
    [ "$output" = "TAG       PLATFORMS
amd64     linux/amd64
arm64     linux/arm64" ]
    run --separate-stderr "$GANTRY" images --format '{{json .}}' busybox:amd64
    [ "$status" -eq 0 ]
    [ "$(jq -r 'keys_unsorted | join(",")' <<<"$output")" = \
        "Repository,Tag,Digest,ID,Platforms,Size,CreatedAt,CreatedSince" ]
    [ "$(jq -r .ID <<<"$output")" = "$("$GANTRY" images -q busybox:amd64)" ]
    run --separate-stderr "$GANTRY" images --format json
    [ "$status" -eq 0 ]
    [ "$(jq -s length <<<"$output")" = 3 ]
    [ "$(jq -rs '.[2].Repository' <<<"$output")" = localhost:5000/tools/busybox ]
    run --separate-stderr "$GANTRY" images --format '{{.Nope'
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: template: "* ]]
}

@test "images: the filter takes a repository or one name" {
    import_three
    run --separate-stderr "$GANTRY" images --format '{{.Tag}}' busybox
    [ "$output" = "amd64
arm64" ]
    run --separate-stderr "$GANTRY" images --format '{{.Tag}}' docker.io/library/busybox:arm64
    [ "$output" = arm64 ]
    run --separate-stderr "$GANTRY" images --format '{{.Tag}}' localhost:5000/tools/busybox
    [ "$output" = armhf ]
    run --separate-stderr "$GANTRY" images --format '{{.Tag}}' nothere
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    run --separate-stderr "$GANTRY" images Bad:x
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: invalid reference 'Bad:x': repository name must be lowercase" ]]
    run --separate-stderr "$GANTRY" images a b
    [ "$status" -eq 2 ]
}

@test "images: a multi-platform index lists its platforms and marks missing ones" {
    import_three
    idx=$(add_index docker.io/library/multi:1 busybox:amd64 busybox:arm64 missing:linux/s390x)
    run --separate-stderr "$GANTRY" images --format '{{.ID}} {{.Platforms}}' multi
    [ "$status" -eq 0 ]
    [ "$output" = "${idx:7:12} linux/amd64,linux/arm64,linux/s390x(missing)" ]
    # SIZE counts the index and both stored platforms' blobs.
    want=$(stat -c %s "$(blob "$idx")")
    for r in busybox:amd64 busybox:arm64; do
        m=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$r")
        for d in $m $(jq -r '.config.digest, .layers[].digest' "$(blob "$m")"); do
            want=$((want + $(stat -c %s "$(blob "$d")")))
        done
    done
    got=$("$GANTRY" images --format '{{.Size}}' multi)
    human=$(awk -v n="$want" 'BEGIN { printf "%.3g", n / 1e6 }')
    [ "$got" = "${human}MB" ]
    run --separate-stderr "$GANTRY" images -q --no-trunc multi
    [ "$output" = "$idx" ]
}

@test "images: aliases ls and list, and --help" {
    import_three
    [ "$("$GANTRY" ls -q)" = "$("$GANTRY" images -q)" ]
    [ "$("$GANTRY" list -q)" = "$("$GANTRY" images -q)" ]
    run --separate-stderr "$GANTRY" images --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: gantry images"* ]]
}
