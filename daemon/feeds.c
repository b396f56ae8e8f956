/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libxml/parser.h>

#include "discovery.h"
#include "duration.h"
#include "events.h"
#include "feed.h"
#include "feeds.h"
#include "log.h"
#include "normalize.h"
#include "opml.h"
#include "store-feeds.h"

/* Feeds started by one firing of the schedule timer; the rest next time. */
#define FEEDS_MAX_START_BATCH 256u
/* The timer never sleeps longer than this, so that the schedule follows
 * the wall clock after a suspend. */
#define FEEDS_MAX_TIMER_S (15 * 60)
/* Answers stored in one transaction: few enough that the loop soon gets
 * back to the transfers that feed the parser. While more are on their
 * way, answers wait up to FEEDS_INBOX_WAIT_MS for a whole batch: a poll of
 * 1,000 feeds stored them one at a time, and each commit wrote the same
 * index pages again. */
#define FEEDS_MAX_BATCH 16u
#define FEEDS_INBOX_WAIT_MS 50
/* Polls submitted to the HTTP engine and not handled yet: downloads wait
 * for the parser and the store rather than pile up in memory. */
#define FEEDS_MAX_SUBMITTED 64u
/* Threads that parse feeds beside the main loop (at most; fewer on
 * machines with fewer processors). */
#define FEEDS_MAX_PARSERS 4u
/* Characters of a post's title quoted in an event. */
#define FEEDS_DETAIL_TITLE_CHARS 80
#define FEEDS_ACCEPT "application/atom+xml, application/rss+xml, application/rdf+xml;q=0.9, " \
		     "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"

typedef struct {
	FeedPoller *poller;        /* borrowed: the owner */
	guint pending;             /* feeds not finished yet */
	FeedPollCounts counts;
	FeedPollProgressFunc progress;
	FeedPollDoneFunc done;
	gpointer user_data;
	guint idle;                /* finishing a job that had nothing to wait for */
} Job;

typedef enum {
	POLL_OK,
	POLL_NOT_MODIFIED,
	POLL_ERROR,
} PollState;

typedef struct {
	PollState state;
	char *error;           /* owned; NULL unless POLL_ERROR */
	guint new_items;
	guint events;
	gboolean recorded;     /* the poll's result is stored already */
} Outcome;

/* A poll under way, then answered (and its feed parsed), waiting in the
 * inbox, then handled. */
typedef struct {
	FeedPoller *poller;        /* borrowed: the owner */
	gint64 feed_id;
	guint64 serial;            /* tells this poll from a later one of the feed */
	gboolean baseline;         /* the feed's first poll */
	guint64 transfer;          /* 0 once answered */
	GPtrArray *jobs;           /* Job*, borrowed: waiting for this feed */
	HttpResponse *answer;      /* owned, a copy; NULL until answered */
	char *etag, *last_modified; /* owned: the validators to send */
	gboolean submitted;        /* counted in the poller's SUBMITTED */
	FeedDocument *doc;         /* owned; what a 200 held, once parsed */
	char *parse_error;         /* owned; why a 200 did not parse */
	Outcome outcome;
	char *url;                 /* where it was polled, for the reports */
} Poll;

/* Parsing (and classifying) a feed is CPU work without the store: it runs
 * on worker threads, so that a big feed never holds up the loop and a
 * poll of many feeds parses while the loop stores (doc/benchmarks.md: a
 * first poll of 1,000 feeds spent 40 % of its time parsing). A ParseJob
 * owns its input and output; the thread touches nothing else. */
typedef struct {
	gint64 feed_id;
	guint64 serial;
	GBytes *body;               /* owned */
	char *base_url;             /* owned */
	char *content_type;         /* owned; may be NULL */
	const JobpostRules *rules;  /* borrowed; may be NULL; outlives the threads */
	gint64 classify_since;      /* older dated posts raise nothing: not classified */
	FeedDocument *doc;          /* owned; the result */
	char *error;                /* owned; or why there is none */
} ParseJob;

/* What the threads hand parsed jobs back through; POLLER is read and
 * cleared by the main thread only. */
typedef struct {
	gatomicrefcount ref;
	GAsyncQueue *done;          /* ParseJob*, owned */
	FeedPoller *poller;         /* NULL once the poller is gone */
} ParseLink;

/* A page being searched for its feed. */
typedef struct {
	FeedPoller *poller;        /* borrowed */
	gint64 contact_id;
	char *page_url;
	Discovery *discovery;      /* NULL while queued */
} PageCheck;

struct FeedPoller {
	Store *store;              /* borrowed */
	HttpEngine *http;          /* borrowed */
	const JobpostRules *rules; /* borrowed; may be NULL */
	FeedsChangedFunc changed;
	gpointer changed_data;
	GHashTable *running;       /* gint64* feed id -> Poll*, owned, until handled */
	GQueue waiting;            /* Poll*, borrowed from RUNNING: not submitted yet */
	guint submitted;           /* polls submitted, not handled yet */
	GQueue inbox;              /* Poll*, borrowed from RUNNING: answered, not handled yet */
	guint inbox_idle;          /* on_inbox, at once or after a wait */
	gboolean inbox_now;        /* INBOX_IDLE runs at once */
	GPtrArray *jobs;           /* Job*, owned */
	guint timer;
	gboolean configured;       /* set_config ran: the schedule runs */
	GQueue checks;             /* PageCheck*, owned: queued first, then running */
	GHashTable *checking;      /* page url -> PageCheck*, borrowed from CHECKS */
	GThreadPool *parsers;      /* owned; runs ParseJobs */
	ParseLink *link;           /* owned reference */
	guint64 next_serial;
};

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- policy ---- */

