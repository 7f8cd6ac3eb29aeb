# Setup and helpers shared by the integration tests: `load helpers` in a
# .bats file. $GANTRY is the binary under test, $GANTRY_FIXTURES the
# fixture cache (tests/fixtures/cache), $GANTRY_ROOT the store in use.

MT_INDEX=application/vnd.oci.image.index.v1+json
MT_MANIFEST=application/vnd.oci.image.manifest.v1+json

# store_setup [ROOT]: use the store ROOT (default: one of this test's own
# under $BATS_TEST_TMPDIR), with the host platform pinned to linux/amd64 so
# that results do not depend on the machine.
store_setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    : "${GANTRY_FIXTURES:?GANTRY_FIXTURES must point at tests/fixtures/cache}"
    export GANTRY_ROOT="${1:-$BATS_TEST_TMPDIR/store}"
    export GANTRY_HOST_PLATFORM=linux/amd64
}

# copy_file_store: this test's own copy of the store that setup_file built
# in $BATS_FILE_TMPDIR/base (store_setup "$BATS_FILE_TMPDIR/base" there).
copy_file_store() {
    store_setup
    cp -a "$BATS_FILE_TMPDIR/base" "$GANTRY_ROOT"
}

# import_busybox ARCH PLATFORM NAME [OPTION...]: import the busybox fixture
# of ARCH (amd64, arm64, armhf; the .tar.gz) as NAME, with --platform
# PLATFORM unless PLATFORM is "" (then the host's platform) and OPTIONs.
import_busybox() {
    local arch=$1 platform=$2 name=$3
    shift 3
    "$GANTRY" import ${platform:+--platform "$platform"} "$@" \
        "$GANTRY_FIXTURES/busybox-$arch.tar.gz" "$name" >/dev/null
}

# import_demo_three: demo/busybox:amd64, :arm64 and :armhf (linux/amd64,
# linux/arm64, linux/arm/v7), in that order.
import_demo_three() {
    import_busybox amd64 linux/amd64 demo/busybox:amd64
    import_busybox arm64 linux/arm64 demo/busybox:arm64
    import_busybox armhf linux/arm/v7 demo/busybox:armhf
}

# blob DIGEST: path of a blob of the store.
blob() {
    echo "$GANTRY_ROOT/blobs/sha256/${1#sha256:}"
}

# all_blobs: the hex digests of the store's blobs, sorted.
all_blobs() {
    ls "$GANTRY_ROOT/blobs/sha256" | sort
}

# ref_field NAME FILTER: jq FILTER over the index.json entry named NAME (a
# full reference, as stored); nothing when there is no such name.
ref_field() {
    jq -r --arg n "$1" \
        '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $n) | '"$2" \
        "$GANTRY_ROOT/index.json"
}

# digest_of NAME: the manifest or index digest a name points at.
digest_of() {
    ref_field "$1" .digest
}

# put_blob FILE: copy FILE into the store's blobs; prints its digest.
put_blob() {
    local d
    d="sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
    cp "$1" "$(blob "$d")"
    echo "$d"
}

# add_ref NAME MEDIATYPE FILE: put_blob FILE and add the name NAME (a full
# reference) for it to index.json, written behind gantry's back; prints
# the digest.
add_ref() {
    local name=$1 mt=$2 file=$3 d new="$BATS_TEST_TMPDIR/index.json.new"
    d=$(put_blob "$file")
    jq -c --arg n "$name" --arg d "$d" --argjson s "$(stat -c %s "$file")" --arg mt "$mt" \
        '.manifests += [{mediaType: $mt, digest: $d, size: $s,
                         annotations: {"org.opencontainers.image.ref.name": $n}}]' \
        "$GANTRY_ROOT/index.json" >"$new"
    mv "$new" "$GANTRY_ROOT/index.json"
    echo "$d"
}

# add_index NAME ENTRY... : store an OCI index under the full name NAME;
# prints its digest. ENTRY is an image REF, "missing:OS/ARCH" (a child not
# in the store) or "attestation:REF" (REF's manifest as a BuildKit
# attestation).
add_index() {
    local name=$1 entries='[]' r d p ann f="$BATS_TEST_TMPDIR/index-blob.json"
    shift
    for r in "$@"; do
        if [[ "$r" == missing:* ]]; then
            p=${r#missing:}
            entries=$(jq -c --arg os "${p%%/*}" --arg arch "${p#*/}" --arg mt "$MT_MANIFEST" \
                '. + [{mediaType: $mt, digest: ("sha256:" + ("5" * 64)), size: 1234,
                       platform: {os: $os, architecture: $arch}}]' <<<"$entries")
            continue
        fi
        ann='{}'
        p=''
        if [[ "$r" == attestation:* ]]; then
            r=${r#attestation:}
            ann='{"vnd.docker.reference.type": "attestation-manifest"}'
            p='{"os": "unknown", "architecture": "unknown"}'
        fi
        d=$("$GANTRY" inspect --format '{{.Descriptor.digest}}' "$r")
        [ -n "$p" ] || p=$("$GANTRY" inspect --format '{{json .Descriptor.platform}}' "$r")
        entries=$(jq -c --arg d "$d" --argjson s "$(stat -c %s "$(blob "$d")")" \
            --argjson p "$p" --argjson a "$ann" --arg mt "$MT_MANIFEST" \
            '. + [{mediaType: $mt, digest: $d, size: $s, platform: $p}
                  + (if $a == {} then {} else {annotations: $a} end)]' <<<"$entries")
    done
    jq -cj --argjson m "$entries" --arg mt "$MT_INDEX" \
        '{schemaVersion: 2, mediaType: $mt, manifests: $m}' <<<'null' >"$f"
    add_ref "$name" "$MT_INDEX" "$f"
}

# names_state: what a refused command must leave as it was when complete
# blobs may stay (until prune): index.json, and nothing left in tmp/.
names_state() {
    sha256sum <"$GANTRY_ROOT/index.json"
    find "$GANTRY_ROOT/tmp" -mindepth 1 | sort
}

# store_state: names_state, and the blobs by name and size.
store_state() {
    names_state
    ls -l "$GANTRY_ROOT/blobs/sha256" | awk '{ print $5, $9 }'
}

# put_index REPO TAG FILE: PUT FILE as an OCI index at $REG/REPO:TAG (plain
# HTTP, loopback); prints its digest.
put_index() {
    curl -fsS -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
        --data-binary "@$3" "http://$REG/v2/$1/manifests/$2" >/dev/null
    echo "sha256:$(sha256sum "$3" | cut -d' ' -f1)"
}

# put_nested_chain REPO DIGEST SIZE LEVELS: the linux/arm64 manifest DIGEST
# (SIZE bytes, already in $REG/REPO) inside LEVELS+1 indexes, tags 1 to
# LEVELS+1: tag 1 lists the manifest, tag i lists tag i-1's index, so tag i
# is a top with i-1 nested indexes. Writes level.json in the current directory.
put_nested_chain() {
    local repo=$1 d=$2 size=$3 levels=$4 i
    jq -n --arg d "$d" --argjson s "$size" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d,
                     size: $s, platform: {architecture: "arm64", os: "linux"}}]}' -j >level.json
    for i in $(seq "$levels"); do
        d=$(put_index "$repo" "$i" level.json)
        size=$(stat -c %s level.json)
        jq -n --arg d "$d" --argjson s "$size" '{schemaVersion: 2,
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: [{mediaType: "application/vnd.oci.image.index.v1+json", digest: $d,
                         size: $s}]}' -j >level.json
    done
    put_index "$repo" $((levels + 1)) level.json >/dev/null
}
