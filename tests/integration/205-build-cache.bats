#!/usr/bin/env bats
# gantry build's step cache: a second identical build reuses every layer
# (CACHED, same digest, no new blob), a changed file invalidates only the
# steps that read it, --no-cache rebuilds, and a layer blob removed by
# prune is made again instead of leaving a broken image.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir/sub"
    echo alpha >"$CTX/a.txt"
    echo bravo >"$CTX/b.txt"
    echo one >"$CTX/dir/one.txt"
    echo two >"$CTX/dir/sub/two.txt"
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch
COPY a.txt /a.txt
WORKDIR /app
COPY b.txt dir/ /app/
ENV X=1
DF
}

PLATFORMS=linux/amd64,linux/arm64

# build [OPTION...]: two platforms as demo/c:1, plain progress; sets
# status, output (the id) and stderr.
build() {
    run --separate-stderr "$GANTRY" build --progress plain --platform "$PLATFORMS" \
        -t demo/c:1 "$@" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
}

# state TEXT: the final state (DONE, CACHED, ERROR) of every step whose
# line ends with TEXT, one per line, e.g. "CACHED\nCACHED" for two platforms.
state() {
    local ids
    ids=$(grep -F -- "] $1" <<<"$stderr" | grep -o '^#[0-9]*') || return 0
    for id in $ids; do
        grep -E "^$id (DONE|CACHED|ERROR)" <<<"$stderr" | cut -d' ' -f2
    done
}

@test "build cache: a second identical build is all CACHED, same digest, no new blob" {
    build
    first=$output
    [ "$(state 'COPY a.txt /a.txt' | sort -u)" != "" ]
    before=$(all_blobs)
    build
    [ "$output" = "$first" ]
    [ "$(all_blobs)" = "$before" ]
    # every layer step of both platforms, and nothing else ran
    [ "$(state 'COPY a.txt /a.txt')" = $'CACHED\nCACHED' ]
    [ "$(state 'WORKDIR /app')" = $'CACHED\nCACHED' ]
    [ "$(state 'COPY b.txt dir/ /app/')" = $'CACHED\nCACHED' ]
    ! grep -q ' DONE ' <<<"$stderr"
    [ -z "$(ls "$GANTRY_ROOT/tmp")" ]
}

@test "build cache: the first build makes a layer once for two platforms" {
    build
    # the second platform's equal layer is found in the cache it just filled
    [ "$(state 'COPY a.txt /a.txt' | sort | tr '\n' ' ')" = "CACHED DONE " ]
    [ "$(state 'COPY b.txt dir/ /app/' | sort | tr '\n' ' ')" = "CACHED DONE " ]
}

@test "build cache: WORKDIR is reused without SOURCE_DATE_EPOCH, keyed by its parent layers" {
    unset SOURCE_DATE_EPOCH
    build
    man=$(cat "$(blob "$output")" | jq -r '.manifests[0].digest')
    layers=$(cat "$(blob "$man")" | jq -c '[.layers[].digest]')
    # a later second: a new layer would carry a new directory mtime
    sleep 1.1
    build
    [ "$(state 'WORKDIR /app')" = $'CACHED\nCACHED' ]
    man=$(cat "$(blob "$output")" | jq -r '.manifests[0].digest')
    [ "$(cat "$(blob "$man")" | jq -c '[.layers[].digest]')" = "$layers" ]
    # a different layer below: the WORKDIR step runs again (the second
    # platform may then find the first one's layer)
    echo alpha2 >"$CTX/a.txt"
    build
    state 'WORKDIR /app' | grep -qx DONE
}

@test "build cache: a changed file invalidates only the steps that read it" {
    build
    first=$output
    echo bravo2 >"$CTX/b.txt"
    build
    [ "$output" != "$first" ]
    [ "$(state 'COPY a.txt /a.txt')" = $'CACHED\nCACHED' ]
    [ "$(state 'WORKDIR /app')" = $'CACHED\nCACHED' ]
    [ "$(state 'COPY b.txt dir/ /app/' | sort | tr '\n' ' ')" = "CACHED DONE " ]
    # the new layer has the new content
    man=$(cat "$(blob "$output")" | jq -r '.manifests[0].digest')
    layer=$(cat "$(blob "$man")" | jq -r '.layers[2].digest')
    [ "$(tar -xzOf "$(blob "$layer")" app/b.txt)" = bravo2 ]
}

