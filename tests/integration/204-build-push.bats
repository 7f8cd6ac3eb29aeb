#!/usr/bin/env bats
# gantry build --push against the real distribution registry (Debian's
# docker-registry on a free 127.0.0.1 port): three platforms built and
# pushed to two names in one command, then each platform pulled back into
# an empty store with the right ELF machine; --output type=registry is the
# same; names that would go to docker.io are refused before building.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
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
    CTX=$BATS_TEST_TMPDIR/ctx
    make_context "$CTX"
    cd "$BATS_TEST_TMPDIR"
}

# make_context DIR: the three busybox binaries (named by TARGETARCH) and the Dockerfile.
make_context() {
    mkdir -p "$1"
    cp "$GANTRY_FIXTURES/busybox-amd64/rootfs/bin/busybox" "$1/busybox-amd64"
    cp "$GANTRY_FIXTURES/busybox-arm64/rootfs/bin/busybox" "$1/busybox-arm64"
    cp "$GANTRY_FIXTURES/busybox-armhf/rootfs/bin/busybox" "$1/busybox-arm"
    cat >"$1/Dockerfile" <<'DF'
FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS tools
ARG TARGETARCH
COPY busybox-${TARGETARCH} /out/busybox

FROM scratch
COPY --from=tools /out/busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
DF
}

PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

# pulled_machine NAME PLATFORM: pull PLATFORM of NAME into a new empty
# store, then `file` on bin/busybox of the pulled layer.
pulled_machine() {
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/pull-${2//\//-}"
    "$GANTRY" pull -q --platform "$2" "$1" >/dev/null
    local idx man layer
    idx=$(ref_field "$1" .digest)
    man=$(jq -r --arg p "$2" '.manifests[] | select((.platform.os + "/" + .platform.architecture
        + (if .platform.variant then "/" + .platform.variant else "" end)) == $p) | .digest' \
        "$(blob "$idx")")
    layer=$(jq -r '.layers[0].digest' "$(blob "$man")")
    rm -rf x && mkdir x
    tar -xzf "$(blob "$layer")" -C x bin/busybox
    file -b x/bin/busybox
}

@test "build --push: three platforms pushed to two names, each pulled back with its machine" {
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" --push \
        -t "$REG/demo/app:1" -t "$REG/demo/app:latest" "$CTX"
    [ "$status" -eq 0 ]
    idx=$output
    [[ "$stderr" == *"Pushed $REG/demo/app:1"* && "$stderr" == *"Pushed $REG/demo/app:latest"* ]]
    # The store has the names too; the registry serves the same index bytes.
    [ "$(ref_field "$REG/demo/app:1" .digest)" = "$idx" ]
    for tag in 1 latest; do
        skopeo inspect --raw --tls-verify=false "docker://$REG/demo/app:$tag" | cmp - "$(blob "$idx")"
    done
    [[ "$(pulled_machine "$REG/demo/app:1" linux/amd64)" == *x86-64* ]]
    [[ "$(pulled_machine "$REG/demo/app:1" linux/arm64)" == *aarch64* ]]
    [[ "$(pulled_machine "$REG/demo/app:1" linux/arm/v7)" == *"32-bit"*ARM* ]]
    # Each store pulled one platform: index, manifest, config, layer.
    [ "$(ls "$BATS_TEST_TMPDIR/pull-linux-arm-v7/blobs/sha256" | wc -l)" -eq 4 ]
}

@test "build --output type=registry: one platform pushed as a manifest, with --metadata-file" {
    export SOURCE_DATE_EPOCH=1700000000 # the second build gives the same digest
    run --separate-stderr "$GANTRY" build --platform linux/arm64 -o type=registry \
        --metadata-file meta.json -t "$REG/demo/one:1" "$CTX"
    [ "$status" -eq 0 ]
    man=$(jq -r '."containerimage.digest"' meta.json)
    [ "$(jq -r '."containerimage.config.digest"' meta.json)" = "$output" ]
    [ "$(jq -r '."image.name"' meta.json)" = "$REG/demo/one:1" ]
    run skopeo inspect --tls-verify=false "docker://$REG/demo/one:1"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .Digest)" = "$man" ]
    [ "$(echo "$output" | jq -r .Architecture)" = arm64 ]
    # type=image,push=true is the same.
    run --separate-stderr "$GANTRY" build --platform linux/arm64 -o type=image,push=true \
        -t "$REG/demo/one:2" "$CTX"
    [ "$status" -eq 0 ]
    [ "$(skopeo inspect --tls-verify=false "docker://$REG/demo/one:2" | jq -r .Digest)" = "$man" ]
}

@test "build --push: a name without a registry host is refused before building" {
    before=$(all_blobs)
    run --separate-stderr "$GANTRY" build --push -t "$REG/demo/ok:1" -t app:1 "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: refusing to push 'app:1': the name has no registry host and a bare name never goes to the network (docker would push to docker.io); name it HOST/REPO:TAG" ]
    run --separate-stderr "$GANTRY" build --push "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: nothing to push to: name the image with -t HOST/REPO:TAG" ]
    # Nothing was built, named or pushed.
    [ "$(all_blobs)" = "$before" ]
    [ -z "$(ref_field "$REG/demo/ok:1" .digest)" ]
    run skopeo inspect --raw --tls-verify=false "docker://$REG/demo/ok:1"
    [ "$status" -ne 0 ]
}
