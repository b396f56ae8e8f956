#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Feed polling benchmark (issue 4): M generated feeds of 20 items each
# (RSS 2.0, RSS 1.0 and Atom in turn, Japanese and English, ~31 KB each)
# served by a local nginx; in one run, for each M:
#   - ties:     the real tiesd in throw-away XDG folders, its feeds imported
#               from an OPML file, timed around `tiesctl sync --wait`; its
#               CPU and peak memory (VmHWM) come from /proc
#   - newsboat: `newsboat -x reload` over the same URLs (default settings)
#   - curl:     every URL in parallel, the lower bound; then again with a
#               conditional header (If-Modified-Since)
# each for a first poll and a poll where nothing changed. Wall time, CPU
# (user + system) and peak memory come from /usr/bin/time; the medians of
# RUNS runs are printed as a Markdown table with the ratios.
#
# Usage: bench/feeds.sh [M...]        (default: 100 1000; RUNS=3)
# Run from a built tree (daemon/tiesd, cli/tiesctl; or set TIESD, TIESCTL).
# Needs: nginx, newsboat, curl, python3, /usr/bin/time (package time).

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
sizes=${*:-100 1000}
runs=${RUNS:-3}

for program in nginx newsboat curl python3; do
	if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$program" ]; then
		echo "bench/feeds.sh: $program is needed (Debian packages: nginx newsboat curl python3 time)" >&2
		exit 1
	fi
done
[ -x /usr/bin/time ] || { echo "bench/feeds.sh: /usr/bin/time is needed (Debian package time)" >&2; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
TIESD=${TIESD:-$top/daemon/tiesd}
TIESCTL=${TIESCTL:-$top/cli/tiesctl}
for program in "$TIESD" "$TIESCTL"; do
	[ -x "$program" ] || { echo "bench/feeds.sh: $program is not built (run make first)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ties-bench-feeds.XXXXXX")
nginx_pid=
tiesd_pid=
cleanup() {
	[ -n "$tiesd_pid" ] && kill "$tiesd_pid" 2>/dev/null && wait "$tiesd_pid" 2>/dev/null
	[ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# ---- nginx ----
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/www"
cat > "$work/nginx.conf" <<EOF
daemon off;
master_process off;
pid $work/nginx.pid;
error_log $work/error.log;
worker_rlimit_nofile 4096;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path $work/cb; proxy_temp_path $work/px; fastcgi_temp_path $work/fc;
  uwsgi_temp_path $work/uw; scgi_temp_path $work/sc;
  types { application/rss+xml xml; }
  keepalive_requests 100000;
  server { listen 127.0.0.1:$port; root $work/www; }
}
EOF
"$NGINX" -p "$work" -c "$work/nginx.conf" -e "$work/error.log" &
nginx_pid=$!
i=0
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "bench/feeds.sh: nginx did not start" >&2; cat "$work/error.log" >&2; exit 1; }
	sleep 0.1
done

# measure NAME CMD...: appends "NAME wall cpu rss_kb" to $work/times.
measure() {
	name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$work/time.out" "$@" >"$work/out.txt" 2>"$work/err.txt" || {
		echo "bench/feeds.sh: $name failed:" >&2
		cat "$work/err.txt" >&2
		exit 1
	}
	read -r wall user sys rss < "$work/time.out"
	echo "$name $wall $(echo "$user $sys" | awk '{ printf "%.2f", $1 + $2 }') $rss" >> "$work/times"
}

tiesctl() { "$TIESCTL" --socket "$work/ties/run/ties/tiesd.sock" "$@"; }

# start_tiesd: a fresh tiesd in throw-away XDG folders, following the feeds
# of $work/feeds.opml (imported feeds wait for their place in the schedule,
# so nothing polls before the measured sync).
start_tiesd() {
	rm -rf "$work/ties"
	mkdir -p "$work/ties/config" "$work/ties/data/contacts" "$work/ties/cache" "$work/ties/state"
	mkdir -m 700 "$work/ties/run"
	env -u DBUS_SESSION_BUS_ADDRESS XDG_CONFIG_HOME="$work/ties/config" XDG_DATA_HOME="$work/ties/data" \
		XDG_CACHE_HOME="$work/ties/cache" XDG_STATE_HOME="$work/ties/state" XDG_RUNTIME_DIR="$work/ties/run" \
		"$TIESD" >"$work/tiesd.log" 2>&1 &
	tiesd_pid=$!
	i=0
	until tiesctl status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "bench/feeds.sh: tiesd did not start" >&2; cat "$work/tiesd.log" >&2; exit 1; }
		sleep 0.05
	done
	tiesctl feeds import "$work/feeds.opml" >/dev/null
}

stop_tiesd() {
	kill "$tiesd_pid"
	wait "$tiesd_pid" || true
	tiesd_pid=
}

