#!/usr/bin/env bats
# gantry build's live view on a terminal (--progress auto on a tty, or
# tty): a "[+] Building" header and the running steps redrawn in place,
# finished steps printed once above them with DONE or CACHED, a final
# summary, warnings above the live part and the error on its own line at
# the end. Without a terminal auto stays BuildKit's plain lines.

bats_require_minimum_version 1.5.0

load helpers

setup() {
    store_setup
    export SOURCE_DATE_EPOCH=1700000000
    CTX=$BATS_TEST_TMPDIR/ctx
    mkdir -p "$CTX/dir"
    echo alpha >"$CTX/a.txt"
    echo one >"$CTX/dir/one.txt"
    cat >"$CTX/Dockerfile" <<'DF'
FROM scratch
COPY a.txt /a.txt
WORKDIR /app
COPY dir/ /app/
DF
    TTYRUN=$BATS_TEST_DIRNAME/../registry/ttyrun.py
    cd "$BATS_TEST_TMPDIR"
}

# tty_build ARG...: gantry build ARGs for two platforms, stderr on a
# pseudo-terminal; output is the final screen (and stdout), raw the bytes.
tty_build() {
    run python3 "$TTYRUN" --raw raw -- "$GANTRY" build --platform linux/amd64,linux/arm64 "$@"
    echo "$output"
}

# steps STATE: the screen lines of finished steps ending in STATE, one per line.
steps() {
    grep -E "^ => \[linux/(amd64|arm64) [0-9]/3\] .* +$1\$" <<<"$output" || true
}

@test "build tty: header, redraws in place, DONE then CACHED on a second build" {
    tty_build -t demo/t:1 "$CTX"
    [ "$status" -eq 0 ]
    grep -q $'\e\\[[0-9]*A' raw   # cursor-up: redrawn in place
    grep -q $'\e\\[K' raw         # erase line
    grep -Eq '^\[\+\] Building [0-9]+\.[0-9]s \(6/6\) FINISHED$' <<<"$output"
    # every step is on the final screen exactly once, finished
    [ "$(grep -c '^ => ' <<<"$output")" -eq 6 ]
    [ "$(steps 'DONE [0-9]+\.[0-9]s' | wc -l)" -ge 3 ]
    grep -Eq '^ => \[linux/arm64 3/3\] COPY dir/ /app/ +(DONE [0-9.]+s|CACHED)$' <<<"$output"
    grep -q '^Named docker.io/demo/t:1$' <<<"$output"
    # the plain lines are not there
    ! grep -Eq '^#[0-9]+ ' <<<"$output"
    tty_build -t demo/t:1 "$CTX"
    [ "$status" -eq 0 ]
    [ "$(steps CACHED | wc -l)" -eq 6 ]
    [ -z "$(steps 'DONE.*')" ]
    grep -Eq '^\[\+\] Building [0-9.]+s \(6/6\) FINISHED$' <<<"$output"
}

@test "build tty: an error is the last line, on its own, after the FAILED summary" {
    printf 'FROM scratch\nCOPY a.txt /a.txt\nCOPY missing /x\n' >"$CTX/Dockerfile"
    tty_build "$CTX"
    [ "$status" -eq 1 ]
    [ "$(tail -1 <<<"$output")" = "gantry: Dockerfile:3: COPY failed: 'missing' not found in build context" ]
    grep -Eq '^\[\+\] Building [0-9.]+s \([0-9]+/[0-9]+\) FAILED$' <<<"$(tail -2 <<<"$output" | head -1)"
    grep -Eq '^ => \[linux/(amd64|arm64) 2/2\] COPY missing /x +ERROR [0-9.]+s$' <<<"$output"
    # in the raw bytes too: the error starts a line of its own
    grep -q $'\n''gantry: Dockerfile:3: ' <(tr -d '\r' <raw)
}

@test "build tty: a warning during the build is printed whole above the live part" {
    # a file where the step records' directory should be: every record
    # write fails with a warning, the build itself succeeds
    "$GANTRY" images >/dev/null
    mkdir -p "$GANTRY_ROOT/cache"
    touch "$GANTRY_ROOT/cache/step"
    tty_build "$CTX"
    [ "$status" -eq 0 ]
    grep -Eq '^gantry: warning: build cache: write cache record .*$' <<<"$output"
    w=$(grep -n '^gantry: warning: build cache' <<<"$output" | head -1 | cut -d: -f1)
    f=$(grep -n '^\[+\] Building .* FINISHED$' <<<"$output" | cut -d: -f1)
    [ "$w" -lt "$f" ]
    # no step line was overwritten by a warning: all six are there
    [ "$(grep -c '^ => \[linux/' <<<"$output")" -eq 6 ]
}

@test "build tty: lines fit a narrow terminal and the live part its height" {
    run python3 - "$GANTRY" "$CTX" <<'PY'
import fcntl, os, re, struct, subprocess, sys, termios
m, s = os.openpty()
fcntl.ioctl(s, termios.TIOCSWINSZ, struct.pack("HHHH", 6, 30, 0, 0))
p = subprocess.Popen([sys.argv[1], "build", "--platform",
                      "linux/amd64,linux/arm64,linux/386,linux/ppc64le,linux/s390x",
                      sys.argv[2]], stderr=s, stdout=subprocess.DEVNULL)
os.close(s)
data = b""
while True:
    try:
        b = os.read(m, 65536)
    except OSError:
        break
    if not b:
        break
    data += b
p.wait()
text = re.sub(r"\x1b\[\d*[AKJ]", "", data.decode()).replace("\r", "")
ups = [int(n or 1) for n in re.findall(r"\x1b\[(\d*)A", data.decode())]
print(p.returncode, max(len(l) for l in text.split("\n")), max(ups))
PY
    echo "$output"
    read -r rc width up <<<"$output"
    [ "$rc" -eq 0 ]
    [ "$width" -le 29 ]
    [ "$up" -le 4 ]
}

@test "build: --progress auto without a terminal prints the plain lines; tty forces the view" {
    run --separate-stderr "$GANTRY" build --platform linux/amd64,linux/arm64 "$CTX"
    [ "$status" -eq 0 ]
    grep -Eq '^#[0-9]+ \[linux/amd64 1/3\] COPY a\.txt /a\.txt$' <<<"$stderr"
    grep -Eq '^#[0-9]+ (DONE [0-9]+\.[0-9]s|CACHED)$' <<<"$stderr"
    ! grep -q $'\e' <<<"$stderr"
    ! grep -q 'Building' <<<"$stderr"
    run --separate-stderr "$GANTRY" build --progress tty "$CTX"
    [ "$status" -eq 0 ]
    grep -Eq '^\[\+\] Building [0-9.]+s \(3/3\) FINISHED$' \
        <<<"$(sed -E $'s/\e\\[[0-9]*[AKJ]//g' <<<"$stderr" | tr '\r' '\n')"
    grep -q $'\e\\[' <<<"$stderr"
    run --separate-stderr "$GANTRY" --progress quiet build "$CTX"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ]
}
