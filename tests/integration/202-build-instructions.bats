#!/usr/bin/env bats
# gantry build, instruction by instruction: COPY directory semantics, globs,
# --chown/--chmod, ADD archives, WORKDIR, the config of metadata
# instructions, history, --build-arg, --target, --label, --compression.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_busybox amd64 linux/amd64 demo/busybox:amd64
}

setup() {
    copy_file_store
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir/sub"
    echo a >"$CTX/dir/a.txt"
    echo b >"$CTX/dir/sub/b.txt"
    echo one >"$CTX/one.txt"
    echo two >"$CTX/two.txt"
}

json() {
    cat "$(blob "$1")"
}

# build_ok DOCKERFILE-TEXT [OPTION...]: build as demo/t:1; sets CFG and MAN.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    shift
    run --separate-stderr "$GANTRY" build -t demo/t:1 "$@" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of docker.io/demo/t:1)
    CFG=$(json "$MAN" | jq -r .config.digest)
}

# layer_list N: "mode uid/gid path" of layer N of the built image.
layer_list() {
    tar -tvf "$(blob "$(json "$MAN" | jq -r ".layers[$1].digest")")" | awk '{print $1, $2, $6}'
}

@test "build: COPY dir/ copies the contents, globs and several sources into a directory" {
    build_ok 'FROM scratch\nCOPY dir/ /dst/\nCOPY *.txt /texts/\n'
    run layer_list 0
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "dst/ dst/a.txt dst/sub/ dst/sub/b.txt " ]
    [[ $output == *"-rw-r--r-- 0/0 dst/sub/b.txt"* ]]
    run layer_list 1
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "texts/ texts/one.txt texts/two.txt " ]
}

@test "build: COPY --chown by number and by name from /etc/passwd, --chmod" {
    build_ok 'FROM demo/busybox:amd64\nCOPY --chown=1000:50 one.txt /o1\nCOPY --chown=root --chmod=640 two.txt /o2\n'
    run layer_list 1
    [ "$output" = "-rw-r--r-- 1000/50 o1" ]
    run layer_list 2
    [ "$output" = "-rw-r----- 0/0 o2" ]
    printf 'FROM demo/busybox:amd64\nCOPY --chown=nobody one.txt /o\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: invalid --chown 'nobody': unknown user 'nobody'" ]
}

@test "build: ADD extracts a local tar archive into the destination" {
    tar -czf "$CTX/arch.tar.gz" -C "$CTX" dir
    build_ok 'FROM scratch\nADD arch.tar.gz /opt/\nADD one.txt /plain\n'
    run layer_list 0
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "opt/ opt/dir/ opt/dir/a.txt opt/dir/sub/ opt/dir/sub/b.txt " ]
    run layer_list 1
    [ "$output" = "-rw-r--r-- 0/0 plain" ]
}

