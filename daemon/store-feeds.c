/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "normalize.h"
#include "protocol.h"
#include "store-feeds.h"
#include "store-private.h"

/* Migration 3 -> 4 (unreleased while it changed).
 *
 * The indexes are what keeps a poll of a thousand feeds fast: a poll looks
 * its items up by (feed_id, guid), the unique key, and never scans the
 * posts of other feeds; a contact's posts go through feeds_contact and the
 * same key's feed_id prefix (they are ordered by coalesce(published,
 * seen_at), which no index on published serves; one more index would only
 * make every stored post dearer); the scheduler reads feeds_next_poll; the
 * merge of post-based and card-based job changes reads
 * events_contact_kind. */
const char store_feeds_schema[] =
	"CREATE TABLE feeds ("
	"  id INTEGER PRIMARY KEY,"
	"  url TEXT NOT NULL UNIQUE,"
	"  origin TEXT NOT NULL,"
	"  config_name TEXT UNIQUE,"
	"  config_url TEXT,"
	"  contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL,"
	"  contact_hint TEXT,"
	"  title TEXT,"
	"  etag TEXT,"
	"  last_modified TEXT,"
	"  interval_s INTEGER,"
	"  last_poll INTEGER,"
	"  last_result TEXT,"
	"  last_error TEXT,"
	"  next_poll INTEGER,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  baseline_done INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX feeds_contact ON feeds(contact_id);"
	"CREATE INDEX feeds_next_poll ON feeds(next_poll);"
	"CREATE TABLE posts ("
	"  id INTEGER PRIMARY KEY,"
	"  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
	"  guid TEXT NOT NULL,"
	"  link TEXT,"
	"  title TEXT,"
	"  summary TEXT,"
	"  published INTEGER,"
	"  seen_at INTEGER NOT NULL,"
	"  job_change INTEGER NOT NULL DEFAULT 0,"
	"  UNIQUE (feed_id, guid));"
	"CREATE INDEX events_contact_kind ON events(contact_id, kind, at);"
	"CREATE TABLE discoveries ("
	"  page_url TEXT PRIMARY KEY,"
	"  feed_url TEXT,"
	"  error TEXT,"
	"  checked_at INTEGER NOT NULL);";

/* ---- feeds ---- */

void store_feed_free(StoreFeed *feed)
{
	if (!feed)
		return;
	g_free(feed->url);
	g_free(feed->origin);
	g_free(feed->config_name);
	g_free(feed->config_url);
	g_free(feed->contact_name);
	g_free(feed->contact_hint);
	g_free(feed->title);
	g_free(feed->etag);
	g_free(feed->last_modified);
	g_free(feed->last_result);
	g_free(feed->last_error);
	g_free(feed);
}

#define FEED_COLUMNS                                                                                      \
	"SELECT f.id, f.url, f.origin, f.config_name, f.config_url, f.contact_id, c.name, f.contact_hint,"   \
	" f.title, f.etag, f.last_modified, f.interval_s, f.last_poll, f.last_result, f.last_error,"        \
	" f.next_poll, f.failures, f.baseline_done,"                                                        \
	" (SELECT count(*) FROM posts p WHERE p.feed_id = f.id)"                                             \
	" FROM feeds f LEFT JOIN contacts c ON c.id = f.contact_id"

static StoreFeed *feed_from_row(sqlite3_stmt *stmt)
{
	StoreFeed *feed = g_new0(StoreFeed, 1);
	feed->id = sqlite3_column_int64(stmt, 0);
	feed->url = db_column_text(stmt, 1);
	feed->origin = db_column_text(stmt, 2);
	feed->config_name = db_column_text(stmt, 3);
	feed->config_url = db_column_text(stmt, 4);
	feed->contact_id = sqlite3_column_int64(stmt, 5);
	feed->contact_name = db_column_text(stmt, 6);
	feed->contact_hint = db_column_text(stmt, 7);
	feed->title = db_column_text(stmt, 8);
	feed->etag = db_column_text(stmt, 9);
	feed->last_modified = db_column_text(stmt, 10);
	feed->interval_s = sqlite3_column_int64(stmt, 11);
	feed->last_poll = sqlite3_column_int64(stmt, 12);
	feed->last_result = db_column_text(stmt, 13);
	feed->last_error = db_column_text(stmt, 14);
	feed->next_poll = sqlite3_column_int64(stmt, 15);
	feed->failures = (guint)sqlite3_column_int(stmt, 16);
	feed->baseline_done = sqlite3_column_int(stmt, 17);
	feed->posts = sqlite3_column_int64(stmt, 18);
	return feed;
}