static guint64 place(const char *url, gint64 span)
{
	return span > 0 ? g_str_hash(url) % (guint64)span : 0;
}

gint64 feeds_first_poll(gint64 now, gint64 interval_s, const char *url)
{
	return now + (gint64)place(url, MIN(interval_s, FEEDS_FIRST_POLL_SPREAD_S));
}

gint64 feeds_next_slot(gint64 now, gint64 interval_s, const char *url)
{
	if (interval_s <= 0)
		return now;
	gint64 offset = (gint64)place(url, interval_s);
	/* The next time after NOW at OFFSET within an interval... */
	gint64 next = now - (((now - offset) % interval_s) + interval_s) % interval_s + interval_s;
	/* ...but not right after a poll that came early (`sync`). */
	if (next - now < interval_s / 2)
		next += interval_s;
	return next;
}

gint64 feeds_backoff(gint64 interval_s, guint failures, double random)
{
	gint64 delay = MAX(interval_s, 1);
	gint64 cap = MAX(interval_s, FEEDS_BACKOFF_MAX_S);
	for (guint i = 1; i < failures && delay < cap; i++)
		delay *= 2;
	delay = MIN(delay, cap);
	return delay + (gint64)(random * (double)delay / 10.0);
}

char *feeds_job_change_key(gint64 contact_id, gint64 at)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(at);
	if (!time)
		return g_strdup_printf("job-change:%" G_GINT64_FORMAT ":post:unknown", contact_id);
	return g_strdup_printf("job-change:%" G_GINT64_FORMAT ":post:%04d-%02d", contact_id, g_date_time_get_year(time),
			       g_date_time_get_month(time));
}

static gint64 interval_of(const StoreFeed *feed)
{
	return feed->interval_s > 0 ? feed->interval_s : FEEDS_DEFAULT_INTERVAL_S;
}

/* ---- jobs: poll_all callers ---- */

static void job_finish(FeedPoller *poller, Job *job)
{
	g_ptr_array_remove_fast(poller->jobs, job); /* frees JOB, calls DONE */
}

static gboolean job_finish_idle(gpointer user_data)
{
	Job *job = user_data;
	job->idle = 0;
	job_finish(job->poller, job);
	return G_SOURCE_REMOVE;
}

static void job_free(Job *job)
{
	g_clear_handle_id(&job->idle, g_source_remove);
	if (job->done)
		job->done(&job->counts, job->user_data);
	g_free(job);
}

static void job_report(FeedPoller *poller, Job *job, const FeedPollResult *result)
{
	job->counts.feeds++;
	job->counts.new_items += result->new_items;
	if (strcmp(result->result, FEED_RESULT_NOT_MODIFIED) == 0)
		job->counts.not_modified++;
	else if (strcmp(result->result, FEED_RESULT_ERROR) == 0)
		job->counts.errors++;
	if (job->progress)
		job->progress(result, job->user_data);
	if (--job->pending == 0)
		job_finish(poller, job);
}

/* ---- the schedule ---- */

static guint start_polls(FeedPoller *poller, gint64 due_by, guint limit, Job *job);
static void submit_waiting(FeedPoller *poller);

static void arm_timer(FeedPoller *poller);

static gboolean on_timer(gpointer user_data)
{
	FeedPoller *poller = user_data;
	poller->timer = 0;
	start_polls(poller, now_s(), FEEDS_MAX_START_BATCH, NULL);
	arm_timer(poller);
	return G_SOURCE_REMOVE;
}

static void arm_timer(FeedPoller *poller)
{
	g_clear_handle_id(&poller->timer, g_source_remove);
	if (!poller->configured)
		return;
	gint64 next = store_feeds_next_poll(poller->store);
	if (!next)
		return;
	gint64 delay = CLAMP(next - now_s(), 0, FEEDS_MAX_TIMER_S);
	poller->timer = delay ? g_timeout_add_seconds((guint)delay, on_timer, poller) : g_idle_add(on_timer, poller);
}

/* ---- one poll ---- */

static HttpResponse *http_response_copy(const HttpResponse *response)
{
	HttpResponse *copy = g_new0(HttpResponse, 1);
	copy->status = response->status;
	copy->error = g_strdup(response->error);
	copy->body = response->body ? g_bytes_ref(response->body) : NULL;
	copy->etag = g_strdup(response->etag);
	copy->last_modified = g_strdup(response->last_modified);
	copy->content_type = g_strdup(response->content_type);
	copy->effective_url = g_strdup(response->effective_url);
	copy->permanent_redirect = response->permanent_redirect;
	copy->retry_after_s = response->retry_after_s;
	return copy;
}

static void http_response_free(HttpResponse *response)
{
	if (!response)
		return;
	g_free(response->error);
	if (response->body)
		g_bytes_unref(response->body);
	g_free(response->etag);
	g_free(response->last_modified);
	g_free(response->content_type);
	g_free(response->effective_url);
	g_free(response);
}

