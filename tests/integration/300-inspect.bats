#!/usr/bin/env bats
# gantry inspect: Docker's image inspect JSON, --format, every way to name
# an image, platform choice in a multi-platform index (host, --platform,
# P4), and the errors: unknown images and corrupt blobs.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    import_busybox amd64 "" busybox:amd64 -c 'CMD ["sh"]' -m imported
    import_busybox arm64 linux/arm64 busybox:arm64
    import_busybox armhf linux/arm/v7 busybox:armhf
}

@test "inspect: Docker's image inspect shape" {
    run --separate-stderr "$GANTRY" inspect busybox:amd64
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    j=$output
    [ "$(jq length <<<"$j")" = 1 ]
    [ "$(jq -r '.[0] | keys_unsorted | join(",")' <<<"$j")" = \
        "Id,RepoTags,RepoDigests,Parent,Comment,Created,DockerVersion,Author,Config,Architecture,Os,Size,RootFS,Metadata,Descriptor" ]
    id=$("$GANTRY" images -q --no-trunc busybox:amd64)
    digest=$("$GANTRY" images --format '{{.Digest}}' busybox:amd64)
    [ "$(jq -r '.[0].Id' <<<"$j")" = "$id" ]
    [ "$(jq -c '.[0].RepoTags' <<<"$j")" = '["busybox:amd64"]' ]
    [ "$(jq -c '.[0].RepoDigests' <<<"$j")" = "[\"busybox@$digest\"]" ]
    [ "$(jq -r '.[0].Comment' <<<"$j")" = imported ]
    [[ "$(jq -r '.[0].Created' <<<"$j")" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
    [ "$(jq -c '.[0].Config.Cmd' <<<"$j")" = '["sh"]' ]
    [ "$(jq -c '.[0].Config.Entrypoint' <<<"$j")" = null ]
    [ "$(jq -r '.[0].Config | keys_unsorted | first' <<<"$j")" = Hostname ]
    [ "$(jq -r '.[0].Architecture + " " + .[0].Os' <<<"$j")" = "amd64 linux" ]
    [ "$(jq -r '.[0].RootFS.Type' <<<"$j")" = layers ]
    [ "$(jq -r '.[0].RootFS.Layers | length' <<<"$j")" = 1 ]
    [ "$(jq -r '.[0].Size' <<<"$j")" -gt 500000 ]
    [ "$(jq -r '.[0].Descriptor.digest' <<<"$j")" = "$digest" ]
    [ "$(jq -c '.[0].Descriptor.platform' <<<"$j")" = '{"architecture":"amd64","os":"linux"}' ]
    # Four-space indentation, as docker prints it.
    [ "${lines[1]}" = "    {" ]
    [[ "${lines[2]}" == '        "Id": "sha256:'* ]]
}

@test "inspect: --format, one line per image, Variant only when set" {
    run --separate-stderr "$GANTRY" inspect --format '{{.Os}}/{{.Architecture}}' busybox:arm64
    [ "$status" -eq 0 ]
    [ "$output" = linux/arm64 ]
    run --separate-stderr "$GANTRY" inspect -f '{{.Architecture}} {{.Variant}}' \
        busybox:armhf busybox:amd64
    [ "$output" = "arm v7
amd64 <no value>" ]
    run --separate-stderr "$GANTRY" inspect busybox:armhf
    [ "$(jq -r '.[0].Variant' <<<"$output")" = v7 ]
    run --separate-stderr "$GANTRY" inspect busybox:arm64
    [ "$(jq '.[0] | has("Variant")' <<<"$output")" = false ]
    run --separate-stderr "$GANTRY" inspect --format '{{json .RootFS}}' busybox:arm64
    [ "$(jq -r .Type <<<"$output")" = layers ]
}

@test "inspect: by id, id prefix, digest and name@digest" {
    id=$("$GANTRY" images -q --no-trunc busybox:arm64)
    digest=$("$GANTRY" images --format '{{.Digest}}' busybox:arm64)
    for r in "$id" "${id#sha256:}" "${id:7:12}" "${id:0:14}" "$digest" "busybox@$digest" \
        "docker.io/library/busybox:arm64"; do
        run --separate-stderr "$GANTRY" inspect --format '{{.Id}}' "$r"
        [ "$status" -eq 0 ] || { echo "$r: $stderr"; false; }
        [ "$output" = "$id" ]
    done
}

@test "inspect: a multi-platform index follows the host or --platform" {
    idx=$(add_index docker.io/library/multi:1 busybox:amd64 busybox:arm64 busybox:armhf \
        attestation:busybox:amd64 missing:linux/s390x)
    run --separate-stderr "$GANTRY" inspect --format '{{.Os}}/{{.Architecture}}' multi:1
    [ "$output" = linux/amd64 ]
    GANTRY_HOST_PLATFORM=linux/arm64 run --separate-stderr "$GANTRY" inspect \
        --format '{{.Architecture}}' multi:1
    [ "$output" = arm64 ]
    run --separate-stderr "$GANTRY" inspect --platform linux/arm/v7 \
        --format '{{.Architecture}}/{{.Variant}}' multi:1
    [ "$output" = arm/v7 ]
    # arm/v8 falls back to the best arm variant present.
    run --separate-stderr "$GANTRY" inspect --platform linux/arm/v8 \
        --format '{{.Variant}}' multi:1
    [ "$output" = v7 ]
    run --separate-stderr "$GANTRY" inspect multi:1
    [ "$status" -eq 0 ]
    [ "$(jq -r '.[0].RepoTags[0]' <<<"$output")" = multi:1 ]
    [ "$(jq -r '.[0].RepoDigests[0]' <<<"$output")" = "multi@$idx" ]
    [ "$(jq -c '[.[0].Manifests[] | .Platform + "=" + (.Present | tostring)]' <<<"$output")" = \
        '["linux/amd64=true","linux/arm64=true","linux/arm/v7=true","linux/s390x=false"]' ]
    [ "$(jq -r '.[0].Id' <<<"$output")" = "$("$GANTRY" images -q --no-trunc busybox:amd64)" ]
}

@test "inspect: P4, no matching manifest, lists what the image has" {
    add_index docker.io/library/multi:1 busybox:amd64 busybox:arm64 missing:linux/s390x >/dev/null
    before=$(sha256sum <"$GANTRY_ROOT/index.json")
    run --separate-stderr "$GANTRY" inspect --platform linux/riscv64 multi:1
    [ "$status" -eq 1 ]
    [ "$output" = "[]" ]
    [ "$stderr" = "gantry: no matching manifest for linux/riscv64 in 'docker.io/library/multi:1' (it has: linux/amd64, linux/arm64, linux/s390x(missing))" ]
    run --separate-stderr "$GANTRY" inspect --platform linux/s390x multi:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: manifest for linux/s390x in 'docker.io/library/multi:1' is not in the store (it has: linux/amd64, linux/arm64, linux/s390x(missing))" ]
    # No fallback to another architecture: arm64 does not take arm/v7.
    run --separate-stderr "$GANTRY" inspect --platform linux/arm/v7 multi:1
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: no matching manifest for linux/arm/v7 in "* ]]
    # A single-platform image checks an explicit --platform too.
    run --separate-stderr "$GANTRY" inspect --platform linux/arm64 busybox:amd64
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no matching manifest for linux/arm64 in 'docker.io/library/busybox:amd64' (it has: linux/amd64)" ]
    run --separate-stderr "$GANTRY" inspect --platform "linux/&arm" busybox:amd64
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: invalid platform 'linux/&arm'"* ]]
    [ "$(sha256sum <"$GANTRY_ROOT/index.json")" = "$before" ]
}

@test "inspect: unknown images are errors, the others are still printed" {
    run --separate-stderr "$GANTRY" inspect nothere:1
    [ "$status" -eq 1 ]
    [ "$output" = "[]" ]
    [ "$stderr" = "gantry: no such image: 'nothere:1'" ]
    run --separate-stderr "$GANTRY" inspect --format '{{.Architecture}}' busybox:arm64 nothere \
        busybox:amd64
    [ "$status" -eq 1 ]
    [ "$output" = "arm64
amd64" ]
    [ "$stderr" = "gantry: no such image: 'nothere'" ]
    run --separate-stderr "$GANTRY" inspect Bad:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: invalid reference 'Bad:1': repository name must be lowercase" ]
    run --separate-stderr "$GANTRY" inspect --format '{{.Os' busybox:amd64
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: template: "* ]]
    run --separate-stderr "$GANTRY" inspect
    [ "$status" -eq 2 ]
}

@test "inspect: a corrupted blob is reported by digest" {
    for what in config manifest; do
        ref=busybox:arm64
        [ "$what" = manifest ] && ref=busybox:armhf
        m=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$ref")
        if [ "$what" = config ]; then d=$(jq -r .config.digest "$(blob "$m")"); else d=$m; fi
        f=$(blob "$d")
        chmod u+w "$f"
        # Flip one byte: '{' becomes '['.
        printf '[' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
        run --separate-stderr "$GANTRY" inspect "$ref"
        [ "$status" -eq 1 ]
        [[ "$stderr" == "gantry: "*"$d"* ]] || { echo "$stderr"; false; }
        [[ "$stderr" == *corrupt* ]] || { echo "$stderr"; false; }
    done
    # The intact image is unaffected.
    run --separate-stderr "$GANTRY" inspect --format '{{.Architecture}}' busybox:amd64
    [ "$output" = amd64 ]
}
