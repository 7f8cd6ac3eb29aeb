#!/usr/bin/env python3
"""A small scripted registry and token server for the faults the real
distribution registry cannot produce (bad-inputs.md 4.5). Standard library
only; listens on 127.0.0.1 only.

    fakereg.py --dir DIR [--auth none|basic|bearer] [--user U --password P]
               [--token-expiry SECONDS] [--fault NAME]...

Writes DIR/port (the registry), DIR/other-port (a second origin that
blob redirects point at), DIR/pid, and one JSON line per request to
DIR/requests.log: {"srv", "method", "path", "auth", "status"} (token
requests also get "scopes" and "account").

Faults:
  blob-truncated     blob GETs answer a complete but shorter body
  blob-cut-once      the first blob GET stops halfway (Content-Length promised more)
  blob-long          blob GETs answer the blob plus extra bytes
  blob-corrupt       blob GETs answer the blob with its first byte changed
  503-once           the first manifest GET answers 503
  503-always         every manifest GET answers 503
  429-once           the first manifest GET answers 429 with Retry-After: 1
  429-long           every manifest GET answers 429 with Retry-After: 120
  redirect-blobs     blob GETs redirect (307) to the other origin
  redirect-file      blob GETs redirect to file:///etc/passwd
  redirect-loop      blob GETs redirect to themselves, forever
  bad-challenge      401 answers carry an unterminated quoted string
  no-challenge       401 answers carry no WWW-Authenticate
  always-401         (bearer) every token is refused by the registry
  big-manifest       manifest GETs answer 5 MiB
  html-error         manifest GETs answer 404 with a long HTML page
  mismatch-content-type  manifest GETs say "manifest" but the body is an index
  digest-header-mismatch manifest GETs send a wrong Docker-Content-Digest
  schema1            manifest GETs answer a Docker schema 1 manifest
  location-absolute  upload Locations are absolute URLs (else relative)
  patch-416-once     the first PATCH answers 416
  patch-cut-once     the first PATCH is cut halfway (connection closed)
  no-mount           cross-repository mounts answer 202 (not supported)
  tags-paginate      tag lists honour n= and last= and send Link headers
"""
import argparse
import base64
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class State:
    def __init__(self, args):
        self.args = args
        self.faults = set(args.fault or [])
        self.lock = threading.Lock()
        self.blobs = {}  # digest -> bytes
        self.manifests = {}  # (repo, tag or digest) -> (content type, bytes)
        self.uploads = {}  # id -> bytearray
        self.tokens = {}  # token -> expiry (monotonic)
        self.counts = {}
        self.port = 0
        self.other_port = 0
        self.log = open(os.path.join(args.dir, "requests.log"), "a", buffering=1)

    def once(self, key):
        """True the first time key is asked for."""
        with self.lock:
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
            return n == 0

    def record(self, entry):
        with self.lock:
            self.log.write(json.dumps(entry) + "\n")


STATE = None