static gint64 feed_id_by(Store *store, sqlite3_stmt *stmt)
{
	gint64 id = 0;
	if (stmt && sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	if (stmt)
		sqlite3_reset(stmt);
	return id;
}

gboolean store_feed_add(Store *store, const char *url, const char *origin, gint64 contact_id,
			const char *contact_hint, const char *title, gint64 next_poll, gint64 *out_id,
			gboolean *out_created, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO feeds (url, origin, contact_id, contact_hint, title, next_poll, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (url) DO NOTHING");
	db_bind_text(stmt, 1, url);
	db_bind_text(stmt, 2, origin);
	db_bind_time(stmt, 3, contact_id);
	db_bind_text(stmt, 4, contact_hint);
	db_bind_text(stmt, 5, title);
	db_bind_time(stmt, 6, next_poll);
	sqlite3_bind_int64(stmt, 7, g_get_real_time() / G_USEC_PER_SEC);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	gboolean created = sqlite3_changes(store->db) > 0;
	if (out_created)
		*out_created = created;
	if (created) {
		*out_id = sqlite3_last_insert_rowid(store->db);
		return TRUE;
	}
	stmt = db_prepare(store, "SELECT id FROM feeds WHERE url = ?1");
	db_bind_text(stmt, 1, url);
	*out_id = feed_id_by(store, stmt);
	if (!*out_id) {
		db_set_error(error, store, "feed row missing");
		return FALSE;
	}
	return TRUE;
}

gboolean store_feed_configure(Store *store, const char *name, const char *url, gint64 contact_id,
			      const char *contact_hint, gint64 interval_s, gint64 next_poll, gint64 *out_id,
			      GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "SELECT id, config_url FROM feeds WHERE config_name = ?1");
	gint64 id = 0;
	gboolean url_changed = FALSE;

	db_bind_text(stmt, 1, name);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		id = sqlite3_column_int64(stmt, 0);
		url_changed = g_strcmp0((const char *)sqlite3_column_text(stmt, 1), url) != 0;
	}
	sqlite3_reset(stmt);

	if (!id) {
		/* A feed someone added by hand or by OPML becomes the config's. */
		stmt = db_prepare(store, "SELECT id FROM feeds WHERE url = ?1");
		db_bind_text(stmt, 1, url);
		id = feed_id_by(store, stmt);
		if (!id) {
			if (!store_feed_add(store, url, FEED_ORIGIN_CONFIG, contact_id, contact_hint, NULL, next_poll, &id,
					    NULL, error))
				return FALSE;
		}
	} else if (url_changed) {
		/* Another feed: what was learnt about the old URL does not
		 * apply, and its first poll is a baseline again. */
		stmt = db_prepare(store, "SELECT id FROM feeds WHERE url = ?1 AND id != ?2");
		db_bind_text(stmt, 1, url);
		sqlite3_bind_int64(stmt, 2, id);
		gint64 other = feed_id_by(store, stmt);
		if (other && !store_feed_delete(store, other, error))
			return FALSE;
		stmt = db_prepare(store,
			"UPDATE feeds SET url = ?2, etag = NULL, last_modified = NULL, baseline_done = 0,"
			" failures = 0, next_poll = ?3 WHERE id = ?1");
		sqlite3_bind_int64(stmt, 1, id);
		db_bind_text(stmt, 2, url);
		db_bind_time(stmt, 3, next_poll);
		if (!db_step_done(store, stmt, error))
			return FALSE;
	}
	stmt = db_prepare(store,
		"UPDATE feeds SET origin = 'config', config_name = ?2, config_url = ?3, contact_id = ?4,"
		" contact_hint = ?5, interval_s = ?6 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, id);
	db_bind_text(stmt, 2, name);
	db_bind_text(stmt, 3, url);
	db_bind_time(stmt, 4, contact_id);
	db_bind_text(stmt, 5, contact_hint);
	db_bind_time(stmt, 6, interval_s);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	*out_id = id;
	return TRUE;
}

gboolean store_feed_delete(Store *store, gint64 feed_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "DELETE FROM feeds WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, feed_id);
	return db_step_done(store, stmt, error);
}

StoreFeed *store_feed_get(Store *store, gint64 feed_id)
{
	sqlite3_stmt *stmt = db_prepare(store, FEED_COLUMNS " WHERE f.id = ?1");
	StoreFeed *feed = NULL;

	sqlite3_bind_int64(stmt, 1, feed_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		feed = feed_from_row(stmt);
	sqlite3_reset(stmt);
	return feed;
}

StoreFeed *store_feed_by_url(Store *store, const char *url)
{
	sqlite3_stmt *stmt = db_prepare(store, FEED_COLUMNS " WHERE f.url = ?1");
	StoreFeed *feed = NULL;

	db_bind_text(stmt, 1, url);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		feed = feed_from_row(stmt);
	sqlite3_reset(stmt);
	return feed;
}

GPtrArray *store_feeds_all(Store *store)
{
	GPtrArray *feeds = g_ptr_array_new_with_free_func((GDestroyNotify)store_feed_free);
	sqlite3_stmt *stmt = db_prepare(store, FEED_COLUMNS " ORDER BY f.id");

	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_ptr_array_add(feeds, feed_from_row(stmt));
	sqlite3_reset(stmt);
	return feeds;
}

gint64 store_feeds_count(Store *store)
{
	return db_query_int(store, "SELECT count(*) FROM feeds", 0);
}

gint64 store_posts_count(Store *store)
{
	return db_query_int(store, "SELECT count(*) FROM posts", 0);
}

gint64 store_feeds_next_poll(Store *store)
{
	return db_query_int(store, "SELECT min(next_poll) FROM feeds", 0);
}

void store_poll_start_free(StorePollStart *start)
{
	if (!start)
		return;
	g_free(start->url);
	g_free(start->etag);
	g_free(start->last_modified);
	g_free(start);
}

static gint compare_start_ids(gconstpointer a, gconstpointer b)
{
	const StorePollStart *x = *(StorePollStart *const *) a, *y = *(StorePollStart *const *) b;

	return (x->id > y->id) - (x->id < y->id);
}

GPtrArray *store_feeds_start_due(Store *store, gint64 due_by, guint limit, gint64 now, gint64 default_interval_s,
				 GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE feeds SET next_poll = ?3 + CASE WHEN interval_s > 0 THEN interval_s ELSE ?4 END"
		" WHERE id IN (SELECT id FROM feeds WHERE next_poll <= ?1 ORDER BY next_poll, id LIMIT ?2)"
		" RETURNING id, url, etag, last_modified, baseline_done");
	GPtrArray *starts = g_ptr_array_new_with_free_func((GDestroyNotify) store_poll_start_free);
	int rc;

	sqlite3_bind_int64(stmt, 1, due_by);
	sqlite3_bind_int64(stmt, 2, limit);
	sqlite3_bind_int64(stmt, 3, now);
	sqlite3_bind_int64(stmt, 4, default_interval_s);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		StorePollStart *start = g_new0(StorePollStart, 1);
		start->id = sqlite3_column_int64(stmt, 0);
		start->url = db_column_text(stmt, 1);
		start->etag = db_column_text(stmt, 2);
		start->last_modified = db_column_text(stmt, 3);
		start->baseline_done = sqlite3_column_int(stmt, 4);
		g_ptr_array_add(starts, start);
	}
	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE) {
		db_set_error(error, store, "cannot schedule the feeds");
		g_ptr_array_unref(starts);
		return NULL;
	}
	/* RETURNING keeps no order: the same feeds start in the same order. */
	g_ptr_array_sort(starts, compare_start_ids);
	return starts;
}

