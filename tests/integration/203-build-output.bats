#!/usr/bin/env bats
# gantry build outputs: --output type=oci|docker|local (read back by skopeo
# and file), dest=- on stdout, bad specs refused before building,
# --metadata-file, and the build context read from stdin (a tar, plain or
# compressed, or a Dockerfile alone), with archive entries that try to leave
# the temporary context refused.

bats_require_minimum_version 1.5.0

load helpers

setup_file() {
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
}

setup() {
    copy_file_store
    CTX=$BATS_TEST_TMPDIR/ctx
    make_context "$CTX"
    cd "$BATS_TEST_TMPDIR"
}

# make_context DIR: the three busybox binaries (named by TARGETARCH) and the Dockerfile.
make_context() {
    mkdir -p "$1"
    cp "$GANTRY_FIXTURES/busybox-amd64/rootfs/bin/busybox" "$1/busybox-amd64"
    cp "$GANTRY_FIXTURES/busybox-arm64/rootfs/bin/busybox" "$1/busybox-arm64"
    cp "$GANTRY_FIXTURES/busybox-armhf/rootfs/bin/busybox" "$1/busybox-arm"
    cat >"$1/Dockerfile" <<'DF'
FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS tools
ARG TARGETARCH
WORKDIR /out
COPY busybox-${TARGETARCH} /out/busybox

FROM scratch
COPY --from=tools /out/busybox /bin/busybox
ENTRYPOINT ["/bin/busybox"]
DF
}

PLATFORMS=linux/amd64,linux/arm64,linux/arm/v7

# machine_is FILE ARCH: FILE is an ELF binary for ARCH (amd64, arm64, arm).
machine_is() {
    local m
    m=$(file -b "$1")
    case $2 in
    amd64) [[ $m == *x86-64* ]] ;;
    arm64) [[ $m == *aarch64* ]] ;;
    arm) [[ $m == *"32-bit"*ARM* ]] ;;
    *) return 1 ;;
    esac
}

@test "build -o type=oci: an OCI archive of every platform, read back by skopeo" {
    command -v skopeo || skip "skopeo not installed"
    refs_before=$(jq -c . "$GANTRY_ROOT/index.json")
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -o type=oci,dest=app.tar "$CTX"
    [ "$status" -eq 0 ]
    idx=$output
    run skopeo inspect --raw oci-archive:app.tar
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r '.manifests | length')" -eq 3 ]
    [ "sha256:$(echo -n "$output" | sha256sum | cut -d' ' -f1)" = "$idx" ]
    for a in amd64 arm64 arm; do
        run skopeo inspect --override-arch "$a" oci-archive:app.tar
        [ "$status" -eq 0 ]
        [ "$(echo "$output" | jq -r .Architecture)" = "$a" ]
    done
    # Without -t the archive names nothing and the store's names are as before.
    [ "$(tar -xOf app.tar index.json | jq -r '.manifests[0].annotations // {} | length')" -eq 0 ]
    [ "$(jq -c . "$GANTRY_ROOT/index.json")" = "$refs_before" ]
}

@test "build -o type=oci with -t: the names are set in the store and carried in the archive" {
    run --separate-stderr "$GANTRY" build -t demo/app:1 --platform "$PLATFORMS" -o type=oci,dest=app.tar "$CTX"
    [ "$status" -eq 0 ]
    [ "$(digest_of docker.io/demo/app:1)" = "$output" ]
    [ "$(tar -xOf app.tar index.json | jq -r '.manifests[0].annotations["io.containerd.image.name"]')" = docker.io/demo/app:1 ]
    # gantry load reads it back under that name.
    export GANTRY_ROOT=$BATS_TEST_TMPDIR/other
    run "$GANTRY" load -i app.tar
    [ "$status" -eq 0 ]
    [ "$(digest_of docker.io/demo/app:1)" = "$(tar -xOf app.tar index.json | jq -r '.manifests[0].digest')" ]
}

@test "build -o type=docker: one platform as a docker archive, to a file or to stdout" {
    command -v skopeo || skip "skopeo not installed"
    run --separate-stderr "$GANTRY" build -t demo/app:d --platform linux/arm64 -o type=docker,dest=d.tar "$CTX"
    [ "$status" -eq 0 ]
    id=$output
    run skopeo inspect docker-archive:d.tar
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .Architecture)" = arm64 ]
    [ "$(tar -xOf d.tar manifest.json | jq -r '.[0].RepoTags[0]')" = demo/app:d ]
    [ "$(tar -xOf d.tar manifest.json | jq -r '.[0].Config')" = "${id#sha256:}.json" ]
    # dest=-: the archive alone on stdout, the image id on stderr.
    "$GANTRY" build -q -o type=docker,dest=- "$CTX" >s.tar 2>s.err
    run skopeo inspect docker-archive:s.tar
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .Architecture)" = amd64 ]
    grep -q '^sha256:' s.err
}

