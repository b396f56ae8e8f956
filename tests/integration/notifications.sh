#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Real desktop notifications: a private session bus, dunst under Xvfb.
# Nudges wait for the notification server, appear once it does, obey the
# daily cap, carry working actions, and are not shown again after a restart.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 14
start_desktop

VDIR="$XDG_DATA_HOME/contacts"
mkdir -p "$VDIR"
card "$VDIR/yamada.vcf" yamada-1 "山田 太郎" yamada@example.com "株式会社ABC" "部長"
card "$VDIR/suzuki.vcf" suzuki-1 "Ken Suzuki" ken@example.com "Example Inc."
card "$VDIR/mori.vcf" mori-1 "森 さくら" sakura@example.com
write_config <<'CONF'
[ties]
quiet-hours = off
max-nudges-per-day = 2
CONF

# tiesd first, dunst later: the nudges wait for the server.
start_tiesd
sync_wait
for who in yamada suzuki sakura; do tiesctl cadence "$who" 90d >/dev/null; done
tiesctl touch yamada --at 2025-01-10 >/dev/null
tiesctl touch suzuki --at 2025-02-10 >/dev/null
tiesctl touch sakura --at 2025-03-10 >/dev/null
pending_count() { tiesctl --json nudges | json 'len([n for n in d["nudges"] if n["state"]=="pending"])'; }
pending_is() { [ "$(pending_count)" = "$1" ]; }
wait_for 10 pending_is 3
is "with no server on the bus, three nudges wait" "$(pending_count)" 3
is "held: no-notification-server" "$(tiesctl --json nudges | json 'd["nudges"][0]["held"]')" "no-notification-server"

start_dunst
displayed() { dunstctl count displayed; }
displayed_is() { [ "$(displayed)" = "$1" ]; }
wait_for 10 displayed_is 2
is "once dunst appears, the daily cap's worth is shown" "$(displayed)" 2
state=$(tiesctl --json nudges | json '",".join(n["name"]+":"+n["state"]+":"+str(n["held"]) for n in d["nudges"])')
like "the third waits for tomorrow (daily cap)" "$state" "森 さくら:pending:daily-cap"
is "status counts two shown today" "$(tiesctl --json status | json 'd["nudges_shown_today"]')" 2

# Choose "Reached out" through dunst's own context menu.
echo "#Reached out (Reach out to 山田 太郎)" > "$TEST_DIR/pick.txt"
dunstctl context
reached_out() { tiesctl --json show yamada | grep -q '"origin" *: *"notification"'; }
wait_for 10 reached_out
like "dunst offered the nudge's actions" "$(cat "$MENU_LOG")" "#Snooze a week \\(Reach out to 山田 太郎\\)"
is "Reached out recorded an interaction" \
	"$(tiesctl --json show yamada | json 'd["interactions"][0]["origin"]')" "notification"
is "and the nudge is marked acted" \
	"$(tiesctl --json nudges | json '[n["state"] for n in d["nudges"] if n["name"]=="山田 太郎"][0]')" "acted"

# "Snooze a week" on the other one.
echo "#Snooze a week (Reach out to Ken Suzuki)" > "$TEST_DIR/pick.txt"
dunstctl context
snoozed() { [ "$(tiesctl --json show suzuki | json 'd["snoozed_until"] is not None')" = true ]; }
wait_for 10 snoozed
until=$(tiesctl --json show suzuki | json 'd["snoozed_until"]')
in_days=$(( ($(date -d "$until" +%s) - $(date +%s) + 3600) / 86400 ))
is "Snooze a week snoozes the contact for 7 days" "$in_days" 7
is "and marks the nudge snoozed" \
	"$(tiesctl --json show suzuki | json '[e["kind"] for e in d["events"]][0]')+$(tiesctl --json nudges | json '[n["state"] for n in d["nudges"] if n["name"]=="Ken Suzuki"][0]')" "silence+snoozed"

dunstctl close-all
history=$(dunst_history)
like "dunst's history has the summary" "$history" "Reach out to 山田 太郎 \\| "
like "and the body with the reason" "$history" "部長, 株式会社ABC · last contact [0-9]+ (months|year|years) ago · cadence 90d"

# A restart shows nothing again.
before=$(dunstctl history | json 'len(d["data"][0])')
stop_tiesd
start_tiesd
sleep 1.5
is "after a restart no nudge is shown twice" "$(dunstctl history | json 'len(d["data"][0])')+$(displayed)" "$before+0"
is "the capped one still waits" "$(tiesctl --json nudges | json '[n["state"] for n in d["nudges"] if n["name"]=="森 さくら"][0]')" "pending"
