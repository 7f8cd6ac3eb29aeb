#!/usr/bin/env bats
# gantry build runs the independent stages of a platform in parallel: a
# stage is ready when the stages its FROM and COPY --from name are done,
# and every ready (platform, stage) shares the --jobs budget. The result
# does not depend on --jobs; the first error wins and nothing is named;
# stages the target does not need are not run.
#
# The overlap proof is deterministic: a tiny server on 127.0.0.1 answers
# /barrier/GROUP/SECONDS/NAME only once two requests of GROUP have
# arrived (504 after SECONDS otherwise). Stages a and b each ADD one such
# URL, so the build succeeds only when b's ADD started before a's ADD was
# done, whatever the machine's load; --jobs 1 must then fail.

bats_require_minimum_version 1.5.0

load helpers

# barrier_server PORT-FILE: run the server (exec: $! is its pid).
barrier_server() {
    exec python3 - "$1" <<'PY'
import http.server, os, sys, threading
port_file = sys.argv[1]
lock = threading.Lock()
barriers = {}

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "barrier":
            self.send_error(404)
            return
        with lock:
            b = barriers.setdefault(parts[1], threading.Barrier(2))
        try:
            b.wait(timeout=float(parts[2]))
        except threading.BrokenBarrierError:
            self.send_error(504, "the other stage never came")
            return
        body = (parts[3] + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

# never outlive a test run that could not stop it
threading.Timer(600, lambda: os._exit(0)).start()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
PY
}

setup_file() {
    local srv=$BATS_FILE_TMPDIR/srv
    mkdir -p "$srv"
    barrier_server "$srv/port" 3>&- &
    echo $! >"$srv/pid"
    for _ in $(seq 50); do
        [ -s "$srv/port" ] && break
        sleep 0.1
    done
    [ -s "$srv/port" ]
    store_setup "$BATS_FILE_TMPDIR/base"
    import_demo_three
    # large-ish files, so that a stage's COPY takes a while
    head -c 64M /dev/urandom >"$BATS_FILE_TMPDIR/big-a"
    head -c 64M /dev/urandom >"$BATS_FILE_TMPDIR/big-b"
}

teardown_file() {
    kill "$(cat "$BATS_FILE_TMPDIR/srv/pid")" 2>/dev/null || true
}

setup() {
    copy_file_store
    export SOURCE_DATE_EPOCH=1700000000
    URL=http://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/srv/port")
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX"
    ln "$BATS_FILE_TMPDIR/big-a" "$CTX/big-a"
    ln "$BATS_FILE_TMPDIR/big-b" "$CTX/big-b"
    echo small >"$CTX/small"
}

# barrier_dockerfile SECONDS: stages a and b meet at one barrier, the last
# stage copies from both.
barrier_dockerfile() {
    local g="g$BATS_TEST_NUMBER-$RANDOM$RANDOM"
    cat >"$CTX/Dockerfile" <<DF
FROM scratch AS a
ADD $URL/barrier/$g/$1/a.txt /a.txt
COPY big-a /big-a

FROM scratch AS b
ADD $URL/barrier/$g/$1/b.txt /b.txt
COPY big-b /big-b

FROM scratch
COPY --from=a /a.txt /big-a /
COPY --from=b /b.txt /big-b /
DF
}

# line_of REGEX: the number of the first line of $stderr matching REGEX.
line_of() {
    grep -nE -- "$1" <<<"$stderr" | head -n1 | cut -d: -f1
}

# step_id REGEX: the #id of the step whose start line matches REGEX.
step_id() {
    grep -E -- "$1" <<<"$stderr" | head -n1 | sed -E 's/^#([0-9]+) .*/\1/'
}

@test "build stages: independent stages of one platform run at the same time" {
    barrier_dockerfile 30
    run --separate-stderr "$GANTRY" build --jobs 2 --progress plain -t demo/s:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    # b's first step started before a's first step was done (and the
    # other way round): the barrier only opens for both at once
    a=$(step_id '^#[0-9]+ \[linux/amd64 a 1/2\] ADD ')
    b=$(step_id '^#[0-9]+ \[linux/amd64 b 1/2\] ADD ')
    [ -n "$a" ] && [ -n "$b" ]
    [ "$(line_of "^#$b \[")" -lt "$(line_of "^#$a DONE ")" ]
    [ "$(line_of "^#$a \[")" -lt "$(line_of "^#$b DONE ")" ]
    # the last stage starts after both are done
    last=$(line_of '^#[0-9]+ \[linux/amd64 1/2\] COPY --from=a')
    [ "$(line_of "^#$(step_id '\[linux/amd64 a 2/2\]') DONE ")" -lt "$last" ]
    [ "$(line_of "^#$(step_id '\[linux/amd64 b 2/2\]') DONE ")" -lt "$last" ]
    # step ids are unique and every started step ended
    ids=$(grep -oE '^#[0-9]+ \[' <<<"$stderr" | sort)
    [ "$(uniq -d <<<"$ids")" = "" ]
    [ "$(grep -cE '^#[0-9]+ (DONE|CACHED)' <<<"$stderr")" -eq "$(wc -l <<<"$ids")" ]
    m=$(digest_of docker.io/demo/s:1)
    l0=$(jq -r '.layers[0].digest' "$(blob "$m")")
    l1=$(jq -r '.layers[1].digest' "$(blob "$m")")
    [ "$(tar -xzOf "$(blob "$l0")" a.txt)" = a.txt ]
    [ "$(tar -xzOf "$(blob "$l1")" b.txt)" = b.txt ]
    tar -xzOf "$(blob "$l1")" big-b | cmp - "$CTX/big-b"
}

@test "build stages: with --jobs 1 the stages run one after the other" {
    barrier_dockerfile 2
    run --separate-stderr "$GANTRY" build --jobs 1 --progress plain -t demo/s:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 1 ]
    [ "$(grep -c '^gantry: ' <<<"$stderr")" -eq 1 ]
    grep -q '^gantry: Dockerfile:2: .*504' <<<"$stderr"
    # stage b never started
    ! grep -q '\[linux/amd64 b ' <<<"$stderr"
    [ -z "$(ref_field docker.io/demo/s:1 .digest)" ]
}

@test "build stages: --jobs 1 and --jobs 4 give the same index" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM --platform=$BUILDPLATFORM demo/busybox:amd64 AS tools
COPY small /tools/small

FROM scratch AS a
COPY big-a /big-a

FROM scratch AS b
ARG TARGETARCH
COPY big-b /big-b-${TARGETARCH}

FROM b AS c
COPY --from=tools /tools/small /c/small

FROM scratch
COPY --from=a /big-a /a/
COPY --from=c / /c/
COPY small /
DF
    run --separate-stderr "$GANTRY" build -q --jobs 1 --platform linux/amd64,linux/arm64 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    one=$output
    run --separate-stderr "$GANTRY" build -q --jobs 4 --no-cache --platform linux/amd64,linux/arm64 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
    run --separate-stderr "$GANTRY" build -q --jobs 2 --no-cache --platform linux/arm64,linux/amd64 "$CTX"
    [ "$status" -eq 0 ]
    [ "$output" != "$one" ] # the order of the platforms is the index's
    run --separate-stderr "$GANTRY" build -q --jobs 3 --no-cache --platform linux/amd64,linux/arm64 "$CTX"
    [ "$status" -eq 0 ]
    [ "$output" = "$one" ]
    # every platform has its own b and the shared tools
    for i in 0 1; do
        m=$(jq -r ".manifests[$i].digest" "$(blob "$one")")
        arch=$(jq -r ".manifests[$i].platform.architecture" "$(blob "$one")")
        l1=$(jq -r '.layers[1].digest' "$(blob "$m")")
        tar -tzf "$(blob "$l1")" | grep -qx "c/big-b-$arch"
        [ "$(tar -xzOf "$(blob "$l1")" c/c/small)" = small ]
    done
}

@test "build stages: an error in one parallel stage wins and nothing is named" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch AS a
COPY big-a /big-a
COPY big-a /again

FROM scratch AS b
COPY missing /missing

FROM scratch
COPY --from=a /big-a /a
COPY --from=b /missing /b
DF
    run --separate-stderr "$GANTRY" build --jobs 4 --progress plain -t demo/s:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 1 ]
    [ "$(grep -c '^gantry: ' <<<"$stderr")" -eq 1 ]
    [ "$(tail -n1 <<<"$stderr")" = "gantry: Dockerfile:6: COPY failed: 'missing' not found in build context" ]
    grep -Eq "^#$(step_id '\[linux/amd64 b 1/1\]') ERROR " <<<"$stderr"
    ! grep -q 'COPY --from=' <<<"$stderr"
    [ -z "$(ref_field docker.io/demo/s:1 .digest)" ]
}

@test "build stages: a stage the target does not need is not run" {
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch AS unused
COPY missing /missing

FROM scratch AS a
COPY small /a

FROM demo/busybox:amd64 AS b
COPY small /b

FROM scratch
COPY --from=a /a /a
DF
    run --separate-stderr "$GANTRY" build --jobs 4 --progress plain -t demo/s:1 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    ! grep -Eq '\[linux/amd64 (unused|b) ' <<<"$stderr"
    [ "$(grep -cE '^#[0-9]+ \[' <<<"$stderr")" -eq 2 ]
    run --separate-stderr "$GANTRY" build --jobs 4 --progress plain --target b -t demo/s:2 "$CTX"
    echo "$stderr"
    [ "$status" -eq 0 ]
    [ "$(grep -E '^#[0-9]+ \[' <<<"$stderr" | sed -E 's/^#[0-9]+ //')" = "[linux/amd64 b 1/2] FROM demo/busybox:amd64
[linux/amd64 b 2/2] COPY small /b" ]
}
