# SPDX-License-Identifier: GPL-3.0-or-later
"""Fills or edits a CardDAV address book over one keep-alive connection.

usage: carddav-put.py BOOK_URL USER PASSWORD COMMAND ...
  fill N             PUT cards card-0 … card-(N-1) (Japanese and English)
  put UID FN ORG     PUT (create or replace) one card
  delete UID         DELETE one card
  delete-all N       DELETE card-0 … card-(N-1)
"""
import base64
import http.client
import sys
import urllib.parse

FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "Smith", "Garcia", "Müller", "Kim", "Nguyen"]
GIVEN = ["太郎", "花子", "健", "美咲", "翔", "Anna", "John", "Lea", "Min", "Linh"]
ORGS = ["株式会社ABC", "Example Inc.", "(株)サンプル", "Globex Corporation", "Initech"]


def card(uid, fn, org, title="Engineer"):
    return (f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{fn}\r\nORG:{org}\r\n"
            f"TITLE:{title}\r\nEMAIL:{uid}@example.com\r\nEND:VCARD\r\n")


def main():
    url, user, password, command = sys.argv[1:5]
    args = sys.argv[5:]
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    path = parts.path.rstrip("/") + "/"

    def request(method, uid, body=None):
        h = dict(headers)
        if body is not None:
            h["Content-Type"] = "text/vcard; charset=utf-8"
        conn.request(method, f"{path}{uid}.vcf", body=body.encode() if body else None, headers=h)
        response = conn.getresponse()
        response.read()
        if response.status >= 300 and not (method == "DELETE" and response.status == 404):
            sys.exit(f"{method} {uid}: {response.status}")

    if command == "fill":
        for i in range(int(args[0])):
            fn = f"{FAMILY[i % 10]} {GIVEN[(i // 10) % 10]} {i}"
            request("PUT", f"card-{i}", card(f"card-{i}", fn, ORGS[i % 5]))
    elif command == "put":
        request("PUT", args[0], card(args[0], args[1], args[2], args[3] if len(args) > 3 else "Engineer"))
    elif command == "delete":
        request("DELETE", args[0])
    elif command == "delete-all":
        for i in range(int(args[0])):
            request("DELETE", f"card-{i}")
    else:
        sys.exit("unknown command " + command)


main()
