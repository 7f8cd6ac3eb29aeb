#!/usr/bin/env bats
# gantry import: rootfs tarballs (plain, gzip, zstd, xz, bzip2) of three
# architectures become one-layer images that gantry and skopeo read back; the busybox
# binary inside is the fixture's, byte for byte. Each test has its own store.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
}

# platform_of ARCH: the --platform for a fixture architecture.
platform_of() {
    case "$1" in
    amd64) echo linux/amd64 ;;
    arm64) echo linux/arm64 ;;
    armhf) echo armhf ;;
    esac
}

# layer_of REF: digest and media type of the image's only layer.
layer_of() {
    local m
    m=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$1")
    jq -r '.layers[0].digest + " " + .layers[0].mediaType' "$(blob "$m")"
}

# extract_busybox REF DIR: unpack bin/busybox of the image's layer into DIR.
extract_busybox() {
    local digest type
    read -r digest type < <(layer_of "$1")
    mkdir -p "$2"
    case "$type" in
    *+zstd) zstd -dc "$(blob "$digest")" | tar -C "$2" -xf - ./bin/busybox ;;
    *) tar -C "$2" -xf "$(blob "$digest")" ./bin/busybox ;;
    esac
}

@test "import: each architecture from each compression keeps its platform and binary" {
    for arch in amd64 arm64 armhf; do
        want_sum=$(sha256sum <"$GANTRY_FIXTURES/busybox-$arch/rootfs/bin/busybox")
        case "$arch" in
        amd64) want_plat=linux/amd64 machine=x86-64 ;;
        arm64) want_plat=linux/arm64 machine=aarch64 ;;
        armhf) want_plat=linux/arm/v7 machine=ARM ;;
        esac
        for ext in tar tar.gz tar.zst; do
            ref="bb-$arch:${ext//./-}"
            run --separate-stderr "$GANTRY" import --platform "$(platform_of "$arch")" \
                "$GANTRY_FIXTURES/busybox-$arch.$ext" "$ref"
            [ "$status" -eq 0 ]
            [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
            run --separate-stderr "$GANTRY" inspect \
                --format '{{.Os}}/{{.Architecture}}{{with .Variant}}/{{.}}{{end}}' "$ref"
            [ "$status" -eq 0 ]
            [ "$output" = "$want_plat" ]
            dir="$BATS_TEST_TMPDIR/x-$arch-$ext"
            extract_busybox "$ref" "$dir"
            [ "$(sha256sum <"$dir/bin/busybox")" = "$want_sum" ]
            file "$dir/bin/busybox" | grep -q "$machine"
        done
    done
}

@test "import: the image id is the config digest and the layer keeps the tar" {
    run --separate-stderr "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar" bb:1
    [ "$status" -eq 0 ]
    id=$output
    [ "$("$GANTRY" inspect --format '{{.Id}}' bb:1)" = "$id" ]
    [ "$(sha256sum <"$(blob "$id")" | cut -d' ' -f1)" = "${id#sha256:}" ]
    # --platform armhf is normalized to linux/arm/v7 in the config.
    "$GANTRY" import --platform armhf "$GANTRY_FIXTURES/busybox-armhf.tar.gz" bb:arm
    cfg=$("$GANTRY" inspect --format '{{.Id}}' bb:arm)
    [ "$(jq -r '.os + "/" + .architecture + "/" + .variant' "$(blob "$cfg")")" = "linux/arm/v7" ]
    [ "$(jq -r '.history[0].created_by' "$(blob "$cfg")")" = "import" ]
    [ "$(jq -r '.rootfs.diff_ids | length' "$(blob "$cfg")")" = 1 ]
}

@test "import: reads a pipe on standard input" {
    run --separate-stderr bash -c \
        "cat '$GANTRY_FIXTURES/busybox-arm64.tar.zst' | '$GANTRY' import --platform arm64 - piped:1"
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
    [ "$("$GANTRY" inspect --format '{{.Architecture}}' piped:1)" = arm64 ]
    # Nothing was left in tmp/.
    [ -z "$(ls -A "$GANTRY_ROOT/tmp")" ]
}

