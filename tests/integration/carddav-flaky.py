# SPDX-License-Identifier: GPL-3.0-or-later
"""An address book of three cards at /book/ that goes wrong on demand.

usage: carddav-flaky.py MODE_FILE   (prints its port, runs until stdin closes)

Before each request the server reads MODE_FILE: "ok" answers as a CardDAV
server would; "500", "truncated" (a body cut short), "oversized" (more
body than any client should take), "redirect-loop", "malformed" (broken
multistatus XML), "html" (a login page) and "hang" (headers, then nothing
for a minute) go wrong that way.
"""
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"'
CARDS = [("a", "Aiko Abe", "ACME"), ("b", "Ben Brown", "Globex"), ("c", "Chie Chiba", "株式会社ABC")]


def vcard(uid, fn, org):
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{fn}\r\nORG:{org}\r\nEND:VCARD\r\n"


def multistatus(body, token="t1"):
    return f'<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus {NS}>{body}<d:sync-token>{token}</d:sync-token></d:multistatus>'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, length=None, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/xml; charset=utf-8")
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(length if length is not None else len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        size = int(self.headers.get("Content-Length") or 0)
        request = self.rfile.read(size).decode(errors="replace")
        mode = open(sys.argv[1]).read().strip()
        if mode == "500":
            return self.reply(500, "internal error")
        if mode == "truncated":
            self.reply(207, multistatus("")[:60], length=4000)
            self.close_connection = True
            return
        if mode == "oversized":
            self.send_response(207)
            self.send_header("Content-Type", "application/xml")
            self.end_headers()
            chunk = b" " * 65536  # white space between elements: well-formed, just endless
            try:
                self.wfile.write(f'<?xml version="1.0"?>\n<d:multistatus {NS}>'.encode())
                for _ in range(600):  # 39 MB, more than the 16 MiB cap
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return
        if mode == "redirect-loop":
            return self.reply(301, "", headers=[("Location", self.path)])
        if mode == "malformed":
            return self.reply(207, multistatus("<d:response><d:href>/book/a.vcf</d:href><d:propstat>")[:-30] + "</oops>")
        if mode == "hang":
            self.send_response(207)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", "4000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
            return
        if mode == "html":
            self.send_response(200)
            body = b"<html><body>Please log in</body></html>"
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        # A healthy server: the book itself, its cards, an empty change list.
        if self.command == "PROPFIND":
            prop = ('<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype>'
                    '<d:displayname>book</d:displayname><d:sync-token>t1</d:sync-token>')
            return self.reply(207, multistatus(f'<d:response><d:href>/book/</d:href><d:propstat><d:prop>{prop}'
                                               '</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'))
        if "sync-collection" in request:
            return self.reply(207, multistatus(""))
        cards = "".join(f'<d:response><d:href>/book/{uid}.vcf</d:href><d:propstat><d:prop><d:getetag>"{uid}1"</d:getetag>'
                        f'<c:address-data>{vcard(uid, fn, org)}</c:address-data></d:prop>'
                        '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>' for uid, fn, org in CARDS)
        return self.reply(207, multistatus(cards))

    do_PROPFIND = do_REPORT = do_GET = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()


main()
