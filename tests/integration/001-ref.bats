#!/usr/bin/env bats
# gantry ref normalize: Docker reference normalization and the bad inputs
# of bad-inputs.md section 4.1. $GANTRY is the binary under test.

bats_require_minimum_version 1.5.0

F64=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff

setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
}

# expect_invalid INPUT NEEDLE: exit 1, nothing on stdout, one error line
# naming the input.
expect_invalid() {
    run --separate-stderr "$GANTRY" ref normalize "$1"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "gantry: invalid reference '"* ]]
    [[ "$stderr" == *"$2"* ]]
}

@test "ref normalize: official, user, registry and digest references" {
    run --separate-stderr "$GANTRY" ref normalize httpd user/app localhost:5000/a/b:tag \
        "name@sha256:$F64" "name:tag@sha256:$F64" index.docker.io/library/httpd:2
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "${lines[0]}" = "docker.io/library/httpd:latest" ]
    [ "${lines[1]}" = "docker.io/user/app:latest" ]
    [ "${lines[2]}" = "localhost:5000/a/b:tag" ]
    [ "${lines[3]}" = "docker.io/library/name@sha256:$F64" ]
    [ "${lines[4]}" = "docker.io/library/name:tag@sha256:$F64" ]
    [ "${lines[5]}" = "docker.io/library/httpd:2" ]
    [ "${#lines[@]}" -eq 6 ]
}

@test "ref normalize --familiar: Docker's short form" {
    run "$GANTRY" ref normalize --familiar docker.io/library/httpd docker.io/user/app:1 \
        localhost:5000/a:b "busybox@sha256:$F64"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "httpd:latest" ]
    [ "${lines[1]}" = "user/app:1" ]
    [ "${lines[2]}" = "localhost:5000/a:b" ]
    [ "${lines[3]}" = "busybox@sha256:$F64" ]
}

@test "ref normalize: R3 uppercase tags are valid" {
    run "$GANTRY" ref normalize lowercase:Uppercase
    [ "$status" -eq 0 ]
    [ "$output" = "docker.io/library/lowercase:Uppercase" ]
}

@test "ref normalize: IPv6 registry in brackets is valid" {
    run "$GANTRY" ref normalize "[2001:db8::1]:5000/repo:tag"
    [ "$status" -eq 0 ]
    [ "$output" = "[2001:db8::1]:5000/repo:tag" ]
}

@test "ref normalize: R1 uppercase repository" {
    expect_invalid Uppercase:tag "repository name must be lowercase"
    expect_invalid test:5000/Uppercase/lowercase:tag "repository name must be lowercase"
}

@test "ref normalize: R4 repository longer than 255 characters" {
    expect_invalid "domain/$(printf 'a%.0s' {1..256}):tag" \
        "repository name must not be more than 255 characters"
}

@test "ref normalize: R5 bad tags" {
    expect_invalid "repo:$(printf 'a%.0s' {1..129})" "invalid tag"
    expect_invalid "repo:.tag" "invalid tag"
    expect_invalid "repo:-tag" "invalid tag"
}

@test "ref normalize: R6 empty name" {
    expect_invalid :justtag "invalid reference format"
    expect_invalid "@sha256:$F64" "invalid reference format"
    expect_invalid "" "invalid reference format"
}

@test "ref normalize: R7 R8 R9 bad digests" {
    expect_invalid repo@sha256:ffffffffffffffffffffffffffffffffff "invalid digest length"
    expect_invalid "validname@invaliddigest:$F64" "unsupported digest algorithm"
    expect_invalid "repo@sha256:${F64^^}" "lowercase"
}

@test "ref normalize: R11 IPv6 literals without a path, zone IDs" {
    expect_invalid "[2001:db8::1]:tag" "invalid reference format"
    expect_invalid "[2001:db8::1]" "invalid reference format"
    expect_invalid "[fe80::1%eth0]:5000/repo" "invalid reference format"
}

@test "ref normalize: valid references before an invalid one are printed" {
    run --separate-stderr "$GANTRY" ref normalize alpine "aa/asdf\$\$^/aa" busybox
    [ "$status" -eq 1 ]
    [ "$output" = "docker.io/library/alpine:latest" ]
    [ "$stderr" = "gantry: invalid reference 'aa/asdf\$\$^/aa': invalid reference format: invalid repository name" ]
}

@test "ref: usage errors exit 2" {
    run "$GANTRY" ref
    [ "$status" -eq 2 ]
    run "$GANTRY" ref normalize
    [ "$status" -eq 2 ]
    run "$GANTRY" ref frob x
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown subcommand 'ref frob'"* ]]
    run "$GANTRY" ref normalize --bogus x
    [ "$status" -eq 2 ]
    [[ "$output" == *"unknown option '--bogus'"* ]]
}

@test "ref --help" {
    run --separate-stderr "$GANTRY" ref normalize --help
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Usage: gantry ref normalize"* ]]
    [ -z "$stderr" ]
}
