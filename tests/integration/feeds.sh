#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Feeds in the running daemon: a [feed.NAME] of the config tied to a
# contact by e-mail, `tiesctl feeds add`, OPML import and export, discovery
# from a contact's web page; the first poll is a silent baseline but for a
# 退職 post of three days ago, which raises one job change and its nudge;
# the next sync costs one 304 per feed; a broken feed shows its error and
# keeps its posts; a section that leaves the config takes its feed along;
# a nudge names the contact's recent post, and its "Open" action opens it.
. "$TESTS_SRCDIR/integration/lib.sh"
require python3 curl
plan 29

NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || { echo "Bail out! nginx is not installed (see .ci/run for the packages the tests need)"; exit 1; }

# ---- nginx on 127.0.0.1, serving $WWW, logging "URI STATUS" ----
WWW="$TEST_DIR/www"
mkdir -p "$WWW" "$TEST_DIR/nginx"
port=$(free_port)
BASE="http://127.0.0.1:$port"
cat > "$TEST_DIR/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
pid $TEST_DIR/nginx/nginx.pid;
error_log $TEST_DIR/nginx/error.log;
events { worker_connections 64; }
http {
  log_format ties '\$uri \$status';
  access_log $TEST_DIR/nginx/access.log ties;
  client_body_temp_path $TEST_DIR/nginx/cb; proxy_temp_path $TEST_DIR/nginx/px;
  fastcgi_temp_path $TEST_DIR/nginx/fc; uwsgi_temp_path $TEST_DIR/nginx/uw; scgi_temp_path $TEST_DIR/nginx/sc;
  types { application/rss+xml xml; text/html html; }
  server {
    listen 127.0.0.1:$port;
    root $WWW;
    location = /broken.xml { return 500; }
  }
}
CONF
"$NGINX" -p "$TEST_DIR/nginx" -c "$TEST_DIR/nginx/nginx.conf" -e "$TEST_DIR/nginx/error.log" &
cleanup_pids="$cleanup_pids $!"
wait_for 10 curl -s -o /dev/null "$BASE/" || { echo "Bail out! nginx did not start"; exit 1; }
access_count() { grep -c "$1" "$TEST_DIR/nginx/access.log" || true; }

# rss FILE TITLE DAYS_AGO [TITLE DAYS_AGO]...: an RSS 2.0 feed in $WWW.
rss() {
	file=$1
	shift
	python3 - "$WWW/$file" "$@" <<'PY'
import email.utils, sys, time, hashlib
path, rest = sys.argv[1], sys.argv[2:]
items = []
for title, days in zip(rest[::2], rest[1::2]):
    slug = hashlib.md5(title.encode()).hexdigest()
    items.append("<item><title>%s</title><link>http://blog.test/%s</link><guid>%s</guid><pubDate>%s</pubDate>"
                 "<description>%s の本文</description></item>"
                 % (title, slug, slug, email.utils.formatdate(time.time() - float(days) * 86400, usegmt=True), title))
open(path, "w").write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>%s</title>'
                      '<link>http://blog.test/</link>%s</channel></rss>\n' % (path.rsplit("/", 1)[1], "".join(items)))
PY
}

rss tanaka.xml "退職しました" 3 "週末の散歩" 40 "読書メモ" 80
rss suzuki.xml "Notes on code review" 30 "Weekend project" 60
rss sato.xml "京都の紅葉" 20
rss imported.xml "Imported post" 50
cat > "$WWW/sato.html" <<HTML
<!DOCTYPE html><html><head><title>佐藤のページ</title>
<link rel="alternate" type="application/rss+xml" title="佐藤のブログ" href="/sato.xml">
</head><body>こんにちは</body></html>
HTML

mkdir -p "$TEST_DIR/cards"
card "$TEST_DIR/cards/tanaka.vcf" tanaka "田中 一郎" tanaka@example.com "株式会社ABC"
card "$TEST_DIR/cards/suzuki.vcf" suzuki "Ken Suzuki" ken@example.com
printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:sato\r\nFN:佐藤 花子\r\nEMAIL:sato@example.com\r\nURL:%s/sato.html\r\nEND:VCARD\r\n' "$BASE" \
	> "$TEST_DIR/cards/sato.vcf"
