#!/usr/bin/env bats
# gantry push --mount-from against the real distribution registry: blobs
# the destination lacks are mounted from another repository of the same
# registry (no bytes uploaded), or uploaded when the source lacks them too;
# bad mount sources are refused. And the progress display of pull and push
# with --progress plain (one line per blob) and -q (none).

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
    export REG
    # demo/busybox:multi, three platforms: 3 configs + 3 layers.
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    "$GANTRY" manifest create demo/busybox:multi demo/busybox:amd64 demo/busybox:arm64 \
        demo/busybox:armhf >/dev/null
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    copy_file_store
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

# push_counts ARGS...: `gantry --debug push ARGS`, must succeed; prints its
# "push: ..." count line.
push_counts() {
    run --separate-stderr "$GANTRY" --debug push "$@"
    [ "$status" -eq 0 ] || { echo "$stderr" >&2; return 1; }
    grep '^push: ' <<<"$stderr"
}

@test "push --mount-from: every blob mounted from the other repository, none uploaded" {
    run push_counts demo/busybox:multi "$REG/mount/a:1"
    [ "$output" = "push: 6 blobs uploaded ($(all_bytes) bytes), 0 mounted, 0 already present, 4 manifests written" ]
    run push_counts --mount-from mount/a demo/busybox:multi "$REG/mount/b:1"
    [ "$output" = "push: 0 blobs uploaded (0 bytes), 6 mounted, 0 already present, 4 manifests written" ]
    skopeo inspect --raw --tls-verify=false "docker://$REG/mount/b:1" |
        cmp - <("$GANTRY" manifest inspect --raw demo/busybox:multi)
    # The mounted blobs are really there: pull every platform back from b.
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/empty"
    run --separate-stderr "$GANTRY" --debug pull --all-platforms "$REG/mount/b:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"pull: 6 blobs fetched"* ]]
}

@test "push --mount-from: the source may name the registry; present blobs are not mounted" {
    "$GANTRY" push -q demo/busybox:multi "$REG/mount2/a:1" >/dev/null
    "$GANTRY" push -q --platform linux/amd64 demo/busybox:multi "$REG/mount2/c:1" >/dev/null
    # c has the amd64 config and layer; the other four come from a.
    run push_counts --mount-from "$REG/mount2/a" demo/busybox:multi "$REG/mount2/c:2"
    [ "$output" = "push: 0 blobs uploaded (0 bytes), 4 mounted, 2 already present, 3 manifests written" ]
}

@test "push --mount-from: a source without the blobs falls back to uploading" {
    run push_counts --mount-from nothing/here demo/busybox:multi "$REG/mount3/b:1"
    [ "$output" = "push: 6 blobs uploaded ($(all_bytes) bytes), 0 mounted, 0 already present, 4 manifests written" ]
    # The destination itself as the source: no mount is tried.
    run push_counts --mount-from mount3/b demo/busybox:multi "$REG/mount3/b:2"
    [ "$output" = "push: 0 blobs uploaded (0 bytes), 0 mounted, 6 already present, 1 manifests written" ]
}

@test "push --mount-from: another registry, a tag or a digest is refused before any upload" {
    run --separate-stderr "$GANTRY" push --mount-from other.example.com/x demo/busybox:multi \
        "$REG/mount4/b:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: mount source 'other.example.com/x' is not in the destination registry '$REG'" ]
    run --separate-stderr "$GANTRY" push --mount-from mount4/a:1 demo/busybox:multi "$REG/mount4/b:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: mount source 'mount4/a:1' must be a repository, without tag or digest" ]
    run --separate-stderr "$GANTRY" push --mount-from "$REG/a@sha256:$(printf '0%.0s' {1..64})" \
        demo/busybox:multi "$REG/mount4/b:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: mount source '$REG/a@sha256:"*"' must be a repository, without tag or digest" ]]
    run skopeo inspect --raw --tls-verify=false "docker://$REG/mount4/b:1"
    [ "$status" -ne 0 ]
}

# all_bytes: the bytes of the 6 blobs of demo/busybox:multi.
all_bytes() {
    local total=0 m d
    for m in $(jq -r '.manifests[].digest' "$(blob "$(ref_field docker.io/demo/busybox:multi .digest)")"); do
        for d in $(jq -r '.config.digest, .layers[].digest' "$(blob "$m")"); do
            total=$((total + $(stat -c %s "$(blob "$d")")))
        done
    done
    echo "$total"
}

