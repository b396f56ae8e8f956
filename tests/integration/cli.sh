#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# tiesctl on its own, with no tiesd: argument checking, exit statuses, the
# socket path, and reading answers from one-shot peers that split, refuse
# or drop them. Prints TAP.

set -u
: "${TIESCTL:?TIESCTL must name the tiesctl binary}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ties-cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
n=0

# run ARG...: runs tiesctl; its status in $status, output in $tmp/out, $tmp/err
run() {
	"$TIESCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	status=$?
}

# run_env ENV-ARG...: `tiesctl status` in an environment changed as env(1) does
run_env() {
	env "$@" "$TIESCTL" status >"$tmp/out" 2>"$tmp/err"
	status=$?
}

# check DESCRIPTION COMMAND...: one TAP line; on failure shows tiesctl's output
check() {
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		echo "#   exit status: $status"
		sed 's/^/#   stdout: /' "$tmp/out"
		sed 's/^/#   stderr: /' "$tmp/err"
	fi
}

status_is() { [ "$status" -eq "$1" ]; }
out_has() { grep -q -e "$1" "$tmp/out"; }
err_has() { grep -q -e "$1" "$tmp/err"; }
out_empty() { [ ! -s "$tmp/out" ]; }
err_empty() { [ ! -s "$tmp/err" ]; }

# ---- usage ----

run --help
check "--help exits 0" status_is 0
check "--help writes to stdout only" err_empty
all_listed=true
for command in status sources sync contacts show who-at events nudges touch \
	snooze dismiss cadence feeds link unlink reload version; do
	grep -q "^  $command" "$tmp/out" || { all_listed=false; echo "# --help lacks $command"; }
done
check "--help lists every command" $all_listed

run touch --help
check "touch --help exits 0" status_is 0
check "touch --help shows touch's options" out_has "--at DATE"

run --version
check "--version prints the client version" out_has "^tiesctl [0-9]"

run
check "no command is a usage error" status_is 2

run frobnicate
check "an unknown command exits 2" status_is 2
check "... and names it" err_has "frobnicate"

run touch
check "touch without CONTACT exits 2" status_is 2
check "... and says CONTACT is missing" err_has "missing CONTACT"
check "... with a usage line" err_has "^Usage: tiesctl touch"

run snooze x 5q
check "snooze with a bad duration exits 2" status_is 2
check "... and names the duration" err_has '"5q"'

run touch x --at notadate
check "touch --at with a bad date exits 2" status_is 2
check "... and names the date" err_has "notadate"

run dismiss abc
check "dismiss with a non-numeric EVENT exits 2" status_is 2

run events --since 3x
check "events --since with a bad duration exits 2" status_is 2

run events --kind nonsense
check "events --kind with an unknown kind exits 2" status_is 2

run contacts --bogus
check "an unknown option exits 2" status_is 2
check "... and names it" err_has "bogus"

run show a b
check "an extra argument exits 2" status_is 2

run status --socket
check "--socket without a value exits 2" status_is 2

run sync --wait=yes
check "a flag given a value exits 2" status_is 2

run feeds add https://example.com/feed
check "feeds add without --contact exits 2" status_is 2

run feeds import "$tmp/no-such.opml"
check "feeds import of a missing file exits 2" status_is 2

# ---- no daemon ----

for command in status contacts nudges version; do
	run --socket /nonexistent/sock "$command"
	check "$command with no daemon exits 3" status_is 3
	check "... and says how to start it" err_has "systemctl --user start tiesd.socket"
done

run --socket /nonexistent/sock version
check "version with no daemon still prints the client version" out_has "^tiesctl [0-9]"

run --json --socket /nonexistent/sock status
check "--json status with no daemon exits 3" status_is 3
check "... and prints nothing on stdout" out_empty

run_env TIES_SOCKET=/nonexistent/env.sock
check "TIES_SOCKET names the socket" err_has "/nonexistent/env.sock"

run_env -u TIES_SOCKET XDG_RUNTIME_DIR="$tmp/rt"
check "the default socket is in XDG_RUNTIME_DIR" err_has "$tmp/rt/ties/tiesd.sock"

run_env -u TIES_SOCKET -u XDG_RUNTIME_DIR HOME="$tmp/home" XDG_CACHE_HOME=
check "without XDG_RUNTIME_DIR, where tiesd listens then (GLib's fallback)" err_has "$tmp/home/.cache/ties/tiesd.sock"

run --socket "/$(printf '%0200d' 0)/sock" status
check "a socket path too long for AF_UNIX exits 3" status_is 3

# ---- one-shot peers ----

cat >"$tmp/peer.py" <<'EOF'
import socket, sys, time

path, mode, log = sys.argv[1], sys.argv[2], sys.argv[3]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
server.settimeout(20)
conn, _ = server.accept()
conn.settimeout(20)
request = b""
while not request.endswith(b"\n"):
    chunk = conn.recv(4096)
    if not chunk:
        break
    request += chunk
