#!/usr/bin/env bats
# Two gantry processes importing and tagging into one store at the same
# time: index.json stays valid JSON and no name is lost.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
}

# worker P: ten imports and ten tags, 20 names, all under p$P.
worker() {
    local p=$1 i
    for i in $(seq 1 10); do
        "$GANTRY" import -m "worker $p" -c "LABEL n=$p-$i" --compression none \
            "$GANTRY_FIXTURES/busybox-armhf.tar" "p$p/imp:$i" >/dev/null || return 1
        "$GANTRY" tag "p$p/imp:$i" "p$p/tag:$i" || return 1
    done
}

@test "concurrent: two processes import and tag 20 names each" {
    "$GANTRY" images >/dev/null # create the store before the race
    worker 1 >"$BATS_TEST_TMPDIR/w1.log" 2>&1 &
    pid1=$!
    worker 2 >"$BATS_TEST_TMPDIR/w2.log" 2>&1 &
    pid2=$!
    wait "$pid1" || { cat "$BATS_TEST_TMPDIR/w1.log"; false; }
    wait "$pid2" || { cat "$BATS_TEST_TMPDIR/w2.log"; false; }
    jq -e . "$GANTRY_ROOT/index.json" >/dev/null
    [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" -eq 40 ]
    run --separate-stderr "$GANTRY" images --format '{{.Repository}}:{{.Tag}}'
    [ "$status" -eq 0 ]
    want=$(for p in 1 2; do for k in imp tag; do for i in $(seq 1 10); do
        echo "p$p/$k:$i"; done; done; done | sort)
    [ "$(sort <<<"$output")" = "$want" ]
    # Every name reads back with the label its import set, and tags point at
    # the image of the same number.
    for p in 1 2; do
        for i in 1 5 10; do
            [ "$("$GANTRY" inspect --format '{{index .Config.Labels "n"}}' "p$p/tag:$i")" = "$p-$i" ]
        done
    done
    [ -z "$(ls -A "$GANTRY_ROOT/tmp")" ]
}
