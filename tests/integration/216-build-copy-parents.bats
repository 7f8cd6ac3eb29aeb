#!/usr/bin/env bats
# gantry build: COPY --parents (Dockerfile reference): sources keep their
# parent directories under the destination, a "/./" pivot cuts them, "**"
# matches any number of directories, for the context and --from stages;
# paths that leave the context or the pivot stay refused.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/x/y" "$CTX/z/y" "$CTX/src/a/b" "$CTX/deep/1/2"
    echo xa >"$CTX/x/y/a.txt"
    echo xb >"$CTX/x/y/b.txt"
    echo xm >"$CTX/x/y/m.md"
    echo za >"$CTX/z/y/a.txt"
    echo ab >"$CTX/src/a/b/c.txt"
    echo d2 >"$CTX/deep/1/2/d.txt"
    echo d0 >"$CTX/deep/top.txt"
    echo dm >"$CTX/deep/1/no.md"
    chmod 0750 "$CTX/x/y"
    ln -s ../../.. "$CTX/x/up"
}

# build_ok DOCKERFILE-TEXT: build as demo/p:1; sets MAN.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/p:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of docker.io/demo/p:1)
}

build_fails() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/bad:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: $2" ]
}

# layer N: "mode path" of each entry of layer N.
layer() {
    tar -tvzf "$(blob "$(jq -r ".layers[$1].digest" "$(blob "$MAN")")")" | awk '{print $1, $6}'
}

layer_file() {
    tar -xzOf "$(blob "$(jq -r ".layers[$1].digest" "$(blob "$MAN")")")" "$2"
}

@test "copy --parents: a glob keeps the parent directories, with their modes" {
    build_ok "FROM scratch\nCOPY --parents ./x/y/*.txt ./z/y/a.txt /dst/\nCOPY ./x/y/*.txt /flat/\n"
    run layer 0
    [ "$output" = "drwxr-xr-x dst/
drwxr-xr-x dst/x/
drwxr-x--- dst/x/y/
-rw-r--r-- dst/x/y/a.txt
-rw-r--r-- dst/x/y/b.txt
drwxr-xr-x dst/z/
drwxr-xr-x dst/z/y/
-rw-r--r-- dst/z/y/a.txt" ]
    [ "$(layer_file 0 dst/z/y/a.txt)" = za ]
    # Without --parents the same glob flattens.
    run layer 1
    [ "$output" = "drwxr-xr-x flat/
-rw-r--r-- flat/a.txt
-rw-r--r-- flat/b.txt" ]
}

@test "copy --parents: the /./ pivot keeps only what follows it" {
    build_ok "FROM scratch\nCOPY --parents ./src/./a/b/c.txt /dst/\nCOPY --parents x/./y /d2\n"
    run layer 0
    [ "$output" = "drwxr-xr-x dst/
drwxr-xr-x dst/a/
drwxr-xr-x dst/a/b/
-rw-r--r-- dst/a/b/c.txt" ]
    [ "$(layer_file 0 dst/a/b/c.txt)" = ab ]
    # A directory source: itself under the destination (even without a
    # trailing '/'), then its contents.
    run layer 1
    [ "$output" = "drwxr-xr-x d2/
drwxr-x--- d2/y/
-rw-r--r-- d2/y/a.txt
-rw-r--r-- d2/y/b.txt
-rw-r--r-- d2/y/m.md" ]
}

@test "copy --parents: ** matches any number of directories, also none" {
    build_ok "FROM scratch\nCOPY --parents deep/**/*.txt /p/\nCOPY deep/**/*.txt /flat/\n"
    run layer 0
    [ "$output" = "drwxr-xr-x p/
drwxr-xr-x p/deep/
drwxr-xr-x p/deep/1/
drwxr-xr-x p/deep/1/2/
-rw-r--r-- p/deep/1/2/d.txt
-rw-r--r-- p/deep/top.txt" ]
    run layer 1
    [ "$output" = "drwxr-xr-x flat/
-rw-r--r-- flat/d.txt
-rw-r--r-- flat/top.txt" ]
}

@test "copy --parents: from a stage of the Dockerfile" {
    build_ok "FROM scratch AS files\nCOPY x /opt/x\nCOPY src /opt/src\nFROM scratch\nCOPY --parents --from=files /opt/./x/y/a.txt /opt/src/./a/**/*.txt /out/\n"
    run layer 0
    [ "$output" = "drwxr-xr-x out/
drwxr-xr-x out/a/
drwxr-xr-x out/a/b/
-rw-r--r-- out/a/b/c.txt
drwxr-xr-x out/x/
drwxr-x--- out/x/y/
-rw-r--r-- out/x/y/a.txt" ]
    [ "$(layer_file 0 out/x/y/a.txt)" = xa ]
}

@test "copy --parents: .dockerignore and --exclude still apply" {
    printf 'x/y/b.txt\n' >"$CTX/.dockerignore"
    build_ok "FROM scratch\nCOPY --parents --exclude=*.md x/y /dst/\nCOPY --parents x/y/*.txt /g/\n"
    run layer 0
    [ "$output" = "drwxr-xr-x dst/
drwxr-xr-x dst/x/
drwxr-x--- dst/x/y/
-rw-r--r-- dst/x/y/a.txt" ]
    run layer 1
    [ "$output" = "drwxr-xr-x g/
drwxr-xr-x g/x/
drwxr-x--- g/x/y/
-rw-r--r-- g/x/y/a.txt" ]
}

@test "copy --parents: paths leaving the context or the pivot are refused" {
    build_fails "FROM scratch\nCOPY --parents ../x /dst/\n" \
        "Dockerfile:2: COPY failed: forbidden path outside the build context: '../x'"
    build_fails "FROM scratch\nCOPY --parents ./x/./../z/y/a.txt /dst/\n" \
        "Dockerfile:2: COPY failed: --parents source leaves its '/./' directory: './x/./../z/y/a.txt'"
    build_fails "FROM scratch\nCOPY --parents ../ctx/./x /dst/\n" \
        "Dockerfile:2: COPY failed: forbidden path outside the build context: '../ctx/./x'"
    build_fails "FROM scratch\nCOPY --parents ./*/./y /dst/\n" \
        "Dockerfile:2: COPY failed: wildcards before the '/./' of --parents are not supported: './*/./y'"
    build_fails "FROM scratch\nCOPY --parents x/nothing*/*.txt /dst/\n" \
        "Dockerfile:2: COPY failed: 'x/nothing*/*.txt' not found in build context"
    # A symlink on the way resolves inside the context, never above it.
    build_fails "FROM scratch\nCOPY --parents x/up/etc/passwd /dst/\n" \
        "Dockerfile:2: COPY failed: 'x/up/etc/passwd' not found in build context"
    build_ok "FROM scratch\nCOPY --parents x/up/x/y/a.txt /dst/\n"
    [ "$(layer_file 0 dst/x/up/x/y/a.txt)" = xa ]
}
