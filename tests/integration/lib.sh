# SPDX-License-Identifier: GPL-3.0-or-later
# Shared helpers of the integration tests: a throw-away XDG world, the real
# tiesd started in it, TAP output, and (on request) a desktop session with a
# private D-Bus and dunst under Xvfb. Every server is started here and
# stopped on exit; a missing program is a failure, never a skip.

set -u

: "${TIESD:?TIESD must name the tiesd binary}"
: "${TIESCTL:?TIESCTL must name the tiesctl binary}"

test_count=0
failed=0
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ties-test.XXXXXX")
export HOME="$TEST_DIR/home"
export XDG_CONFIG_HOME="$TEST_DIR/config"
export XDG_DATA_HOME="$TEST_DIR/data"
export XDG_RUNTIME_DIR="$TEST_DIR/run"
export XDG_STATE_HOME="$TEST_DIR/state"
export XDG_CACHE_HOME="$TEST_DIR/cache"
mkdir -p "$HOME" "$XDG_CONFIG_HOME/ties" "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
SOCK="$XDG_RUNTIME_DIR/ties/tiesd.sock"
CONF="$XDG_CONFIG_HOME/ties/ties.conf"
TIESD_LOG="$TEST_DIR/tiesd.log"
# A headless login unless a test starts a desktop.
unset DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
export LC_ALL=C.UTF-8 TZ=UTC

tiesd_pid=
cleanup_pids=

cleanup() {
	# SIGTERM first, so that a sanitizer build reports at exit.
	if [ -n "$tiesd_pid" ] && kill -TERM "$tiesd_pid" 2>/dev/null; then
		wait_for 3 sh -c "! kill -0 $tiesd_pid 2>/dev/null"
		kill -KILL "$tiesd_pid" 2>/dev/null
	fi
	for pid in $cleanup_pids; do kill -TERM "$pid" 2>/dev/null; done
	sleep 0.1
	for pid in $cleanup_pids; do kill -KILL "$pid" 2>/dev/null; done
	# TIES_TEST_LOGS=DIR keeps every daemon log, e.g. to read sanitizer reports.
	if [ -n "${TIES_TEST_LOGS:-}" ] && [ -f "$TIESD_LOG" ]; then
		mkdir -p "$TIES_TEST_LOGS"
		cp "$TIESD_LOG" "$TIES_TEST_LOGS/$(basename "$0" .sh).log"
	fi
	if [ "$failed" -ne 0 ] && [ -f "$TIESD_LOG" ]; then
		echo "# tiesd log:"
		sed 's/^/#   /' "$TIESD_LOG"
	fi
	rm -rf "$TEST_DIR"
}
trap cleanup EXIT

plan() { echo "1..$1"; }

ok() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1"
}

not_ok() {
	test_count=$((test_count + 1))
	failed=$((failed + 1))
	echo "not ok $test_count - $1"
	shift
	for line in "$@"; do echo "#   $line"; done
}

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
	desc=$1
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "command: $*" "output: $out"; fi
}

# is DESCRIPTION GOT EXPECTED
is() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:      $2" "expected: $3"; fi
}

# like DESCRIPTION TEXT PATTERN (grep -E)
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "text: $2" "pattern: $3"; fi
}

unlike() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then not_ok "$1" "text: $2" "must not match: $3"; else ok "$1"; fi
}

require() {
	for program in "$@"; do
		if ! command -v "$program" >/dev/null 2>&1; then
			echo "Bail out! $program is not installed (see .ci/run for the packages the tests need)"
			exit 1
		fi
	done
}

