#!/usr/bin/env bats
# Faults the real registry cannot produce, on the scripted server
# tests/registry/fakereg.py (bad-inputs.md 4.3 and 4.5): truncated and cut
# blobs, 503 and 429, redirects to another origin, to file:// and in a loop,
# malformed challenges, oversized and mislabelled manifests, HTML errors,
# upload Locations, 416 and cut chunks, mounts refused, tag pagination.

bats_require_minimum_version 1.5.0

setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    SRV="$BATS_TEST_TMPDIR/srv"
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
    make_image img
}

teardown() {
    stop_server "$SRV"
}

push_image() {
    "$GANTRY" registry put-blob "$FAKE/${1%%:*}" img/config.json
    "$GANTRY" registry put-blob "$FAKE/${1%%:*}" img/layer.bin
    "$GANTRY" registry put-manifest "$FAKE/$1" img/manifest.json
}

# No output file and no temporary file left next to it.
nothing_stored() {
    [ ! -e out ]
    [ -z "$(ls -A | grep -v '^img$')" ]
}

@test "faults: a truncated blob is a size or digest mismatch and nothing is stored (H7)" {
    start_fake "$SRV" --fault blob-truncated
    d=$(digest_of img/layer.bin)
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-blob --size 70000 -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch blob '$FAKE/app@$d': size mismatch: got 35000 bytes, want 70000" ]
    nothing_stored
    run --separate-stderr "$GANTRY" registry get-blob -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch blob '$FAKE/app@$d': digest mismatch: got sha256:"*", want $d" ]]
    nothing_stored
}

@test "faults: pull of a corrupt blob (right size, wrong bytes) stores nothing" {
    start_fake "$SRV" --fault blob-corrupt
    d=$(digest_of img/layer.bin)
    push_image app:1
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/store"
    run --separate-stderr "$GANTRY" pull "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: "*"fetch blob '$FAKE/app@sha256:"*"': digest mismatch: got sha256:"*", want sha256:"* ]]
    # Neither blob (both were corrupted) nor a temporary file, nor a name.
    [ -z "$(find "$GANTRY_ROOT/blobs" "$GANTRY_ROOT/tmp" -type f 2>/dev/null)" ]
    run "$GANTRY" images -q
    [ -z "$output" ]
}

@test "faults: a blob longer than its descriptor stops at size + 1 (M7)" {
    start_fake "$SRV" --fault blob-long
    d=$(digest_of img/layer.bin)
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-blob -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"digest mismatch"* ]]
    nothing_stored
    # With the size known, the announced length is refused unread (H8).
    run --separate-stderr "$GANTRY" registry get-blob --size 70000 -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"the registry announces 70011 bytes, want 70000" ]]
    nothing_stored
}

@test "faults: a cut download resumes with Range and ends byte-identical" {
    start_fake "$SRV" --fault blob-cut-once
    d=$(digest_of img/layer.bin)
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-blob --size 70000 -o out "$FAKE/app@$d"
    [ "$status" -eq 0 ]
    cmp out img/layer.bin
    [ "$(requests "$SRV" "select(.path == \"/v2/app/blobs/$d\") | .status" | tr '\n' ' ')" = "200 206 " ]
}

@test "faults: 503 then success is retried (H5)" {
    start_fake "$SRV" --fault 503-once
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 0 ]
    [ "$output" = "$(cat img/manifest.json)" ]
    [ "$(requests "$SRV" 'select(.path == "/v2/app/manifests/1" and .method == "GET") | .status' | tr '\n' ' ')" = "503 200 " ]
}

