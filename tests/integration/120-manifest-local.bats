#!/usr/bin/env bats
# gantry manifest create|add|remove|annotate|inspect|rm over the local
# store: three busybox images (amd64, arm64, arm/v7) become one
# multi-platform list that gantry, skopeo and jq read back. Each test works
# on its own copy of a store imported once per file.

bats_require_minimum_version 1.5.0

LIST=demo/busybox:multi
FULL=docker.io/demo/busybox:multi

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
}

setup() {
    copy_file_store
}

# list_json: the stored index of the list.
list_json() {
    cat "$(blob "$(digest_of "$FULL")")"
}

create_three() {
    run --separate-stderr "$GANTRY" manifest create "$LIST" demo/busybox:amd64 \
        demo/busybox:arm64 demo/busybox:armhf
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    [ "$output" = "$(digest_of "$FULL")" ]
}

@test "manifest create: an OCI index of the three platforms, as the configs say" {
    create_three
    [ "$(list_json | jq -r .mediaType)" = application/vnd.oci.image.index.v1+json ]
    [ "$(list_json | jq -r '[.manifests[].platform | .os + "/" + .architecture + "/" + (.variant // "")] | join(",")')" = \
        "linux/amd64/,linux/arm64/,linux/arm/v7" ]
    # The entries are the images' own manifests.
    [ "$(list_json | jq -r '.manifests[1].digest')" = "$(digest_of docker.io/demo/busybox:arm64)" ]
    # The same images give the same list.
    "$GANTRY" manifest rm "$LIST"
    run "$GANTRY" manifest create "$LIST" demo/busybox:amd64 demo/busybox:arm64 demo/busybox:armhf
    [ "$status" -eq 0 ]
    [ "$output" = "$(digest_of "$FULL")" ]
}

