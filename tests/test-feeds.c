/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "discovery.h"
#include "events.h"
#include "feeds.h"
#include "http.h"
#include "jobpost.h"
#include "log.h"
#include "store-feeds.h"
#include "store.h"

#define SHIPPED_RULES SRCDIR "/daemon/jobpost.rules"
#define FEED_DATA SRCDIR "/tests/data/feeds"
#define DAY G_GINT64_CONSTANT(86400)
/* The generated feeds nginx serves: the issue asks for a few hundred. */
#define MANY_FEEDS 300u
#define ITEMS_PER_FEED 12u
/* A run of the main loop that takes longer than this has hung. */
#define WATCHDOG_S 90
#define SERVER_START_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* The engine of the tests gives up on a silent server after this. */
#define TEST_TIMEOUT_S 2
#define OVERSIZED_BYTES (FEEDS_MAX_BODY_BYTES + 1024 * 1024)

/* ---- the world: nginx, the faulty python server, a silent port ---- */

static struct {
	char *dir;
	GSubprocess *nginx;
	guint16 nginx_port;
	GSubprocess *python;
	guint16 python_port;
	int hang_fd;
	guint16 hang_port;
} world;

static GMainLoop *loop;

static GSubprocess *spawn(GSubprocessFlags flags, const char *const *argv)
{
	g_autoptr(GError) error = NULL;
	GSubprocess *process = g_subprocess_newv(argv, flags, &error);
	g_assert_no_error(error);
	return process;
}

/* A missing server fails the test: it must never pass by skipping. */
static char *find_program(const char *name, const char *fallback)
{
	char *path = g_find_program_in_path(name);
	if (!path && fallback && g_file_test(fallback, G_FILE_TEST_IS_EXECUTABLE))
		path = g_strdup(fallback);
	if (!path)
		g_error("%s is needed by this test and was not found", name);
	return path;
}

static int listen_loopback(guint16 *port, int backlog)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *)&address, sizeof(address)), ==, 0);
	if (backlog > 0)
		g_assert_cmpint(listen(fd, backlog), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&address, &len), ==, 0);
	*port = ntohs(address.sin_port);
	return fd;
}

static guint16 free_port(void)
{
	guint16 port;
	close(listen_loopback(&port, 0));
	return port;
}

static gboolean port_answers(guint16 port)
{
	struct sockaddr_in address = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = htons(port),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	gboolean ok = connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0;
	close(fd);
	return ok;
}

static char *www_path(const char *name)
{
	return g_build_filename(world.dir, "www", name, NULL);
}

static void write_www(const char *name, const char *contents, gssize len)
{
	g_autofree char *path = www_path(name);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
	g_file_set_contents(path, contents, len, &error);
	g_assert_no_error(error);
}

static char *nginx_url(const char *path)
{
	return g_strdup_printf("http://127.0.0.1:%u%s", world.nginx_port, path);
}

static char *python_url(const char *path)
{
	return g_strdup_printf("http://127.0.0.1:%u%s", world.python_port, path);
}

static void start_nginx(void)
{
	g_autofree char *nginx = find_program("nginx", "/usr/sbin/nginx");
	g_autofree char *conf_path = g_build_filename(world.dir, "nginx.conf", NULL);
	g_autofree char *error_log = g_build_filename(world.dir, "error.log", NULL);

	world.nginx_port = free_port();
	g_autofree char *conf = g_strdup_printf(
		"daemon off;\n"
		"master_process off;\n"
		"pid %1$s/nginx.pid;\n"
		"error_log %1$s/error.log;\n"
		"events { worker_connections 512; }\n"
		"http {\n"
		"  log_format ties '$uri $status $body_bytes_sent';\n"
		"  access_log %1$s/access.log ties;\n"
		"  client_body_temp_path %1$s/client_body;\n"
		"  proxy_temp_path %1$s/proxy;\n"
		"  fastcgi_temp_path %1$s/fastcgi;\n"
		"  uwsgi_temp_path %1$s/uwsgi;\n"
		"  scgi_temp_path %1$s/scgi;\n"
		"  types { application/rss+xml xml; text/html html; }\n"
		"  gzip on;\n"
		"  gzip_types application/rss+xml;\n"
		"  gzip_min_length 1;\n"
		"  server {\n"
		"    listen 127.0.0.1:%2$u;\n"
		"    root %1$s/www;\n"
		"    location = /moved.xml { return 301 /f/moved-target.xml; }\n"
		"    location = /temporary.xml { return 302 /f/temporary-target.xml; }\n"
		"    location /flaky/ { if (-f %1$s/www/fail500) { return 500; } }\n"
		"  }\n"
		"}\n",
		world.dir, world.nginx_port);
	g_autoptr(GError) error = NULL;
	g_file_set_contents(conf_path, conf, -1, &error);
	g_assert_no_error(error);

	const char *argv[] = { nginx, "-p", world.dir, "-c", conf_path, "-e", error_log, NULL };
	world.nginx = spawn(G_SUBPROCESS_FLAGS_NONE, argv);
	gint64 until = g_get_monotonic_time() + SERVER_START_TIMEOUT_US;
	while (!port_answers(world.nginx_port)) {
		if (g_get_monotonic_time() > until) {
			g_autofree char *log = NULL;
			g_file_get_contents(error_log, &log, NULL, NULL);
			g_error("nginx did not start: %s", log ? log : "(no error log)");
		}
		g_usleep(20 * 1000);
	}
}

static void start_python(void)
{
	g_autofree char *python = find_program("python3", NULL);
	g_autofree char *script = g_build_filename(SRCDIR, "tests", "servers", "faulty-http.py", NULL);
	const char *argv[] = { python, script, NULL };
	g_autoptr(GError) error = NULL;

	world.python = spawn(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv);
	g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(world.python));
	g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	guint64 port = 0;
	g_assert_true(g_ascii_string_to_unsigned(line, 10, 1, G_MAXUINT16, &port, NULL));
	world.python_port = (guint16)port;
}

static void remove_tree(const char *path)
{
	if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const char *name;
		while (dir && (name = g_dir_read_name(dir))) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			remove_tree(child);
		}
	}
	g_remove(path);
}

/* Lines of nginx's access log ("URI STATUS BYTES") starting with PREFIX
 * and having STATUS; nginx logs just after answering, so give it a moment
 * to reach EXPECTED. */
static guint log_count(const char *prefix, int status, guint expected)
{
	g_autofree char *path = g_build_filename(world.dir, "access.log", NULL);
	g_autofree char *needle = g_strdup_printf(" %d ", status);
	gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
	guint count;

	do {
		g_autofree char *text = NULL;
		count = 0;
		if (g_file_get_contents(path, &text, NULL, NULL)) {
			g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
			for (guint i = 0; lines[i]; i++)
				if (g_str_has_prefix(lines[i], prefix) && strstr(lines[i], needle))
					count++;
		}
		if (count >= expected)
			break;
		g_usleep(10 * 1000);
	} while (g_get_monotonic_time() < until);
	return count;
}

static void truncate_access_log(void)
{
	g_autofree char *path = g_build_filename(world.dir, "access.log", NULL);
	g_assert_cmpint(truncate(path, 0), ==, 0);
}

/* ---- feeds as the web writes them ---- */

typedef struct {
	const char *title;
	gint64 published;
} Post;

static char *xml_escape(const char *text)
{
	return g_markup_escape_text(text, -1);
}

