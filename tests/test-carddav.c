/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>

#include "carddav.h"
#include "http.h"

/* The tests start Radicale and Xandikos (tests/servers/carddav-server.py)
 * with throw-away storage, fill an address book with N_CARDS generated
 * cards, and sync it through every path of the client: first, no change,
 * changes, a refused token. A missing server is a failure, not a skip. */

#define N_CARDS 200
#define N_OTHER 3
#define SYNC_TIMEOUT_S 60
#define RADICALE_USER "me"
#define RADICALE_PASSWORD "Secret-Pa55-xyzzy"
#define WRONG_PASSWORD "Wr0ng-Pa55-plugh"

typedef struct {
	const char *kind;         /* "radicale" or "xandikos" */
	GSubprocess *process;
	char *dir;
	char *root;               /* http://127.0.0.1:PORT/ */
	char *home;               /* URL of the address book home */
	char *book_url;           /* the main address book */
	char *book_name;          /* its displayname */
	char *other_url;          /* a second, small one */
	char *other_name;
	const char *user, *password;
	GHashTable *tokens;       /* book url -> token, as the source layer keeps them */
	GHashTable *etags;        /* href -> etag */
	GPtrArray *changed;       /* hrefs edited by the last test step */
	char *deleted;            /* href deleted by the last test step */
	gboolean ready;
} Server;

static struct {
	char *dir;
	HttpEngine *engine;
	Server radicale, xandikos;
	GSubprocess *faulty;
	char *faulty_root;
	guint16 refused_port;
} world;

/* ---- Helpers ---- */

static char *find_program(const char *name)
{
	char *path = g_find_program_in_path(name);
	if (!path)
		g_error("%s is not installed; the CardDAV tests need it", name);
	return path;
}

static guint16 free_port(void)
{
	struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(address);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(bind(fd, (struct sockaddr *) &address, sizeof(address)), ==, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *) &address, &len), ==, 0);
	close(fd);
	return ntohs(address.sin_port);
}

/* Starts a helper script that prints its port first and leaves when its
 * stdin closes. */
static GSubprocess *start_script(const char *const *argv, guint16 *port)
{
	g_autoptr(GError) error = NULL;
	GSubprocess *process = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
						 &error);
	g_assert_no_error(error);
	g_autoptr(GDataInputStream) out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(process));
	g_autofree char *line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	if (!line)
		g_error("%s did not start (no port printed)", argv[1]);
	guint64 value = 0;
	g_assert_true(g_ascii_string_to_unsigned(line, 10, 1, G_MAXUINT16, &value, NULL));
	*port = (guint16) value;
	return process;
}

static void stop_script(GSubprocess **process)
{
	if (!*process)
		return;
	g_output_stream_close(g_subprocess_get_stdin_pipe(*process), NULL, NULL);
	g_subprocess_wait(*process, NULL, NULL);
	g_clear_object(process);
}

typedef struct {
	guint pending;
	GMainLoop *loop;
	long *statuses;
} Batch;

typedef struct {
	Batch *batch;
	guint index;
} BatchItem;

static void on_batch_done(const HttpResponse *response, gpointer user_data)
{
	BatchItem *item = user_data;
	item->batch->statuses[item->index] = response->status;
	if (--item->batch->pending == 0)
		g_main_loop_quit(item->batch->loop);
	g_free(item);
}

typedef struct {
	const char *method;
	char *url;         /* owned */
	char *body;        /* owned, may be NULL */
	const char *type;
} Call;

static void call_clear(Call *call)
{
	g_free(call->url);
	g_free(call->body);
}

/* Runs CALLS in parallel on the engine; fills STATUSES. */
static void run_calls(const Server *server, Call *calls, guint n, long *statuses)
{
	Batch batch = { .pending = n, .loop = g_main_loop_new(NULL, FALSE), .statuses = statuses };

	for (guint i = 0; i < n; i++) {
		HttpRequest *request = http_request_new(calls[i].method, calls[i].url);
		if (calls[i].body)
			http_request_set_body(request, calls[i].type, calls[i].body, strlen(calls[i].body));
		if (server && server->user)
			http_request_set_auth(request, server->user, server->password);
		BatchItem *item = g_new0(BatchItem, 1);
		item->batch = &batch;
		item->index = i;
		http_engine_submit(world.engine, request, on_batch_done, item);
	}
	if (n > 0)
		g_main_loop_run(batch.loop);
	g_main_loop_unref(batch.loop);
}

static long call_one(const Server *server, const char *method, const char *url, const char *type, const char *body)
{
	Call call = { .method = method, .url = g_strdup(url), .body = g_strdup(body), .type = type };
	long status = 0;
	run_calls(server, &call, 1, &status);
	call_clear(&call);
	return status;
}

static char *card_text(guint i, const char *org)
{
	/* Every other card Japanese, the others English. */
	if (i % 2 == 0)
		return g_strdup_printf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-%03u\r\nFN:山田 太郎%u\r\n"
				       "N:山田;太郎%u;;;\r\nORG:%s\r\nTITLE:部長\r\nEMAIL:taro%u@example.jp\r\n"
				       "END:VCARD\r\n", i, i, i, org, i);
	return g_strdup_printf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-%03u\r\nFN:John Smith %u\r\n"
			       "N:Smith;John %u;;;\r\nORG:%s\r\nTITLE:Engineer\r\nEMAIL:john%u@example.com\r\n"
			       "END:VCARD\r\n", i, i, i, org, i);
}

