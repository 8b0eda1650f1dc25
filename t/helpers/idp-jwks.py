#!/usr/bin/python3
"""An identity provider's JWKS endpoint for t/540-jwks.t, on 127.0.0.1.

    idp-jwks.py PORT JWKS_FILE [CERT KEY]

GET /jwks.json serves JWKS_FILE as read at that moment (so a test rotates
keys by rewriting it), and counts each request.  With CERT and KEY it
speaks HTTPS.  Commands, on the same port:

    /control/count              the number of /jwks.json requests so far
    /control/reset              sets that number to 0
    /control/mode?m=MODE        how /jwks.json answers from now on:
        ok                      the file
        fail                    500
        slow:S                  the file, after S seconds
        garbage                 bytes that are no JSON
        many:N                  N keys: the file's first key under N kids
        wrong_alg               the file with its first key's "alg" set to
                                one its type cannot serve
        cut                     a 200 that announces the file's length,
                                sends half of it and closes
    /control/file?path=P        serve P from now on instead of JWKS_FILE
"""

import json
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"count": 0, "mode": "ok", "file": None}
LOCK = threading.Lock()


def jwks_text(mode, path):
    with open(path, "rb") as f:
        text = f.read()

    if mode == "garbage":
        return b"<html>\x00\xff not a key set {\"keys\": [", 200

    if mode == "fail":
        return b"internal error\n", 500

    if mode.startswith("many:"):
        first = json.loads(text)["keys"][0]
        keys = []
        for i in range(int(mode[5:])):
            k = dict(first)
            k["kid"] = "many-%d" % i
            keys.append(k)
        return json.dumps({"keys": keys}).encode(), 200

    if mode == "wrong_alg":
        doc = json.loads(text)
        k = doc["keys"][0]
        k["alg"] = "ES256" if k.get("kty") == "RSA" else "RS256"
        return json.dumps(doc).encode(), 200

    return text, 200


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%.3f %s\n" % (time.time(), fmt % args))
        sys.stderr.flush()

    def answer(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)

        if url.path == "/jwks.json":
            with LOCK:
                STATE["count"] += 1
                mode = STATE["mode"]
                path = STATE["file"]
            if mode.startswith("slow:"):
                time.sleep(float(mode[5:]))
                mode = "ok"
            if mode == "cut":
                body, _ = jwks_text("ok", path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            body, status = jwks_text(mode, path)
            self.answer(status, body, "application/json")
            return

        if url.path == "/control/count":
            with LOCK:
                n = STATE["count"]
            self.answer(200, b"%d\n" % n)
            return

        if url.path == "/control/reset":
            with LOCK:
                STATE["count"] = 0
            self.answer(200, b"ok\n")
            return

        if url.path == "/control/mode":
            with LOCK:
                STATE["mode"] = q["m"][0]
            self.answer(200, b"ok\n")
            return

        if url.path == "/control/file":
            with LOCK:
                STATE["file"] = q["path"][0]
            self.answer(200, b"ok\n")
            return

        self.answer(404, b"not found\n")


def main():
    port = int(sys.argv[1])
    STATE["file"] = sys.argv[2]

    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True

    if len(sys.argv) > 4:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)

    srv.serve_forever()


if __name__ == "__main__":
    main()
