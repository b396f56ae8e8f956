#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# A vdir read into the store: contacts, show, touch, cadence, file changes
# picked up by the monitor, removed cards marked gone with history kept,
# and everything still there after a restart.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 24

VDIR="$XDG_DATA_HOME/contacts"
mkdir -p "$VDIR"
card "$VDIR/yamada.vcf" yamada-1 "山田 太郎" yamada@example.com "株式会社ABC" "部長"
card "$VDIR/suzuki.vcf" suzuki-1 "Ken Suzuki" Ken.Suzuki@Example.com "Example Inc." "Engineer"
card "$VDIR/tanaka1.vcf" tanaka-1 "田中 一郎" ichiro@example.com
card "$VDIR/tanaka2.vcf" tanaka-2 "田中 花子" hanako@example.com
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:sato-1\r\nFN:佐藤 健\r\nCATEGORIES:Friends,weak\r\nEND:VCARD\r\n' > "$VDIR/sato.vcf"
# No [source.*] section: the default vdir ~/.local/share/contacts is read.
write_config <<'CONF'
[ties]
quiet-hours = off
CONF
start_tiesd
sync_wait
is "the default vdir is read" "$(tiesctl --json contacts | json 'len(d["contacts"])')" 5
is "a name finds its contact whatever the spacing" "$(tiesctl --json show 山田太郎 | json 'd["name"]')" "山田 太郎"
is "an e-mail address finds it, case aside" "$(tiesctl --json show ken.suzuki@example.com | json 'd["name"]')" "Ken Suzuki"
out=$(tiesctl show 田中 2>&1); rc=$?
is "an ambiguous name is refused (exit 1)" "$rc" 1
like "naming the candidates" "$out" "matches 2 contacts"
fields=$(tiesctl --json show yamada@example.com)
is "show: fields carry their source" "$(printf '%s\n' "$fields" | json '[f["source"] for f in d["fields"] if f["field"]=="org"][0]')" "contacts"
is "show: the employment history starts" "$(printf '%s\n' "$fields" | json 'd["employment"][0]["org"]+"/"+d["employment"][0]["title"]')" "株式会社ABC/部長"

tiesctl touch yamada@example.com --at 2025-01-10 --via meet --note "lunch" >/dev/null
inter=$(tiesctl --json show yamada@example.com | json 'd["interactions"][0]')
is "touch --at records the interaction" "$(printf '%s\n' "$inter" | json 'd["at"]+" "+d["via"]+" "+d["note"]')" "2025-01-10T00:00:00Z meet lunch"
out=$(tiesctl touch yamada@example.com --at 2099-01-01 2>&1)
like "a future interaction is refused" "$out" "in the future"

is "CATEGORIES naming a tier sets the cadence" "$(tiesctl --json show 佐藤 | json 'd["tier"]+" "+d["cadence_from"]+" "+str(d["cadence_s"])')" "weak category 15552000"
is "the default cadence is 180d" "$(tiesctl --json show suzuki | json 'str(d["cadence_s"])+" "+d["cadence_from"]')" "15552000 default"
tiesctl cadence suzuki close >/dev/null
is "cadence TIER" "$(tiesctl --json show suzuki | json 'd["tier"]+" "+str(d["cadence_s"])')" "close 2592000"
tiesctl cadence suzuki 45d >/dev/null
is "cadence DURATION" "$(tiesctl --json show suzuki | json 'str(d["cadence_s"])+" "+d["cadence_from"]')" "3888000 contact"
out=$(tiesctl cadence suzuki sometimes 2>&1); rc=$?
is "an unknown cadence is refused (exit 1)" "$rc" 1
is "contacts --tier weak" "$(tiesctl --json contacts --tier weak | json '",".join(c["name"] for c in d["contacts"])')" "佐藤 健"
is "contacts --overdue: yamada, silent since January 2025" "$(tiesctl --json contacts --overdue | json '",".join(c["name"] for c in d["contacts"])')" "山田 太郎"

# The file monitor notices a new card and an edited one without a sync.
card "$VDIR/ito.vcf" ito-1 "伊藤 美咲" misaki@example.com
wait_for 10 sh -c "'$TIESCTL' --socket '$SOCK' contacts | grep -q 伊藤"
like "a new card is picked up by the file monitor" "$(tiesctl contacts)" "伊藤 美咲"
card "$VDIR/suzuki.vcf" suzuki-1 "Ken Suzuki" Ken.Suzuki@Example.com "Example Inc." "Staff Engineer"
wait_for 10 sh -c "'$TIESCTL' --socket '$SOCK' --json show suzuki | grep -q 'Staff Engineer'"
is "an edited card updates the contact and its employment timeline" \
	"$(tiesctl --json show suzuki | json '"|".join(e["title"] for e in d["employment"])')" "Engineer|Staff Engineer"

# A removed card: gone, not deleted, its history kept.
rm "$VDIR/yamada.vcf"
sync_wait
unlike "a removed card leaves the contact list" "$(tiesctl contacts)" "山田"
is "but stays, marked gone" "$(tiesctl --json contacts --all | json '[c["gone"] for c in d["contacts"] if c["name"]=="山田 太郎"][0]')" "true"
is "with its interactions" "$(tiesctl --json show 山田 | json 'len(d["interactions"])')" 1

# Everything survives a restart.
stop_tiesd
start_tiesd
is "after a restart: the contacts" "$(tiesctl --json contacts --all | json 'len(d["contacts"])')" 6
is "the interactions" "$(tiesctl --json show 山田 | json 'd["interactions"][0]["note"]')" "lunch"
is "tiesd --parse=vcard prints the vdir's cards" "$("$TIESD" --parse=vcard "$VDIR" | json 'len(d["contacts"])')" 5
