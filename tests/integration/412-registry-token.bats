#!/usr/bin/env bats
# The Bearer token flow against the scripted registry and token server of
# tests/registry/fakereg.py: the scopes asked, one token reused for the
# requests of a command, a new one after expiry, credentials sent only to
# the realm, a registry that refuses a fresh token (H4).

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

# push_image REPO:TAG: the config, the layer and the manifest.
push_image() {
    "$GANTRY" registry put-blob "$FAKE/${1%%:*}" img/config.json
    "$GANTRY" registry put-blob "$FAKE/${1%%:*}" img/layer.bin
    "$GANTRY" registry put-manifest "$FAKE/$1" img/manifest.json
}

token_requests() {
    requests "$SRV" 'select(.path | startswith("/token"))'
}

@test "token: push asks pull,push, pull asks pull; one token serves a whole command" {
    start_fake "$SRV" --auth bearer
    run --separate-stderr "$GANTRY" registry put-blob "$FAKE/team/app" img/layer.bin
    [ "$status" -eq 0 ]
    run token_requests
    [ "${#lines[@]}" -eq 1 ]
    [ "$(echo "${lines[0]}" | jq -c .scopes)" = '["repository:team/app:pull,push"]' ]
    # POST and PUT of the upload both carried that token.
    tok=$(requests "$SRV" 'select(.path | startswith("/token")) | .status' | head -1)
    [ "$tok" = 200 ]
    [ "$(requests "$SRV" 'select(.method == "POST" or .method == "PUT") | .auth' | sort -u | wc -l)" -eq 1 ]
    [ "$(requests "$SRV" 'select(.method == "PUT") | .status')" = 201 ]
    "$GANTRY" registry put-blob "$FAKE/team/app" img/config.json
    "$GANTRY" registry put-manifest "$FAKE/team/app:1" img/manifest.json
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/team/app:1" "$FAKE/team/app:1"
    [ "$status" -eq 0 ]
    run token_requests
    [ "${#lines[@]}" -eq 1 ]
    [ "$(echo "${lines[0]}" | jq -c .scopes)" = '["repository:team/app:pull"]' ]
    [ "$(requests "$SRV" 'select(.path == "/v2/team/app/manifests/1") | .status' | tr '\n' ' ')" = "200 200 " ]
}

@test "token: a token that expired is not reused; a new one is fetched" {
    start_fake "$SRV" --auth bearer --token-expiry 2
    push_image app:1
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry --sleep 3 get-manifest "$FAKE/app:1" "$FAKE/app:1"
    [ "$status" -eq 0 ]
    run token_requests
    [ "${#lines[@]}" -eq 2 ]
    # Never sent a stale token: every manifest request got a 200 at once.
    statuses=$(requests "$SRV" 'select(.path == "/v2/app/manifests/1") | .status' | tr '\n' ' ')
    echo "manifest requests: $statuses" # shown if the test fails
    [ "$statuses" = "200 200 " ]
    [ "$(requests "$SRV" 'select(.path == "/v2/app/manifests/1") | .auth' | sort -u | wc -l)" -eq 2 ]
}

@test "token: credentials go to the token realm with Basic and account=" {
    start_fake "$SRV" --auth bearer --user bob --password hunter2
    run --separate-stderr "$GANTRY" login -u bob --password-stdin "$FAKE" <<< "hunter2"
    [ "$status" -eq 0 ]
    [ "$output" = "Login Succeeded" ]
    run --separate-stderr "$GANTRY" registry put-blob "$FAKE/bob/app" img/layer.bin
    [ "$status" -eq 0 ]
    basic="Basic $(printf bob:hunter2 | base64)"
    [ "$(requests "$SRV" 'select(.path | startswith("/token")) | .auth' | sort -u)" = "\"$basic\"" ]
    [ "$(requests "$SRV" 'select(.path | startswith("/token")) | .account' | sort -u)" = '"bob"' ]
    # The registry itself never sees the password.
    [ "$(requests "$SRV" 'select(.path | startswith("/v2/")) | .auth // "" | select(startswith("Basic"))' | wc -l)" -eq 0 ]
    run --separate-stderr "$GANTRY" login -u bob --password-stdin "$FAKE" <<< "wrong"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: login '$FAKE': wrong username or password: "*"HTTP 401 unauthorized"* ]]
}

@test "token: anonymous pulls need no credentials" {
    start_fake "$SRV" --auth bearer
    push_image pub:1
    rm -rf "$DOCKER_CONFIG"
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/pub:1"
    [ "$status" -eq 0 ]
    [ "$(requests "$SRV" 'select(.path | startswith("/token")) | .auth' | sort -u)" = null ]
}

@test "token: a registry that refuses a fresh token stops after one retry (H4)" {
    start_fake "$SRV" --auth bearer --fault always-401
    run --separate-stderr "$GANTRY" registry get-manifest "$FAKE/locked/app:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch manifest '$FAKE/locked/app:1': HTTP 401 unauthorized: a new token for scope 'repository:locked/app:pull' was refused"* ]]
    run token_requests
    [ "${#lines[@]}" -eq 2 ]
    [ "$(requests "$SRV" 'select(.path == "/v2/locked/app/manifests/1")' | wc -l)" -eq 2 ]
}

@test "token: a mount asks pull on the source repository too" {
    start_fake "$SRV" --auth bearer
    "$GANTRY" registry put-blob "$FAKE/src/app" img/layer.bin
    : > "$SRV/requests.log"
    run --separate-stderr "$GANTRY" registry put-blob --mount-from src/app "$FAKE/dst/app" img/layer.bin
    [ "$status" -eq 0 ]
    [[ "$output" == *" mounted" ]]
    [ "$(token_requests | jq -c .scopes)" = '["repository:dst/app:pull,push","repository:src/app:pull"]' ]
}
