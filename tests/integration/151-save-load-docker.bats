#!/usr/bin/env bats
# gantry save --format docker and gantry load of docker archives, checked
# against skopeo 1.9's docker-archive transport in both directions.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup "$BATS_TEST_TMPDIR/root"
    cd "$BATS_TEST_TMPDIR"
}

# config_of ROOT NAME: the config digest (the image id) of a stored image.
config_of() {
    skopeo inspect --raw "oci:$1:$2" | jq -r .config.digest
}

@test "save docker: skopeo inspect docker-archive reads it; layers are the uncompressed diff_ids" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    run --separate-stderr "$GANTRY" save --format docker -o d.tar demo/busybox:arm64
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    run skopeo inspect docker-archive:d.tar
    [ "$status" -eq 0 ]
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
    [ "$(jq -r .Os <<<"$output")" = linux ]
    diff_ids=$(skopeo inspect --config "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" | jq -c .rootfs.diff_ids)
    [ "$(jq -c .Layers <<<"$output")" = "$diff_ids" ]
    tar -xOf d.tar manifest.json >manifest.json
    [ "$(jq -c '.[0].RepoTags' manifest.json)" = '["demo/busybox:arm64"]' ]
    config=$(config_of "$GANTRY_ROOT" docker.io/demo/busybox:arm64)
    [ "$(jq -r '.[0].Config' manifest.json)" = "${config#sha256:}.json" ]
    [ "$(tar -xOf d.tar repositories | jq -r '.["demo/busybox"].arm64')/layer.tar" = \
        "$(jq -r '.[0].Layers[-1]' manifest.json)" ]
    # each layer.tar is the uncompressed layer: it hashes to its diff_id
    layer=$(jq -r '.[0].Layers[0]' manifest.json)
    [ "sha256:$(tar -xOf d.tar "$layer" | sha256sum | cut -d' ' -f1)" = "$(jq -r '.[0]' <<<"$diff_ids")" ]
}

@test "save docker: skopeo copy docker-archive: to oci: works" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    import_busybox amd64 linux/amd64 demo/busybox:amd64
    "$GANTRY" save --format docker -o d.tar demo/busybox:arm64 demo/busybox:amd64
    run skopeo copy -q docker-archive:d.tar:demo/busybox:amd64 "oci:$BATS_TEST_TMPDIR/lay:x"
    [ "$status" -eq 0 ]
    run skopeo inspect "oci:$BATS_TEST_TMPDIR/lay:x"
    [ "$(jq -r .Architecture <<<"$output")" = amd64 ]
    # the same config (skopeo re-serializes it for OCI, so compare the content)
    [ "$(skopeo inspect --config "oci:$BATS_TEST_TMPDIR/lay:x" | jq -cS .)" = \
        "$(skopeo inspect --config "oci:$GANTRY_ROOT:docker.io/demo/busybox:amd64" | jq -cS .)" ]
}

@test "save docker, rmi, load: same image id and names; layers stored gzip" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    "$GANTRY" tag demo/busybox:arm64 demo/other:7
    id=$(config_of "$GANTRY_ROOT" docker.io/demo/busybox:arm64)
    "$GANTRY" save --format docker -o d.tar demo/busybox:arm64 demo/other:7
    # two names of one image share one manifest.json entry
    [ "$(tar -xOf d.tar manifest.json | jq -c '[.[].RepoTags]')" = '[["demo/busybox:arm64","demo/other:7"]]' ]
    "$GANTRY" rmi demo/busybox:arm64 demo/other:7
    run --separate-stderr "$GANTRY" load -i d.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/busybox:arm64
Loaded image: docker.io/demo/other:7" ]
    [ "$(config_of "$GANTRY_ROOT" docker.io/demo/busybox:arm64)" = "$id" ]
    [ "$(config_of "$GANTRY_ROOT" docker.io/demo/other:7)" = "$id" ]
    run skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64"
    [ "$(jq -r '.layers[0].mediaType' <<<"$output")" = application/vnd.oci.image.layer.v1.tar+gzip ]
    run "$GANTRY" inspect --format '{{.Architecture}}' demo/busybox:arm64
    [ "$output" = arm64 ]
}

@test "load: a docker-archive written by skopeo (symlinked layers), plain, gzip and zstd" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    id=$(config_of "$GANTRY_ROOT" docker.io/demo/busybox:arm64)
    skopeo copy -q "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" docker-archive:sk.tar:demo/sk:1
    gzip -k sk.tar
    zstd -q sk.tar
    for f in sk.tar sk.tar.gz sk.tar.zst; do
        export GANTRY_ROOT="$BATS_TEST_TMPDIR/root-$f"
        run --separate-stderr "$GANTRY" load -i "$f"
        [ "$status" -eq 0 ]
        [ "$output" = "Loaded image: docker.io/demo/sk:1" ]
        [ "$(config_of "$GANTRY_ROOT" docker.io/demo/sk:1)" = "$id" ]
    done
}

@test "load: a docker archive from standard input; an image without RepoTags gets its id printed" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    id=$(config_of "$GANTRY_ROOT" docker.io/demo/busybox:arm64)
    digest=$(digest_of docker.io/demo/busybox:arm64)
    "$GANTRY" save --format docker -o d.tar "$digest"
    [ "$(tar -xOf d.tar manifest.json | jq -c '.[0].RepoTags')" = '[]' ]
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load <d.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image ID: $id" ]
    run --separate-stderr "$GANTRY" load -t demo/named:1 <d.tar
    [ "$output" = "Loaded image: docker.io/demo/named:1" ]
    [ "$(config_of "$GANTRY_ROOT" docker.io/demo/named:1)" = "$id" ]
}

@test "save docker: a multi-platform image gives the host's platform, or the one asked for" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    import_busybox armhf linux/arm/v7 demo/busybox:armhf
    arm64=$(ref_field docker.io/demo/busybox:arm64 .)
    armhf=$(ref_field docker.io/demo/busybox:armhf .)
    # a two-platform index over the two imported manifests, as an OCI archive
    mkdir -p lay/blobs/sha256
    cp "$GANTRY_ROOT"/blobs/sha256/* lay/blobs/sha256/
    echo '{"imageLayoutVersion":"1.0.0"}' >lay/oci-layout
    jq -nc --argjson a "$arm64" --argjson b "$armhf" \
        '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
          manifests: [$a, $b] | map(del(.annotations))}' >idx.json
    hex=$(sha256sum idx.json | cut -d' ' -f1)
    cp idx.json "lay/blobs/sha256/$hex"
    jq -nc --arg d "sha256:$hex" --argjson s "$(stat -c %s idx.json)" \
        '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json",
          digest: $d, size: $s, annotations: {"io.containerd.image.name": "docker.io/demo/multi:2"}}]}' >lay/index.json
    tar -C lay -cf multi.tar oci-layout index.json blobs
    "$GANTRY" load -i multi.tar >/dev/null
    GANTRY_HOST_PLATFORM=linux/arm/v7 "$GANTRY" save --format docker -o host.tar demo/multi:2
    run skopeo inspect docker-archive:host.tar
    [ "$(jq -r .Architecture <<<"$output")" = arm ]
    "$GANTRY" save --format docker --platform linux/arm64 -o one.tar demo/multi:2
    run skopeo inspect docker-archive:one.tar
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
}
