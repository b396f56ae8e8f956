#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# systemd integration of a running tiesd: READY=1 and watchdog pings on
# NOTIFY_SOCKET, SIGHUP reloads (and keeps the old config when the new one
# is bad), SIGTERM ends it cleanly within a second.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 10

mkdir -p "$HOME/contacts" "$HOME/work"
card "$HOME/contacts/a.vcf" uid-a "Aiko Abe" aiko@example.com
card "$HOME/work/b.vcf" uid-b "Ben Brown" ben@example.com
write_config <<'CONF'
[ties]
quiet-hours = off
[source.phone]
type = vcard
path = ~/contacts
CONF

python3 "$TESTS_SRCDIR/integration/notify-listener.py" "$TEST_DIR/notify.sock" "$TEST_DIR/notify.log" &
cleanup_pids="$cleanup_pids $!"
wait_for 5 test -S "$TEST_DIR/notify.sock"
export NOTIFY_SOCKET="$TEST_DIR/notify.sock" WATCHDOG_USEC=200000
start_tiesd
unset NOTIFY_SOCKET WATCHDOG_USEC
wait_for 5 grep -q WATCHDOG=1 "$TEST_DIR/notify.log"
log=$(cat "$TEST_DIR/notify.log")
like "READY=1 reaches the notify socket, with a status" "$log" "READY=1 STATUS=[0-9]+ contacts"
like "the watchdog is pinged at half of WATCHDOG_USEC" "$log" "WATCHDOG=1"

sync_wait
cat >> "$CONF" <<'CONF'
[source.work]
type = vcard
path = ~/work
CONF
kill -HUP "$tiesd_pid"
wait_for 5 sh -c "'$TIESCTL' --socket '$SOCK' sources | grep -q work"
is "SIGHUP reloads: the new source is there" \
	"$(tiesctl --json sources | json '",".join(s["name"] for s in d["sources"])')" "phone,work"
wait_for 5 sh -c "'$TIESCTL' --socket '$SOCK' contacts | grep -q 'Ben Brown'"
like "and it was read" "$(tiesctl contacts)" "Ben Brown"
like "systemd heard RELOADING=1 and READY=1 again" "$(cat "$TEST_DIR/notify.log")" "RELOADING=1"

printf '[ties]\nquiet-hours = noon\n' > "$CONF"
kill -HUP "$tiesd_pid"
wait_for 5 grep -q "reload failed" "$TIESD_LOG"
like "a bad config on SIGHUP is reported with its line" "$(cat "$TIESD_LOG")" "reload failed.*ties.conf:2: quiet-hours:"
is "and the old config stays" \
	"$(tiesctl --json sources | json '",".join(s["name"] for s in d["sources"])')" "phone,work"

start=$(date +%s%N)
kill -TERM "$tiesd_pid"
wait "$tiesd_pid"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
tiesd_pid=
is "SIGTERM: exit status 0" "$rc" 0
if [ "$elapsed_ms" -lt 1000 ]; then ok "SIGTERM: gone in ${elapsed_ms} ms"; else not_ok "SIGTERM: took ${elapsed_ms} ms"; fi
like "systemd heard STOPPING=1" "$(cat "$TEST_DIR/notify.log")" "STOPPING=1"