static char *rfc822(gint64 t)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
	g_autoptr(GTimeZone) zone = g_time_zone_new_offset(9 * 3600);
	g_autoptr(GDateTime) jst = g_date_time_to_timezone(d, zone);
	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d +0900", days[g_date_time_get_day_of_week(jst) - 1],
			       g_date_time_get_day_of_month(jst), months[g_date_time_get_month(jst) - 1],
			       g_date_time_get_year(jst), g_date_time_get_hour(jst), g_date_time_get_minute(jst),
			       g_date_time_get_second(jst));
}

static char *iso(gint64 t)
{
	g_autoptr(GDateTime) d = g_date_time_new_from_unix_utc(t);
	return g_date_time_format(d, "%Y-%m-%dT%H:%M:%SZ");
}

typedef enum {
	FORMAT_RSS20,
	FORMAT_RSS10,
	FORMAT_ATOM,
} Format;

/* A feed named NAME with POSTS; each post's id and link come from NAME
 * and its title, so that the same post keeps its id across edits. */
static char *make_feed(Format format, const char *name, const Post *posts, guint n)
{
	GString *xml = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	g_autofree char *site = g_strdup_printf("http://blog.test/%s/", name);

	if (format == FORMAT_RSS20)
		g_string_append_printf(xml, "<rss version=\"2.0\"><channel><title>%s</title><link>%s</link>\n", name, site);
	else if (format == FORMAT_RSS10)
		g_string_append_printf(xml,
			"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\""
			" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel rdf:about=\"%s\"><title>%s</title>"
			"<link>%s</link><description>d</description></channel>\n", site, name, site);
	else
		g_string_append_printf(xml, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>%s</title>"
					    "<link href=\"%s\"/><id>%s</id><updated>2025-01-01T00:00:00Z</updated>\n",
				       name, site, site);
	for (guint i = 0; i < n; i++) {
		g_autofree char *title = xml_escape(posts[i].title);
		g_autofree char *slug = g_compute_checksum_for_string(G_CHECKSUM_MD5, posts[i].title, -1);
		g_autofree char *link = g_strdup_printf("%sposts/%s", site, slug);
		g_autofree char *date822 = rfc822(posts[i].published);
		g_autofree char *date3339 = iso(posts[i].published);
		if (format == FORMAT_RSS20)
			g_string_append_printf(xml, "<item><title>%s</title><link>%s</link><guid>%s</guid>"
						    "<pubDate>%s</pubDate><description>&lt;p&gt;%s の本文&lt;/p&gt;</description></item>\n",
					       title, link, link, date822, title);
		else if (format == FORMAT_RSS10)
			g_string_append_printf(xml, "<item rdf:about=\"%s\"><title>%s</title><link>%s</link>"
						    "<dc:date>%s</dc:date><description>%s text</description></item>\n",
					       link, title, link, date3339, title);
		else
			g_string_append_printf(xml, "<entry><title>%s</title><link href=\"%s\"/><id>%s</id>"
						    "<updated>%s</updated><summary>%s</summary></entry>\n",
					       title, link, link, date3339, title);
	}
	g_string_append(xml, format == FORMAT_RSS20 ? "</channel></rss>\n"
			     : format == FORMAT_RSS10 ? "</rdf:RDF>\n" : "</feed>\n");
	return g_string_free(xml, FALSE);
}

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Writes www/PATH: a feed of N ordinary posts, the newest 20 days old. */
static void write_plain_feed(const char *path, Format format, gboolean japanese, guint n, guint extra)
{
	g_autoptr(GPtrArray) titles = g_ptr_array_new_with_free_func(g_free);
	g_autofree Post *posts = g_new0(Post, n + extra);
	gint64 now = now_s();

	for (guint i = 0; i < n + extra; i++) {
		char *title = japanese ? g_strdup_printf("%s の記事 その%u", path, i)
				       : g_strdup_printf("Post %u of %s", i, path);
		g_ptr_array_add(titles, title);
		posts[i].title = title;
		/* Extra posts are newer: an edit adds at the top. */
		posts[i].published = i >= n ? now - (i - n + 1) * 3600 : now - (20 + (n - i)) * DAY;
	}
	g_autofree char *xml = make_feed(format, path, posts, n + extra);
	write_www(path, xml, -1);
}

/* ---- running the poller ---- */

static gboolean on_watchdog(gpointer user_data)
{
	g_error("the main loop ran for %d s without the polls ending", WATCHDOG_S);
	return G_SOURCE_REMOVE;
}

typedef struct {
	gboolean done;
	FeedPollCounts counts;
	guint progress;
} PollRun;

static void on_progress(const FeedPollResult *result, gpointer user_data)
{
	PollRun *run = user_data;
	g_assert_nonnull(result->url);
	g_assert_nonnull(result->result);
	run->progress++;
}

static void on_done(const FeedPollCounts *counts, gpointer user_data)
{
	PollRun *run = user_data;
	g_assert_false(run->done);
	run->done = TRUE;
	run->counts = *counts;
	g_main_loop_quit(loop);
}

static FeedPollCounts poll_all(FeedPoller *poller)
{
	PollRun run = { 0 };
	feed_poller_poll_all(poller, on_progress, on_done, &run);
	/* Never answered from inside the call. */
	g_assert_false(run.done);
	guint watchdog = g_timeout_add_seconds(WATCHDOG_S, on_watchdog, NULL);
	g_main_loop_run(loop);
	g_source_remove(watchdog);
	g_assert_true(run.done);
	g_assert_cmpuint(run.progress, ==, run.counts.feeds);
	return run.counts;
}

typedef struct {
	char *dir;
	Store *store;
	HttpEngine *http;
	JobpostRules *rules;
	FeedPoller *poller;
} Fixture;

/* Test data: the engine asks the local nginx for compressed answers. */
#define COMPRESS_LOOPBACK ((gconstpointer) "compress-loopback")

static void fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("test-feeds-db-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *path = g_build_filename(f->dir, "ties.db", NULL);
	f->store = store_open(path, &error);
	g_assert_no_error(error);
	f->rules = jobpost_rules_new();
	g_assert_true(jobpost_rules_load_file(f->rules, SHIPPED_RULES, &error));
	HttpLimits limits;
	http_limits_default(&limits);
	limits.timeout_s = TEST_TIMEOUT_S;
	limits.compress_loopback = data == COMPRESS_LOOPBACK;
	f->http = http_engine_new(&limits);
	f->poller = feed_poller_new(f->store, f->http, f->rules);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	feed_poller_free(f->poller);
	http_engine_free(f->http);
	jobpost_rules_free(f->rules);
	store_close(f->store);
	remove_tree(f->dir);
	g_free(f->dir);
}

static sqlite3 *raw_db(Fixture *f)
{
	sqlite3 *db = NULL;
	g_assert_cmpint(sqlite3_open(store_path(f->store), &db), ==, SQLITE_OK);
	return db;
}

static gint64 raw_int(Fixture *f, const char *sql)
{
	sqlite3 *db = raw_db(f);
	sqlite3_stmt *stmt = NULL;
	gint64 value = -1;
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return value;
}