static void put_cards(const Server *server, const char *book_url, guint first, guint n, const char *org)
{
	Call *calls = g_new0(Call, n);
	long *statuses = g_new0(long, n);

	for (guint i = 0; i < n; i++) {
		calls[i].method = "PUT";
		calls[i].url = g_strdup_printf("%scard-%03u.vcf", book_url, first + i);
		calls[i].body = card_text(first + i, org);
		calls[i].type = "text/vcard; charset=utf-8";
	}
	run_calls(server, calls, n, statuses);
	for (guint i = 0; i < n; i++) {
		if (statuses[i] != 201 && statuses[i] != 204)
			g_error("PUT %s: %ld", calls[i].url, statuses[i]);
		call_clear(&calls[i]);
	}
	g_free(calls);
	g_free(statuses);
}

static void make_book(const Server *server, const char *url, const char *name)
{
	g_autofree char *body = g_strdup_printf(
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<d:mkcol xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\"><d:set><d:prop>"
		"<d:resourcetype><d:collection/><c:addressbook/></d:resourcetype>"
		"<d:displayname>%s</d:displayname></d:prop></d:set></d:mkcol>\n", name);
	long status = call_one(server, "MKCOL", url, "application/xml; charset=utf-8", body);
	if (status != 201)
		g_error("MKCOL %s: %ld", url, status);
}

static char *url_path(const char *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
	g_assert_nonnull(uri);
	return g_strdup(g_uri_get_path(uri));
}

static char *card_href(const Server *server, guint i)
{
	g_autofree char *path = url_path(server->book_url);
	return g_strdup_printf("%scard-%03u.vcf", path, i);
}

/* ---- Syncing ---- */

typedef struct {
	CarddavResult *result;
	GMainLoop *loop;
	gboolean timed_out;
} Wait;

/* A card handed over by a sync, as the tests keep it. */
typedef struct {
	char *href, *etag, *data;
} TestCard;

static void test_card_free(gpointer data)
{
	TestCard *card = data;
	g_free(card->href);
	g_free(card->etag);
	g_free(card->data);
	g_free(card);
}

/* Book url -> GPtrArray of the TestCard* handed over by the last sync. */
static GHashTable *received;
static GPtrArray *no_cards;

static void on_sync_card(const CarddavBook *book, const CarddavCard *card, gpointer user_data)
{
	GPtrArray *cards = g_hash_table_lookup(received, book->url);
	TestCard *copy = g_new0(TestCard, 1);

	if (!cards) {
		cards = g_ptr_array_new_with_free_func(test_card_free);
		g_hash_table_insert(received, g_strdup(book->url), cards);
	}
	copy->href = g_strdup(card->href);
	copy->etag = g_strdup(card->etag);
	copy->data = g_strdup(card->data);
	g_ptr_array_add(cards, copy);
}

/* The cards BOOK of the last sync's result handed over. */
static GPtrArray *cards_of(const CarddavBook *book)
{
	GPtrArray *cards = g_hash_table_lookup(received, book->url);

	g_assert_cmpuint(cards ? cards->len : 0, ==, book->cards);
	return cards ? cards : no_cards;
}

static void on_sync_done(CarddavResult *result, gpointer user_data)
{
	Wait *wait = user_data;
	g_assert_null(wait->result);
	wait->result = result;
	g_main_loop_quit(wait->loop);
}

static gboolean on_sync_timeout(gpointer user_data)
{
	Wait *wait = user_data;
	wait->timed_out = TRUE;
	g_main_loop_quit(wait->loop);
	return G_SOURCE_REMOVE;
}

