#!/usr/bin/env bats
# gantry push and gantry pull against the real distribution registry
# (Debian's docker-registry on a free 127.0.0.1 port): a three-platform
# image goes up and each platform comes back byte-identical; interop with
# skopeo both ways; platform errors; re-push sends nothing; partial images;
# a pull cut by a truncated blob (scripted server) leaves nothing named; a
# push interrupted by the registry going down completes on the second try.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    command -v docker-registry >/dev/null || skip "docker-registry is not installed"
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export REGDIR="$BATS_FILE_TMPDIR/registry"
    start_registry "$REGDIR"
    export REG
    # The image every test pushes: demo/busybox:multi, three platforms.
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
    source "$BATS_TEST_DIRNAME/../registry/lib.bash"
    export DOCKER_CONFIG="$BATS_TEST_TMPDIR/docker"
    copy_file_store
    SRC_ROOT=$GANTRY_ROOT
    mkdir -p "$BATS_TEST_TMPDIR/work"
    cd "$BATS_TEST_TMPDIR/work"
}

teardown() {
    [ -z "${SRV:-}" ] || stop_server "$SRV"
}

# The registry helpers' digest_of (of a file) hides the store helpers' one
# (of a name): names are looked up with ref_field NAME .digest here.

# empty_store NAME: switch to a new, empty store.
empty_store() {
    export GANTRY_ROOT="$BATS_TEST_TMPDIR/$1"
}

# layer_machine ROOT MANIFEST_DIGEST: `file` on bin/busybox of the image's layer.
layer_machine() {
    local m="$1/blobs/sha256/${2#sha256:}" l
    l=$(jq -r '.layers[0].digest' "$m")
    rm -rf x && mkdir x
    tar -xzf "$1/blobs/sha256/${l#sha256:}" -C x ./bin/busybox
    file -b x/bin/busybox
}

@test "push: a three-platform image, then each platform pulled back byte-identical" {
    run --separate-stderr "$GANTRY" push demo/busybox:multi "$REG/demo/busybox:multi"
    [ "$status" -eq 0 ]
    index=$(ref_field docker.io/demo/busybox:multi .digest)
    [ "$output" = "multi: digest: $index size: $(stat -c %s "$(blob "$index")")" ]
    skopeo inspect --raw --tls-verify=false "docker://$REG/demo/busybox:multi" > remote.json
    "$GANTRY" manifest inspect --raw demo/busybox:multi > local.json
    cmp remote.json local.json
    for p in linux/amd64:x86-64 linux/arm64:aarch64 linux/arm/v7:ARM,; do
        empty_store "pull-${p%%:*}"
        run --separate-stderr "$GANTRY" pull --platform "${p%%:*}" "$REG/demo/busybox:multi"
        [ "$status" -eq 0 ]
        [ "${lines[0]}" = "Digest: $index" ]
        [ "${lines[1]}" = "Status: Downloaded newer image for $REG/demo/busybox:multi" ]
        [ "${lines[2]}" = "$REG/demo/busybox:multi" ]
        # The index is whole; the one platform pulled is its only local child.
        "$GANTRY" manifest inspect --raw "$REG/demo/busybox:multi" | cmp - local.json
        child=$(jq -r --arg p "${p%%:*}" '.manifests[] | select((.platform.os + "/" +
            .platform.architecture + (if .platform.variant then "/" + .platform.variant
            else "" end)) == $p) | .digest' local.json)
        cmp "$GANTRY_ROOT/blobs/sha256/${child#sha256:}" "$SRC_ROOT/blobs/sha256/${child#sha256:}"
        skopeo inspect --raw --tls-verify=false "docker://$REG/demo/busybox@$child" |
            cmp - "$GANTRY_ROOT/blobs/sha256/${child#sha256:}"
        [[ "$(layer_machine "$GANTRY_ROOT" "$child")" == *"${p#*:}"* ]]
        # 1 index + 1 manifest + config + layer.
        [ "$(ls "$GANTRY_ROOT/blobs/sha256" | wc -l)" -eq 4 ]
    done
    run "$GANTRY" images --format '{{.Platforms}}' "$REG/demo/busybox"
    [[ "$output" == *"linux/arm/v7"* && "$output" == *"(missing)"* ]]
}