/* Sets a feed's next poll behind the store's back, as time passing would. */
static void set_next_poll(Fixture *f, gint64 feed_id, gint64 next_poll)
{
	sqlite3 *db = raw_db(f);
	g_autofree char *sql = g_strdup_printf("UPDATE feeds SET next_poll = %" G_GINT64_FORMAT " WHERE id = %" G_GINT64_FORMAT,
					       next_poll, feed_id);
	g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static gint64 add_feed(Fixture *f, const char *path, gint64 contact_id)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *url = g_str_has_prefix(path, "http") ? g_strdup(path) : nginx_url(path);
	gint64 id = feed_poller_add(f->poller, url, contact_id, FEED_ORIGIN_OPML, &error);
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

/* A contact NAME <EMAIL> with URLS (may be NULL), from a source "cards". */
static gint64 add_contact(Fixture *f, const char *name, const char *email, const char *url)
{
	g_autoptr(GError) error = NULL;
	gint64 source_id;
	g_assert_true(store_source_ensure(f->store, "cards", "vcard", &source_id, &error));
	SourceRecord *record = source_record_new();
	record->key = g_strdup(email);
	record->name = g_strdup(name);
	g_ptr_array_add(record->emails, g_strdup(email));
	json_object_set_string_member(record->fields, "fn", name);
	JsonArray *urls = json_array_new();
	if (url) {
		g_ptr_array_add(record->urls, g_strdup(url));
		json_array_add_string_element(urls, url);
	}
	json_object_set_array_member(record->fields, "urls", urls);
	g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify)source_record_free);
	g_ptr_array_add(records, record);
	SyncBatch batch = { records, FALSE, NULL, NULL };
	SyncOutcome outcome;
	g_assert_true(store_sync_records(f->store, source_id, &batch, now_s(), NULL, &outcome, &error));
	sync_outcome_clear(&outcome);
	g_autoptr(GArray) ids = store_contacts_by_email(f->store, email);
	g_assert_cmpuint(ids->len, ==, 1);
	return g_array_index(ids, gint64, 0);
}

/* ---- policy ---- */

static void test_policy(void)
{
	const gint64 now = 1700000000, hour = 3600;
	const char *urls[] = { "https://a.example/feed", "https://b.example/rss", "https://note.com/x/rss" };
	GHashTable *firsts = g_hash_table_new(g_int64_hash, g_int64_equal);
	gint64 values[G_N_ELEMENTS(urls)];

	for (gsize i = 0; i < G_N_ELEMENTS(urls); i++) {
		gint64 first = feeds_first_poll(now, 6 * hour, urls[i]);
		g_assert_cmpint(first, >=, now);
		g_assert_cmpint(first, <, now + FEEDS_FIRST_POLL_SPREAD_S);
		/* A short interval keeps the first poll within it. */
		g_assert_cmpint(feeds_first_poll(now, 60, urls[i]), <, now + 60);
		values[i] = first;
		g_hash_table_add(firsts, &values[i]);

		/* The next slot: at least half an interval on, at most one and
		 * a half, and the same offset within the interval every time. */
		gint64 next = feeds_next_slot(now, 6 * hour, urls[i]);
		g_assert_cmpint(next - now, >=, 3 * hour);
		g_assert_cmpint(next - now, <=, 9 * hour);
		gint64 after = feeds_next_slot(next + 17, 6 * hour, urls[i]);
		g_assert_cmpint((after - next) % (6 * hour), ==, 0);
		g_assert_cmpint(feeds_next_slot(next, 6 * hour, urls[i]), ==, next + 6 * hour);
	}
	/* Spread, not all at one moment. */
	g_assert_cmpuint(g_hash_table_size(firsts), ==, G_N_ELEMENTS(urls));
	g_hash_table_unref(firsts);

	/* Backoff: the interval, doubling, capped at a day, plus up to 10%. */
	g_assert_cmpint(feeds_backoff(hour, 1, 0.0), ==, hour);
	g_assert_cmpint(feeds_backoff(hour, 2, 0.0), ==, 2 * hour);
	g_assert_cmpint(feeds_backoff(hour, 3, 0.0), ==, 4 * hour);
	g_assert_cmpint(feeds_backoff(hour, 30, 0.0), ==, FEEDS_BACKOFF_MAX_S);
	g_assert_cmpint(feeds_backoff(hour, 1, 0.999), >, hour);
	g_assert_cmpint(feeds_backoff(hour, 1, 0.999), <=, hour + hour / 10);
	/* An interval past the cap is never shortened. */
	g_assert_cmpint(feeds_backoff(7 * DAY, 3, 0.0), ==, 7 * DAY);

	g_autofree char *key = feeds_job_change_key(42, 1700000000);
	g_assert_cmpstr(key, ==, "job-change:42:post:2023-11");
}

/* ---- the store ---- */

static FeedItem *item(const char *id, const char *title, gint64 published)
{
	FeedItem *it = g_new0(FeedItem, 1);
	it->id = g_strdup(id);
	it->title = g_strdup(title);
	it->link = g_strdup_printf("https://blog.test/%s", id);
	it->summary = g_strdup("text");
	it->published = published;
	return it;
}

static void item_free(FeedItem *it)
{
	g_free(it->id);
	g_free(it->title);
	g_free(it->link);
	g_free(it->summary);
	g_free(it);
}