gboolean store_feeds_spread_overdue(Store *store, gint64 now, gint64 spread_s, GError **error)
{
	/* Knuth's multiplicative hash of the id: a fixed place per feed. */
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE feeds SET next_poll = ?1 + ((id * 2654435761) % 4294967296) % ?2"
		" WHERE next_poll IS NULL OR next_poll < ?1");
	sqlite3_bind_int64(stmt, 1, now);
	sqlite3_bind_int64(stmt, 2, MAX(spread_s, 1));
	return db_step_done(store, stmt, error);
}

gboolean store_feed_set_contact(Store *store, gint64 feed_id, gint64 contact_id, const char *contact_hint,
				GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE feeds SET contact_id = ?2, contact_hint = ?3 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, feed_id);
	db_bind_time(stmt, 2, contact_id);
	db_bind_text(stmt, 3, contact_hint);
	return db_step_done(store, stmt, error);
}

gboolean store_feed_set_url(Store *store, gint64 feed_id, const char *url, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "SELECT id FROM feeds WHERE url = ?1 AND id != ?2");
	db_bind_text(stmt, 1, url);
	sqlite3_bind_int64(stmt, 2, feed_id);
	if (feed_id_by(store, stmt)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "another feed has the URL %s already", url);
		return FALSE;
	}
	stmt = db_prepare(store, "UPDATE feeds SET url = ?2 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, feed_id);
	db_bind_text(stmt, 2, url);
	return db_step_done(store, stmt, error);
}

