/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "feed.h"
#include "store.h"

/* The feed tables of the store: feeds, their posts, discovered feed URLs.
 * Like the rest of the store, times are Unix seconds and 0 means none. */

/* Posts kept per feed: the oldest beyond this go (never those the feed
 * still lists at the poll that prunes). */
#define STORE_MAX_POSTS_PER_FEED 5000

/* Characters of a post's text kept, the rest cut with "…": a post without
 * a title (Mastodon) is quoted by the start of its text, and nothing else
 * reads it; more would only double what a first poll writes. */
#define STORE_POST_SUMMARY_CHARS 100

/* Where a feed came from. */
#define FEED_ORIGIN_CONFIG "config"
#define FEED_ORIGIN_CLI "cli"
#define FEED_ORIGIN_OPML "opml"
#define FEED_ORIGIN_DISCOVERY "discovery"

/* What `tiesctl feeds` shows as a feed's last result. */
#define FEED_RESULT_OK "ok"
#define FEED_RESULT_NOT_MODIFIED "not-modified"
#define FEED_RESULT_ERROR "error"

typedef struct {
	gint64 id;
	char *url;           /* where it is polled now (after permanent redirects) */
	char *origin;        /* FEED_ORIGIN_* */
	char *config_name;   /* NAME of [feed.NAME]; NULL unless from the config */
	char *config_url;    /* the URL the config gave; NULL unless from the config */
	gint64 contact_id;   /* 0: no contact */
	char *contact_name;  /* NULL without a contact */
	char *contact_hint;  /* what named the contact, kept while it does not resolve */
	char *title;
	char *etag, *last_modified;
	gint64 interval_s;   /* 0: the poller's default */
	gint64 last_poll;
	char *last_result;   /* FEED_RESULT_*, NULL before the first poll */
	char *last_error;
	gint64 next_poll;
	guint failures;      /* polls failed in a row */
	gboolean baseline_done;
	gint64 posts;        /* how many are stored */
} StoreFeed;

void store_feed_free(StoreFeed *feed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreFeed, store_feed_free)

/* Adds a feed at URL unless one is there already. *OUT_ID gets the feed's
 * id either way, *OUT_CREATED (may be NULL) whether it is new. CONTACT_ID
 * (0 = none) and CONTACT_HINT (may be NULL) are taken only by a new feed. */
gboolean store_feed_add(Store *store, const char *url, const char *origin, gint64 contact_id,
			const char *contact_hint, const char *title, gint64 next_poll, gint64 *out_id,
			gboolean *out_created, GError **error);

/* The feed of [feed.NAME]: found by NAME, else adopted by URL from another
 * origin, else created (with NEXT_POLL). A changed URL in the config
 * replaces the stored one (and its conditional headers); the same URL keeps
 * what permanent redirects made of it. CONTACT_ID, CONTACT_HINT and
 * INTERVAL_S are set as given. */
gboolean store_feed_configure(Store *store, const char *name, const char *url, gint64 contact_id,
			      const char *contact_hint, gint64 interval_s, gint64 next_poll, gint64 *out_id,
			      GError **error);

/* Removes the feed and its posts (events raised from them stay). */
gboolean store_feed_delete(Store *store, gint64 feed_id, GError **error);

StoreFeed *store_feed_get(Store *store, gint64 feed_id);
StoreFeed *store_feed_by_url(Store *store, const char *url);
/* Every feed, by id. */
GPtrArray *store_feeds_all(Store *store);
/* How many feeds and posts are stored. */
gint64 store_feeds_count(Store *store);
gint64 store_posts_count(Store *store);
/* The earliest next_poll of any feed; 0 when none is scheduled. */
gint64 store_feeds_next_poll(Store *store);

/* What a poll starts from. */
typedef struct {
	gint64 id;
	char *url, *etag, *last_modified;
	gboolean baseline_done;
} StorePollStart;

void store_poll_start_free(StorePollStart *start);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorePollStart, store_poll_start_free)

/* The polls of the feeds whose next poll is at or before DUE_BY start, at
 * most LIMIT of them (the earliest): each one's next poll moves to NOW
 * plus its interval (DEFAULT_INTERVAL_S where it has none), so that it is
 * not due again while it runs, and it is returned (owned StorePollStart*,
 * by id). One statement for them all. */
GPtrArray *store_feeds_start_due(Store *store, gint64 due_by, guint limit, gint64 now, gint64 default_interval_s,
				 GError **error);
/* Overdue feeds (a daemon that was stopped) are spread over [NOW, NOW + SPREAD_S). */
gboolean store_feeds_spread_overdue(Store *store, gint64 now, gint64 spread_s, GError **error);

gboolean store_feed_set_contact(Store *store, gint64 feed_id, gint64 contact_id, const char *contact_hint,
				GError **error);