static void test_store(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 now = now_s(), id, again, other;
	gboolean created;
	gint64 contact = add_contact(f, "山田 太郎", "yamada@example.com", "https://yamada.example/");

	g_assert_true(store_feed_add(f->store, "https://a.test/feed", FEED_ORIGIN_CLI, contact, NULL, "A", now, &id,
				     &created, &error));
	g_assert_true(created);
	g_assert_true(store_feed_add(f->store, "https://a.test/feed", FEED_ORIGIN_OPML, 0, NULL, NULL, now, &again,
				     &created, &error));
	g_assert_false(created);
	g_assert_cmpint(again, ==, id);
	g_assert_true(store_feed_add(f->store, "https://b.test/feed", FEED_ORIGIN_OPML, 0, "nobody", NULL, now, &other,
				     &created, &error));

	/* Items: new ones come back, known ones do not. */
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
	g_ptr_array_add(items, item("1", "first", now - 2 * DAY));
	g_ptr_array_add(items, item("2", "second", now - DAY));
	g_ptr_array_add(items, item("2", "second again", now - DAY));
	GPtrArray *added = NULL;
	g_assert_true(store_feed_add_items(f->store, id, items, now, NULL, NULL, &added, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(added->len, ==, 2);
	g_assert_cmpint(((StorePost *)g_ptr_array_index(added, 0))->id, >, 0);
	g_ptr_array_unref(added);
	g_ptr_array_add(items, item("3", "third", now - 3600));
	g_assert_true(store_feed_add_items(f->store, id, items, now, NULL, NULL, &added, &error));
	g_assert_cmpuint(added->len, ==, 1);
	g_assert_cmpstr(((StorePost *)g_ptr_array_index(added, 0))->title, ==, "third");
	g_ptr_array_unref(added);
	/* The same ids in another feed are other posts. */
	g_assert_true(store_feed_add_items(f->store, other, items, now, NULL, NULL, &added, &error));
	g_assert_cmpuint(added->len, ==, 3);
	g_ptr_array_unref(added);

	/* Posts of the contact, newest first; the latest since a time. */
	g_autoptr(JsonArray) posts = store_contact_posts(f->store, contact, 10);
	g_assert_cmpuint(json_array_get_length(posts), ==, 3);
	JsonObject *newest = json_array_get_object_element(posts, 0);
	g_assert_cmpstr(json_object_get_string_member(newest, "title"), ==, "third");
	g_assert_cmpstr(json_object_get_string_member(newest, "link"), ==, "https://blog.test/3");
	g_assert_cmpstr(json_object_get_string_member(newest, "feed"), ==, "https://a.test/feed");
	g_assert_nonnull(json_object_get_string_member(newest, "published"));
	g_autoptr(StorePost) latest = store_contact_latest_post(f->store, contact, now - 2 * 3600);
	g_assert_nonnull(latest);
	g_assert_cmpstr(latest->title, ==, "third");
	g_assert_null(store_contact_latest_post(f->store, contact, now));

	/* A poll's result. */
	StoreFeedPoll poll = { .at = now, .result = FEED_RESULT_OK, .validators = TRUE, .etag = "\"e1\"",
			       .last_modified = "Mon, 01 Jan 2024 00:00:00 GMT", .title = "Blog A",
			       .next_poll = now + 3600, .baseline_done = TRUE };
	g_assert_true(store_feed_record_poll(f->store, id, &poll, &error));
	StoreFeedPoll failed = { .at = now + 1, .result = FEED_RESULT_ERROR, .error = "HTTP 500",
				 .next_poll = now + 7200, .failures = 1 };
	g_assert_true(store_feed_record_poll(f->store, id, &failed, &error));
	g_autoptr(StoreFeed) feed = store_feed_get(f->store, id);
	g_assert_cmpstr(feed->etag, ==, "\"e1\"");
	g_assert_cmpstr(feed->title, ==, "Blog A");
	g_assert_cmpstr(feed->last_result, ==, FEED_RESULT_ERROR);
	g_assert_cmpstr(feed->last_error, ==, "HTTP 500");
	g_assert_cmpuint(feed->failures, ==, 1);
	g_assert_true(feed->baseline_done);
	g_assert_cmpint(feed->posts, ==, 3);
	g_assert_cmpstr(feed->contact_name, ==, "山田 太郎");

	/* JSON of `tiesctl feeds`. */
	g_autoptr(JsonObject) row = store_feed_to_json(feed, FEEDS_DEFAULT_INTERVAL_S);
	const char *members[] = { "id", "url", "contact_id", "contact", "title", "last_poll", "last_result",
				  "last_error", "next_poll", "posts" };
	for (gsize i = 0; i < G_N_ELEMENTS(members); i++)
		g_assert_true(json_object_has_member(row, members[i]));
	g_assert_cmpint(json_object_get_int_member(row, "posts"), ==, 3);
	g_assert_cmpstr(json_object_get_string_member(row, "contact"), ==, "山田 太郎");

	/* A permanent redirect to a URL another feed has is refused. */
	g_assert_false(store_feed_set_url(f->store, id, "https://b.test/feed", &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS);
	g_clear_error(&error);
	g_assert_true(store_feed_set_url(f->store, id, "https://a.test/new-feed", &error));
	g_autoptr(StoreFeed) moved = store_feed_by_url(f->store, "https://a.test/new-feed");
	g_assert_nonnull(moved);
	g_assert_cmpint(moved->id, ==, id);

	/* Contacts by hint. */
	g_assert_cmpint(store_feed_resolve_contact(f->store, "YAMADA@example.com"), ==, contact);
	g_assert_cmpint(store_feed_resolve_contact(f->store, "山田太郎"), ==, contact);
	g_assert_cmpint(store_feed_resolve_contact(f->store, " 山田　太郎 "), ==, contact);
	g_assert_cmpint(store_feed_resolve_contact(f->store, "https://yamada.example"), ==, contact);
	g_autofree char *id_text = g_strdup_printf("%" G_GINT64_FORMAT, contact);
	g_assert_cmpint(store_feed_resolve_contact(f->store, id_text), ==, contact);
	g_assert_cmpint(store_feed_resolve_contact(f->store, "山田"), ==, 0);
	g_assert_cmpint(store_feed_resolve_contact(f->store, "nobody@example.com"), ==, 0);

	/* Known moves. */
	g_assert_false(store_job_change_near(f->store, contact, now, 90 * DAY));
	g_autofree char *key = events_job_change_key(contact, "abc");
	g_assert_true(store_event_add(f->store, contact, "job-change", now - 60 * DAY, key, "Joined ABC", NULL, NULL,
				      &error));
	g_assert_true(store_job_change_near(f->store, contact, now, 90 * DAY));
	g_assert_false(store_job_change_near(f->store, contact, now + 100 * DAY, 90 * DAY));

	/* Discoveries. */
	g_assert_null(store_discovery_get(f->store, "https://yamada.example/"));
	g_assert_true(store_discovery_set(f->store, "https://yamada.example/", "https://yamada.example/feed", NULL, now,
					  &error));
	g_autoptr(StoreDiscovery) found = store_discovery_get(f->store, "https://yamada.example/");
	g_assert_cmpstr(found->feed_url, ==, "https://yamada.example/feed");
	g_assert_null(found->error);
	g_autoptr(GArray) page_contacts = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) page_urls = g_ptr_array_new_with_free_func(g_free);
	store_contact_page_urls(f->store, page_contacts, page_urls);
	g_assert_cmpuint(page_urls->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(page_urls, 0), ==, "https://yamada.example/");
	g_assert_cmpint(g_array_index(page_contacts, gint64, 0), ==, contact);

	/* The schedule. */
	set_next_poll(f, other, now - 100);
	g_assert_cmpint(store_feeds_next_poll(f->store), ==, now - 100);
	g_assert_true(store_feeds_spread_overdue(f->store, now, 600, &error));
	g_assert_cmpint(store_feeds_next_poll(f->store), >=, now);
	/* A due feed starts, and is not due again while it runs. */
	set_next_poll(f, other, now - 100);
	g_autoptr(GPtrArray) due = store_feeds_start_due(f->store, now, 10, now, 3600, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(due->len, ==, 1);
	const StorePollStart *start = g_ptr_array_index(due, 0);
	g_assert_cmpint(start->id, ==, other);
	g_assert_cmpstr(start->url, ==, "https://b.test/feed");
	g_assert_false(start->baseline_done);
	g_autoptr(StoreFeed) started = store_feed_get(f->store, other);
	g_assert_cmpint(started->next_poll, ==, now + 3600);
	g_autoptr(GPtrArray) none = store_feeds_start_due(f->store, now, 10, now, 3600, &error);
	g_assert_cmpuint(none->len, ==, 0);

	/* Deleting a feed takes its posts. */
	g_assert_true(store_feed_delete(f->store, other, &error));
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, 3);
	g_ptr_array_unref(items);
	items = NULL;
}

/* The cap on posts per feed keeps the newest, and never those listed now. */
static void test_store_prune(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 now = now_s(), id;
	g_assert_true(store_feed_add(f->store, "https://big.test/feed", FEED_ORIGIN_CLI, 0, NULL, NULL, now, &id, NULL,
				     &error));
	for (guint round = 0; round < 2; round++) {
		g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
		for (guint i = 0; i < STORE_MAX_POSTS_PER_FEED / 2 + 100; i++) {
			g_autofree char *guid = g_strdup_printf("%u-%u", round, i);
			/* The second round lists an old post again. */
			g_ptr_array_add(items, item(guid, "t", now - (2 - round) * 100000 + i));
		}
		if (round == 1)
			g_ptr_array_add(items, item("0-0", "t", now - 200000));
		GPtrArray *added = NULL;
		g_assert_true(store_feed_add_items(f->store, id, items, now, NULL, NULL, &added, &error));
		g_assert_no_error(error);
		g_ptr_array_unref(added);
	}
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, STORE_MAX_POSTS_PER_FEED);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts WHERE guid = '0-0'"), ==, 1);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts WHERE guid = '0-1'"), ==, 0);
}

