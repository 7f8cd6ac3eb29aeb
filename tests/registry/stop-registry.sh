#!/usr/bin/env bash
# stop-registry.sh DIR: stop what start-registry.sh or fakereg.py started in DIR.
dir=$1
if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/pid"
fi
exit 0
