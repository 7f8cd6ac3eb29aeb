#!/usr/bin/env bash
# start-registry.sh [--tls] DIR [USER PASSWORD]
#
# Start the distribution registry (Debian's docker-registry) on a free
# loopback port with its own config and storage under DIR, and wait until
# it answers. With USER and PASSWORD it requires htpasswd basic auth; with
# --tls it serves HTTPS only, with a self-signed certificate for 127.0.0.1
# (DIR/cert.pem). Writes DIR/port and DIR/pid; stop it with
# stop-registry.sh DIR.
set -euo pipefail
tls=""
scheme=http
if [ "${1:-}" = --tls ]; then
    shift
    scheme=https
fi
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/data"
auth=""
if [ $# -ge 3 ]; then
    htpasswd -Bbn "$2" "$3" > "$dir/htpasswd"
    auth="auth:
  htpasswd:
    realm: gantry-test
    path: $dir/htpasswd"
fi
if [ $scheme = https ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" \
        2> "$dir/openssl.log"
    tls="  tls:
    certificate: $dir/cert.pem
    key: $dir/key.pem"
fi
for attempt in 1 2 3 4 5; do
    port=$(python3 "$here/free-port.py")
    cat > "$dir/config.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: gantry-test-secret
$tls
$auth
YAML
    docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        code=$(curl -sk -o /dev/null -w '%{http_code}' "$scheme://127.0.0.1:$port/v2/" || true)
        if [ "$code" = 200 ] || [ "$code" = 401 ]; then
            echo "$port" > "$dir/port"
            echo "$pid" > "$dir/pid"
            exit 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
done
echo "start-registry: the registry did not start; log:" >&2
cat "$dir/registry.log" >&2
exit 1
