#!/usr/bin/python3
"""A leaky application server for the SPEC 12 tests: framework headers,
stack traces, HTML error pages, JSON and problem+json errors, with
Content-Length or chunked bodies.  Binds 127.0.0.1 only.

    boundary-backend.py PORT

GET/HEAD /<name>[?chunked] answers the response named in ROUTES; the
body is sent chunked when the query says so.  /slow waits 3 s first.
"""

import socketserver
import sys
import time

TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/app/views.py", line 42, in get_user\n'
    "    row = db.execute(\"SELECT * FROM users WHERE id=%s\" % uid)\n"
    "psycopg2.OperationalError: connection to 10.0.0.12:5432 refused\n"
)

HTML500 = (
    "<!DOCTYPE html><html><head><title>Whoops! Internal error</title>"
    "</head><body><h1>RuntimeException in Kernel.php line 81</h1>"
    "<pre>/var/www/app/vendor/framework/src/Kernel.php</pre>"
    "</body></html>\n"
)

LEAKY = [
    ("Server", "Werkzeug/2.2.2 Python/3.11.2"),
    ("X-Powered-By", "Express"),
    ("X-AspNet-Version", "4.0.30319"),
    ("X-AspNetMvc-Version", "5.2"),
    ("X-Runtime", "0.012345"),
    ("X-Debug-Token", "a1b2c3"),
    ("X-Debug-Token-Link", "http://10.0.0.12/_profiler/a1b2c3"),
    ("X-Backend-Server", "app-07.internal"),
]

ROUTES = {
    "ok": (200, "application/json", '{"ok":true}\n'),
    "traceback": (500, "text/plain; charset=utf-8", TRACEBACK),
    "html500": (500, "text/html", HTML500),
    "json404": (404, "application/json",
                '{"error":"user 42 not found in db.users"}\n'),
    "problem404": (404, "application/problem+json",
                   '{"type":"https://example.com/probs/no-user",'
                   '"title":"No such user","status":404}\n'),
    "json409": (409, "application/json; charset=utf-8",
                '{"error":"duplicate key users_pkey"}\n'),
    "slow": (200, "text/plain", "late\n"),
    "big500": (500, "text/html",
               "<html><pre>" + "frame at /srv/app/deep.py\n" * 12000
               + "</pre></html>\n"),
}


class Handler(socketserver.StreamRequestHandler):

    def handle(self):
        line = self.rfile.readline(8192).decode("latin-1")
        if not line:
            return
        method, target = line.split(" ")[0:2]
        length = 0
        while True:
            h = self.rfile.readline(8192).decode("latin-1")
            if h in ("\r\n", "\n", ""):
                break
            name, _, value = h.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            self.rfile.read(length)

        path, _, query = target.partition("?")
        name = path.lstrip("/")
        status, ctype, body = ROUTES.get(name, (404, "text/plain", "no\n"))
        if name == "slow":
            time.sleep(3)

        data = body.encode()
        head = ["HTTP/1.1 %d X" % status, "Content-Type: " + ctype,
                "Connection: close"]
        head += ["%s: %s" % h for h in LEAKY]
        chunked = query == "chunked"
        if chunked:
            head.append("Transfer-Encoding: chunked")
        else:
            head.append("Content-Length: %d" % len(data))

        out = ("\r\n".join(head) + "\r\n\r\n").encode()
        if method != "HEAD":
            if chunked:
                half = len(data) // 2
                for part in (data[:half], data[half:]):
                    out += b"%x\r\n%s\r\n" % (len(part), part)
                out += b"0\r\n\r\n"
            else:
                out += data
        self.wfile.write(out)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
