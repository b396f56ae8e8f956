#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# A CardDAV server that goes wrong: every fault (a server that stops
# answering too, cut off by the source's timeout) is a source error, tiesd
# keeps running and answers meanwhile, nothing stored is lost; passwords come from
# password-command and ~/.netrc too.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 19

echo ok > "$TEST_DIR/mode"
mkfifo "$TEST_DIR/flaky.in"
python3 "$TESTS_SRCDIR/integration/carddav-flaky.py" "$TEST_DIR/mode" < "$TEST_DIR/flaky.in" > "$TEST_DIR/flaky.port" &
cleanup_pids="$cleanup_pids $!"
exec 9> "$TEST_DIR/flaky.in"
wait_for 10 test -s "$TEST_DIR/flaky.port"
BOOK="http://127.0.0.1:$(cat "$TEST_DIR/flaky.port")/book/"
write_config <<CONF
[ties]
quiet-hours = off
[source.work]
type = carddav
url = $BOOK
timeout = 2s
CONF
start_tiesd
sync_wait work
is "the healthy server's three cards are stored" "$(tiesctl --json contacts | json 'len(d["contacts"])')" 3

for fault in 500 truncated oversized redirect-loop malformed html hang; do
	echo "$fault" > "$TEST_DIR/mode"
	tiesctl sync --wait work >/dev/null 2>&1
	rc=$?
	err=$(tiesctl --json sources | json 'd["sources"][0]["last_error"]')
	if [ "$rc" -eq 1 ] && [ -n "$err" ] && [ "$err" != None ]; then
		ok "$fault: a source error ($err)"
	else
		not_ok "$fault: no source error" "exit $rc, last_error $err"
	fi
	is "$fault: nothing stored is lost" "$(tiesctl --json contacts | json 'len(d["contacts"])')" 3
done
# While a server hangs, the daemon answers at once.
tiesctl sync work >/dev/null
start=$(date +%s%N)
tiesctl status >/dev/null
is "a hanging server holds nothing up" "$(( ($(date +%s%N) - start) / 1000000 < 1000 ))" 1
check "tiesd is still running" kill -0 "$tiesd_pid"
stop_tiesd

# Passwords from a command and from ~/.netrc, checked against Radicale.
start_radicale
dav fill 3
write_config <<CONF
[ties]
quiet-hours = off
[source.cmd]
type = carddav
url = $SERVER_URL
username = me
password-command = printf secret
[source.netrc]
type = carddav
url = $SERVER_URL
CONF
printf 'machine 127.0.0.1\n  login me\n  password secret\n' > "$HOME/.netrc"
start_tiesd
out=$(tiesctl --json sync --wait)
is "password-command gives the password" "$(printf '%s\n' "$out" | json '[r["result"] for r in d["results"] if r["source"]=="cmd"][0]')" "ok"
is "~/.netrc gives login and password" "$(printf '%s\n' "$out" | json '[r["result"] for r in d["results"] if r["source"]=="netrc"][0]')" "ok"
