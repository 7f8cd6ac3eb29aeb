#!/usr/bin/env bash
# Make a build context of real files from this machine's /usr for a
# multi-layer two-platform image: amd64/1..N and arm64/1..N, each a
# directory of LAYER_MB (amd64) or LAYER_MB*5/7 (arm64) of files, no file
# in two layers. Deterministic for a given machine; reused when present.
# Usage: bench/make-context.sh OUTDIR [LAYERS] [LAYER_MB]
set -euo pipefail
out=$1
layers=${2:-4}
layer_mb=${3:-350}
[ -e "$out/.done" ] && exit 0
rm -rf "$out"
mkdir -p "$out"
list=$(mktemp)
trap 'rm -f "$list" "$list".*' EXIT
find /usr/lib /usr/share /usr/bin -xdev -type f -size -64M -printf '%s %p\n' 2>/dev/null |
    sort -k2 > "$list"
# One file list per layer, amd64's layers first, then arm64's (smaller).
awk -v n="$layers" -v a=$((layer_mb * 1048576)) -v b=$((layer_mb * 1048576 * 5 / 7)) -v f="$list" '
    BEGIN { k = 0; t = 0 }
    {
        max = (k < n) ? a : b
        if (t > 0 && t + $1 > max) { k++; t = 0; if (k >= 2 * n) exit }
        t += $1
        print substr($0, index($0, " ") + 1) > (f "." k)
    }' "$list" || true
for k in $(seq 0 $((2 * layers - 1))); do
    [ -s "$list.$k" ] || { echo "make-context: /usr holds too little for layer $k" >&2; exit 1; }
    if [ "$k" -lt "$layers" ]; then dir="$out/amd64/$((k + 1))"; else dir="$out/arm64/$((k - layers + 1))"; fi
    mkdir -p "$dir"
    tar -cf - --no-recursion -T "$list.$k" 2>/dev/null | tar -xf - -C "$dir"
done
{
    echo "FROM scratch"
    echo "ARG TARGETARCH"
    for i in $(seq "$layers"); do echo "COPY \${TARGETARCH}/$i/ /"; done
} > "$out/Dockerfile"
touch "$out/.done"