@test "manifest inspect: one row per platform with digest, size and local" {
    create_three
    run --separate-stderr "$GANTRY" manifest inspect "$LIST"
    [ "$status" -eq 0 ]
    [ "${#lines[@]}" -eq 4 ]
    [[ "${lines[0]}" =~ ^PLATFORM\ +DIGEST\ +SIZE\ +LOCAL$ ]]
    [[ "${lines[1]}" =~ ^linux/amd64\ +sha256:[0-9a-f]{64}\ +1\.[0-9]+MB\ +yes$ ]]
    [[ "${lines[2]}" =~ ^linux/arm64\ +sha256:[0-9a-f]{64}\ +1\.[0-9]+MB\ +yes$ ]]
    [[ "${lines[3]}" =~ ^linux/arm/v7\ +sha256:[0-9a-f]{64}\ +[0-9]+kB\ +yes$ ]]
    run "$GANTRY" manifest inspect --format '{{.Platform}} {{.Local}}' "$LIST"
    [ "$output" = "linux/amd64 yes
linux/arm64 yes
linux/arm/v7 yes" ]
    run "$GANTRY" manifest inspect --format json "$LIST"
    [ "$(echo "$output" | jq -sr '.[2].Digest')" = "$(digest_of docker.io/demo/busybox:armhf)" ]
    # The size counts manifest, config and layers.
    local m
    m=$(digest_of docker.io/demo/busybox:arm64)
    want=$(jq '.config.size + ([.layers[].size] | add)' "$(blob "$m")")
    want=$((want + $(stat -c %s "$(blob "$m")")))
    run "$GANTRY" manifest inspect --format json "$LIST"
    [ "$(echo "$output" | jq -sr '.[1].Size')" = "$(awk -v n="$want" 'BEGIN { printf "%.3gMB", n / 1e6 }')" ]
}

@test "manifest list: gantry inspect picks each platform of it" {
    create_three
    run --separate-stderr "$GANTRY" inspect --platform linux/arm/v7 "$LIST" \
        --format '{{.Architecture}}/{{.Variant}}'
    [ "$status" -eq 0 ]
    [ "$output" = "arm/v7" ]
    run "$GANTRY" inspect --platform linux/arm64 "$LIST" --format '{{.Architecture}}'
    [ "$output" = "arm64" ]
    run "$GANTRY" inspect "$LIST" --format '{{.Architecture}}'
    [ "$output" = "amd64" ]
}

@test "manifest inspect --raw: the stored bytes, as skopeo reads them" {
    create_three
    "$GANTRY" manifest inspect --raw "$LIST" >"$BATS_TEST_TMPDIR/gantry.json"
    skopeo inspect --raw "oci:$GANTRY_ROOT:$FULL" >"$BATS_TEST_TMPDIR/skopeo.json"
    cmp "$BATS_TEST_TMPDIR/gantry.json" "$BATS_TEST_TMPDIR/skopeo.json"
    cmp "$BATS_TEST_TMPDIR/gantry.json" "$(blob "$(digest_of "$FULL")")"
}

@test "manifest list: skopeo copy --all copies every platform" {
    create_three
    run skopeo copy --all "oci:$GANTRY_ROOT:$FULL" "oci:$BATS_TEST_TMPDIR/out:x"
    [ "$status" -eq 0 ]
    out_index=$(jq -r '.manifests[0].digest' "$BATS_TEST_TMPDIR/out/index.json")
    [ "$out_index" = "$(digest_of "$FULL")" ]
    [ "$(jq '.manifests | length' "$BATS_TEST_TMPDIR/out/blobs/sha256/${out_index#sha256:}")" -eq 3 ]
}

@test "manifest annotate: variant, os.features and annotations, normalized" {
    create_three
    armhf=$(digest_of docker.io/demo/busybox:armhf)
    run --separate-stderr "$GANTRY" manifest annotate "$LIST" demo/busybox:armhf \
        --variant v6 --os-features simd,gpu --os-features gpu --annotation org.example.k=v
    [ "$status" -eq 0 ]
    [ "$output" = "$(digest_of "$FULL")" ]
    entry=$(list_json | jq -c --arg d "$armhf" '.manifests[] | select(.digest == $d)')
    [ "$(echo "$entry" | jq -r .platform.variant)" = v6 ]
    [ "$(echo "$entry" | jq -c '.platform["os.features"]')" = '["gpu","simd"]' ]
    [ "$(echo "$entry" | jq -r '.annotations["org.example.k"]')" = v ]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$LIST"
    [ "${lines[2]}" = "linux(+gpu+simd)/arm/v6" ]
    # By digest, and --arch aarch64 is stored as arm64 (the old variant goes).
    run "$GANTRY" manifest annotate "$LIST" "$armhf" --arch aarch64
    [ "$status" -eq 0 ]
    [ "$(list_json | jq -c --arg d "$armhf" '.manifests[] | select(.digest == $d) | .platform | [.architecture, .variant]')" = '["arm64",null]' ]
}

@test "manifest remove: by platform and by digest" {
    create_three
    run --separate-stderr "$GANTRY" manifest remove "$LIST" linux/arm64
    [ "$status" -eq 0 ]
    [ "$(list_json | jq -r '[.manifests[].platform.architecture] | join(",")')" = amd64,arm ]
    run "$GANTRY" manifest remove "$LIST" "$(digest_of docker.io/demo/busybox:amd64)"
    [ "$status" -eq 0 ]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$LIST"
    [ "$output" = "linux/arm/v7" ]
    # The images themselves are untouched.
    run "$GANTRY" inspect demo/busybox:arm64 --format '{{.Architecture}}'
    [ "$output" = arm64 ]
}

@test "manifest create --amend and add: extend an existing list" {
    run "$GANTRY" manifest create "$LIST" demo/busybox:amd64
    [ "$status" -eq 0 ]
    first=$output
    run --separate-stderr "$GANTRY" manifest create --amend "$LIST" demo/busybox:arm64 \
        demo/busybox:amd64
    [ "$status" -eq 0 ]
    [ "$output" != "$first" ]
    run "$GANTRY" manifest add "$LIST" demo/busybox:armhf
    [ "$status" -eq 0 ]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$LIST"
    [ "$output" = "linux/amd64
linux/arm64
linux/arm/v7" ]
}

@test "manifest create: a list of lists is flattened; --platform takes one" {
    "$GANTRY" manifest create demo/busybox:two demo/busybox:amd64 demo/busybox:arm64
    run --separate-stderr "$GANTRY" manifest create "$LIST" demo/busybox:two demo/busybox:armhf
    [ "$status" -eq 0 ]
    [ "$(list_json | jq '.manifests | length')" -eq 3 ]
    [ "$(list_json | jq -r '[.manifests[].mediaType] | unique | join(",")')" = \
        application/vnd.oci.image.manifest.v1+json ]
    run "$GANTRY" manifest create --platform linux/arm64 demo/busybox:one demo/busybox:two
    [ "$status" -eq 0 ]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' demo/busybox:one
    [ "$output" = linux/arm64 ]
}

@test "manifest inspect --verbose: docker manifest inspect -v's shape" {
    create_three
    run --separate-stderr "$GANTRY" manifest inspect -v "$LIST"
    [ "$status" -eq 0 ]
    echo "$output" | jq -e 'length == 3'
    echo "$output" | jq -e '.[0].Ref == "docker.io/demo/busybox@" + .[0].Descriptor.digest'
    echo "$output" | jq -e '.[2].Descriptor.platform == {"architecture":"arm","os":"linux","variant":"v7"}'
    echo "$output" | jq -e '.[1].OCIManifest.schemaVersion == 2 and (.[1].OCIManifest.layers | length) == 1'
    # A single image gives one object.
    run "$GANTRY" manifest inspect -v demo/busybox:arm64
    echo "$output" | jq -e '.Descriptor.platform.architecture == "arm64" and .OCIManifest.config.size > 0'
}

# with_attestation NAME: an index of the amd64 image and an attestation of it.
with_attestation() {
    local amd64 empty att
    amd64=$(digest_of docker.io/demo/busybox:amd64)
    printf '{}' >"$BATS_TEST_TMPDIR/empty"
    empty=$(put_blob "$BATS_TEST_TMPDIR/empty")
    jq -cj --arg e "$empty" -n '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2},
        layers: []}' >"$BATS_TEST_TMPDIR/att"
    att=$(put_blob "$BATS_TEST_TMPDIR/att")
    jq -cj --arg a "$att" --arg asz "$(stat -c %s "$BATS_TEST_TMPDIR/att")" \
        --arg m "$amd64" --arg ms "$(stat -c %s "$(blob "$amd64")")" -n '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json", manifests: [
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: ($ms | tonumber),
         platform: {architecture: "amd64", os: "linux"}},
        {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: ($asz | tonumber),
         platform: {architecture: "unknown", os: "unknown"},
         annotations: {"vnd.docker.reference.type": "attestation-manifest",
                       "vnd.docker.reference.digest": $m}}]}' >"$BATS_TEST_TMPDIR/idx"
    add_ref "$1" "$MT_INDEX" "$BATS_TEST_TMPDIR/idx" >/dev/null
}