@test "build cache: a change of the same size in a nested file is seen" {
    build
    first=$output
    echo owt >"$CTX/dir/sub/two.txt"
    build
    [ "$output" != "$first" ]
    [ "$(state 'COPY a.txt /a.txt')" = $'CACHED\nCACHED' ]
    [ "$(state 'COPY b.txt dir/ /app/' | sort | tr '\n' ' ')" = "CACHED DONE " ]
}

@test "build cache: touching a file without changing it keeps the cache" {
    build
    first=$output
    touch -d '2001-01-01 00:00:00' "$CTX/a.txt" "$CTX/dir/one.txt"
    # SOURCE_DATE_EPOCH clamps later times only: an older mtime is content
    touch "$CTX/a.txt" "$CTX/dir/one.txt"
    build
    [ "$output" = "$first" ]
    [ "$(state 'COPY a.txt /a.txt')" = $'CACHED\nCACHED' ]
    [ "$(state 'COPY b.txt dir/ /app/')" = $'CACHED\nCACHED' ]
}

@test "build cache: --no-cache rebuilds every step and gives the same result" {
    build
    first=$output
    build --no-cache
    [ "$output" = "$first" ]
    [ "$(state 'COPY a.txt /a.txt')" = $'DONE\nDONE' ]
    [ "$(state 'WORKDIR /app')" = $'DONE\nDONE' ]
    [ "$(state 'COPY b.txt dir/ /app/')" = $'DONE\nDONE' ]
    ! grep -q ' CACHED' <<<"$stderr"
    build
    [ "$(state 'COPY a.txt /a.txt')" = $'CACHED\nCACHED' ]
}

@test "build cache: a layer blob removed by prune is made again" {
    build
    first=$output
    "$GANTRY" rmi demo/c:1 >/dev/null
    "$GANTRY" prune >/dev/null
    [ -z "$(all_blobs)" ]
    build
    [ "$output" = "$first" ]
    [ "$(state 'COPY a.txt /a.txt' | sort | tr '\n' ' ')" = "CACHED DONE " ]
    # every blob of the image is back and readable
    for m in $(cat "$(blob "$output")" | jq -r '.manifests[].digest'); do
        for l in $(cat "$(blob "$m")" | jq -r '.layers[].digest, .config.digest'); do
            [ -f "$(blob "$l")" ]
            [ "sha256:$(sha256sum <"$(blob "$l")" | cut -d' ' -f1)" = "$l" ]
        done
    done
    [ "$(tar -xzOf "$(blob "$(cat "$(blob "$m")" | jq -r '.layers[0].digest')")" a.txt)" = alpha ]
}

@test "build cache: a damaged record is a miss, not an error" {
    build
    first=$output
    # step records always exist; stat records only for files older than
    # the 50 ms racy window, so not always right after setup
    [ -n "$(ls -A "$GANTRY_ROOT/cache/step")" ]
    find "$GANTRY_ROOT/cache" -type f | while read -r f; do
        echo garbage >"$f"
    done
    build
    [ "$output" = "$first" ]
    [ "$(state 'COPY a.txt /a.txt' | sort | tr '\n' ' ')" = "CACHED DONE " ]
}

@test "build: --progress quiet and -q print only the id" {
    run --separate-stderr "$GANTRY" build --progress quiet --platform "$PLATFORMS" "$CTX"
    [ "$status" -eq 0 ]
    [[ $output == sha256:* ]]
    [ -z "$stderr" ]
    run --separate-stderr "$GANTRY" build -q "$CTX"
    [ "$status" -eq 0 ]
    [[ $output == sha256:* ]]
    [ -z "$stderr" ]
}

@test "build: plain progress names platform, step and instruction" {
    build
    grep -Eq '^#[0-9]+ \[linux/amd64 1/3\] COPY a\.txt /a\.txt$' <<<"$stderr"
    grep -Eq '^#[0-9]+ \[linux/arm64 3/3\] COPY b\.txt dir/ /app/$' <<<"$stderr"
    grep -Eq '^#[0-9]+ DONE [0-9]+\.[0-9]s$' <<<"$stderr"
    # ENV is no step
    ! grep -q 'ENV X=1' <<<"$stderr"
    run --separate-stderr "$GANTRY" build --progress fancy "$CTX"
    [ "$status" -eq 2 ]
}
