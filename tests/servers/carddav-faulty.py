#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A broken CardDAV server for tests/test-carddav.

Binds 127.0.0.1 on an ephemeral port, prints the port on the first line of
stdout, and exits when stdin closes (so it dies with the test that started it).

The first path segment picks the fault:
  /malformed/, /truncated/, /entity/, /notxml/, /status500/
      a PROPFIND on the URL itself goes wrong that way;
  /book-malformed/, /book-truncated/, /book-bigcard/, /book-deep/,
  /book-500/, /book-nodata/
      the URL is a healthy address book (PROPFIND), and its REPORT answers
      go wrong that way.
"""

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'
NS = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"'


def card(i, extra=""):
    return ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:f%d\r\nFN:Faulty %d\r\n%sEND:VCARD\r\n"
            % (i, i, extra))


def card_response(path, i, extra=""):
    return ('<d:response><d:href>%sf%d.vcf</d:href><d:propstat><d:prop>'
            '<d:getetag>"e%d"</d:getetag><c:address-data>%s</c:address-data>'
            '</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'
            % (path, i, i, card(i, extra)))


def book_propfind(path):
    return (HEAD + '<d:multistatus %s><d:response><d:href>%s</d:href><d:propstat><d:prop>'
            '<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype>'
            '<d:displayname>Faulty</d:displayname><d:sync-token>t1</d:sync-token>'
            '</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'
            '</d:multistatus>' % (NS, path))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def reply(self, status, body, length=None, content_type="application/xml; charset=utf-8"):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if length is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        if length is not None:
            self.wfile.flush()
            self.close_connection = True

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?")[0]
        parts = [p for p in path.split("/") if p]
        fault = parts[0] if parts else ""
        if fault.startswith("book-"):
            if self.command == "PROPFIND":
                self.reply(207, book_propfind(path))
            else:
                self.book_report(fault[5:], path)
            return
        if fault == "malformed":
            self.reply(207, HEAD + '<d:multistatus %s><d:response><d:href>%s</d:href>'
                       '<d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype>'
                       '</d:prop></d:propstat></d:oops></d:multistatus>' % (NS, path))
        elif fault == "truncated":
            body = book_propfind(path).encode()
            self.reply(207, body[:len(body) // 2], length=len(body))
        elif fault == "entity":
            laughs = ('<!DOCTYPE d:multistatus [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                      '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>')
            self.reply(207, HEAD + laughs + '<d:multistatus %s><d:response><d:href>&c;</d:href>'
                       '</d:response></d:multistatus>' % NS)
        elif fault == "notxml":
            self.reply(207, "<html><body>hello</body></html>", content_type="text/html")
        elif fault == "status500":
            self.reply(500, "oops\n", content_type="text/plain")
        else:
            self.reply(404, "no such fault\n", content_type="text/plain")

    def book_report(self, fault, path):
        good = "".join(card_response(path, i) for i in range(3))
        if fault == "malformed":
            self.reply(207, HEAD + '<d:multistatus %s>%s<d:response><d:href>%sx.vcf</d:foo>'
                       '</d:multistatus>' % (NS, good, path))
        elif fault == "truncated":
            body = (HEAD + '<d:multistatus %s>%s%s</d:multistatus>'
                    % (NS, good, card_response(path, 9, "NOTE:" + "x" * 5000 + "\r\n"))).encode()
            self.reply(207, body[:len(body) - 2000], length=len(body))
        elif fault == "bigcard":
            big = card_response(path, 7, "NOTE:" + "y" * (2 * 1024 * 1024) + "\r\n")
            self.reply(207, HEAD + '<d:multistatus %s>%s%s</d:multistatus>' % (NS, good, big))
        elif fault == "deep":
            self.reply(207, HEAD + '<d:multistatus %s>%s%s%s</d:multistatus>'
                       % (NS, good, "<d:x>" * 200, "</d:x>" * 200))
        elif fault == "nodata":
            self.reply(207, HEAD + '<d:multistatus %s><d:response><d:href>%sf1.vcf</d:href>'
                       '<d:propstat><d:prop><d:getetag>"e1"</d:getetag></d:prop>'
                       '<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>'
                       '</d:multistatus>' % (NS, path))
        elif fault == "500":
            self.reply(500, "Internal Server Error\n", content_type="text/plain")
        else:
            self.reply(207, HEAD + '<d:multistatus %s>%s</d:multistatus>' % (NS, good))


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients hang up on purpose here (a card too large, ...).
        pass


def wait_for_stdin_eof(server):
    while sys.stdin.buffer.read(4096):
        pass
    server.shutdown()


def main():
    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=wait_for_stdin_eof, args=(server,), daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