static CarddavResult *sync_account(const CarddavAccount *account, GHashTable *tokens, GHashTable *etags,
				   const char *what)
{
	CarddavState state = { .tokens = tokens, .etags = etags };
	Wait wait = { .loop = g_main_loop_new(NULL, FALSE) };
	gint64 start = g_get_monotonic_time();

	g_hash_table_remove_all(received);
	CarddavSync *sync = carddav_sync_start(world.engine, account, &state, on_sync_card, on_sync_done, &wait);
	g_assert_nonnull(sync);
	g_assert_null(wait.result); /* never from inside the call */
	guint timeout = g_timeout_add_seconds(SYNC_TIMEOUT_S, on_sync_timeout, &wait);
	g_main_loop_run(wait.loop);
	g_main_loop_unref(wait.loop);
	if (wait.timed_out)
		g_error("sync %s did not finish in %d s", what, SYNC_TIMEOUT_S);
	g_source_remove(timeout);

	CarddavResult *result = wait.result;
	guint cards = 0;
	for (guint i = 0; result->books && i < result->books->len; i++)
		cards += ((CarddavBook *) g_ptr_array_index(result->books, i))->cards;
	g_printerr("# %-40s %7.3f s, %u requests, %u cards%s%s\n", what,
		   (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC, result->requests, cards,
		   result->error ? ", error: " : "", result->error ? result->error : "");
	return result;
}

static CarddavResult *sync_server(Server *server, const char *url, const char *const *books, gboolean with_state,
				  const char *what)
{
	CarddavAccount account = {
		.url = url, .username = server->user, .password = server->password, .addressbooks = books,
	};
	g_autofree char *label = g_strdup_printf("%s %s", server->kind, what);
	return sync_account(&account, with_state ? server->tokens : NULL, with_state ? server->etags : NULL, label);
}

static CarddavBook *only_book(CarddavResult *result)
{
	g_assert_null(result->error);
	g_assert_nonnull(result->books);
	g_assert_cmpuint(result->books->len, ==, 1);
	return g_ptr_array_index(result->books, 0);
}

static CarddavBook *book_named(CarddavResult *result, const char *name)
{
	for (guint i = 0; i < result->books->len; i++) {
		CarddavBook *book = g_ptr_array_index(result->books, i);
		if (strcmp(book->name, name) == 0)
			return book;
	}
	return NULL;
}

static gboolean has_prefix_path(const char *href, const char *book_url)
{
	g_autofree char *path = url_path(book_url);
	return g_str_has_prefix(href, path);
}

/* What the source layer does with a result: keep tokens and ETags. */
static void apply(Server *server, const CarddavResult *result)
{
	for (guint b = 0; b < result->books->len; b++) {
		const CarddavBook *book = g_ptr_array_index(result->books, b);
		if (book->complete) {
			GHashTableIter iter;
			gpointer href, etag;
			g_autoptr(GHashTable) keep = g_hash_table_new(g_str_hash, g_str_equal);
			for (guint i = 0; i < book->unchanged->len; i++)
				g_hash_table_add(keep, g_ptr_array_index(book->unchanged, i));
			g_hash_table_iter_init(&iter, server->etags);
			while (g_hash_table_iter_next(&iter, &href, &etag))
				if (has_prefix_path(href, book->url) && !g_hash_table_contains(keep, href))
					g_hash_table_iter_remove(&iter);
		}
		for (guint i = 0; i < cards_of(book)->len; i++) {
			const TestCard *card = g_ptr_array_index(cards_of(book), i);
			g_hash_table_insert(server->etags, g_strdup(card->href), g_strdup(card->etag));
		}
		for (guint i = 0; i < book->removed->len; i++)
			g_hash_table_remove(server->etags, g_ptr_array_index(book->removed, i));
		/* A pending token is kept as "", as the source layer does. */
		if (book->sync_token || book->token_pending)
			g_hash_table_insert(server->tokens, g_strdup(book->url),
					    g_strdup(book->sync_token ? book->sync_token : ""));
		else
			g_hash_table_remove(server->tokens, book->url);
	}
}

static const TestCard *find_card(const CarddavBook *book, const char *href)
{
	for (guint i = 0; i < cards_of(book)->len; i++) {
		const TestCard *card = g_ptr_array_index(cards_of(book), i);
		if (strcmp(card->href, href) == 0)
			return card;
	}
	return NULL;
}

static gboolean contains_str(GPtrArray *array, const char *value)
{
	for (guint i = 0; i < array->len; i++)
		if (strcmp(g_ptr_array_index(array, i), value) == 0)
			return TRUE;
	return FALSE;
}

/* Edits cards FIRST .. FIRST+N-1 on the server (a new ORG). */
static void edit_cards(Server *server, guint first, guint n, const char *org)
{
	put_cards(server, server->book_url, first, n, org);
	g_ptr_array_set_size(server->changed, 0);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(server->changed, card_href(server, first + i));
}

/* ---- World ---- */

static void server_start(Server *server)
{
	g_autofree char *python = find_program("python3");
	g_autofree char *script = g_build_filename(SRCDIR, "tests", "servers", "carddav-server.py", NULL);
	g_autofree char *program = find_program(server->kind);
	server->dir = g_build_filename(world.dir, server->kind, NULL);
	const char *argv[] = { python, script, server->kind, server->dir, RADICALE_USER, RADICALE_PASSWORD, NULL };
	guint16 port = 0;

	server->process = start_script(argv, &port);
	server->root = g_strdup_printf("http://127.0.0.1:%u/", port);
	server->tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	server->etags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	server->changed = g_ptr_array_new_with_free_func(g_free);

	if (strcmp(server->kind, "radicale") == 0) {
		server->user = RADICALE_USER;
		server->password = RADICALE_PASSWORD;
		server->home = g_strdup_printf("%s%s/", server->root, RADICALE_USER);
		server->book_url = g_strdup_printf("%scontacts/", server->home);
		server->book_name = g_strdup("Contacts");
		server->other_url = g_strdup_printf("%sother/", server->home);
		server->other_name = g_strdup("Other people");
		make_book(server, server->book_url, server->book_name);
	} else {
		/* --defaults made /user/contacts/addressbook/. */
		server->home = g_strdup_printf("%suser/contacts/", server->root);
		server->book_url = g_strdup_printf("%saddressbook/", server->home);
		server->book_name = g_strdup("addressbook");
		server->other_url = g_strdup_printf("%sother/", server->home);
		server->other_name = g_strdup("Other people");
	}
	make_book(server, server->other_url, server->other_name);

	gint64 start = g_get_monotonic_time();
	put_cards(server, server->book_url, 0, N_CARDS, "Acme");
	put_cards(server, server->other_url, 1000, N_OTHER, "Other Inc.");
	g_printerr("# %s: %u cards loaded in %.1f s\n", server->kind, N_CARDS + N_OTHER,
		   (double) (g_get_monotonic_time() - start) / G_USEC_PER_SEC);
	server->ready = TRUE;
}

static void server_stop(Server *server)
{
	stop_script(&server->process);
	g_free(server->dir);
	g_free(server->root);
	g_free(server->home);
	g_free(server->book_url);
	g_free(server->book_name);
	g_free(server->other_url);
	g_free(server->other_name);
	g_free(server->deleted);
	if (server->tokens)
		g_hash_table_unref(server->tokens);
	if (server->etags)
		g_hash_table_unref(server->etags);
	if (server->changed)
		g_ptr_array_unref(server->changed);
}

static void remove_tree(const char *path)
{
	g_autofree char *rm = find_program("rm");
	const char *argv[] = { rm, "-rf", path, NULL };
	g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void world_start(void)
{
	g_autoptr(GError) error = NULL;
	world.dir = g_dir_make_tmp("test-carddav-XXXXXX", &error);
	g_assert_no_error(error);
	world.engine = http_engine_new(NULL);
	g_assert_nonnull(world.engine);

	g_autofree char *python = find_program("python3");
	g_autofree char *faulty = g_build_filename(SRCDIR, "tests", "servers", "carddav-faulty.py", NULL);
	const char *argv[] = { python, faulty, NULL };
	guint16 port = 0;
	world.faulty = start_script(argv, &port);
	world.faulty_root = g_strdup_printf("http://127.0.0.1:%u/", port);
	world.refused_port = free_port();

	world.radicale.kind = "radicale";
	world.xandikos.kind = "xandikos";
	server_start(&world.radicale);
	server_start(&world.xandikos);
}

static void world_stop(void)
{
	server_stop(&world.radicale);
	server_stop(&world.xandikos);
	stop_script(&world.faulty);
	g_free(world.faulty_root);
	http_engine_free(world.engine);
	remove_tree(world.dir);
	g_free(world.dir);
}

/* ---- Tests against the real servers ---- */

static void test_discovery(gconstpointer data)
{
	Server *server = (Server *) data;
	g_assert_true(server->ready);

	/* From the server's root: every address book of the user. */
	CarddavResult *result = sync_server(server, server->root, NULL, FALSE, "discovery, all books");
	g_assert_null(result->error);
	g_assert_cmpuint(result->books->len, ==, 2);
	CarddavBook *book = book_named(result, server->book_name);
	g_assert_nonnull(book);
	g_assert_cmpstr(book->url, ==, server->book_url);
	g_assert_cmpuint(cards_of(book)->len, ==, N_CARDS);
	CarddavBook *other = book_named(result, server->other_name);
	g_assert_nonnull(other);
	g_assert_cmpstr(other->url, ==, server->other_url);
	g_assert_cmpuint(cards_of(other)->len, ==, N_OTHER);
	carddav_result_free(result);

	/* The filter, by displayname and by last path segment. */
	const char *by_name[] = { server->other_name, NULL };
	result = sync_server(server, server->root, by_name, FALSE, "discovery, by name");
	book = only_book(result);
	g_assert_cmpstr(book->url, ==, server->other_url);
	g_assert_cmpuint(cards_of(book)->len, ==, N_OTHER);
	/* The root, the principal (Radicale's lists its books: it is its own
	 * home; Xandikos' home is a request more), the query. */
	g_assert_cmpuint(result->requests, ==, strcmp(server->kind, "radicale") == 0 ? 3 : 4);
	g_assert_nonnull(strstr(((TestCard *) g_ptr_array_index(cards_of(book), 0))->data, "Other Inc."));
	carddav_result_free(result);

	const char *by_segment[] = { "other", NULL };
	result = sync_server(server, server->root, by_segment, FALSE, "discovery, by segment");
	book = only_book(result);
	g_assert_cmpstr(book->url, ==, server->other_url);
	carddav_result_free(result);

	const char *missing[] = { "no-such-book", NULL };
	result = sync_server(server, server->root, missing, FALSE, "discovery, unknown name");
	g_assert_nonnull(result->error);
	g_assert_nonnull(strstr(result->error, "no-such-book"));
	g_assert_cmpuint(result->books->len, ==, 0);
	carddav_result_free(result);

	/* The home, and an address book's own URL (read whatever the filter). */
	result = sync_server(server, server->home, by_segment, FALSE, "discovery from the home");
	book = only_book(result);
	g_assert_cmpstr(book->url, ==, server->other_url);
	carddav_result_free(result);

	result = sync_server(server, server->other_url, missing, FALSE, "address book URL");
	book = only_book(result);
	g_assert_cmpstr(book->url, ==, server->other_url);
	g_assert_cmpuint(cards_of(book)->len, ==, N_OTHER);
	g_assert_cmpuint(result->requests, ==, 2);
	carddav_result_free(result);
}

static void test_first_sync(gconstpointer data)
{
	Server *server = (Server *) data;
	g_assert_true(server->ready);

	/* Both books, without their sync-tokens (Radicale reads a whole book
	 * to compute one): those are left to the next sync. */
	CarddavResult *result = sync_server(server, server->root, NULL, TRUE, "first sync");
	g_assert_null(result->error);
	g_assert_cmpuint(result->books->len, ==, 2);
	CarddavBook *book = book_named(result, server->book_name);
	g_assert_nonnull(book);
	g_assert_cmpstr(book->url, ==, server->book_url);
	g_assert_cmpstr(book->name, ==, server->book_name);
	g_assert_true(book->complete);
	g_assert_null(book->sync_token);
	g_assert_true(book->token_pending);
	g_assert_cmpuint(cards_of(book)->len, ==, N_CARDS);
	g_assert_cmpuint(book->unchanged->len, ==, 0);
	g_assert_cmpuint(book->removed->len, ==, 0);
	/* Probe, principal, home, one addressbook-query per book. */
	g_assert_cmpuint(result->requests, <=, 5);
	CarddavBook *other = book_named(result, server->other_name);
	g_assert_nonnull(other);
	g_assert_true(other->complete);
	g_assert_null(other->sync_token);
	g_assert_true(other->token_pending);
	g_assert_cmpuint(cards_of(other)->len, ==, N_OTHER);

	g_autoptr(GHashTable) hrefs = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < cards_of(book)->len; i++) {
		const TestCard *card = g_ptr_array_index(cards_of(book), i);
		g_assert_true(has_prefix_path(card->href, server->book_url));
		g_assert_nonnull(card->etag);
		g_assert_cmpstr(card->etag, !=, "");
		g_assert_true(g_str_has_prefix(card->data, "BEGIN:VCARD"));
		g_assert_true(g_hash_table_add(hrefs, card->href));
	}
	g_autofree char *href = card_href(server, 42);
	const TestCard *card = find_card(book, href);
	g_assert_nonnull(card);
	g_assert_nonnull(strstr(card->data, "FN:山田 太郎42"));
	g_autofree char *href2 = card_href(server, 43);
	card = find_card(book, href2);
	g_assert_nonnull(card);
	g_assert_nonnull(strstr(card->data, "FN:John Smith 43"));

	apply(server, result);
	g_assert_cmpuint(g_hash_table_size(server->etags), ==, N_CARDS + N_OTHER);
	g_assert_cmpuint(g_hash_table_size(server->tokens), ==, 2);
	carddav_result_free(result);

	/* The sync right after: the home listing brings the tokens, the ETags
	 * listed after them show that nothing changed in between. */
	result = sync_server(server, server->root, NULL, TRUE, "first sync, the tokens");
	g_assert_null(result->error);
	g_assert_cmpuint(result->books->len, ==, 2);
	for (guint i = 0; i < result->books->len; i++) {
		book = g_ptr_array_index(result->books, i);
		g_assert_true(book->complete);
		g_assert_false(book->token_pending);
		g_assert_nonnull(book->sync_token);
		g_assert_cmpuint(cards_of(book)->len, ==, 0);
		g_assert_cmpuint(book->unchanged->len, ==, strcmp(book->url, server->book_url) == 0 ? N_CARDS : N_OTHER);
	}
	g_assert_cmpuint(result->requests, ==, 3);
	apply(server, result);
	carddav_result_free(result);
}

static void test_no_change(gconstpointer data)
{
	Server *server = (Server *) data;
	const char *books[] = { server->book_name, NULL };
	g_assert_true(server->ready);
	g_autofree char *token = g_strdup(g_hash_table_lookup(server->tokens, server->book_url));
	g_assert_nonnull(token);

	/* Every book: one listing of the home (guessed from the books known)
	 * shows that no sync-token has moved. */
	CarddavResult *result = sync_server(server, server->root, NULL, TRUE, "no-change sync, all books");
	g_assert_null(result->error);
	g_assert_cmpuint(result->books->len, ==, 2);
	for (guint i = 0; i < result->books->len; i++) {
		CarddavBook *book = g_ptr_array_index(result->books, i);
		g_assert_false(book->complete);
		g_assert_cmpuint(cards_of(book)->len, ==, 0);
		g_assert_cmpuint(book->removed->len, ==, 0);
		g_assert_cmpstr(book->sync_token, ==, g_hash_table_lookup(server->tokens, book->url));
	}
	g_assert_cmpuint(result->requests, ==, 1);
	carddav_result_free(result);

	/* An address book's own URL: its sync-token is all it takes. */
	result = sync_server(server, server->other_url, NULL, TRUE, "no-change sync, book URL");
	CarddavBook *other = only_book(result);
	g_assert_false(other->complete);
	g_assert_cmpuint(cards_of(other)->len, ==, 0);
	g_assert_cmpuint(result->requests, ==, 1);
	carddav_result_free(result);

	/* One book named: the home listed without sync-tokens (Radicale reads
	 * every book to compute one), then a sync-collection. */
	result = sync_server(server, server->root, books, TRUE, "no-change sync");
	CarddavBook *book = only_book(result);
	g_assert_false(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, 0);
	g_assert_cmpuint(book->removed->len, ==, 0);
	g_assert_cmpstr(book->sync_token, ==, token);
	g_assert_cmpuint(result->requests, <=, 2);
	apply(server, result);
	carddav_result_free(result);
}

static void test_changes(gconstpointer data)
{
	Server *server = (Server *) data;
	const char *books[] = { server->book_name, NULL };
	g_assert_true(server->ready);

	edit_cards(server, 10, 3, "New Corp 株式会社");
	g_free(server->deleted);
	server->deleted = card_href(server, 20);
	g_autofree char *deleted_url = g_strdup_printf("%scard-%03u.vcf", server->book_url, 20);
	long status = call_one(server, "DELETE", deleted_url, NULL, NULL);
	g_assert_true(status == 200 || status == 204);

	CarddavResult *result = sync_server(server, server->root, books, TRUE, "sync after 3 edits, 1 delete");
	CarddavBook *book = only_book(result);
	g_assert_false(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, 3);
	for (guint i = 0; i < server->changed->len; i++) {
		const TestCard *card = find_card(book, g_ptr_array_index(server->changed, i));
		g_assert_nonnull(card);
		g_assert_nonnull(strstr(card->data, "ORG:New Corp 株式会社"));
		g_assert_cmpstr(card->etag, !=, g_hash_table_lookup(server->etags, card->href));
	}
	g_assert_cmpuint(book->removed->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(book->removed, 0), ==, server->deleted);
	g_assert_nonnull(book->sync_token);
	g_assert_cmpstr(book->sync_token, !=, g_hash_table_lookup(server->tokens, server->book_url));
	/* Home, sync-collection, and for Xandikos one multiget. */
	g_assert_cmpuint(result->requests, <=, 3);
	apply(server, result);
	g_assert_cmpuint(g_hash_table_size(server->etags), ==, N_CARDS + N_OTHER - 1);
	carddav_result_free(result);

	/* Nothing since. */
	result = sync_server(server, server->root, books, TRUE, "no-change sync after changes");
	book = only_book(result);
	g_assert_cmpuint(cards_of(book)->len, ==, 0);
	g_assert_cmpuint(book->removed->len, ==, 0);
	carddav_result_free(result);
}

static void test_many_changes(gconstpointer data)
{
	Server *server = (Server *) data;
	const char *books[] = { server->book_name, NULL };
	g_assert_true(server->ready);

	/* More than a multiget should carry: Xandikos' cards come through one
	 * addressbook-query instead. */
	edit_cards(server, 100, 30, "Bulk Ltd.");
	CarddavResult *result = sync_server(server, server->root, books, TRUE, "sync after 30 edits");
	CarddavBook *book = only_book(result);
	g_assert_false(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, 30);
	for (guint i = 0; i < server->changed->len; i++) {
		const TestCard *card = find_card(book, g_ptr_array_index(server->changed, i));
		g_assert_nonnull(card);
		g_assert_nonnull(strstr(card->data, "ORG:Bulk Ltd."));
	}
	g_assert_cmpuint(book->removed->len, ==, 0);
	/* Home, sync-collection, and for Xandikos one addressbook-query. */
	g_assert_cmpuint(result->requests, <=, 3);
	apply(server, result);
	carddav_result_free(result);
}

static void test_fallback(gconstpointer data)
{
	Server *server = (Server *) data;
	const char *books[] = { server->book_name, NULL };
	g_assert_true(server->ready);

	edit_cards(server, 30, 2, "Fallback KK");
	/* A token the server never gave (Radicale: 403 valid-sync-token;
	 * Xandikos: 500): the full path, fetching only what changed. */
	g_hash_table_insert(server->tokens, g_strdup(server->book_url), g_strdup("bogus-token-0"));
	CarddavResult *result = sync_server(server, server->root, books, TRUE, "bogus token, ETags known");
	CarddavBook *book = only_book(result);
	g_assert_true(book->complete);
	g_assert_nonnull(book->sync_token);
	g_assert_cmpstr(book->sync_token, !=, "bogus-token-0");
	g_assert_cmpuint(cards_of(book)->len, ==, 2);
	for (guint i = 0; i < server->changed->len; i++) {
		const TestCard *card = find_card(book, g_ptr_array_index(server->changed, i));
		g_assert_nonnull(card);
		g_assert_nonnull(strstr(card->data, "ORG:Fallback KK"));
	}
	g_assert_cmpuint(book->unchanged->len, ==, N_CARDS - 1 - 2);
	g_assert_false(contains_str(book->unchanged, server->deleted));
	g_assert_cmpuint(book->removed->len, ==, 0);
	/* Home, the refused sync-collection, sync-token, ETags, one multiget. */
	g_assert_cmpuint(result->requests, <=, 5);
	apply(server, result);
	carddav_result_free(result);

	/* The new token works. */
	result = sync_server(server, server->root, books, TRUE, "no-change sync after fallback");
	book = only_book(result);
	g_assert_false(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, 0);
	carddav_result_free(result);

	/* Refused again with more changes than a multiget should carry: the
	 * ETag listing is followed by one addressbook-query with the data. */
	edit_cards(server, 150, 25, "Fallback Bulk");
	g_hash_table_insert(server->tokens, g_strdup(server->book_url), g_strdup("bogus-token-2"));
	result = sync_server(server, server->root, books, TRUE, "bogus token, 25 changed");
	book = only_book(result);
	g_assert_true(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, 25);
	for (guint i = 0; i < server->changed->len; i++) {
		const TestCard *card = find_card(book, g_ptr_array_index(server->changed, i));
		g_assert_nonnull(card);
		g_assert_nonnull(strstr(card->data, "ORG:Fallback Bulk"));
	}
	g_assert_cmpuint(book->unchanged->len, ==, N_CARDS - 1 - 25);
	g_assert_cmpuint(result->requests, <=, 5);
	apply(server, result);
	carddav_result_free(result);

	/* Token refused and nothing known: every card with its data. */
	g_autoptr(GHashTable) tokens = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_insert(tokens, server->book_url, (gpointer) "bogus-token-1");
	CarddavAccount account = {
		.url = server->root, .username = server->user, .password = server->password, .addressbooks = books,
	};
	g_autofree char *label = g_strdup_printf("%s bogus token, no ETags", server->kind);
	result = sync_account(&account, tokens, NULL, label);
	book = only_book(result);
	g_assert_true(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, N_CARDS - 1);
	g_assert_cmpuint(book->unchanged->len, ==, 0);
	carddav_result_free(result);
}

static void test_stale_state(gconstpointer data)
{
	Server *server = (Server *) data;
	g_assert_true(server->ready);

	/* Tokens of books that are not where they were: discovery after all. */
	g_autoptr(GHashTable) tokens = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *elsewhere = g_strdup_printf("%selsewhere/book/", server->root);
	g_hash_table_insert(tokens, elsewhere, (gpointer) "old-token");
	CarddavAccount account = { .url = server->root, .username = server->user, .password = server->password };
	g_autofree char *label = g_strdup_printf("%s books moved away", server->kind);
	CarddavResult *result = sync_account(&account, tokens, NULL, label);
	g_assert_null(result->error);
	g_assert_cmpuint(result->books->len, ==, 2);
	CarddavBook *book = book_named(result, server->book_name);
	g_assert_nonnull(book);
	g_assert_true(book->complete);
	g_assert_cmpuint(cards_of(book)->len, ==, N_CARDS - 1);
	carddav_result_free(result);

	/* A known book's home that lost the book named: discovery, then the
	 * error. */
	g_hash_table_remove_all(tokens);
	g_hash_table_insert(tokens, server->book_url, (gpointer) "old-token");
	const char *missing[] = { "no-such-book", NULL };
	account.addressbooks = missing;
	g_free(label);
	label = g_strdup_printf("%s named book gone", server->kind);
	result = sync_account(&account, tokens, NULL, label);
	g_assert_nonnull(result->error);
	g_assert_nonnull(strstr(result->error, "no-such-book"));
	carddav_result_free(result);
}

static void test_wrong_password(void)
{
	Server *server = &world.radicale;
	g_assert_true(server->ready);
	CarddavAccount account = { .url = server->root, .username = RADICALE_USER, .password = WRONG_PASSWORD };

	CarddavResult *result = sync_account(&account, NULL, NULL, "radicale wrong password");
	g_assert_nonnull(result->error);
	g_assert_cmpint(result->status, ==, 401);
	g_assert_nonnull(strstr(result->error, "401"));
	g_assert_nonnull(strstr(result->error, "authentication"));
	g_assert_nonnull(strstr(result->error, RADICALE_USER));
	g_assert_null(strstr(result->error, WRONG_PASSWORD));
	g_assert_cmpuint(result->books->len, ==, 0);
	carddav_result_free(result);

	/* No credentials at all. */
	CarddavAccount anonymous = { .url = server->root };
	result = sync_account(&anonymous, NULL, NULL, "radicale no credentials");
	g_assert_nonnull(result->error);
	g_assert_cmpint(result->status, ==, 401);
	carddav_result_free(result);

	/* Credentials in the URL are used, and never shown. */
	g_autofree char *url = g_strdup_printf("http://%s:%s@%s", RADICALE_USER, WRONG_PASSWORD,
					       server->root + strlen("http://"));
	CarddavAccount in_url = { .url = url };
	result = sync_account(&in_url, NULL, NULL, "radicale password in URL");
	g_assert_nonnull(result->error);
	g_assert_cmpint(result->status, ==, 401);
	g_assert_null(strstr(result->error, WRONG_PASSWORD));
	carddav_result_free(result);

	g_autofree char *good = g_strdup_printf("http://%s:%s@%s", RADICALE_USER, RADICALE_PASSWORD,
						server->root + strlen("http://"));
	const char *books[] = { "other", NULL };
	CarddavAccount good_url = { .url = good, .addressbooks = books };
	result = sync_account(&good_url, NULL, NULL, "radicale good password in URL");
	CarddavBook *book = only_book(result);
	g_assert_null(strstr(book->url, RADICALE_PASSWORD));
	g_assert_cmpuint(cards_of(book)->len, ==, N_OTHER);
	carddav_result_free(result);
}

/* ---- Faults ---- */

static CarddavResult *sync_url(const char *url, const char *what)
{
	CarddavAccount account = { .url = url };
	return sync_account(&account, NULL, NULL, what);
}

static void test_down(void)
{
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/", world.refused_port);
	CarddavResult *result = sync_url(url, "server down");
	g_assert_nonnull(result->error);
	g_assert_cmpint(result->status, ==, 0);
	g_assert_nonnull(strstr(result->error, url));
	g_assert_cmpuint(result->requests, ==, 1);
	carddav_result_free(result);

	result = sync_url("ftp://127.0.0.1/", "not http");
	g_assert_nonnull(result->error);
	carddav_result_free(result);

	result = sync_url("http://user:hunter2@[::1", "invalid URL");
	g_assert_nonnull(result->error);
	g_assert_null(strstr(result->error, "hunter2"));
	carddav_result_free(result);
}

static void expect_error(const char *fault, const char *needle)
{
	g_autofree char *url = g_strdup_printf("%s%s/", world.faulty_root, fault);
	CarddavResult *result = sync_url(url, fault);
	g_assert_nonnull(result->error);
	if (needle && !strstr(result->error, needle))
		g_error("%s: \"%s\" does not mention \"%s\"", fault, result->error, needle);
	g_assert_cmpuint(result->books->len, ==, 0);
	carddav_result_free(result);
}

static void test_faults(void)
{
	expect_error("malformed", "malformed multistatus");
	expect_error("truncated", "whole body");
	expect_error("entity", "document type");
	expect_error("notxml", "no DAV:multistatus");
	expect_error("status500", "server error 500");
	expect_error("nothing-here", "PROPFIND answered 404");
	expect_error("book-malformed", "malformed multistatus");
	expect_error("book-truncated", "whole body");
	expect_error("book-bigcard", "a card larger than");
	expect_error("book-deep", "nested deeper");
	expect_error("book-nodata", "no address-data");
	expect_error("book-500", "server error 500");

	/* The healthy one, for contrast. */
	g_autofree char *url = g_strdup_printf("%sbook-good/", world.faulty_root);
	CarddavResult *result = sync_url(url, "book-good");
	CarddavBook *book = only_book(result);
	g_assert_cmpuint(cards_of(book)->len, ==, 3);
	g_assert_null(book->sync_token);
	g_assert_true(book->token_pending);
	g_assert_cmpstr(book->name, ==, "Faulty");

	/* The book known, its token pending: a PROPFIND reads it, then the
	 * ETags are compared. */
	g_autoptr(GHashTable) tokens = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) etags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(tokens, book->url, (gpointer) "");
	for (guint i = 0; i < cards_of(book)->len; i++) {
		const TestCard *card = g_ptr_array_index(cards_of(book), i);
		g_hash_table_insert(etags, g_strdup(card->href), g_strdup(card->etag));
	}
	CarddavAccount account = { .url = url };
	CarddavResult *again = sync_account(&account, tokens, etags, "book-good, its token");
	book = only_book(again);
	g_assert_cmpstr(book->sync_token, ==, "t1");
	g_assert_false(book->token_pending);
	g_assert_cmpuint(book->unchanged->len, ==, 3);
	g_assert_cmpuint(again->requests, ==, 2);
	carddav_result_free(again);
	carddav_result_free(result);
}

