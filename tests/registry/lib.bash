# Helpers for the registry bats tests (tests/integration/41x-registry-*.bats).
# Everything listens on 127.0.0.1 and lives under $BATS_TEST_TMPDIR.

REGISTRY_HELPERS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# start_registry DIR [USER PASSWORD]: the real distribution registry;
# sets REG to 127.0.0.1:<port>.
start_registry() {
    "$REGISTRY_HELPERS/start-registry.sh" "$@"
    REG=127.0.0.1:$(cat "$1/port")
}

# start_fake DIR ARGS...: the scripted fault server (fakereg.py ARGS);
# sets FAKE to 127.0.0.1:<port> and OTHER to its second origin.
start_fake() {
    local dir=$1
    shift
    mkdir -p "$dir"
    python3 "$REGISTRY_HELPERS/fakereg.py" --dir "$dir" "$@" > "$dir/server.log" 2>&1 &
    local i
    for i in $(seq 1 100); do
        [ -s "$dir/port" ] && break
        sleep 0.05
    done
    [ -s "$dir/port" ] || { cat "$dir/server.log" >&2; return 1; }
    FAKE=127.0.0.1:$(cat "$dir/port")
    OTHER=127.0.0.1:$(cat "$dir/other-port")
}

stop_server() {
    "$REGISTRY_HELPERS/stop-registry.sh" "$1"
}

# make_blob FILE SIZE: random content; prints its digest.
make_blob() {
    head -c "$2" /dev/urandom > "$1"
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

digest_of() {
    echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# make_image DIR: a config and a layer blob and an OCI manifest naming them,
# in DIR/config.json, DIR/layer.bin, DIR/manifest.json.
make_image() {
    local dir=$1
    mkdir -p "$dir"
    printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' \
        > "$dir/config.json"
    make_blob "$dir/layer.bin" 70000 > /dev/null
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' \
        > "$dir/manifest.json"
    printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},' \
        "$(digest_of "$dir/config.json")" "$(stat -c %s "$dir/config.json")" >> "$dir/manifest.json"
    printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}' \
        "$(digest_of "$dir/layer.bin")" "$(stat -c %s "$dir/layer.bin")" >> "$dir/manifest.json"
}

# requests DIR FILTER: the fake server's request log through a jq filter.
requests() {
    jq -c "$2" "$1/requests.log"
}
