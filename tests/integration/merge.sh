#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# One person across sources: a shared e-mail or profile URL merges; the
# same name merges only when unique on both sides with no disagreeing
# profile URL, else it is a suggestion; link and unlink correct mistakes
# and the correction survives later syncs.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
plan 12

mkdir -p "$HOME/phone" "$HOME/linkedin"
card "$HOME/phone/yamada.vcf" y-1 "山田 太郎" Yamada@Example.com "株式会社ABC"
card "$HOME/phone/hanako.vcf" h-1 "Hanako Sato" "" "Example Inc."
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:k-1\r\nFN:Ken Suzuki\r\nURL:https://www.linkedin.com/in/ken-suzuki-a\r\nEND:VCARD\r\n' > "$HOME/phone/ken.vcf"
cat > "$HOME/linkedin/Connections.csv" <<'CSV'
Notes:
"Some e-mail addresses are missing."

First Name,Last Name,URL,Email Address,Company,Position,Connected On
太郎,山田,https://www.linkedin.com/in/taro-yamada,yamada@example.com,株式会社ABC,部長,06 Mar 2024
Hanako,Sato,https://www.linkedin.com/in/hanako-sato,,Example Inc.,Manager,01 Feb 2023
Ken,Suzuki,https://www.linkedin.com/in/ken-suzuki-b,,Globex,Engineer,01 Jan 2022
CSV
write_config <<CONF
[ties]
quiet-hours = off
[source.phone]
type = vcard
path = ~/phone
[source.linkedin]
type = linkedin
path = ~/linkedin/Connections.csv
CONF
start_tiesd
sync_wait phone
sync_wait linkedin
sources_of() { tiesctl --json show "$1" | json '",".join(sorted(set(f["source"] for f in d["fields"])))'; }
is "a shared e-mail address (case aside) makes one contact" "$(sources_of yamada@example.com)" "linkedin,phone"
is "a unique name on both sides makes one contact" "$(sources_of hanako)" "linkedin,phone"
kens=$(tiesctl --json contacts 'Ken Suzuki' | json '",".join(str(c["id"]) for c in d["contacts"])')
ken_a=${kens%,*}
ken_b=${kens#*,}
is "two Ken Suzukis with different LinkedIn URLs stay two" "$(printf '%s\n' "$kens" | tr ',' '\n' | wc -l)" 2
is "and each is offered the other as a suggestion" "$(tiesctl --json show "$ken_a" | json 'str(d["suggested_links"][0]["id"])')" "$ken_b"
is "status counts the suggestion" "$(tiesctl --json status | json 'd["counts"]["suggested_links"]')" 1

tiesctl link "$ken_a" "$ken_b" >/dev/null
is "link makes them one" "$(tiesctl --json contacts 'Ken Suzuki' | json 'len(d["contacts"])')" 1
is "with the fields of both sources" "$(sources_of "$ken_a")" "linkedin,phone"
tiesctl touch "$ken_a" --at 2025-06-01 --note "coffee" >/dev/null
touch "$HOME/phone/ken.vcf" "$HOME/linkedin/Connections.csv"
sync_wait phone
sync_wait linkedin
is "the link survives later syncs" "$(tiesctl --json contacts 'Ken Suzuki' | json 'len(d["contacts"])')" 1

out=$(tiesctl --json unlink "$ken_a")
is "unlink parts them again" "$(tiesctl --json contacts 'Ken Suzuki' | json 'len(d["contacts"])')" 2
is "each with its own source" "$(sources_of "$ken_a")" "phone"
sync_wait phone
sync_wait linkedin
is "and the parting survives later syncs" "$(tiesctl --json contacts 'Ken Suzuki' | json 'len(d["contacts"])')" 2
is "interactions stay with the contact they were recorded on" "$(tiesctl --json show "$ken_a" | json 'd["interactions"][0]["note"]')" "coffee"
