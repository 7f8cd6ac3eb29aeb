#!/usr/bin/env python3
"""Tiny HTTP server for tests/integration/207-build-add-url.bats.

Usage: addurl-server.py DIR PORTFILE. Serves the files of DIR on a free
127.0.0.1 port (written to PORTFILE) with Last-Modified from the file's
mtime and an ETag from its content and mtime; a matching If-None-Match
(else an If-Modified-Since not older than the file) is answered 304.
Every request is logged to DIR/../requests.log as
"METHOD PATH STATUS INM IMS AUTH" ("-" for an absent header, INM and IMS
with spaces replaced by '_'). Scripted paths:
  /lm/<name>       <name> with Last-Modified only (no ETag)
  /cd/<name>       a file with Content-Disposition: attachment; filename="../../etc/passwd"
  /redirect/<name> 302 to /<name>
  /loop            302 to itself (too many redirects)
  /to-file         302 to file:///etc/passwd
  /auth/<name>     <name> when Basic user:token is sent, else 401
  anything else missing: 404
"""
import base64
import email.utils
import hashlib
import http.server
import os
import sys

ROOT, PORTFILE = sys.argv[1], sys.argv[2]


def header_field(v):
    return v.replace(" ", "_") if v else "-"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def log_request(self, code="-", size="-"):
        with open(os.path.join(ROOT, "..", "requests.log"), "a") as f:
            f.write("%s %s %s %s %s %s\n" % (
                self.command, self.path, getattr(code, "value", code),
                header_field(self.headers.get("If-None-Match")),
                header_field(self.headers.get("If-Modified-Since")),
                self.headers.get("Authorization", "-")))

    def not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return etag is not None and etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims is None:
            return False
        try:
            since = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since

    def send_file(self, name, extra=(), etag=True):
        path = os.path.join(ROOT, os.path.basename(name))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        mtime = os.stat(path).st_mtime
        tag = None
        if etag:
            h = hashlib.sha256(data + str(mtime).encode()).hexdigest()[:16]
            tag = '"%s"' % h
        if self.not_modified(tag, mtime):
            self.send_response(304)
            if tag:
                self.send_header("ETag", tag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
        if tag:
            self.send_header("ETag", tag)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, to):
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        p = self.path
        if p.startswith("/cd/"):
            self.send_file(p[4:], [("Content-Disposition",
                                    'attachment; filename="../../etc/passwd"')])
        elif p.startswith("/lm/"):
            self.send_file(p[4:], etag=False)
        elif p.startswith("/redirect/"):
            self.redirect("/" + p[len("/redirect/"):])
        elif p == "/loop":
            self.redirect("/loop")
        elif p == "/to-file":
            self.redirect("file:///etc/passwd")
        elif p.startswith("/auth/"):
            want = "Basic " + base64.b64encode(b"user:token").decode()
            if self.headers.get("Authorization") == want:
                self.send_file(p[6:])
            else:
                self.send_error(401)
        else:
            self.send_file(p.lstrip("/"))


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