# The shipped job-post rules, as the user's own (nothing is installed here).
cp "$TESTS_SRCDIR/../daemon/jobpost.rules" "$XDG_CONFIG_HOME/ties/jobpost.rules"
# write_feeds_config [LINES]: the cards, 田中's feed, and LINES.
write_feeds_config() {
	write_config <<CONF
[ties]
quiet-hours = off
max-nudges-per-day = 10
[source.cards]
type = vcard
path = $TEST_DIR/cards
[feed.tanaka]
url = $BASE/tanaka.xml
contact = tanaka@example.com
${1:-}
CONF
}
write_feeds_config "[feed.broken]
url = $BASE/broken.xml"
# The desktop's bus from the start; dunst comes at the end.
start_desktop
# "Open" runs the default handler of http links: ours notes the URL.
mkdir -p "$XDG_DATA_HOME/applications"
cat > "$XDG_DATA_HOME/applications/ties-test-open.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=ties test opener
Exec=sh -c 'echo "\$1" > "$TEST_DIR/opened"' sh %u
MimeType=x-scheme-handler/http;
DESKTOP
printf '[Default Applications]\nx-scheme-handler/http=ties-test-open.desktop\n' > "$XDG_CONFIG_HOME/mimeapps.list"
start_tiesd

check "sync --wait polls the feeds too" tiesctl sync --wait
feeds=$(tiesctl --json feeds)
tanaka=$(printf '%s\n' "$feeds" | json '[f for f in d["feeds"] if f["url"].endswith("/tanaka.xml")][0]')
is "the configured feed belongs to its contact" "$(printf '%s\n' "$tanaka" | json 'd["contact"]')" "田中 一郎"
is "its first poll stored every post" "$(printf '%s\n' "$tanaka" | json 'str(d["posts"])+" "+d["last_result"]')" "3 ok"
broken=$(printf '%s\n' "$feeds" | json '[f for f in d["feeds"] if f["url"].endswith("/broken.xml")][0]')
is "a broken feed says why" "$(printf '%s\n' "$broken" | json 'd["last_result"]+": "+d["last_error"]')" "error: HTTP 500"
like "and when it is tried again" "$(printf '%s\n' "$broken" | json 'd["next_poll"]')" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T"

events=$(tiesctl --json events --kind job-change | json '"|".join(e["name"]+": "+e["detail"] for e in d["events"])')
is "a 退職 post of three days ago is one job change (the rest of the baseline is silent)" "$events" "田中 一郎: Wrote 「退職しました」"
first=$(tiesctl --json nudges | json 'd["nudges"][0]')
is "it is the first nudge" "$(printf '%s\n' "$first" | json 'd["kind"]+" "+d["name"]')" "job-change 田中 一郎"
posts=$(tiesctl --json show tanaka@example.com | json '"|".join(p["title"] for p in d["posts"])')
is "show lists the contact's posts, newest first" "$posts" "退職しました|週末の散歩|読書メモ"
post=$(tiesctl --json show tanaka@example.com | json 'd["posts"][0]')
like "each with its link, date and feed" "$(printf '%s\n' "$post" | json 'd["link"]+" "+d["published"]+" "+d["feed"]')" \
	"^http://blog.test/[0-9a-f]+ [0-9-]+T[0-9:]+Z $BASE/tanaka.xml$"

# Discovery found 佐藤's blog from the URL on her card.
check "discovery runs after a sync" wait_for 10 sh -c "\"$TIESCTL\" --socket \"$SOCK\" --json feeds | grep -q sato.xml"
check "sync --wait" tiesctl sync --wait
sato=$(tiesctl --json feeds | json '[f for f in d["feeds"] if f["url"].endswith("/sato.xml")][0]')
is "a feed discovered from the contact's page is hers" "$(printf '%s\n' "$sato" | json 'd["contact"]+" "+d["origin"]+" "+str(d["posts"])')" \
	"佐藤 花子 discovery 1"