# measure_tiesd NAME: the wall time of `tiesctl sync --wait`, the daemon's
# CPU during it and its peak RSS so far, appended to $work/times.
measure_tiesd() {
	hz=$(getconf CLK_TCK)
	before=$(awk '{ print $14 + $15 }' "/proc/$tiesd_pid/stat")
	start=$(date +%s.%N)
	tiesctl --json sync --wait >"$work/out.txt"
	end=$(date +%s.%N)
	after=$(awk '{ print $14 + $15 }' "/proc/$tiesd_pid/stat")
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$tiesd_pid/status")
	echo "$1 $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" \
		"$(awk -v a="$before" -v b="$after" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }') $rss" >> "$work/times"
}

# feeds_row FIELD: FIELD of the "feeds" row of the last sync.
feeds_row() {
	python3 -c 'import json,sys; r=[r for r in json.load(open(sys.argv[1]))["results"] if r["source"]=="feeds"][0]; print(r[sys.argv[2]])' \
		"$work/out.txt" "$1"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

stat() { # stat NAME COLUMN: the median of COLUMN (2 wall, 3 cpu, 4 rss) over the runs
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$work/times" | median
}

for m in $sizes; do
	: > "$work/times"
	rm -rf "$work/www/$m"
	python3 "$top/bench/gen-feeds.py" "$work/www/$m" "$m" "http://blog.test"
	ls "$work/www/$m" | sed "s|^|http://127.0.0.1:$port/$m/|" > "$work/urls"
	{
		echo '<?xml version="1.0" encoding="UTF-8"?><opml version="2.0"><body>'
		sed 's|.*|<outline type="rss" text="&" xmlUrl="&"/>|' "$work/urls"
		echo '</body></opml>'
	} > "$work/feeds.opml"
	bytes=$(du -sb "$work/www/$m" | cut -f1)
	since=$(date -u -R -d '+1 minute')

	for run in $(seq "$runs"); do
		# ties: a fresh daemon and store, then a second sync of the same.
		start_tiesd
		measure_tiesd ties-first
		# (a feed or two may have had its scheduled first poll already)
		posts=$(tiesctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["posts"])')
		[ "$posts" = $((m * 20)) ] || { echo "bench/feeds.sh: $posts posts stored" >&2; cat "$work/out.txt" >&2; exit 1; }
		measure_tiesd ties-same
		[ "$(feeds_row not_modified)" = "$m" ] || { cat "$work/out.txt" >&2; exit 1; }
		stop_tiesd

		# newsboat: a fresh cache, then the same cache again.
		rm -rf "$work/nb"
		mkdir -p "$work/nb"
		cp "$work/urls" "$work/nb/urls"
		: > "$work/nb/config"
		measure newsboat-first newsboat -u "$work/nb/urls" -c "$work/nb/cache.db" -C "$work/nb/config" -x reload
		measure newsboat-same newsboat -u "$work/nb/urls" -c "$work/nb/cache.db" -C "$work/nb/config" -x reload

		# curl: everything in parallel, then everything conditional.
		sed 's|^\(.*\)$|url = "\1"\noutput = "/dev/null"|' "$work/urls" > "$work/curl.conf"
		measure curl-first curl -s --parallel --parallel-immediate --parallel-max 50 --compressed -K "$work/curl.conf"
		measure curl-same curl -s --parallel --parallel-immediate --parallel-max 50 --compressed -z "$since" -K "$work/curl.conf"
	done

	mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
	echo
	echo "### M = $m feeds ($((m * 20)) items, $mb MB), medians of $runs runs"
	echo
	echo "| poll | tool | wall s | CPU s | peak RSS MB | newsboat / ties (wall) | ties / curl (wall) |"
	echo "|---|---|---|---|---|---|---|"
	for phase in first same; do
		label=$([ "$phase" = first ] && echo "first" || echo "no change")
		tw=$(stat "ties-$phase" 2)
		nw=$(stat "newsboat-$phase" 2)
		cw=$(stat "curl-$phase" 2)
		for tool in ties newsboat curl; do
			w=$(stat "$tool-$phase" 2)
			c=$(stat "$tool-$phase" 3)
			r=$(stat "$tool-$phase" 4 | awk '{ printf "%.1f", $1 / 1024 }')
			nr= cr=
			if [ "$tool" = ties ]; then
				nr=$(awk -v a="$nw" -v b="$tw" 'BEGIN { printf "%.1f×", a / (b > 0 ? b : 0.01) }')
				cr=$(awk -v a="$tw" -v b="$cw" 'BEGIN { printf "%.1f×", a / (b > 0 ? b : 0.01) }')
			fi
			echo "| $label | $tool | $w | $c | $r | $nr | $cr |"
		done
	done
done
