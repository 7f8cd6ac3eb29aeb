#!/usr/bin/env bats
# gantry build: ADD of http(s) URLs (bad-inputs.md D13-D17) against a tiny
# scripted server on 127.0.0.1 (addurl-server.py): naming from the URL path
# or Content-Disposition, files stored as is with mode 0600 and the
# Last-Modified time, --checksum, redirects, 404, git sources refused,
# credentials in URLs redacted everywhere, and the download cache (steps
# keyed by --checksum, conditional requests answered 304), with every
# request the server saw checked in its requests.log.

bats_require_minimum_version 1.5.0

load helpers

# archives: u.tar.gz (a tidy tree), evil.tar.gz (entries leaving the
# archive, an absolute name, a file written through an absolute symlink:
# bad-inputs.md T1-T3), hl.tar (a hard link out of the archive, T5) and
# cut.tar (truncated, T22), written in the current directory.
archives() {
    python3 - <<'PY'
import io, tarfile
def add(t, name, data=b"x", link=None, kind=tarfile.REGTYPE, mode=0o644):
    i = tarfile.TarInfo(name)
    i.type, i.mode, i.mtime = kind, mode, 1700000000
    if link is not None:
        i.linkname = link
    elif kind == tarfile.REGTYPE:
        i.size = len(data)
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE and link is None else None)
with tarfile.open("u.tar.gz", "w:gz", format=tarfile.GNU_FORMAT) as t:
    add(t, "dir", kind=tarfile.DIRTYPE, mode=0o750)
    add(t, "dir/x.txt", b"x\n", mode=0o640)
with tarfile.open("evil.tar.gz", "w:gz", format=tarfile.GNU_FORMAT) as t:
    add(t, "ok.txt", b"ok")
    add(t, "../escape.txt", b"dotdot")
    add(t, "a/../../escape2.txt", b"dotdot2")
    add(t, "/abs.txt", b"abs")
    add(t, "localetc", link="/etc", kind=tarfile.SYMTYPE)
    add(t, "localetc/unbroken", b"through")
with tarfile.open("hl.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "ok.txt", b"ok")
    add(t, "hl", link="../../../etc/passwd", kind=tarfile.LNKTYPE)
with tarfile.open("big.tar", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "ok.txt", b"ok")
    add(t, "big.bin", b"y" * 4096)
open("cut.tar", "wb").write(open("big.tar", "rb").read()[:2048])
PY
}

setup_file() {
    local srv=$BATS_FILE_TMPDIR/srv
    mkdir -p "$srv/files"
    echo hello >"$srv/files/hello.txt"
    touch -d '2021-03-04 05:06:07 UTC' "$srv/files/hello.txt"
    tar -czf "$srv/files/a.tar.gz" -C "$srv/files" hello.txt
    touch -d '2021-03-04 05:06:07 UTC' "$srv/files/a.tar.gz"
    (cd "$srv/files" && archives)
    python3 "$BATS_TEST_DIRNAME/addurl-server.py" "$srv/files" "$srv/port" 3>&- &
    echo $! >"$srv/pid"
    for _ in $(seq 50); do
        [ -s "$srv/port" ] && break
        sleep 0.1
    done
    [ -s "$srv/port" ]
}

teardown_file() {
    kill "$(cat "$BATS_FILE_TMPDIR/srv/pid")" 2>/dev/null || true
}

setup() {
    store_setup
    SRV=$BATS_FILE_TMPDIR/srv
    URL=http://127.0.0.1:$(cat "$SRV/port")
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    echo local >"$CTX/local.txt"
    HELLO_SUM=sha256:$(sha256sum <"$SRV/files/hello.txt" | cut -d' ' -f1)
}

json() {
    cat "$(blob "$1")"
}

# build_ok DOCKERFILE-TEXT [BUILD-OPTION...]: build as demo/u:1 (plain
# progress); sets MAN, CFG and LAYERS (the layer digests: the manifest
# also depends on the build's time), the step lines of stderr in $stderr.
build_ok() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress plain "${@:2}" -t demo/u:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    MAN=$(digest_of docker.io/demo/u:1)
    CFG=$(json "$MAN" | jq -r .config.digest)
    LAYERS=$(json "$MAN" | jq -c '[.layers[].digest]')
}