gboolean store_feed_record_poll(Store *store, gint64 feed_id, const StoreFeedPoll *poll, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE feeds SET last_poll = ?2, last_result = ?3, last_error = ?4,"
		" etag = CASE WHEN ?5 THEN ?6 ELSE etag END,"
		" last_modified = CASE WHEN ?5 THEN ?7 ELSE last_modified END,"
		" title = coalesce(?8, title), next_poll = ?9, failures = ?10,"
		" baseline_done = baseline_done OR ?11 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, feed_id);
	db_bind_time(stmt, 2, poll->at);
	db_bind_text(stmt, 3, poll->result);
	db_bind_text(stmt, 4, poll->error);
	sqlite3_bind_int(stmt, 5, poll->validators);
	db_bind_text(stmt, 6, poll->etag);
	db_bind_text(stmt, 7, poll->last_modified);
	db_bind_text(stmt, 8, poll->title);
	db_bind_time(stmt, 9, poll->next_poll);
	sqlite3_bind_int(stmt, 10, (int)poll->failures);
	sqlite3_bind_int(stmt, 11, poll->baseline_done);
	return db_step_done(store, stmt, error);
}

/* ---- posts ---- */

void store_post_free(StorePost *post)
{
	if (!post)
		return;
	g_free(post->guid);
	g_free(post->link);
	g_free(post->title);
	g_free(post->summary);
	g_free(post);
}

/* Savepoints, so that they nest: a batch of polls, each poll inside. */
gboolean store_feeds_begin(Store *store, GError **error)
{
	return db_exec(store, "SAVEPOINT feeds", error);
}

gboolean store_feeds_commit(Store *store, GError **error)
{
	if (db_exec(store, "RELEASE feeds", error))
		return TRUE;
	store_feeds_rollback(store);
	return FALSE;
}

void store_feeds_rollback(Store *store)
{
	db_exec(store, "ROLLBACK TO feeds; RELEASE feeds", NULL);
}

static gboolean prune_posts(Store *store, gint64 feed_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "SELECT count(*) FROM posts WHERE feed_id = ?1");
	gint64 count = 0;

	sqlite3_bind_int64(stmt, 1, feed_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		count = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	if (count <= STORE_MAX_POSTS_PER_FEED)
		return TRUE;
	/* The oldest go, but none the feed lists now (temp.poll_guids). */
	stmt = db_prepare(store,
		"DELETE FROM posts WHERE id IN (SELECT id FROM posts WHERE feed_id = ?1"
		" AND guid NOT IN (SELECT guid FROM temp.poll_guids)"
		" ORDER BY coalesce(published, seen_at), id LIMIT ?2)");
	sqlite3_bind_int64(stmt, 1, feed_id);
	sqlite3_bind_int64(stmt, 2, count - STORE_MAX_POSTS_PER_FEED);
	return db_step_done(store, stmt, error);
}

