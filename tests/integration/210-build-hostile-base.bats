#!/usr/bin/env bats
# gantry build over hostile base images (bad-inputs.md 4.4): layers whose
# symbolic links, "../" names and hard links aim outside the extraction
# directory. `COPY --from=<image> / /x` and `--output type=local` either
# succeed with everything inside their directory or fail cleanly; the
# sentinel directory next to them is never written. Each case runs with
# openat2 and with the hand walk (GANTRY_EXTRACT_NO_OPENAT2=1).

bats_require_minimum_version 1.5.0

load helpers

# hostile_tars SENTINEL: escape.tar (symlink and "../" escapes that resolve
# inside the root) and hardlink.tar (hard links out of the root).
hostile_tars() {
    SENTINEL=$1 python3 - <<'PY'
import io, os, tarfile
s = os.environ["SENTINEL"]
up = "../" * 12
def add(t, name, data=b"x", link=None, kind=tarfile.REGTYPE, mode=0o644):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.mode = mode
    i.mtime = 1700000000
    if link is not None:
        i.linkname = link
    elif kind == tarfile.REGTYPE:
        i.size = len(data)
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE and link is None else None)
with tarfile.open("escape.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    add(t, "d", link=s, kind=tarfile.SYMTYPE)
    add(t, "d/pwned", b"abs")
    add(t, "rel", link=up + s.lstrip("/"), kind=tarfile.SYMTYPE)
    add(t, "rel/pwned-rel", b"rel")
    add(t, up + s.lstrip("/") + "/pwned-dotdot", b"dotdot")
    add(t, "over", kind=tarfile.DIRTYPE, mode=0o755)
    add(t, "over", link=s, kind=tarfile.SYMTYPE)
    add(t, "over/pwned-over", b"over")
    add(t, "sneaky", link=s + "/keep", kind=tarfile.SYMTYPE)
    add(t, "sneaky", b"replaced")
    add(t, "hl", link=up + "etc/passwd", kind=tarfile.LNKTYPE)
with tarfile.open("hardlink.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    add(t, "out", link=up + s.lstrip("/") + "/keep", kind=tarfile.LNKTYPE)
PY
}

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    cd "$BATS_FILE_TMPDIR"
    # The sentinel of the tars is a fixed path each test recreates.
    hostile_tars "$BATS_FILE_TMPDIR/sentinel"
    "$GANTRY" import --platform linux/amd64 escape.tar demo/escape:1 >/dev/null
    "$GANTRY" import --platform linux/amd64 hardlink.tar demo/hardlink:1 >/dev/null
}

setup() {
    copy_file_store
    SENTINEL=$BATS_FILE_TMPDIR/sentinel
    rm -rf "$SENTINEL"
    mkdir -p "$SENTINEL"
    echo keep >"$SENTINEL/keep"
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    cd "$BATS_TEST_TMPDIR"
}

# sentinel_intact: the sentinel still holds only keep, unchanged, not linked.
sentinel_intact() {
    [ "$(ls -A "$SENTINEL")" = keep ]
    [ "$(cat "$SENTINEL/keep")" = keep ]
    [ "$(stat -c %h "$SENTINEL/keep")" -eq 1 ]
}

# no_tmp_left: the build's temporary directories are gone.
no_tmp_left() {
    [ -z "$(ls -A "$GANTRY_ROOT/tmp" 2>/dev/null)" ]
}

# check_tree DIR [same-inode]: the escape image extracted in DIR, every
# escape inside it; with same-inode, hl is a hard link of etc/passwd (COPY
# copies hard links as files).
check_tree() {
    local in=$1/${SENTINEL#/}
    [ "$(readlink "$1/d")" = "$SENTINEL" ]
    [ "$(cat "$in/pwned")" = abs ]
    [ "$(cat "$in/pwned-rel")" = rel ]
    [ "$(cat "$in/pwned-dotdot")" = dotdot ]
    [ "$(cat "$in/pwned-over")" = over ]
    [ -L "$1/over" ]
    [ -f "$1/sneaky" ] && [ ! -L "$1/sneaky" ]
    [ "$(cat "$1/sneaky")" = replaced ]
    cmp "$1/hl" "$1/etc/passwd"
    if [ "${2:-}" = same-inode ]; then
        [ "$(stat -c %i "$1/hl")" = "$(stat -c %i "$1/etc/passwd")" ]
    fi
}

@test "build: COPY --from a hostile image copies its tree, never writing outside" {
    printf 'FROM scratch\nCOPY --from=demo/escape:1 / /x\n' >"$CTX/Dockerfile"
    for walk in 0 1; do
        run --separate-stderr env GANTRY_EXTRACT_NO_OPENAT2=$walk \
            "$GANTRY" build --platform linux/amd64 -o type=local,dest=out$walk "$CTX"
        [ "$status" -eq 0 ]
        sentinel_intact
        check_tree "out$walk/x"
        no_tmp_left
    done
}

@test "build -o type=local of a hostile image stays inside dest" {
    printf 'FROM demo/escape:1\nLABEL a=b\n' >"$CTX/Dockerfile"
    for walk in 0 1; do
        run --separate-stderr env GANTRY_EXTRACT_NO_OPENAT2=$walk \
            "$GANTRY" build -o type=local,dest=out$walk "$CTX"
        [ "$status" -eq 0 ]
        sentinel_intact
        check_tree "out$walk" same-inode
    done
}

@test "build: hard links out of a hostile image fail cleanly" {
    printf 'FROM scratch\nCOPY --from=demo/hardlink:1 /etc /etc\n' >"$CTX/Dockerfile"
    for walk in 0 1; do
        run --separate-stderr env GANTRY_EXTRACT_NO_OPENAT2=$walk "$GANTRY" build "$CTX"
        [ "$status" -eq 1 ]
        [[ "$stderr" == *"hard link 'out' to '../"*"/keep': "*"No such file or directory" ]]
        sentinel_intact
        no_tmp_left
    done
    printf 'FROM demo/hardlink:1\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build -o type=local,dest=out "$CTX"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"hard link 'out' to"* ]]
    sentinel_intact
}

@test "build: COPY sources are resolved inside their root, never through a link to the host" {
    # d -> $SENTINEL inside the image means <root>$SENTINEL, which has pwned, not keep
    printf 'FROM scratch\nCOPY --from=demo/escape:1 /d/keep /stolen\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -o type=local,dest=out1 "$CTX"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"COPY failed: '/d/keep' not found in 'demo/escape:1'"* ]]
    [ ! -e out1/stolen ]
    printf 'FROM scratch\nCOPY --from=demo/escape:1 /d/pwned /got\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -o type=local,dest=out2 "$CTX"
    [ "$status" -eq 0 ]
    [ "$(cat out2/got)" = abs ]
    # the same rule for a link in the build context
    ln -s "$SENTINEL" "$CTX/hostlink"
    printf 'FROM scratch\nCOPY hostlink/keep /stolen\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"COPY failed: 'hostlink/keep' not found in build context"* ]]
    sentinel_intact
    no_tmp_left
}
