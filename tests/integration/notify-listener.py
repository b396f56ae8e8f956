# SPDX-License-Identifier: GPL-3.0-or-later
"""Stands in for systemd's notification socket: binds the datagram socket
named by argv[1] and appends every message tiesd sends to argv[2]."""
import os
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        data = sock.recv(4096)
        log.write(data.decode(errors="replace").replace("\n", " ") + "\n")