@test "faults: 503 for ever gives up after the bounded retries" {
    start_fake "$SRV" --fault 503-always
    push_image app:1
    start=$(date +%s%N)
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch manifest '$FAKE/app:1': HTTP 503 service unavailable: UNAVAILABLE: try again later" ]
    [ "$(requests "$SRV" 'select(.path == "/v2/app/manifests/1" and .method == "GET")' | wc -l)" -eq 5 ]
    # 4 retries after 0.5, 1, 2 and 4 s (plus up to half as much jitter):
    # at least 7.5 s, and within the 15 s budget of one request.
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ "$ms" -ge 7500 ]
    [ "$ms" -lt 15500 ]
}

@test "faults: 429 with Retry-After waits and retries (H6)" {
    start_fake "$SRV" --fault 429-once
    push_image app:1
    start=$(date +%s%N)
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 0 ]
    [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 1000 ]
    [ "$(requests "$SRV" 'select(.path == "/v2/app/manifests/1" and .method == "GET") | .status' | tr '\n' ' ')" = "429 200 " ]
}

@test "faults: a Retry-After beyond the retry budget fails at once, saying how long to wait" {
    start_fake "$SRV" --fault 429-long
    push_image app:1
    start=$(date +%s%N)
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 3000 ]
    [ "$stderr" = "gantry: fetch manifest '$FAKE/app:1': HTTP 429 too many requests: TOOMANYREQUESTS: rate limit (retry after 120)" ]
    [ "$(requests "$SRV" 'select(.path == "/v2/app/manifests/1" and .method == "GET")' | wc -l)" -eq 1 ]
}

@test "faults: a blob redirect to another origin is followed without Authorization (H9)" {
    start_fake "$SRV" --auth bearer --fault redirect-blobs
    d=$(digest_of img/layer.bin)
    push_image app:1
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry get-blob --size 70000 -o out "$FAKE/app@$d"
    [ "$status" -eq 0 ]
    cmp out img/layer.bin
    [ "$(requests "$SRV" 'select(.srv == "main" and .status == 307) | .auth' | cut -c1-8)" = '"Bearer ' ]
    [ "$(requests "$SRV" 'select(.srv == "other")' | wc -l)" -eq 1 ]
    [ "$(requests "$SRV" 'select(.srv == "other") | .auth')" = null ]
}

@test "faults: redirects to file:// and redirect loops are refused (H10)" {
    start_fake "$SRV" --fault redirect-file
    d=$(digest_of img/layer.bin)
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-blob -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch blob '$FAKE/app@$d': redirect: refusing URL 'file:///etc/passwd': only http and https are allowed" ]
    nothing_stored
    stop_server "$SRV"
    rm -rf "$SRV"
    start_fake "$SRV" --fault redirect-loop
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-blob -o out "$FAKE/app@$d"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch blob '$FAKE/app@$d': too many redirects (more than 10)" ]
    [ "$(requests "$SRV" "select(.path == \"/v2/app/blobs/$d\")" | wc -l)" -eq 11 ]
    nothing_stored
}

@test "faults: a malformed challenge is a parse error, not a loop (H2)" {
    start_fake "$SRV" --fault bad-challenge
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch manifest '$FAKE/app:1': ping '$FAKE': invalid authentication challenge: unterminated quoted string" ]
    [ "$(requests "$SRV" '.' | wc -l)" -eq 1 ]
}

@test "faults: a 401 without a challenge says so (H1)" {
    start_fake "$SRV" --fault no-challenge
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"HTTP 401 unauthorized, no challenge"* ]]
    [ "$(requests "$SRV" '.' | wc -l)" -eq 1 ]
}

@test "faults: a 5 MiB manifest is refused (M8)" {
    start_fake "$SRV" --fault big-manifest
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch manifest '$FAKE/app:1': manifest is larger than the 4 MiB limit" ]
    [ -z "$output" ]
}

@test "faults: an HTML error page becomes a short readable excerpt (H15)" {
    start_fake "$SRV" --fault html-error
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch manifest '$FAKE/app:1': HTTP 404 not found: <html><head><title>404 Not Found</title>"*"..." ]]
    [ "${#stderr}" -lt 300 ]
}

