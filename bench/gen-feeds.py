#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes M generated feeds of 20 items each into DIR: RSS 2.0, RSS 1.0 and
Atom in turn, every other one in Japanese, about 31 KB each (as a real blog
with full-text items). Items are three days apart, the newest a few hours
old: a quarter of them fall in the 14 days a first poll looks at.
Usage: gen-feeds.py DIR M [BASE_URL]"""

import email.utils
import os
import sys
import time

ITEMS = 20
DAY = 86400
T0 = int(time.time())

JA_TITLES = ["転職活動のふりかえり", "週末に読んだ本", "Rustで書くCLI", "チームの振り返り会",
             "京都で見た紅葉", "SQLiteの索引を考える", "新しいキーボード", "登壇資料を公開しました"]
EN_TITLES = ["Notes on incident review", "What I read this week", "Writing a CLI in C",
             "Conference recap", "On code review", "A small SQLite trick", "Weekend project",
             "Slides from my talk"]
JA_TEXT = ("今日は最近考えていることを書きます。チームで仕事をするとき、一番大事なのは"
           "相手の話をよく聞くことだと思います。") * 5
EN_TEXT = ("Today I want to write about something I have been thinking about lately. "
           "Working in a team, the most important thing is to listen. ") * 5


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rfc822(t):
    return email.utils.formatdate(t, usegmt=True)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def items(n, ja, base):
    titles = JA_TITLES if ja else EN_TITLES
    text = JA_TEXT if ja else EN_TEXT
    for i in range(ITEMS):
        t = T0 - (n % 7) * 3600 - i * 3 * DAY
        title = f"{titles[(n + i) % len(titles)]} #{i}"
        link = f"{base}/posts/{n}/{i}.html"
        body = f"<p>{esc(text)}</p><p>{esc(title)}</p>"
        yield t, title, link, text, body


def rss20(n, ja, base):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
           f'<channel><title>Blog {n}</title><link>{base}/</link><description>blog</description>']
    for t, title, link, text, body in items(n, ja, base):
        out.append(f"<item><title>{esc(title)}</title><link>{link}</link><guid>{link}</guid>"
                   f"<pubDate>{rfc822(t)}</pubDate><description>{esc(text[:300])}</description>"
                   f"<content:encoded><![CDATA[{body}]]></content:encoded></item>")
    out.append("</channel></rss>")
    return "\n".join(out)


def rss10(n, ja, base):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
           ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
           f'<channel rdf:about="{base}/"><title>Blog {n}</title><link>{base}/</link><description>blog</description>'
           '<items><rdf:Seq>']
    entries = list(items(n, ja, base))
    out += [f'<rdf:li rdf:resource="{e[2]}"/>' for e in entries]
    out.append("</rdf:Seq></items></channel>")
    for t, title, link, text, body in entries:
        out.append(f'<item rdf:about="{link}"><title>{esc(title)}</title><link>{link}</link>'
                   f"<dc:date>{iso(t)}</dc:date><description>{esc(text[:300])}</description>"
                   f"<content:encoded>{esc(body)}</content:encoded></item>")
    out.append("</rdf:RDF>")
    return "\n".join(out)


def atom(n, ja, base):
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<feed xmlns="http://www.w3.org/2005/Atom">',
           f'<title>Blog {n}</title><link href="{base}/"/><id>{base}/</id><updated>{iso(T0)}</updated>']
    for t, title, link, text, body in items(n, ja, base):
        out.append(f'<entry><title>{esc(title)}</title><link href="{link}"/><id>{link}</id>'
                   f"<updated>{iso(t)}</updated><summary>{esc(text[:300])}</summary>"
                   f'<content type="html">{esc(body)}</content></entry>')
    out.append("</feed>")
    return "\n".join(out)


def main():
    folder, m = sys.argv[1], int(sys.argv[2])
    base = sys.argv[3] if len(sys.argv) > 3 else "http://blog.example"
    os.makedirs(folder, exist_ok=True)
    kinds = [(rss20, "rss"), (rss10, "rdf"), (atom, "atom")]
    for n in range(m):
        make, ext = kinds[n % 3]
        with open(os.path.join(folder, f"feed{n}.{ext}.xml"), "w", encoding="utf-8") as f:
            f.write(make(n, n % 2 == 1, f"{base}/{n}"))


if __name__ == "__main__":
    main()
