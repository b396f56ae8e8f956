#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# A headless login (no session bus, no notification server): nudges stay
# pending, ranked, listed by tiesctl nudges, kept across restarts.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 12

VDIR="$XDG_DATA_HOME/contacts"
mkdir -p "$VDIR"
card "$VDIR/yamada.vcf" yamada-1 "山田 太郎" yamada@example.com "株式会社ABC"
card "$VDIR/ole.vcf" ole-1 "Ole Berg" ole@example.com
card "$VDIR/kim.vcf" kim-1 "Kim Lee" kim@example.com
card "$VDIR/ana.vcf" ana-1 "Ana Silva" ana@example.com
# A two-second default cadence makes contacts without any history due at
# once; yamada and ole get a real cadence and a real, old interaction.
write_config <<'CONF'
[ties]
quiet-hours = off
cadence = 2s
CONF
start_tiesd
sync_wait
tiesctl cadence yamada 90d >/dev/null
tiesctl touch yamada --at 2025-01-10 >/dev/null
tiesctl cadence ole 90d >/dev/null
tiesctl touch ole --at 2025-03-01 >/dev/null
pending() { tiesctl --json nudges | json '",".join(n["name"] for n in d["nudges"] if n["state"]=="pending")'; }
count_pending() { [ "$(tiesctl --json nudges | json 'len([n for n in d["nudges"] if n["state"]=="pending"])')" = "$1" ]; }
wait_for 10 count_pending 4
is "four nudges are pending: known history first, most overdue first" "$(pending)" "山田 太郎,Ole Berg,Ana Silva,Kim Lee"
nudge=$(tiesctl --json nudges | json 'd["nudges"][0]')
is "held for want of a notification server" "$(printf '%s\n' "$nudge" | json 'd["held"]')" "no-notification-server"
is "the summary" "$(printf '%s\n' "$nudge" | json 'd["summary"]')" "Reach out to 山田 太郎"
like "the body says why" "$(printf '%s\n' "$nudge" | json 'd["body"]')" "株式会社ABC · last contact [0-9]+ (months|year|years) ago · cadence 90d"
is "ranks are 1 to 4" "$(tiesctl --json nudges | json '",".join(str(n["rank"]) for n in d["nudges"])')" "1,2,3,4"
is "status: no notification server, 4 pending" "$(tiesctl --json status | json 'str(d["notification_server"])+" "+str(d["counts"]["nudges_pending"])')" "False 4"
like "human output lists them" "$(tiesctl nudges)" "山田 太郎"

ids_before=$(tiesctl --json nudges | json '",".join(str(n["id"]) for n in d["nudges"])')
stop_tiesd
start_tiesd
sleep 1
is "after a restart the same nudges, none added" "$(tiesctl --json nudges | json '",".join(str(n["id"]) for n in d["nudges"])')" "$ids_before"

tiesctl snooze kim 1w >/dev/null
wait_for 5 count_pending 3
is "snooze takes the nudge off the list" "$(pending)" "山田 太郎,Ole Berg,Ana Silva"
tiesctl touch ole >/dev/null
wait_for 5 count_pending 2
is "an interaction resolves the nudge" "$(pending)" "山田 太郎,Ana Silva"
event=$(tiesctl --json nudges | json '[n["event_id"] for n in d["nudges"] if n["name"]=="山田 太郎" and n["state"]=="pending"][0]')
tiesctl dismiss "$event" >/dev/null
wait_for 5 count_pending 1
is "dismissing the event withdraws its nudge" "$(pending)" "Ana Silva"
stop_tiesd
start_tiesd
sleep 1
is "a dismissed event is not raised again after a restart" "$(pending)" "Ana Silva"