/* After a permanent redirect. Fails with G_IO_ERROR_EXISTS when another
 * feed has URL already. */
gboolean store_feed_set_url(Store *store, gint64 feed_id, const char *url, GError **error);

/* What one poll did. */
typedef struct {
	gint64 at;
	const char *result;       /* FEED_RESULT_* */
	const char *error;        /* why it failed, for people; NULL when it did not */
	gboolean validators;      /* set ETAG and LAST_MODIFIED (an answer came) */
	const char *etag, *last_modified;
	const char *title;        /* NULL keeps the stored one */
	gint64 next_poll;
	guint failures;
	gboolean baseline_done;   /* the feed's first good poll is behind it */
} StoreFeedPoll;

gboolean store_feed_record_poll(Store *store, gint64 feed_id, const StoreFeedPoll *poll, GError **error);

/* A stored post. */
typedef struct {
	gint64 id, feed_id;
	char *guid, *link, *title, *summary;
	gint64 published;  /* 0 when the feed gave no date */
	gint64 seen_at;
	gboolean job_change;
} StorePost;

void store_post_free(StorePost *post);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StorePost, store_post_free)

/* Adds ITEMS (FeedItem*) of one poll of FEED_ID, seen at NOW, in one
 * transaction (a savepoint, so it may run inside store_feeds_begin()).
 * Items already stored (same id) are left as they are. CLASSIFY (may be
 * NULL: the items' own job_change) decides job_change for the new ones
 * only, so that a poll pays for classifying only what it did not know.
 * *OUT_NEW gets the new posts (StorePost*), in the feed's order. */
typedef gboolean (*StorePostClassifyFunc)(const FeedItem *item, gpointer user_data);
gboolean store_feed_add_items(Store *store, gint64 feed_id, const GPtrArray *items, gint64 now,
			      StorePostClassifyFunc classify, gpointer user_data, GPtrArray **out_new,
			      GError **error);

/* One transaction around several store calls (a poll's posts, its events
 * and its result); these nest (savepoints), and the outermost commits. */
gboolean store_feeds_begin(Store *store, GError **error);
gboolean store_feeds_commit(Store *store, GError **error);
void store_feeds_rollback(Store *store);

/* The newest post of CONTACT_ID published (or, undated, first seen) at or
 * after SINCE; NULL when none. For the topic of a nudge. */
StorePost *store_contact_latest_post(Store *store, gint64 contact_id, gint64 since);
/* [{"title","link","published","feed"}] newest first, at most LIMIT; FEED
 * is the feed's URL. For `tiesctl show`. */
JsonArray *store_contact_posts(Store *store, gint64 contact_id, guint limit);

/* TRUE when CONTACT_ID has a job-change event (from any detector,
 * dismissed ones included) within WINDOW_S of AT: that move is known. */
gboolean store_job_change_near(Store *store, gint64 contact_id, gint64 at, gint64 window_s);
/* The job-change event a post raised for CONTACT_ID within WINDOW_S of
 * AT, or 0: a card that shows the move later is that same move. */
gint64 store_post_job_change_near(Store *store, gint64 contact_id, gint64 at, gint64 window_s);
/* Gives event EVENT_ID the DETAIL a card tells better than a post title. */
gboolean store_event_set_detail(Store *store, gint64 event_id, const char *detail, GError **error);

/* The contact a feed's contact hint means: a contact id, an e-mail
 * address (its identifier), a profile or blog URL (its identifier), or an
 * exact name (normalised: case, width, white space) of exactly one present
 * contact; else 0. */
gint64 store_feed_resolve_contact(Store *store, const char *hint);

/* ---- discovery: which page URLs were checked for a feed ---- */

typedef struct {
	char *page_url;
	char *feed_url;  /* NULL: the page has none */
	char *error;     /* NULL: checked; else why the check failed */
	gint64 checked_at;
} StoreDiscovery;

void store_discovery_free(StoreDiscovery *discovery);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreDiscovery, store_discovery_free)
StoreDiscovery *store_discovery_get(Store *store, const char *page_url);
gboolean store_discovery_set(Store *store, const char *page_url, const char *feed_url, const char *error_text,
			     gint64 checked_at, GError **error);

/* Every (contact, URL) the present records of present contacts give, as
 * the sources wrote them: the pages discovery looks at. CONTACT_IDS gets
 * gint64s, URLS the char* at the same index. */
void store_contact_page_urls(Store *store, GArray *contact_ids, GPtrArray *urls);

/* The `feeds` listing of `tiesctl`:
 * [{"id","url","origin","contact_id","contact","contact_hint","title",
 *   "interval_s","last_poll","last_result","last_error","next_poll",
 *   "failures","posts"}]. INTERVAL_DEFAULT_S is shown for feeds without
 * an interval of their own. */
JsonObject *store_feed_to_json(const StoreFeed *feed, gint64 interval_default_s);
