#!/usr/bin/python3
"""An upstream that tells what it received, for the request-validation
tests (t/440-t/445): the method, the request body's length and SHA-256,
and how it was framed.  Binds 127.0.0.1 only.

    echo-backend.py PORT

Every request is answered 200 with a JSON object:
{"method","uri","length","sha256","content_length","transfer_encoding",
 "content_type"}.
"""

import hashlib
import json
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):

    def read_body(self, headers):
        te = headers.get("transfer-encoding", "")
        if "chunked" in te.lower():
            body = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(headers.get("content-length", "0") or "0")
        return self.rfile.read(n) if n else b""

    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            parts = line.decode("latin-1").split()
            if len(parts) < 2:
                return
            headers = {}
            while True:
                h = self.rfile.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                k, _, v = h.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            body = self.read_body(headers)
            out = json.dumps({
                "method": parts[0],
                "uri": parts[1],
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "content_length": headers.get("content-length"),
                "transfer_encoding": headers.get("transfer-encoding"),
                "content_type": headers.get("content-type"),
            }).encode() + b"\n"
            self.wfile.write(b"HTTP/1.1 200 OK\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: " + str(len(out)).encode()
                             + b"\r\n\r\n" + out)
            self.wfile.flush()
            if headers.get("connection", "").lower() == "close":
                return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
