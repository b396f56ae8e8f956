/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "http.h"

/* As in tests/servers/faulty-http.py. */
#define TEST_USER "alice"
#define TEST_PASSWORD "s3cret-pass"
/* A run of the main loop that takes longer than this has hung. */
#define WATCHDOG_S 60
#define SERVER_START_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define GZIP_TEXT_BYTES 20000
#define GZIP_BOMB_BYTES 200000
#define CONCURRENT_REQUESTS 200
#define CONCURRENT_PER_HOST 4
#define TEST_MAX_REDIRECTS 5

#define assert_contains(haystack, needle) \
	do { \
		const char *haystack_ = (haystack); \
		if (!haystack_ || !strstr(haystack_, (needle))) \
			g_error("%s:%d: \"%s\" does not contain \"%s\"", __FILE__, __LINE__, \
				haystack_ ? haystack_ : "(null)", (needle)); \
	} while (0)

#define assert_lacks(haystack, needle) \
	do { \
		const char *haystack_ = (haystack); \
		if (haystack_ && strstr(haystack_, (needle))) \
			g_error("%s:%d: \"%s\" contains \"%s\"", __FILE__, __LINE__, haystack_, (needle)); \
	} while (0)

/* The servers every test talks to, started once by main(). */
static struct {
	char *dir;
	GSubprocess *python;
	guint16 python_port;
	GSubprocess *nginx;
	guint16 nginx_port;
	guint16 nginx_tls_port;
	int hang_fd;            /* listens and never accepts: a server that never answers */
	guint16 hang_port;
	guint16 refused_port;   /* nothing listens there */
	char *feed;             /* content of www/feed.xml */
} world;

/* ---- what a done callback saw ---- */

typedef struct {
	gboolean done;
	guint order;            /* 1 for the first callback of a run, ... */
	long status;
	char *error;
	GBytes *body;
	char *etag, *last_modified, *content_type, *effective_url;
	gboolean permanent_redirect;
	gint64 retry_after_s;
	gint64 at_us;           /* monotonic time of the callback */
} Result;

static GMainLoop *loop;
static guint outstanding;       /* callbacks the current run waits for */
static guint callbacks_seen;

static void result_clear(Result *result)
{
	g_free(result->error);
	g_clear_pointer(&result->body, g_bytes_unref);
	g_free(result->etag);
	g_free(result->last_modified);
	g_free(result->content_type);
	g_free(result->effective_url);
	*result = (Result) { 0 };
}

static void on_done(const HttpResponse *response, gpointer user_data)
{
	Result *result = user_data;

	g_assert_false(result->done);
	result->done = TRUE;
	result->order = ++callbacks_seen;
	result->status = response->status;
	result->error = g_strdup(response->error);
	result->body = response->body ? g_bytes_ref(response->body) : NULL;
	result->etag = g_strdup(response->etag);
	result->last_modified = g_strdup(response->last_modified);
	result->content_type = g_strdup(response->content_type);
	result->effective_url = g_strdup(response->effective_url);
	result->permanent_redirect = response->permanent_redirect;
	result->retry_after_s = response->retry_after_s;
	result->at_us = g_get_monotonic_time();
	if (outstanding > 0 && --outstanding == 0)
		g_main_loop_quit(loop);
}

static gboolean on_watchdog(gpointer user_data)
{
	g_error("the main loop ran for %d s without the awaited callbacks", WATCHDOG_S);
	return G_SOURCE_REMOVE;
}

/* Runs the main loop until every submitted request has called back. */
static void run_until_done(void)
{
	callbacks_seen = 0;
	if (outstanding == 0)
		return;
	guint watchdog = g_timeout_add_seconds(WATCHDOG_S, on_watchdog, NULL);
	g_main_loop_run(loop);
	g_source_remove(watchdog);
}

static gboolean on_quit(gpointer user_data)
{
	g_main_loop_quit(loop);
	return G_SOURCE_REMOVE;
}

static void run_for_ms(guint ms)
{
	g_timeout_add(ms, on_quit, NULL);
	g_main_loop_run(loop);
}

static guint64 submit(HttpEngine *engine, HttpRequest *request, Result *result)
{
	outstanding++;
	guint64 id = http_engine_submit(engine, request, on_done, result);
	g_assert_cmpuint(id, !=, 0);
	/* Never called back from inside submit. */
	g_assert_false(result->done);
	return id;
}

static void fetch(HttpEngine *engine, HttpRequest *request, Result *result)
{
	submit(engine, request, result);
	run_until_done();
	g_assert_true(result->done);
}

static char *py_url(const char *path)
{
	return g_strdup_printf("http://127.0.0.1:%u%s", world.python_port, path);
}

static char *nginx_url(const char *path)
{
	return g_strdup_printf("http://127.0.0.1:%u%s", world.nginx_port, path);
}

static void get(HttpEngine *engine, const char *url, Result *result)
{
	fetch(engine, http_request_new("GET", url), result);
}

static void get_py(HttpEngine *engine, const char *path, Result *result)
{
	g_autofree char *url = py_url(path);
	get(engine, url, result);
}

static void assert_body(const Result *result, const char *expected)
{
	g_assert_null(result->error);
	g_assert_nonnull(result->body);
	gsize len;
	const char *data = g_bytes_get_data(result->body, &len);
	g_assert_cmpmem(data, len, expected, strlen(expected));
}

