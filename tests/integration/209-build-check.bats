#!/usr/bin/env bats
# gantry build --check: the whole build resolved for every platform without
# building; every problem reported on its own line, exit 1 when there is
# any; nothing pulled, downloaded or written.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_busybox amd64 linux/amd64 demo/busybox:amd64
}

setup() {
    copy_file_store
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir"
    echo a >"$CTX/a.txt"
    echo s >"$CTX/secret.txt"
    echo b >"$CTX/dir/b.txt"
    echo secret.txt >"$CTX/.dockerignore"
    BLOBS_BEFORE=$(all_blobs)
    INDEX_BEFORE=$(cat "$GANTRY_ROOT/index.json")
}

# check DOCKERFILE-TEXT [OPTION...]: gantry build --check.
check() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    shift
    run --separate-stderr "$GANTRY" build --check "$@" "$CTX"
    echo "$output"
    echo "$stderr"
}

nothing_written() {
    [ "$(all_blobs)" = "$BLOBS_BEFORE" ]
    [ "$(cat "$GANTRY_ROOT/index.json")" = "$INDEX_BEFORE" ]
}

@test "check: a good multi-stage, multi-platform build passes without building" {
    check 'FROM demo/busybox:amd64 AS tools\nARG TARGETARCH\nENV D=dir\nCOPY $D/ /out/\nFROM scratch\nCOPY --from=tools /out /out\nCOPY a.txt <<EOF /x/\nhi\nEOF\nADD http://127.0.0.1:1/never-fetched /y\nFROM registry.invalid:5000/base:1 AS remote\n' \
        --platform linux/amd64,linux/arm64 -t demo/checked:1
    [ "$status" -eq 0 ]
    [ "$output" = "Check complete, no warnings found." ]
    nothing_written
}

@test "check: every problem is reported, one line each, once across platforms" {
    check 'ARG BASE=demo/busybox:amd64\nFROM $BASE AS one\nENV D=nodir\nCOPY a.txt missing.txt /x/\nCOPY ${D}/f /y\nCOPY secret.txt ../up /z/\nRUN make\nFROM ${BASE} AS two\nCOPY --from=nostage /x /x\nADD https://h.invalid/r.git /r\nCOPY http://h.invalid/x /x\nCOPY --from=one /x /x\nFROM app:1\nCOPY --from=two /x /x\nCOPY *.md /docs/\n' \
        --platform linux/amd64,linux/arm64
    [ "$status" -eq 1 ]
    [ "$output" = "Dockerfile:4: COPY failed: 'missing.txt' not found in build context
Dockerfile:5: COPY failed: 'nodir/f' not found in build context
Dockerfile:6: COPY failed: 'secret.txt' not found in build context
Dockerfile:6: COPY failed: forbidden path outside the build context: '../up'
Dockerfile:7: RUN is not supported yet (it comes with the RUN issue)
Dockerfile:9: --from=nostage: not a stage of the Dockerfile, not a local image, and its name has no registry host
Dockerfile:10: ADD failed: git sources are not supported: 'https://h.invalid/r.git'
Dockerfile:11: COPY failed: source can't be a URL for COPY: 'http://h.invalid/x'
Dockerfile:13: FROM app:1: no such image: 'app:1' (not a stage, not local, and its name has no registry host)
Dockerfile:15: COPY failed: '*.md' not found in build context" ]
    [ "$stderr" = "Check complete, 10 problems found" ]
    nothing_written
}

@test "check: an undefined ARG in FROM is reported with the resolution error it causes" {
    check 'FROM scratch\nFROM $NOPE AS b\nFROM ${ALSO}\n'
    [ "$status" -eq 1 ]
    [ "$output" = "Dockerfile:2: FROM argument 'NOPE' is not declared
Dockerfile:3: FROM argument 'ALSO' is not declared
Dockerfile:2: base name '\$NOPE' should not be blank" ]
}

@test "check: a default in FROM is not an undefined ARG; --build-arg and --target are honoured" {
    check 'ARG V\nFROM ${BASE:-scratch}\nFROM demo/busybox:${V} AS b\nCOPY a.txt /\n' --build-arg V=amd64 --target b
    [ "$status" -eq 0 ]
    check 'FROM scratch\nCOPY a.txt /\n' --target nope
    [ "$status" -eq 1 ]
    [ "$output" = "target stage 'nope' could not be found" ]
}

@test "check: a parse error is the one problem; a missing context is a plain error" {
    check 'FROM scratch\nCOPPY a.txt /\n'
    [ "$status" -eq 1 ]
    [ "$output" = "Dockerfile:2: unknown instruction: COPPY (did you mean COPY?)" ]
    run --separate-stderr "$GANTRY" build --check "$BATS_TEST_TMPDIR/none"
    [ "$status" -eq 1 ]
    [[ $stderr == "gantry: build context '$BATS_TEST_TMPDIR/none'"* ]]
}

@test "check: credentials in URLs are redacted in what it reports" {
    check 'FROM scratch\nADD https://user:token@h.invalid/r.git /r\n'
    [ "$status" -eq 1 ]
    [ "$output" = "Dockerfile:2: ADD failed: git sources are not supported: 'https://user:xxxxx@h.invalid/r.git'" ]
}

@test "check: COPY --parents pivots, ** and ADD --unpack are resolved as the build resolves them" {
    mkdir -p "$CTX/src/x" "$CTX/deep/a/b"
    echo c >"$CTX/src/x/c.txt"
    echo m >"$CTX/deep/a/b/c.md"
    tar -cf "$CTX/arch.tar" -C "$CTX" a.txt
    check 'FROM scratch\nCOPY --parents ./src/./x/c.txt ./deep/**/*.md /d/\nCOPY **/c.md dir/**/b.txt /m/\nADD --unpack=false arch.tar /t/\nCOPY --parents src/x /p/\n'
    [ "$status" -eq 0 ]
    [ "$output" = "Check complete, no warnings found." ]
    # Each wrong source: --check reports what the build fails with, word for word.
    for src in './src/./x/none.txt' './src/./../a.txt' './*/./c.txt' '../x/./y' '**/none.md' \
        '**/secret.txt' 'deep/**/c.txt' './deep/./a/../../src/x'; do
        check "FROM scratch\nCOPY --parents $src /d/\n"
        [ "$status" -eq 1 ]
        [ "${#lines[@]}" -eq 1 ]
        problem=$output
        run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
        echo "build: $stderr"
        [ "$status" -eq 1 ]
        [ "$stderr" = "gantry: $problem" ]
    done
    check 'FROM scratch\nCOPY --parents ./src/./../a.txt **/none.md /d/\nCOPY ./*/./c.txt **/c.txt /e/\n'
    [ "$status" -eq 1 ]
    [ "$output" = "Dockerfile:2: COPY failed: --parents source leaves its '/./' directory: './src/./../a.txt'
Dockerfile:2: COPY failed: '**/none.md' not found in build context
Dockerfile:3: COPY failed: '*/c.txt' not found in build context" ]
    nothing_written
}
