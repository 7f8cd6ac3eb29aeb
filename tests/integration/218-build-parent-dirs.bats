#!/usr/bin/env bats
# The parent directories a COPY or WORKDIR adds implicitly keep the mode
# and owner of the same directory in the stage's lower layers, as
# BuildKit's diff does: /tmp stays 1777 and /home/u 0700 1000:1000 under
# `COPY f /tmp/` and `COPY f /home/u/sub/`, while new directories are 0755
# 0:0. A later layer's whiteout hides a lower directory. Each layer's
# directories are recorded once in cache/dirs/ (made again when missing or
# damaged, dropped by prune with their blob).

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    echo f >"$CTX/f"
    chmod 0644 "$CTX/f"
}

# make_tars: base.tar (tmp/ 1777, home/u/ 0700 1000:1000, a file in each)
# and gone.tar, a layer that deletes home/u with a whiteout, and
# wh.tar, a docker save archive of the two as demo/wh:1.
make_tars() {
    python3 - "$BATS_TEST_TMPDIR" <<'PY'
import hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
def add(t, name, data=None, uid=0, gid=0, mode=0o644):
    i = tarfile.TarInfo(name)
    i.uid, i.gid, i.mode, i.mtime = uid, gid, mode, 1600000000
    if data is None:
        i.type = tarfile.DIRTYPE
        t.addfile(i)
    else:
        i.size = len(data)
        t.addfile(i, io.BytesIO(data))
def base(t):
    add(t, "tmp", mode=0o1777)
    add(t, "tmp/x", b"x\n")
    add(t, "home", mode=0o755)
    add(t, "home/u", uid=1000, gid=1000, mode=0o700)
    add(t, "home/u/.profile", b"p\n", uid=1000, gid=1000)
with tarfile.open(os.path.join(d, "base.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    base(t)
with tarfile.open(os.path.join(d, "gone.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "home/.wh.u", b"")
layers = ["base.tar", "gone.tar"]
diff_ids = ["sha256:" + hashlib.sha256(open(os.path.join(d, l), "rb").read()).hexdigest()
            for l in layers]
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
with tarfile.open(os.path.join(d, "wh.tar"), "w") as t:
    for l in layers:
        t.add(os.path.join(d, l), arcname=l)
    add(t, "config.json", config)
    add(t, "manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["demo/wh:1"],
                                         "Layers": layers}]).encode())
PY
}

# build_ok DOCKERFILE-TEXT [OPTION...]: build as demo/t:1, plain progress;
# sets MAN and stderr.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    shift
    run --separate-stderr "$GANTRY" build --progress plain -t demo/t:1 "$@" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of docker.io/demo/t:1)
}

# layer_list N: "mode uid/gid path" of layer N of the built image.
layer_list() {
    tar -tvf "$(blob "$(jq -r ".layers[$1].digest" "$(blob "$MAN")")")" --numeric-owner |
        awk '{print $1, $2, $6}'
}

DF='FROM demo/base:1\nCOPY f /tmp/\nCOPY f /home/u/sub/\nWORKDIR /home/u/w\n'

# check_layers: the metadata the three new layers must carry.
check_layers() {
    run layer_list 1
    [ "$output" = $'drwxrwxrwt 0/0 tmp/\n-rw-r--r-- 0/0 tmp/f' ]
    run layer_list 2
    [ "$output" = $'drwxr-xr-x 0/0 home/\ndrwx------ 1000/1000 home/u/\ndrwxr-xr-x 0/0 home/u/sub/\n-rw-r--r-- 0/0 home/u/sub/f' ]
    run layer_list 3
    [ "$output" = $'drwxr-xr-x 0/0 home/\ndrwx------ 1000/1000 home/u/\ndrwxr-xr-x 0/0 home/u/w/' ]
}

@test "build: implicit parents keep the base's mode and owner (tmp 1777, home/u 0700 1000)" {
    make_tars
    "$GANTRY" import --platform linux/amd64 "$BATS_TEST_TMPDIR/base.tar" demo/base:1 >/dev/null
    build_ok "$DF"
    check_layers
    first=$MAN
    # Every layer's directories were recorded, the base's by one walk.
    [ "$(ls "$GANTRY_ROOT/cache/dirs" | wc -l)" -eq 4 ]
    base_layer=$(jq -r '.layers[0].digest' "$(blob "$MAN")")
    grep -qa 'd 1777 0 0 tmp' "$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}"

    # A second build is all CACHED and gives the same image.
    build_ok "$DF"
    [ "$MAN" = "$first" ]
    ! grep -q ' DONE ' <<<"$stderr"
    [ "$(grep -c ' CACHED' <<<"$stderr")" -ge 3 ]

    # Records gone: made again from the layers, same image.
    "$GANTRY" prune --cache >/dev/null
    [ ! -e "$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}" ]
    build_ok "$DF"
    [ "$MAN" = "$first" ]
    [ -e "$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}" ]

    # A damaged record is not trusted: made again, same image.
    printf 'gantry-dirs-v1\nd 700 5 5 tmp' >"$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}"
    build_ok "$DF" --no-cache
    [ "$MAN" = "$first" ]
    grep -qa 'd 1777 0 0 tmp' "$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}"
}

@test "build: a whiteout of a lower directory leaves the implicit parent 0755 root" {
    make_tars
    "$GANTRY" load -i "$BATS_TEST_TMPDIR/wh.tar" >/dev/null
    build_ok 'FROM demo/wh:1\nCOPY f /home/u/\n'
    run layer_list 2
    [ "$output" = $'drwxr-xr-x 0/0 home/\ndrwxr-xr-x 0/0 home/u/\n-rw-r--r-- 0/0 home/u/f' ]
}

@test "build: prune drops the directories record of a layer whose blob is gone" {
    make_tars
    "$GANTRY" import --platform linux/amd64 "$BATS_TEST_TMPDIR/base.tar" demo/base:1 >/dev/null
    build_ok "$DF"
    base_layer=$(jq -r '.layers[0].digest' "$(blob "$MAN")")
    [ -e "$GANTRY_ROOT/cache/dirs/${base_layer#sha256:}" ]
    "$GANTRY" rmi demo/base:1 demo/t:1 >/dev/null
    "$GANTRY" prune >/dev/null
    [ ! -e "$(blob "$base_layer")" ]
    [ -z "$(ls "$GANTRY_ROOT/cache/dirs")" ]
}

@test "build: FROM scratch parents stay 0755 root" {
    build_ok 'FROM scratch\nCOPY f /tmp/\nWORKDIR /home/u\n'
    run layer_list 0
    [ "$output" = $'drwxr-xr-x 0/0 tmp/\n-rw-r--r-- 0/0 tmp/f' ]
    [ ! -e "$GANTRY_ROOT/cache/dirs" ] || [ "$(ls "$GANTRY_ROOT/cache/dirs" | wc -l)" -eq 2 ]
}
