#!/usr/bin/env bats
# gantry build runs the platforms in parallel: a stage that cannot depend
# on the target platform (FROM --platform=$BUILDPLATFORM, no TARGET* ARG,
# only such stages under it) runs once for all of them; the result does
# not depend on --jobs; the first error wins and nothing is named.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
}

setup() {
    copy_file_store
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    echo generated >"$CTX/gen.txt"
    echo amd64 >"$CTX/for-amd64"
    echo arm64 >"$CTX/for-arm64"
    echo arm >"$CTX/for-arm"
    cat >"$CTX/Dockerfile" <<'DF'
FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS gen
WORKDIR /out
COPY gen.txt /out/gen.txt

FROM --platform=$BUILDPLATFORM gen AS gen2
COPY gen.txt /out/again.txt

FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS pick
ARG TARGETARCH
COPY for-${TARGETARCH} /out/arch.txt

FROM scratch
COPY --from=gen2 /out/ /gen/
COPY --from=pick /out/arch.txt /arch.txt
DF
}

PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

# count TEXT: how many steps start with the instruction TEXT.
count() {
    grep -cF -- "] $1" <<<"$stderr" || true
}

@test "build parallel: a \$BUILDPLATFORM stage without TARGET args runs once" {
    run --separate-stderr "$GANTRY" build --progress plain --platform "$PLATFORMS" -t demo/p:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(count 'COPY gen.txt /out/gen.txt')" -eq 1 ]
    [ "$(count 'COPY gen.txt /out/again.txt')" -eq 1 ]
    [ "$(count 'WORKDIR /out')" -eq 1 ]
    # shared steps carry the build platform and the stage name
    grep -Eq '^#[0-9]+ \[linux/amd64 gen 3/3\] COPY gen.txt /out/gen.txt$' <<<"$stderr"
    # a stage with ARG TARGETARCH runs per platform, as do the final stages
    [ "$(count 'COPY for-${TARGETARCH} /out/arch.txt')" -eq 3 ]
    [ "$(count 'COPY --from=gen2 /out/ /gen/')" -eq 3 ]
    grep -Eq '\[linux/arm/v7 pick 2/2\] COPY for-' <<<"$stderr"
    # step ids are unique
    [ "$(grep -oE '^#[0-9]+ \[' <<<"$stderr" | sort | uniq -d)" = "" ]
    # and every platform got the shared files and its own one
    idx=$(digest_of docker.io/demo/p:1)
    for i in 0 1 2; do
        m=$(jq -r ".manifests[$i].digest" "$(blob "$idx")")
        arch=$(jq -r ".manifests[$i].platform.architecture" "$(blob "$idx")")
        l0=$(jq -r '.layers[0].digest' "$(blob "$m")")
        l1=$(jq -r '.layers[1].digest' "$(blob "$m")")
        [ "$(tar -xzOf "$(blob "$l0")" gen/gen.txt)" = generated ]
        [ "$(tar -xzOf "$(blob "$l0")" gen/again.txt)" = generated ]
        [ "$(tar -xzOf "$(blob "$l1")" arch.txt)" = "$arch" ]
    done
}

@test "build parallel: --jobs 1 and the default give the same index" {
    run --separate-stderr "$GANTRY" build -q --jobs 1 --platform "$PLATFORMS" "$CTX"
    [ "$status" -eq 0 ]
    one=$output
    run --separate-stderr "$GANTRY" build -q --no-cache --platform "$PLATFORMS" "$CTX"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
    run --separate-stderr "$GANTRY" build -q --jobs 3 --no-cache --platform "$PLATFORMS" "$CTX"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
    run --separate-stderr "$GANTRY" build --jobs 0 "$CTX"
    [ "$status" -eq 2 ]
}

@test "build parallel: the first error wins and nothing is named" {
    rm "$CTX/for-arm64"
    run --separate-stderr "$GANTRY" build --progress plain --platform "$PLATFORMS" -t demo/p:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 1 ]
    [ "$(grep -c '^gantry: ' <<<"$stderr")" -eq 1 ]
    grep -q "^gantry: Dockerfile:10: COPY failed: 'for-arm64' not found in build context$" <<<"$stderr"
    grep -Eq '^#[0-9]+ ERROR ' <<<"$stderr"
    [ -z "$(ref_field docker.io/demo/p:1 .digest)" ]
}

@test "build parallel: with one target platform every stage runs once" {
    run --separate-stderr "$GANTRY" build --progress plain --platform linux/arm64 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(count 'COPY gen.txt /out/gen.txt')" -eq 1 ]
    [ "$(count 'COPY for-${TARGETARCH} /out/arch.txt')" -eq 1 ]
    grep -Eq '\[linux/arm64 pick 2/2\]' <<<"$stderr"
}
