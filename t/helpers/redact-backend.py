#!/usr/bin/python3
"""An application server that leaks card numbers, for t/525: JSON and
text bodies with card numbers, with Content-Length or chunked, one sent
in two writes with a pause that cut a card number in two, a gzip body,
a 206, an ETag for 304s, big bodies, and /echo, which answers the
request headers it received.  Binds 127.0.0.1 only.

    redact-backend.py PORT

GET/HEAD /<name>[?chunked]: the response named in ROUTES, chunked when
the query says so; /split pauses 0.3 s between its writes, /slowsplit
1.5 s.
"""

import gzip
import json
import socketserver
import sys
import time

CARDS = (
    '{"orders":[{"id":88421,"card":"4111111111111111",'
    '"ts":1767225600123},{"card":"5555 5555 5555 4444"},'
    '{"card":"3782-822463-10005"}],"ref":"a4111111111111111",'
    '"bad":"4111111111111112"}\n'
)

# the card is cut after "4111 1111 11": the pause makes two reads
SPLIT = ('{"name":"Jane","card":"4111 1111 11', '11 1111","exp":"12/29"}\n')

BIG = '{"rows":[' + ','.join(
    '{"n":%d,"card":"4111111111111111"}' % i for i in range(6000)) + ']}\n'

ROUTES = {
    "cards": (200, "application/json; charset=utf-8", CARDS),
    "hal": (200, "application/hal+json", CARDS),
    "text": (200, "text/plain",
             "ssn 123-45-6789, card 6011000990139424, id 1767225600123\n"),
    "xml": (200, "application/xml",
            "<card>4111111111111111</card>\n"),
    "created": (201, "application/json", '{"card":"4111111111111111"}\n'),
    "error": (422, "application/json",
              '{"error":"card 4111111111111111 declined"}\n'),
    "big": (200, "application/json", BIG),
}


class Handler(socketserver.StreamRequestHandler):

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1")
        if not line:
            return
        method, target = line.split(" ")[0:2]
        headers = {}
        length = 0
        while True:
            h = self.rfile.readline(8192).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            name, _, value = h.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if length:
            self.rfile.read(length)

        path, _, query = target.partition("?")
        name = path.lstrip("/")
        chunked = query == "chunked"
        extra = []
        status = 200
        ctype = "application/json"
        parts = None

        pause = 0.3
        if name in ("split", "slowsplit"):
            parts = [p.encode() for p in SPLIT]
            if name == "slowsplit":
                pause = 1.5
        elif name == "echo":
            body = json.dumps({k: headers.get(k) for k in
                               ("accept-encoding", "range", "if-range")})
            parts = [body.encode()]
        elif name == "gzip":
            parts = [gzip.compress(CARDS.encode())]
            extra.append("Content-Encoding: gzip")
        elif name == "partial":
            status = 206
            parts = [CARDS[:20].encode()]
            extra.append("Content-Range: bytes 0-19/%d" % len(CARDS))
        elif name == "etag":
            extra.append('ETag: "v1"')
            if headers.get("if-none-match") == '"v1"':
                status = 304
                parts = []
            else:
                parts = [CARDS.encode()]
        elif name in ROUTES:
            status, ctype, body = ROUTES[name]
            parts = [body.encode()]
        else:
            status, ctype, parts = 404, "text/plain", [b"no\n"]

        head = ["HTTP/1.1 %d X" % status, "Content-Type: " + ctype,
                "Connection: close"] + extra
        if status != 304:
            if chunked:
                head.append("Transfer-Encoding: chunked")
            else:
                head.append("Content-Length: %d" % sum(map(len, parts)))

        self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode())
        if method == "HEAD" or status == 304:
            return
        for i, part in enumerate(parts):
            if i:
                self.wfile.flush()
                time.sleep(pause)
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            else:
                self.wfile.write(part)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
