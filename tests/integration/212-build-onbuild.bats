#!/usr/bin/env bats
# gantry build runs the ONBUILD triggers of a stage's base (an image, or an
# earlier stage) right after FROM, in order, as if written there; the new
# image does not inherit them. A RUN trigger fails as a RUN line does,
# naming the trigger; triggers another tool wrote are checked by the
# Dockerfile parser (no ONBUILD ONBUILD, FROM, MAINTAINER).

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    BASE=$BATS_TEST_TMPDIR/base
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$BASE" "$CTX"
    echo hello >"$BASE/hello"
    printf 'FROM scratch\nCOPY hello /hello\nONBUILD COPY x /x\nONBUILD ENV A=1\nONBUILD ENV D=${A}x\n' \
        >"$BASE/Dockerfile"
    run --separate-stderr "$GANTRY" build -q -t demo/base:1 "$BASE"
    [ "$status" -eq 0 ]
    echo from-child >"$CTX/x"
}

# config NAME: the image config of NAME (one platform).
config() {
    local m
    m=$(digest_of "$1")
    cat "$(blob "$(jq -r .config.digest "$(blob "$m")")")"
}

# layer_file NAME N PATH: the contents of PATH in layer N of NAME.
layer_file() {
    local m
    m=$(digest_of "$1")
    tar -xzOf "$(blob "$(jq -r ".layers[$2].digest" "$(blob "$m")")")" "$3"
}

# build_child DOCKERFILE-TEXT [OPTION...]: build CTX as demo/child:1.
build_child() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    shift
    run --separate-stderr "$GANTRY" build "$@" -t demo/child:1 "$CTX"
    echo "$stderr"
}

# fail_line: the one error line of $stderr (with the step lines before it).
fail_line() {
    [ "$(grep -c '^gantry: ' <<<"$stderr")" -eq 1 ] && tail -n1 <<<"$stderr"
}

# with_onbuild NAME JSON: store NAME, demo/base:1 with its OnBuild set to JSON.
with_onbuild() {
    local m cfg="$BATS_TEST_TMPDIR/cfg.json" man="$BATS_TEST_TMPDIR/man.json" c
    m=$(digest_of docker.io/demo/base:1)
    config docker.io/demo/base:1 | jq -c --argjson o "$2" '.config.OnBuild = $o' >"$cfg"
    c=$(put_blob "$cfg")
    jq -c --arg c "$c" --argjson s "$(stat -c %s "$cfg")" '.config.digest = $c | .config.size = $s' \
        "$(blob "$m")" >"$man"
    add_ref "$1" "$MT_MANIFEST" "$man" >/dev/null
}

@test "build onbuild: the base image's triggers run after FROM, in order, and are not inherited" {
    [ "$(config docker.io/demo/base:1 | jq -c .config.OnBuild)" = '["COPY x /x","ENV A=1","ENV D=${A}x"]' ]
    build_child 'FROM demo/base:1\nENV B=2\n' --progress plain
    [ "$status" -eq 0 ]
    grep -Eq '^#[0-9]+ \[linux/amd64 1/1\] FROM demo/base:1$' <<<"$stderr"
    grep -Eq '^#[0-9]+ \[linux/amd64 2/2\] ONBUILD COPY x /x$' <<<"$stderr"
    cfg=$(config docker.io/demo/child:1)
    [ "$(jq -c .config.OnBuild <<<"$cfg")" = null ]
    [ "$(jq -c .config.Env <<<"$cfg")" = \
        '["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","A=1","D=1x","B=2"]' ]
    # the base's layer, then the trigger's COPY
    [ "$(jq '.rootfs.diff_ids | length' <<<"$cfg")" -eq 2 ]
    [ "$(layer_file docker.io/demo/child:1 0 hello)" = hello ]
    [ "$(layer_file docker.io/demo/child:1 1 x)" = from-child ]
    [ "$(jq -r '.history[-4:][].created_by' <<<"$cfg" | tr '\n' '|')" = 'COPY x /x|ENV A=1|ENV D=${A}x|ENV B=2|' ]
    # a grandchild runs nothing: the child has no triggers left
    rm "$CTX/x"
    printf 'FROM demo/child:1\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress plain -t demo/grand:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    ! grep -q ONBUILD <<<"$stderr"
    [ "$(config docker.io/demo/grand:1 | jq '.rootfs.diff_ids | length')" -eq 2 ]
}

