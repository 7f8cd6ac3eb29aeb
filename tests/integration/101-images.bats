#!/usr/bin/env bats
# gantry images: the default table, --digests, -q, --no-trunc, --format
# (table templates, {{json .}}, json) and the REPOSITORY[:TAG] filter, for
# single-platform images and for a multi-platform index with a missing child.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
}

import_three() {
    import_busybox amd64 "" busybox:amd64
    import_busybox arm64 arm64 busybox:arm64
    import_busybox armhf armhf localhost:5000/tools/busybox:armhf
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