/* POLL is handled or stopped: it no longer counts against the window. */
static void poll_unsubmit(FeedPoller *poller, Poll *poll)
{
	if (poll->submitted)
		poller->submitted--;
	poll->submitted = FALSE;
}

static void poll_free(Poll *poll)
{
	if (poll->transfer)
		http_engine_cancel(poll->poller->http, poll->transfer);
	g_ptr_array_unref(poll->jobs);
	http_response_free(poll->answer);
	if (poll->doc)
		feed_document_free(poll->doc);
	g_free(poll->parse_error);
	g_free(poll->etag);
	g_free(poll->last_modified);
	g_free(poll->outcome.error);
	g_free(poll->url);
	g_free(poll);
}

static const char *const state_results[] = {
	[POLL_OK] = FEED_RESULT_OK,
	[POLL_NOT_MODIFIED] = FEED_RESULT_NOT_MODIFIED,
	[POLL_ERROR] = FEED_RESULT_ERROR,
};

static void fail(Outcome *outcome, char *error)
{
	outcome->state = POLL_ERROR;
	g_free(outcome->error);
	outcome->error = error;
}

typedef struct {
	gint64 since;              /* older posts raise nothing */
	gboolean undated;          /* posts without a date may */
} Classifier;

/* A new post is a job change when the parser's thread classified it so
 * and it is recent enough to raise an event. */
static gboolean classify(const FeedItem *item, gpointer user_data)
{
	const Classifier *classifier = user_data;
	gboolean news = item->published ? item->published >= classifier->since : classifier->undated;
	return news && item->job_change;
}

/* 「TITLE」, shortened, or the start of the text for posts without a title. */
static char *quote_post(const StorePost *post)
{
	const char *text = post->title && *post->title ? post->title : post->summary;
	if (!text || !*text)
		return g_strdup("a post");
	g_autofree char *shown = text_shorten(text, FEEDS_DETAIL_TITLE_CHARS);
	return g_strdup_printf("「%s」", shown);
}

/* Events for the new posts of one poll, inside the poll's transaction: a
 * `post` event for each recent post (a topic, no nudge), and a
 * `job-change` event with its nudge for a post that announces a move
 * nobody knew of. */
static gboolean raise_events(FeedPoller *poller, const StoreFeed *feed, gint64 contact_id, const GPtrArray *posts,
			     gboolean baseline, gint64 now, guint *out_events, GError **error)
{
	for (guint i = 0; i < posts->len; i++) {
		const StorePost *post = g_ptr_array_index(posts, i);
		gint64 at = post->published ? post->published : now;
		/* The first poll of a feed records; only recent posts speak. */
		gboolean recent = baseline ? post->published && post->published >= now - FEEDS_BASELINE_WINDOW_S
					   : at >= now - FEEDS_LATE_POST_MAX_AGE_S;
		if (!recent)
			continue;
		g_autofree char *quoted = quote_post(post);
		g_autofree char *detail = g_strdup_printf("Wrote %s", quoted);
		g_autofree char *post_key = g_strdup_printf("post:%" G_GINT64_FORMAT, post->id);
		gint64 event_id;
		gboolean created;

		if (!store_event_add(poller->store, contact_id, "post", at, post_key, detail, NULL, NULL, error))
			return FALSE;
		if (!post->job_change)
			continue;
		/* A move already known (from a card, LinkedIn or an earlier
		 * post) is not announced again: a 入社 post often comes months
		 * after the card changed. */
		if (store_job_change_near(poller->store, contact_id, at, EVENTS_SAME_MOVE_WINDOW_S)) {
			log_debug("feed %s: %s is a move already known", feed->url, quoted);
			continue;
		}
		g_autofree char *key = feeds_job_change_key(contact_id, at);
		if (!store_event_add(poller->store, contact_id, "job-change", at, key, detail, &event_id, &created, error))
			return FALSE;
		if (!created)
			continue;
		if (!store_nudge_add(poller->store, event_id, contact_id, now, NULL, error))
			return FALSE;
		(*out_events)++;
		log_info("feed %s: contact %" G_GINT64_FORMAT " %s", feed->url, contact_id, detail);
	}
	return TRUE;
}

/* The feed's contact, found now if its hint names someone who came since. */
static gint64 feed_contact(FeedPoller *poller, const StoreFeed *feed)
{
	if (feed->contact_id || !feed->contact_hint)
		return feed->contact_id;
	gint64 id = store_feed_resolve_contact(poller->store, feed->contact_hint);
	g_autoptr(GError) error = NULL;
	if (id && !store_feed_set_contact(poller->store, feed->id, id, feed->contact_hint, &error))
		log_warning("feed %s: %s", feed->url, error->message);
	return id;
}

/* Stores what a 200 brought, its posts, events and result in one
 * transaction: on any failure nothing of it is kept. */