/* ---- the poller against nginx ---- */

static const Format formats[] = { FORMAT_RSS20, FORMAT_RSS10, FORMAT_ATOM };

static char *many_path(guint i)
{
	return g_strdup_printf("/many/feed%03u.xml", i);
}

static void test_many(Fixture *f, gconstpointer data)
{
	for (guint i = 0; i < MANY_FEEDS; i++) {
		g_autofree char *path = many_path(i);
		write_plain_feed(path + 1, formats[i % 3], i % 2 == 1, ITEMS_PER_FEED, 0);
		add_feed(f, path, 0);
	}
	truncate_access_log();

	/* First poll: every item is stored. */
	FeedPollCounts first = poll_all(f->poller);
	g_assert_cmpuint(first.feeds, ==, MANY_FEEDS);
	g_assert_cmpuint(first.errors, ==, 0);
	g_assert_cmpuint(first.new_items, ==, MANY_FEEDS * ITEMS_PER_FEED);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, MANY_FEEDS * ITEMS_PER_FEED);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM feeds WHERE last_result = 'ok' AND etag IS NOT NULL"
				   " AND baseline_done = 1"), ==, MANY_FEEDS);
	g_assert_cmpuint(log_count("/many/", 200, MANY_FEEDS), ==, MANY_FEEDS);
	/* Nothing old raised anything. */
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM events"), ==, 0);

	/* Second poll: nothing changed, one 304 each and nothing else. */
	truncate_access_log();
	FeedPollCounts second = poll_all(f->poller);
	g_assert_cmpuint(second.feeds, ==, MANY_FEEDS);
	g_assert_cmpuint(second.not_modified, ==, MANY_FEEDS);
	g_assert_cmpuint(second.new_items, ==, 0);
	g_assert_cmpuint(log_count("/many/", 304, MANY_FEEDS), ==, MANY_FEEDS);
	g_assert_cmpuint(log_count("/many/", 200, 0), ==, 0);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM feeds WHERE last_result = 'not-modified'"), ==, MANY_FEEDS);

	/* Three feeds get two posts each: exactly those come. */
	for (guint i = 0; i < 3; i++) {
		guint n = i * 100 + 7;
		g_autofree char *path = many_path(n);
		write_plain_feed(path + 1, formats[n % 3], n % 2 == 1, ITEMS_PER_FEED, 2);
	}
	truncate_access_log();
	FeedPollCounts third = poll_all(f->poller);
	g_assert_cmpuint(third.new_items, ==, 6);
	g_assert_cmpuint(third.not_modified, ==, MANY_FEEDS - 3);
	g_assert_cmpuint(third.errors, ==, 0);
	g_assert_cmpuint(log_count("/many/", 200, 3), ==, 3);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, MANY_FEEDS * ITEMS_PER_FEED + 6);

	/* `tiesctl feeds` shows them all, with what they last did. */
	g_autoptr(JsonArray) listing = feed_poller_to_json(f->poller);
	g_assert_cmpuint(json_array_get_length(listing), ==, MANY_FEEDS);
	JsonObject *row = json_array_get_object_element(listing, 7);
	g_assert_cmpstr(json_object_get_string_member(row, "last_result"), ==, FEED_RESULT_OK);
	g_assert_cmpint(json_object_get_int_member(row, "posts"), ==, ITEMS_PER_FEED + 2);
	g_assert_false(json_object_get_boolean_member(row, "running"));
}

/* The size of the body of the last 200 nginx logged for PATH. */
static guint64 logged_body_size(const char *path)
{
	g_autofree char *logpath = g_build_filename(world.dir, "access.log", NULL);
	g_autofree char *log = NULL;

	g_assert_cmpuint(log_count(path, 200, 1), ==, 1);
	g_assert_true(g_file_get_contents(logpath, &log, NULL, NULL));
	g_auto(GStrv) fields = g_strsplit(g_strstrip(log), " ", 3);
	return g_ascii_strtoull(fields[2], NULL, 10);
}

/* Bodies go over the wire compressed when the engine asks for it, which it
 * does of other hosts (and of this one only when told: nginx is on
 * loopback here). */
static void test_gzip(Fixture *f, gconstpointer data)
{
	gboolean asks = data == COMPRESS_LOOPBACK;
	write_plain_feed("gzip/feed.xml", FORMAT_RSS20, TRUE, 40, 0);
	add_feed(f, "/gzip/feed.xml", 0);
	truncate_access_log();
	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.new_items, ==, 40);
	g_autofree char *path = www_path("gzip/feed.xml");
	GStatBuf st;
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	guint64 sent = logged_body_size("/gzip/");
	if (asks)
		g_assert_cmpuint(sent, <, (guint64)st.st_size / 2);
	else
		g_assert_cmpuint(sent, ==, (guint64)st.st_size);
}

static void test_redirects(Fixture *f, gconstpointer data)
{
	write_plain_feed("f/moved-target.xml", FORMAT_ATOM, FALSE, 3, 0);
	write_plain_feed("f/temporary-target.xml", FORMAT_RSS20, FALSE, 3, 0);
	gint64 moved = add_feed(f, "/moved.xml", 0);
	gint64 temporary = add_feed(f, "/temporary.xml", 0);

	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.new_items, ==, 6);
	g_autoptr(StoreFeed) a = store_feed_get(f->store, moved);
	g_autoptr(StoreFeed) b = store_feed_get(f->store, temporary);
	g_autofree char *target = nginx_url("/f/moved-target.xml");
	g_autofree char *temporary_url = nginx_url("/temporary.xml");
	g_assert_cmpstr(a->url, ==, target);
	g_assert_cmpstr(b->url, ==, temporary_url);

	/* The next poll goes straight to the new place: no 301 any more. */
	truncate_access_log();
	counts = poll_all(f->poller);
	g_assert_cmpuint(counts.not_modified, ==, 2);
	g_assert_cmpuint(log_count("/moved.xml", 301, 0), ==, 0);
	g_assert_cmpuint(log_count("/temporary.xml", 302, 1), ==, 1);
}

typedef struct {
	const char *name;
	gint64 id;
	char *error;
	gint64 posts;
} Broken;