@test "manifest inspect: attestations are listed apart, never as platforms" {
    with_attestation docker.io/demo/busybox:att
    run --separate-stderr "$GANTRY" manifest create "$LIST" demo/busybox:att demo/busybox:arm64
    [ "$status" -eq 0 ]
    [ "$(list_json | jq '.manifests | length')" -eq 3 ]
    run --separate-stderr "$GANTRY" manifest inspect "$LIST"
    [ "$status" -eq 0 ]
    # bats drops the blank line between the two tables from lines.
    [ "${#lines[@]}" -eq 5 ]
    [[ "$output" == *$'yes\n\nATTESTATION'* ]]
    [[ "${lines[1]}" == linux/amd64\ * ]]
    [[ "${lines[2]}" == linux/arm64\ * ]]
    [[ "${lines[3]}" =~ ^ATTESTATION\ +FOR\ +SIZE\ +LOCAL$ ]]
    [[ "${lines[4]}" =~ ^sha256:[0-9a-f]{64}\ +$(digest_of docker.io/demo/busybox:amd64)\ +[0-9]+B\ +yes$ ]]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$LIST"
    [ "$output" = "linux/amd64
linux/arm64" ]
    # Removing the platform takes its attestation along.
    run "$GANTRY" manifest remove "$LIST" linux/amd64
    [ "$status" -eq 0 ]
    [ "$(list_json | jq '.manifests | length')" -eq 1 ]
}

@test "manifest create --format docker: a Docker manifest list of Docker manifests" {
    # gantry import writes OCI manifests: a Docker list of them is refused.
    run --separate-stderr "$GANTRY" manifest create --format docker "$LIST" demo/busybox:amd64
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: a docker manifest list cannot hold sha256:"*" of type application/vnd.oci.image.manifest.v1+json (use --format oci)" ]]
    [ -z "$(digest_of "$FULL")" ]
}

@test "manifest rm: deletes lists, not images" {
    create_three
    run --separate-stderr "$GANTRY" manifest rm "$LIST" demo/busybox:amd64
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: 'demo/busybox:amd64' is not a manifest list" ]
    [ -z "$(digest_of "$FULL")" ]
    [ -n "$(digest_of docker.io/demo/busybox:amd64)" ]
    run --separate-stderr "$GANTRY" manifest inspect "$LIST"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no such image: 'demo/busybox:multi' (not in the store; write docker://demo/busybox:multi to read it from its registry)" ]
}