@test "build -o without -t: saved by descriptor, index.json untouched while the archive is written" {
    command -v skopeo || skip "skopeo not installed"
    refs_before=$(jq -c . "$GANTRY_ROOT/index.json")
    # The reader takes one byte, then looks at index.json while the build is
    # blocked writing the rest of the archive (a layer is far larger than a
    # pipe's buffer), then reads the rest.
    "$GANTRY" build -q --platform "$PLATFORMS" -o type=oci,dest=- "$CTX" 2>id.txt |
        { head -c 1; jq -c . "$GANTRY_ROOT/index.json" >during.json; cat; } >s.tar
    diff <(echo "$refs_before") during.json # shows what changed, if anything
    [ "$(jq -c . "$GANTRY_ROOT/index.json")" = "$refs_before" ]
    run skopeo inspect --raw oci-archive:s.tar
    [ "$status" -eq 0 ]
    [ "sha256:$(echo -n "$output" | sha256sum | cut -d' ' -f1)" = "$(tail -n1 id.txt)" ]
    [ "$(tar -xOf s.tar index.json | jq -r '.manifests[0].annotations // {} | length')" -eq 0 ]
    # type=docker to a file: no RepoTags, no repositories, skopeo reads it.
    run --separate-stderr "$GANTRY" build --platform linux/arm64 -o type=docker,dest=d.tar "$CTX"
    [ "$status" -eq 0 ]
    [ "$(tar -xOf d.tar manifest.json | jq -r '.[0].RepoTags // [] | length')" -eq 0 ]
    [ "$(tar -xOf d.tar manifest.json | jq -r '.[0].Config')" = "${output#sha256:}.json" ]
    [ "$(tar -xOf d.tar repositories | jq -c .)" = "{}" ]
    run skopeo inspect docker-archive:d.tar
    [ "$status" -eq 0 ]
    [ "$(echo "$output" | jq -r .Architecture)" = arm64 ]
    [ "$(jq -c . "$GANTRY_ROOT/index.json")" = "$refs_before" ]
    ! grep -rq gantry-build-output "$GANTRY_ROOT/index.json"
}

@test "build -o with two -t: one archive entry per name" {
    run --separate-stderr "$GANTRY" build -t demo/two:a -t demo/two:b -o type=oci,dest=two.tar "$CTX"
    [ "$status" -eq 0 ]
    [ "$(tar -xOf two.tar index.json | jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(",")')" = a,b ]
    [ "$(tar -xOf two.tar index.json | jq -r '[.manifests[].digest] | unique | length')" -eq 1 ]
}

@test "build -o type=local: the root filesystem, one directory per platform for several" {
    run --separate-stderr "$GANTRY" build -o type=local,dest=one "$CTX"
    [ "$status" -eq 0 ]
    [ "$(cd one && find . | sort | tr '\n' ' ')" = ". ./bin ./bin/busybox " ]
    machine_is one/bin/busybox amd64
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -o type=local,dest=many/out "$CTX"
    [ "$status" -eq 0 ]
    [ "$(ls many/out | tr '\n' ' ')" = "linux_amd64 linux_arm64 linux_arm_v7 " ]
    machine_is many/out/linux_amd64/bin/busybox amd64
    machine_is many/out/linux_arm64/bin/busybox arm64
    machine_is many/out/linux_arm_v7/bin/busybox arm
    [ -x many/out/linux_arm_v7/bin/busybox ]
    # A bare value is a local destination, as buildx takes it.
    run --separate-stderr "$GANTRY" build -o bare "$CTX"
    [ "$status" -eq 0 ]
    machine_is bare/bin/busybox amd64
}

@test "build -o: bad specs fail with one line before anything is built" {
    before=$(all_blobs)
    run --separate-stderr "$GANTRY" build -o type=nope,dest=x "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: invalid --output 'type=nope,dest=x': unknown type 'nope' (want image, registry, oci, docker or local)" ]
    run --separate-stderr "$GANTRY" build -o type=oci "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: invalid --output 'type=oci': type=oci needs dest=PATH" ]
    run --separate-stderr "$GANTRY" build --output type=local "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: invalid --output 'type=local': type=local needs dest=PATH" ]
    run --separate-stderr "$GANTRY" build -o type=oci,dest=a,colour=red "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: invalid --output 'type=oci,dest=a,colour=red': unknown key 'colour' (want type, dest or push)" ]
    run --separate-stderr "$GANTRY" build -o type=local,dest=- "$CTX"
    [ "$status" -eq 2 ]
    [[ "$stderr" == *"type=local writes a directory, not stdout" ]]
    run --separate-stderr "$GANTRY" build --platform linux/amd64,linux/arm64 -o type=docker,dest=d.tar "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: type=docker holds one platform, not 2: use type=oci for a multi-platform archive" ]
    run --separate-stderr "$GANTRY" build --push -o type=local,dest=x "$CTX"
    [ "$status" -eq 2 ]
    [ "$stderr" = "gantry: --push cannot be combined with --output 'type=local,dest=x'" ]
    [ "$(all_blobs)" = "$before" ]
    [ ! -e d.tar ] && [ ! -e x ]
}

