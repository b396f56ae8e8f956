# SPDX-License-Identifier: GPL-3.0-or-later
"""Speaks to tiesd's socket byte for byte, for tests of bad input.

usage: rawclient.py SOCKET MODE
  send-lines   read lines from stdin, send each (with its newline) and print
               every response line until a final one ("ok" member)
  oversized    send 70,000 bytes without a newline, print the response and
               whether the daemon then closed the connection
  idle SECONDS connect, send nothing, hold the connection open
"""
import json
import socket
import sys
import time


def read_response(sock, buffer):
    while b"\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None, buffer
        buffer += chunk
    line, _, rest = buffer.partition(b"\n")
    return line.decode(), rest


def main():
    path, mode = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    buffer = b""
    if mode == "send-lines":
        for line in sys.stdin.buffer:
            try:
                sock.sendall(line if line.endswith(b"\n") else line + b"\n")
            except BrokenPipeError:
                pass  # refused at once: the daemon's answer is still there to read
            while True:
                response, buffer = read_response(sock, buffer)
                if response is None:
                    print("CLOSED")
                    return
                print(response)
                if "ok" in json.loads(response):
                    break
    elif mode == "oversized":
        try:
            sock.sendall(b"x" * (3 * 1024 * 1024))  # beyond PROTOCOL_MAX_REQUEST (2 MiB)
        except BrokenPipeError:
            pass
        try:
            response, buffer = read_response(sock, buffer)
        except ConnectionResetError:
            response = None
        print(response)
        try:
            closed = sock.recv(1) == b""
        except ConnectionResetError:
            closed = True
        print("CLOSED" if closed else "OPEN")
    elif mode == "idle":
        time.sleep(float(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)


main()