static HttpEngine *engine_with(guint per_host, gsize max_body, guint timeout_s, guint max_redirects)
{
	HttpLimits limits;
	http_limits_default(&limits);
	if (per_host)
		limits.max_connections_per_host = per_host;
	if (max_body)
		limits.max_body_bytes = max_body;
	if (timeout_s)
		limits.timeout_s = timeout_s;
	limits.max_redirects = max_redirects;
	/* nginx is on loopback, where the engine asks for no compression
	 * unless told to: the tests of compressed bodies need it. */
	limits.compress_loopback = TRUE;
	HttpEngine *engine = http_engine_new(&limits);
	g_assert_nonnull(engine);
	return engine;
}

/* ---- nginx: a real server with ETag, Last-Modified, gzip ---- */

static guint count_log_lines(const char *prefix)
{
	g_autofree char *path = g_build_filename(world.dir, "access.log", NULL);
	g_autofree char *text = NULL;
	guint count = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++)
		if (g_str_has_prefix(lines[i], prefix))
			count++;
	return count;
}

/* nginx logs a request just after sending its answer: give it a moment. */
static guint wait_log_lines(const char *prefix, guint expected)
{
	gint64 until = g_get_monotonic_time() + G_USEC_PER_SEC;
	guint count;
	while ((count = count_log_lines(prefix)) < expected && g_get_monotonic_time() < until)
		g_usleep(10 * 1000);
	return count;
}

/* The number logged as $body_bytes_sent in the last line for PREFIX. */
static guint64 logged_bytes(const char *prefix)
{
	g_autofree char *path = g_build_filename(world.dir, "access.log", NULL);
	g_autofree char *text = NULL;
	guint64 bytes = 0;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) fields = g_strsplit(lines[i], " ", 3);
		if (g_strv_length(fields) == 3 && g_str_has_prefix(lines[i], prefix))
			bytes = g_ascii_strtoull(fields[2], NULL, 10);
	}
	return bytes;
}

static void test_nginx_ok(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = nginx_url("/feed.xml");
	Result result = { 0 };

	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_body(&result, world.feed);
	g_assert_nonnull(result.etag);
	g_assert_true(g_str_has_prefix(result.etag, "\""));
	g_assert_nonnull(result.last_modified);
	assert_contains(result.last_modified, " GMT");
	g_assert_cmpstr(result.content_type, ==, "application/rss+xml");
	g_assert_cmpstr(result.effective_url, ==, url);
	g_assert_false(result.permanent_redirect);
	g_assert_cmpint(result.retry_after_s, ==, -1);
	g_assert_cmpuint(http_engine_active(engine), ==, 0);
	result_clear(&result);
	http_engine_free(engine);
}

static void test_nginx_conditional(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = nginx_url("/cond.xml");
	Result first = { 0 }, by_etag = { 0 }, by_date = { 0 }, changed = { 0 };

	get(engine, url, &first);
	g_assert_cmpint(first.status, ==, 200);
	g_assert_nonnull(first.etag);
	g_assert_nonnull(first.last_modified);

	HttpRequest *request = http_request_new("GET", url);
	http_request_set_conditional(request, first.etag, NULL);
	fetch(engine, request, &by_etag);
	g_assert_cmpint(by_etag.status, ==, 304);
	assert_body(&by_etag, "");

	request = http_request_new("GET", url);
	http_request_set_conditional(request, NULL, first.last_modified);
	fetch(engine, request, &by_date);
	g_assert_cmpint(by_date.status, ==, 304);
	assert_body(&by_date, "");

	request = http_request_new("GET", url);
	http_request_set_conditional(request, "\"something-else\"", NULL);
	fetch(engine, request, &changed);
	g_assert_cmpint(changed.status, ==, 200);
	assert_body(&changed, world.feed);

	/* The server itself saw two full answers and two 304s. */
	g_assert_cmpuint(wait_log_lines("/cond.xml 200 ", 2), ==, 2);
	g_assert_cmpuint(wait_log_lines("/cond.xml 304 ", 2), ==, 2);

	result_clear(&first);
	result_clear(&by_etag);
	result_clear(&by_date);
	result_clear(&changed);
	http_engine_free(engine);
}

static void test_nginx_gzip(void)
{
	HttpEngine *engine = engine_with(0, 0, 0, TEST_MAX_REDIRECTS);
	g_autofree char *url = nginx_url("/text.txt");
	g_autofree char *path = g_build_filename(world.dir, "www", "text.txt", NULL);
	g_autofree char *expected = NULL;
	Result result = { 0 };

	g_assert_true(g_file_get_contents(path, &expected, NULL, NULL));
	guint before = count_log_lines("/text.txt 200 ");
	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_body(&result, expected);
	/* It crossed the wire compressed. */
	g_assert_cmpuint(wait_log_lines("/text.txt 200 ", before + 1), ==, before + 1);
	g_assert_cmpuint(logged_bytes("/text.txt 200 "), <, GZIP_TEXT_BYTES / 4);
	result_clear(&result);
	http_engine_free(engine);
}

/* A server on this machine is not asked to compress (by default). */
static void test_nginx_loopback_plain(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = nginx_url("/text.txt");
	Result result = { 0 };

	guint before = count_log_lines("/text.txt 200 ");
	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 200);
	g_assert_cmpuint(wait_log_lines("/text.txt 200 ", before + 1), ==, before + 1);
	g_assert_cmpuint(logged_bytes("/text.txt 200 "), ==, GZIP_TEXT_BYTES);
	result_clear(&result);
	http_engine_free(engine);
}

