#!/usr/bin/env bats
# gantry platform normalize|match|host: containerd's platform rules and the
# bad inputs of bad-inputs.md section 4.2. The host is pinned with
# GANTRY_HOST_PLATFORM so the results do not depend on the machine.

bats_require_minimum_version 1.5.0

setup() {
    : "${GANTRY:?GANTRY must point at the gantry binary}"
    export GANTRY_HOST_PLATFORM=linux/amd64
}

expect_invalid() {
    run --separate-stderr "$GANTRY" platform normalize "$1"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "${#stderr_lines[@]}" -eq 1 ]
    [[ "$stderr" == "gantry: invalid platform '$1': "* ]]
}

@test "platform normalize: P2 aliases" {
    run --separate-stderr "$GANTRY" platform normalize Aarch64 x86_64 i386 armel Linux/x86_64 \
        macOS armhf linux/arm64/v8 linux/arm/7 linux/arm64/9.0 linux/amd64/v1
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
    [ "$output" = "linux/arm64
linux/amd64
linux/386
linux/arm/v6
linux/amd64
darwin/amd64
linux/arm/v7
linux/arm64
linux/arm/v7
linux/arm64/v9
linux/amd64" ]
}

@test "platform normalize: os version and features" {
    run "$GANTRY" platform normalize "windows(10.0.17763)" "linux(+simd+gpu+gpu)/amd64" \
        "linux(+a%2Bb)/arm64"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "windows(10.0.17763)/amd64" ]
    [ "${lines[1]}" = "linux(+gpu+simd)/amd64" ]
    [ "${lines[2]}" = "linux(+a%2Bb)/arm64" ]
}

@test "platform normalize: a lone OS or architecture takes the rest from the host" {
    GANTRY_HOST_PLATFORM=freebsd/arm64 run "$GANTRY" platform normalize linux riscv64
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "linux/arm64" ]
    [ "${lines[1]}" = "freebsd/riscv64" ]
}

@test "platform normalize: P1 invalid specifiers" {
    expect_invalid ""
    expect_invalid /linux/arm
    expect_invalid linux/arm/
    expect_invalid "linux /arm"
    expect_invalid "linux/&arm"
    expect_invalid linux/arm/foo/bar
    expect_invalid "*"
    expect_invalid nosuchthing
}

@test "platform normalize: the message says what is wrong" {
    run --separate-stderr "$GANTRY" platform normalize linux/amd64 linux/arm/foo/bar
    [ "$status" -eq 1 ]
    [ "$output" = "linux/amd64" ]
    [ "$stderr" = "gantry: invalid platform 'linux/arm/foo/bar': too many components: want os, arch, os/arch or os/arch/variant" ]
    run --separate-stderr "$GANTRY" platform normalize "*"
    [ "$stderr" = "gantry: invalid platform '*': wildcards are not supported" ]
}

@test "platform match: arm64 falls back to 32-bit arm, best first, as written" {
    run --separate-stderr "$GANTRY" platform match linux/arm64 linux/amd64 linux/arm/v6 \
        linux/arm/v7 linux/aarch64/v8 linux/386
    [ "$status" -eq 0 ]
    [ "$output" = "linux/aarch64/v8
linux/arm/v7
linux/arm/v6" ]
}

@test "platform match: amd64 levels then 386" {
    run "$GANTRY" platform match linux/amd64/v3 linux/386 linux/amd64 linux/amd64/v4 \
        linux/amd64/v2 linux/amd64/v3
    [ "$status" -eq 0 ]
    [ "$output" = "linux/amd64/v3
linux/amd64/v2
linux/amd64
linux/386" ]
}

@test "platform match: arm never steps up nor below v5" {
    run "$GANTRY" platform match linux/arm/v6 linux/arm/v7 linux/arm/v5 linux/arm/v6
    [ "$status" -eq 0 ]
    [ "$output" = "linux/arm/v6
linux/arm/v5" ]
}

@test "platform match --strict: aliases only" {
    run "$GANTRY" platform match --strict linux/amd64 linux/386 linux/x86_64
    [ "$status" -eq 0 ]
    [ "$output" = "linux/x86_64" ]
    run --separate-stderr "$GANTRY" platform match --strict linux/arm/v7 linux/arm/v6
    [ "$status" -eq 1 ]
    [ -z "$output" ]
}

@test "platform match: P4 no fallback to another architecture" {
    run --separate-stderr "$GANTRY" platform match linux/riscv64 linux/amd64 linux/arm64
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [ "$stderr" = "gantry: no candidate matches platform 'linux/riscv64'; candidates: linux/amd64, linux/arm64" ]
}

@test "platform match: OS features and Windows versions" {
    run "$GANTRY" platform match "linux(+gpu)/amd64" "linux(+gpu+tpu)/amd64" \
        "linux(+gpu)/amd64" linux/amd64
    [ "$status" -eq 0 ]
    [ "$output" = "linux(+gpu)/amd64
linux/amd64" ]
    run "$GANTRY" platform match "windows(10.0.22621)/amd64" "windows(10.0.17763)/amd64" \
        "windows(10.0.20348)/amd64"
    [ "$status" -eq 0 ]
    [ "$output" = "windows(10.0.20348)/amd64" ]
}

@test "platform match: an invalid candidate is an error" {
    run --separate-stderr "$GANTRY" platform match linux/amd64 linux/amd64 "linux/&arm"
    [ "$status" -eq 1 ]
    [ -z "$output" ]
    [[ "$stderr" == "gantry: invalid platform 'linux/&arm': "* ]]
}

@test "platform host: GANTRY_HOST_PLATFORM overrides uname" {
    GANTRY_HOST_PLATFORM=linux/armhf run "$GANTRY" platform host
    [ "$status" -eq 0 ]
    [ "$output" = "linux/arm/v7" ]
    GANTRY_HOST_PLATFORM='linux/*' run --separate-stderr "$GANTRY" platform host
    [ "$status" -eq 1 ]
    [[ "$stderr" == *"GANTRY_HOST_PLATFORM"* ]]
    unset GANTRY_HOST_PLATFORM
    run "$GANTRY" platform host
    [ "$status" -eq 0 ]
    [[ "$output" =~ ^[a-z0-9]+/[a-z0-9_]+(/v[0-9.]+)?$ ]]
}

@test "platform: usage errors exit 2" {
    run "$GANTRY" platform
    [ "$status" -eq 2 ]
    run "$GANTRY" platform match linux/amd64
    [ "$status" -eq 2 ]
    run "$GANTRY" platform host extra
    [ "$status" -eq 2 ]
    run "$GANTRY" platform normalize --strict linux
    [ "$status" -eq 2 ]
    run "$GANTRY" platform frob
    [ "$status" -eq 2 ]
}

@test "platform --help" {
    run "$GANTRY" platform --help
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" == "Usage: gantry platform normalize"* ]]
}