static void store_document(FeedPoller *poller, const StoreFeed *feed, const FeedDocument *doc,
			   StoreFeedPoll *record, Outcome *outcome)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) posts = NULL;
	guint events = 0;
	gboolean baseline = !feed->baseline_done;
	gint64 contact_id = feed_contact(poller, feed);
	record->result = FEED_RESULT_OK;
	record->title = doc->title;
	record->baseline_done = TRUE;
	if (!store_feeds_begin(poller->store, &error))
		goto fail;
	/* Undated posts are news only after the first poll. */
	Classifier classifier = {
		record->at - (baseline ? FEEDS_BASELINE_WINDOW_S : FEEDS_LATE_POST_MAX_AGE_S),
		!baseline,
	};
	if (!store_feed_add_items(poller->store, feed->id, doc->items, record->at, classify, &classifier, &posts,
				  &error) ||
	    (contact_id && !raise_events(poller, feed, contact_id, posts, baseline, record->at, &events, &error)) ||
	    !store_feed_record_poll(poller->store, feed->id, record, &error)) {
		store_feeds_rollback(poller->store);
		goto fail;
	}
	if (!store_feeds_commit(poller->store, &error))
		goto fail;
	outcome->state = POLL_OK;
	outcome->new_items = posts->len;
	outcome->events = events;
	outcome->recorded = TRUE;
	if (posts->len)
		log_debug("feed %s: %u new posts%s", feed->url, posts->len, baseline ? " (first poll)" : "");
	return;
fail:
	fail(outcome, g_strdup_printf("cannot store the posts: %s", error->message));
}

/* What a poll came to, once handled: reported to its jobs after the
 * batch's commit. */
static void poll_report(FeedPoller *poller, Poll *poll)
{
	FeedPollResult result = { poll->feed_id, poll->url ? poll->url : "", state_results[poll->outcome.state],
				  poll->outcome.error, poll->outcome.new_items };
	for (guint i = 0; i < poll->jobs->len; i++) {
		Job *job = g_ptr_array_index(poll->jobs, i);
		job->counts.events += poll->outcome.events;
		job_report(poller, job, &result);
	}
}

/* Stores what the answer to POLL says, inside the batch's transaction. */
static void handle_answer(FeedPoller *poller, Poll *poll)
{
	const HttpResponse *response = poll->answer;
	Outcome *outcome = &poll->outcome;
	gint64 now = now_s();
	g_autoptr(GError) error = NULL;
	g_autoptr(StoreFeed) feed = store_feed_get(poller->store, poll->feed_id);

	if (!feed) {
		/* Removed while it polled. */
		fail(outcome, g_strdup("feed removed"));
		return;
	}
	g_free(poll->url);
	poll->url = g_strdup(feed->url);
	gint64 interval = interval_of(feed);
	StoreFeedPoll record = { .at = now, .next_poll = feeds_next_slot(now, interval, feed->url) };
	if (response->error) {
		fail(outcome, g_strdup(response->error));
	} else if (response->status == 304) {
		outcome->state = POLL_NOT_MODIFIED;
	} else if (response->status == 200) {
		record.validators = TRUE;
		record.etag = response->etag;
		record.last_modified = response->last_modified;
		if (poll->doc)
			store_document(poller, feed, poll->doc, &record, outcome);
		else
			fail(outcome, g_strdup(poll->parse_error ? poll->parse_error : "not parsed"));
	} else {
		fail(outcome, g_strdup_printf("HTTP %ld", response->status));
	}

	/* 301 and 308 all the way to an answer: the feed lives there now.
	 * A temporary redirect leaves it where it was. */
	if (outcome->state != POLL_ERROR && response->permanent_redirect && response->effective_url &&
	    strcmp(response->effective_url, feed->url) != 0) {
		if (store_feed_set_url(poller->store, feed->id, response->effective_url, &error)) {
			log_info("feed %s moved permanently to %s", feed->url, response->effective_url);
			g_free(poll->url);
			poll->url = g_strdup(response->effective_url);
		} else {
			log_warning("feed %s moved to %s, keeping the old URL: %s", feed->url, response->effective_url,
				    error->message);
			g_clear_error(&error);
		}
	}
	if (outcome->recorded)
		return;

	/* Errors keep what is stored: posts, validators, title. */
	StoreFeedPoll result = { .at = now, .result = state_results[outcome->state], .error = outcome->error };
	if (outcome->state == POLL_NOT_MODIFIED) {
		result.next_poll = record.next_poll;
		/* A 304 may carry fresh validators. */
		result.validators = response->etag || response->last_modified;
		result.etag = response->etag ? response->etag : feed->etag;
		result.last_modified = response->last_modified ? response->last_modified : feed->last_modified;
	} else {
		result.failures = feed->failures + 1;
		if ((response->status == 429 || response->status == 503) && response->retry_after_s >= 0)
			result.next_poll = now + MAX(response->retry_after_s, 1);
		else
			result.next_poll = now + feeds_backoff(interval, result.failures, g_random_double());
		g_autofree char *delay = duration_format(result.next_poll - now);
		log_info("feed %s: %s; trying again in %s", feed->url, outcome->error, delay);
	}
	if (!store_feed_record_poll(poller->store, feed->id, &result, &error))
		log_error("feed %s: cannot record the poll: %s", feed->url, error->message);
}

static gboolean on_inbox(gpointer user_data);

/* Stores the inbox at once when a batch is full or nothing else is under
 * way; else a little later, so that more answers share the commit. */
