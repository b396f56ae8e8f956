#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Bad input never crashes tiesd nor loses what it stored: a malformed
# config, broken vCards, garbage and oversized requests, foreign peers.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3 setpriv /usr/bin/python3
plan 20

raw() { python3 "$TESTS_SRCDIR/integration/rawclient.py" "$SOCK" "$@"; }

# A malformed config stops tiesd with the file, line and key.
write_config <<'CONF'
[ties]
cadence = 90x
CONF
out=$("$TIESD" 2>&1); rc=$?
is "bad config: tiesd refuses to start" "$rc" 1
like "bad config: the error names file, line and key" "$out" "ties.conf:2: cadence: invalid duration \"90x\""

write_config <<'CONF'
[ties]
quiet-hours = off
[source.phone]
type = vcard
path = ~/contacts
oops
CONF
out=$("$TIESD" 2>&1)
like "a line without = is named" "$out" "ties.conf:6: expected \"key = value\""

# A broken card among good ones: the good ones are stored.
mkdir -p "$HOME/contacts"
card "$HOME/contacts/a.vcf" uid-a "Aiko Abe" aiko@example.com
card "$HOME/contacts/c.vcf" uid-c "Chris Cole" chris@example.com
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken Bob\r\nEMAIL:bob@example.com\r\n' > "$HOME/contacts/b.vcf"
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-d\r\nFN:Dana Doe\r\nEND:VCARD\r\n' >> "$HOME/contacts/b.vcf"
write_config <<'CONF'
[ties]
quiet-hours = off
[source.phone]
type = vcard
path = ~/contacts
CONF
start_tiesd
sync_wait phone
names=$(tiesctl --json contacts | json '",".join(c["name"] for c in d["contacts"])')
is "good cards around a broken one are stored" "$names" "Aiko Abe,Chris Cole,Dana Doe"
message=$(tiesctl --json sources | json 'd["sources"][0]["last_message"]')
like "the broken card is reported with file and line" "$message" "b.vcf:1: "

# Garbage on the socket gets an error, and the connection keeps serving.
out=$(printf 'hello\n{"version":1,"command":"version"}\n' | raw send-lines)
like "garbage gets a bad-request error" "$(printf '%s\n' "$out" | sed -n 1p)" '"ok":false.*"code":"bad-request"'
like "the same connection still answers" "$(printf '%s\n' "$out" | sed -n 2p)" '"ok":true.*"protocol":1'
out=$(printf '{"version":2,"command":"status"}\n{"version":1,"command":"fly"}\n{"version":1,"command":"show","args":[1]}\n' | raw send-lines)
like "a wrong protocol version is refused" "$(printf '%s\n' "$out" | sed -n 1p)" '"code":"unsupported-version"'
like "an unknown command is refused" "$(printf '%s\n' "$out" | sed -n 2p)" '"code":"unknown-command"'
like "args of the wrong type are refused" "$(printf '%s\n' "$out" | sed -n 3p)" '"code":"bad-request"'
out=$(printf '\377\376{}\n' | raw send-lines)
like "bytes that are not UTF-8 are refused" "$out" '"code":"bad-request"'

# An oversized request: an error, the connection closed, the daemon alive.
out=$(raw oversized)
like "an oversized request gets too-large" "$(printf '%s\n' "$out" | sed -n 1p)" '"code":"too-large"'
is "and its connection is closed" "$(printf '%s\n' "$out" | sed -n 2p)" "CLOSED"
check "the daemon still answers" tiesctl status

# A client that connects and sends nothing holds up nobody.
raw idle 5 &
idle_pid=$!
sleep 0.2
check "a silent client does not block others" timeout 2 "$TIESCTL" --socket "$SOCK" contacts
kill "$idle_pid" 2>/dev/null

# Another uid is refused by SO_PEERCRED, even when the file mode lets it in.
chmod 755 "$TEST_DIR" "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/ties"
chmod 666 "$SOCK"
out=$(echo '{"version":1,"command":"status"}' | setpriv --reuid=65534 --regid=65534 --clear-groups \
	/usr/bin/python3 "$TESTS_SRCDIR/integration/rawclient.py" "$SOCK" send-lines 2>&1)
like "a peer with another uid is refused" "$out" '"code":"permission-denied"'
chmod 700 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/ties"
chmod 600 "$SOCK"

# A bad reload keeps the old config, and says why.
printf '[ties]\nmax-nudges-per-day = many\n' > "$CONF"
out=$(tiesctl reload 2>&1); rc=$?
is "reload of a bad config fails with exit 1" "$rc" 1
like "and names file, line and key" "$out" "ties.conf:2: max-nudges-per-day:"
is "the old sources stay" "$(tiesctl --json sources | json 'd["sources"][0]["name"]')" "phone"
check "tiesd is alive after all of it" kill -0 "$tiesd_pid"
