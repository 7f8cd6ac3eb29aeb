#!/usr/bin/env bats
# gantry build, end to end without RUN: a multi-stage Dockerfile with a
# FROM --platform=$BUILDPLATFORM stage, ARG TARGETARCH and a final FROM
# scratch stage that copies the busybox of each platform, built for three
# platforms in one command over local base images.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
}

setup() {
    copy_file_store
    CTX=$BATS_TEST_TMPDIR/ctx
    make_context "$CTX"
}

# make_context DIR: the three busybox binaries (named by TARGETARCH) and the Dockerfile.
make_context() {
    mkdir -p "$1"
    cp "$GANTRY_FIXTURES/busybox-amd64/rootfs/bin/busybox" "$1/busybox-amd64"
    cp "$GANTRY_FIXTURES/busybox-arm64/rootfs/bin/busybox" "$1/busybox-arm64"
    cp "$GANTRY_FIXTURES/busybox-armhf/rootfs/bin/busybox" "$1/busybox-arm"
    cat >"$1/Dockerfile" <<'DF'
# The tools stage runs on the build platform and picks the target's binary.
FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS tools
ARG TARGETARCH
WORKDIR /out
COPY busybox-${TARGETARCH} /out/busybox

FROM scratch
ARG TARGETARCH
LABEL org.example.arch=$TARGETARCH
COPY --from=tools /out/busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
CMD ["sh"]
DF
}

PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

json() {
    cat "$(blob "$1")"
}

@test "build: three platforms in one command make an index of three images" {
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -t demo/app:1 "$CTX"
    [ "$status" -eq 0 ]
    idx=$(digest_of docker.io/demo/app:1)
    [ "$output" = "$idx" ]
    [ "$(ref_field docker.io/demo/app:1 .mediaType)" = "$MT_INDEX" ]
    [ "$(json "$idx" | jq '.manifests | length')" -eq 3 ]
    [ "$(json "$idx" | jq -r '[.manifests[].platform | [.os, .architecture, .variant // ""] | join("/")] | join(",")')" = "linux/amd64/,linux/arm64/,linux/arm/v7" ]
    for i in 0 1 2; do
        m=$(json "$idx" | jq -r ".manifests[$i].digest")
        arch=$(json "$idx" | jq -r ".manifests[$i].platform.architecture")
        cfg=$(json "$m" | jq -r .config.digest)
        [ "$(json "$cfg" | jq -r .architecture)" = "$arch" ]
        [ "$(json "$cfg" | jq -r '.config.Labels["org.example.arch"]')" = "$arch" ]
        [ "$(json "$cfg" | jq -c .config.Entrypoint)" = '["/bin/busybox"]' ]
        [ "$(json "$cfg" | jq -c .config.Cmd)" = '["sh"]' ]
        [ "$(json "$cfg" | jq '.rootfs.diff_ids | length')" -eq 1 ]
        [ "$(json "$cfg" | jq '[.history[] | select(.empty_layer != true)] | length')" -eq 1 ]
        layer=$(json "$m" | jq -r '.layers[0].digest')
        rm -rf "$BATS_TEST_TMPDIR/x" && mkdir "$BATS_TEST_TMPDIR/x"
        tar -xzf "$(blob "$layer")" -C "$BATS_TEST_TMPDIR/x"
        machine=$(file -b "$BATS_TEST_TMPDIR/x/bin/busybox")
        case $arch in
        amd64) [[ $machine == *x86-64* ]] ;;
        arm64) [[ $machine == *aarch64* ]] ;;
        arm) [[ $machine == *"32-bit"*ARM* ]] ;;
        esac
    done
}

@test "build: SOURCE_DATE_EPOCH in two folders gives the same index digest" {
    SOURCE_DATE_EPOCH=1700000000 run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -t demo/app:a "$CTX"
    [ "$status" -eq 0 ]
    first=$output
    make_context "$BATS_TEST_TMPDIR/other/place"
    touch -d '2030-01-01' "$BATS_TEST_TMPDIR/other/place/"*
    SOURCE_DATE_EPOCH=1700000000 run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -t demo/app:b "$BATS_TEST_TMPDIR/other/place"
    [ "$status" -eq 0 ]
    [ "$output" = "$first" ]
    [ "$(digest_of docker.io/demo/app:a)" = "$(digest_of docker.io/demo/app:b)" ]
    m=$(json "$first" | jq -r '.manifests[0].digest')
    cfg=$(json "$m" | jq -r .config.digest)
    [ "$(json "$cfg" | jq -r .created)" = "2023-11-14T22:13:20Z" ]
    layer=$(json "$m" | jq -r '.layers[0].digest')
    tar -tvzf "$(blob "$layer")" | grep -q '2023-11-14 22:13 bin/busybox'
}

@test "build: skopeo reads the built index from the store" {
    command -v skopeo || skip "skopeo not installed"
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -t demo/app:1 "$CTX"
    [ "$status" -eq 0 ]
    run skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/app:1"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq '.manifests | length')" -eq 3 ]
    run skopeo inspect --override-arch arm64 "oci:$GANTRY_ROOT:docker.io/demo/app:1"
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .Architecture)" = arm64 ]
    [ "$(echo "$output" | jq -r '.Labels["org.example.arch"]')" = arm64 ]
}

@test "build: one platform gives an image manifest; the id is the config digest" {
    run --separate-stderr "$GANTRY" build -t demo/one:1 -t demo/one:2 --iidfile "$BATS_TEST_TMPDIR/iid" "$CTX"
    [ "$status" -eq 0 ]
    [ "$(ref_field docker.io/demo/one:1 .mediaType)" = "$MT_MANIFEST" ]
    [ "$(digest_of docker.io/demo/one:1)" = "$(digest_of docker.io/demo/one:2)" ]
    cfg=$(json "$(digest_of docker.io/demo/one:1)" | jq -r .config.digest)
    [ "$output" = "$cfg" ]
    [ "$(cat "$BATS_TEST_TMPDIR/iid")" = "$cfg" ]
    [ "$(json "$cfg" | jq -r .architecture)" = amd64 ] # the pinned host
}