static void inbox_schedule(FeedPoller *poller)
{
	gboolean now = poller->inbox.length >= FEEDS_MAX_BATCH || poller->inbox.length >= poller->submitted;

	if (poller->inbox_idle && (poller->inbox_now || !now))
		return;
	g_clear_handle_id(&poller->inbox_idle, g_source_remove);
	poller->inbox_now = now;
	poller->inbox_idle = now ? g_idle_add_full(G_PRIORITY_LOW, on_inbox, poller, NULL)
				 : g_timeout_add_full(G_PRIORITY_LOW, FEEDS_INBOX_WAIT_MS, on_inbox, poller, NULL);
}

/* Handles the answers that came, up to FEEDS_MAX_BATCH of them in one
 * transaction, then tells the waiting jobs. */
static gboolean on_inbox(gpointer user_data)
{
	FeedPoller *poller = user_data;
	g_autoptr(GPtrArray) handled = g_ptr_array_new_with_free_func((GDestroyNotify)poll_free);
	g_autoptr(GError) error = NULL;
	gboolean changed = FALSE;

	poller->inbox_idle = 0;
	gboolean in_transaction = store_feeds_begin(poller->store, &error);
	if (!in_transaction) {
		log_warning("feeds: %s", error->message);
		g_clear_error(&error);
	}
	while (poller->inbox.length && handled->len < FEEDS_MAX_BATCH) {
		Poll *poll = g_queue_pop_head(&poller->inbox);
		g_hash_table_steal(poller->running, &poll->feed_id);
		poll_unsubmit(poller, poll);
		g_ptr_array_add(handled, poll);
		handle_answer(poller, poll);
		changed |= poll->outcome.new_items || poll->outcome.events;
	}
	if (in_transaction && !store_feeds_commit(poller->store, &error))
		log_error("feeds: cannot store the polls: %s", error->message);
	submit_waiting(poller);
	if (poller->inbox.length)
		inbox_schedule(poller);
	for (guint i = 0; i < handled->len; i++)
		poll_report(poller, g_ptr_array_index(handled, i));
	if (changed && poller->changed)
		poller->changed(poller->changed_data);
	arm_timer(poller);
	return G_SOURCE_REMOVE;
}

static void inbox_push(FeedPoller *poller, Poll *poll)
{
	g_queue_push_tail(&poller->inbox, poll);
	inbox_schedule(poller);
}

static ParseLink *parse_link_ref(ParseLink *link)
{
	g_atomic_ref_count_inc(&link->ref);
	return link;
}

static void parse_job_free(ParseJob *job)
{
	g_bytes_unref(job->body);
	g_free(job->base_url);
	g_free(job->content_type);
	if (job->doc)
		feed_document_free(job->doc);
	g_free(job->error);
	g_free(job);
}

static void parse_link_unref(ParseLink *link)
{
	if (!g_atomic_ref_count_dec(&link->ref))
		return;
	g_async_queue_unref(link->done);
	g_free(link);
}

/* In the main loop: parsed feeds go to the inbox, unless their poll was
 * stopped meanwhile. */
static gboolean on_parsed(gpointer user_data)
{
	ParseLink *link = user_data;
	FeedPoller *poller = link->poller;
	ParseJob *job;

	if (!poller)
		return G_SOURCE_REMOVE;
	while ((job = g_async_queue_try_pop(link->done))) {
		Poll *poll = g_hash_table_lookup(poller->running, &job->feed_id);
		if (poll && poll->serial == job->serial && !poll->doc && !poll->parse_error) {
			poll->doc = g_steal_pointer(&job->doc);
			poll->parse_error = g_steal_pointer(&job->error);
			inbox_push(poller, poll);
		}
		parse_job_free(job);
	}
	return G_SOURCE_REMOVE;
}

/* On a worker thread. */
static void parse_in_thread(gpointer data, gpointer user_data)
{
	ParseJob *job = data;
	ParseLink *link = user_data;
	gsize len = 0;
	const char *body = g_bytes_get_data(job->body, &len);
	g_autoptr(GError) error = NULL;

	/* One character more than the store keeps, so that it marks the cut. */
	job->doc = feed_parse_for_poll(body, len, job->base_url, job->content_type, job->classify_since,
				       STORE_POST_SUMMARY_CHARS + 1, &error);
	if (!job->doc)
		job->error = g_strdup(error->message);
	for (guint i = 0; job->doc && job->rules && i < job->doc->items->len; i++) {
		FeedItem *item = g_ptr_array_index(job->doc->items, i);
		if (!item->published || item->published >= job->classify_since)
			item->job_change = jobpost_classify(job->rules, item->title, item->summary);
	}
	g_async_queue_push(link->done, job);
	g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, on_parsed, parse_link_ref(link), (GDestroyNotify)parse_link_unref);
}

static void on_polled(const HttpResponse *response, gpointer user_data)
{
	Poll *poll = user_data;
	FeedPoller *poller = poll->poller;

	poll->transfer = 0;
	poll->answer = http_response_copy(response);
	if (response->error || response->status != 200) {
		inbox_push(poller, poll);
		return;
	}
	ParseJob *job = g_new0(ParseJob, 1);
	job->feed_id = poll->feed_id;
	job->serial = poll->serial;
	job->body = response->body ? g_bytes_ref(response->body) : g_bytes_new_static("", 0);
	job->base_url = g_strdup(response->effective_url ? response->effective_url : poll->url);
	job->content_type = g_strdup(response->content_type);
	job->rules = poller->rules;
	/* The window in which a post of this poll may raise an event. */
	job->classify_since = now_s() - (poll->baseline ? FEEDS_BASELINE_WINDOW_S : FEEDS_LATE_POST_MAX_AGE_S);
	g_thread_pool_push(poller->parsers, job, NULL);
}

