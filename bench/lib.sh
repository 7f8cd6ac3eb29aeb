# Shared helpers for the benchmarks: timing with peak RSS, tables.
# Each measurement: wall seconds and peak RSS (kB) from GNU time.

# run_timed LABEL CMD...: runs CMD through bash -c, records $LABEL_secs and $LABEL_rss
run_timed() {
    local label=$1; shift
    local tf; tf=$(mktemp)
    /usr/bin/time -f '%e %M' -o "$tf" bash -c "$*" >/dev/null
    read -r secs rss < "$tf"
    rm -f "$tf"
    printf -v "${label}_secs" '%s' "$secs"
    printf -v "${label}_rss" '%s' "$rss"
}

# best_of N LABEL CMD...: the fastest of N runs (the least disturbed one).
best_of() {
    local n=$1 label=$2; shift 2
    local best="" bestrss=""
    for _ in $(seq "$n"); do
        run_timed _b "$@"
        if [ -z "$best" ] || awk "BEGIN{exit !($_b_secs < $best)}"; then
            best=$_b_secs; bestrss=$_b_rss
        fi
    done
    printf -v "${label}_secs" '%s' "$best"
    printf -v "${label}_rss" '%s' "$bestrss"
}

# keep_best LABEL CMD...: one timed run of CMD, kept in $LABEL_secs and
# $LABEL_rss when it is the fastest so far; for loops that prepare each
# run (wipe a store, empty a registry) untimed and interleave the tools.
# A failing CMD is reported and makes keep_best fail.
keep_best() {
    local label=$1; shift
    local cur=${label}_secs tf secs rss
    tf=$(mktemp)
    if ! /usr/bin/time -f '%e %M' -o "$tf" bash -c "$*" >/dev/null; then
        rm -f "$tf"
        echo "bench: failed: $*" >&2
        return 1
    fi
    read -r secs rss < "$tf"
    rm -f "$tf"
    if [ -z "${!cur:-}" ] || awk "BEGIN{exit !($secs < ${!cur})}"; then
        printf -v "${label}_secs" '%s' "$secs"
        printf -v "${label}_rss" '%s' "$rss"
    fi
}