gboolean store_feed_add_items(Store *store, gint64 feed_id, const GPtrArray *items, gint64 now,
			      StorePostClassifyFunc classify, gpointer user_data, GPtrArray **out_new,
			      GError **error)
{
	g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func((GDestroyNotify)store_post_free);
	gboolean prune = FALSE;
	sqlite3_stmt *stmt;

	if (!db_exec(store, "SAVEPOINT feed_items", error))
		return FALSE;
	/* Only when the feed may be over its cap is the list of what it
	 * shows now needed (to keep those). */
	stmt = db_prepare(store, "SELECT count(*) + ?2 > ?3 FROM posts WHERE feed_id = ?1");
	sqlite3_bind_int64(stmt, 1, feed_id);
	sqlite3_bind_int64(stmt, 2, items->len);
	sqlite3_bind_int64(stmt, 3, STORE_MAX_POSTS_PER_FEED);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		prune = sqlite3_column_int(stmt, 0);
	sqlite3_reset(stmt);
	if (prune && !db_exec(store, "CREATE TEMP TABLE IF NOT EXISTS poll_guids (guid TEXT PRIMARY KEY);"
			      " DELETE FROM temp.poll_guids;", error))
		goto fail;

	for (guint i = 0; i < items->len; i++) {
		const FeedItem *item = g_ptr_array_index(items, i);
		if (!item->id)
			continue;
		if (prune) {
			stmt = db_prepare(store, "INSERT OR IGNORE INTO temp.poll_guids (guid) VALUES (?1)");
			db_bind_text(stmt, 1, item->id);
			if (!db_step_done(store, stmt, error))
				goto fail;
		}
		/* Known ids are ignored by the unique index: one statement per
		 * item, new or not. */
		stmt = db_prepare(store,
			"INSERT INTO posts (feed_id, guid, link, title, summary, published, seen_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (feed_id, guid) DO NOTHING");
		sqlite3_bind_int64(stmt, 1, feed_id);
		db_bind_borrowed(stmt, 2, item->id);
		db_bind_borrowed(stmt, 3, item->link);
		db_bind_borrowed(stmt, 4, item->title);
		g_autofree char *summary = text_shorten(item->summary, STORE_POST_SUMMARY_CHARS);
		db_bind_borrowed(stmt, 5, summary);
		db_bind_time(stmt, 6, item->published);
		sqlite3_bind_int64(stmt, 7, now);
		if (!db_step_done(store, stmt, error))
			goto fail;
		if (sqlite3_changes(store->db) == 0)
			continue;

		StorePost *post = g_new0(StorePost, 1);
		post->id = sqlite3_last_insert_rowid(store->db);
		post->feed_id = feed_id;
		post->guid = g_strdup(item->id);
		post->link = g_strdup(item->link);
		post->title = g_strdup(item->title);
		post->summary = g_steal_pointer(&summary);
		post->published = item->published;
		post->seen_at = now;
		post->job_change = classify ? classify(item, user_data) : item->job_change;
		g_ptr_array_add(added, post);
		if (post->job_change) {
			stmt = db_prepare(store, "UPDATE posts SET job_change = 1 WHERE id = ?1");
			sqlite3_bind_int64(stmt, 1, post->id);
			if (!db_step_done(store, stmt, error))
				goto fail;
		}
	}
	if (prune && !prune_posts(store, feed_id, error))
		goto fail;
	if (!db_exec(store, "RELEASE feed_items", error))
		goto fail;
	*out_new = g_steal_pointer(&added);
	return TRUE;
fail:
	db_exec(store, "ROLLBACK TO feed_items; RELEASE feed_items", NULL);
	return FALSE;
}

