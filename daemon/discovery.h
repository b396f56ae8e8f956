/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "http.h"

/* Finds the feed of a contact's web page (SPEC §3): first by the known
 * URL patterns of blog and profile sites, else by fetching the page and
 * reading its <link rel="alternate" type="application/rss+xml" href> (or
 * atom+xml). A page that is itself a feed is its own feed. */

/* An HTML page is read up to this much: its <head> is at the start. */
#define DISCOVERY_MAX_PAGE_BYTES (512 * 1024)

/* The feed URL the known patterns give for PAGE_URL, or NULL:
 *   https://note.com/USER            -> https://note.com/USER/rss
 *   https://NAME.hatenablog.com/...  -> https://NAME.hatenablog.com/feed
 *     (also .hatenablog.jp, .hateblo.jp, .hatenadiary.com, .hatenadiary.jp)
 *   https://qiita.com/USER           -> https://qiita.com/USER/feed
 *   https://zenn.dev/USER            -> https://zenn.dev/USER/feed
 *   https://medium.com/@USER         -> https://medium.com/feed/@USER
 *   https://USER.medium.com/         -> https://USER.medium.com/feed
 *   https://github.com/USER          -> https://github.com/USER.atom
 *   https://HOST/@USER (Mastodon)    -> https://HOST/@USER.rss
 *   https://HOST/@USER@OTHER         -> https://OTHER/@USER.rss */
char *discovery_from_pattern(const char *page_url);

/* TRUE for pages of sites known to offer no feed a page could announce
 * (LinkedIn, Facebook, X, Instagram, …): they are never fetched. */
gboolean discovery_skip_page(const char *page_url);

/* The feed an HTML page announces, resolved against BASE_URL (the page's
 * address after redirects; a <base href> in the page wins), or NULL. The
 * first rel="alternate" link of type application/rss+xml or
 * application/atom+xml is taken, comment feeds only when there is no
 * other. Only http and https URLs are returned. The page is decoded by the
 * charset of CONTENT_TYPE (may be NULL), else of its <meta>, else as UTF-8
 * or windows-1252 (Shift_JIS as CP932, SPEC §3). */
char *discovery_from_html(const char *data, gsize len, const char *base_url, const char *content_type);

typedef struct Discovery Discovery;

/* FEED_URL is NULL when the page has no feed; ERROR is NULL unless the
 * check itself failed (the page could not be fetched), in words for a
 * person. Both are borrowed for the call. */
typedef void (*DiscoveryDoneFunc)(const char *page_url, const char *feed_url, const char *error,
				  gpointer user_data);

/* Looks for the feed of PAGE_URL: by pattern, else through HTTP (borrowed;
 * must outlive the run). DONE runs once, from the main loop, never from
 * inside this call, unless discovery_cancel() came first. */
Discovery *discovery_run(HttpEngine *http, const char *page_url, DiscoveryDoneFunc done, gpointer user_data);
/* Stops a run whose DONE has not run yet; it will not. */
void discovery_cancel(Discovery *discovery);
