#!/usr/bin/env python3
"""Tiny HTTP server for tests/integration/207-build-add-url.bats.

Usage: addurl-server.py DIR PORTFILE. Serves the files of DIR on a free
127.0.0.1 port (written to PORTFILE) with Last-Modified from the file's
mtime, plus scripted paths:
  /cd/<name>       a file with Content-Disposition: attachment; filename="../../etc/passwd"
  /redirect/<name> 302 to /<name>
  /loop            302 to itself (too many redirects)
  /to-file         302 to file:///etc/passwd
  /auth/<name>     <name> when Basic user:token is sent, else 401
  anything else missing: 404
"""
import base64
import email.utils
import http.server
import os
import sys

ROOT, PORTFILE = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(os.path.join(ROOT, "..", "requests.log"), "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization", "-")))

    def send_file(self, name, extra=()):
        path = os.path.join(ROOT, os.path.basename(name))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        mtime = os.stat(path).st_mtime
        self.send_header("Last-Modified", email.utils.formatdate(mtime, usegmt=True))
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