with open(log, "wb") as f:
    f.write(request)
if mode == "split":
    conn.sendall(b'{"version":1,"ok":true,"res')
    time.sleep(0.3)
    conn.sendall(b'ult":{"version":"9.9.9","protocol":1}}\n')
elif mode == "error":
    conn.sendall(b'{"version":1,"ok":false,"error":{"code":"not-found","message":"no contact"}}\n')
elif mode == "progress":
    # Progress and the final response in one write.
    p = b'{"source":"phone","result":"ok","message":null,"added":3,"updated":1,"gone":0,"unchanged":38}'
    conn.sendall(b'{"version":1,"progress":' + p + b'}\n{"version":1,"ok":true,"result":{"results":[' + p + b']}}\n')
elif mode == "failed-source":
    p = b'{"source":"work","result":"error","message":"401 Unauthorized","added":0,"updated":0,"gone":0,"unchanged":0}'
    conn.sendall(b'{"version":1,"progress":' + p + b'}\n')
    time.sleep(0.3)
    conn.sendall(b'{"version":1,"ok":true,"result":{"results":[' + p + b']}}\n')
elif mode == "garbage":
    conn.sendall(b'this is not json\n')
elif mode == "contacts":
    conn.sendall(('{"version":1,"ok":true,"result":{"contacts":['
        '{"id":7,"name":"山田 太郎","org":"株式会社ABC","last_interaction":null,"next_due":null},'
        '{"id":12,"name":"Ken Suzuki-Smith","org":"Acme","last_interaction":null,"next_due":null},'
        '{"id":13,"name":"Evil\\u001b[2J","org":"X","last_interaction":null,"next_due":null}'
        ']}}\n').encode())
elif mode == "close":
    pass
conn.close()
server.close()
EOF

# peer MODE TIESCTL-ARG...: runs tiesctl against a peer that answers as MODE
peer() {
	mode=$1
	shift
	sock="$tmp/peer$n.sock"
	rm -f "$tmp/request"
	python3 "$tmp/peer.py" "$sock" "$mode" "$tmp/request" 2>"$tmp/peer.err" &
	pid=$!
	tries=0
	while [ ! -S "$sock" ] && [ $tries -lt 100 ]; do
		sleep 0.05
		tries=$((tries + 1))
	done
	run --socket "$sock" "$@"
	wait $pid
}

if command -v python3 >/dev/null 2>&1; then
	peer split version
	check "a response split over two writes is read" status_is 0
	check "... and printed" out_has "tiesd 9.9.9"

	peer split --json version
	check "--json prints the result object only" \
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d != {"version":"9.9.9","protocol":1})' "$tmp/out"
	check "the request is one JSON line of protocol version 1" \
		python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); sys.exit(not (d["version"]==1 and d["command"]=="version" and "args" in d))' "$tmp/request"

	peer error show nobody
	check "a refusal exits 1" status_is 1
	check "... with the daemon's message on stderr" err_has "^tiesctl: no contact"

	peer error --json show nobody
	check "--json: a refusal exits 1" status_is 1
	check "... with nothing on stdout" out_empty

	peer contacts contacts
	check "contacts prints a table" status_is 0
	check "... whose columns line up by display width (CJK is two cells)" python3 -c '
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
cols = {width(l[:l.index(org)]) for l, org in zip(lines, ["ORG", "株式会社ABC", "Acme", "X "])}
sys.exit(len(lines) != 4 or len(cols) != 1)' "$tmp/out"
	check "... and passes no control character to the terminal" \
		python3 -c 'import sys; sys.exit(b"\x1b" in open(sys.argv[1], "rb").read())' "$tmp/out"

	peer close status
	check "a peer closing without answering exits 3" status_is 3

	peer garbage status
	check "an unreadable answer exits 1" status_is 1

	peer progress sync --wait
	check "progress and result in one read: exits 0" status_is 0
	check "... and prints the progress line" out_has "^phone: ok, 3 added, 1 updated, 0 gone$"
	check "... once" [ "$(grep -c phone "$tmp/out")" -eq 1 ]
	check "sync --wait asks to wait" grep -q '"wait" *: *true' "$tmp/request"

	peer failed-source sync --wait work
	check "sync --wait with a failed source exits 1" status_is 1
	check "... and says why" out_has "^work: error: 401 Unauthorized"

	peer close touch tanaka --at 2025-01-10T12:00:00+09:00 --via meet
	check "touch sends --at as RFC 3339 UTC" grep -q '"at" *: *"2025-01-10T03:00:00Z"' "$tmp/request"
else
	n=$((n + 1))
	echo "not ok $n - python3 is needed for the peer tests"
fi

echo "1..$n"