/* Hands waiting polls to the HTTP engine while fewer than
 * FEEDS_MAX_SUBMITTED are under way. */
static void submit_waiting(FeedPoller *poller)
{
	while (poller->submitted < FEEDS_MAX_SUBMITTED && poller->waiting.length) {
		Poll *poll = g_queue_pop_head(&poller->waiting);
		HttpRequest *request = http_request_new("GET", poll->url);
		http_request_add_header(request, "Accept", FEEDS_ACCEPT);
		http_request_set_conditional(request, poll->etag, poll->last_modified);
		http_request_set_max_body(request, FEEDS_MAX_BODY_BYTES);
		poll->submitted = TRUE;
		poller->submitted++;
		poll->transfer = http_engine_submit(poller->http, request, on_polled, poll);
	}
}

/* Starts the polls of the feeds due by DUE_BY (at most LIMIT); JOB (may
 * be NULL) waits for each. Returns how many. */
static guint start_polls(FeedPoller *poller, gint64 due_by, guint limit, Job *job)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) starts = store_feeds_start_due(poller->store, due_by, limit, now_s(),
							    FEEDS_DEFAULT_INTERVAL_S, &error);

	if (!starts) {
		log_warning("feeds: %s", error->message);
		return 0;
	}
	for (guint i = 0; i < starts->len; i++) {
		StorePollStart *start = g_ptr_array_index(starts, i);
		Poll *poll = g_hash_table_lookup(poller->running, &start->id);
		if (poll) {
			if (job)
				g_ptr_array_add(poll->jobs, job);
			continue;
		}
		poll = g_new0(Poll, 1);
		poll->poller = poller;
		poll->feed_id = start->id;
		poll->serial = ++poller->next_serial;
		poll->baseline = !start->baseline_done;
		poll->url = g_steal_pointer(&start->url);
		poll->etag = g_steal_pointer(&start->etag);
		poll->last_modified = g_steal_pointer(&start->last_modified);
		poll->jobs = g_ptr_array_new();
		if (job)
			g_ptr_array_add(poll->jobs, job);
		g_hash_table_insert(poller->running, &poll->feed_id, poll);
		g_queue_push_tail(&poller->waiting, poll);
	}
	submit_waiting(poller);
	return starts->len;
}

/* ---- the poller ---- */

static void page_check_free(PageCheck *check)
{
	discovery_cancel(check->discovery);
	g_free(check->page_url);
	g_free(check);
}

FeedPoller *feed_poller_new(Store *store, HttpEngine *http, const JobpostRules *rules)
{
	FeedPoller *poller = g_new0(FeedPoller, 1);
	poller->store = store;
	poller->http = http;
	poller->rules = rules;
	poller->running = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)poll_free);
	poller->jobs = g_ptr_array_new_with_free_func((GDestroyNotify)job_free);
	g_queue_init(&poller->checks);
	g_queue_init(&poller->inbox);
	g_queue_init(&poller->waiting);
	poller->checking = g_hash_table_new(g_str_hash, g_str_equal);
	poller->link = g_new0(ParseLink, 1);
	g_atomic_ref_count_init(&poller->link->ref);
	poller->link->done = g_async_queue_new();
	poller->link->poller = poller;
	/* libxml2 sets itself up once, before any thread parses. */
	xmlInitParser();
	guint parsers = CLAMP(g_get_num_processors() > 1 ? g_get_num_processors() - 1 : 1, 1, FEEDS_MAX_PARSERS);
	poller->parsers = g_thread_pool_new(parse_in_thread, poller->link, (gint)parsers, FALSE, NULL);
	return poller;
}

void feed_poller_free(FeedPoller *poller)
{
	if (!poller)
		return;
	g_clear_handle_id(&poller->timer, g_source_remove);
	g_clear_handle_id(&poller->inbox_idle, g_source_remove);
	/* Let the threads finish what they hold, then drop their results. */
	g_thread_pool_free(poller->parsers, FALSE, TRUE);
	ParseJob *job;
	while ((job = g_async_queue_try_pop(poller->link->done)))
		parse_job_free(job);
	poller->link->poller = NULL;
	parse_link_unref(poller->link);
	g_queue_clear(&poller->waiting);
	g_queue_clear(&poller->inbox);
	g_hash_table_destroy(poller->running);
	/* Waiters learn what finished before the end. */
	g_ptr_array_unref(poller->jobs);
	g_hash_table_destroy(poller->checking);
	g_queue_clear_full(&poller->checks, (GDestroyNotify)page_check_free);
	g_free(poller);
}

void feed_poller_set_changed_func(FeedPoller *poller, FeedsChangedFunc func, gpointer user_data)
{
	poller->changed = func;
	poller->changed_data = user_data;
}

static void stop_poll(FeedPoller *poller, gint64 feed_id)
{
	Poll *poll = g_hash_table_lookup(poller->running, &feed_id);
	if (!poll)
		return;
	g_hash_table_steal(poller->running, &feed_id);
	g_queue_remove(&poller->waiting, poll);
	g_queue_remove(&poller->inbox, poll);
	poll_unsubmit(poller, poll);
	fail(&poll->outcome, g_strdup("feed removed"));
	poll_report(poller, poll);
	poll_free(poll);
	submit_waiting(poller);
}

