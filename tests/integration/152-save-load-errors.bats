#!/usr/bin/env bats
# gantry save/load on bad input: one clear error line, a non-zero exit, and
# the store (or the output file) left as it was.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup "$BATS_TEST_TMPDIR/root"
    cd "$BATS_TEST_TMPDIR"
    import_busybox arm64 linux/arm64 demo/busybox:arm64
}

# expect_error STATUS NEEDLE CMD...: exit STATUS, nothing on stdout, one
# stderr line "gantry: ..." containing NEEDLE.
expect_error() {
    local want=$1 needle=$2
    shift 2
    run --separate-stderr "$@"
    [ "$status" -eq "$want" ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "gantry: "* ]]
    [[ "$stderr" == *"$needle"* ]]
}

@test "load: a truncated archive fails and names nothing" {
    "$GANTRY" save -o good.tar demo/busybox:arm64
    head -c $(($(stat -c %s good.tar) / 2)) good.tar >cut.tar
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    mkdir -p "$GANTRY_ROOT"
    expect_error 1 "truncated" "$GANTRY" load -i cut.tar
    [ ! -e "$GANTRY_ROOT/index.json" ] || [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" -eq 0 ]
    [ -z "$(find "$GANTRY_ROOT/tmp" -type f 2>/dev/null)" ]
}

@test "load: a blob whose content does not match its name fails, store unchanged" {
    "$GANTRY" save -o good.tar demo/busybox:arm64
    mkdir x
    tar -C x -xf good.tar
    layer=$(skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" | jq -r '.layers[0].digest')
    printf 'X' | dd of="x/blobs/sha256/${layer#sha256:}" bs=1 seek=1000 conv=notrunc 2>/dev/null
    tar -C x -cf bad.tar oci-layout index.json blobs
    # into a store that lacks the blob, and into one that has it
    "$GANTRY" rmi demo/busybox:arm64 >/dev/null
    "$GANTRY" load -i good.tar -t demo/keep:1 >/dev/null
    before=$(names_state)
    expect_error 1 "digest mismatch" "$GANTRY" load -i bad.tar
    [ "$(names_state)" = "$before" ]
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    expect_error 1 "digest mismatch" "$GANTRY" load -i bad.tar
    [ ! -e "$GANTRY_ROOT/blobs/sha256/${layer#sha256:}" ]
    [ -z "$(find "$GANTRY_ROOT/tmp" -type f)" ]
}

@test "load: a docker layer that does not match its config's diff_id fails" {
    "$GANTRY" save --format docker -o good.tar demo/busybox:arm64
    mkdir x
    tar -C x -xf good.tar
    layer=$(jq -r '.[0].Layers[0]' x/manifest.json)
    printf 'X' | dd of="x/$layer" bs=1 seek=1000 conv=notrunc 2>/dev/null
    tar -C x -cf bad.tar .
    before=$(names_state)
    expect_error 1 "does not match its config" "$GANTRY" load -i bad.tar
    [ "$(names_state)" = "$before" ]
}

@test "load: files that are not image archives" {
    before=$(names_state)
    echo "hello" >hello.txt
    expect_error 1 "not a tar archive" "$GANTRY" load -i hello.txt
    gzip -k hello.txt
    expect_error 1 "not a tar archive" "$GANTRY" load -i hello.txt.gz
    tar -cf other.tar hello.txt
    expect_error 1 "not an image archive" "$GANTRY" load -i other.tar
    : >empty.tar
    run --separate-stderr "$GANTRY" load -i empty.tar
    [ "$status" -eq 1 ]
    expect_error 1 "open 'missing.tar'" "$GANTRY" load -i missing.tar
    [ "$(names_state)" = "$before" ]
}

@test "load: index.json naming a blob the archive lacks fails" {
    "$GANTRY" save -o good.tar demo/busybox:arm64
    mkdir x
    tar -C x -xf good.tar
    config=$(skopeo inspect --raw "oci:$GANTRY_ROOT:docker.io/demo/busybox:arm64" | jq -r .config.digest)
    rm "x/blobs/sha256/${config#sha256:}"
    tar -C x -cf bad.tar oci-layout index.json blobs
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    expect_error 1 "archive lacks blob $config" "$GANTRY" load -i bad.tar
    [ ! -e "$GANTRY_ROOT/index.json" ] || [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" -eq 0 ]
}

@test "save --format docker with two platforms says the format holds one" {
    mkdir out
    expect_error 1 "docker archive format holds one platform per image: use --format oci" \
        "$GANTRY" save --format docker --platform linux/arm64,linux/amd64 -o out/d.tar demo/busybox:arm64
    [ -z "$(ls -A out)" ]
}

@test "save: a missing image or platform leaves no file; bad options are usage errors" {
    mkdir out
    echo old >out/keep.tar
    expect_error 1 "no such image: 'demo/nope:1'" "$GANTRY" save -o out/keep.tar demo/nope:1
    [ "$(cat out/keep.tar)" = old ]
    expect_error 1 "linux/riscv64" "$GANTRY" save --platform linux/riscv64 -o out/keep.tar \
        demo/busybox:arm64
    [ "$(cat out/keep.tar)" = old ]
    [ "$(ls -A out)" = keep.tar ]
    run --separate-stderr "$GANTRY" save --format tarball -o x.tar demo/busybox:arm64
    [ "$status" -eq 2 ]
    [[ "$stderr" == "gantry: invalid format 'tarball'"* ]]
    run --separate-stderr "$GANTRY" save -o x.tar
    [ "$status" -eq 2 ]
    run --separate-stderr "$GANTRY" load extra-arg
    [ "$status" -eq 2 ]
}

@test "save refuses to write to a terminal, load to read from one" {
    run script -qec "$GANTRY save demo/busybox:arm64" /dev/null
    [ "$status" -eq 1 ]
    [[ "$output" == *"gantry: refusing to write an archive to a terminal"* ]]
    run script -qec "$GANTRY load" /dev/null
    [ "$status" -eq 1 ]
    [[ "$output" == *"gantry: refusing to read an archive from a terminal"* ]]
}

@test "load --tag: names the one unnamed image, refused with several" {
    import_busybox amd64 linux/amd64 demo/busybox:amd64
    arm64=$(digest_of docker.io/demo/busybox:arm64)
    amd64=$(digest_of docker.io/demo/busybox:amd64)
    "$GANTRY" save --format docker -o one.tar "$arm64" demo/busybox:amd64
    "$GANTRY" save --format docker -o none.tar "$arm64" "$amd64"
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/other"
    run --separate-stderr "$GANTRY" load -i one.tar -t demo/x:1
    [ "$status" -eq 0 ]
    [ "$output" = "Loaded image: docker.io/demo/x:1
Loaded image: docker.io/demo/busybox:amd64" ]
    before=$(names_state)
    expect_error 1 "2 without a name" "$GANTRY" load -i none.tar -t demo/y:1
    [ "$(names_state)" = "$before" ]
    expect_error 1 "invalid reference 'Bad:Name'" "$GANTRY" load -i one.tar -t Bad:Name
}
