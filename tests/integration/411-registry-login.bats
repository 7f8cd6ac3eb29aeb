#!/usr/bin/env bats
# gantry login / logout and credentials against the real distribution
# registry with htpasswd basic auth: the Docker config file (auths, mode
# 0600), a wrong password, hand-written config entries, and a
# docker-credential-test helper script on PATH (credsStore, credHelpers).

bats_require_minimum_version 1.5.0

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    command -v htpasswd >/dev/null || skip "htpasswd (apache2-utils) is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR" alice wonderland
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
    make_blob blob 3000 > /dev/null
}

# A credential helper: `get` answers alice for $REG and "not found" for
# others; `store` and `erase` record their input.
install_helper() {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    cat > "$BATS_TEST_TMPDIR/bin/docker-credential-test" <<EOF
#!/bin/sh
in=\$(cat)
echo "\$1 \$in" >> "$BATS_TEST_TMPDIR/helper.log"
case "\$1" in
get)
    if [ "\$in" = "$REG" ]; then
        printf '{"ServerURL":"%s","Username":"alice","Secret":"%s"}' "\$in" wonderland
    else
        echo "credentials not found in native keychain"
        exit 1
    fi ;;
store) printf '%s' "\$in" > "$BATS_TEST_TMPDIR/helper.stored" ;;
erase) ;;
esac
EOF
    chmod +x "$BATS_TEST_TMPDIR/bin/docker-credential-test"
    export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
}

@test "login: a wrong password fails clearly and writes nothing" {
    run --separate-stderr "$GANTRY" login -u alice --password-stdin "$REG" <<< "wrong"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "gantry: login '$REG': wrong username or password: "*"HTTP 401 unauthorized"* ]]
    [ ! -e "$DOCKER_CONFIG/config.json" ]
}

@test "login: saves Docker's auths entry (0600), push works, logout forgets it" {
    run --separate-stderr "$GANTRY" login -u alice --password-stdin "$REG" <<< "wonderland"
    [ "$status" -eq 0 ]
    [ "$output" = "Login Succeeded" ]
    [[ "$stderr" == *"stored unencrypted in $DOCKER_CONFIG/config.json"* ]]
    [ "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600 ]
    [ "$(stat -c %a "$DOCKER_CONFIG")" = 700 ]
    [ "$(jq -r --arg r "$REG" '.auths[$r].auth' "$DOCKER_CONFIG/config.json" | base64 -d)" = "alice:wonderland" ]
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/a" blob
    [ "$status" -eq 0 ]
    run --separate-stderr "$GANTRY" logout "$REG"
    [ "$output" = "Removing login credentials for $REG" ]
    [ "$(jq -r --arg r "$REG" '.auths[$r]' "$DOCKER_CONFIG/config.json")" = null ]
    run --separate-stderr "$GANTRY" logout "$REG"
    [ "$output" = "Not logged in to $REG" ]
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/a" blob
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"HTTP 401 unauthorized: authentication required (no credentials for this registry: see 'gantry login')" ]]
}

@test "login: other members of the config file survive" {
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"other.example":{"auth":"eDp5"}},"proxies":{"default":{"httpProxy":"http://p:3128"}}}' \
        > "$DOCKER_CONFIG/config.json"
    "$GANTRY" login -u alice --password-stdin "http://$REG/" <<< "wonderland"
    jq -e '.auths["other.example"].auth == "eDp5"' "$DOCKER_CONFIG/config.json"
    jq -e '.proxies.default.httpProxy == "http://p:3128"' "$DOCKER_CONFIG/config.json"
    jq -e --arg r "$REG" '.auths[$r].auth' "$DOCKER_CONFIG/config.json"
    # Without -u the saved credentials are checked again.
    run --separate-stderr "$GANTRY" login "$REG" < /dev/null
    [ "$status" -eq 0 ]
    [ "$output" = "Login Succeeded" ]
}

@test "credentials from a hand-written config.json (username/password, scheme in the key)" {
    mkdir -p "$DOCKER_CONFIG"
    printf '{"auths":{"http://%s/v2/":{"username":"alice","password":"wonderland"}}}' "$REG" \
        > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/b" blob
    [ "$status" -eq 0 ]
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf alice:nope | base64)" \
        > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/b" blob
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"HTTP 401 unauthorized"* ]]
    printf '{"auths":{"%s":{"auth":"!!"}}}' "$REG" > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/b" blob
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"credentials for '$REG': '$DOCKER_CONFIG/config.json': auths entry '$REG': invalid 'auth'"* ]]
}

@test "credentials through a docker-credential-test helper (credsStore and credHelpers)" {
    install_helper
    mkdir -p "$DOCKER_CONFIG"
    printf '{"credsStore":"test"}' > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/c" blob
    [ "$status" -eq 0 ]
    grep -qx "get $REG" "$BATS_TEST_TMPDIR/helper.log"
    printf '{"credsStore":"missing-helper","credHelpers":{"%s":"test"}}' "$REG" \
        > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/d" blob
    [ "$status" -eq 0 ]
    printf '{"credsStore":"missing-helper"}' > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" registry put-blob "$REG/auth/d" blob
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"run credential helper 'docker-credential-missing-helper'"* ]]
}

@test "login: with a credsStore the helper stores the secret, not the file" {
    install_helper
    mkdir -p "$DOCKER_CONFIG"
    printf '{"credsStore":"test"}' > "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" login -u alice --password-stdin "$REG" <<< "wonderland"
    [ "$status" -eq 0 ]
    [ "$output" = "Login Succeeded" ]
    [[ "$stderr" != *"unencrypted"* ]]
    jq -e --arg r "$REG" '.ServerURL == $r and .Username == "alice" and .Secret == "wonderland"' \
        "$BATS_TEST_TMPDIR/helper.stored"
    jq -e --arg r "$REG" '.auths[$r] == {}' "$DOCKER_CONFIG/config.json"
    ! grep -q wonderland "$DOCKER_CONFIG/config.json"
    run --separate-stderr "$GANTRY" logout "$REG"
    [ "$output" = "Removing login credentials for $REG" ]
    grep -qx "erase $REG" "$BATS_TEST_TMPDIR/helper.log"
}

@test "login: usage errors" {
    run "$GANTRY" login --password-stdin "$REG" < /dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"--password-stdin needs --username"* ]]
    run "$GANTRY" login -u alice -p x --password-stdin "$REG" < /dev/null
    [ "$status" -eq 2 ]
    run "$GANTRY" login -u alice "$REG" < /dev/null
    [ "$status" -eq 2 ]
    [[ "$output" == *"no password"* ]]
    run "$GANTRY" login a b
    [ "$status" -eq 2 ]
    run "$GANTRY" logout --bogus
    [ "$status" -eq 2 ]
    run "$GANTRY" login --help
    [ "$status" -eq 0 ]
    [[ "$output" == "Usage: gantry login"* ]]
}

@test "login -p warns that the password shows on the command line" {
    run --separate-stderr "$GANTRY" login -u alice -p wonderland "$REG"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"Using --password via the CLI is insecure"* ]]
}
