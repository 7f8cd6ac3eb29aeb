#!/usr/bin/env bash
# bench/import.sh: import a ~1 GB rootfs tarball with gantry, beside the
# pipelines that do the same core work (compress + hash) with gzip -6 and
# igzip -1, in one run. Prints a table of seconds, throughput, ratio to the
# igzip pipeline and peak RSS. Best of 3 runs each.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
gantry=${GANTRY:-$top/build/bin/gantry}
out="$top/bench/out"
tarball="$out/rootfs-1g.tar"
runs=${RUNS:-3}

bash "$top/bench/make-rootfs.sh" "$tarball" "${SIZE_MB:-1024}"
bytes=$(stat -c %s "$tarball")
mb=$(awk "BEGIN{printf \"%.0f\", $bytes/1e6}")
cat "$tarball" > /dev/null   # warm the page cache for everyone alike

store="$out/store"
best_of "$runs" gantry "rm -rf '$store'; GANTRY_ROOT='$store' '$gantry' --progress quiet import --platform linux/amd64 '$tarball' bench/rootfs:1g"
best_of "$runs" gantry_zstd "rm -rf '$store'; GANTRY_ROOT='$store' '$gantry' --progress quiet import --compression zstd --platform linux/amd64 '$tarball' bench/rootfs:1g"
best_of "$runs" igzip "igzip -1 -c < '$tarball' | sha256sum"
best_of 1 gzip "gzip -6 -c < '$tarball' | sha256sum"
rm -rf "$store"

row() { # name secs rss
    awk -v n="$1" -v s="$2" -v r="$3" -v mb="$mb" -v base="$igzip_secs" \
        'BEGIN{printf "| %-36s | %7.2f | %8.0f | %6.2fx | %7.1f |\n", n, s, mb/s, s/base, r/1024}'
}
echo
echo "import of a ${mb} MB rootfs tarball (best of $runs; ratio = time / igzip pipeline time)"
echo
echo "| command                              | seconds |     MB/s |   ratio | RSS MiB |"
echo "| ------------------------------------ | ------- | -------- | ------- | ------- |"
row "gantry import (gzip, igzip level 1)" "$gantry_secs" "$gantry_rss"
row "gantry import --compression zstd" "$gantry_zstd_secs" "$gantry_zstd_rss"
row "igzip -1 | sha256sum" "$igzip_secs" "$igzip_rss"
row "gzip -6 | sha256sum" "$gzip_secs" "$gzip_rss"