def scope_for(method, repo):
    return "repository:%s:%s" % (repo, "pull" if method in ("GET", "HEAD") else "pull,push")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_name_tag = "main"

    def log_message(self, fmt, *args):
        pass

    # --- plumbing -------------------------------------------------------

    def send(self, status, body=b"", headers=None, content_type=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.note(status)

    def note(self, status, **extra):
        entry = {
            "srv": self.server_name_tag,
            "method": self.command,
            "path": self.path,
            "auth": self.headers.get("Authorization"),
            "status": status,
        }
        entry.update(extra)
        STATE.record(entry)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def error(self, status, code, message):
        self.send(status, json.dumps({"errors": [{"code": code, "message": message}]}),
                  content_type="application/json")

    def base_url(self):
        return "http://127.0.0.1:%d" % STATE.port

    # --- auth -------------------------------------------------------------

    def challenge(self, repo):
        if "no-challenge" in STATE.faults:
            return {}
        if "bad-challenge" in STATE.faults:
            return {"WWW-Authenticate": 'Bearer realm="http://127.0.0.1/token,service=x'}
        if STATE.args.auth == "basic":
            return {"WWW-Authenticate": 'Basic realm="fakereg"'}
        value = 'Bearer realm="%s/token",service="fakereg"' % self.base_url()
        if repo:
            value += ',scope="%s"' % scope_for(self.command, repo)
        return {"WWW-Authenticate": value}

    def authorized(self):
        auth = self.headers.get("Authorization") or ""
        if STATE.args.auth == "none" and not STATE.faults & {"bad-challenge", "no-challenge"}:
            return True
        if STATE.args.auth == "basic":
            want = "%s:%s" % (STATE.args.user, STATE.args.password)
            return auth == "Basic " + base64.b64encode(want.encode()).decode()
        if "always-401" in STATE.faults or not auth.startswith("Bearer "):
            return False
        with STATE.lock:
            expiry = STATE.tokens.get(auth[7:])
        return expiry is not None and time.monotonic() < expiry

    def token(self):
        q = parse_qs(urlsplit(self.path).query)
        form = {}
        if self.command == "POST":
            form = parse_qs(self.body().decode())
        scopes = q.get("scope", []) + form.get("scope", [])
        account = (q.get("account") or [None])[0]
        if STATE.args.user:
            want = "%s:%s" % (STATE.args.user, STATE.args.password)
            basic = "Basic " + base64.b64encode(want.encode()).decode()
            if self.headers.get("Authorization") != basic:
                self.send(401, json.dumps({"details": "incorrect username or password"}),
                          content_type="application/json")
                return
        tok = "tok-" + uuid.uuid4().hex
        with STATE.lock:
            STATE.tokens[tok] = time.monotonic() + STATE.args.token_expiry
        body = json.dumps({"token": tok, "expires_in": STATE.args.token_expiry})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
        self.note(200, scopes=scopes, account=account)

    # --- routing ----------------------------------------------------------

    def route(self):
        path = urlsplit(self.path).path
        if path == "/token":
            return self.token()
        if not path.startswith("/v2/"):
            return self.send(404, "not found")
        m = re.match(r"^/v2/(.+?)/(manifests|blobs|tags)/(.*)$", path)
        repo = m.group(1) if m else None
        m2 = re.match(r"^/v2/(.+)/blobs/uploads/(.*)$", path)
        if m2:
            repo = m2.group(1)
        if not self.authorized():
            return self.error_401(repo)
        if path == "/v2/":
            return self.send(200, "{}", content_type="application/json")
        if m2:
            return self.uploads(repo, m2.group(2))
        if not m:
            return self.error(404, "NAME_UNKNOWN", "unknown path")
        kind, rest = m.group(2), m.group(3)
        if kind == "manifests":
            return self.manifest(repo, rest)
        if kind == "blobs":
            return self.blob(repo, rest)
        return self.tags(repo)

    def error_401(self, repo):
        body = json.dumps({"errors": [{"code": "UNAUTHORIZED",
                                       "message": "authentication required"}]})
        self.send(401, body, headers=self.challenge(repo), content_type="application/json")

    def do_GET(self):
        self.route()

    do_HEAD = do_GET
    do_PUT = do_GET
    do_POST = do_GET
    do_PATCH = do_GET
    do_DELETE = do_GET

    # --- manifests --------------------------------------------------------

    def manifest(self, repo, ref):
        if self.command == "PUT":
            data = self.body()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            ct = self.headers.get("Content-Type") or OCI_MANIFEST
            with STATE.lock:
                STATE.manifests[(repo, ref)] = (ct, data)
                STATE.manifests[(repo, digest)] = (ct, data)
            return self.send(201, headers={"Docker-Content-Digest": digest,
                                           "Location": "/v2/%s/manifests/%s" % (repo, digest)})
        if self.command == "GET" and self.manifest_fault():
            return
        with STATE.lock:
            found = STATE.manifests.get((repo, ref))
        if not found:
            return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
        ct, data = found
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if "digest-header-mismatch" in STATE.faults:
            digest = "sha256:" + "0" * 64
        if "mismatch-content-type" in STATE.faults:
            ct = OCI_MANIFEST
            data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                               "manifests": []}).encode()
        self.send(200, data, headers={"Docker-Content-Digest": digest}, content_type=ct)

    def manifest_fault(self):
        f = STATE.faults
        if "503-always" in f or ("503-once" in f and STATE.once("503")):
            self.error(503, "UNAVAILABLE", "try again later")
            return True
        if "429-once" in f and STATE.once("429"):
            self.send(429, "slow down", headers={"Retry-After": "1"})
            return True
        if "429-long" in f:
            body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS", "message": "rate limit"}]})
            self.send(429, body, headers={"Retry-After": "120"}, content_type="application/json")
            return True
        if "big-manifest" in f:
            pad = "x" * (5 * 1024 * 1024)
            self.send(200, json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                                       "annotations": {"pad": pad}}), content_type=OCI_MANIFEST)
            return True
        if "html-error" in f:
            page = "<html><head><title>404 Not Found</title></head><body>\n" + \
                   "<h1>Not Found</h1>\n" + ("<p>lorem ipsum dolor</p>\n" * 200) + "</body></html>"
            self.send(404, page, content_type="text/html")
            return True
        if "schema1" in f:
            self.send(200, json.dumps({"schemaVersion": 1, "name": "x", "tag": "1",
                                       "fsLayers": []}),
                      content_type="application/vnd.docker.distribution.manifest.v1+prettyjws")
            return True
        return False

    # --- blobs ------------------------------------------------------------

    def blob(self, repo, digest):
        with STATE.lock:
            data = STATE.blobs.get(digest)
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
        if self.command == "HEAD":
            return self.send(200, data, headers={"Docker-Content-Digest": digest})
        f = STATE.faults
        if "redirect-blobs" in f:
            return self.send(307, headers={
                "Location": "http://127.0.0.1:%d/storage/%s?sig=1" % (STATE.other_port, digest)})
        if "redirect-file" in f:
            return self.send(302, headers={"Location": "file:///etc/passwd"})
        if "redirect-loop" in f:
            return self.send(302, headers={"Location": self.path})
        if "blob-truncated" in f:
            return self.send(200, data[: len(data) // 2],
                             content_type="application/octet-stream")
        if "blob-long" in f:
            return self.send(200, data + b"extra bytes",
                             content_type="application/octet-stream")
        if "blob-corrupt" in f:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        if "blob-cut-once" in f and STATE.once("cut"):
            return self.cut(data)
        self.send_range(data)

    def cut(self, data):
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.note(200, cut=True)
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def send_range(self, data):
        m = re.match(r"^bytes=(\d+)-$", self.headers.get("Range") or "")
        if not m:
            return self.send(200, data, content_type="application/octet-stream")
        start = int(m.group(1))
        self.send(206, data[start:], content_type="application/octet-stream",
                  headers={"Content-Range": "bytes %d-%d/%d" % (start, len(data) - 1, len(data))})

    # --- uploads ----------------------------------------------------------

    def location(self, repo, upload_id):
        path = "/v2/%s/blobs/uploads/%s?_state=s%s" % (repo, upload_id, upload_id[:4])
        if "location-absolute" in STATE.faults:
            return self.base_url() + path
        return path

    def upload_range(self, repo, upload_id, status):
        with STATE.lock:
            n = len(STATE.uploads[upload_id])
        self.send(status, headers={"Location": self.location(repo, upload_id),
                                   "Range": "0-%d" % max(n - 1, 0),
                                   "Docker-Upload-UUID": upload_id})

    def uploads(self, repo, upload_id):
        q = parse_qs(urlsplit(self.path).query)
        if self.command == "POST":
            mount, src = (q.get("mount") or [None])[0], (q.get("from") or [None])[0]
            with STATE.lock:
                have = mount in STATE.blobs
            if mount and src and have and "no-mount" not in STATE.faults:
                return self.send(201, headers={"Docker-Content-Digest": mount,
                                               "Location": "/v2/%s/blobs/%s" % (repo, mount)})
            upload_id = uuid.uuid4().hex
            with STATE.lock:
                STATE.uploads[upload_id] = bytearray()
            return self.upload_range(repo, upload_id, 202)
        with STATE.lock:
            known = upload_id in STATE.uploads
        if not known:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown")
        if self.command == "GET":
            return self.upload_range(repo, upload_id, 204)
        if self.command == "PATCH":
            return self.patch(repo, upload_id)
        if self.command == "PUT":
            return self.put(repo, upload_id, (q.get("digest") or [""])[0])
        return self.error(405, "UNSUPPORTED", "method not allowed")

    def patch(self, repo, upload_id):
        if "patch-cut-once" in STATE.faults and STATE.once("patch-cut"):
            n = int(self.headers.get("Content-Length") or 0)
            part = self.rfile.read(n // 2)
            with STATE.lock:
                STATE.uploads[upload_id] += part
            self.note(0, cut=True)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = self.body()
        if "patch-416-once" in STATE.faults and STATE.once("416"):
            return self.send(416, "range not satisfiable")
        cr = self.headers.get("Content-Range")
        with STATE.lock:
            cur = len(STATE.uploads[upload_id])
        if cr:
            m = re.match(r"^(\d+)-(\d+)$", cr)
            if not m or int(m.group(1)) != cur:
                return self.send(416, "range not satisfiable")
        with STATE.lock:
            STATE.uploads[upload_id] += data
        self.upload_range(repo, upload_id, 202)

    def put(self, repo, upload_id, digest):
        data = self.body()
        with STATE.lock:
            buf = STATE.uploads.pop(upload_id) + data
        got = "sha256:" + hashlib.sha256(buf).hexdigest()
        if got != digest:
            return self.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        with STATE.lock:
            STATE.blobs[digest] = bytes(buf)
        self.send(201, headers={"Docker-Content-Digest": digest,
                                "Location": "/v2/%s/blobs/%s" % (repo, digest)})

    # --- tags -------------------------------------------------------------

    def tags(self, repo):
        with STATE.lock:
            tags = sorted(t for (r, t) in STATE.manifests if r == repo and ":" not in t)
        q = parse_qs(urlsplit(self.path).query)
        headers = {}
        if "tags-paginate" in STATE.faults:
            last = (q.get("last") or [""])[0]
            n = int((q.get("n") or ["2"])[0])
            rest = [t for t in tags if t > last]
            tags = rest[:n]
            if len(rest) > n:
                headers["Link"] = '</v2/%s/tags/list?n=%d&last=%s>; rel="next"' % (repo, n, tags[-1])
        self.send(200, json.dumps({"name": repo, "tags": tags}), headers=headers,
                  content_type="application/json")


class OtherHandler(Handler):
    """The second origin: serves blobs at /storage/<digest>, logs headers."""

    server_name_tag = "other"

    def route(self):
        m = re.match(r"^/storage/([^?]+)", self.path)
        with STATE.lock:
            data = STATE.blobs.get(m.group(1)) if m else None
        if data is None:
            return self.send(404, "no such object")
        self.send_range(data)


def serve(handler):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


def main():
    global STATE
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--auth", choices=["none", "basic", "bearer"], default="none")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--token-expiry", type=int, default=300)
    p.add_argument("--fault", action="append")
    args = p.parse_args()
    STATE = State(args)
    STATE.other_port = serve(OtherHandler)
    STATE.port = serve(Handler)
    for name, value in (("other-port", STATE.other_port), ("pid", os.getpid()),
                        ("port", STATE.port)):
        with open(os.path.join(args.dir, name + ".tmp"), "w") as f:
            f.write("%d\n" % value)
        os.rename(os.path.join(args.dir, name + ".tmp"), os.path.join(args.dir, name))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
