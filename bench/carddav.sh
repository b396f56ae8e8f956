#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Benchmark: one local Radicale, three clients in one run (tiesd through
# `tiesctl sync --wait`, vdirsyncer syncing to a vdir, and curl sending the
# one request a perfect client needs), three phases (first sync, no-change
# sync, sync after 5 % of the cards changed), N = 1,000 and 10,000 cards.
# Prints a Markdown table: wall time, CPU time and peak memory per client,
# and the ratios. Server time is part of every figure: it is most of it.
# tiesd runs for the whole session: its first sync is that of a source
# added to its config (then `tiesctl reload`); its own start is printed
# under the table.
# tiesd's first sync reads no sync-token; the second sync it starts right
# after (token, then ETags compared) is waited for before the next client
# runs, and its end is printed under the table.
#
#   RUNS=3 bench/carddav.sh [N...]   (run from a built tree: needs daemon/tiesd)
#
# Every run starts from a fresh Radicale; the table shows the medians of
# RUNS runs (Radicale's own time for one request moves by half between
# runs).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
TIESD=${TIESD:-$top/daemon/tiesd}
TIESCTL=${TIESCTL:-$top/cli/tiesctl}
sizes=("$@")
runs=${RUNS:-3}
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
# EPOCHREALTIME (bash 5) is the clock; C numbers for bc.
[ -n "${EPOCHREALTIME:-}" ] || { echo "bench: needs bash 5 or later" >&2; exit 1; }
export LC_ALL=C
for tool in radicale vdirsyncer curl python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d /tmp/ties-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Wall times are read from bash's own clock ($EPOCHREALTIME), so that no
# process (date) starts inside a timed span and every client is timed the
# same way, to the microsecond: from before its first process starts to
# after its last one ends. (/usr/bin/time prints hundredths of a second: a
# tenth of a 0.08 s request.)

# measure NAME COMMAND...: appends "NAME wall cpu maxrss_kb" to $results.
# The wall time includes the start of /usr/bin/time (about 2 ms), which
# matters only beside seconds.
measure() {
	local name=$1 start end; shift
	start=$EPOCHREALTIME
	/usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >/dev/null 2>>"$work/errors"
	end=$EPOCHREALTIME
	read -r user sys rss < "$work/time"
	echo "$name $(echo "$end - $start" | bc) $(echo "$user + $sys" | bc) $rss" >> "$results"
}

# measure_request NAME COMMAND...: as measure, for a request that changes
# nothing and can be sent twice: the wall time of the command alone, then
# its CPU and memory from a second run under /usr/bin/time.
measure_request() {
	local name=$1 start end; shift
	start=$EPOCHREALTIME
	"$@" >/dev/null 2>>"$work/errors"
	end=$EPOCHREALTIME
	/usr/bin/time -f "%U %S %M" -o "$work/time" "$@" >/dev/null 2>>"$work/errors"
	read -r user sys rss < "$work/time"
	echo "$name $(echo "$end - $start" | bc) $(echo "$user + $sys" | bc) $rss" >> "$results"
}

# tiesd is a daemon: its CPU and memory come from /proc, the wall time from
# the tiesctl call that waits for the sync.
measure_tiesd() {
	local name=$1
	local before after start end
	before=$(awk '{print $14 + $15}' "/proc/$tiesd_pid/stat")
	start=$EPOCHREALTIME
	"$TIESCTL" --socket "$work/run/ties/tiesd.sock" sync --wait work >/dev/null
	finish_tiesd "$name" "$before" "$start"
}

# tiesd is started without the source, through systemd-socket-activate as
# tiesd.socket starts it on a desktop (the client's connection waits for
# it, with no polling for the socket); its start, to the first answer, is
# timed on its own. The first sync is then the one tiesd starts when the
# source is added to its config and it reloads: timed from `tiesctl reload`
# until `sync --wait` (which joins that sync) returns.
start_and_measure_tiesd() {
	local start before
	mkdir -p -m 700 "$work/run/ties"
	write_config ""
	start=$EPOCHREALTIME
	XDG_CONFIG_HOME="$work/xdg/config" XDG_DATA_HOME="$work/xdg/data" XDG_RUNTIME_DIR="$work/run" \
		systemd-socket-activate -E XDG_CONFIG_HOME -E XDG_DATA_HOME -E XDG_RUNTIME_DIR \
		-l "$work/run/ties/tiesd.sock" "$TIESD" >"$work/tiesd.log" 2>&1 &
	tiesd_pid=$!
	pids+=($tiesd_pid)
	until [ -S "$work/run/ties/tiesd.sock" ]; do :; done
	"$TIESCTL" --socket "$work/run/ties/tiesd.sock" status >/dev/null
	finish_tiesd tiesd-start 0 "$start"

	write_config source
	before=$(awk '{print $14 + $15}' "/proc/$tiesd_pid/stat")
	start=$EPOCHREALTIME
	"$TIESCTL" --socket "$work/run/ties/tiesd.sock" reload >/dev/null
	"$TIESCTL" --socket "$work/run/ties/tiesd.sock" sync --wait work >/dev/null
	finish_tiesd tiesd-first "$before" "$start"
	wait_tiesd_idle "$start"
}

