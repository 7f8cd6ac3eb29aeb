#!/usr/bin/env bats
# ADD extracts local tar archives compressed with bzip2 and xz as it does
# gzip and zstd ones (a broken one fails the step); COPY --from=<image or
# stage> keeps each source file's owner, as BuildKit, unless --chown says
# otherwise, while context files stay 0:0.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir/sub"
    echo a >"$CTX/dir/a.txt"
    echo b >"$CTX/dir/sub/b.txt"
    echo one >"$CTX/one.txt"
}

# build_ok DOCKERFILE-TEXT [OPTION...]: build as demo/t:1; sets MAN.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    shift
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/t:1 "$@" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of docker.io/demo/t:1)
}

# layer_list N: "mode uid/gid path" of layer N of the built image.
layer_list() {
    tar -tvf "$(blob "$(jq -r ".layers[$1].digest" "$(blob "$MAN")")")" --numeric-owner |
        awk '{print $1, $2, $6}'
}

# import_owned NAME: a one-layer image whose /app/ (and the file in it) is
# owned 1000:1000 and /etc/conf 7:8, made with python's tarfile.
import_owned() {
    python3 - "$BATS_TEST_TMPDIR/owned.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=None, uid=0, gid=0, mode=0o644):
        i = tarfile.TarInfo(name)
        i.uid, i.gid, i.mode, i.mtime = uid, gid, mode, 1600000000
        if data is None:
            i.type, i.mode = tarfile.DIRTYPE, 0o755
            t.addfile(i)
        else:
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))
    add("app", uid=1000, gid=1000)
    add("app/run.sh", b"#!/bin/sh\n", uid=1000, gid=1000, mode=0o755)
    add("etc")
    add("etc/conf", b"x=1\n", uid=7, gid=8)
PY
    "$GANTRY" import "$BATS_TEST_TMPDIR/owned.tar" "$1" >/dev/null
}

@test "build: ADD extracts local .tar.xz and .tar.bz2 archives" {
    tar -C "$CTX" --owner=1000 --group=1000 -cJf "$CTX/arch.tar.xz" dir
    tar -C "$CTX" -cjf "$CTX/arch.tar.bz2" dir
    build_ok 'FROM scratch\nADD arch.tar.xz /x/\nADD arch.tar.bz2 /b/\nADD --unpack=false arch.tar.xz /keep/\n'
    run layer_list 0
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "x/ x/dir/ x/dir/a.txt x/dir/sub/ x/dir/sub/b.txt " ]
    # The archive's owners are kept, as for any ADD archive.
    [[ $output == *"-rw-r--r-- 1000/1000 x/dir/a.txt"* ]]
    run layer_list 1
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "b/ b/dir/ b/dir/a.txt b/dir/sub/ b/dir/sub/b.txt " ]
    [[ $output == *"-rw-r--r-- 0/0 b/dir/sub/b.txt"* ]]
    run layer_list 2
    [[ $output == *" keep/arch.tar.xz"* ]]
}

@test "build: ADD of a truncated .tar.xz fails the step in one line, tags nothing" {
    head -c 100000 /dev/urandom >"$CTX/big"
    tar -C "$CTX" -cJf "$BATS_TEST_TMPDIR/full.tar.xz" big dir
    size=$(stat -c %s "$BATS_TEST_TMPDIR/full.tar.xz")
    head -c $((size - 200)) "$BATS_TEST_TMPDIR/full.tar.xz" >"$CTX/cut.tar.xz"
    printf 'FROM scratch\nADD cut.tar.xz /opt/\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/cut:1 "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: ADD failed: extract 'cut.tar.xz': truncated xz stream" ]
    run "$GANTRY" inspect demo/cut:1
    [ "$status" -ne 0 ]
}

@test "build: COPY --from=<image> keeps the owners of the image's files; --chown overrides" {
    import_owned demo/owned:1
    build_ok 'FROM scratch\nCOPY --from=demo/owned:1 /app /app\nCOPY --from=demo/owned:1 /etc/conf /conf\nCOPY --from=demo/owned:1 --chown=5:6 /app /chowned\nCOPY one.txt /one\n'
    run layer_list 0
    [ "$output" = "drwxr-xr-x 1000/1000 app/
-rwxr-xr-x 1000/1000 app/run.sh" ]
    run layer_list 1
    [ "$output" = "-rw-r--r-- 7/8 conf" ]
    run layer_list 2
    [ "$output" = "drwxr-xr-x 5/6 chowned/
-rwxr-xr-x 5/6 chowned/run.sh" ]
    # Context files are 0:0.
    run layer_list 3
    [ "$output" = "-rw-r--r-- 0/0 one" ]
    # The keyed rebuild gives the same layers.
    first=$MAN
    build_ok 'FROM scratch\nCOPY --from=demo/owned:1 /app /app\nCOPY --from=demo/owned:1 /etc/conf /conf\nCOPY --from=demo/owned:1 --chown=5:6 /app /chowned\nCOPY one.txt /one\n'
    [ "$MAN" = "$first" ]
}

@test "build: COPY --from=<stage> keeps owners too, --chown overrides" {
    import_owned demo/owned:1
    build_ok 'FROM demo/owned:1 AS src\nCOPY --chown=42:43 one.txt /one\nFROM scratch\nCOPY --from=src /app/ /a/\nCOPY --from=src /one /o\nCOPY --from=src --chown=5:6 /app/run.sh /r\n'
    run layer_list 0
    [ "$output" = "drwxr-xr-x 1000/1000 a/
-rwxr-xr-x 1000/1000 a/run.sh" ]
    run layer_list 1
    [ "$output" = "-rw-r--r-- 42/43 o" ]
    run layer_list 2
    [ "$output" = "-rwxr-xr-x 5/6 r" ]
}