static StorePost *post_from_row(sqlite3_stmt *stmt)
{
	StorePost *post = g_new0(StorePost, 1);
	post->id = sqlite3_column_int64(stmt, 0);
	post->feed_id = sqlite3_column_int64(stmt, 1);
	post->guid = db_column_text(stmt, 2);
	post->link = db_column_text(stmt, 3);
	post->title = db_column_text(stmt, 4);
	post->summary = db_column_text(stmt, 5);
	post->published = sqlite3_column_int64(stmt, 6);
	post->seen_at = sqlite3_column_int64(stmt, 7);
	post->job_change = sqlite3_column_int(stmt, 8);
	return post;
}

StorePost *store_contact_latest_post(Store *store, gint64 contact_id, gint64 since)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT p.id, p.feed_id, p.guid, p.link, p.title, p.summary, p.published, p.seen_at, p.job_change"
		" FROM posts p JOIN feeds f ON f.id = p.feed_id"
		" WHERE f.contact_id = ?1 AND coalesce(p.published, p.seen_at) >= ?2"
		" ORDER BY coalesce(p.published, p.seen_at) DESC, p.id DESC LIMIT 1");
	StorePost *post = NULL;

	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, since);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		post = post_from_row(stmt);
	sqlite3_reset(stmt);
	return post;
}

JsonArray *store_contact_posts(Store *store, gint64 contact_id, guint limit)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT p.title, p.link, p.published, f.url FROM posts p JOIN feeds f ON f.id = p.feed_id"
		" WHERE f.contact_id = ?1 ORDER BY coalesce(p.published, p.seen_at) DESC, p.id DESC LIMIT ?2");

	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, limit);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		db_set_column_member(row, "title", stmt, 0);
		db_set_column_member(row, "link", stmt, 1);
		db_set_time_member(row, "published", stmt, 2);
		db_set_column_member(row, "feed", stmt, 3);
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

/* The latest job-change event of CONTACT_ID within WINDOW_S of AT, raised
 * from a post when FROM_POSTS, else by any detector; 0 when none. */
static gint64 job_change_near(Store *store, gint64 contact_id, gint64 at, gint64 window_s, gboolean from_posts)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT id FROM events WHERE contact_id = ?1 AND kind = 'job-change' AND at BETWEEN ?2 AND ?3"
		" AND (NOT ?4 OR dedup_key LIKE 'job-change:' || ?1 || ':post:%') ORDER BY at DESC LIMIT 1");
	gint64 id = 0;

	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, at - window_s);
	sqlite3_bind_int64(stmt, 3, at + window_s);
	sqlite3_bind_int(stmt, 4, from_posts);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		id = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return id;
}

gboolean store_job_change_near(Store *store, gint64 contact_id, gint64 at, gint64 window_s)
{
	return job_change_near(store, contact_id, at, window_s, FALSE) != 0;
}

gint64 store_post_job_change_near(Store *store, gint64 contact_id, gint64 at, gint64 window_s)
{
	return job_change_near(store, contact_id, at, window_s, TRUE);
}

gboolean store_event_set_detail(Store *store, gint64 event_id, const char *detail, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE events SET detail = ?2 WHERE id = ?1");

	sqlite3_bind_int64(stmt, 1, event_id);
	db_bind_text(stmt, 2, detail);
	return db_step_done(store, stmt, error);
}

/* The one contact with this identifier or (unique, present) name, or 0. */
gint64 store_feed_resolve_contact(Store *store, const char *hint)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(hint ? hint : ""));
	sqlite3_stmt *stmt;
	gint64 found = 0;
	guint count = 0;

	if (!*trimmed)
		return 0;
	if (text_is_id(trimmed)) {
		stmt = db_prepare(store, "SELECT id FROM contacts WHERE id = ?1");
		sqlite3_bind_int64(stmt, 1, g_ascii_strtoll(trimmed, NULL, 10));
		return feed_id_by(store, stmt);
	}
	if (strchr(trimmed, '@') && !strstr(trimmed, "://")) {
		g_autofree char *key = normalize_email(trimmed);
		stmt = db_prepare(store,
			"SELECT DISTINCT contact_id FROM identifiers WHERE kind = 'email' AND value = ?1");
		db_bind_text(stmt, 1, key);
	} else if (strstr(trimmed, "://")) {
		g_autofree char *key = normalize_url(trimmed);
		stmt = db_prepare(store, "SELECT DISTINCT contact_id FROM identifiers WHERE kind = 'url' AND value = ?1");
		db_bind_text(stmt, 1, key);
	} else {
		g_autofree char *key = normalize_name(trimmed);
		stmt = db_prepare(store, "SELECT id FROM contacts WHERE name_key = ?1 AND gone = 0");
		db_bind_text(stmt, 1, key);
	}
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		found = sqlite3_column_int64(stmt, 0);
		count++;
	}
	sqlite3_reset(stmt);
	return count == 1 ? found : 0;
}

