#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Two LinkedIn exports months apart: the first is a silent baseline, the
# second changes too much at once and is held, and once accepted it gives
# exactly the right job-change and new-role events; messages.csv gives
# interactions; who-at answers from the employment history.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 16

DATA="$TESTS_SRCDIR/data/linkedin"
mkdir -p "$TEST_DIR/export"
cp "$DATA/export-2024-03/Connections.csv" "$DATA/export-2024-03/messages.csv" "$TEST_DIR/export/"
write_config <<CONF
[ties]
quiet-hours = off
[source.linkedin]
type = linkedin
path = $TEST_DIR/export/Connections.csv
CONF
start_tiesd
sync_wait linkedin
contacts=$(tiesctl --json contacts)
like "connections become contacts, Japanese names family first" "$(printf '%s\n' "$contacts" | json '",".join(sorted(c["name"] for c in d["contacts"]))')" "Ken Suzuki.*山田 太郎"
is "their company and position" "$(tiesctl --json show suzuki | json 'd["org"]+" / "+d["title"]')" "Acme, Inc. / Senior Software Engineer"
is "messages are interactions, matched by profile URL" \
	"$(tiesctl --json show 山田 | json '[i["at"]+" "+i["via"] for i in d["interactions"]][0]')" "2024-02-28T23:59:59Z linkedin"
is "the first import raises no job change (silent baseline)" "$(tiesctl --json events | json 'len([e for e in d["events"] if e["kind"]!="silence"])')" 0
message=$(tiesctl --json sources | json 'd["sources"][0]["last_message"]')
like "a broken row is reported with its line" "$message" "Connections.csv:[0-9]+: "

# Half a year later: a new export.
rm "$TEST_DIR/export/"*
cp "$DATA/export-2024-09/Connections.csv" "$DATA/export-2024-09/Messages.csv" "$TEST_DIR/export/"
out=$(tiesctl sync --wait linkedin 2>&1); rc=$?
is "a sync that changes most contacts at once is held (exit 1)" "$rc" 1
held=$(tiesctl --json status | json 'd["held_syncs"][0]["source"]+": "+d["held_syncs"][0]["reason"]')
like "status shows the held sync and why" "$held" "linkedin: would change [0-9]+ and remove [0-9]+ of [0-9]+ contacts"
is "nothing of it was applied" "$(tiesctl --json show suzuki | json 'd["org"]')" "Acme, Inc."
is "and no job change raised" "$(tiesctl --json events | json 'len([e for e in d["events"] if e["kind"]!="silence"])')" 0

tiesctl sync --wait --accept linkedin >/dev/null
is "--accept applies it" "$(tiesctl --json show suzuki | json 'd["org"]')" "Globex Corporation"
events=$(tiesctl --json events | json '"|".join(sorted(e["kind"]+" "+e["name"]+": "+e["detail"] for e in d["events"] if e["kind"]!="silence"))')
is "exactly one job change and one new role; a re-spelled company raises nothing" "$events" \
	"job-change Ken Suzuki: Joined Globex Corporation as Staff Engineer|new-role 山田 太郎: New role at (株)サンプル: 執行役員"
is "the hold is gone" "$(tiesctl --json status | json 'len(d["held_syncs"])')" 0
first=$(tiesctl --json nudges | json 'd["nudges"][0]')
is "the job change is the first nudge" "$(printf '%s\n' "$first" | json 'd["kind"]+" "+d["name"]')" "job-change Ken Suzuki"
like "its body says what happened" "$(printf '%s\n' "$first" | json 'd["body"]')" "^Joined Globex Corporation as Staff Engineer .* ago · last contact"
is "who-at: Acme is left, nobody is there now" "$(tiesctl --json who-at 'ACME Inc' | json 'len(d["contacts"])')" 0
is "who-at --past: Ken was, until the move" \
	"$(tiesctl --json who-at 'Acme, Inc.' --past | json '",".join(c["name"]+":"+str(c["current"]) for c in d["contacts"])')" "Ken Suzuki:False"