@test "faults: Content-Type and body mediaType disagree (M1)" {
    start_fake "$SRV" --fault mismatch-content-type
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch manifest '$FAKE/app:1': "*"application/vnd.oci.image.index.v1+json"* ]]
    [ -z "$output" ]
}

@test "faults: Docker-Content-Digest disagrees with the body (M6)" {
    start_fake "$SRV" --fault digest-header-mismatch
    push_image app:1
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"digest mismatch: Docker-Content-Digest says sha256:0000"*", content is $(digest_of img/manifest.json)" ]]
}

@test "faults: a Docker schema 1 manifest is refused clearly" {
    start_fake "$SRV" --fault schema1
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"a Docker schema 1 manifest"*"which gantry does not support"* ]]
}

@test "faults: absolute upload Locations (H11) and chunks" {
    start_fake "$SRV" --fault location-absolute
    head -c 250000 /dev/urandom > big
    run --separate-stderr "$GANTRY" registry put-blob --chunk-size 100000 "$FAKE/app" big
    [ "$status" -eq 0 ]
    [ "$output" = "$(digest_of big) uploaded" ]
    [ "$(requests "$SRV" 'select(.method == "PATCH") | .status' | tr '\n' ' ')" = "202 202 202 " ]
    "$GANTRY" registry get-blob -o out "$FAKE/app@$(digest_of big)"
    cmp out big
}

@test "faults: a 416 on a chunk asks the registry where to go on" {
    start_fake "$SRV" --fault patch-416-once
    head -c 250000 /dev/urandom > big
    run --separate-stderr "$GANTRY" registry put-blob --chunk-size 100000 "$FAKE/app" big
    [ "$status" -eq 0 ]
    [ "$(requests "$SRV" 'select(.path | contains("/blobs/uploads/")) | .method + " " + (.status | tostring)' | tr '\n' ',')" = '"POST 202","PATCH 416","GET 204","PATCH 202","PATCH 202","PATCH 202","PUT 201",' ]
}

@test "faults: a chunk cut halfway resumes from the registry's offset (H5)" {
    start_fake "$SRV" --fault patch-cut-once
    head -c 250000 /dev/urandom > big
    run --separate-stderr "$GANTRY" registry put-blob --chunk-size 100000 "$FAKE/app" big
    [ "$status" -eq 0 ]
    [ "$output" = "$(digest_of big) uploaded" ]
    [ "$(requests "$SRV" 'select(.method == "GET" and (.path | contains("/blobs/uploads/"))) | .status')" = 204 ]
    "$GANTRY" registry get-blob -o out "$FAKE/app@$(digest_of big)"
    cmp out big
}

@test "faults: a refused mount (202) falls back to an upload in that session" {
    start_fake "$SRV" --fault no-mount
    "$GANTRY" registry put-blob "$FAKE/src" img/layer.bin
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry put-blob --mount-from src "$FAKE/dst" img/layer.bin
    [ "$status" -eq 0 ]
    [ "$output" = "$(digest_of img/layer.bin) uploaded" ]
    [ "$(requests "$SRV" 'select(.method == "POST") | .path' | wc -l)" -eq 1 ]
    [[ "$(requests "$SRV" 'select(.method == "POST") | .path')" == *"mount=sha256"*"from=src"* ]]
}

@test "faults: tag lists are followed through Link pagination" {
    start_fake "$SRV" --fault tags-paginate
    for t in a b c d e; do push_image "app:$t" > /dev/null; done
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry tags --page-size 2 "$FAKE/app"
    [ "$status" -eq 0 ]
    [ "$(echo $output)" = "a b c d e" ]
    [ "$(requests "$SRV" 'select(.path | contains("/tags/list")) | .path' | tr '\n' ' ')" = '"/v2/app/tags/list?n=2" "/v2/app/tags/list?n=2&last=b" "/v2/app/tags/list?n=2&last=d" ' ]
}
