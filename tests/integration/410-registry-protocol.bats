#!/usr/bin/env bats
# The registry client against the real distribution registry (Debian's
# docker-registry), started on a free 127.0.0.1 port with its own storage:
# blobs and manifests go up and come back byte-identical, monolithic and
# chunked uploads, cross-repository mounts, errors naming reference and status.

bats_require_minimum_version 1.5.0

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
    export REG
}

teardown_file() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    stop_server "$REGDIR"
}

setup() {
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

@test "registry ping: a loopback registry over plain HTTP" {
    run --separate-stderr "$GANTRY" registry ping "$REG"
    [ "$status" -eq 0 ]
    [ "$output" = "$REG: ok" ]
}

@test "registry: a blob goes up in one PUT and comes back byte-identical" {
    d=$(make_blob blob 100000)
    run --separate-stderr "$GANTRY" registry put-blob "$REG/proto/one" blob
    [ "$status" -eq 0 ]
    [ "$output" = "$d uploaded" ]
    run --separate-stderr "$GANTRY" registry head-blob "$REG/proto/one@$d"
    [ "$status" -eq 0 ]
    [ "$output" = 100000 ]
    "$GANTRY" registry get-blob -o back "$REG/proto/one@$d"
    cmp blob back
    "$GANTRY" registry get-blob --size 100000 "$REG/proto/one@$d" > back2
    cmp blob back2
}

@test "registry: a large blob goes up in chunks (PATCH with Content-Range)" {
    d=$(make_blob big 3500000)
    run --separate-stderr "$GANTRY" registry put-blob --chunk-size 1000000 "$REG/proto/chunked" big
    [ "$status" -eq 0 ]
    [ "$output" = "$d uploaded" ]
    "$GANTRY" registry get-blob -o back "$REG/proto/chunked@$d"
    cmp big back
}

@test "registry: an empty blob" {
    : > empty
    d=$(digest_of empty)
    run --separate-stderr "$GANTRY" registry put-blob "$REG/proto/empty" empty
    [ "$status" -eq 0 ]
    "$GANTRY" registry get-blob -o back "$REG/proto/empty@$d"
    [ -f back ] && [ ! -s back ]
}

@test "registry: cross-repository mount, and the fallback when the source lacks the blob" {
    d=$(make_blob blob 5000)
    "$GANTRY" registry put-blob "$REG/mount/src" blob
    run --separate-stderr "$GANTRY" registry put-blob --mount-from mount/src "$REG/mount/dst" blob
    [ "$status" -eq 0 ]
    [ "$output" = "$d mounted" ]
    run --separate-stderr "$GANTRY" registry head-blob "$REG/mount/dst@$d"
    [ "$output" = 5000 ]
    make_blob other 6000 > /dev/null
    run --separate-stderr "$GANTRY" registry put-blob --mount-from mount/nowhere "$REG/mount/dst" other
    [ "$status" -eq 0 ]
    [[ "$output" == *" uploaded" ]]
}

@test "registry: a manifest goes up by tag and comes back byte-identical, by tag and digest" {
    make_image img
    "$GANTRY" registry put-blob "$REG/proto/image" img/config.json
    "$GANTRY" registry put-blob "$REG/proto/image" img/layer.bin
    md=$(digest_of img/manifest.json)
    run --separate-stderr "$GANTRY" registry put-manifest "$REG/proto/image:v1" img/manifest.json
    [ "$status" -eq 0 ]
    [ "$output" = "$md" ]
    "$GANTRY" registry get-manifest "$REG/proto/image:v1" > back
    cmp img/manifest.json back
    "$GANTRY" registry get-manifest "$REG/proto/image@$md" > back2
    cmp img/manifest.json back2
    run --separate-stderr "$GANTRY" registry head-manifest "$REG/proto/image:v1"
    [ "$output" = "$md application/vnd.oci.image.manifest.v1+json $(stat -c %s img/manifest.json)" ]
    # By digest only: the data must hash to it.
    run --separate-stderr "$GANTRY" registry put-manifest "$REG/proto/image@$md" img/manifest.json
    [ "$status" -eq 0 ]
    other=sha256:$(printf x | sha256sum | cut -d' ' -f1)
    run --separate-stderr "$GANTRY" registry put-manifest "$REG/proto/image@$other" img/manifest.json
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"not to the reference's digest"* ]]
}

