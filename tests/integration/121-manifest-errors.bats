#!/usr/bin/env bats
# gantry manifest: refusals say what is wrong in one line and change
# nothing in the store (index.json and the blobs are compared before and
# after). Each test works on its own copy of a store imported once per file.

bats_require_minimum_version 1.5.0

LIST=demo/busybox:multi

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    # Another linux/amd64 image (x86_64 as its config would spell it).
    import_busybox amd64 x86_64 demo/other:amd64 --change 'ENV OTHER=1'
    "$GANTRY" manifest create "$LIST" demo/busybox:amd64 demo/busybox:arm64 >/dev/null
}

setup() {
    copy_file_store
    state_before=$(store_state)
}

# refused STATUS MESSAGE ARGS...: gantry ARGS fails with STATUS, prints
# exactly "gantry: MESSAGE" (and the help hint for usage errors) on stderr,
# nothing on stdout, and leaves the store as it was.
refused() {
    local want_status=$1 want=$2
    shift 2
    run --separate-stderr "$GANTRY" "$@"
    echo "status $status, stderr: $stderr"
    [ "$status" -eq "$want_status" ]
    [ -z "$output" ]
    [ "${stderr_lines[0]}" = "gantry: $want" ]
    [ "$(store_state)" = "$state_before" ]
}

@test "manifest annotate: an entry not in the list" {
    refused 1 "no entry 'demo/busybox:armhf' in manifest list 'demo/busybox:multi'" \
        manifest annotate "$LIST" demo/busybox:armhf --variant v6
    refused 1 "no entry 'sha256:0000000000000000000000000000000000000000000000000000000000000000' in manifest list 'demo/busybox:multi'" \
        manifest annotate "$LIST" sha256:0000000000000000000000000000000000000000000000000000000000000000 --os linux
    refused 1 "no such manifest list: 'demo/none:1'" \
        manifest annotate demo/none:1 demo/busybox:amd64 --os linux
}

@test "manifest create: an existing list without --amend" {
    refused 1 "'demo/busybox:multi' already exists, use --amend" \
        manifest create "$LIST" demo/busybox:armhf
    # Any existing image name, not only lists.
    refused 1 "'demo/busybox:amd64' already exists, use --amend" \
        manifest create demo/busybox:amd64 demo/busybox:armhf
    refused 1 "'demo/busybox:amd64' is not a manifest list" \
        manifest create --amend demo/busybox:amd64 demo/busybox:armhf
}

@test "manifest annotate: an invalid --arch or os/arch pair" {
    refused 1 "annotate 'demo/busybox:arm64': unsupported os/arch combination 'linux/sparc'" \
        manifest annotate "$LIST" demo/busybox:arm64 --arch sparc
    refused 1 "annotate 'demo/busybox:arm64': unsupported os/arch combination 'windows/arm64v8'" \
        manifest annotate "$LIST" demo/busybox:arm64 --os windows --arch arm64v8
    refused 1 "annotate 'demo/busybox:arm64': invalid platform 'linux/arm 64': invalid component 'arm 64': want [A-Za-z0-9_.-]+" \
        manifest annotate "$LIST" demo/busybox:arm64 --arch 'arm 64'
    refused 1 "annotate 'demo/busybox:arm64': invalid annotation 'novalue': not of the form key=value" \
        manifest annotate "$LIST" demo/busybox:arm64 --annotation novalue
}

@test "manifest create and add: a REF that does not exist" {
    refused 1 "no such image: 'demo/nope:1' (not in the store; write docker://demo/nope:1 to read it from its registry)" \
        manifest create demo/new:1 demo/busybox:amd64 demo/nope:1
    refused 1 "no such image: 'demo/nope:1' (not in the store; write docker://demo/nope:1 to read it from its registry)" \
        manifest add "$LIST" demo/nope:1
    refused 1 "no such manifest list: 'demo/none:1'" manifest add demo/none:1 demo/busybox:armhf
    refused 1 "no such image: 'demo/none:1' (not in the store; write docker://demo/none:1 to read it from its registry)" \
        manifest inspect demo/none:1
}