/* Every kind of failure leaves what is stored as it was, and says why. */
static void test_errors(Fixture *f, gconstpointer data)
{
	const char *names[] = { "flaky/500.xml", "timeout.xml", "truncated.xml", "oversized.xml", "html.xml",
				"retry.xml" };
	gint64 ids[G_N_ELEMENTS(names)];
	g_autoptr(GError) error = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_strconcat("/", names[i], NULL);
		write_plain_feed(names[i], formats[i % 3], i % 2 == 0, 5, 0);
		ids[i] = add_feed(f, path, 0);
	}
	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.new_items, ==, 5 * G_N_ELEMENTS(names));
	g_assert_cmpuint(counts.errors, ==, 0);

	/* Now each breaks in its own way. */
	write_www("fail500", "", 0);
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/feed.xml", world.hang_port);
	g_assert_true(store_feed_set_url(f->store, ids[1], hang, &error));
	g_autofree char *truncated = python_url("/truncated");
	g_assert_true(store_feed_set_url(f->store, ids[2], truncated, &error));
	g_autofree char *big = g_strnfill(OVERSIZED_BYTES, 'x');
	write_www("oversized.xml", big, -1);
	write_www("html.xml", "<!DOCTYPE html><html><head><title>Moved</title></head><body><p>Our blog moved.</p></body></html>", -1);
	g_autofree char *retry = python_url("/retry-after/120");
	g_assert_true(store_feed_set_url(f->store, ids[5], retry, &error));

	gint64 before = now_s();
	counts = poll_all(f->poller);
	g_assert_cmpuint(counts.errors, ==, G_N_ELEMENTS(names));
	g_assert_cmpuint(counts.new_items, ==, 0);
	const char *expected[] = { "HTTP 500", "timed out", "connection closed", "larger than", "not a feed", "HTTP 429" };
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(StoreFeed) feed = store_feed_get(f->store, ids[i]);
		if (!feed->last_error || !strstr(feed->last_error, expected[i]))
			g_error("%s: last_error \"%s\", expected \"%s\"", names[i], feed->last_error, expected[i]);
		g_assert_cmpstr(feed->last_result, ==, FEED_RESULT_ERROR);
		g_assert_cmpuint(feed->failures, ==, 1);
		g_assert_cmpint(feed->posts, ==, 5);
		/* What the last good poll learnt stays. */
		g_assert_nonnull(feed->title);
		g_assert_true(feed->baseline_done);
		if (i == 5) {
			/* Retry-After is honoured. */
			g_assert_cmpint(feed->next_poll, >=, before + 120);
			g_assert_cmpint(feed->next_poll, <=, now_s() + 121);
		} else {
			/* Backoff: not before the interval. */
			g_assert_cmpint(feed->next_poll, >=, before + FEEDS_DEFAULT_INTERVAL_S);
		}
	}
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, 5 * G_N_ELEMENTS(names));

	/* Recovery: the 500 goes away, the feed is fine again. */
	g_autofree char *flag = www_path("fail500");
	g_assert_cmpint(g_unlink(flag), ==, 0);
	counts = poll_all(f->poller);
	g_autoptr(StoreFeed) healed = store_feed_get(f->store, ids[0]);
	g_assert_cmpstr(healed->last_result, !=, FEED_RESULT_ERROR);
	g_assert_null(healed->last_error);
	g_assert_cmpuint(healed->failures, ==, 0);
}

static void write_posts_feed(const char *name, const Post *posts, guint n)
{
	g_autofree char *xml = make_feed(FORMAT_RSS20, name, posts, n);
	write_www(name, xml, -1);
}

static guint count_events(Fixture *f, gint64 contact, const char *kind)
{
	g_autoptr(JsonArray) events = store_events_list(f->store, 0, kind, contact);
	return json_array_get_length(events);
}

/* SPEC §4: the first poll is a silent baseline but for the last 14 days;
 * later posts raise one job change per contact per move. */
static void test_job_changes(Fixture *f, gconstpointer data)
{
	gint64 now = now_s();
	gint64 a = add_contact(f, "佐藤 花子", "sato@example.com", NULL);
	gint64 b = add_contact(f, "Ken Suzuki", "ken@example.com", NULL);
	gint64 c = add_contact(f, "田中 一郎", "tanaka@example.com", NULL);

	Post recent[] = { { "退職しました", now - 3 * DAY }, { "週末の散歩", now - 10 * DAY } };
	Post old[] = { { "退職しました", now - 90 * DAY }, { "Weekend notes", now - 40 * DAY } };
	Post known[] = { { "Hello", now - 40 * DAY } };
	write_posts_feed("jc/a.xml", recent, G_N_ELEMENTS(recent));
	write_posts_feed("jc/b.xml", old, G_N_ELEMENTS(old));
	write_posts_feed("jc/c.xml", known, G_N_ELEMENTS(known));
	add_feed(f, "/jc/a.xml", a);
	add_feed(f, "/jc/b.xml", b);
	add_feed(f, "/jc/c.xml", c);
	/* C's move is known from the cards already. */
	g_autofree char *card_key = events_job_change_key(c, "abc");
	g_autoptr(GError) error = NULL;
	g_assert_true(store_event_add(f->store, c, "job-change", now - 30 * DAY, card_key, "Joined ABC", NULL, NULL,
				      &error));

	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.errors, ==, 0);
	g_assert_cmpuint(counts.events, ==, 1);
	g_assert_cmpuint(count_events(f, a, "job-change"), ==, 1);
	g_assert_cmpuint(count_events(f, b, "job-change"), ==, 0);
	/* A nudge waits for A's move; the event quotes the post. */
	g_autoptr(JsonArray) events = store_events_list(f->store, 0, "job-change", a);
	JsonObject *event = json_array_get_object_element(events, 0);
	g_assert_cmpstr(json_object_get_string_member(event, "detail"), ==, "Wrote 「退職しました」");
	g_autoptr(GPtrArray) pending = store_nudges_in_state(f->store, "pending");
	g_assert_cmpuint(pending->len, ==, 1);
	g_assert_cmpint(((StoreNudge *)g_ptr_array_index(pending, 0))->contact_id, ==, a);
	/* Recent posts are topics (`post` events), old ones are not. */
	g_assert_cmpuint(count_events(f, a, "post"), ==, 2);
	g_assert_cmpuint(count_events(f, b, "post"), ==, 0);

	/* Later, B and C announce where they went. */
	Post b_later[] = { { "入社しました", now - 3600 }, { "退職しました", now - 90 * DAY },
			   { "Weekend notes", now - 40 * DAY } };
	Post c_later[] = { { "ABCに入社しました", now - 3600 }, { "Hello", now - 40 * DAY } };
	write_posts_feed("jc/b.xml", b_later, G_N_ELEMENTS(b_later));
	write_posts_feed("jc/c.xml", c_later, G_N_ELEMENTS(c_later));
	counts = poll_all(f->poller);
	g_assert_cmpuint(counts.new_items, ==, 2);
	g_assert_cmpuint(counts.events, ==, 1);
	g_assert_cmpuint(count_events(f, b, "job-change"), ==, 1);
	/* C's post is the move the card told of: nothing new. */
	g_assert_cmpuint(count_events(f, c, "job-change"), ==, 1);

	/* Polling again adds nothing. */
	counts = poll_all(f->poller);
	g_assert_cmpuint(counts.events, ==, 0);
	g_assert_cmpuint(count_events(f, a, "job-change") + count_events(f, b, "job-change"), ==, 2);

	/* The latest post of B is a topic for the next nudge. */
	g_autoptr(StorePost) topic = store_contact_latest_post(f->store, b, now - 30 * DAY);
	g_assert_cmpstr(topic->title, ==, "入社しました");
	g_assert_true(topic->job_change);
}

static gboolean stored_anywhere(Fixture *f, const char *needle)
{
	sqlite3 *db = raw_db(f);
	sqlite3_stmt *stmt = NULL;
	gboolean found = FALSE;
	g_assert_cmpint(sqlite3_prepare_v2(db,
		"SELECT coalesce(title,'') || coalesce(summary,'') || coalesce(link,'') || guid FROM posts"
		" UNION ALL SELECT coalesce(title,'') || coalesce(last_error,'') FROM feeds"
		" UNION ALL SELECT coalesce(detail,'') FROM events", -1, &stmt, NULL), ==, SQLITE_OK);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		found |= strstr((const char *)sqlite3_column_text(stmt, 0), needle) != NULL;
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	return found;
}