# The first sync leaves the sync-token to a second sync right after it
# (it reads the token, then compares ETags): wait for that one too, so that
# it overlaps no other client, and note when it ended.
wait_tiesd_idle() {
	local start=$1
	while "$TIESCTL" --socket "$work/run/ties/tiesd.sock" --json sources |
		python3 -c 'import json, sys; sys.exit(0 if any(s["running"] for s in json.load(sys.stdin)["sources"]) else 1)'; do
		sleep 0.01
	done
	echo "tiesd-settled $(echo "$EPOCHREALTIME - $start" | bc) 0 0" >> "$results"
}

finish_tiesd() {
	local name=$1 before=$2 start=$3 after end
	end=$EPOCHREALTIME
	after=$(awk '{print $14 + $15}' "/proc/$tiesd_pid/stat")
	local hz; hz=$(getconf CLK_TCK)
	local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$tiesd_pid/status")
	echo "$name $(echo "$end - $start" | bc) $(echo "scale=2; ($after - $before) / $hz" | bc) $rss" >> "$results"
}

# median NAME COLUMN: the median of COLUMN (2 wall, 3 CPU, 4 RSS) of NAME's runs.
median() {
	awk -v name="$1" -v c="$2" '$1 == name {print $c}' "$results" | sort -n |
		awk '{v[NR] = $1} END {print (NR ? v[int((NR + 1) / 2)] : 0)}'
}

report() {
	local n=$1
	echo
	echo "### N = $n cards, medians of $runs runs"
	echo
	echo "| phase | client | wall s | CPU s (client) | peak RSS MB | wall vs tiesd |"
	echo "|---|---|---:|---:|---:|---:|"
	for phase in first no-change changed; do
		local t; t=$(median "tiesd-$phase" 2)
		for client in tiesd vdirsyncer curl; do
			local name=$client-$phase
			echo "$phase $client $(median "$name" 2) $(median "$name" 3) $(median "$name" 4) $t" |
				awk '{printf "| %s | %s | %.3f | %.2f | %.1f | %.2f× |\n", $1, $2, $3, $4, $5 / 1024, $3 / $6}'
		done
	done
	echo
	echo "$(median tiesd-start 2) $(median tiesd-start 4)" |
		awk '{printf "tiesd\x27s start (launch through systemd-socket-activate to its first answer, not part of any phase): %.3f s, %.1f MB.\n", $1, $2 / 1024}'
	median tiesd-settled 2 |
		awk '{printf "tiesd\x27s follow-up sync (sync-token read, ETags compared) ended %.2f s after the reload.\n", $1}'
}