@test "build: ADD --unpack=false copies a local archive as is; --unpack takes only true or false" {
    tar -czf "$CTX/arch.tar.gz" -C "$CTX" dir
    build_ok 'FROM scratch\nADD --unpack=false arch.tar.gz /opt/\nADD --unpack=true arch.tar.gz /x\nADD --unpack=true one.txt /plain\n'
    run layer_list 0
    [ "$output" = "drwxr-xr-x 0/0 opt/
-rw-r--r-- 0/0 opt/arch.tar.gz" ]
    cmp <(tar -xzOf "$(blob "$(json "$MAN" | jq -r '.layers[0].digest')")" opt/arch.tar.gz) "$CTX/arch.tar.gz"
    run layer_list 1
    [[ $output == *" x/dir/sub/b.txt"* ]]
    run layer_list 2
    [ "$output" = "-rw-r--r-- 0/0 plain" ]
    printf 'FROM scratch\nADD --unpack=x arch.tar.gz /opt/\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: expecting boolean value for flag unpack, not: x" ]
    printf 'FROM scratch\nCOPY --unpack=true arch.tar.gz /opt/\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: unknown flag: unpack" ]
}

@test "build: ADD of a hostile local archive keeps every entry inside the image (T1-T3, T5, T22)" {
    (cd "$CTX" && python3 - <<'PY'
import io, tarfile
def add(t, name, data=b"x", link=None, kind=tarfile.REGTYPE):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.mtime = kind, 0o644, 1700000000
    if link is not None:
        i.linkname = link
    else:
        i.size = len(data)
    t.addfile(i, io.BytesIO(data) if link is None else None)
with tarfile.open("evil.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "ok.txt", b"ok")
    add(t, "../escape.txt", b"dotdot")
    add(t, "/abs.txt", b"abs")
    add(t, "localetc", link="/etc", kind=tarfile.SYMTYPE)
    add(t, "localetc/unbroken", b"through")
with tarfile.open("hl.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "hl", link="../../../etc/passwd", kind=tarfile.LNKTYPE)
data = open("evil.tar", "rb").read()
open("cut.tar", "wb").write(data[:1024 + 100])
PY
    )
    out=$BATS_TEST_TMPDIR/out
    build_ok 'FROM scratch\nADD evil.tar /opt/\n' -o "type=local,dest=$out"
    [[ $stderr == *"warning: ADD: skipping archive entry '../escape.txt': it leaves the archive"* ]]
    run layer_list 0
    [ "$(echo "$output" | awk '{print $1, $3}')" = "drwxr-xr-x opt/
-rw-r--r-- opt/abs.txt
lrwxrwxrwx opt/localetc
-rw-r--r-- opt/localetc/unbroken
-rw-r--r-- opt/ok.txt" ]
    [ "$(cat "$out/etc/unbroken")" = through ]
    [ "$(cat "$out/opt/abs.txt")" = abs ]
    [ -z "$(find "$BATS_TEST_TMPDIR" "$BATS_FILE_TMPDIR" -name 'escape*')" ]
    printf 'FROM scratch\nADD hl.tar /opt/\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: ADD failed: extract 'hl.tar': hard link 'hl' points outside the archive: '../../../etc/passwd'" ]
    printf 'FROM scratch\nADD cut.tar /opt/\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [[ $stderr == "gantry: Dockerfile:2: ADD failed: extract 'cut.tar': "* ]]
}

@test "build: WORKDIR makes a layer only when the directory is missing" {
    build_ok 'FROM demo/busybox:amd64\nWORKDIR /tmp\nWORKDIR app/data\nCOPY one.txt ./\n'
    [ "$(json "$MAN" | jq '.layers | length')" -eq 3 ]
    run layer_list 1
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "tmp/ tmp/app/ tmp/app/data/ " ]
    run layer_list 2
    [[ $output == *"tmp/app/data/one.txt"* ]]
    [ "$(json "$CFG" | jq -r .config.WorkingDir)" = /tmp/app/data ]
    [ "$(json "$CFG" | jq -c '[.history[-3:][] | .empty_layer // false]')" = '[true,false,false]' ]
}

@test "build: metadata instructions fill the config; history marks empty layers" {
    build_ok 'FROM demo/busybox:amd64\nARG V=1\nENV A=$V B="x y"\nLABEL a.b=$A\nUSER 1000:1000\nEXPOSE 80 53/udp\nVOLUME ["/data"]\nSTOPSIGNAL SIGTERM\nMAINTAINER me\nSHELL ["/bin/sh","-ec"]\nENTRYPOINT echo hi\n' \
        --build-arg V=2 --label extra=yes
    c=$(json "$CFG")
    [ "$(echo "$c" | jq -c '.config.Env[-2:]')" = '["A=2","B=x y"]' ]
    [ "$(echo "$c" | jq -c .config.Labels)" = '{"a.b":"2","extra":"yes"}' ]
    [ "$(echo "$c" | jq -r .config.User)" = 1000:1000 ]
    [ "$(echo "$c" | jq -c '.config.ExposedPorts | keys')" = '["53/udp","80/tcp"]' ]
    [ "$(echo "$c" | jq -c '.config.Volumes | keys')" = '["/data"]' ]
    [ "$(echo "$c" | jq -r .config.StopSignal)" = SIGTERM ]
    [ "$(echo "$c" | jq -r .author)" = me ]
    [ "$(echo "$c" | jq -c .config.Entrypoint)" = '["/bin/sh","-ec","echo hi"]' ]
    [ "$(echo "$c" | jq -r .config.Cmd)" = null ]
    [ "$(echo "$c" | jq '[.history[] | select(.empty_layer)] | length')" -eq 9 ]
    [ "$(echo "$c" | jq '.rootfs.diff_ids | length')" -eq 1 ]
}

@test "build: --target builds an earlier stage; FROM a stage keeps its layers" {
    build_ok 'FROM scratch AS base\nCOPY one.txt /one\nFROM base AS mid\nCOPY two.txt /two\nFROM scratch\nCOPY --from=mid /two /final\n' --target mid
    [ "$(json "$MAN" | jq '.layers | length')" -eq 2 ]
    build_ok 'FROM scratch AS base\nCOPY one.txt /one\nFROM base AS mid\nCOPY two.txt /two\nFROM scratch\nCOPY --from=mid /two /final\n'
    [ "$(json "$MAN" | jq '.layers | length')" -eq 1 ]
    run layer_list 0
    [ "$output" = "-rw-r--r-- 0/0 final" ]
}

@test "build: --compression zstd and none set the layer media type" {
    build_ok 'FROM scratch\nCOPY one.txt /one\n' --compression zstd
    [ "$(json "$MAN" | jq -r '.layers[0].mediaType')" = application/vnd.oci.image.layer.v1.tar+zstd ]
    build_ok 'FROM scratch\nCOPY one.txt /one\n' --compression none
    [ "$(json "$MAN" | jq -r '.layers[0].mediaType')" = application/vnd.oci.image.layer.v1.tar ]
    [ "$(json "$MAN" | jq -r '.layers[0].digest')" = "$(json "$CFG" | jq -r '.rootfs.diff_ids[0]')" ]
}