# build_fails DOCKERFILE-TEXT EXPECTED-STDERR: exit 1, that message, demo/bad:1 not set.
build_fails() {
    printf '%b' "$1" >"$CTX/Dockerfile"
    run --separate-stderr "$GANTRY" build --progress quiet -t demo/bad:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 1 ]
    [ "$stderr" = "gantry: $2" ]
    [ -z "$(digest_of docker.io/demo/bad:1)" ]
}

# layer N: "mode uid/gid size date time path" of layer N, full times in UTC.
layer() {
    TZ=UTC tar -tvf "$(blob "$(json "$MAN" | jq -r ".layers[$1].digest")")" --full-time |
        awk '{print $1, $2, $3, $4, $5, $6}'
}

# layer_file N PATH: the contents of PATH in layer N.
layer_file() {
    tar -xzOf "$(blob "$(json "$MAN" | jq -r ".layers[$1].digest")")" "$2"
}

@test "add url: a directory destination takes the URL's file name, mode 0600, Last-Modified time" {
    build_ok "FROM scratch\nADD $URL/hello.txt /d/\nADD $URL/hello.txt /exact\n"
    run layer 0
    [ "$output" = "drwxr-xr-x 0/0 0 2021-03-04 05:06:07 d/
-rw------- 0/0 6 2021-03-04 05:06:07 d/hello.txt" ]
    [ "$(layer_file 0 d/hello.txt)" = hello ]
    run layer 1
    [ "$output" = "-rw------- 0/0 6 2021-03-04 05:06:07 exact" ]
}

@test "add url: --chmod and --chown apply to the downloaded file" {
    build_ok "FROM scratch\nADD --chmod=644 --chown=10:20 $URL/hello.txt /d/\n"
    run layer 0
    [[ $output == *"-rw-r--r-- 10/20 6 2021-03-04 05:06:07 d/hello.txt"* ]]
}

@test "add url: SOURCE_DATE_EPOCH clamps the Last-Modified time" {
    export SOURCE_DATE_EPOCH=1600000000 # 2020-09-13T12:26:40Z, before Last-Modified
    build_ok "FROM scratch\nADD $URL/hello.txt /d/\n"
    run layer 0
    [[ $output == *"-rw------- 0/0 6 2020-09-13 12:26:40 d/hello.txt"* ]]
}

@test "add url: a Content-Disposition filename is reduced to its base name inside the directory (D13)" {
    build_ok "FROM scratch\nADD $URL/cd/hello.txt /d/\n"
    run layer 0
    [ "$output" = "drwxr-xr-x 0/0 0 2021-03-04 05:06:07 d/
-rw------- 0/0 6 2021-03-04 05:06:07 d/passwd" ]
}

@test "add url: an archive from a URL is stored as a file, not extracted (D14)" {
    build_ok "FROM scratch\nADD $URL/a.tar.gz /d/\n"
    run layer 0
    size=$(stat -c %s "$SRV/files/a.tar.gz")
    [ "$output" = "drwxr-xr-x 0/0 0 2021-03-04 05:06:07 d/
-rw------- 0/0 $size 2021-03-04 05:06:07 d/a.tar.gz" ]
    cmp <(layer_file 0 d/a.tar.gz) "$SRV/files/a.tar.gz"
}

@test "add url: --unpack=true extracts an archive into the destination; other files stay files" {
    build_ok "FROM scratch\nADD --unpack=true $URL/u.tar.gz /d/\nADD --unpack=true $URL/hello.txt /e/\nADD --unpack=false $URL/u.tar.gz /f\nADD --unpack $URL/u.tar.gz /g\n"
    run layer 0
    [ "$output" = "drwxr-xr-x 0/0 0 2023-11-14 22:13:20 d/
drwxr-x--- 0/0 0 2023-11-14 22:13:20 d/dir/
-rw-r----- 0/0 2 2023-11-14 22:13:20 d/dir/x.txt" ]
    [ "$(layer_file 0 d/dir/x.txt)" = x ]
    run layer 1
    [ "$output" = "drwxr-xr-x 0/0 0 2021-03-04 05:06:07 e/
-rw------- 0/0 6 2021-03-04 05:06:07 e/hello.txt" ]
    run layer 2
    [[ $output == "-rw------- 0/0 "*" f" ]]
    cmp <(layer_file 2 f) "$SRV/files/u.tar.gz"
    # A destination without '/' is the directory the archive goes into, as for local archives.
    run layer 3
    [[ $output == *" g/dir/x.txt" ]]
}

@test "add url: --unpack=true of a hostile archive keeps every entry inside the image (T1-T3, T5, T22)" {
    out=$BATS_TEST_TMPDIR/out
    build_ok "FROM scratch\nADD --unpack=true $URL/evil.tar.gz /opt/\n" -o "type=local,dest=$out"
    [[ $stderr == *"warning: ADD: skipping archive entry '../escape.txt': it leaves the archive"* ]]
    [[ $stderr == *"warning: ADD: skipping archive entry 'a/../../escape2.txt': it leaves the archive"* ]]
    run layer 0
    [ "$(echo "$output" | awk '{print $1, $6}')" = "drwxr-xr-x opt/
-rw-r--r-- opt/abs.txt
lrwxrwxrwx opt/localetc
-rw-r--r-- opt/localetc/unbroken
-rw-r--r-- opt/ok.txt" ]
    # The symlink is resolved inside the image's root when the layer is applied.
    [ "$(readlink "$out/opt/localetc")" = /etc ]
    [ "$(cat "$out/etc/unbroken")" = through ]
    [ "$(cat "$out/opt/abs.txt")" = abs ]
    [ -z "$(find "$BATS_TEST_TMPDIR" "$BATS_FILE_TMPDIR" "$GANTRY_ROOT" -name 'escape*')" ]
    [ "$(cat /etc/unbroken 2>/dev/null)" != through ]
    build_fails "FROM scratch\nADD --unpack=true $URL/hl.tar /opt/\n" \
        "Dockerfile:2: ADD failed: extract '$URL/hl.tar': hard link 'hl' points outside the archive: '../../../etc/passwd'"
    build_fails "FROM scratch\nADD --unpack=true $URL/cut.tar /opt/\n" \
        "Dockerfile:2: ADD failed: extract '$URL/cut.tar': 'big.bin': truncated tar archive"
}

@test "add url: a right --checksum passes, a wrong one names both digests and adds nothing (D15)" {
    build_ok "FROM scratch\nARG SUM=$HELLO_SUM\nADD --checksum=\$SUM $URL/hello.txt /ok\n"
    [ "$(json "$MAN" | jq '.layers | length')" -eq 1 ]
    bad=sha256:$(printf '0%.0s' $(seq 64))
    build_fails "FROM scratch\nADD --checksum=$bad $URL/hello.txt /x\n" \
        "Dockerfile:2: ADD failed: checksum mismatch for '$URL/hello.txt': got $HELLO_SUM, want $bad"
    build_fails "FROM scratch\nADD --checksum=sha256:abc $URL/hello.txt /x\n" \
        "Dockerfile:2: ADD failed: invalid --checksum 'sha256:abc': invalid digest length for sha256: got 3 hex characters, want 64"
    build_fails "FROM scratch\nADD --checksum=$HELLO_SUM local.txt /x\n" \
        "Dockerfile:2: ADD failed: --checksum can only be used with an http(s) source, not 'local.txt'"
}

@test "add url: redirects are followed; loops, file:// targets and 404 fail" {
    build_ok "FROM scratch\nADD $URL/redirect/hello.txt /r/\n"
    run layer 0
    [[ $output == *" r/hello.txt" ]]
    build_fails "FROM scratch\nADD $URL/loop /x\n" \
        "Dockerfile:2: ADD failed: too many redirects (more than 10)"
    build_fails "FROM scratch\nADD $URL/to-file /x\n" \
        "Dockerfile:2: ADD failed: GET '$URL/to-file': redirect: refusing URL 'file:///etc/passwd': only http and https are allowed"
    build_fails "FROM scratch\nADD $URL/missing.txt /x\n" \
        "Dockerfile:2: ADD failed: GET '$URL/missing.txt': HTTP 404"
}

@test "add url: git sources are refused and git never runs (D16)" {
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    printf '#!/bin/sh\ntouch "%s/git-ran"\n' "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/bin/git"
    chmod +x "$BATS_TEST_TMPDIR/bin/git"
    export PATH="$BATS_TEST_TMPDIR/bin:$PATH"
    build_fails "FROM scratch\nADD https://h.invalid/r.git#--upload-pack=touch /x\n" \
        "Dockerfile:2: ADD failed: git sources are not supported: 'https://h.invalid/r.git#--upload-pack=touch'"
    build_fails "FROM scratch\nADD git@github.com:o/r.git /x\n" \
        "Dockerfile:2: ADD failed: git sources are not supported: 'git@github.com:o/r.git'"
    build_fails "FROM scratch\nADD --keep-git-dir https://h.invalid/r.git /x\n" \
        "Dockerfile:2: ADD --keep-git-dir: git sources are not supported"
    [ ! -e "$BATS_TEST_TMPDIR/git-ran" ]
}

@test "add url: credentials in the URL are sent but redacted in history and messages (D17)" {
    auth=http://user:token@127.0.0.1:${URL##*:}
    build_ok "FROM scratch\nADD $auth/auth/hello.txt /a\n"
    [ "$(layer_file 0 a)" = hello ]
    [ "$(json "$CFG" | jq -r '.history[0].created_by')" = "ADD http://user:xxxxx@127.0.0.1:${URL##*:}/auth/hello.txt /a" ]
    ! grep -q token "$(blob "$CFG")"
    build_fails "FROM scratch\nADD http://user:wrong@127.0.0.1:${URL##*:}/auth/hello.txt /a\n" \
        "Dockerfile:2: ADD failed: GET 'http://user:xxxxx@127.0.0.1:${URL##*:}/auth/hello.txt': HTTP 401"
    build_fails "FROM scratch\nADD http://user:s3cret@127.0.0.1:1/x /a\n" \
        "$(printf 'Dockerfile:2: ADD failed: GET %s' "'http://user:xxxxx@127.0.0.1:1/x'"): Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"
}

@test "add url: COPY refuses a URL source" {
    build_fails "FROM scratch\nCOPY $URL/hello.txt /x\n" \
        "Dockerfile:2: COPY failed: source can't be a URL for COPY: '$URL/hello.txt'"
}

# requests: the server's log since the last clear_requests, one
# "METHOD PATH STATUS INM IMS AUTH" line per request.
clear_requests() {
    : >"$SRV/requests.log"
}
requests() {
    cat "$SRV/requests.log"
}

@test "add url cache: with --checksum a rebuild makes no request; --no-cache downloads" {
    df="FROM scratch\nADD --checksum=$HELLO_SUM $URL/hello.txt /d/\n"
    clear_requests
    build_ok "$df"
    first=$LAYERS
    [ "$(requests | cut -d' ' -f1-5)" = "GET /hello.txt 200 - -" ]
    clear_requests
    build_ok "$df"
    [[ $stderr == *"ADD --checksum=$HELLO_SUM $URL/hello.txt /d/"*"CACHED"* ]]
    [ "$(requests)" = "" ]
    [ "$LAYERS" = "$first" ]
    clear_requests
    build_ok "$df" --no-cache
    [[ $stderr != *CACHED* ]]
    [ "$(requests | cut -d' ' -f1-5)" = "GET /hello.txt 200 - -" ]
    [ "$LAYERS" = "$first" ]
}

@test "add url cache: --unpack is part of a checksum step's key" {
    sum=sha256:$(sha256sum <"$SRV/files/u.tar.gz" | cut -d' ' -f1)
    build_ok "FROM scratch\nADD --checksum=$sum $URL/u.tar.gz /d/\n"
    run layer 0
    [[ $output == *" d/u.tar.gz" ]]
    # Same URL, checksum and destination, unpacked: not the file's layer.
    clear_requests
    build_ok "FROM scratch\nADD --checksum=$sum --unpack=true $URL/u.tar.gz /d/\n"
    [[ $stderr != *CACHED* ]]
    [[ "$(requests)" == "GET /u.tar.gz 304 "* ]]
    run layer 0
    [[ $output == *" d/dir/x.txt" ]]
    unpacked=$LAYERS
    clear_requests
    build_ok "FROM scratch\nADD --checksum=$sum --unpack=true $URL/u.tar.gz /d/\n"
    [[ $stderr == *CACHED* ]]
    [ "$(requests)" = "" ]
    [ "$LAYERS" = "$unpacked" ]
    # And back: the file again, from its own record.
    clear_requests
    build_ok "FROM scratch\nADD --checksum=$sum --unpack=false $URL/u.tar.gz /d/\n"
    run layer 0
    [[ $output == *" d/u.tar.gz" ]]
}

@test "add url cache: a checksum step with a new destination asks again, and a 304 gives the same bytes" {
    clear_requests
    build_ok "FROM scratch\nADD --checksum=$HELLO_SUM $URL/hello.txt /a\n"
    clear_requests
    build_ok "FROM scratch\nADD --checksum=$HELLO_SUM $URL/hello.txt /b\n"
    run requests
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "GET /hello.txt 304 \""*"\" "*" -" ]]
    [ "$(layer_file 0 b)" = hello ]
    run layer 0
    [ "$output" = "-rw------- 0/0 6 2021-03-04 05:06:07 b" ]
    bad=sha256:$(printf '0%.0s' $(seq 64))
    build_fails "FROM scratch\nADD --checksum=$bad $URL/hello.txt /c\n" \
        "Dockerfile:2: ADD failed: checksum mismatch for '$URL/hello.txt': got $HELLO_SUM, want $bad"
}

@test "add url cache: without --checksum a rebuild sends one conditional request, a 304 is CACHED" {
    df="FROM scratch\nADD $URL/hello.txt /d/\nADD $URL/lm/hello.txt /lm\n"
    clear_requests
    build_ok "$df"
    first=$LAYERS
    [ "$(requests | cut -d' ' -f1-5)" = "GET /hello.txt 200 - -
GET /lm/hello.txt 200 - -" ]
    clear_requests
    build_ok "$df"
    run requests
    echo "$output"
    [ "${#lines[@]}" -eq 2 ]
    # An ETag is asked with If-None-Match, a Last-Modified alone with If-Modified-Since.
    [[ ${lines[0]} == "GET /hello.txt 304 \""*"\" Thu,_04_Mar_2021_05:06:07_GMT -" ]]
    [ "${lines[1]}" = "GET /lm/hello.txt 304 - Thu,_04_Mar_2021_05:06:07_GMT -" ]
    [ "$(grep -c '^#[0-9]* CACHED$' <<<"$stderr")" -eq 2 ]
    [ "$LAYERS" = "$first" ]
    clear_requests
    build_ok "$df" --no-cache
    [ "$(requests | cut -d' ' -f1-5)" = "GET /hello.txt 200 - -
GET /lm/hello.txt 200 - -" ]
    [ "$LAYERS" = "$first" ]
}

@test "add url cache: a changed resource is downloaded again and the layer changes" {
    f=$SRV/files/chg-$BATS_TEST_NUMBER.txt
    echo one >"$f"
    touch -d '2021-03-04 05:06:07 UTC' "$f"
    df="FROM scratch\nADD $URL/${f##*/} /f\n"
    build_ok "$df"
    first=$LAYERS
    [ "$(layer_file 0 f)" = one ]
    echo two >"$f"
    touch -d '2021-03-04 05:06:07 UTC' "$f" # same time: only the ETag tells
    clear_requests
    build_ok "$df"
    run requests
    [ "${#lines[@]}" -eq 1 ]
    [[ ${lines[0]} == "GET /${f##*/} 200 \""*"\" "*" -" ]]
    [[ $stderr != *CACHED* ]]
    [ "$(layer_file 0 f)" = two ]
    [ "$LAYERS" != "$first" ]
    # The new response is what the next build asks about.
    clear_requests
    build_ok "$df"
    [[ "$(requests)" == "GET /${f##*/} 304 "* ]]
    [ "$(layer_file 0 f)" = two ]
}

@test "add url cache: a URL with credentials is asked again with them, and no password is written" {
    auth=http://user:token@127.0.0.1:${URL##*:}
    df="FROM scratch\nADD $auth/auth/hello.txt /a\n"
    build_ok "$df"
    clear_requests
    build_ok "$df"
    [[ "$(requests)" == "GET /auth/hello.txt 304 \""*"\" "*" Basic "* ]]
    [[ $stderr == *CACHED* ]]
    ! grep -rq token "$GANTRY_ROOT"
    # A record is kept, under the URL without its user info.
    grep -rq "^url http://127.0.0.1:${URL##*:}/auth/hello.txt$" "$GANTRY_ROOT/cache/url"
    # Wrong credentials: the server's 401 stands, whatever was recorded.
    build_fails "FROM scratch\nADD http://user:wrong@127.0.0.1:${URL##*:}/auth/hello.txt /a\n" \
        "Dockerfile:2: ADD failed: GET 'http://user:xxxxx@127.0.0.1:${URL##*:}/auth/hello.txt': HTTP 401"
}

@test "add url cache: a record whose blob was pruned is a plain download" {
    df="FROM scratch\nADD $URL/hello.txt /d/\n"
    build_ok "$df"
    "$GANTRY" rmi demo/u:1 >/dev/null
    "$GANTRY" prune >/dev/null
    [ -z "$(ls "$GANTRY_ROOT/cache/url" 2>/dev/null)" ]
    clear_requests
    build_ok "$df"
    [ "$(requests | cut -d' ' -f1-5)" = "GET /hello.txt 200 - -" ]
}