@test "build onbuild: an earlier stage's ONBUILD lines run in the stages built on it" {
    build_child 'FROM demo/base:1 AS b\nONBUILD ENV C=3\nONBUILD COPY x /y\nFROM b\nENV E=4\n'
    [ "$status" -eq 0 ]
    cfg=$(config docker.io/demo/child:1)
    [ "$(jq -c .config.OnBuild <<<"$cfg")" = null ]
    # stage b ran the image's triggers (not kept), the last stage b's own
    [ "$(jq -c '.config.Env[1:]' <<<"$cfg")" = '["A=1","D=1x","C=3","E=4"]' ]
    [ "$(jq '.rootfs.diff_ids | length' <<<"$cfg")" -eq 3 ]
    [ "$(layer_file docker.io/demo/child:1 2 y)" = from-child ]
    # stage b alone keeps its own triggers for whoever builds on it
    build_child 'FROM demo/base:1 AS b\nONBUILD ENV C=3\nFROM b\n' --target b
    [ "$status" -eq 0 ]
    [ "$(config docker.io/demo/child:1 | jq -c .config.OnBuild)" = '["ENV C=3"]' ]
}

@test "build onbuild: a failing trigger is named, with the FROM line" {
    rm "$CTX/x"
    build_child '# a comment\nFROM demo/base:1\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:2: ONBUILD trigger 1 of 'demo/base:1': COPY failed: 'x' not found in build context" ]
    [ -z "$(ref_field docker.io/demo/child:1 .digest)" ]
}

@test "build onbuild: a RUN trigger is not supported yet, as RUN" {
    printf 'FROM demo/base:1\nONBUILD RUN make\n' >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build -q -t demo/runbase:1 "$CTX"
    [ "$status" -eq 0 ]
    build_child 'FROM demo/runbase:1\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:1: ONBUILD trigger 1 of 'demo/runbase:1': RUN is not supported yet (it comes with the RUN issue)" ]
}

@test "build onbuild: ONBUILD ONBUILD, FROM and MAINTAINER are refused in the Dockerfile" {
    for t in 'ONBUILD ENV A=1' 'FROM scratch' 'MAINTAINER me'; do
        build_child "FROM scratch\nONBUILD $t\n"
        [ "$status" -eq 1 ]
        grep -q '^gantry: Dockerfile:2: .*ONBUILD' <<<"$stderr"
    done
}

@test "build onbuild: triggers another tool wrote are checked by the parser" {
    with_onbuild docker.io/demo/hand:1 '["ENV A=1", "ONBUILD ENV B=2"]'
    build_child 'FROM demo/hand:1\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:1: ONBUILD trigger 2 of 'demo/hand:1': chaining ONBUILD via \`ONBUILD ONBUILD\` isn't allowed" ]
    with_onbuild docker.io/demo/hand:2 '["FROM scratch"]'
    build_child 'FROM demo/hand:2\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:1: ONBUILD trigger 1 of 'demo/hand:2': FROM isn't allowed as an ONBUILD trigger" ]
    with_onbuild docker.io/demo/hand:3 '["MAINTAINER me"]'
    build_child 'FROM demo/hand:3\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:1: ONBUILD trigger 1 of 'demo/hand:3': MAINTAINER isn't allowed as an ONBUILD trigger" ]
    with_onbuild docker.io/demo/hand:4 '["COPPY x /x"]'
    build_child 'FROM demo/hand:4\n'
    [ "$status" -eq 1 ]
    grep -q "^gantry: Dockerfile:1: ONBUILD trigger 1 of 'demo/hand:4': unknown instruction: COPPY" <<<"$stderr"
    # a well-formed one runs
    with_onbuild docker.io/demo/hand:5 '["LABEL k=v", "USER 7"]'
    build_child 'FROM demo/hand:5\n'
    [ "$status" -eq 0 ]
    [ "$(config docker.io/demo/child:1 | jq -c '[.config.Labels, .config.User]')" = '[{"k":"v"},"7"]' ]
}

@test "build onbuild: COPY --from in a trigger is refused for now" {
    with_onbuild docker.io/demo/hand:6 '["COPY --from=other /a /a"]'
    build_child 'FROM demo/hand:6\n'
    [ "$status" -eq 1 ]
    [ "$(fail_line)" = "gantry: Dockerfile:1: ONBUILD trigger 1 of 'demo/hand:6': COPY --from is not supported in ONBUILD triggers yet" ]
}