void feed_poller_set_config(FeedPoller *poller, const Config *config)
{
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	gint64 now = now_s();

	if (!poller->configured && !store_feeds_spread_overdue(poller->store, now, FEEDS_STARTUP_SPREAD_S, &error)) {
		log_warning("feeds: %s", error->message);
		g_clear_error(&error);
	}
	poller->configured = TRUE;
	for (guint i = 0; i < config->feeds->len; i++) {
		const FeedConfig *fc = g_ptr_array_index(config->feeds, i);
		gint64 contact_id = fc->contact ? store_feed_resolve_contact(poller->store, fc->contact) : 0;
		gint64 interval = fc->interval_s > 0 ? fc->interval_s : FEEDS_DEFAULT_INTERVAL_S;
		gint64 id;

		g_hash_table_add(names, fc->name);
		if (fc->contact && !contact_id)
			log_warning("feed %s: \"%s\" is no one contact (an id, e-mail address or exact name); "
				    "polling it without a contact until it is",
				    fc->name, fc->contact);
		if (!store_feed_configure(poller->store, fc->name, fc->url, contact_id, fc->contact, fc->interval_s,
					  feeds_first_poll(now, interval, fc->url), &id, &error)) {
			log_error("feed %s: %s", fc->name, error->message);
			g_clear_error(&error);
		}
	}
	/* [feed.NAME] sections that went: their feeds go. */
	g_autoptr(GPtrArray) feeds = store_feeds_all(poller->store);
	for (guint i = 0; i < feeds->len; i++) {
		const StoreFeed *feed = g_ptr_array_index(feeds, i);
		if (!feed->config_name || g_hash_table_contains(names, feed->config_name))
			continue;
		stop_poll(poller, feed->id);
		if (!store_feed_delete(poller->store, feed->id, &error)) {
			log_error("feed %s: %s", feed->config_name, error->message);
			g_clear_error(&error);
		} else {
			log_info("feed %s (%s) left the configuration; removed", feed->config_name, feed->url);
		}
	}
	arm_timer(poller);
}

void feed_poller_poll_all(FeedPoller *poller, FeedPollProgressFunc progress, FeedPollDoneFunc done,
			  gpointer user_data)
{
	Job *job = g_new0(Job, 1);

	job->poller = poller;
	job->progress = progress;
	job->done = done;
	job->user_data = user_data;
	g_ptr_array_add(poller->jobs, job);
	job->pending = start_polls(poller, G_MAXINT64, G_MAXUINT, job);
	/* Answers come from the loop only: a job with nothing to wait for
	 * (no feeds) ends from an idle. */
	if (job->pending == 0)
		job->idle = g_idle_add(job_finish_idle, job);
	arm_timer(poller);
}

static gboolean valid_feed_url(const char *url, GError **error)
{
	g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL) : NULL;
	const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;

	if (!scheme || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) ||
	    !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "\"%s\" is no http or https URL",
			    url ? url : "");
		return FALSE;
	}
	return TRUE;
}

gint64 feed_poller_add(FeedPoller *poller, const char *url, gint64 contact_id, const char *origin, GError **error)
{
	gboolean by_hand = strcmp(origin, FEED_ORIGIN_CLI) == 0;
	gint64 now = now_s();
	gint64 id;
	gboolean created;

	if (!valid_feed_url(url, error))
		return 0;
	gint64 first = by_hand ? now : feeds_first_poll(now, FEEDS_DEFAULT_INTERVAL_S, url);
	if (!store_feed_add(poller->store, url, origin, contact_id, NULL, NULL, first, &id, &created, error))
		return 0;
	if (!created && contact_id) {
		g_autoptr(StoreFeed) feed = store_feed_get(poller->store, id);
		if (feed && (by_hand || !feed->contact_id) && feed->contact_id != contact_id &&
		    !store_feed_set_contact(poller->store, id, contact_id, NULL, error))
			return 0;
	}
	if (created)
		log_info("feed %s added (%s)", url, origin);
	arm_timer(poller);
	return id;
}

/* The contact an OPML outline means: its contact hint, else the contact
 * whose URL its htmlUrl is, else the one named as its title. */
static gint64 outline_contact(FeedPoller *poller, const OpmlFeed *feed)
{
	const char *tries[] = { feed->contact, feed->html_url, feed->title };
	for (gsize i = 0; i < G_N_ELEMENTS(tries); i++) {
		gint64 id = tries[i] ? store_feed_resolve_contact(poller->store, tries[i]) : 0;
		if (id)
			return id;
	}
	return 0;
}