@test "registry: a manifest naming missing blobs is refused with the registry's error" {
    make_image img
    run --separate-stderr "$GANTRY" registry put-manifest "$REG/proto/missing:v1" img/manifest.json
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: push manifest '$REG/proto/missing:v1': HTTP 400 bad request: "*"MANIFEST_BLOB_UNKNOWN"* ]]
}

@test "registry: errors name the reference and the HTTP status" {
    run --separate-stderr "$GANTRY" registry get-manifest "$REG/proto/nothing:v9"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: fetch manifest '$REG/proto/nothing:v9': HTTP 404 not found: MANIFEST_UNKNOWN: manifest unknown" ]
    z=sha256:$(printf '' | sha256sum | cut -d' ' -f1)
    run --separate-stderr "$GANTRY" registry get-blob -o out "$REG/proto/nothing@$z"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch blob '$REG/proto/nothing@$z': HTTP 404 not found: BLOB_UNKNOWN"* ]]
    [ ! -e out ]
    run --separate-stderr "$GANTRY" registry head-blob "$REG/proto/nothing@$z"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: blob '$REG/proto/nothing@$z' not found" ]
}

@test "registry: a wrong expected size fails and leaves no file" {
    d=$(make_blob blob 4000)
    "$GANTRY" registry put-blob "$REG/proto/size" blob
    run --separate-stderr "$GANTRY" registry get-blob --size 3999 -o out "$REG/proto/size@$d"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"announces 4000 bytes, want 3999"* ]]
    run --separate-stderr "$GANTRY" registry get-blob --size 4001 -o out "$REG/proto/size@$d"
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"size mismatch: got 4000 bytes, want 4001"* ]]
    [ ! -e out ]
    [ -z "$(ls -A | grep -v '^blob$')" ]
}

@test "registry: tags of a repository" {
    make_image img
    "$GANTRY" registry put-blob "$REG/proto/tags" img/config.json
    "$GANTRY" registry put-blob "$REG/proto/tags" img/layer.bin
    for t in a b c; do
        "$GANTRY" registry put-manifest "$REG/proto/tags:$t" img/manifest.json
    done
    run --separate-stderr "$GANTRY" registry tags "$REG/proto/tags"
    [ "$status" -eq 0 ]
    [ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "a b c " ]
}

@test "registry: a registry that is not there is a clear network error" {
    port=$(python3 "$BATS_TEST_DIRNAME/../registry/free-port.py")
    run --separate-stderr "$GANTRY" registry get-manifest "127.0.0.1:$port/x:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch manifest '127.0.0.1:$port/x:1': ping '127.0.0.1:$port': GET 'http://127.0.0.1:$port/v2/': "* ]]
}

@test "registry: a loopback registry over HTTPS (self-signed) stays on HTTPS" {
    tls="$BATS_TEST_TMPDIR/tls"
    "$BATS_TEST_DIRNAME/../registry/start-registry.sh" --tls "$tls"
    r=127.0.0.1:$(cat "$tls/port")
    d=$(make_blob blob 20000)
    run --separate-stderr "$GANTRY" --debug registry put-blob "$r/tls/a" blob
    status_put=$status
    "$GANTRY" registry get-blob -o back "$r/tls/a@$d" || true
    stop_server "$tls"
    [ "$status_put" -eq 0 ]
    [[ "$stderr" != *"trying http"* ]]
    cmp blob back
}

@test "registry: usage errors" {
    run "$GANTRY" registry
    [ "$status" -eq 2 ]
    run "$GANTRY" registry frobnicate
    [ "$status" -eq 2 ]
    run "$GANTRY" registry get-blob "$REG/x:1"
    [ "$status" -eq 2 ]
    [[ "$output" == *"has no digest"* ]]
    run "$GANTRY" registry --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: gantry registry"* ]]
}