# By hand and by OPML.
check "feeds add URL --contact" tiesctl feeds add "$BASE/suzuki.xml" --contact ken@example.com
cat > "$TEST_DIR/list.opml" <<OPML
<?xml version="1.0"?>
<opml version="1.0"><body>
<outline text="Imported" xmlUrl="$BASE/imported.xml"/>
<outline text="Again" xmlUrl="$BASE/tanaka.xml"/>
</body></opml>
OPML
imported=$(tiesctl --json feeds import "$TEST_DIR/list.opml")
is "feeds import adds what is new" "$(printf '%s\n' "$imported" | json 'str(d["added"])+" "+str(d["skipped"])')" "1 1"
check "sync --wait" tiesctl sync --wait
is "the feed added by hand has its posts and contact" \
	"$(tiesctl --json show ken@example.com | json '"|".join(p["title"] for p in d["posts"])')" "Notes on code review|Weekend project"
opml=$(tiesctl --json feeds export | json 'd["opml"]')
like "feeds export writes OPML with the contacts' names" "$opml" 'text="田中 一郎"'
like "and every feed" "$(printf '%s\n' "$opml" | grep -c xmlUrl)" "^5$"

# Nothing changed: one 304 per feed that answered before.
: > "$TEST_DIR/nginx/access.log"
check "sync --wait again" tiesctl sync --wait
is "an unchanged feed costs one 304" "$(access_count '^/tanaka.xml 304')" 1
is "no feed was downloaded again" "$(access_count '\.xml 200')" 0

# A new post after the baseline.
rss suzuki.xml "Excited to share that I've joined Globex" 0.1 "Notes on code review" 30 "Weekend project" 60
tiesctl sync --wait >/dev/null
is "a new job-change post raises one event" \
	"$(tiesctl --json events --kind job-change | json '"|".join(sorted(e["name"] for e in d["events"]))')" "Ken Suzuki|田中 一郎"

# 田中's card now shows where he went: the move his post announced, not a second one.
card "$TEST_DIR/cards/tanaka.vcf" tanaka "田中 一郎" tanaka@example.com "Globex株式会社" "CTO"
tiesctl sync --wait >/dev/null
tanaka_moves=$(tiesctl --json events --kind job-change | json '[e["detail"] for e in d["events"] if e["name"]=="田中 一郎"]')
is "a card's job change after the post's is the same event" "$(printf '%s\n' "$tanaka_moves" | json 'len(d)')" 1
is "told the card's way" "$(printf '%s\n' "$tanaka_moves" | json 'd[0]')" "Joined Globex株式会社 as CTO"

# The section goes: so does its feed, the others stay.
write_feeds_config
tiesctl reload >/dev/null
is "a feed that left the config is gone, the others stay" \
	"$(tiesctl --json feeds | json '",".join(sorted(f["url"].rsplit("/",1)[1] for f in d["feeds"]))')" \
	"imported.xml,sato.xml,suzuki.xml,tanaka.xml"

# 佐藤 is overdue: her nudge names her post of 20 days ago.
tiesctl cadence sato@example.com 30d >/dev/null
tiesctl touch sato@example.com --at "$(date -u -d '60 days ago' +%Y-%m-%d)" >/dev/null
sato_nudge() { tiesctl --json nudges | json '[n["body"] for n in d["nudges"] if n["name"]=="佐藤 花子"][0]'; }
wait_for 10 sato_nudge >/dev/null
like "a silence nudge names the contact's recent post" "$(sato_nudge)" "· wrote 「京都の紅葉」 (20 days|2 weeks|3 weeks) ago$"
start_dunst
shown() { [ "$(tiesctl --json nudges | json '[n["state"] for n in d["nudges"] if n["name"]=="佐藤 花子"][0]')" = shown ]; }
check "dunst shows it" wait_for 10 shown
echo "#Open (Reach out to 佐藤 花子)" > "$TEST_DIR/pick.txt"
dunstctl context
check "Open runs the link's handler" wait_for 10 test -s "$TEST_DIR/opened"
like "with the post's link" "$(cat "$TEST_DIR/opened")" "^http://blog.test/$(printf '%s' 京都の紅葉 | md5sum | cut -c1-32)$"
