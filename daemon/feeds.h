/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf.h"
#include "http.h"
#include "jobpost.h"
#include "store.h"

/* The feed poller (doc/feeds.md): polls every stored feed on the daemon's
 * one HTTP engine, each at its own place in its interval, with conditional
 * GET; stores new posts, raises job-change events from them (after the
 * silent baseline of a feed's first poll), and finds feeds from contacts'
 * web pages (discovery.h). */
typedef struct FeedPoller FeedPoller;

/* The interval of feeds the config does not name. */
#define FEEDS_DEFAULT_INTERVAL_S (6 * 3600)
/* A feed's first poll comes at a fixed place within this much (or its
 * interval, when shorter), so that feeds added together do not all poll
 * at once; after that, each poll keeps to the feed's own place in its
 * interval. */
#define FEEDS_FIRST_POLL_SPREAD_S (15 * 60)
/* Feeds overdue when the daemon starts are spread over this much. */
#define FEEDS_STARTUP_SPREAD_S (10 * 60)
/* After failures the delay doubles from the interval up to this, plus up
 * to a tenth of it at random. */
#define FEEDS_BACKOFF_MAX_S (24 * 3600)
/* A feed body larger than this fails the poll. */
#define FEEDS_MAX_BODY_BYTES (4 * 1024 * 1024)
/* The first poll of a feed raises events only for posts this recent (SPEC §4). */
#define FEEDS_BASELINE_WINDOW_S (14 * 86400)
/* A new post older than this (a feed that moved, or re-listed old posts)
 * raises no event. */
#define FEEDS_LATE_POST_MAX_AGE_S (90 * 86400)
/* Discovery: pages fetched at once; a failed check is retried after this. */
#define FEEDS_DISCOVERIES_AT_ONCE 4u
#define FEEDS_DISCOVERY_RETRY_S (7 * 86400)

typedef struct {
	guint feeds;        /* polls that finished */
	guint new_items;    /* posts stored for the first time */
	guint not_modified; /* polls answered 304 */
	guint errors;       /* polls that failed */
	guint events;       /* job-change events raised */
} FeedPollCounts;

/* One finished poll; strings borrowed for the callback. */
typedef struct {
	gint64 feed_id;
	const char *url;
	const char *result; /* FEED_RESULT_* of store-feeds.h */
	const char *error;  /* NULL unless the poll failed */
	guint new_items;
} FeedPollResult;

typedef void (*FeedPollProgressFunc)(const FeedPollResult *result, gpointer user_data);
typedef void (*FeedPollDoneFunc)(const FeedPollCounts *counts, gpointer user_data);
/* After a poll that stored posts or raised events. */
typedef void (*FeedsChangedFunc)(gpointer user_data);

/* STORE, HTTP and RULES (may be NULL: no job-change detection) are
 * borrowed and outlive the poller. Nothing is polled before the first
 * feed_poller_set_config(). */
FeedPoller *feed_poller_new(Store *store, HttpEngine *http, const JobpostRules *rules);
/* Stops every poll; poll_all callers get their DONE with what finished. */
void feed_poller_free(FeedPoller *poller);
void feed_poller_set_changed_func(FeedPoller *poller, FeedsChangedFunc func, gpointer user_data);

/* Makes the [feed.NAME] sections of CONFIG (borrowed for the call) the
 * config's feeds: new ones are added, changed ones updated, removed ones
 * deleted with their posts; feeds from elsewhere stay. A contact that
 * names nobody (yet) leaves the feed without one, with a warning, until
 * feed_poller_contacts_changed() finds them. Starts the schedule. */
void feed_poller_set_config(FeedPoller *poller, const Config *config);

/* Polls every feed now, whatever its schedule (`tiesctl sync --wait`);
 * feeds already polling are joined. PROGRESS (may be NULL) runs per
 * finished feed, DONE (may be NULL) once, from the main loop, never from
 * inside this call. */
void feed_poller_poll_all(FeedPoller *poller, FeedPollProgressFunc progress, FeedPollDoneFunc done,
			  gpointer user_data);

/* Adds the feed at URL (an absolute http or https URL) for CONTACT_ID (0 =
 * none), from ORIGIN (FEED_ORIGIN_*). A feed added from the command line
 * polls at once, others at their place in the schedule. A URL already
 * stored keeps its feed; it takes CONTACT_ID when it had no contact, or
 * when the command line says so. Returns the feed's id, 0 with ERROR. */
gint64 feed_poller_add(FeedPoller *poller, const char *url, gint64 contact_id, const char *origin, GError **error);

/* Adds the feeds of an OPML document (opml.h), each tied to the contact
 * its outline names (ties:contact or folder), else the contact whose
 * URL is its htmlUrl, else the contact named exactly as its title.
 * *OUT_ADDED counts new feeds, *OUT_SKIPPED those already stored or not
 * http(s). FALSE with ERROR when DATA is no OPML. */
gboolean feed_poller_import_opml(FeedPoller *poller, const char *data, gsize len, guint *out_added,
				 guint *out_skipped, GError **error);
/* Every feed as an OPML 2.0 document, the contact's name as each outline's text. */
char *feed_poller_export_opml(FeedPoller *poller);

/* [FEED] for `tiesctl feeds` (store_feed_to_json() and "running"). */
JsonArray *feed_poller_to_json(FeedPoller *poller);

/* After a sync changed contacts: feeds waiting for their contact look
 * again, and contacts' web pages not checked yet are searched for feeds
 * (once per URL; a failed check is retried after a week). */
void feed_poller_contacts_changed(FeedPoller *poller);

/* ---- policy, pure, for the tests ---- */

/* When a feed first added at NOW polls first. */
gint64 feeds_first_poll(gint64 now, gint64 interval_s, const char *url);
/* The feed's next place in its schedule after a poll at NOW: at least half
 * an interval later, at the same offset within the interval as always. */
gint64 feeds_next_slot(gint64 now, gint64 interval_s, const char *url);
/* The delay after the FAILURES-th failure in a row; RANDOM in [0, 1). */
gint64 feeds_backoff(gint64 interval_s, guint failures, double random);
/* "job-change:CONTACT:post:YYYY-MM", the month of AT in UTC. */
char *feeds_job_change_key(gint64 contact_id, gint64 at);
