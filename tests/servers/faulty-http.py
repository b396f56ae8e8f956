#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP/1.1 test server for tests/test-http: well-behaved and broken answers.

Binds 127.0.0.1 on an ephemeral port, prints the port on the first line of
stdout, and exits when stdin closes (so it dies with the test that started it).
"""

import email.utils
import hashlib
import os
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USER = "alice"
PASSWORD = "s3cret-pass"
REALM = "ties-test"
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"

conc_lock = threading.Lock()
conc = {"current": 0, "max": 0}
# The scheme of each request to /basic and /digest ("none" without one),
# read and cleared by /auth-log.
auth_log = []


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without this, Nagle and delayed
    # ACKs hold every keep-alive answer back for 40 ms.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.counted = False

    def finish(self):
        if self.counted:
            with conc_lock:
                conc["current"] -= 1
        super().finish()

    def __getattr__(self, name):
        # Every method (GET, PROPFIND, REPORT, ...) goes to one handler.
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def reply(self, status, body=b"", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, status, location):
        self.reply(status, "moved\n", [("Location", location)])

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        url = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        name = parts[0] if parts else ""
        handler = getattr(self, "page_" + name.replace("-", "_"), None)
        if handler is None:
            self.reply(404, "not found\n")
        else:
            handler(parts[1:])

    def page_ok(self, args):
        self.reply(200, "hello world\n", [("ETag", '"v1"'),
                                          ("Last-Modified", LAST_MODIFIED),
                                          ("Content-Type", "text/plain; charset=utf-8")])

    def page_status(self, args):
        self.reply(int(args[0]), "status %s\n" % args[0])

    def page_retry_after(self, args):
        self.reply(429, "slow down\n", [("Retry-After", urllib.parse.unquote(args[0]))])

    def page_retry_date(self, args):
        when = email.utils.formatdate(time.time() + int(args[0]), usegmt=True)
        self.reply(503, "later\n", [("Retry-After", when)])

    def page_redirect(self, args):
        # /redirect/CODE/N: N hops of CODE, then 200.
        code, hops = int(args[0]), int(args[1])
        if hops == 0:
            self.reply(200, "final\n")
        else:
            self.redirect(code, "/redirect/%d/%d" % (code, hops - 1))

    def page_chain(self, args):
        # /chain/301/302: one hop per listed status, then 200.
        if not args:
            self.reply(200, "chain end\n")
        else:
            self.redirect(int(args[0]), "/chain/" + "/".join(args[1:]))

    def page_loop(self, args):
        self.redirect(302, "/loop/b" if args == ["a"] else "/loop/a")

    def page_to(self, args):
        status = int(self.query.get("status", ["301"])[0])
        self.redirect(status, self.query["url"][0])

    def page_truncated(self, args):
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        self.wfile.write(b"only ten!\n")
        self.wfile.flush()
        self.close_connection = True

    def page_big(self, args):
        self.reply(200, b"x" * int(args[0]))

    def page_declared(self, args):
        # Announces a huge body, then stalls: only a check of the
        # Content-Length ends this quickly.
        self.send_response(200)
        self.send_header("Content-Length", str(10 ** 9))
        self.end_headers()
        self.wfile.write(b"z" * 10)
        self.wfile.flush()
        time.sleep(3)
        self.close_connection = True

    def page_chunked(self, args):
        size = int(args[0])
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while size > 0:
            n = min(size, 1000)
            self.wfile.write(b"%x\r\n%s\r\n" % (n, b"y" * n))
            size -= n
        self.wfile.write(b"0\r\n\r\n")

    def log_auth(self):
        header = self.headers.get("Authorization")
        with conc_lock:
            auth_log.append(header.split(" ")[0] if header else "none")

    def page_auth_log(self, args):
        with conc_lock:
            self.reply(200, " ".join(auth_log) + "\n")
            auth_log.clear()

    def page_basic(self, args):
        self.log_auth()
        expected = "Basic " + __import__("base64").b64encode(
            ("%s:%s" % (USER, PASSWORD)).encode()).decode()
        if self.headers.get("Authorization") == expected:
            self.reply(200, "welcome %s\n" % USER)
        else:
            self.reply(401, "who are you?\n",
                       [("WWW-Authenticate", 'Basic realm="%s"' % REALM)])

    def page_digest(self, args):
        self.log_auth()
        header = self.headers.get("Authorization") or ""
        if header.startswith("Digest "):
            p = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:]))
            ha1 = md5("%s:%s:%s" % (USER, REALM, PASSWORD))
            ha2 = md5("%s:%s" % (self.command, p.get("uri", "")))
            expected = md5("%s:%s:%s:%s:%s:%s" % (ha1, p.get("nonce"), p.get("nc"),
                                                  p.get("cnonce"), p.get("qop"), ha2))
            if p.get("username") == USER and p.get("response") == expected:
                self.reply(200, "digest welcome %s\n" % USER)
                return
        challenge = 'Digest realm="%s", qop="auth", algorithm=MD5, nonce="%s"' % (
            REALM, secrets.token_hex(16))
        self.reply(401, "who are you?\n", [("WWW-Authenticate", challenge)])

    def page_echo(self, args):
        lines = ["method: " + self.command]
        for name in ("Authorization", "Content-Type", "Depth", "If-None-Match",
                     "If-Modified-Since", "User-Agent", "Expect"):
            if name in self.headers:
                value = self.headers[name]
                lines.append("%s: %s" % (name, "present" if name == "Authorization" else value))
        lines.append("body: " + self.body.decode(errors="replace"))
        self.reply(200, "\n".join(lines) + "\n", [("Content-Type", "text/plain")])

    def page_conc(self, args):
        # Counts open connections that asked for /conc at least once.
        if not self.counted:
            self.counted = True
            with conc_lock:
                conc["current"] += 1
                conc["max"] = max(conc["max"], conc["current"])
        time.sleep(int(args[0]) / 1000.0)
        self.reply(200, "done\n")

    def page_conc_stats(self, args):
        with conc_lock:
            self.reply(200, "%d %d\n" % (conc["max"], conc["current"]))

    def page_conc_reset(self, args):
        with conc_lock:
            conc["max"] = conc["current"]
        self.reply(200, "reset\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # Clients that hang up mid-answer are what some tests do on purpose.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def wait_for_stdin_eof():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=wait_for_stdin_eof, daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
