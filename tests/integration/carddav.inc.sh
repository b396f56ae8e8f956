# SPDX-License-Identifier: GPL-3.0-or-later
# The CardDAV source against a real server ($CARDDAV_SERVER: radicale or
# xandikos), started here with throw-away storage: discovery from the
# server root, a first sync of 500 cards, no-change and incremental syncs
# that cost few requests, a job change with its nudge in dunst, no event
# for a re-spelled organisation, a deleted card marked gone, a lost sync
# token, and an emptied address book held.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3
if [ "$CARDDAV_SERVER" = radicale ]; then plan 17; else plan 14; fi
N=500

start_desktop
start_dunst
"start_$CARDDAV_SERVER"
dav fill $N

{
	echo "[ties]"
	echo "quiet-hours = off"
	echo "max-nudges-per-day = 0"
	echo "[source.work]"
	echo "type = carddav"
	echo "url = $SERVER_URL"
	[ -n "$SERVER_USER" ] && echo "username = $SERVER_USER"
	[ -n "$SERVER_PASSWORD" ] && echo "password = $SERVER_PASSWORD"
	echo "interval = 1h"
} > "$CONF"
chmod 600 "$CONF"
start_tiesd
sync_wait work
is "discovery from the server root, first sync: $N contacts" "$(tiesctl --json contacts | json 'len(d["contacts"])')" $N
is "the first sync raises no job change (silent baseline)" "$(tiesctl --json events | json 'len([e for e in d["events"] if e["kind"]!="silence"])')" 0

before=$(server_requests)
out=$(tiesctl --json sync --wait work)
after=$(server_requests)
is "a no-change sync changes nothing" "$(printf '%s\n' "$out" | json 'str(d["results"][0]["added"]+d["results"][0]["updated"]+d["results"][0]["gone"])')" 0
if [ $((after - before)) -le 3 ]; then ok "and costs $((after - before)) requests"; else not_ok "a no-change sync costs $((after - before)) requests (at most 3 wanted)"; fi

# One card moves to another company, one re-spells its company, one is deleted.
dav put card-7 "鈴木 健 7" "Initech" "Engineer"
dav put card-1 "佐藤 太郎 1" "EXAMPLE Inc" "Engineer"
dav delete card-2
before=$(server_requests)
out=$(tiesctl --json sync --wait work)
after=$(server_requests)
is "the incremental sync sees 2 changed cards and 1 removed" \
	"$(printf '%s\n' "$out" | json 'str(d["results"][0]["updated"])+"/"+str(d["results"][0]["gone"])')" "2/1"
if [ $((after - before)) -le 4 ]; then ok "in $((after - before)) requests"; else not_ok "the incremental sync took $((after - before)) requests (at most 4 wanted)"; fi
events=$(tiesctl --json events | json '"|".join(e["name"]+": "+e["detail"] for e in d["events"] if e["kind"]!="silence")')
is "exactly one job change; the re-spelled company raises none" "$events" "鈴木 健 7: Joined Initech as Engineer"
job_change_shown() { dunst_history_all | grep -q "Joined Initech as Engineer"; }
dunst_history_all() { dunstctl close-all; dunst_history; }
wait_for 10 job_change_shown
like "the job change became a nudge in dunst" "$(dunst_history_all)" "Reach out to 鈴木 健 7 \\| Joined Initech as Engineer"
is "the deleted card's contact is gone, not deleted" \
	"$(tiesctl --json contacts --all | json '[c["gone"] for c in d["contacts"] if c["name"]=="鈴木 太郎 2"][0]')" "true"

# A sync token the server no longer knows: a full listing instead.
db="$XDG_DATA_HOME/ties/ties.db"
python3 - "$db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
state = json.loads(db.execute("SELECT sync_state FROM sources WHERE name = 'work'").fetchone()[0])
state["tokens"] = {book: "http://radicale.org/ns/sync/" + "0" * 40 if token.startswith("http") else "0" * 40
                   for book, token in state["tokens"].items()}
db.execute("UPDATE sources SET sync_state = ? WHERE name = 'work'", (json.dumps(state),))
db.commit()
PY
out=$(tiesctl --json sync --wait work); rc=$?
is "an unknown sync token falls back to a full listing (exit 0)" "$rc" 0
is "which finds nothing new" "$(printf '%s\n' "$out" | json 'str(d["results"][0]["added"]+d["results"][0]["updated"]+d["results"][0]["gone"])')" 0

# The address book emptied at once (a server glitch): held.
dav delete-all $N
out=$(tiesctl sync --wait work 2>&1); rc=$?
is "an emptied address book is held (exit 1)" "$rc" 1
like "status says why" "$(tiesctl --json status | json 'd["held_syncs"][0]["reason"]')" "would change 0 and remove $((N - 1)) of $((N - 1)) contacts"
is "no contact was marked gone" "$(tiesctl --json contacts | json 'len(d["contacts"])')" $((N - 1))

# A wrong password: a clear error, no retry storm, the password nowhere.
if [ -n "$SERVER_USER" ]; then
	cat >> "$CONF" <<-CONF
	[source.wrong]
	type = carddav
	url = $SERVER_URL
	username = me
	password = Wr0ngPassw0rd
	CONF
	tiesctl reload >/dev/null
	tiesctl sync --wait wrong >/dev/null 2>&1
	err=$(tiesctl --json sources | json '[s["last_error"] for s in d["sources"] if s["name"]=="wrong"][0]')
	like "a wrong password is a clear source error" "$err" "401|uthenticat"
	unlike "the password appears neither in status nor in the log" "$err $(tiesctl status) $(cat "$TIESD_LOG")" "Wr0ngPassw0rd"
	next=$(tiesctl --json sources | json '[s["next_run"] for s in d["sources"] if s["name"]=="wrong"][0]')
	in_s=$(( $(date -d "$next" +%s) - $(date +%s) ))
	if [ "$in_s" -gt 3600 ]; then ok "after a failure the next try backs off (${in_s}s)"; else not_ok "next try in ${in_s}s, no backoff"; fi
fi