static void test_xml_attacks(Fixture *f, gconstpointer data)
{
	const char *files[] = { "billion-laughs.xml", "xxe.xml", "xxe-parameter.xml" };
	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *source = g_build_filename(FEED_DATA, files[i], NULL);
		g_autofree char *text = NULL;
		g_assert_true(g_file_get_contents(source, &text, NULL, NULL));
		g_autofree char *name = g_strconcat("attack/", files[i], NULL);
		g_autofree char *path = g_strconcat("/", name, NULL);
		write_www(name, text, -1);
		add_feed(f, path, 0);
	}
	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.feeds, ==, G_N_ELEMENTS(files));
	g_assert_false(stored_anywhere(f, "root:"));
	g_assert_false(stored_anywhere(f, "lollollollollollollollollollol"));
	/* Whatever was stored stays small. */
	g_assert_cmpint(raw_int(f, "SELECT coalesce(max(length(title) + length(summary)), 0) FROM posts"), <, 10000);
}

static void test_config(Fixture *f, gconstpointer data)
{
	gint64 yamada = add_contact(f, "山田 太郎", "yamada@example.com", NULL);
	g_autofree char *by_email = nginx_url("/cfg/1.xml");
	g_autofree char *by_name = nginx_url("/cfg/2.xml");
	g_autofree char *later = nginx_url("/cfg/3.xml");
	write_plain_feed("cfg/1.xml", FORMAT_RSS20, TRUE, 2, 0);

	g_autoptr(Config) config = config_new_default(NULL);
	FeedConfig feeds[] = {
		{ "one", by_email, "YAMADA@example.com", 3600, 1 },
		{ "two", by_name, "山田太郎", 0, 5 },
		{ "three", later, "Hanako Kato", 0, 9 },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(feeds); i++) {
		FeedConfig *copy = g_new0(FeedConfig, 1);
		copy->name = g_strdup(feeds[i].name);
		copy->url = g_strdup(feeds[i].url);
		copy->contact = g_strdup(feeds[i].contact);
		copy->interval_s = feeds[i].interval_s;
		g_ptr_array_add(config->feeds, copy);
	}
	gint64 now = now_s();
	feed_poller_set_config(f->poller, config);
	g_autoptr(StoreFeed) one = store_feed_by_url(f->store, by_email);
	g_autoptr(StoreFeed) two = store_feed_by_url(f->store, by_name);
	g_autoptr(StoreFeed) three = store_feed_by_url(f->store, later);
	g_assert_cmpint(one->contact_id, ==, yamada);
	g_assert_cmpint(one->interval_s, ==, 3600);
	g_assert_cmpstr(one->origin, ==, FEED_ORIGIN_CONFIG);
	g_assert_cmpint(two->contact_id, ==, yamada);
	g_assert_cmpint(three->contact_id, ==, 0);
	g_assert_cmpstr(three->contact_hint, ==, "Hanako Kato");
	/* First polls spread, within the first-poll window. */
	g_assert_cmpint(one->next_poll, >=, now);
	g_assert_cmpint(one->next_poll, <=, now + FEEDS_FIRST_POLL_SPREAD_S);
	g_assert_true(one->next_poll != two->next_poll || two->next_poll != three->next_poll);

	/* The contact arrives with a later sync. */
	gint64 kato = add_contact(f, "Hanako Kato", "kato@example.com", NULL);
	feed_poller_contacts_changed(f->poller);
	g_autoptr(StoreFeed) resolved = store_feed_by_url(f->store, later);
	g_assert_cmpint(resolved->contact_id, ==, kato);

	/* Export and import again: the same feeds and contacts. */
	g_autofree char *opml = feed_poller_export_opml(f->poller);
	g_assert_nonnull(strstr(opml, "山田 太郎"));
	g_assert_nonnull(strstr(opml, "Hanako Kato"));
	guint added = 99, skipped = 99;
	g_autoptr(GError) error = NULL;
	g_assert_true(feed_poller_import_opml(f->poller, opml, strlen(opml), &added, &skipped, &error));
	g_assert_cmpuint(added, ==, 0);
	g_assert_cmpuint(skipped, ==, 3);

	/* A section that leaves the config takes its feed along. */
	g_ptr_array_remove_index(config->feeds, 2);
	feed_poller_set_config(f->poller, config);
	g_autoptr(StoreFeed) gone = store_feed_by_url(f->store, later);
	g_assert_null(gone);
	g_autoptr(GPtrArray) all = store_feeds_all(f->store);
	g_assert_cmpuint(all->len, ==, 2);
}