static void on_never(CarddavResult *result, gpointer user_data)
{
	g_error("DONE ran after cancel");
}

static void on_card_quit(const CarddavBook *book, const CarddavCard *card, gpointer user_data)
{
	g_main_loop_quit(user_data);
}

static gboolean quit_loop(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

static void test_cancel(void)
{
	CarddavAccount account = { .url = world.radicale.root, .username = RADICALE_USER, .password = RADICALE_PASSWORD };

	/* Cancelled at once, and in the middle of a sync. */
	CarddavSync *sync = carddav_sync_start(world.engine, &account, NULL, on_sync_card, on_never, NULL);
	carddav_sync_cancel(sync);
	CarddavAccount bad = { .url = "ftp://x/" };
	sync = carddav_sync_start(world.engine, &bad, NULL, on_sync_card, on_never, NULL);
	carddav_sync_cancel(sync);

	/* In the middle: once cards have come (the sync is not over yet then,
	 * its DONE runs from the main loop). */
	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	sync = carddav_sync_start(world.engine, &account, NULL, on_card_quit, on_never, loop);
	g_main_loop_run(loop);
	carddav_sync_cancel(sync);
	g_timeout_add(100, quit_loop, loop);
	g_main_loop_run(loop);
	g_main_loop_unref(loop);

	/* The engine goes first: DONE runs with "cancelled". */
	HttpEngine *engine = http_engine_new(NULL);
	Wait wait = { .loop = NULL };
	carddav_sync_start(engine, &account, NULL, on_sync_card, on_sync_done, &wait);
	wait.loop = g_main_loop_new(NULL, FALSE);
	http_engine_free(engine);
	g_assert_nonnull(wait.result);
	g_assert_cmpstr(wait.result->error, ==, "cancelled");
	carddav_result_free(wait.result);
	g_main_loop_unref(wait.loop);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	received = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
	no_cards = g_ptr_array_new();
	world_start();

	Server *servers[] = { &world.radicale, &world.xandikos };
	for (guint i = 0; i < G_N_ELEMENTS(servers); i++) {
		Server *server = servers[i];
		g_autofree char *prefix = g_strdup_printf("/carddav/%s", server->kind);
		g_autofree char *discovery = g_strconcat(prefix, "/discovery", NULL);
		g_autofree char *first = g_strconcat(prefix, "/first-sync", NULL);
		g_autofree char *none = g_strconcat(prefix, "/no-change", NULL);
		g_autofree char *changes = g_strconcat(prefix, "/changes", NULL);
		g_autofree char *many = g_strconcat(prefix, "/many-changes", NULL);
		g_autofree char *fallback = g_strconcat(prefix, "/fallback", NULL);
		g_autofree char *stale = g_strconcat(prefix, "/stale-state", NULL);
		g_test_add_data_func(discovery, server, test_discovery);
		g_test_add_data_func(first, server, test_first_sync);
		g_test_add_data_func(none, server, test_no_change);
		g_test_add_data_func(changes, server, test_changes);
		g_test_add_data_func(many, server, test_many_changes);
		g_test_add_data_func(fallback, server, test_fallback);
		g_test_add_data_func(stale, server, test_stale_state);
	}
	g_test_add_func("/carddav/radicale/wrong-password", test_wrong_password);
	g_test_add_func("/carddav/faults/down", test_down);
	g_test_add_func("/carddav/faults/server", test_faults);
	g_test_add_func("/carddav/cancel", test_cancel);

	int status = g_test_run();
	world_stop();
	g_hash_table_unref(received);
	g_ptr_array_unref(no_cards);
	return status;
}