# short DIGEST: docker's short id, the first 12 hex digits.
short() {
    local h=${1#sha256:}
    echo "${h:0:12}"
}

@test "progress plain: one line per blob for push and pull; -q shows none" {
    run --separate-stderr "$GANTRY" --progress plain push --platform linux/arm64 \
        demo/busybox:multi "$REG/prog/a:1"
    [ "$status" -eq 0 ]
    m=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' \
        "$(blob "$(ref_field docker.io/demo/busybox:multi .digest)")")
    config=$(jq -r .config.digest "$(blob "$m")")
    layer=$(jq -r '.layers[0].digest' "$(blob "$m")")
    size() { cli_size "$(stat -c %s "$(blob "$1")")"; }
    [ "${#stderr_lines[@]}" -eq 2 ]
    printf '%s\n' "${stderr_lines[@]}" | sort > got
    printf '%s\n' "$(short "$config"): Pushed $(size "$config")" \
        "$(short "$layer"): Pushed $(size "$layer")" | sort > want
    diff want got
    # Again: the registry has both.
    run --separate-stderr "$GANTRY" --progress plain push --platform linux/arm64 \
        demo/busybox:multi "$REG/prog/a:1"
    printf '%s\n' "${stderr_lines[@]}" | sort > got
    printf '%s\n' "$(short "$config"): Layer already exists $(size "$config")" \
        "$(short "$layer"): Layer already exists $(size "$layer")" | sort > want
    diff want got
    # Pull into an empty store, then again: complete, then already there.
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/empty"
    run --separate-stderr "$GANTRY" --progress plain pull "$REG/prog/a:1"
    [ "$status" -eq 0 ]
    printf '%s\n' "${stderr_lines[@]}" | sort > got
    printf '%s\n' "$(short "$config"): Pull complete $(size "$config")" \
        "$(short "$layer"): Pull complete $(size "$layer")" | sort > want
    diff want got
    run --separate-stderr "$GANTRY" --progress plain pull -q "$REG/prog/a:1"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "$REG/prog/a:1" ]
    run --separate-stderr "$GANTRY" --progress plain push -q "$REG/prog/a:1" "$REG/prog/b:1"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "$REG/prog/b:1" ]
}

# cli_size BYTES: the size as the CLI shows it (SI units, 3 digits).
cli_size() {
    python3 -c '
import sys
v, u = float(sys.argv[1]), 0
units = ["B", "kB", "MB", "GB", "TB"]
while v >= 1000 and u + 1 < len(units):
    v /= 1000; u += 1
print("%.0f%s" % (v, units[u]) if u == 0 else "%s%s" % (("%.3g" % v), units[u]))
' "$1"
}

@test "progress on a terminal: --debug lines print above the table, never over it" {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    # A cut chunk makes a debug line in the middle of the push, while the
    # line of that blob is drawn (one blob at a time, 1 MiB chunks: the
    # bar shows before the chunk is cut).
    start_fake "$BATS_TEST_TMPDIR/fake" --fault patch-cut-once
    run python3 "$BATS_TEST_DIRNAME/../registry/ttyrun.py" --raw raw -- \
        "$GANTRY" --debug push --jobs 1 --chunk-size 1m demo/busybox:multi "$FAKE/tty/a:1"
    stop_server "$BATS_TEST_TMPDIR/fake"
    [ "$status" -eq 0 ]
    # The table was drawn in place (cursor-up escapes) ...
    grep -q $'\e\\[[0-9]*A' raw
    # ... and the final screen still shows the debug line whole, above the
    # table, and each of the 6 blobs exactly once.
    [[ "$output" == *"upload chunk at 0: "*"; asking the registry"* ]]
    n=$(grep -n "asking the registry" <<<"$output" | head -1 | cut -d: -f1)
    last=$(grep -n ": Pushed$" <<<"$output" | tail -1 | cut -d: -f1)
    [ "$n" -lt "$last" ]
    [ "$(grep -c ': Pushed$' <<<"$output")" -eq 6 ]
    [[ "$output" != *"Pushing"* ]]
    [ "$(grep -E '^[0-9a-f]{12}: ' <<<"$output" | cut -d: -f1 | sort | uniq -d)" = "" ]
}