@test "pull: the host's platform by default, --all-platforms, and up to date the second time" {
    "$GANTRY" push -q demo/busybox:multi "$REG/host/busybox:1" >/dev/null
    empty_store host
    export GANTRY_HOST_PLATFORM=linux/arm64
    run --separate-stderr "$GANTRY" pull -q "$REG/host/busybox:1"
    [ "$status" -eq 0 ]
    [ "$output" = "$REG/host/busybox:1" ]
    arm64=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' \
        "$(blob "$(ref_field "$REG/host/busybox:1" .digest)")")
    [ -f "$(blob "$arm64")" ]
    [ "$(ls "$GANTRY_ROOT/blobs/sha256" | wc -l)" -eq 4 ]
    run --separate-stderr "$GANTRY" pull "$REG/host/busybox:1"
    [ "${lines[1]}" = "Status: Image is up to date for $REG/host/busybox:1" ]
    run --separate-stderr "$GANTRY" --debug pull --all-platforms "$REG/host/busybox:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"pull: 4 blobs fetched"*", 2 already present"* ]]
    [ "$(ls "$GANTRY_ROOT/blobs/sha256" | wc -l)" -eq 10 ]
    run "$GANTRY" images --format '{{.Platforms}}' "$REG/host/busybox"
    [ "$output" = "linux/amd64,linux/arm64,linux/arm/v7" ]
}