@test "build --metadata-file: buildx's keys, read with jq" {
    run --separate-stderr "$GANTRY" build -t demo/m:1 -t demo/m:2 --metadata-file meta.json "$CTX"
    [ "$status" -eq 0 ]
    cfg=$output
    man=$(digest_of docker.io/demo/m:1)
    [ "$(jq -r '."containerimage.config.digest"' meta.json)" = "$cfg" ]
    [ "$(jq -r '."containerimage.digest"' meta.json)" = "$man" ]
    [ "$(jq -r '."containerimage.descriptor".digest' meta.json)" = "$man" ]
    [ "$(jq -r '."containerimage.descriptor".mediaType' meta.json)" = "$MT_MANIFEST" ]
    [ "$(jq -r '."containerimage.descriptor".size' meta.json)" -eq "$(stat -c %s "$(blob "$man")")" ]
    [ "$(jq -r '."image.name"' meta.json)" = docker.io/demo/m:1,docker.io/demo/m:2 ]
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" --metadata-file meta.json "$CTX"
    [ "$status" -eq 0 ]
    [ "$(jq -r '."containerimage.digest"' meta.json)" = "$output" ]
    [ "$(jq -r '."containerimage.descriptor".mediaType' meta.json)" = "$MT_INDEX" ]
    [ "$(jq -r 'has("containerimage.config.digest"), has("image.name")' meta.json | tr '\n' ' ')" = "false false " ]
}

@test "build -: a tar context on stdin (plain, gzip, zstd) builds as the directory does" {
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
    export SOURCE_DATE_EPOCH=1700000000
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" "$CTX"
    [ "$status" -eq 0 ]
    want=$output
    tar -C "$CTX" -cf ctx.tar .
    gzip -k ctx.tar
    zstd -q ctx.tar
    for f in ctx.tar ctx.tar.gz ctx.tar.zst; do
        run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -t "demo/stdin:${f##*.}" - <"$f"
        [ "$status" -eq 0 ]
        [ "$output" = "$want" ]
    done
    # -f names a file of the context read from stdin.
    mv "$CTX/Dockerfile" "$CTX/Build.df"
    tar -C "$CTX" -cf ctx2.tar .
    run --separate-stderr "$GANTRY" build --platform "$PLATFORMS" -f Build.df - <ctx2.tar
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
    # The temporary context is gone.
    [ -z "$(ls -A "$TMPDIR")" ]
}

@test "build -: a Dockerfile on stdin has an empty context" {
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR"
    run --separate-stderr "$GANTRY" build --platform linux/arm64 -t demo/df:1 - <<'DF'
FROM demo/busybox:arm64
LABEL from=stdin
DF
    [ "$status" -eq 0 ]
    [ "$(jq -r '.config.Labels.from' "$(blob "$output")")" = stdin ]
    [ "$(jq -r .architecture "$(blob "$output")")" = arm64 ]
    run --separate-stderr "$GANTRY" build - < <(printf 'FROM scratch\nCOPY Dockerfile /x\n')
    [ "$status" -eq 1 ]
    [ "${stderr_lines[-1]}" = "gantry: Dockerfile:2: COPY failed: 'Dockerfile' not found in build context" ]
    [ -z "$(ls -A "$TMPDIR")" ]
}

@test "build -: archive entries cannot leave the temporary context" {
    export TMPDIR=$BATS_TEST_TMPDIR/tmp
    mkdir -p "$TMPDIR" outside
    echo keep >target
    TARGET=$PWD/target python3 - <<'PY'
import io, os, tarfile
def add(t, name, data=b"x", link=None, kind=tarfile.REGTYPE):
    i = tarfile.TarInfo(name)
    i.type = kind
    if link:
        i.linkname = link
    else:
        i.size = len(data)
    t.addfile(i, None if link else io.BytesIO(data))
with tarfile.open("dotdot.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "Dockerfile", b"FROM scratch\n")
    add(t, "../../outside/evil")
with tarfile.open("symlink.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "Dockerfile", b"FROM scratch\n")
    add(t, "up", link="../../outside", kind=tarfile.SYMTYPE)
    add(t, "up/evil")
with tarfile.open("abs.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "Dockerfile", b"FROM scratch\n")
    add(t, "sneaky", link=os.environ["TARGET"], kind=tarfile.SYMTYPE)
    add(t, "sneaky", b"overwritten")
PY
    run --separate-stderr "$GANTRY" build - <dotdot.tar
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: build context from stdin: entry '../../outside/evil' leaves the context" ]
    run --separate-stderr "$GANTRY" build - <symlink.tar
    [ "$status" -eq 1 ]
    [[ "$stderr" == "gantry: build context from stdin: 'up' is not a directory"* ]]
    [ -z "$(ls -A outside)" ]
    # A file replacing a symbolic link replaces the link, not its target.
    run --separate-stderr "$GANTRY" build - <abs.tar
    [ "$status" -eq 0 ]
    [ "$(cat target)" = keep ]
    [ -z "$(ls -A "$TMPDIR")" ]
}
