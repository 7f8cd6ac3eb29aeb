#!/usr/bin/env bats
# Bad inputs to import and tag (bad-inputs.md 4.1, 4.2, T22): each fails
# with one clear error line and a non-zero status, and leaves the store as
# it was: same index.json, same blobs, nothing in tmp/.

bats_require_minimum_version 1.5.0

F64=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff

load helpers

setup() {
    store_setup
    TAR="$GANTRY_FIXTURES/busybox-amd64.tar.gz"
    import_busybox armhf "" good:1
    BEFORE=$(store_state)
}

teardown() {
    if mountpoint -q "$BATS_TEST_TMPDIR/small" 2>/dev/null; then
        umount "$BATS_TEST_TMPDIR/small"
    fi
}

# fails STATUS NEEDLE CMD...: exit STATUS, one "gantry: " line containing
# NEEDLE on stderr, nothing on stdout, the store unchanged.
fails() {
    local want=$1 needle=$2
    shift 2
    run --separate-stderr "$@"
    [ "$status" -eq "$want" ] || { echo "status $status, want $want: $stderr"; return 1; }
    [ -z "$output" ]
    [[ "$stderr" == "gantry: "* ]]
    [[ "$stderr" == *"$needle"* ]] || { echo "'$stderr' lacks '$needle'"; return 1; }
    [ "$(store_state)" = "$BEFORE" ]
}

@test "bad input: invalid references (R1-R11) via import and tag" {
    long_name="domain/$(printf 'a%.0s' {1..256}):tag"
    long_tag="repo:$(printf 't%.0s' {1..129})"
    while IFS='|' read -r ref needle; do
        # Long inputs are shortened in the message: match its start and end.
        fails 1 "': $needle" "$GANTRY" import "$TAR" "$ref"
        [[ "$stderr" == "gantry: invalid reference '${ref:0:20}"* ]]
        fails 1 "': $needle" "$GANTRY" tag good:1 "$ref"
        [[ "$stderr" == "gantry: invalid reference '${ref:0:20}"* ]]
    done <<EOF
Uppercase:tag|repository name must be lowercase
$long_name|repository name must not be more than 255 characters
$long_tag|invalid tag
repo:.tag|invalid tag
repo:-tag|invalid tag
:justtag|invalid reference format
@sha256:$F64|invalid reference format
repo@sha256:ffffffffffffffffffffffffffffffffff|invalid digest length
validname@invaliddigest:$F64|unsupported digest algorithm
repo@sha256:${F64^^}|invalid digest: sha256 hex must be lowercase
[2001:db8::1]:tag|invalid reference format
[fe80::1%eth0]:5000/repo|invalid reference format
EOF
}

@test "bad input: a digest is not a name to import or tag as" {
    fails 1 "a name cannot contain a digest" "$GANTRY" import "$TAR" "repo@sha256:$F64"
    fails 1 "a name cannot contain a digest" "$GANTRY" tag good:1 "repo:t@sha256:$F64"
}

@test "bad input: R3 uppercase tags are valid" {
    run --separate-stderr "$GANTRY" import "$TAR" lowercase:Uppercase
    [ "$status" -eq 0 ]
    [ "$("$GANTRY" images --format '{{.Tag}}' lowercase)" = Uppercase ]
}

@test "bad input: invalid platforms (P1)" {
    for p in "" /linux/arm linux/arm/ "linux /arm" "linux/&arm" linux/arm/foo/bar "linux/*"; do
        fails 1 "invalid platform '$p'" "$GANTRY" import --platform "$p" "$TAR" p:1
    done
}

@test "bad input: truncated, corrupt and non-tar input (T22)" {
    cut="$BATS_TEST_TMPDIR/cut"
    for ext in tar tar.gz tar.zst; do
        head -c 300000 "$GANTRY_FIXTURES/busybox-amd64.$ext" >"$cut.$ext"
        fails 1 "import 'cut:1'" "$GANTRY" import "$cut.$ext" cut:1
    done
    # One flipped byte in the middle of the gzip stream.
    cp "$GANTRY_FIXTURES/busybox-amd64.tar.gz" "$cut.flip.gz"
    printf '\x00' | dd of="$cut.flip.gz" bs=1 seek=500000 conv=notrunc status=none
    fails 1 "import 'cut:1'" "$GANTRY" import "$cut.flip.gz" cut:1
    # Not a tar at all.
    head -c 4096 /dev/urandom | base64 >"$cut.txt"
    fails 1 "import 'cut:1'" "$GANTRY" import "$cut.txt" cut:1
    # An empty input.
    fails 1 "import 'cut:1'" "$GANTRY" import /dev/null cut:1
    # A tar without its end-of-archive marker.
    head -c "$(($(stat -c %s "$GANTRY_FIXTURES/busybox-amd64.tar") - 10240))" \
        "$GANTRY_FIXTURES/busybox-amd64.tar" >"$cut.noend.tar"
    fails 1 "import 'cut:1'" "$GANTRY" import "$cut.noend.tar" cut:1
}

@test "bad input: refused and malformed --change" {
    fails 1 "invalid change 'ONBUILD RUN make': ONBUILD is not supported by import" \
        "$GANTRY" import -c 'ONBUILD RUN make' "$TAR" c:1
    fails 1 "invalid change 'RUN make': RUN is not supported by import" \
        "$GANTRY" import -c 'RUN make' "$TAR" c:1
    fails 1 "unknown instruction 'FROB'" "$GANTRY" import -c 'FROB x' "$TAR" c:1
    fails 1 "ENV must have two arguments" "$GANTRY" import -c 'ENV PATH' "$TAR" c:1
    fails 1 "invalid port '99999'" "$GANTRY" import -c 'EXPOSE 99999' "$TAR" c:1
    fails 1 "unexpected end of statement while looking for matching double-quote" "$GANTRY" import -c 'LABEL a="b' "$TAR" c:1
}

@test "bad input: missing input file and usage errors" {
    fails 1 "open '$BATS_TEST_TMPDIR/none.tar': No such file or directory" \
        "$GANTRY" import "$BATS_TEST_TMPDIR/none.tar" x:1
    fails 2 "'import' needs a FILE (or -) and a REF" "$GANTRY" import "$TAR"
    fails 2 "unknown option '--nope'" "$GANTRY" import --nope "$TAR" x:1
    fails 2 "invalid --compression 'bz2'" "$GANTRY" import --compression bz2 "$TAR" x:1
}

@test "bad input: a full disk during import leaves nothing half-written" {
    if [ "$(id -u)" -ne 0 ]; then
        skip "needs root to mount a small tmpfs"
    fi
    mkdir -p "$BATS_TEST_TMPDIR/small"
    if ! mount -t tmpfs -o size=1m tmpfs "$BATS_TEST_TMPDIR/small" 2>/dev/null; then
        skip "mounting a tmpfs is not permitted here"
    fi
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/small/store"
    "$GANTRY" images >/dev/null
    BEFORE=$(store_state)
    fails 1 "o space left on device" "$GANTRY" import --compression none \
        "$GANTRY_FIXTURES/busybox-amd64.tar" big:1
    [ -z "$(ls -A "$GANTRY_ROOT/tmp")" ]
    [ -z "$(ls -A "$GANTRY_ROOT/blobs/sha256")" ]
    # The store is still readable.
    jq -e . "$GANTRY_ROOT/index.json" >/dev/null
    run --separate-stderr "$GANTRY" images -q
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}
