#!/usr/bin/env bats
# COPY --from=<image>: the step is keyed by the source image's layers, the
# sources, the destination and the flags before anything is extracted, so a
# rebuild finds its layer in the step cache without unpacking the image
# (the debug line "extracting" is absent); any change of those inputs is a
# miss that extracts again, and a stage source keeps the content key.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    import_busybox amd64 linux/amd64 demo/bb:1
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch
COPY --from=demo/bb:1 /bin/busybox /bb
DF
}

# build [OPTION...]: one platform, plain progress and debug messages; sets
# status, output (the id) and stderr.
build() {
    run --separate-stderr "$GANTRY" --debug build --progress plain "$@" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
}

# state TEXT: the final state (DONE, CACHED, ERROR) of the step whose line ends with TEXT.
state() {
    local id
    id=$(grep -F -- "] $1" <<<"$stderr" | grep -o '^#[0-9]*' | head -n1)
    grep -E "^$id (DONE|CACHED|ERROR)" <<<"$stderr" | cut -d' ' -f2
}

extracted() {
    grep -c "extracting 'demo/bb:1'" <<<"$stderr" || true
}

@test "COPY --from=<image>: a rebuild is CACHED without extracting the image" {
    build
    first=$output
    [ "$(state 'COPY --from=demo/bb:1 /bin/busybox /bb')" = DONE ]
    [ "$(extracted)" -eq 1 ]
    before=$(all_blobs)
    build
    [ "$output" = "$first" ]
    [ "$(state 'COPY --from=demo/bb:1 /bin/busybox /bb')" = CACHED ]
    [ "$(extracted)" -eq 0 ]
    [ "$(all_blobs)" = "$before" ]
    # --no-cache extracts again and makes the same layer.
    build --no-cache
    [ "$output" = "$first" ]
    [ "$(extracted)" -eq 1 ]
}

@test "COPY --from=<image>: another image, path, destination or flag is a miss" {
    build
    base=$output
    # Another image under the same name (arm64 binaries, labelled amd64 to be taken).
    import_busybox arm64 linux/amd64 demo/bb:1
    build
    [ "$(extracted)" -eq 1 ]
    [ "$output" != "$base" ]
    build
    [ "$(extracted)" -eq 0 ]
    arm=$output
    for line in 'COPY --from=demo/bb:1 /bin/busybox /bb2' \
        'COPY --from=demo/bb:1 --chmod=0700 /bin/busybox /bb' \
        'COPY --from=demo/bb:1 --chown=1:2 /bin/busybox /bb' \
        'COPY --from=demo/bb:1 /bin /bb'; do
        printf 'FROM scratch\n%s\n' "$line" >"$CTX/Dockerfile"
        build
        [ "$(extracted)" -eq 1 ]
        [ "$output" != "$arm" ]
        build
        [ "$(extracted)" -eq 0 ]
    done
    # The key holds the expanded words: an ARG giving the same path hits,
    # another value misses.
    printf 'FROM scratch\nARG P=busybox\nCOPY --from=demo/bb:1 /bin/$P /bb\n' >"$CTX/Dockerfile"
    build
    [ "$(state 'COPY --from=demo/bb:1 /bin/$P /bb')" = CACHED ]
    [ "$(extracted)" -eq 0 ]
    build --build-arg P=sh
    [ "$(extracted)" -eq 1 ]
    # The layers the COPY makes are still right: the file is the arm64 busybox.
    run --separate-stderr "$GANTRY" build -o type=local,dest=out "$CTX"
    [ "$status" -eq 0 ]
    [[ "$(file -b out/bb)" == *aarch64* ]]
}

@test "COPY --from=<stage> keeps extracting: its content is known only after the build" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM demo/bb:1 AS tools
FROM scratch
COPY --from=tools /bin/busybox /bb
DF
    build
    first=$output
    build
    [ "$output" = "$first" ]
    [ "$(state 'COPY --from=tools /bin/busybox /bb')" = CACHED ]
    [ "$(grep -c "extracting 'tools'" <<<"$stderr")" -eq 1 ]
}