/* A small compressed body that inflates beyond the cap is refused. */
static void test_nginx_gzip_bomb(void)
{
	HttpEngine *engine = engine_with(0, GZIP_BOMB_BYTES / 4, 0, TEST_MAX_REDIRECTS);
	g_autofree char *url = nginx_url("/zeros.txt");
	g_autofree char *expected = g_strdup_printf("response larger than %d bytes", GZIP_BOMB_BYTES / 4);
	Result result = { 0 };

	get(engine, url, &result);
	g_assert_cmpstr(result.error, ==, expected);
	g_assert_null(result.body);
	g_assert_cmpuint(logged_bytes("/zeros.txt 200 "), <, GZIP_BOMB_BYTES / 4);
	result_clear(&result);
	http_engine_free(engine);
}

/* TLS verification is always on: a self-signed server is refused. */
static void test_tls_untrusted(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = g_strdup_printf("https://127.0.0.1:%u/feed.xml", world.nginx_tls_port);
	Result result = { 0 };

	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 0);
	assert_contains(result.error, "TLS");
	g_assert_null(result.body);
	result_clear(&result);
	http_engine_free(engine);
}

/* ---- redirects ---- */

static void test_redirect_permanent(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *final = py_url("/redirect/301/0");
	g_autofree char *chain_end = py_url("/chain/");
	Result moved = { 0 }, mixed = { 0 };

	get_py(engine, "/redirect/301/3", &moved);
	g_assert_cmpint(moved.status, ==, 200);
	assert_body(&moved, "final\n");
	g_assert_true(moved.permanent_redirect);
	g_assert_cmpstr(moved.effective_url, ==, final);

	get_py(engine, "/chain/308/301", &mixed);
	g_assert_cmpint(mixed.status, ==, 200);
	assert_body(&mixed, "chain end\n");
	g_assert_true(mixed.permanent_redirect);
	g_assert_cmpstr(mixed.effective_url, ==, chain_end);

	result_clear(&moved);
	result_clear(&mixed);
	http_engine_free(engine);
}

static void test_redirect_temporary(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *final = py_url("/redirect/302/0");
	Result found = { 0 }, mixed = { 0 }, temporary = { 0 }, direct = { 0 };

	get_py(engine, "/redirect/302/1", &found);
	g_assert_cmpint(found.status, ==, 200);
	assert_body(&found, "final\n");
	g_assert_false(found.permanent_redirect);
	g_assert_cmpstr(found.effective_url, ==, final);

	/* One temporary hop among permanent ones is enough. */
	get_py(engine, "/chain/301/302/301", &mixed);
	assert_body(&mixed, "chain end\n");
	g_assert_false(mixed.permanent_redirect);

	get_py(engine, "/chain/307", &temporary);
	assert_body(&temporary, "chain end\n");
	g_assert_false(temporary.permanent_redirect);

	get_py(engine, "/ok", &direct);
	g_assert_false(direct.permanent_redirect);

	result_clear(&found);
	result_clear(&mixed);
	result_clear(&temporary);
	result_clear(&direct);
	http_engine_free(engine);
}

static void test_redirect_limits(void)
{
	HttpEngine *engine = engine_with(0, 0, 0, TEST_MAX_REDIRECTS);
	HttpEngine *strict = engine_with(0, 0, 0, 0);
	Result looped = { 0 }, long_chain = { 0 }, at_limit = { 0 }, none_allowed = { 0 };

	get_py(engine, "/loop/a", &looped);
	assert_contains(looped.error, "redirect loop");
	g_assert_null(looped.body);

	get_py(engine, "/redirect/301/20", &long_chain);
	g_assert_cmpstr(long_chain.error, ==, "too many redirects (more than 5)");

	get_py(engine, "/redirect/301/5", &at_limit);
	assert_body(&at_limit, "final\n");

	get_py(strict, "/redirect/301/1", &none_allowed);
	g_assert_cmpstr(none_allowed.error, ==, "too many redirects (more than 0)");

	result_clear(&looped);
	result_clear(&long_chain);
	result_clear(&at_limit);
	result_clear(&none_allowed);
	http_engine_free(engine);
	http_engine_free(strict);
}

/* Only http and https, on the first request and on every hop. */
static void test_redirect_scheme(void)
{
	static const char *const targets[] = {
		"/to?url=file:///etc/passwd",
		"/to?url=ftp://127.0.0.1/pub/file",
		"/to?url=gopher://127.0.0.1/x&status=302",
		"/to?url=dict://127.0.0.1/d:word&status=308",
	};
	static const char *const starts[] = {
		"file:///etc/passwd",
		"ftp://127.0.0.1/pub/file",
		"not a url at all",
		"https://",
	};
	HttpEngine *engine = http_engine_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(targets); i++) {
		Result result = { 0 };
		get_py(engine, targets[i], &result);
		assert_contains(result.error, "redirect refused");
		g_assert_null(result.body);
		result_clear(&result);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(starts); i++) {
		Result result = { 0 };
		get(engine, starts[i], &result);
		g_assert_nonnull(result.error);
		g_assert_cmpint(result.status, ==, 0);
		g_assert_null(result.effective_url);
		result_clear(&result);
	}
	http_engine_free(engine);
}

/* ---- answers and failures ---- */

static void test_status_codes(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	Result failed = { 0 }, missing = { 0 };

	get_py(engine, "/status/500", &failed);
	g_assert_cmpint(failed.status, ==, 500);
	assert_body(&failed, "status 500\n");

	get_py(engine, "/nowhere", &missing);
	g_assert_cmpint(missing.status, ==, 404);
	g_assert_null(missing.error);

	result_clear(&failed);
	result_clear(&missing);
	http_engine_free(engine);
}

