#!/usr/bin/env bats
# gantry tag, rmi and prune: names are added and removed over the store,
# blobs stay until prune, and prune deletes exactly the unreferenced ones.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
}

# blobs_of REF: the digests (hex) of the manifest, config and layers of REF.
blobs_of() {
    local m
    m=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$1")
    { echo "$m"; jq -r '.config.digest, .layers[].digest' "$(blob "$m")"; } | sed 's/^sha256://'
}

@test "tag: a second name for the same image, normalized" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" busybox:1 >/dev/null
    run --separate-stderr "$GANTRY" tag busybox:1 localhost:5000/mirror/busybox:stable
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ -z "$stderr" ]
    run --separate-stderr "$GANTRY" images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    [ "${#lines[@]}" -eq 2 ]
    [ "${lines[0]#* }" = "${lines[1]#* }" ]
    [ "${lines[1]% *}" = localhost:5000/mirror/busybox:stable ]
    grep -q '"docker.io/library/busybox:1"' "$GANTRY_ROOT/index.json"
    grep -q '"localhost:5000/mirror/busybox:stable"' "$GANTRY_ROOT/index.json"
    # By id and by digest too; a tag without a tag part is :latest.
    id=$("$GANTRY" images -q busybox:1)
    "$GANTRY" tag "$id" byid
    digest=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' busybox:1)
    "$GANTRY" tag "busybox@$digest" bydigest:x
    [ "$("$GANTRY" images -q byid:latest)" = "$id" ]
    [ "$("$GANTRY" images -q bydigest:x)" = "$id" ]
}

@test "tag: an existing target is moved to the new image" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar" a:1 >/dev/null
    "$GANTRY" import --platform arm64 "$GANTRY_FIXTURES/busybox-arm64.tar" b:1 >/dev/null
    "$GANTRY" tag a:1 moving:1
    "$GANTRY" tag b:1 moving:1
    [ "$("$GANTRY" images --format '{{.Platforms}}' moving:1)" = linux/arm64 ]
    [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" = 3 ]
}

@test "tag: errors name the reference and change nothing" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar" a:1 >/dev/null
    before=$(sha256sum <"$GANTRY_ROOT/index.json")
    run --separate-stderr "$GANTRY" tag nothere:1 b:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no such image: 'nothere:1'" ]
    run --separate-stderr "$GANTRY" tag a:1 "b@sha256:$(printf 'f%.0s' {1..64})"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: invalid reference 'b@sha256:"*"': a name cannot contain a digest" ]]
    run --separate-stderr "$GANTRY" tag a:1
    [ "$status" -eq 2 ]
    run --separate-stderr "$GANTRY" tag -x a:1 b:1
    [ "$status" -eq 2 ]
    [ "$(sha256sum <"$GANTRY_ROOT/index.json")" = "$before" ]
}

@test "rmi: removes names, prints Untagged, keeps the blobs" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" busybox:1 >/dev/null
    "$GANTRY" tag busybox:1 localhost:5000/bb:2
    blobs=$(all_blobs)
    run --separate-stderr "$GANTRY" rmi localhost:5000/bb:2
    [ "$status" -eq 0 ]
    [ "$output" = "Untagged: localhost:5000/bb:2" ]
    [ "$(all_blobs)" = "$blobs" ]
    run --separate-stderr "$GANTRY" rm busybox:1
    [ "$status" -eq 0 ]
    [ "$output" = "Untagged: busybox:1" ]
    [ -z "$("$GANTRY" images -q)" ]
    [ "$(all_blobs)" = "$blobs" ]
}

@test "rmi: an id with several names needs -f; failures do not stop the others" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" busybox:1 >/dev/null
    "$GANTRY" tag busybox:1 busybox:2
    "$GANTRY" import --platform arm64 "$GANTRY_FIXTURES/busybox-arm64.tar.gz" other:1 >/dev/null
    id=$("$GANTRY" images -q busybox:1)
    run --separate-stderr "$GANTRY" rmi "$id"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: image '$id' is referenced by several names (use -f)" ]
    [ "$("$GANTRY" images -q | wc -l)" -eq 3 ]
    run --separate-stderr "$GANTRY" rmi nothere "$id" -f other:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no such image: 'nothere'" ]
    [ "$output" = "Untagged: busybox:1
Untagged: busybox:2
Untagged: other:1" ]
    [ -z "$("$GANTRY" images -q)" ]
    run --separate-stderr "$GANTRY" rmi
    [ "$status" -eq 2 ]
}

@test "prune: deletes exactly the blobs no name reaches" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" keep:1 >/dev/null
    "$GANTRY" import --platform arm64 "$GANTRY_FIXTURES/busybox-arm64.tar.gz" drop:1 >/dev/null
    "$GANTRY" import --platform armhf "$GANTRY_FIXTURES/busybox-armhf.tar.gz" drop:2 >/dev/null
    keep=$(blobs_of keep:1 | sort)
    dropped=$( (blobs_of drop:1; blobs_of drop:2) | sort -u)
    "$GANTRY" rmi drop:1 drop:2 >/dev/null
    bytes=0
    for d in $dropped; do bytes=$((bytes + $(stat -c %s "$GANTRY_ROOT/blobs/sha256/$d"))); done
    run --separate-stderr "$GANTRY" prune
    [ "$status" -eq 0 ]
    human=$(awk -v n="$bytes" 'BEGIN { printf "%.3g", n / 1e6 }')
    [ "$output" = "Deleted $(wc -w <<<"$dropped") blobs, reclaimed ${human}MB" ]
    [ "$(all_blobs)" = "$keep" ]
    [ "$("$GANTRY" inspect --format '{{.Os}}/{{.Architecture}}' keep:1)" = linux/amd64 ]
    run --separate-stderr "$GANTRY" prune
    [ "$output" = "Deleted 0 blobs, reclaimed 0B" ]
    run --separate-stderr "$GANTRY" prune extra
    [ "$status" -eq 2 ]
}

@test "prune: a blob shared with a kept image survives" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar.gz" a:1 >/dev/null
    "$GANTRY" import -c 'CMD ["sh"]' "$GANTRY_FIXTURES/busybox-amd64.tar.gz" b:1 >/dev/null
    la=$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' a:1)
    lb=$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' b:1)
    [ "$la" = "$lb" ]
    "$GANTRY" rmi a:1 >/dev/null
    run --separate-stderr "$GANTRY" prune
    [ "$status" -eq 0 ]
    [[ "$output" == "Deleted 2 blobs, reclaimed "* ]]
    [ "$(all_blobs)" = "$(blobs_of b:1 | sort)" ]
}