@test "import: --compression picks the layer media type" {
    for c in gzip zstd none; do
        "$GANTRY" import --compression "$c" "$GANTRY_FIXTURES/busybox-amd64.tar.gz" "c:$c"
    done
    [[ "$(layer_of c:gzip)" == *" application/vnd.oci.image.layer.v1.tar+gzip" ]]
    [[ "$(layer_of c:zstd)" == *" application/vnd.oci.image.layer.v1.tar+zstd" ]]
    [[ "$(layer_of c:none)" == *" application/vnd.oci.image.layer.v1.tar" ]]
    # The same tar gives the same diff_id whatever the compression.
    a=$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' c:gzip)
    b=$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' c:none)
    [ "$a" = "$b" ]
    # With none, the blob is the tar itself, as gantry re-wrote it.
    read -r digest _ < <(layer_of c:none)
    [ "$digest" = "$a" ]
}

@test "import: .tar.xz and .tar.bz2 give the plain tar's diff_id" {
    tar="$GANTRY_FIXTURES/busybox-amd64.tar"
    xz -c "$tar" >"$BATS_TEST_TMPDIR/bb.tar.xz"
    bzip2 -c "$tar" >"$BATS_TEST_TMPDIR/bb.tar.bz2"
    # Concatenated streams are one, as xz(1) and bzip2(1) read them.
    cat "$BATS_TEST_TMPDIR/bb.tar.bz2" "$BATS_TEST_TMPDIR/bb.tar.bz2" >"$BATS_TEST_TMPDIR/two.tar.bz2"
    "$GANTRY" import "$tar" p:1
    want=$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' p:1)
    for f in bb.tar.xz bb.tar.bz2 two.tar.bz2; do
        run --separate-stderr "$GANTRY" import "$BATS_TEST_TMPDIR/$f" "c:${f//./-}"
        [ "$status" -eq 0 ]
        [ "$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' "c:${f//./-}")" = "$want" ]
    done
    # Layers are still written gzip: OCI has no xz layer type.
    [[ "$(layer_of c:bb-tar-xz)" == *" application/vnd.oci.image.layer.v1.tar+gzip" ]]
    # Standard input too.
    run --separate-stderr bash -c "'$GANTRY' import - piped:xz <'$BATS_TEST_TMPDIR/bb.tar.xz'"
    [ "$status" -eq 0 ]
    [ "$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' piped:xz)" = "$want" ]
}

@test "import: a truncated or trailing-garbage xz or bzip2 fails in one line, nothing stored" {
    tar="$GANTRY_FIXTURES/busybox-amd64.tar"
    xz -c "$tar" | head -c 300000 >"$BATS_TEST_TMPDIR/cut.tar.xz"
    bzip2 -c "$tar" | head -c 300000 >"$BATS_TEST_TMPDIR/cut.tar.bz2"
    { xz -c "$tar"; echo junk; } >"$BATS_TEST_TMPDIR/junk.tar.xz"
    run --separate-stderr "$GANTRY" import "$BATS_TEST_TMPDIR/cut.tar.xz" cut:1
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: import 'cut:1': truncated xz stream" ]
    run --separate-stderr "$GANTRY" import "$BATS_TEST_TMPDIR/cut.tar.bz2" cut:2
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: import 'cut:2': truncated bzip2 stream" ]
    run --separate-stderr "$GANTRY" import "$BATS_TEST_TMPDIR/junk.tar.xz" cut:3
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: import 'cut:3': trailing data after xz stream at byte "* ]]
    [ "$(wc -l <<<"$stderr")" -eq 1 ]
    [ -z "$(ls -A "$GANTRY_ROOT/tmp")" ]
    [ ! -e "$GANTRY_ROOT/blobs/sha256" ] || [ -z "$(ls -A "$GANTRY_ROOT/blobs/sha256")" ]
    run --separate-stderr "$GANTRY" images -q
    [ -z "$output" ]
}

@test "import: --change and --message end up in the config" {
    run --separate-stderr "$GANTRY" import -m "hello import" \
        -c 'CMD ["sh", "-c", "echo hi"]' -c 'ENTRYPOINT /bin/env' -c 'ENV A=1 B="two words"' \
        -c 'EXPOSE 80 53/udp' -c 'LABEL org.example.x=y' -c 'USER 1000' -c 'VOLUME /data' \
        -c 'WORKDIR /srv' -c 'STOPSIGNAL SIGINT' "$GANTRY_FIXTURES/busybox-amd64.tar.gz" ch:1
    [ "$status" -eq 0 ]
    run --separate-stderr "$GANTRY" inspect ch:1
    [ "$status" -eq 0 ]
    j=$output
    [ "$(jq -c '.[0].Config.Cmd' <<<"$j")" = '["sh","-c","echo hi"]' ]
    [ "$(jq -c '.[0].Config.Entrypoint' <<<"$j")" = '["/bin/sh","-c","/bin/env"]' ]
    [ "$(jq -c '.[0].Config.Env' <<<"$j")" = '["A=1","B=two words"]' ]
    [ "$(jq -cS '.[0].Config.ExposedPorts' <<<"$j")" = '{"53/udp":{},"80/tcp":{}}' ]
    [ "$(jq -r '.[0].Config.Labels["org.example.x"]' <<<"$j")" = y ]
    [ "$(jq -r '.[0].Config.User' <<<"$j")" = 1000 ]
    [ "$(jq -c '.[0].Config.Volumes' <<<"$j")" = '{"/data":{}}' ]
    [ "$(jq -r '.[0].Config.WorkingDir' <<<"$j")" = /srv ]
    [ "$(jq -r '.[0].Config.StopSignal' <<<"$j")" = SIGINT ]
    [ "$(jq -r '.[0].Comment' <<<"$j")" = "hello import" ]
}

@test "import: SOURCE_DATE_EPOCH makes the image reproducible" {
    export SOURCE_DATE_EPOCH=1700000000
    a=$(GANTRY_ROOT="$BATS_TEST_TMPDIR/s1" "$GANTRY" import "$GANTRY_FIXTURES/busybox-arm64.tar" r:1)
    b=$(GANTRY_ROOT="$BATS_TEST_TMPDIR/s2" "$GANTRY" import "$GANTRY_FIXTURES/busybox-arm64.tar.gz" r:1)
    [ "$a" = "$b" ]
    run --separate-stderr env GANTRY_ROOT="$BATS_TEST_TMPDIR/s1" "$GANTRY" inspect \
        --format '{{.Created}}' r:1
    [ "$output" = "2023-11-14T22:13:20Z" ]
}

@test "import: skopeo reads the image gantry wrote" {
    "$GANTRY" import --platform linux/arm64 "$GANTRY_FIXTURES/busybox-arm64.tar.gz" \
        localhost:5000/tools/bb:1.0
    run skopeo inspect "oci:$GANTRY_ROOT:localhost:5000/tools/bb:1.0"
    [ "$status" -eq 0 ]
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
    [ "$(jq -r .Os <<<"$output")" = linux ]
    [ "$(jq -r '.Layers | length' <<<"$output")" = 1 ]
    digest=$(jq -r .Digest <<<"$output")
    raw=$(skopeo inspect --raw "oci:$GANTRY_ROOT:localhost:5000/tools/bb:1.0" | sha256sum | cut -d' ' -f1)
    [ "sha256:$raw" = "$digest" ]
    [ "$("$GANTRY" inspect --format '{{.Descriptor.digest}}' localhost:5000/tools/bb:1.0)" = "$digest" ]
    [ "$("$GANTRY" images --format '{{.Digest}}' localhost:5000/tools/bb)" = "$digest" ]
    run skopeo inspect --config "oci:$GANTRY_ROOT:localhost:5000/tools/bb:1.0"
    [ "$status" -eq 0 ]
    [ "$(jq -r .architecture <<<"$output")" = arm64 ]
    [ "$(jq -r '.rootfs.diff_ids[0]' <<<"$output")" = \
        "$("$GANTRY" inspect --format '{{index .RootFS.Layers 0}}' localhost:5000/tools/bb:1.0)" ]
}

@test "import: a second import under the same name replaces the first" {
    "$GANTRY" import "$GANTRY_FIXTURES/busybox-amd64.tar" same:1
    "$GANTRY" import --platform arm64 "$GANTRY_FIXTURES/busybox-arm64.tar" same:1
    [ "$("$GANTRY" images --format '{{.Platforms}}' same)" = linux/arm64 ]
    [ "$(jq '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "docker.io/library/same:1")] | length' "$GANTRY_ROOT/index.json")" = 1 ]
}

@test "import: --help and usage errors" {
    run --separate-stderr "$GANTRY" import --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: gantry import"* ]]
    run --separate-stderr "$GANTRY" import
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: 'import' needs a FILE (or -) and a REF"* ]]
    run --separate-stderr "$GANTRY" import --bogus x y
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: unknown option '--bogus'"* ]]
    run --separate-stderr "$GANTRY" import --compression lz4 x y
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: invalid --compression 'lz4': want gzip, zstd or none"* ]]
    run --separate-stderr "$GANTRY" import -c
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: option '-c' needs a value"* ]]
}
