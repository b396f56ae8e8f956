#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Starts a real CardDAV server for tests/test-carddav on 127.0.0.1.

    carddav-server.py radicale DIR [USER PASSWORD]
    carddav-server.py xandikos DIR

DIR is throw-away storage the caller owns (created if missing). Picks a free
port, starts the server on it, waits until it accepts connections, prints the
port on the first line of stdout, and stops the server when stdin closes (so
it dies with the test that started it). A missing server program is an error
(exit status 2), never a skip: the test that needs it must fail.

Radicale gets htpasswd authentication (plain) for USER/PASSWORD (default
"me"/"secret") and owner_only rights; Xandikos runs with --defaults (an
address book at /user/contacts/addressbook/) and no authentication.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

START_TIMEOUT_S = 20
ATTEMPTS = 3


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def radicale_command(program, root, port, user, password):
    users = os.path.join(root, "users")
    with open(users, "w") as f:
        f.write("%s:%s\n" % (user, password))
    config = os.path.join(root, "config")
    with open(config, "w") as f:
        f.write(
            "[server]\nhosts = 127.0.0.1:%d\n\n"
            "[auth]\ntype = htpasswd\nhtpasswd_filename = %s\n"
            "htpasswd_encryption = plain\ndelay = 0\n\n"
            "[rights]\ntype = owner_only\n\n"
            "[storage]\nfilesystem_folder = %s\n\n"
            "[logging]\nlevel = warning\nmask_passwords = True\n"
            % (port, users, os.path.join(root, "collections")))
    return [program, "--config", config]


def xandikos_command(program, root, port):
    return [program, "-d", os.path.join(root, "data"), "-l", "127.0.0.1",
            "-p", str(port), "--defaults", "--current-user-principal", "/user/"]


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("radicale", "xandikos"):
        print(__doc__, file=sys.stderr)
        return 2
    kind, root = sys.argv[1], sys.argv[2]
    user = sys.argv[3] if len(sys.argv) > 3 else "me"
    password = sys.argv[4] if len(sys.argv) > 4 else "secret"
    program = shutil.which(kind)
    if not program:
        print("carddav-server: %s is not installed" % kind, file=sys.stderr)
        return 2
    os.makedirs(root, exist_ok=True)
    log = open(os.path.join(root, kind + ".log"), "ab")

    for _ in range(ATTEMPTS):
        port = free_port()
        if kind == "radicale":
            argv = radicale_command(program, root, port, user, password)
        else:
            argv = xandikos_command(program, root, port)
        server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and server.poll() is None:
            if accepts(port):
                break
            time.sleep(0.05)
        if server.poll() is None and accepts(port):
            break
        if server.poll() is None:
            server.kill()
        server.wait()
    else:
        print("carddav-server: %s did not start (see %s)" % (kind, log.name),
              file=sys.stderr)
        return 1

    print(port, flush=True)
    # Leave when the test closes our stdin (or dies).
    while sys.stdin.buffer.read(4096):
        pass
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