@test "manifest create and add: duplicate platforms accepted with a warning; push refuses them" {
    local amd64 other warning
    amd64=$(digest_of docker.io/demo/busybox:amd64)
    other=$(digest_of docker.io/demo/other:amd64)
    warning="gantry: warning: manifest list 'demo/busybox:multi': duplicate platform 'linux/amd64': $amd64 and $other (fix it with 'gantry manifest annotate' or 'remove'; push refuses it without --allow-duplicates)"
    run --separate-stderr "$GANTRY" manifest add "$LIST" demo/other:amd64
    [ "$status" -eq 0 ]
    [ "$stderr" = "$warning" ]
    [ "$output" = "$(digest_of docker.io/demo/busybox:multi)" ]
    run "$GANTRY" manifest inspect --format '{{.Platform}}' "$LIST"
    [ "$output" = "linux/amd64
linux/arm64
linux/amd64" ]
    # push refuses the list before any request (no registry listens on
    # port 9), naming the platform and both digests; nothing changes.
    state_before=$(store_state)
    refused 1 "push '$LIST': duplicate platform 'linux/amd64': $amd64 and $other (use --allow-duplicates to keep both)" \
        manifest push "$LIST" 127.0.0.1:9/demo/busybox:multi
    # With --allow-duplicates it goes on to the (absent) registry.
    run --separate-stderr "$GANTRY" manifest push --allow-duplicates "$LIST" 127.0.0.1:9/demo/busybox:multi
    [ "$status" -eq 1 ]
    [[ "$stderr" != *"duplicate platform"* ]]
    [[ "$stderr" == *"127.0.0.1:9"* ]]
    # create warns the same way; --allow-duplicates silences the warning.
    run --separate-stderr "$GANTRY" manifest create demo/new:1 demo/busybox:amd64 demo/other:amd64
    [ "$status" -eq 0 ]
    [ "$stderr" = "${warning/demo\/busybox:multi/demo/new:1}" ]
    run --separate-stderr "$GANTRY" manifest create --allow-duplicates demo/new:2 demo/busybox:amd64 demo/other:amd64
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "$(digest_of docker.io/demo/new:1)" ]
    # No warning when the new entry's platform is not in the list yet.
    run --separate-stderr "$GANTRY" manifest add "$LIST" demo/busybox:armhf
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
}

@test "manifest remove: a platform or digest not in the list" {
    refused 1 "no entry 'linux/s390x' in manifest list 'demo/busybox:multi'" \
        manifest remove "$LIST" linux/s390x
    refused 1 "invalid digest 'sha256:12': invalid digest length for sha256: got 2 hex characters, want 64" \
        manifest remove "$LIST" sha256:12
}

@test "manifest: usage errors exit 2" {
    refused 2 "'manifest create' needs LIST and at least one REF" manifest create "$LIST"
    refused 2 "invalid --format 'v1': use oci or docker" manifest create --format v1 a b
    refused 2 "--platform and --no-flatten cannot be combined" \
        manifest create --no-flatten --platform linux/arm64 demo/new:1 "$LIST"
    refused 2 "--platform and --no-flatten cannot be combined" \
        manifest add --no-flatten --platform linux/arm64 demo/new:1 "$LIST"
    refused 2 "nothing to change: give --os, --arch, --variant, --os-version, --os-features or --annotation" \
        manifest annotate "$LIST" demo/busybox:amd64
    refused 2 "unknown option '--bogus'" manifest inspect --bogus "$LIST"
    refused 2 "--raw, --verbose and --format cannot be combined" manifest inspect --raw -v "$LIST"
    refused 2 "'frob' is not a manifest command" manifest frob
    run "$GANTRY" manifest create --help
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Usage: gantry manifest create [OPTIONS] LIST REF..." ]]
}