gboolean feed_poller_import_opml(FeedPoller *poller, const char *data, gsize len, guint *out_added,
				 guint *out_skipped, GError **error)
{
	guint skipped = 0, added = 0;
	gint64 now = now_s();
	g_autoptr(GPtrArray) outlines = opml_parse(data, len, &skipped, error);

	if (!outlines)
		return FALSE;
	if (!store_feeds_begin(poller->store, error))
		return FALSE;
	for (guint i = 0; i < outlines->len; i++) {
		const OpmlFeed *outline = g_ptr_array_index(outlines, i);
		gint64 id;
		gboolean created;
		if (!store_feed_add(poller->store, outline->url, FEED_ORIGIN_OPML, outline_contact(poller, outline),
				    outline->contact, outline->title,
				    feeds_first_poll(now, FEEDS_DEFAULT_INTERVAL_S, outline->url), &id, &created, error)) {
			store_feeds_rollback(poller->store);
			return FALSE;
		}
		if (created)
			added++;
		else
			skipped++;
	}
	if (!store_feeds_commit(poller->store, error))
		return FALSE;
	log_info("OPML import: %u feeds added, %u skipped", added, skipped);
	*out_added = added;
	*out_skipped = skipped;
	arm_timer(poller);
	return TRUE;
}

char *feed_poller_export_opml(FeedPoller *poller)
{
	g_autoptr(GPtrArray) feeds = store_feeds_all(poller->store);
	g_autoptr(GPtrArray) outlines = g_ptr_array_new_with_free_func((GDestroyNotify)opml_feed_free);

	for (guint i = 0; i < feeds->len; i++) {
		const StoreFeed *feed = g_ptr_array_index(feeds, i);
		g_ptr_array_add(outlines, opml_feed_new(feed->url, feed->title, NULL,
							feed->contact_name ? feed->contact_name : feed->contact_hint));
	}
	return opml_export(outlines, now_s());
}

JsonArray *feed_poller_to_json(FeedPoller *poller)
{
	g_autoptr(GPtrArray) feeds = store_feeds_all(poller->store);
	JsonArray *out = json_array_new();

	for (guint i = 0; i < feeds->len; i++) {
		const StoreFeed *feed = g_ptr_array_index(feeds, i);
		JsonObject *row = store_feed_to_json(feed, FEEDS_DEFAULT_INTERVAL_S);
		gboolean running = g_hash_table_contains(poller->running, &feed->id);
		if (running)
			json_object_set_null_member(row, "next_poll");
		json_object_set_boolean_member(row, "running", running);
		json_array_add_object_element(out, row);
	}
	return out;
}

/* ---- discovery ---- */

static void next_checks(FeedPoller *poller);

static void on_discovered(const char *page_url, const char *feed_url, const char *error_text, gpointer user_data)
{
	PageCheck *check = user_data;
	FeedPoller *poller = check->poller;
	g_autoptr(GError) error = NULL;

	check->discovery = NULL;
	if (!store_discovery_set(poller->store, page_url, feed_url, error_text, now_s(), &error)) {
		log_warning("discovery of %s: %s", page_url, error->message);
		g_clear_error(&error);
	}
	if (error_text)
		log_info("no feed found at %s: %s", page_url, error_text);
	else if (feed_url && !feed_poller_add(poller, feed_url, check->contact_id, FEED_ORIGIN_DISCOVERY, &error))
		log_warning("feed %s found at %s: %s", feed_url, page_url, error->message);
	else if (feed_url)
		log_debug("feed %s found at %s", feed_url, page_url);
	g_hash_table_remove(poller->checking, check->page_url);
	g_queue_remove(&poller->checks, check);
	page_check_free(check);
	next_checks(poller);
}

/* Keeps FEEDS_DISCOVERIES_AT_ONCE checks running, in queue order. */
static void next_checks(FeedPoller *poller)
{
	guint running = 0;
	for (GList *l = poller->checks.head; l && running < FEEDS_DISCOVERIES_AT_ONCE; l = l->next) {
		PageCheck *check = l->data;
		if (!check->discovery)
			check->discovery = discovery_run(poller->http, check->page_url, on_discovered, check);
		running++;
	}
}

void feed_poller_contacts_changed(FeedPoller *poller)
{
	g_autoptr(GError) error = NULL;
	gint64 now = now_s();

	/* Feeds whose contact came since. */
	g_autoptr(GPtrArray) feeds = store_feeds_all(poller->store);
	for (guint i = 0; i < feeds->len; i++) {
		const StoreFeed *feed = g_ptr_array_index(feeds, i);
		gint64 id = feed->contact_id || !feed->contact_hint ? 0
			: store_feed_resolve_contact(poller->store, feed->contact_hint);
		if (id && !store_feed_set_contact(poller->store, feed->id, id, feed->contact_hint, &error)) {
			log_warning("feed %s: %s", feed->url, error->message);
			g_clear_error(&error);
		}
	}

	/* Pages not checked yet. */
	g_autoptr(GArray) contacts = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func(g_free);
	store_contact_page_urls(poller->store, contacts, urls);
	for (guint i = 0; i < urls->len; i++) {
		const char *url = g_ptr_array_index(urls, i);
		if (g_hash_table_contains(poller->checking, url))
			continue;
		g_autoptr(StoreDiscovery) known = store_discovery_get(poller->store, url);
		if (known && (!known->error || known->checked_at > now - FEEDS_DISCOVERY_RETRY_S))
			continue;
		PageCheck *check = g_new0(PageCheck, 1);
		check->poller = poller;
		check->contact_id = g_array_index(contacts, gint64, i);
		check->page_url = g_strdup(url);
		g_queue_push_tail(&poller->checks, check);
		g_hash_table_insert(poller->checking, check->page_url, check);
	}
	next_checks(poller);
}
