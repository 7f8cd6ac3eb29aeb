#!/usr/bin/env bats
# gantry build, more instructions: COPY heredocs (expansion, <<- tab
# stripping, several at once, mode 0644), HEALTHCHECK, ONBUILD and SHELL in
# the image config and in `gantry inspect`, COPY --link and --exclude.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir/sub"
    echo a >"$CTX/dir/a.txt"
    echo md >"$CTX/dir/readme.md"
    echo b >"$CTX/dir/sub/b.txt"
    echo bmd >"$CTX/dir/sub/notes.md"
}

json() {
    cat "$(blob "$1")"
}

# build_ok DOCKERFILE-TEXT (printf %b) [TAG]: build; sets MAN and CFG.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    local tag=${2:-demo/i2:1}
    run --separate-stderr "$GANTRY" build -t "$tag" "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of "docker.io/$tag")
    CFG=$(json "$MAN" | jq -r .config.digest)
}

layer_blob() {
    blob "$(json "$MAN" | jq -r ".layers[$1].digest")"
}

# layer_list N: "mode uid/gid path" of layer N.
layer_list() {
    tar -tvf "$(layer_blob "$1")" | awk '{print $1, $2, $6}'
}

@test "build: COPY heredoc writes a 0644 file, expanding variables unless the delimiter is quoted" {
    build_ok 'FROM scratch\nARG WHO=world\nCOPY <<EOF /greeting\nhello $WHO\n"quoted" stays\nEOF\nCOPY <<"EOF" /raw\nhello $WHO\nEOF\n'
    run layer_list 0
    [ "$output" = "-rw-r--r-- 0/0 greeting" ]
    [ "$(tar -xzOf "$(layer_blob 0)" greeting)" = 'hello world
"quoted" stays' ]
    [ "$(tar -xzOf "$(layer_blob 1)" raw)" = 'hello $WHO' ]
    [ "$(json "$CFG" | jq -r '.history[0].created_by')" = "COPY <<EOF /greeting" ]
}

@test "build: COPY <<-EOF strips leading tabs; several heredocs go into a directory by name" {
    build_ok 'FROM scratch\nCOPY <<-EOT <<EOT2 /two/\n\t\tindented\n\tEOT\n\tkept\nEOT2\n'
    run layer_list 0
    [ "$output" = "drwxr-xr-x 0/0 two/
-rw-r--r-- 0/0 two/EOT
-rw-r--r-- 0/0 two/EOT2" ]
    [ "$(tar -xzOf "$(layer_blob 0)" two/EOT)" = "indented" ]
    [ "$(tar -xzOf "$(layer_blob 0)" two/EOT2)" = "$(printf '\tkept')" ]
}

@test "build: COPY heredoc with --chmod and --chown; several heredocs need a directory" {
    build_ok 'FROM scratch\nCOPY --chmod=755 --chown=1:2 <<EOF /run.sh\n#!/bin/sh\nEOF\n'
    run layer_list 0
    [ "$output" = "-rwxr-xr-x 1/2 run.sh" ]
    printf 'FROM scratch\nCOPY <<A <<B /file\na\nA\nb\nB\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet "$CTX"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a /" ]
}

@test "build: HEALTHCHECK, ONBUILD and SHELL land in the image config" {
    build_ok 'FROM scratch\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nHEALTHCHECK --interval=30s --timeout=5s --start-period=1m --start-interval=2s --retries=3 CMD curl -f http://localhost/ || exit 1\nONBUILD COPY . /app\nonbuild   ENV A=b\nCMD echo hi\n'
    c=$(json "$CFG" | jq -c .config)
    [ "$(jq -c .Shell <<<"$c")" = '["/bin/bash","-o","pipefail","-c"]' ]
    [ "$(jq -c .Healthcheck <<<"$c")" = '{"Interval":30000000000,"Retries":3,"StartInterval":2000000000,"StartPeriod":60000000000,"Test":["CMD-SHELL","curl -f http://localhost/ || exit 1"],"Timeout":5000000000}' ]
    [ "$(jq -c .OnBuild <<<"$c")" = '["COPY . /app","ENV A=b"]' ]
    [ "$(jq -c .Cmd <<<"$c")" = '["/bin/bash","-o","pipefail","-c","echo hi"]' ]
}

@test "build: HEALTHCHECK JSON form is CMD, NONE disables; a stage inherits Shell from its base" {
    build_ok 'FROM scratch AS base\nSHELL ["/bin/ash", "-c"]\nHEALTHCHECK CMD ["/bin/check", "-q"]\nFROM base\nCMD run it\n'
    c=$(json "$CFG" | jq -c .config)
    [ "$(jq -c .Healthcheck <<<"$c")" = '{"Test":["CMD","/bin/check","-q"]}' ]
    [ "$(jq -c .Cmd <<<"$c")" = '["/bin/ash","-c","run it"]' ]
    build_ok 'FROM demo/i2:1\nHEALTHCHECK NONE\n' demo/i2:2
    [ "$(json "$CFG" | jq -c .config.Healthcheck)" = '{"Test":["NONE"]}' ]
}

@test "build: gantry inspect shows Healthcheck, OnBuild and Shell in Docker's shape" {
    build_ok 'FROM scratch\nSHELL ["/bin/sh", "-ec"]\nHEALTHCHECK --retries=2 --interval=10s CMD true\nONBUILD COPY x /x\n'
    run --separate-stderr "$GANTRY" inspect demo/i2:1
    [ "$status" -eq 0 ]
    [ "$(jq -c '.[0].Config.Healthcheck' <<<"$output")" = '{"Test":["CMD-SHELL","true"],"Interval":10000000000,"Retries":2}' ]
    [ "$(jq -c '.[0].Config.OnBuild' <<<"$output")" = '["COPY x /x"]' ]
    [ "$(jq -c '.[0].Config.Shell' <<<"$output")" = '["/bin/sh","-ec"]' ]
    build_ok 'FROM scratch\nCOPY dir/a.txt /\n' demo/plain:1
    run --separate-stderr "$GANTRY" inspect demo/plain:1
    [ "$(jq -c '.[0].Config | [has("Healthcheck"), .OnBuild, has("Shell")]' <<<"$output")" = '[false,null,false]' ]
}

@test "build: COPY --link is accepted and makes the same layer as without it" {
    build_ok 'FROM scratch\nCOPY --link dir/ /d/\nCOPY dir/ /d/\n'
    [ "$(json "$MAN" | jq -r '.layers[0].digest')" = "$(json "$MAN" | jq -r '.layers[1].digest')" ]
}

@test "build: COPY and ADD --exclude drop matching paths relative to the source" {
    build_ok 'FROM scratch\nCOPY --exclude=*.md dir/ /d/\nCOPY --exclude=**/*.md --exclude=sub/b.txt dir /e/\nADD --exclude=a.txt dir/a.txt dir/readme.md /f/\n'
    run layer_list 0
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "d/ d/a.txt d/sub/ d/sub/b.txt d/sub/notes.md " ]
    run layer_list 1
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "e/ e/a.txt e/sub/ " ]
    run layer_list 2
    [ "$(echo "$output" | awk '{print $3}' | tr '\n' ' ')" = "f/ f/readme.md " ]
}