static void test_retry_after(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	Result seconds = { 0 }, date = { 0 }, garbage = { 0 };

	get_py(engine, "/retry-after/120", &seconds);
	g_assert_cmpint(seconds.status, ==, 429);
	g_assert_null(seconds.error);
	g_assert_cmpint(seconds.retry_after_s, ==, 120);

	get_py(engine, "/retry-date/300", &date);
	g_assert_cmpint(date.status, ==, 503);
	g_assert_cmpint(date.retry_after_s, >=, 290);
	g_assert_cmpint(date.retry_after_s, <=, 300);

	get_py(engine, "/retry-after/whenever", &garbage);
	g_assert_cmpint(garbage.status, ==, 429);
	g_assert_cmpint(garbage.retry_after_s, ==, -1);

	result_clear(&seconds);
	result_clear(&date);
	result_clear(&garbage);
	http_engine_free(engine);
}

/* A server that never answers times out, and meanwhile the loop serves others. */
static void test_timeout(void)
{
	HttpEngine *engine = engine_with(0, 0, 1, TEST_MAX_REDIRECTS);
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/never", world.hang_port);
	g_autofree char *ok = py_url("/ok");
	Result stuck = { 0 }, quick = { 0 };

	gint64 start = g_get_monotonic_time();
	submit(engine, http_request_new("GET", hang), &stuck);
	submit(engine, http_request_new("GET", ok), &quick);
	run_until_done();

	g_assert_cmpuint(quick.order, ==, 1);
	assert_body(&quick, "hello world\n");

	g_assert_cmpuint(stuck.order, ==, 2);
	g_assert_cmpint(stuck.status, ==, 0);
	assert_contains(stuck.error, "timed out");
	g_assert_null(stuck.body);
	g_assert_cmpint(stuck.at_us - start, >=, 900 * 1000);
	g_assert_cmpint(stuck.at_us - start, <, 5 * G_USEC_PER_SEC);

	result_clear(&stuck);
	result_clear(&quick);
	http_engine_free(engine);
}

static void test_truncated(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	Result result = { 0 };

	get_py(engine, "/truncated", &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_contains(result.error, "connection closed before the whole body arrived");
	g_assert_null(result.body);
	result_clear(&result);
	http_engine_free(engine);
}

static void test_too_large(void)
{
	HttpEngine *engine = engine_with(0, 1000, 0, TEST_MAX_REDIRECTS);
	Result declared = { 0 }, announced = { 0 }, chunked = { 0 }, exact = { 0 }, capped = { 0 };

	/* Refused by its Content-Length, and without one while it streams. */
	get_py(engine, "/big/5000", &declared);
	g_assert_cmpstr(declared.error, ==, "response larger than 1000 bytes");
	g_assert_null(declared.body);

	gint64 start = g_get_monotonic_time();
	get_py(engine, "/declared", &announced);
	g_assert_cmpstr(announced.error, ==, "response larger than 1000 bytes");
	g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);

	get_py(engine, "/chunked/5000", &chunked);
	g_assert_cmpstr(chunked.error, ==, "response larger than 1000 bytes");
	g_assert_null(chunked.body);

	get_py(engine, "/big/1000", &exact);
	g_assert_null(exact.error);
	g_assert_cmpuint(g_bytes_get_size(exact.body), ==, 1000);

	g_autofree char *url = py_url("/chunked/500");
	HttpRequest *request = http_request_new("GET", url);
	http_request_set_max_body(request, 100);
	fetch(engine, request, &capped);
	g_assert_cmpstr(capped.error, ==, "response larger than 100 bytes");

	result_clear(&declared);
	result_clear(&announced);
	result_clear(&chunked);
	result_clear(&exact);
	result_clear(&capped);
	http_engine_free(engine);
}

static void test_refused(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", world.refused_port);
	Result result = { 0 };

	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 0);
	assert_contains(result.error, "could not connect");
	g_assert_null(result.body);
	result_clear(&result);
	http_engine_free(engine);
}

/* ---- authentication ---- */

static void assert_no_password(const Result *result)
{
	assert_lacks(result->error, TEST_PASSWORD);
	assert_lacks(result->effective_url, TEST_PASSWORD);
	if (result->body) {
		g_autofree char *body = g_strndup(g_bytes_get_data(result->body, NULL), g_bytes_get_size(result->body));
		assert_lacks(body, TEST_PASSWORD);
	}
}

static void fetch_auth(HttpEngine *engine, const char *url, const char *password, Result *result)
{
	HttpRequest *request = http_request_new("GET", url);
	http_request_set_auth(request, TEST_USER, password);
	fetch(engine, request, result);
	assert_no_password(result);
}

static void check_auth(const char *path, const char *welcome)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = py_url(path);
	g_autofree char *refused = g_strdup_printf("http://127.0.0.1:%u%s", world.refused_port, path);
	Result right = { 0 }, wrong = { 0 }, none = { 0 }, unreachable = { 0 };

	fetch_auth(engine, url, TEST_PASSWORD, &right);
	g_assert_cmpint(right.status, ==, 200);
	assert_body(&right, welcome);

	fetch_auth(engine, url, "not-" TEST_PASSWORD, &wrong);
	g_assert_cmpint(wrong.status, ==, 401);
	g_assert_null(wrong.error);

	get(engine, url, &none);
	g_assert_cmpint(none.status, ==, 401);

	fetch_auth(engine, refused, TEST_PASSWORD, &unreachable);
	g_assert_nonnull(unreachable.error);

	result_clear(&right);
	result_clear(&wrong);
	result_clear(&none);
	result_clear(&unreachable);
	http_engine_free(engine);
}

static void test_auth_basic(void)
{
	check_auth("/basic", "welcome alice\n");
}

static void test_auth_digest(void)
{
	check_auth("/digest", "digest welcome alice\n");
}

/* The schemes of the requests /basic and /digest saw since the last call
 * (EXPECTED NULL: only forgets them). */
