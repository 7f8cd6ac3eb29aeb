#!/usr/bin/env bats
# gantry build errors: each names the Dockerfile and line, exits 1 and
# leaves no name behind.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_busybox amd64 linux/amd64 demo/busybox:amd64
}

setup() {
    copy_file_store
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    echo hello >"$CTX/hello.txt"
    BEFORE=$(jq -c '[.manifests[].annotations["org.opencontainers.image.ref.name"]]' "$GANTRY_ROOT/index.json")
}

# build_fails DOCKERFILE-TEXT EXPECTED-STDERR
build_fails() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/bad:1 "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: $2" ]
    [ -z "$output" ]
    [ "$(jq -c '[.manifests[].annotations["org.opencontainers.image.ref.name"]]' "$GANTRY_ROOT/index.json")" = "$BEFORE" ]
}

@test "build error: unknown instruction" {
    build_fails 'FROM scratch\nCOPPY hello.txt /x\n' \
        'Dockerfile:2: unknown instruction: COPPY (did you mean COPY?)'
}

@test "build error: missing COPY source" {
    build_fails 'FROM scratch\nCOPY hello.txt /h\nCOPY app.bin /app\n' \
        "Dockerfile:3: COPY failed: 'app.bin' not found in build context"
}

@test "build error: a .dockerignore'd source is not in the context" {
    echo 'hello.txt' >"$CTX/.dockerignore"
    build_fails 'FROM scratch\nCOPY hello.txt /h\n' \
        "Dockerfile:2: COPY failed: 'hello.txt' not found in build context"
}

@test "build error: unknown --from stage" {
    build_fails 'FROM scratch AS one\nCOPY hello.txt /h\nFROM scratch\nCOPY --from=onne /h /h\n' \
        "Dockerfile:4: COPY --from=onne: not a stage of the Dockerfile: no such image: 'onne'"
}

@test "build error: a source outside the context" {
    build_fails 'FROM scratch\nCOPY ../etc/passwd /p\n' \
        "Dockerfile:2: COPY failed: forbidden path outside the build context: '../etc/passwd'"
}

@test "build error: RUN is not supported yet" {
    build_fails 'FROM demo/busybox:amd64\nENV A=1\nRUN echo hi\n' \
        'Dockerfile:3: RUN is not supported yet (it comes with the RUN issue)'
}

@test "build error: a bare base name that is not local never reaches a registry" {
    build_fails 'FROM nosuch/image:1\n' \
        "Dockerfile:1: FROM nosuch/image:1: no such image: 'nosuch/image:1'"
}

@test "build error: ADD of a git source is refused (URLs: 207-build-add-url.bats)" {
    build_fails 'FROM scratch\nADD https://example.invalid/r.git /x\n' \
        "Dockerfile:2: ADD failed: git sources are not supported: 'https://example.invalid/r.git'"
}

@test "build error: several sources need a directory destination" {
    echo b >"$CTX/b.txt"
    build_fails 'FROM scratch\nCOPY hello.txt b.txt /dst\n' \
        'Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a /'
    # a glob that matches several files counts as several sources
    build_fails 'FROM scratch\nCOPY *.txt /dst\n' \
        'Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a /'
}

@test "build: a glob matching one file is copied to the destination path itself" {
    echo one >"$CTX/only-1.bin"
    printf 'FROM scratch\nCOPY only-*.bin /bin/tool\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build -t demo/glob:1 "$CTX"
    [ "$status" -eq 0 ]
    "$GANTRY" save -o "$BATS_TEST_TMPDIR/g.tar" demo/glob:1
    mkdir "$BATS_TEST_TMPDIR/g" && tar -C "$BATS_TEST_TMPDIR/g" -xf "$BATS_TEST_TMPDIR/g.tar"
    local files=""
    for b in "$BATS_TEST_TMPDIR"/g/blobs/sha256/*; do
        files+=$(tar -tzf "$b" 2>/dev/null || true)
    done
    [[ "$files" == *"bin/tool"* ]]
    [[ "$files" != *"bin/tool/"* ]]
}

@test "build error: usage" {
    run --separate-stderr "$GANTRY" build
    [ "$status" -eq 2 ]
    run --separate-stderr "$GANTRY" build --compression lz4 "$CTX"
    [ "$status" -eq 2 ]
    [[ $stderr == *"invalid --compression 'lz4'"* ]]
    run "$GANTRY" build --help
    [ "$status" -eq 0 ]
    [[ $output == *"Usage: gantry build"* ]]
}
