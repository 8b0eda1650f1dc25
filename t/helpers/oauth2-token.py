#!/usr/bin/python3
"""An OAuth2 token endpoint and an API behind it, for t/308, on 127.0.0.1.

    oauth2-token.py PORT API_PORT CLIENT_ID SECRET_FILE

POST /token on PORT is the client-credentials grant (RFC 6749 4.4): it
checks the method, the form body (grant_type=client_credentials), the
client's HTTP Basic credentials (form-encoded id and secret, RFC 6749
2.3.1) against CLIENT_ID and the secret in SECRET_FILE as read at that
moment, and answers a fresh token "at-N-<random>" (N counts tokens), or
401 invalid_client / 400 unsupported_grant_type.  Every POST /token is
counted, right or wrong.

Any request on API_PORT answers "auth=tok-N" when its Authorization is
"Bearer" and token N, "auth=none" without one, "auth=other" otherwise:
the API never repeats what it got.  GET /fail answers 500 there.

Commands on PORT:
    /control/count              POST /token requests so far
    /control/last               what the last one carried, or its fault
    /control/issued             every token issued, one a line
    /control/mode?m=MODE[&expires=S]
        ok                      a token, expires_in S (default 3600)
        fail                    500
        slow:S                  a token, after S seconds
        garbage                 bytes that are no JSON
        missing                 JSON without access_token
        mac                     token_type "mac"
        noexpiry                no expires_in
        header                  an access_token with a CR LF in it
"""

import base64
import json
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE = {"count": 0, "mode": "ok", "expires": 3600, "last": "",
         "tokens": []}
LOCK = threading.Lock()

PORT, API_PORT, CLIENT_ID, SECRET_FILE = (int(sys.argv[1]), int(sys.argv[2]),
                                          sys.argv[3], sys.argv[4])


def secret():
    with open(SECRET_FILE, "r") as f:
        return f.read().strip()


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%.3f %s\n" % (time.time(), fmt % args))
        sys.stderr.flush()

    def answer(self, status, body, ctype="text/plain"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)


class Token(Base):

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)

        with LOCK:
            if url.path == "/control/count":
                return self.answer(200, "%d\n" % STATE["count"])
            if url.path == "/control/last":
                return self.answer(200, STATE["last"] + "\n")
            if url.path == "/control/issued":
                return self.answer(200, "".join(t + "\n"
                                                for t in STATE["tokens"]))
            if url.path == "/control/mode":
                STATE["mode"] = q.get("m", ["ok"])[0]
                STATE["expires"] = int(q.get("expires", ["3600"])[0])
                return self.answer(200, "ok\n")

        self.answer(404, "no\n")

    def check(self, body):
        if self.command != "POST":
            return "method %s" % self.command
        if self.headers.get("Content-Type") != \
                "application/x-www-form-urlencoded":
            return "content-type %s" % self.headers.get("Content-Type")
        form = urllib.parse.parse_qs(body.decode("ascii", "replace"),
                                     keep_blank_values=True)
        if form.get("grant_type") != ["client_credentials"]:
            return "grant %s" % form.get("grant_type")
        if "client_secret" in form or "client_id" in form:
            return "credentials in the body"
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return "no basic credentials"
        try:
            raw = base64.b64decode(auth[6:], validate=True).decode()
        except Exception:
            return "basic credentials not base64"
        cid, _, csec = raw.partition(":")
        cid = urllib.parse.unquote_plus(cid)
        csec = urllib.parse.unquote_plus(csec)
        if cid != CLIENT_ID:
            return "client id %s" % cid
        if csec != secret():
            return "wrong client secret"
        return "ok grant=client_credentials scope=%s audience=%s" % (
            form.get("scope", [""])[0], form.get("audience", [""])[0])

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""

        with LOCK:
            STATE["count"] += 1
            verdict = self.check(body)
            STATE["last"] = verdict
            mode = STATE["mode"]
            expires = STATE["expires"]

        if self.path != "/token":
            return self.answer(404, "no\n")
        if not verdict.startswith("ok"):
            return self.answer(401, json.dumps({"error": "invalid_client"}),
                               "application/json")
        if mode == "fail":
            return self.answer(500, "internal error\n")
        if mode == "garbage":
            return self.answer(200, b"<html>\x00\xff {\"access_token\":",
                               "application/json")

        if mode.startswith("slow:"):
            time.sleep(float(mode[5:]))

        with LOCK:
            tok = "at-%d-%s" % (len(STATE["tokens"]) + 1,
                                secrets.token_urlsafe(24))
            STATE["tokens"].append(tok)

        doc = {"access_token": tok, "token_type": "Bearer",
               "expires_in": expires}
        if mode == "missing":
            del doc["access_token"]
        elif mode == "mac":
            doc["token_type"] = "mac"
        elif mode == "noexpiry":
            del doc["expires_in"]
        elif mode == "header":
            doc["access_token"] = tok + "\r\nX-Evil: 1"

        self.answer(200, json.dumps(doc), "application/json")


class Api(Base):

    def label(self):
        auth = self.headers.get("Authorization")
        if auth is None:
            return "none"
        with LOCK:
            for i, tok in enumerate(STATE["tokens"]):
                if auth == "Bearer " + tok:
                    return "tok-%d" % (i + 1)
        return "other"

    def do_GET(self):
        if self.path.startswith("/fail"):
            return self.answer(500, "failed\n")
        self.answer(200, "auth=%s\n" % self.label())

    do_POST = do_GET


class Server(ThreadingHTTPServer):
    request_queue_size = 256


def serve(port, handler):
    srv = Server(("127.0.0.1", port), handler)
    srv.daemon_threads = True
    srv.serve_forever()


threading.Thread(target=serve, args=(API_PORT, Api), daemon=True).start()
serve(PORT, Token)
