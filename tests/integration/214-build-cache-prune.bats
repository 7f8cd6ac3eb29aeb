#!/usr/bin/env bats
# gantry prune and the build cache: after the blobs go, the step records
# naming them go too (a rebuild is a miss, not an error), records of a
# still-named image survive, stat caches of removed contexts go, and
# prune --cache drops every record so the next build makes every layer.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir"
    echo alpha >"$CTX/a.txt"
    echo one >"$CTX/dir/one.txt"
    # old enough not to be racy (mtime and ctime 50 ms before the build),
    # so that the stat cache remembers them
    touch -d '2001-01-01 00:00:00' "$CTX/a.txt" "$CTX/dir/one.txt"
    sleep 0.1
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch
COPY a.txt /a.txt
COPY dir/ /app/
DF
}

# build CTX NAME: two platforms, plain progress; status, output (the id), stderr.
build() {
    run --separate-stderr "$GANTRY" build --progress plain --platform linux/amd64,linux/arm64 \
        -t "$2" "$1"
    echo "$stderr"
    [ "$status" -eq 0 ]
}

records() {
    ls "$GANTRY_ROOT/cache/$1" 2>/dev/null | wc -l
}

@test "prune: step records of removed layers go; a rebuild is a miss, not an error" {
    build "$CTX" demo/p:1
    first=$output
    [ "$(records step)" -eq 2 ]
    [ "$(records stat)" -eq 1 ]
    "$GANTRY" rmi demo/p:1 >/dev/null
    run --separate-stderr "$GANTRY" prune
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Deleted 2 build cache records" ]
    [ "$(records step)" -eq 0 ]
    # the context still exists: its stat cache stays
    [ "$(records stat)" -eq 1 ]
    build "$CTX" demo/p:1
    [ "$output" = "$first" ]
    ! grep -q ' CACHED' <<<"$stderr"
    [ "$(records step)" -eq 2 ]
}

@test "prune: records of a still-named image survive, others go" {
    build "$CTX" demo/keep:1
    other=$BATS_TEST_TMPDIR/other
    cp -a "$CTX" "$other"
    echo bravo >"$other/a.txt"
    sleep 0.1
    build "$other" demo/drop:1
    [ "$(records step)" -eq 3 ] # dir/ is the same layer in both
    [ "$(records stat)" -eq 2 ]
    keep=$(ls "$GANTRY_ROOT/cache/step")
    "$GANTRY" rmi demo/drop:1 >/dev/null
    rm -rf "$other"
    run --separate-stderr "$GANTRY" prune
    [ "$status" -eq 0 ]
    # the layer of a.txt=bravo, and the stat cache of the removed context
    [ "${lines[1]}" = "Deleted 2 build cache records" ]
    [ "$(records step)" -eq 2 ]
    [ "$(records stat)" -eq 1 ]
    for k in $(ls "$GANTRY_ROOT/cache/step"); do grep -qx "$k" <<<"$keep"; done
    # what survived is used
    build "$CTX" demo/keep:1
    [ "$(grep -c '^#[0-9]* CACHED$' <<<"$stderr")" -eq 4 ]
    # nothing more to delete: the line is left out
    run --separate-stderr "$GANTRY" prune
    [ "$output" = "Deleted 0 blobs, reclaimed 0B" ]
}

@test "prune: damaged step records and stat caches of an older format go" {
    build "$CTX" demo/p:1
    mkdir -p "$GANTRY_ROOT/cache/stat"
    k=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    echo garbage >"$GANTRY_ROOT/cache/step/$k"
    printf 'gantry-stat-v1\n' >"$GANTRY_ROOT/cache/stat/$k"
    echo mine >"$GANTRY_ROOT/cache/step/not-a-record"
    run --separate-stderr "$GANTRY" prune
    [ "$status" -eq 0 ]
    [ "${lines[1]}" = "Deleted 2 build cache records" ]
    [ ! -e "$GANTRY_ROOT/cache/step/$k" ]
    [ ! -e "$GANTRY_ROOT/cache/stat/$k" ]
    # files that are no records are not gantry's to delete
    [ -e "$GANTRY_ROOT/cache/step/not-a-record" ]
    [ "$(records stat)" -eq 1 ]
}

@test "prune --cache: every record goes, the next build reports no CACHED step" {
    build "$CTX" demo/p:1
    first=$output
    run --separate-stderr "$GANTRY" prune --cache
    [ "$status" -eq 0 ]
    [ "$output" = $'Deleted 0 blobs, reclaimed 0B\nDeleted 3 build cache records' ]
    [ "$(records step)" -eq 0 ]
    [ "$(records stat)" -eq 0 ]
    # the image is untouched
    [ "$("$GANTRY" images -q demo/p:1)" != "" ]
    build "$CTX" demo/p:1
    [ "$output" = "$first" ]
    ! grep -q ' CACHED' <<<"$stderr"
    grep -q '^#[0-9]* DONE ' <<<"$stderr"
    run --separate-stderr "$GANTRY" prune --cache -f
    [ "${lines[1]}" = "Deleted 3 build cache records" ]
    run --separate-stderr "$GANTRY" prune --cache
    [ "${lines[1]}" = "Deleted 0 build cache records" ]
    run --separate-stderr "$GANTRY" prune --cache=yes
    [ "$status" -eq 2 ]
}

@test "prune --cache: refused while a build has the store open, nothing deleted" {
    build "$CTX" demo/p:1
    # a build reading its context from a slow stdin holds the store open
    (sleep 1; tar -C "$CTX" -cf - .) | "$GANTRY" build -q -t demo/s:1 - \
        >"$BATS_TEST_TMPDIR/id" 2>"$BATS_TEST_TMPDIR/err" &
    pid=$!
    sleep 0.3
    run --separate-stderr "$GANTRY" prune --cache
    wait "$pid"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: prune: gc: store '$GANTRY_ROOT' is in use"* ]]
    [ "$(records step)" -eq 2 ]
    [ -s "$BATS_TEST_TMPDIR/id" ]
    [ ! -s "$BATS_TEST_TMPDIR/err" ]
    run --separate-stderr "$GANTRY" prune --cache
    [ "$status" -eq 0 ]
    [ "$(records step)" -eq 0 ]
}