@test "pull: no matching platform lists what the image has; nothing is stored" {
    "$GANTRY" push -q demo/busybox:multi "$REG/plat/busybox:1" >/dev/null
    "$GANTRY" push -q --platform linux/amd64 demo/busybox:multi "$REG/plat/busybox:amd64" >/dev/null
    empty_store none
    run --separate-stderr "$GANTRY" pull --platform linux/riscv64 "$REG/plat/busybox:1"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no linux/riscv64 image in $REG/plat/busybox:1 (it has: linux/amd64, linux/arm64, linux/arm/v7)" ]
    [ -z "$(ls -A "$GANTRY_ROOT/blobs/sha256")" ]
    [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" -eq 0 ]
    # A single-platform image of another platform is refused the same way.
    run --separate-stderr "$GANTRY" pull --platform linux/arm64 "$REG/plat/busybox:amd64"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: no linux/arm64 image in $REG/plat/busybox:amd64 (it has: linux/amd64)" ]
    run --separate-stderr "$GANTRY" pull --platform linux/amd64 "$REG/plat/busybox:amd64"
    [ "$status" -eq 0 ]
}

@test "push: a re-push uploads nothing and writes no manifest" {
    "$GANTRY" push -q demo/busybox:multi "$REG/again/busybox:1" >/dev/null
    run --separate-stderr "$GANTRY" --debug push demo/busybox:multi "$REG/again/busybox:1"
    [ "$status" -eq 0 ]
    [[ "$stderr" == *"push: 0 blobs uploaded (0 bytes), 0 mounted, 6 already present, 0 manifests written"* ]]
    # Another tag of the same content: no blob, only the tag.
    run --separate-stderr "$GANTRY" --debug push demo/busybox:multi "$REG/again/busybox:2"
    [[ "$stderr" == *"push: 0 blobs uploaded (0 bytes), 0 mounted, 6 already present, 1 manifests written"* ]]
}

@test "push --platform: one platform alone, or a smaller index" {
    run --separate-stderr "$GANTRY" push --platform linux/arm64 demo/busybox:multi "$REG/some/busybox:arm64"
    [ "$status" -eq 0 ]
    arm64=$("$GANTRY" inspect --platform linux/arm64 --format '{{.Descriptor.digest}}' demo/busybox:multi)
    [[ "$output" == "arm64: digest: $arm64 size: "* ]]
    skopeo inspect --raw --tls-verify=false "docker://$REG/some/busybox:arm64" | cmp - "$(blob "$arm64")"
    "$GANTRY" push -q --platform linux/arm64,linux/arm/v7 demo/busybox:multi "$REG/some/busybox:two"
    run skopeo inspect --raw --tls-verify=false "docker://$REG/some/busybox:two"
    [ "$(jq -r '[.manifests[].platform.architecture] | join(",")' <<<"$output")" = "arm64,arm" ]
    run --separate-stderr "$GANTRY" push --platform linux/riscv64 demo/busybox:multi "$REG/some/busybox:x"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: no matching manifest for linux/riscv64 in "* ]]
}

@test "push: a partial image goes up only when the registry has the missing children" {
    "$GANTRY" push -q demo/busybox:multi "$REG/partial/busybox:1" >/dev/null
    empty_store partial
    "$GANTRY" pull -q --platform linux/arm64 "$REG/partial/busybox:1" >/dev/null
    run --separate-stderr "$GANTRY" push "$REG/partial/busybox:1" "$REG/partial/busybox:2"
    [ "$status" -eq 0 ]
    run --separate-stderr "$GANTRY" push "$REG/partial/busybox:1" "$REG/elsewhere/busybox:1"
    [ "$status" -eq 1 ]
    amd64=$(jq -r '.manifests[0].digest' "$(blob "$(ref_field "$REG/partial/busybox:1" .digest)")")
    [ "$stderr" = "gantry: cannot push '$REG/partial/busybox:1': linux/amd64 ($amd64) is not in the store and not in the registry" ]
    run skopeo inspect --raw --tls-verify=false "docker://$REG/elsewhere/busybox:1"
    [ "$status" -ne 0 ]
}

@test "interop: what gantry pushes skopeo copies (--all) and inspects" {
    "$GANTRY" push -q demo/busybox:multi "$REG/interop/gantry:1" >/dev/null
    skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false \
        "docker://$REG/interop/gantry:1" "docker://$REG/interop/copied:1"
    skopeo copy -q --all --src-tls-verify=false "docker://$REG/interop/gantry:1" oci:layout:x
    run skopeo inspect --tls-verify=false --override-arch arm64 "docker://$REG/interop/copied:1"
    [ "$status" -eq 0 ]
    [ "$(jq -r .Architecture <<<"$output")" = arm64 ]
    skopeo inspect --raw --tls-verify=false "docker://$REG/interop/copied:1" |
        cmp - <("$GANTRY" manifest inspect --raw demo/busybox:multi)
    [ "$(ls layout/blobs/sha256 | wc -l)" -eq 10 ]
}

@test "interop: what skopeo pushes gantry pulls" {
    skopeo copy -q --all --dest-tls-verify=false "oci:$SRC_ROOT:docker.io/demo/busybox:multi" \
        "docker://$REG/interop/skopeo:1"
    empty_store fromskopeo
    run --separate-stderr "$GANTRY" pull -a "$REG/interop/skopeo:1"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "Digest: $(skopeo inspect --raw --tls-verify=false "docker://$REG/interop/skopeo:1" | sha256sum | sed 's/^/sha256:/; s/ .*//')" ]
    run "$GANTRY" images --format '{{.Platforms}}' "$REG/interop/skopeo"
    [ "$output" = "linux/amd64,linux/arm64,linux/arm/v7" ]
    run "$GANTRY" inspect --platform linux/arm/v7 --format '{{.Architecture}}/{{.Variant}}' "$REG/interop/skopeo:1"
    [ "$output" = "arm/v7" ]
}

@test "pull: a truncated blob stores nothing and names nothing" {
    SRV="$BATS_TEST_TMPDIR/srv"
    start_fake "$SRV" --fault blob-truncated
    "$GANTRY" push -q demo/busybox:amd64 "$FAKE/trunc/busybox:1" >/dev/null
    empty_store trunc
    run --separate-stderr "$GANTRY" pull "$FAKE/trunc/busybox:1"
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: fetch blob '$FAKE/trunc/busybox@sha256:"*"': size mismatch: got "* ]]
    [ -z "$(ls -A "$GANTRY_ROOT/blobs/sha256")" ]
    [ -z "$(ls -A "$GANTRY_ROOT/tmp")" ]
    [ "$(jq '.manifests | length' "$GANTRY_ROOT/index.json")" -eq 0 ]
}

@test "pull: a download cut halfway resumes and completes" {
    SRV="$BATS_TEST_TMPDIR/srv"
    start_fake "$SRV" --fault blob-cut-once
    "$GANTRY" push -q demo/busybox:amd64 "$FAKE/cut/busybox:1" >/dev/null
    empty_store cut
    run --separate-stderr "$GANTRY" pull -q "$FAKE/cut/busybox:1"
    [ "$status" -eq 0 ]
    [ "$(requests "$SRV" 'select(.method == "GET" and (.path | contains("/blobs/")))' | wc -l)" -ge 3 ]
    run "$GANTRY" inspect --format '{{.Architecture}}' "$FAKE/cut/busybox:1"
    [ "$output" = amd64 ]
}
