#!/usr/bin/env bash
# bench/push-pull.sh: gantry push / pull against skopeo copy of the same
# two-platform image (`gantry build` of bench/make-context.sh output: real
# files from /usr, $LAYERS layers per platform, ~1.4 GB for linux/amd64 and
# ~1 GB for linux/arm64 before compression, ~1 GB of gzip blobs), to and
# from the same local distribution registry, side by side in one run; plus a re-push
# where the registry has everything, and a registry-to-registry copy
# (gantry copy vs skopeo copy, to a second local registry). Prints a table
# of seconds, ratio to skopeo and peak RSS. Best of $RUNS (default 2) runs
# each.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
. "$top/tests/registry/lib.bash"
gantry=${GANTRY:-$top/build/bin/gantry}
out="$top/bench/out"
runs=${RUNS:-2}
jobs=${JOBS:-4}

layers=${LAYERS:-4}
ctx="$out/pp-context-$layers"
bash "$top/bench/make-context.sh" "$ctx" "$layers" $((1400 / layers))

work=$(mktemp -d "$out/push-pull.XXXXXX")
regdir="$work/registry"
regdir2="$work/registry2"
trap 'stop_server "$regdir"; stop_server "$regdir2"; rm -rf "$work"' EXIT
export DOCKER_CONFIG="$work/docker"
src="$work/src"
g() { GANTRY_ROOT="$1" "$gantry" --progress quiet "${@:2}"; }

# The image, built once.
g "$src" build --platform linux/amd64,linux/arm64 -t bench/pp:multi "$ctx" >/dev/null
bytes=$(du -sb "$src/blobs" | cut -f1)
mb=$(awk "BEGIN{printf \"%.0f\", $bytes/1e6}")
start_registry "$regdir2"
REG2=$REG
start_registry "$regdir"
sk="skopeo copy -q --all --src-tls-verify=false --dest-tls-verify=false"

# Each push goes to an empty registry (its storage wiped, untimed): skopeo
# remembers where it saw blobs and would mount them from an earlier push.
fresh_best() { # LABEL CMD [REGDIR]: best of $runs, the registry emptied before each
    local label=$1 best="" bestrss=""
    for _ in $(seq "$runs"); do
        rm -rf "${3:-$regdir}/data/docker"
        run_timed _p "$2"
        if [ -z "$best" ] || awk "BEGIN{exit !($_p_secs < $best)}"; then
            best=$_p_secs; bestrss=$_p_rss
        fi
    done
    printf -v "${label}_secs" '%s' "$best"
    printf -v "${label}_rss" '%s' "$bestrss"
}
fresh_best gpush "GANTRY_ROOT='$src' '$gantry' --progress quiet push -q --jobs $jobs bench/pp:multi '$REG/g/pp:multi'"
fresh_best spush "$sk oci:'$src':docker.io/bench/pp:multi docker://'$REG/s/pp:multi'"
# Pulls and re-pushes use base/.
g "$src" push -q bench/pp:multi "$REG/base/pp:multi" >/dev/null
best_of "$runs" gpull "rm -rf '$work/pulled'; GANTRY_ROOT='$work/pulled' '$gantry' --progress quiet pull -q -a --jobs $jobs '$REG/base/pp:multi'"
best_of "$runs" spull "rm -rf '$work/layout'; $sk docker://'$REG/base/pp:multi' oci:'$work/layout':pp"
best_of "$runs" grepush "GANTRY_ROOT='$src' '$gantry' --progress quiet push -q bench/pp:multi '$REG/base/pp:multi'"
best_of "$runs" srepush "$sk oci:'$src':docker.io/bench/pp:multi docker://'$REG/base/pp:multi'"
fresh_best gcopy "'$gantry' --progress quiet copy -q --jobs $jobs docker://'$REG/base/pp:multi' docker://'$REG2/g/pp:multi'" "$regdir2"
fresh_best scopy "$sk docker://'$REG/base/pp:multi' docker://'$REG2/s/pp:multi'" "$regdir2"
# The pulled image must be the pushed one.
[ "$(jq -r '.manifests[0].digest' "$work/pulled/index.json")" = "$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "docker.io/bench/pp:multi") | .digest' "$src/index.json")" ]

row() { # name gantry-label skopeo-label
    local gs=${2}_secs gr=${2}_rss ss=${3}_secs sr=${3}_rss
    awk -v n="$1" -v gs="${!gs}" -v gr="${!gr}" -v ss="${!ss}" -v sr="${!sr}" \
        'BEGIN{printf "| %-18s | %7.2f | %7.2f | %7.2fx | %14.1f | %14.1f |\n", n, gs, ss, ss/gs, gr/1024, sr/1024}'
}
echo
echo "push and pull of a two-platform image, ${mb} MB of blobs, local registry (best of $runs;"
echo "speed-up = skopeo time / gantry time; gantry --jobs $jobs)"
echo
echo "| operation          |  gantry |  skopeo | speed-up | gantry RSS MiB | skopeo RSS MiB |"
echo "| ------------------ | ------- | ------- | -------- | -------------- | -------------- |"
row "push" gpush spush
row "pull (all)" gpull spull
row "re-push (present)" grepush srepush
row "copy reg -> reg" gcopy scopy