# one_run N: a fresh Radicale with N cards, the three clients, the three
# phases; appends to $results.
one_run() {
	local n=$1
	port=$(free_port)
	rm -rf "$work/radicale" "$work/vdir" "$work/vs" "$work/xdg" "$work/run"
	mkdir -p "$work/radicale" "$work/vdir" "$work/vs/status" "$work/xdg/config/ties" "$work/run"
	chmod 700 "$work/run"
	echo "me:secret" > "$work/radicale/users"
	cat > "$work/radicale/config" <<-CONF
	[server]
	hosts = 127.0.0.1:$port
	[auth]
	type = htpasswd
	htpasswd_filename = $work/radicale/users
	htpasswd_encryption = plain
	delay = 0
	[storage]
	filesystem_folder = $work/radicale/collections
	[rights]
	type = owner_only
	[logging]
	level = warning
	CONF
	radicale --config "$work/radicale/config" >"$work/radicale.log" 2>&1 &
	pids+=($!)
	url="http://127.0.0.1:$port/"
	book="${url}me/contacts/"
	for _ in $(seq 100); do curl -sf -o /dev/null -u me:secret "$url.web/" && break; sleep 0.1; done
	curl -sf -u me:secret -X MKCOL "$book" -H 'Content-Type: application/xml' --data \
		'<?xml version="1.0"?><mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><C:addressbook/></resourcetype></prop></set></mkcol>'
	# Radicale's PUT slows down with the book's size; the cards go straight
	# into its storage instead (it reads new and changed files by itself).
	store_dir="$work/radicale/collections/collection-root/me/contacts"
	write_cards() {
		python3 - "$store_dir" "$@" <<-'PY'
		import sys
		folder, first, last, step, org = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
		family = ["山田", "佐藤", "鈴木", "高橋", "田中", "Smith", "Garcia", "Müller", "Kim", "Nguyen"]
		given = ["太郎", "花子", "健", "美咲", "翔", "Anna", "John", "Lea", "Min", "Linh"]
		for i in range(first, last, step):
		    o = org if org != "-" else ["株式会社ABC", "Example Inc.", "(株)サンプル", "Globex Corporation", "Initech"][i % 5]
		    with open(f"{folder}/card-{i}.vcf", "w") as f:
		        f.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-{i}\r\nFN:{family[i % 10]} {given[(i // 10) % 10]} {i}\r\n"
		                f"ORG:{o}\r\nTITLE:Engineer\r\nEMAIL:card-{i}@example.com\r\nEND:VCARD\r\n")
		PY
	}
	# Radicale reads new files on the next request: that one request pays
	# for it, and no client should.
	warm() {
		curl -s -o /dev/null -u me:secret -X REPORT -H 'Content-Type: application/xml' "$book" --data \
			'<?xml version="1.0"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop></C:addressbook-query>'
	}
	write_cards 0 "$n" 1 -
	warm

	# write_config [source]: tiesd's config, with the CardDAV source or without.
	write_config() {
		{
			printf '[ties]\nquiet-hours = off\n'
			[ -z "$1" ] || printf '[source.work]\ntype = carddav\nurl = %s\nusername = me\npassword = secret\ninterval = 24h\n' "$url"
		} > "$work/xdg/config/ties/ties.conf"
		chmod 600 "$work/xdg/config/ties/ties.conf"
	}

	# vdirsyncer
	cat > "$work/vs/config" <<-CONF
	[general]
	status_path = "$work/vs/status"
	[pair bench]
	a = "remote"
	b = "local"
	collections = ["from a"]
	[storage remote]
	type = "carddav"
	url = "$url"
	username = "me"
	password = "secret"
	[storage local]
	type = "filesystem"
	path = "$work/vdir"
	fileext = ".vcf"
	CONF
	export VDIRSYNCER_CONFIG="$work/vs/config"
	vdirsyncer discover >/dev/null 2>&1 < <(yes)

	# The lower bound: one REPORT each.
	query='<?xml version="1.0"?><C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop></C:addressbook-query>'
	token_req() { printf '<?xml version="1.0"?><D:sync-collection xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:sync-token>%s</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/><C:address-data/></D:prop></D:sync-collection>' "$1"; }
	token=$(curl -s -u me:secret -X PROPFIND -H 'Depth: 0' "$book" --data '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:sync-token/></D:prop></D:propfind>' |
		python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.stdin).find(".//{DAV:}sync-token").text)')

	start_and_measure_tiesd
	measure vdirsyncer-first vdirsyncer sync
	measure_request curl-first curl -s -u me:secret -X REPORT -H 'Depth: 1' -H 'Content-Type: application/xml' --data "$query" "$book"

	measure_tiesd tiesd-no-change
	measure vdirsyncer-no-change vdirsyncer sync
	measure_request curl-no-change curl -s -u me:secret -X REPORT -H 'Content-Type: application/xml' --data "$(token_req "$token")" "$book"

	write_cards 0 "$n" 20 "New Org"
	warm
	# Radicale records the book's new state at the first sync-collection
	# after a change; let the warm-up pay for that too.
	curl -s -o /dev/null -u me:secret -X REPORT -H 'Content-Type: application/xml' --data "$(token_req "$token")" "$book"
	measure_tiesd tiesd-changed
	measure vdirsyncer-changed vdirsyncer sync
	measure_request curl-changed curl -s -u me:secret -X REPORT -H 'Content-Type: application/xml' --data "$(token_req "$token")" "$book"

	contacts=$("$TIESCTL" --socket "$work/run/ties/tiesd.sock" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["contacts"])')
	[ "$contacts" -eq "$n" ] || { echo "bench: tiesd stored $contacts contacts, not $n" >&2; exit 1; }
	kill "$tiesd_pid"
	wait "$tiesd_pid" || true
	kill "${pids[0]}" 2>/dev/null || true
	wait "${pids[0]}" 2>/dev/null || true
	pids=()
}

for n in "${sizes[@]}"; do
	results="$work/results-$n"
	: > "$results"
	for _ in $(seq "$runs"); do
		one_run "$n"
	done
	report "$n"
done