# wait_for SECONDS COMMAND...: polls a condition, tenths of a second apart.
wait_for() {
	limit=$(($1 * 10))
	shift
	i=0
	while [ "$i" -lt "$limit" ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

tiesctl() { "$TIESCTL" --socket "$SOCK" "$@"; }

# json EXPR: evaluates a Python expression over the JSON document on stdin (as d).
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); r=eval(sys.argv[1]); print(json.dumps(r, ensure_ascii=False) if not isinstance(r, str) else r)' "$1"; }

write_config() { cat > "$CONF"; }

start_tiesd() {
	"$TIESD" --debug "$@" >>"$TIESD_LOG" 2>&1 &
	tiesd_pid=$!
	if ! wait_for 10 "$TIESCTL" --socket "$SOCK" version; then
		echo "# tiesd did not answer within 10 s"
		return 1
	fi
}

stop_tiesd() {
	[ -n "$tiesd_pid" ] || return 0
	kill -TERM "$tiesd_pid"
	wait "$tiesd_pid"
	rc=$?
	tiesd_pid=
	return $rc
}

# wait_synced SOURCE: sync SOURCE and wait for it.
sync_wait() { tiesctl sync --wait "$@" >/dev/null; }

# card FILE UID FN EMAIL [ORG] [TITLE]: writes a vCard 3.0.
card() {
	{
		printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:%s\r\n' "$2" "$3"
		[ -n "$4" ] && printf 'EMAIL:%s\r\n' "$4"
		[ -n "${5:-}" ] && printf 'ORG:%s\r\n' "$5"
		[ -n "${6:-}" ] && printf 'TITLE:%s\r\n' "$6"
		printf 'END:VCARD\r\n'
	} > "$1"
}

# start_desktop: Xvfb, a private session bus with no activatable services
# (so nothing starts behind the test's back), and dunst with a context menu
# program that picks the "Reached out" action.
start_desktop() {
	require Xvfb dbus-daemon dunst dunstctl
	Xvfb -displayfd 3 -nolisten tcp -screen 0 1024x768x24 3>"$TEST_DIR/display" >/dev/null 2>&1 &
	cleanup_pids="$cleanup_pids $!"
	wait_for 10 test -s "$TEST_DIR/display" || { echo "Bail out! Xvfb did not start"; exit 1; }
	export DISPLAY=":$(cat "$TEST_DIR/display")"
	cat > "$TEST_DIR/bus.conf" <<-CONF
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>session</type>
	  <listen>unix:dir=$TEST_DIR</listen>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow send_destination="*" eavesdrop="true"/>
	    <allow eavesdrop="true"/>
	    <allow own="*"/>
	  </policy>
	</busconfig>
	CONF
	dbus-daemon --config-file="$TEST_DIR/bus.conf" --fork --print-address=1 --print-pid=1 > "$TEST_DIR/bus.out"
	DBUS_SESSION_BUS_ADDRESS=$(sed -n 1p "$TEST_DIR/bus.out")
	export DBUS_SESSION_BUS_ADDRESS
	cleanup_pids="$cleanup_pids $(sed -n 2p "$TEST_DIR/bus.out")"
	MENU_LOG="$TEST_DIR/menu.txt"
	cat > "$TEST_DIR/dunstrc" <<-CONF
	[global]
	dmenu = $TESTS_SRCDIR/integration/dunst-pick-action.sh $MENU_LOG
	history_length = 100
	CONF
}

start_dunst() {
	dunst -config "$TEST_DIR/dunstrc" >"$TEST_DIR/dunst.log" 2>&1 &
	dunst_pid=$!
	cleanup_pids="$cleanup_pids $dunst_pid"
	wait_for 10 dunstctl is-paused || { echo "Bail out! dunst did not start"; exit 1; }
}

# dunst_history_field FIELD: every FIELD of dunst's history, one per line.
dunst_history() {
	dunstctl history | python3 -c 'import json,sys
for n in json.load(sys.stdin)["data"][0]:
    print(n["summary"]["data"] + " | " + n["body"]["data"])'
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_radicale: Radicale on 127.0.0.1 with throw-away storage, user "me"
# with password "secret", and an address book at $BOOK_URL. Its log (one
# line per request) is $SERVER_LOG.
start_radicale() {
	require radicale curl
	port=$(free_port)
	mkdir -p "$TEST_DIR/radicale"
	echo "me:secret" > "$TEST_DIR/radicale/users"
	cat > "$TEST_DIR/radicale/config" <<-CONF
	[server]
	hosts = 127.0.0.1:$port
	[auth]
	type = htpasswd
	htpasswd_filename = $TEST_DIR/radicale/users
	htpasswd_encryption = plain
	delay = 0
	[storage]
	filesystem_folder = $TEST_DIR/radicale/collections
	[rights]
	type = owner_only
	[logging]
	level = info
	CONF
	SERVER_LOG="$TEST_DIR/server.log"
	radicale --config "$TEST_DIR/radicale/config" >"$SERVER_LOG" 2>&1 &
	cleanup_pids="$cleanup_pids $!"
	SERVER_URL="http://127.0.0.1:$port/"
	wait_for 20 curl -sf -o /dev/null -u me:secret "$SERVER_URL.web/" || { echo "Bail out! Radicale did not start"; exit 1; }
	BOOK_URL="${SERVER_URL}me/contacts/"
	curl -sf -u me:secret -X MKCOL -H 'Content-Type: application/xml' "$BOOK_URL" --data \
		'<?xml version="1.0"?><mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><C:addressbook/></resourcetype><displayname>contacts</displayname></prop></set></mkcol>' \
		|| { echo "Bail out! cannot create the address book"; exit 1; }
	SERVER_USER=me SERVER_PASSWORD=secret
}

# start_xandikos: Xandikos on 127.0.0.1 (no authentication), with its
# default address book.
start_xandikos() {
	require xandikos curl
	port=$(free_port)
	SERVER_LOG="$TEST_DIR/server.log"
	xandikos -d "$TEST_DIR/xandikos" -l 127.0.0.1 -p "$port" --defaults >"$SERVER_LOG" 2>&1 &
	cleanup_pids="$cleanup_pids $!"
	SERVER_URL="http://127.0.0.1:$port/"
	BOOK_URL="${SERVER_URL}user/contacts/addressbook/"
	wait_for 20 curl -sf -o /dev/null -X PROPFIND -H 'Depth: 0' "$BOOK_URL" || { echo "Bail out! Xandikos did not start"; exit 1; }
	SERVER_USER= SERVER_PASSWORD=
}

# server_requests: how many HTTP requests the CardDAV server has logged.
server_requests() {
	grep -cE '(request for|HTTP/1\.[01]" [0-9]{3})' "$SERVER_LOG"
}

dav() { python3 "$TESTS_SRCDIR/integration/carddav-put.py" "$BOOK_URL" "$SERVER_USER" "$SERVER_PASSWORD" "$@"; }