static void assert_auth_log(HttpEngine *engine, const char *expected)
{
	g_autofree char *url = py_url("/auth-log");
	Result log = { 0 };

	get(engine, url, &log);
	g_assert_cmpint(log.status, ==, 200);
	if (expected)
		assert_body(&log, expected);
	result_clear(&log);
}

/* To a server on this machine Basic goes with the first request, without
 * waiting for a 401; a server that wants Digest gets it after one 401, and
 * nothing unasked after that. */
static void test_auth_unasked(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *basic = py_url("/basic");
	g_autofree char *digest = py_url("/digest");
	Result result = { 0 };

	assert_auth_log(engine, NULL);
	fetch_auth(engine, basic, TEST_PASSWORD, &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_auth_log(engine, "Basic\n");
	result_clear(&result);

	fetch_auth(engine, digest, TEST_PASSWORD, &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_body(&result, "digest welcome alice\n");
	assert_auth_log(engine, "Basic none Digest\n");
	result_clear(&result);

	fetch_auth(engine, digest, TEST_PASSWORD, &result);
	g_assert_cmpint(result.status, ==, 200);
	assert_auth_log(engine, "none Digest\n");
	result_clear(&result);
	http_engine_free(engine);
}

/* Credentials in a URL leave it: they authenticate, and show nowhere. */
static void test_auth_in_url(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *url = g_strdup_printf("http://" TEST_USER ":" TEST_PASSWORD "@127.0.0.1:%u/digest",
					       world.python_port);
	g_autofree char *clean = py_url("/digest");
	Result result = { 0 };

	get(engine, url, &result);
	g_assert_cmpint(result.status, ==, 200);
	g_assert_cmpstr(result.effective_url, ==, clean);
	assert_no_password(&result);
	result_clear(&result);
	http_engine_free(engine);
}

/* Credentials follow a redirect on the same host, not to another one. */
static void test_auth_redirect_scope(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *same = py_url("/to?url=/basic&status=302");
	g_autofree char *other_path = g_strdup_printf("/to?url=http://localhost:%u/basic&status=302", world.python_port);
	g_autofree char *other = py_url(other_path);
	Result kept = { 0 }, dropped = { 0 };

	fetch_auth(engine, same, TEST_PASSWORD, &kept);
	g_assert_cmpint(kept.status, ==, 200);

	fetch_auth(engine, other, TEST_PASSWORD, &dropped);
	g_assert_cmpint(dropped.status, ==, 401);
	assert_contains(dropped.effective_url, "//localhost:");

	result_clear(&kept);
	result_clear(&dropped);
	http_engine_free(engine);
}

/* ---- methods, bodies, headers ---- */

static void test_propfind(void)
{
	static const char xml[] = "<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><allprop/></propfind>";
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *echo = py_url("/echo");
	g_autofree char *moved = py_url("/to?url=/echo&status=308");
	g_autofree char *see_other = py_url("/to?url=/echo&status=303");
	Result direct = { 0 }, redirected = { 0 }, posted = { 0 }, invalid = { 0 };

	HttpRequest *request = http_request_new("PROPFIND", echo);
	http_request_add_header(request, "Depth", "1");
	http_request_set_body(request, "application/xml; charset=utf-8", xml, strlen(xml));
	fetch(engine, request, &direct);
	g_assert_cmpint(direct.status, ==, 200);
	g_autofree char *expected = g_strdup_printf(
		"method: PROPFIND\n"
		"Content-Type: application/xml; charset=utf-8\n"
		"Depth: 1\n"
		"User-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION "\n"
		"body: %s\n", xml);
	assert_body(&direct, expected);

	/* A moved collection gets the same PROPFIND again. */
	request = http_request_new("PROPFIND", moved);
	http_request_add_header(request, "Depth", "1");
	http_request_set_body(request, "application/xml; charset=utf-8", xml, strlen(xml));
	fetch(engine, request, &redirected);
	assert_body(&redirected, expected);

	/* 303: GET the answer, without the body. */
	request = http_request_new("POST", see_other);
	http_request_set_body(request, "text/plain", "form", 4);
	fetch(engine, request, &posted);
	g_autofree char *got = g_strndup(g_bytes_get_data(posted.body, NULL), g_bytes_get_size(posted.body));
	assert_contains(got, "method: GET\n");
	assert_contains(got, "body: \n");
	assert_lacks(got, "Content-Type");

	/* A header that would split into two never reaches the wire. */
	request = http_request_new("GET", echo);
	http_request_add_header(request, "X-Test", "a\r\nInjected: yes");
	fetch(engine, request, &invalid);
	g_assert_cmpstr(invalid.error, ==, "invalid request header");
	g_assert_cmpint(invalid.status, ==, 0);

	result_clear(&direct);
	result_clear(&redirected);
	result_clear(&posted);
	result_clear(&invalid);
	http_engine_free(engine);
}

/* ---- many at once ---- */

static void test_concurrency(void)
{
	HttpEngine *engine = engine_with(CONCURRENT_PER_HOST, 0, 0, TEST_MAX_REDIRECTS);
	g_autofree char *url = py_url("/conc/10");
	Result *results = g_new0(Result, CONCURRENT_REQUESTS);
	Result reset = { 0 }, stats = { 0 };

	get_py(engine, "/conc-reset", &reset);
	for (guint i = 0; i < CONCURRENT_REQUESTS; i++)
		submit(engine, http_request_new("GET", url), &results[i]);
	g_assert_cmpuint(http_engine_active(engine), ==, CONCURRENT_REQUESTS);
	run_until_done();
	g_assert_cmpuint(http_engine_active(engine), ==, 0);
	for (guint i = 0; i < CONCURRENT_REQUESTS; i++) {
		g_assert_cmpint(results[i].status, ==, 200);
		assert_body(&results[i], "done\n");
		result_clear(&results[i]);
	}

	get_py(engine, "/conc-stats", &stats);
	g_autofree char *text = g_strndup(g_bytes_get_data(stats.body, NULL), g_bytes_get_size(stats.body));
	guint64 most = g_ascii_strtoull(text, NULL, 10);
	g_test_message("server saw at most %" G_GUINT64_FORMAT " connections at once", most);
	g_assert_cmpuint(most, <=, CONCURRENT_PER_HOST);
	g_assert_cmpuint(most, >=, 2);

	g_free(results);
	result_clear(&reset);
	result_clear(&stats);
	http_engine_free(engine);
}

/* ---- streaming ---- */

typedef struct {
	GString *data;
	guint calls;
	gboolean refuse;
	HttpEngine *engine;
	guint64 cancel_id;      /* cancelled from inside the sink */
	Result *submitted;      /* submitted from inside the sink */
	guint64 id;             /* of the transfer, to read its status from inside the sink */
	long status;            /* as read there */
} Sink;

static gboolean on_chunk(const char *data, gsize len, gpointer user_data)
{
	Sink *sink = user_data;

	sink->calls++;
	g_string_append_len(sink->data, data, len);
	if (sink->id)
		sink->status = http_engine_status(sink->engine, sink->id);
	if (sink->cancel_id) {
		g_assert_true(http_engine_cancel(sink->engine, sink->cancel_id));
		g_autofree char *url = py_url("/ok");
		http_engine_submit(sink->engine, http_request_new("GET", url), on_done, sink->submitted);
		sink->cancel_id = 0;
	}
	return !sink->refuse;
}

static void test_sink(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *big = py_url("/big/100000");
	g_autofree char *redirected = py_url("/to?url=/big/50");
	Sink whole = { g_string_new(NULL) }, refusing = { g_string_new(NULL), .refuse = TRUE };
	Sink after = { g_string_new(NULL) };
	Result streamed = { 0 }, refused = { 0 }, moved = { 0 };

	HttpRequest *request = http_request_new("GET", big);
	http_request_set_sink(request, on_chunk, &whole);
	fetch(engine, request, &streamed);
	g_assert_null(streamed.error);
	g_assert_cmpint(streamed.status, ==, 200);
	g_assert_null(streamed.body);
	g_assert_cmpuint(whole.data->len, ==, 100000);
	g_assert_cmpuint(strspn(whole.data->str, "x"), ==, 100000);

	request = http_request_new("GET", big);
	http_request_set_sink(request, on_chunk, &refusing);
	fetch(engine, request, &refused);
	g_assert_cmpstr(refused.error, ==, "aborted by the receiver of the body");
	g_assert_cmpuint(refusing.calls, ==, 1);

	/* Only the final body reaches the sink, not the redirect's; its status
	 * can be read from there. */
	request = http_request_new("GET", redirected);
	http_request_set_sink(request, on_chunk, &after);
	after.engine = engine;
	after.id = submit(engine, request, &moved);
	run_until_done();
	g_assert_true(moved.done);
	g_assert_null(moved.error);
	g_assert_cmpstr(after.data->str, ==, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	g_assert_cmpint(after.status, ==, 200);
	g_assert_cmpint(http_engine_status(engine, after.id), ==, 0);

	/* An error's body streams too, with its status. */
	g_autofree char *forbidden = py_url("/status/403");
	Sink denied = { g_string_new(NULL), .engine = engine };
	Result refused_403 = { 0 };
	request = http_request_new("GET", forbidden);
	http_request_set_sink(request, on_chunk, &denied);
	denied.id = submit(engine, request, &refused_403);
	run_until_done();
	g_assert_cmpint(refused_403.status, ==, 403);
	g_assert_cmpstr(denied.data->str, ==, "status 403\n");
	g_assert_cmpint(denied.status, ==, 403);
	g_string_free(denied.data, TRUE);
	result_clear(&refused_403);

	g_string_free(whole.data, TRUE);
	g_string_free(refusing.data, TRUE);
	g_string_free(after.data, TRUE);
	result_clear(&streamed);
	result_clear(&refused);
	result_clear(&moved);
	http_engine_free(engine);
}

/* ---- cancelling ---- */

static void test_cancel(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/never", world.hang_port);
	g_autofree char *ok = py_url("/ok");
	g_autofree char *big = py_url("/big/100000");
	Result queued = { 0 }, running = { 0 }, other = { 0 }, streaming = { 0 }, from_sink = { 0 };

	/* Cancelled before it ever started. */
	guint64 id = submit(engine, http_request_new("GET", ok), &queued);
	g_assert_true(http_engine_cancel(engine, id));
	g_assert_false(http_engine_cancel(engine, id));
	outstanding--;

	/* Cancelled while curl waits for an answer. */
	id = submit(engine, http_request_new("GET", hang), &running);
	submit(engine, http_request_new("GET", ok), &other);
	outstanding--;
	run_until_done();
	g_assert_true(other.done);
	g_assert_cmpuint(http_engine_active(engine), ==, 1);
	g_assert_true(http_engine_cancel(engine, id));
	g_assert_cmpuint(http_engine_active(engine), ==, 0);
	run_for_ms(100);
	g_assert_false(queued.done);
	g_assert_false(running.done);

	/* Cancelled by its own sink, which also submits another request. */
	Sink sink = { g_string_new(NULL), .engine = engine, .submitted = &from_sink };
	HttpRequest *request = http_request_new("GET", big);
	http_request_set_sink(request, on_chunk, &sink);
	sink.cancel_id = http_engine_submit(engine, request, on_done, &streaming);
	outstanding = 1;        /* the request the sink submits */
	run_until_done();
	g_assert_true(from_sink.done);
	assert_body(&from_sink, "hello world\n");
	g_assert_false(streaming.done);
	g_assert_cmpuint(sink.calls, ==, 1);
	g_assert_cmpuint(http_engine_active(engine), ==, 0);

	g_assert_false(http_engine_cancel(engine, 9999));
	g_string_free(sink.data, TRUE);
	result_clear(&other);
	result_clear(&from_sink);
	http_engine_free(engine);
}

/* Freeing the engine reports what is still under way as cancelled. */
static void test_free_in_flight(void)
{
	HttpLimits limits;
	http_limits_default(&limits);
	limits.max_connections = 1;
	HttpEngine *engine = http_engine_new(&limits);
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/never", world.hang_port);
	Result running = { 0 }, waiting = { 0 };

	submit(engine, http_request_new("GET", hang), &running);
	submit(engine, http_request_new("GET", hang), &waiting);
	run_for_ms(200);
	g_assert_false(running.done);
	http_engine_free(engine);
	outstanding = 0;
	g_assert_true(running.done);
	g_assert_true(waiting.done);
	g_assert_cmpstr(running.error, ==, "cancelled");
	g_assert_cmpstr(waiting.error, ==, "cancelled");
	g_assert_cmpint(running.status, ==, 0);
	g_assert_null(running.body);
	result_clear(&running);
	result_clear(&waiting);
}

typedef struct {
	HttpEngine *engine;
	Result result;
	guint *dones;
} Freeing;

static void on_done_free_engine(const HttpResponse *response, gpointer user_data)
{
	Freeing *freeing = user_data;

	g_assert_false(freeing->result.done);
	freeing->result.done = TRUE;
	freeing->result.error = g_strdup(response->error);
	(*freeing->dones)++;
	if (freeing->engine) {
		http_engine_free(freeing->engine);
		g_main_loop_quit(loop);
	}
}

/* A callback may free the engine; the others still hear about theirs. */
static void test_free_from_callback(void)
{
	HttpEngine *engine = http_engine_new(NULL);
	g_autofree char *ok = py_url("/ok");
	g_autofree char *hang = g_strdup_printf("http://127.0.0.1:%u/never", world.hang_port);
	guint dones = 0;
	Freeing first = { engine, .dones = &dones };
	Freeing second = { NULL, .dones = &dones }, stuck = { NULL, .dones = &dones };

	http_engine_submit(engine, http_request_new("GET", ok), on_done_free_engine, &first);
	http_engine_submit(engine, http_request_new("GET", ok), on_done_free_engine, &second);
	http_engine_submit(engine, http_request_new("GET", hang), on_done_free_engine, &stuck);
	guint watchdog = g_timeout_add_seconds(WATCHDOG_S, on_watchdog, NULL);
	g_main_loop_run(loop);
	g_source_remove(watchdog);
	g_assert_cmpuint(dones, ==, 3);
	g_assert_null(first.result.error);
	g_assert_cmpstr(stuck.result.error, ==, "cancelled");
	run_for_ms(50);
	g_assert_cmpuint(dones, ==, 3);
	g_free(first.result.error);
	g_free(second.result.error);
	g_free(stuck.result.error);
}

/* ---- the servers ---- */

static void die_with_parent(gpointer user_data)
{
	/* A test that aborts must not leave its servers running. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static GSubprocess *spawn(GSubprocessFlags flags, const char *const *argv)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(flags);
	g_autoptr(GError) error = NULL;

	g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
	GSubprocess *process = g_subprocess_launcher_spawnv(launcher, argv, &error);
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
	g_assert_cmpint(bind(fd, (struct sockaddr *) &address, sizeof(address)), ==, 0);
	if (backlog > 0)
		g_assert_cmpint(listen(fd, backlog), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *) &address, &len), ==, 0);
	*port = ntohs(address.sin_port);
	return fd;
}

/* A port nothing listens on (for nginx to take, or to be refused). */
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
	gboolean ok = connect(fd, (struct sockaddr *) &address, sizeof(address)) == 0;
	close(fd);
	return ok;
}

static void start_python(void)
{
	g_autofree char *python = find_program("python3", NULL);
	g_autofree char *script = g_build_filename(SRCDIR, "tests", "servers", "faulty-http.py", NULL);
	const char *argv[] = { python, script, NULL };
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_test(script, G_FILE_TEST_EXISTS));
	world.python = spawn(G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, argv);
	g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(world.python));
	g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	guint64 port = 0;
	g_assert_true(g_ascii_string_to_unsigned(line, 10, 1, G_MAXUINT16, &port, NULL));
	world.python_port = (guint16) port;
}

static void write_file(const char *name, const char *contents, gssize len)
{
	g_autofree char *path = g_build_filename(world.dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, len, &error);
	g_assert_no_error(error);
}

static void make_certificate(void)
{
	g_autofree char *openssl = find_program("openssl", NULL);
	g_autofree char *key = g_build_filename(world.dir, "key.pem", NULL);
	g_autofree char *cert = g_build_filename(world.dir, "cert.pem", NULL);
	const char *argv[] = {
		openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		"-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
		"-keyout", key, "-out", cert, NULL,
	};
	g_autoptr(GError) error = NULL;

	g_autoptr(GSubprocess) process = spawn(G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
	g_subprocess_wait_check(process, NULL, &error);
	g_assert_no_error(error);
}

static void start_nginx(void)
{
	g_autofree char *nginx = find_program("nginx", "/usr/sbin/nginx");
	g_autofree char *www = g_build_filename(world.dir, "www", NULL);
	g_autofree char *conf_path = g_build_filename(world.dir, "nginx.conf", NULL);
	g_autofree char *error_log = g_build_filename(world.dir, "error.log", NULL);

	g_assert_cmpint(g_mkdir(www, 0700), ==, 0);
	world.feed = g_strdup("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>t</title>"
			      "<item><title>入社しました</title></item></channel></rss>\n");
	write_file("www/feed.xml", world.feed, -1);
	write_file("www/cond.xml", world.feed, -1);
	GString *text = g_string_new(NULL);
	for (guint i = 0; text->len < GZIP_TEXT_BYTES; i++)
		g_string_append_printf(text, "line %u of a text that compresses well\n", i);
	g_string_truncate(text, GZIP_TEXT_BYTES);
	write_file("www/text.txt", text->str, text->len);
	g_string_free(text, TRUE);
	g_autofree char *zeros = g_strnfill(GZIP_BOMB_BYTES, '0');
	write_file("www/zeros.txt", zeros, -1);
	make_certificate();

	world.nginx_port = free_port();
	world.nginx_tls_port = free_port();
	g_autofree char *conf = g_strdup_printf(
		"daemon off;\n"
		"master_process off;\n"
		"pid %1$s/nginx.pid;\n"
		"error_log %1$s/error.log;\n"
		"events { worker_connections 256; }\n"
		"http {\n"
		"  log_format ties '$uri $status $body_bytes_sent';\n"
		"  access_log %1$s/access.log ties;\n"
		"  client_body_temp_path %1$s/client_body;\n"
		"  proxy_temp_path %1$s/proxy;\n"
		"  fastcgi_temp_path %1$s/fastcgi;\n"
		"  uwsgi_temp_path %1$s/uwsgi;\n"
		"  scgi_temp_path %1$s/scgi;\n"
		"  types { text/plain txt; application/rss+xml xml; }\n"
		"  gzip on;\n"
		"  gzip_types text/plain;\n"
		"  gzip_min_length 1;\n"
		"  server {\n"
		"    listen 127.0.0.1:%2$u;\n"
		"    listen 127.0.0.1:%3$u ssl;\n"
		"    ssl_certificate %1$s/cert.pem;\n"
		"    ssl_certificate_key %1$s/key.pem;\n"
		"    root %1$s/www;\n"
		"  }\n"
		"}\n",
		world.dir, world.nginx_port, world.nginx_tls_port);
	write_file("nginx.conf", conf, -1);

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

static void world_start(void)
{
	g_autoptr(GError) error = NULL;

	world.dir = g_dir_make_tmp("test-http-XXXXXX", &error);
	g_assert_no_error(error);
	start_python();
	start_nginx();
	world.hang_fd = listen_loopback(&world.hang_port, 64);
	world.refused_port = free_port();
}

static void world_stop(void)
{
	/* The python server leaves when its stdin closes. */
	g_output_stream_close(g_subprocess_get_stdin_pipe(world.python), NULL, NULL);
	g_subprocess_wait(world.python, NULL, NULL);
	g_subprocess_send_signal(world.nginx, SIGTERM);
	g_subprocess_wait(world.nginx, NULL, NULL);
	g_clear_object(&world.python);
	g_clear_object(&world.nginx);
	close(world.hang_fd);
	remove_tree(world.dir);
	g_free(world.dir);
	g_free(world.feed);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	world_start();
	loop = g_main_loop_new(NULL, FALSE);

	g_test_add_func("/http/nginx/ok", test_nginx_ok);
	g_test_add_func("/http/nginx/conditional", test_nginx_conditional);
	g_test_add_func("/http/nginx/gzip", test_nginx_gzip);
	g_test_add_func("/http/nginx/loopback-plain", test_nginx_loopback_plain);
	g_test_add_func("/http/nginx/gzip-bomb", test_nginx_gzip_bomb);
	g_test_add_func("/http/nginx/tls-untrusted", test_tls_untrusted);
	g_test_add_func("/http/redirect/permanent", test_redirect_permanent);
	g_test_add_func("/http/redirect/temporary", test_redirect_temporary);
	g_test_add_func("/http/redirect/limits", test_redirect_limits);
	g_test_add_func("/http/redirect/scheme", test_redirect_scheme);
	g_test_add_func("/http/status-codes", test_status_codes);
	g_test_add_func("/http/retry-after", test_retry_after);
	g_test_add_func("/http/timeout", test_timeout);
	g_test_add_func("/http/truncated", test_truncated);
	g_test_add_func("/http/too-large", test_too_large);
	g_test_add_func("/http/refused", test_refused);
	g_test_add_func("/http/auth/basic", test_auth_basic);
	g_test_add_func("/http/auth/digest", test_auth_digest);
	g_test_add_func("/http/auth/unasked", test_auth_unasked);
	g_test_add_func("/http/auth/in-url", test_auth_in_url);
	g_test_add_func("/http/auth/redirect-scope", test_auth_redirect_scope);
	g_test_add_func("/http/propfind", test_propfind);
	g_test_add_func("/http/concurrency", test_concurrency);
	g_test_add_func("/http/sink", test_sink);
	g_test_add_func("/http/cancel", test_cancel);
	g_test_add_func("/http/free-in-flight", test_free_in_flight);
	g_test_add_func("/http/free-from-callback", test_free_from_callback);

	int status = g_test_run();
	g_main_loop_unref(loop);
	world_stop();
	return status;
}
