#!/usr/bin/env bats
# gantry save/load with OCI archives, checked against skopeo 1.9 in both
# directions: skopeo reads what gantry saves (oci-archive:), gantry loads
# what skopeo writes, multi-platform images included (docs/save.md,
# docs/load.md).

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup "$BATS_TEST_TMPDIR/root"
    cd "$BATS_TEST_TMPDIR"
}

# A 3-platform OCI layout in DIR (ref.name "multi") made from gantry-imported
# images: their blobs, an index blob written with jq, and an index.json.
make_multi_layout() {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    import_busybox amd64 linux/amd64 demo/busybox:amd64
    import_busybox armhf linux/arm/v7 demo/busybox:armhf
    mkdir -p "$1/blobs/sha256"
    cp "$GANTRY_ROOT"/blobs/sha256/* "$1/blobs/sha256/"
    echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
    jq -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [.manifests[] | {mediaType, digest, size, platform}]}' \
        "$GANTRY_ROOT/index.json" >"$BATS_TEST_TMPDIR/idx.json"
    [ "$(jq '.manifests | length' "$BATS_TEST_TMPDIR/idx.json")" -eq 3 ]
    local hex size
    hex=$(sha256sum "$BATS_TEST_TMPDIR/idx.json" | cut -d' ' -f1)
    size=$(stat -c %s "$BATS_TEST_TMPDIR/idx.json")
    cp "$BATS_TEST_TMPDIR/idx.json" "$1/blobs/sha256/$hex"
    jq -nc --arg d "sha256:$hex" --argjson s "$size" \
        '{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.index.v1+json",
          digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": "multi"}}]}' \
        >"$1/index.json"
    echo "sha256:$hex" >"$BATS_TEST_TMPDIR/multi.digest"
}

@test "save oci: skopeo inspect oci-archive reads the platform and the layers" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    run --separate-stderr "$GANTRY" save -o busybox.tar demo/busybox:arm64
    [ "$status" -eq 0 ]
    [ -z "$output" ] && [ -z "$stderr" ]
    run skopeo inspect oci-archive:busybox.tar
    [ "$status" -eq 0 ]
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
    [ "$(jq -r .Os <<<"$output")" = linux ]
    want=$(skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" | jq -c '[.layers[].digest]')
    [ "$(jq -c .Layers <<<"$output")" = "$want" ]
    # index.json names the image the way Docker 25+ and containerd do
    tar -xOf busybox.tar index.json >index.json
    [ "$(jq -r '.manifests[0].annotations["io.containerd.image.name"]' index.json)" = docker.io/demo/busybox:arm64 ]
    [ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' index.json)" = arm64 ]
    [ "$(jq -r '.manifests[0].digest' index.json)" = "$(digest_of docker.io/demo/busybox:arm64)" ]
}

@test "save oci: skopeo copy oci-archive:FILE:TAG finds the image by its tag" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    import_busybox amd64 linux/amd64 demo/busybox:amd64
    "$GANTRY" save -o both.tar demo/busybox:arm64 demo/busybox:amd64
    run skopeo copy -q oci-archive:both.tar:arm64 "oci:$BATS_TEST_TMPDIR/out:x"
    [ "$status" -eq 0 ]
    run skopeo inspect "oci:$BATS_TEST_TMPDIR/out:x"
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
}

@test "save oci: standard output gives the same bytes as -o, and the same images twice give the same archive" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    "$GANTRY" save -o a.tar demo/busybox:arm64
    "$GANTRY" save demo/busybox:arm64 >b.tar
    cmp a.tar b.tar
    [ "$(tar -tf a.tar | head -2 | tr '\n' ' ')" = "oci-layout index.json " ]
}

@test "load: an oci-archive written by skopeo (a bare tag names nothing; --tag names it)" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    skopeo copy -q "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" oci-archive:sk.tar:arm64
    config=$(skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" | jq -r .config.digest)
    manifest=$(digest_of docker.io/demo/busybox:arm64)
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load -i sk.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image ID: $config" ]
    run --separate-stderr "$GANTRY" load -i sk.tar --tag demo/x:1
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/x:1" ]
    [ "$(digest_of docker.io/demo/x:1)" = "$manifest" ]
    run "$GANTRY" inspect --format '{{.Architecture}}' demo/x:1
    [ "$status" -eq 0 ]
    [ "$output" = arm64 ]
}

@test "load: an oci-archive whose ref.name is a full reference is named by it" {
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    skopeo copy -q "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" oci-archive:sk.tar:localhost:5000/demo/y:2
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load -i sk.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: localhost:5000/demo/y:2" ]
}

@test "load: a 3-platform oci-archive made by skopeo copy --all loads whole" {
    make_multi_layout "$BATS_TEST_TMPDIR/layout"
    skopeo copy -q --all oci:layout:multi oci-archive:multi.tar:multi
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load -i multi.tar -t demo/multi:1
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/multi:1" ]
    # the index is stored byte for byte
    [ "$(digest_of docker.io/demo/multi:1)" = "$(cat multi.digest)" ]
    for p in linux/arm64:arm64 linux/amd64:amd64 linux/arm/v7:arm; do
        run "$GANTRY" inspect --platform "${p%%:*}" --format '{{.Architecture}}' demo/multi:1
        [ "$status" -eq 0 ]
        [ "$output" = "${p##*:}" ]
    done
}

@test "save oci: --platform keeps one child (the manifest), two platforms a smaller index" {
    make_multi_layout "$BATS_TEST_TMPDIR/layout"
    skopeo copy -q --all oci:layout:multi oci-archive:multi.tar:multi
    "$GANTRY" load -i multi.tar -t demo/multi:1 >/dev/null
    "$GANTRY" save --platform linux/arm64 -o one.tar demo/multi:1
    tar -xOf one.tar index.json >one.json
    [ "$(jq -r '.manifests[0].mediaType' one.json)" = application/vnd.oci.image.manifest.v1+json ]
    [ "$(jq -r '.manifests[0].platform.architecture' one.json)" = arm64 ]
    run skopeo inspect oci-archive:one.tar
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
    "$GANTRY" save --platform linux/arm64,linux/arm/v7 -o two.tar demo/multi:1
    tar -xOf two.tar index.json >two.json
    sub=$(jq -r '.manifests[0].digest' two.json)
    tar -xOf two.tar "blobs/sha256/${sub#sha256:}" >sub.json
    [ "$(jq -c '[.manifests[].platform.architecture]' sub.json)" = '["arm64","arm"]' ]
    run skopeo copy -q --all oci-archive:two.tar "oci:$BATS_TEST_TMPDIR/two:x"
    [ "$status" -eq 0 ]
}

@test "save/load oci: rmi then load gives identical digests, multi-platform included" {
    make_multi_layout "$BATS_TEST_TMPDIR/layout"
    skopeo copy -q --all oci:layout:multi oci-archive:multi.tar:multi
    "$GANTRY" load -i multi.tar -t demo/multi:1 >/dev/null
    before_multi=$(digest_of docker.io/demo/multi:1)
    before_arm64=$(digest_of docker.io/demo/busybox:arm64)
    "$GANTRY" save -o all.tar demo/multi:1 demo/busybox:arm64
    "$GANTRY" rmi demo/multi:1 demo/busybox:arm64
    [ -z "$(digest_of docker.io/demo/multi:1)" ]
    run --separate-stderr "$GANTRY" load -i all.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/multi:1
Loaded image: docker.io/demo/busybox:arm64" ]
    [ "$(digest_of docker.io/demo/multi:1)" = "$before_multi" ]
    [ "$(digest_of docker.io/demo/busybox:arm64)" = "$before_arm64" ]
    # into an empty store too, compressed on the way
    gzip -k all.tar
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    "$GANTRY" load -q -i all.tar.gz >/dev/null
    [ "$(digest_of docker.io/demo/multi:1)" = "$before_multi" ]
    run "$GANTRY" inspect --platform linux/arm/v7 --format '{{.Architecture}}' demo/multi:1
    [ "$output" = arm ]
}

@test "save/load oci: a partial index (children missing) is saved as is and loads as a partial image" {
    make_multi_layout "$BATS_TEST_TMPDIR/layout"
    # drop the armhf child's manifest from the layout, keep the index pointing at it
    armhf=$(digest_of docker.io/demo/busybox:armhf)
    rm "layout/blobs/sha256/${armhf#sha256:}"
    tar -C layout -cf partial.tar oci-layout index.json blobs
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load -i partial.tar -t demo/partial:1
    [ "$status" -eq 0 ]
    [ "$(digest_of docker.io/demo/partial:1)" = "$(cat multi.digest)" ]
    run "$GANTRY" inspect --platform linux/arm64 --format '{{.Architecture}}' demo/partial:1
    [ "$output" = arm64 ]
    run "$GANTRY" inspect --platform linux/arm/v7 demo/partial:1
    [ "$status" -ne 0 ]
    "$GANTRY" save -o again.tar demo/partial:1
    [ -z "$(tar -tf again.tar | grep "${armhf#sha256:}")" ]
    tar -xOf again.tar index.json | jq -e --arg d "$(cat multi.digest)" '.manifests[0].digest == $d'
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/third"
    run --separate-stderr "$GANTRY" load -i again.tar
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/partial:1" ]
}