static void test_opml_import(Fixture *f, gconstpointer data)
{
	gint64 yamada = add_contact(f, "山田 太郎", "yamada@example.com", "https://yamada.example/blog");
	gint64 ken = add_contact(f, "Ken Suzuki", "ken@example.com", NULL);
	const char *opml =
		"<?xml version=\"1.0\"?>\n"
		"<opml version=\"1.0\"><head><title>x</title></head><body>\n"
		"<outline text=\"Ken Suzuki\"><outline text=\"Ken's blog\" xmlUrl=\"https://ken.example/feed\"/></outline>\n"
		"<outline text=\"Blog\" xmlUrl=\"https://yamada.example/feed\" htmlUrl=\"https://yamada.example/blog\"/>\n"
		"<outline text=\"Nobody\" xmlUrl=\"https://nobody.example/feed\"/>\n"
		"<outline text=\"bad\" xmlUrl=\"javascript:alert(1)\"/>\n"
		"</body></opml>\n";
	guint added = 0, skipped = 0;
	g_autoptr(GError) error = NULL;

	g_assert_true(feed_poller_import_opml(f->poller, opml, strlen(opml), &added, &skipped, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(added, ==, 3);
	g_assert_cmpuint(skipped, ==, 1);
	g_autoptr(StoreFeed) k = store_feed_by_url(f->store, "https://ken.example/feed");
	g_autoptr(StoreFeed) y = store_feed_by_url(f->store, "https://yamada.example/feed");
	g_autoptr(StoreFeed) n = store_feed_by_url(f->store, "https://nobody.example/feed");
	g_assert_cmpint(k->contact_id, ==, ken);
	g_assert_cmpint(y->contact_id, ==, yamada);
	g_assert_cmpint(n->contact_id, ==, 0);
	g_assert_cmpstr(k->origin, ==, FEED_ORIGIN_OPML);

	g_assert_false(feed_poller_import_opml(f->poller, "<html/>", 7, &added, &skipped, &error));
	g_assert_nonnull(error);
}

static void test_add(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 ken = add_contact(f, "Ken Suzuki", "ken@example.com", NULL);

	g_assert_cmpint(feed_poller_add(f->poller, "ftp://example.com/feed", 0, FEED_ORIGIN_CLI, &error), ==, 0);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_cmpint(feed_poller_add(f->poller, "not a url", 0, FEED_ORIGIN_CLI, &error), ==, 0);
	g_clear_error(&error);

	/* A feed added by hand polls at once: the schedule fires by itself. */
	write_plain_feed("add/feed.xml", FORMAT_ATOM, FALSE, 4, 0);
	g_autofree char *url = nginx_url("/add/feed.xml");
	g_autoptr(Config) config = config_new_default(NULL);
	feed_poller_set_config(f->poller, config);
	gint64 id = feed_poller_add(f->poller, url, 0, FEED_ORIGIN_CLI, &error);
	g_assert_cmpint(id, >, 0);
	gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (raw_int(f, "SELECT count(*) FROM posts") < 4 && g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(raw_int(f, "SELECT count(*) FROM posts"), ==, 4);

	/* The same URL again: the same feed; the command line sets its contact. */
	g_assert_cmpint(feed_poller_add(f->poller, url, ken, FEED_ORIGIN_CLI, &error), ==, id);
	g_autoptr(StoreFeed) feed = store_feed_get(f->store, id);
	g_assert_cmpint(feed->contact_id, ==, ken);
	g_autoptr(JsonArray) posts = store_contact_posts(f->store, ken, 2);
	g_assert_cmpuint(json_array_get_length(posts), ==, 2);
}

/* ---- discovery through HTTP ---- */

typedef struct {
	gboolean done;
	char *feed, *error;
} Found;

static void on_found(const char *page_url, const char *feed_url, const char *error, gpointer user_data)
{
	Found *found = user_data;
	found->done = TRUE;
	found->feed = g_strdup(feed_url);
	found->error = g_strdup(error);
	g_main_loop_quit(loop);
}

static void discover(HttpEngine *http, const char *url, Found *found)
{
	discovery_run(http, url, on_found, found);
	g_assert_false(found->done);
	guint watchdog = g_timeout_add_seconds(WATCHDOG_S, on_watchdog, NULL);
	g_main_loop_run(loop);
	g_source_remove(watchdog);
	g_assert_true(found->done);
}

static void found_clear(Found *found)
{
	g_free(found->feed);
	g_free(found->error);
	*found = (Found) { 0 };
}

static void test_discovery_http(Fixture *f, gconstpointer data)
{
	write_www("site/index.html",
		  "<!DOCTYPE html><html><head><title>Blog</title>"
		  "<link rel=\"alternate\" type=\"application/rss+xml\" title=\"Comments\" href=\"/site/comments.xml\">"
		  "<link rel=\"Alternate stylesheet\" type=\"application/atom+xml\" href=\"atom.xml\">"
		  "</head><body>hi</body></html>", -1);
	write_plain_feed("site/atom.xml", FORMAT_ATOM, TRUE, 2, 0);
	write_www("plain/index.html", "<html><head><title>No feed</title></head></html>", -1);

	Found found = { 0 };
	g_autofree char *page = nginx_url("/site/");
	g_autofree char *expected = nginx_url("/site/atom.xml");
	discover(f->http, page, &found);
	g_assert_cmpstr(found.feed, ==, expected);
	g_assert_null(found.error);
	found_clear(&found);

	/* A page that is a feed is its own feed. */
	discover(f->http, expected, &found);
	g_assert_cmpstr(found.feed, ==, expected);
	found_clear(&found);

	g_autofree char *plain = nginx_url("/plain/");
	discover(f->http, plain, &found);
	g_assert_null(found.feed);
	g_assert_null(found.error);
	found_clear(&found);

	g_autofree char *missing = nginx_url("/nothing-here/");
	discover(f->http, missing, &found);
	g_assert_null(found.feed);
	g_assert_null(found.error);
	found_clear(&found);

	g_autofree char *broken = python_url("/status/500");
	discover(f->http, broken, &found);
	g_assert_null(found.feed);
	g_assert_cmpstr(found.error, ==, "HTTP 500");
	found_clear(&found);

	/* A known pattern needs no request at all. */
	discover(f->http, "https://zenn.dev/someone", &found);
	g_assert_cmpstr(found.feed, ==, "https://zenn.dev/someone/feed");
	found_clear(&found);

	/* The poller: contacts' pages, once per URL. */
	gint64 yamada = add_contact(f, "山田 太郎", "yamada@example.com", page);
	gint64 ken = add_contact(f, "Ken Suzuki", "ken@example.com", "https://qiita.com/ken");
	feed_poller_contacts_changed(f->poller);
	gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (raw_int(f, "SELECT count(*) FROM discoveries") < 2 && g_get_monotonic_time() < until)
		g_main_context_iteration(NULL, TRUE);
	g_autoptr(StoreFeed) site = store_feed_by_url(f->store, expected);
	g_autoptr(StoreFeed) qiita = store_feed_by_url(f->store, "https://qiita.com/ken/feed");
	g_assert_nonnull(site);
	g_assert_nonnull(qiita);
	g_assert_cmpint(site->contact_id, ==, yamada);
	g_assert_cmpint(qiita->contact_id, ==, ken);
	g_assert_cmpstr(site->origin, ==, FEED_ORIGIN_DISCOVERY);
	truncate_access_log();
	feed_poller_contacts_changed(f->poller);
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(log_count("/site/", 200, 0), ==, 0);
}

static void test_free_while_polling(Fixture *f, gconstpointer data)
{
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/slow.xml", world.hang_port);
	add_feed(f, hang, 0);
	PollRun run = { 0 };
	feed_poller_poll_all(f->poller, NULL, on_done, &run);
	for (guint i = 0; i < 10; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(run.done);
	/* The waiter is answered when the poller goes. */
	feed_poller_free(f->poller);
	f->poller = NULL;
	g_assert_true(run.done);
	g_assert_cmpuint(run.counts.feeds, ==, 0);
}

static void test_poll_nothing(Fixture *f, gconstpointer data)
{
	FeedPollCounts counts = poll_all(f->poller);
	g_assert_cmpuint(counts.feeds, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	log_set_max_priority(LOG_WARNING);

	g_autoptr(GError) error = NULL;
	world.dir = g_dir_make_tmp("test-feeds-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *www = g_build_filename(world.dir, "www", NULL);
	g_assert_cmpint(g_mkdir(www, 0700), ==, 0);
	start_nginx();
	start_python();
	world.hang_fd = listen_loopback(&world.hang_port, 64);
	loop = g_main_loop_new(NULL, FALSE);

	g_test_add_func("/feeds/policy", test_policy);
#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/feeds/store", test_store);
	ADD("/feeds/store/prune", test_store_prune);
	ADD("/feeds/poll/many", test_many);
	ADD("/feeds/poll/gzip", test_gzip);
	g_test_add("/feeds/poll/gzip/asked", Fixture, COMPRESS_LOOPBACK, fixture_setup, test_gzip, fixture_teardown);
	ADD("/feeds/poll/redirects", test_redirects);
	ADD("/feeds/poll/errors", test_errors);
	ADD("/feeds/poll/job-changes", test_job_changes);
	ADD("/feeds/poll/xml-attacks", test_xml_attacks);
	ADD("/feeds/poll/nothing", test_poll_nothing);
	ADD("/feeds/poll/free-while-polling", test_free_while_polling);
	ADD("/feeds/config", test_config);
	ADD("/feeds/add", test_add);
	ADD("/feeds/opml/import", test_opml_import);
	ADD("/feeds/discovery/http", test_discovery_http);
#undef ADD

	int status = g_test_run();
	g_main_loop_unref(loop);
	g_output_stream_close(g_subprocess_get_stdin_pipe(world.python), NULL, NULL);
	g_subprocess_wait(world.python, NULL, NULL);
	g_clear_object(&world.python);
	g_subprocess_send_signal(world.nginx, SIGTERM);
	g_subprocess_wait(world.nginx, NULL, NULL);
	g_clear_object(&world.nginx);
	close(world.hang_fd);
	remove_tree(world.dir);
	g_free(world.dir);
	return status;
}