/* ---- discovery ---- */

void store_discovery_free(StoreDiscovery *discovery)
{
	if (!discovery)
		return;
	g_free(discovery->page_url);
	g_free(discovery->feed_url);
	g_free(discovery->error);
	g_free(discovery);
}

StoreDiscovery *store_discovery_get(Store *store, const char *page_url)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT page_url, feed_url, error, checked_at FROM discoveries WHERE page_url = ?1");
	StoreDiscovery *discovery = NULL;

	db_bind_text(stmt, 1, page_url);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		discovery = g_new0(StoreDiscovery, 1);
		discovery->page_url = db_column_text(stmt, 0);
		discovery->feed_url = db_column_text(stmt, 1);
		discovery->error = db_column_text(stmt, 2);
		discovery->checked_at = sqlite3_column_int64(stmt, 3);
	}
	sqlite3_reset(stmt);
	return discovery;
}

gboolean store_discovery_set(Store *store, const char *page_url, const char *feed_url, const char *error_text,
			     gint64 checked_at, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO discoveries (page_url, feed_url, error, checked_at) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT (page_url) DO UPDATE SET feed_url = excluded.feed_url, error = excluded.error,"
		" checked_at = excluded.checked_at");
	db_bind_text(stmt, 1, page_url);
	db_bind_text(stmt, 2, feed_url);
	db_bind_text(stmt, 3, error_text);
	sqlite3_bind_int64(stmt, 4, checked_at);
	return db_step_done(store, stmt, error);
}

void store_contact_page_urls(Store *store, GArray *contact_ids, GPtrArray *urls)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT DISTINCT r.contact_id, u.value FROM records r JOIN contacts c ON c.id = r.contact_id,"
		" json_each(r.fields, '$.urls') u"
		" WHERE r.gone_at IS NULL AND c.gone = 0 AND u.type = 'text' ORDER BY r.contact_id, u.value");

	while (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);
		g_array_append_val(contact_ids, id);
		g_ptr_array_add(urls, db_column_text(stmt, 1));
	}
	if (stmt)
		sqlite3_reset(stmt);
}

/* ---- JSON ---- */

JsonObject *store_feed_to_json(const StoreFeed *feed, gint64 interval_default_s)
{
	JsonObject *row = json_object_new();
	json_object_set_int_member(row, "id", feed->id);
	json_object_set_string_member(row, "url", feed->url);
	json_object_set_string_member(row, "origin", feed->origin);
	if (feed->contact_id)
		json_object_set_int_member(row, "contact_id", feed->contact_id);
	else
		json_object_set_null_member(row, "contact_id");
	json_set_string_or_null(row, "contact", feed->contact_name);
	json_set_string_or_null(row, "contact_hint", feed->contact_id ? NULL : feed->contact_hint);
	json_set_string_or_null(row, "title", feed->title);
	json_object_set_int_member(row, "interval_s", feed->interval_s ? feed->interval_s : interval_default_s);
	json_set_time_or_null(row, "last_poll", feed->last_poll);
	json_set_string_or_null(row, "last_result", feed->last_result);
	json_set_string_or_null(row, "last_error", feed->last_error);
	json_set_time_or_null(row, "next_poll", feed->next_poll);
	json_object_set_int_member(row, "failures", feed->failures);
	json_object_set_int_member(row, "posts", feed->posts);
	return row;
}
