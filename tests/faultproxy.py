#!/usr/bin/env python3
"""faultproxy.py - an HTTP/1.1 proxy for tests that injects S3 faults.

    faultproxy.py UPSTREAM_PORT PORT_FILE LOG_FILE [--seed N] [--rate R]
                  [--kinds K,K...] [--match REGEX] [--max N]

Listens on a free port of 127.0.0.1 (written to PORT_FILE once listening)
and forwards each request to 127.0.0.1:UPSTREAM_PORT unchanged (the Host
header included, so SigV4 signatures stay valid).  With probability RATE,
drawn from a random generator seeded with N, a request instead gets one of:

  500      HTTP 500 InternalError, body read first
  503      HTTP 503 SlowDown, body read first
  reset    the connection reset halfway through the request body
  lost     forwarded to S3, which acts on it, but the answer never arrives
  gone     forwarded to S3, which acts on it, then answered 404 NoSuchUpload
           (what AWS says to a Complete retried after one that worked)
  nosuch   answered 404 NoSuchUpload without reaching S3 (an upload that
           a lifecycle rule aborted)

--kinds limits the faults to those listed, --match to requests whose
"METHOD PATH" matches REGEX, --max to the first N faults.

Every fault is logged to LOG_FILE as "FAULT kind METHOD PATH", every
forwarded request as "PASS METHOD PATH".  One request per connection
(upstream gets "Connection: close"), which keeps the relay simple.
Only the standard library: runs on a fresh Debian 12.
"""
import os
import random
import re
import socket
import socketserver
import struct
import sys
import threading

ERR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
       '<Message>%s (injected by faultproxy)</Message></Error>')


def read_head(f):
    lines = []
    while True:
        line = f.readline(65537)
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            return lines
        lines.append(line)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        srv = self.server
        head = read_head(self.rfile)
        if not head:
            return
        method, path = head[0].split(b" ")[:2]
        length = 0
        out = [head[0]]
        for h in head[1:]:
            name, _, value = h.partition(b":")
            n = name.strip().lower()
            if n == b"content-length":
                length = int(value.strip())
            if n in (b"connection", b"keep-alive", b"proxy-connection"):
                continue
            out.append(h)
        out.append(b"Connection: close\r\n\r\n")
        with srv.lock:
            fault = None
            if (srv.rng.random() < srv.rate and srv.left != 0 and
                    srv.match.search((method + b" " + path).decode())):
                fault = srv.rng.choice(srv.kinds)
                srv.left -= 1
            srv.log.write("%s %s %s %s\n" % (
                "FAULT" if fault else "PASS", fault or "-",
                method.decode(), path.decode()))
            srv.log.flush()
        if fault in ("500", "503", "nosuch"):
            self.rfile.read(length)
            self.error(fault)
            return
        if fault == "reset":
            self.rfile.read(length // 2)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            return
        up = socket.create_connection(("127.0.0.1", srv.upstream))
        try:
            up.sendall(b"".join(out))
            left = length
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    return
                up.sendall(chunk)
                left -= len(chunk)
            reply = []
            while True:
                chunk = up.recv(1 << 20)
                if not chunk:
                    break
                reply.append(chunk)
        finally:
            up.close()
        if fault == "lost":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            return
        if fault == "gone":
            self.error(fault)
            return
        self.wfile.write(b"".join(reply))

    def error(self, fault):
        code, text, status = {
            "500": ("InternalError", "We encountered an internal error",
                    b"500 Internal Server Error"),
            "503": ("SlowDown", "Please reduce your request rate",
                    b"503 Slow Down"),
        }.get(fault, ("NoSuchUpload", "The specified upload does not exist",
                      b"404 Not Found"))
        body = (ERR % (code, text)).encode()
        self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: "
                         b"application/xml\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % len(body) + body)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    args = sys.argv[1:]
    seed, rate = 1, 0.2
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if "--rate" in args:
        i = args.index("--rate")
        rate = float(args[i + 1])
        del args[i:i + 2]
    opts = {"--kinds": "500,503,reset,lost", "--match": "", "--max": "-1"}
    for k in opts:
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        sys.exit(64)
    srv = Server(("127.0.0.1", 0), Handler)
    srv.upstream = int(args[0])
    srv.rng = random.Random(seed)
    srv.rate = rate
    srv.kinds = opts["--kinds"].split(",")
    srv.match = re.compile(opts["--match"])
    srv.left = int(opts["--max"])
    srv.lock = threading.Lock()
    srv.log = open(args[2], "a")
    with open(args[1] + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(args[1] + ".tmp", args[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
