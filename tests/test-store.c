/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "log.h"
#include "normalize.h"
#include "store.h"

#define T0 G_GINT64_CONSTANT(1700000000)
#define DAY G_GINT64_CONSTANT(86400)

/* ---- helpers ---- */

static void remove_tree(const char *path)
{
	if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const char *name;
		while (dir && (name = g_dir_read_name(dir))) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			remove_tree(child);
		}
		g_assert_cmpint(g_rmdir(path), ==, 0);
	} else {
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
}

typedef struct {
	char *dir;
	char *path; /* DIR/data/ties/ties.db: the folders do not exist yet */
	Store *store;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("test-store-XXXXXX", &error);
	g_assert_no_error(error);
	f->path = g_build_filename(f->dir, "data", "ties", "ties.db", NULL);
}

/* Same, with the store open. */
static void fixture_setup_open(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	fixture_setup(f, data);
	f->store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->store);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	g_clear_pointer(&f->store, store_close);
	remove_tree(f->dir);
	g_free(f->dir);
	g_free(f->path);
}

/* Raw SQL through a connection of our own: for what the store's API cannot
 * do (an old schema, a newer version number). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *message = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &message) != SQLITE_OK)
		g_error("%s: %s", sql, message);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
}

static char *raw_query_text(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	char *text = NULL;

	g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		text = g_strdup((const char *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
	return text;
}

static SourceRecord *make_record(const char *key, const char *name, const char *uid, const char *email,
				 const char *org, const char *title)
{
	SourceRecord *record = source_record_new();
	record->key = g_strdup(key);
	record->name = g_strdup(name);
	record->uid = g_strdup(uid);
	record->org = g_strdup(org);
	record->title = g_strdup(title);
	json_object_set_string_member(record->fields, "fn", name);
	if (uid)
		json_object_set_string_member(record->fields, "uid", uid);
	JsonArray *emails = json_array_new();
	if (email) {
		g_ptr_array_add(record->emails, g_strdup(email));
		json_array_add_string_element(emails, email);
	}
	json_object_set_array_member(record->fields, "emails", emails);
	if (org)
		json_object_set_string_member(record->fields, "org", org);
	else
		json_object_set_null_member(record->fields, "org");
	if (title)
		json_object_set_string_member(record->fields, "title", title);
	return record;
}

static GPtrArray *records_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)source_record_free);
}

static gint64 ensure_source(Store *store, const char *name, const char *type)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0;
	g_assert_true(store_source_ensure(store, name, type, &id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

/* A whole address book: RECORDS are all there is. */
static gboolean sync_all(Store *store, gint64 source_id, GPtrArray *records, gint64 now, const SyncPolicy *policy,
			 SyncOutcome *outcome, GError **error)
{
	SyncBatch batch = { .records = records, .complete = TRUE };
	return store_sync_records(store, source_id, &batch, now, policy, outcome, error);
}

/* Syncs RECORDS with no hold policy; OUTCOME is left for the caller to read
 * and clear. */
static void sync_ok(Store *store, gint64 source_id, GPtrArray *records, gint64 now, SyncOutcome *outcome)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(sync_all(store, source_id, records, now, NULL, outcome, &error));
	g_assert_no_error(error);
	g_assert_false(outcome->held);
	g_assert_nonnull(outcome->changes);
}

static void assert_counts(const SyncCounts *counts, guint added, guint updated, guint gone, guint unchanged)
{
	g_assert_cmpuint(counts->added, ==, added);
	g_assert_cmpuint(counts->updated, ==, updated);
	g_assert_cmpuint(counts->gone, ==, gone);
	g_assert_cmpuint(counts->unchanged, ==, unchanged);
}

static gint64 contact_by_email(Store *store, const char *email)
{
	g_autofree char *key = normalize_email(email);
	return store_contact_by_identifier(store, "email", key);
}

/* A contact made by syncing one record into a source of its own, so that
 * the contacts made before stay present. */
static gint64 make_contact(Store *store, const char *key, const char *name, const char *email)
{
	g_autofree char *source_name = g_strconcat("src-", key, NULL);
	gint64 source_id = ensure_source(store, source_name, "vcard");
	g_autoptr(GPtrArray) records = records_new();
	SyncOutcome outcome;

	g_ptr_array_add(records, make_record(key, name, NULL, email, NULL, NULL));
	sync_ok(store, source_id, records, T0, &outcome);
	g_assert_cmpuint(outcome.counts.added, ==, 1);
	sync_outcome_clear(&outcome);
	gint64 id = contact_by_email(store, email);
	g_assert_cmpint(id, >, 0);
	return id;
}

static gint64 add_event(Store *store, gint64 contact_id, const char *kind, gint64 at, const char *key)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0;
	gboolean created = FALSE;
	g_assert_true(store_event_add(store, contact_id, kind, at, key, NULL, &id, &created, &error));
	g_assert_no_error(error);
	g_assert_true(created);
	g_assert_cmpint(id, >, 0);
	return id;
}

static gint64 add_nudge(Store *store, gint64 event_id, gint64 contact_id, gint64 now)
{
	g_autoptr(GError) error = NULL;
	gint64 id = 0;
	g_assert_true(store_nudge_add(store, event_id, contact_id, now, &id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	return id;
}

static char *nudge_state(Store *store, gint64 nudge_id)
{
	g_autoptr(StoreNudge) nudge = store_nudge_get(store, nudge_id);
	g_assert_nonnull(nudge);
	return g_strdup(nudge->state);
}

static void set_state(Store *store, gint64 nudge_id, const char *state, gint64 at)
{
	g_autoptr(GError) error = NULL;
	g_assert_true(store_nudge_set_state(store, nudge_id, state, at, &error));
	g_assert_no_error(error);
}

static gint64 array_int(JsonArray *array, guint i, const char *member)
{
	return json_object_get_int_member(json_array_get_object_element(array, i), member);
}

static const char *array_str(JsonArray *array, guint i, const char *member)
{
	return json_object_get_string_member(json_array_get_object_element(array, i), member);
}

static gboolean array_bool(JsonArray *array, guint i, const char *member)
{
	return json_object_get_boolean_member(json_array_get_object_element(array, i), member);
}

/* ---- opening ---- */

static void test_open_creates(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *folder = g_path_get_dirname(f->path);
	g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
	struct stat st;

	g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
	Store *store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(store);
	g_assert_true(g_file_test(f->path, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpint(g_stat(folder, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0700); /* the user's data only */
	g_assert_cmpint(store_schema_version(store), ==, STORE_SCHEMA_VERSION);
	g_assert_cmpstr(store_path(store), ==, f->path);

	/* write-ahead log */
	ensure_source(store, "phone", "vcard");
	g_assert_true(g_file_test(wal, G_FILE_TEST_EXISTS));
	g_autofree char *mode = raw_query_text(f->path, "PRAGMA journal_mode");
	g_assert_cmpstr(mode, ==, "wal");
	store_close(store);

	/* and again: same version, same data */
	store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_cmpint(store_schema_version(store), ==, STORE_SCHEMA_VERSION);
	g_autoptr(StoreSource) source = store_source_get(store, "phone");
	g_assert_nonnull(source);
	g_assert_cmpstr(source->type, ==, "vcard");
	g_assert_null(source->last_result);
	g_assert_false(source->baseline_done);
	g_assert_null(store_source_get(store, "nope"));
	store_close(store);
}

static void test_open_newer_refused(Fixture *f, gconstpointer data)
{
	g_autofree char *folder = g_path_get_dirname(f->path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(folder, 0700), ==, 0);
	raw_exec(f->path, "CREATE TABLE future (x); PRAGMA user_version = 99;");

	Store *store = store_open(f->path, &error);
	g_assert_null(store);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
	g_assert_nonnull(strstr(error->message, "newer"));
	g_assert_nonnull(strstr(error->message, f->path));

	/* refused, not damaged */
	g_autofree char *version = raw_query_text(f->path, "PRAGMA user_version");
	g_assert_cmpstr(version, ==, "99");
	g_autofree char *tables = raw_query_text(f->path, "SELECT group_concat(name) FROM sqlite_master WHERE type = 'table'");
	g_assert_cmpstr(tables, ==, "future");
}

static void test_open_not_a_database(Fixture *f, gconstpointer data)
{
	g_autofree char *folder = g_path_get_dirname(f->path);
	g_autoptr(GError) error = NULL;
	static const char garbage[] = "this is not an SQLite database, just a text file that is long enough to matter\n";
	g_autofree char *after = NULL;

	g_assert_cmpint(g_mkdir_with_parents(folder, 0700), ==, 0);
	g_assert_true(g_file_set_contents(f->path, garbage, -1, NULL));
	Store *store = store_open(f->path, &error);
	g_assert_null(store);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, f->path));
	g_assert_true(g_file_get_contents(f->path, &after, NULL, NULL));
	g_assert_cmpstr(after, ==, garbage);
}

/* ---- migrations ---- */

/* What a schema-1 tiesd wrote: one source, a contact with its record and
 * identifiers, two interactions, an event and its pending nudge. */
static const char v1_data[] =
	"INSERT INTO sources (id, name, type, last_sync, last_result, baseline_done) VALUES (1, 'phone', 'vcard', 1000, 'ok', 1);"
	"INSERT INTO contacts (id, name, name_key, org, title, categories, first_seen, connected_on)"
	" VALUES (7, '山田 太郎', '山田太郎', '株式会社ABC', '部長', 'close', 1000, 900);"
	"INSERT INTO records (source_id, key, contact_id, fields, hash, first_seen, last_seen)"
	" VALUES (1, 'uid-1', 7, '{\"fn\":\"山田 太郎\",\"emails\":[\"taro@example.jp\"]}', 'old-hash', 1000, 1000);"
	"INSERT INTO identifiers (contact_id, kind, value) VALUES (7, 'uid', 'uid-1'), (7, 'email', 'taro@example.jp');"
	"INSERT INTO interactions (contact_id, at, via, note, origin, recorded_at) VALUES"
	" (7, 2000, 'email', 'lunch', 'touch', 2000), (7, 3000, 'phone', NULL, 'touch', 3000);"
	"INSERT INTO events (id, contact_id, kind, at, dedup_key, detail) VALUES (3, 7, 'silence', 4000, 'silence:7:3000', 'no contact');"
	"INSERT INTO nudges (event_id, contact_id, state, created_at) VALUES (3, 7, 'pending', 4000);";

static void test_migrate_from_1(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Store *store = store_open_at_version(f->path, 1, &error);

	g_assert_no_error(error);
	g_assert_cmpint(store_schema_version(store), ==, 1);
	store_close(store);
	raw_exec(f->path, v1_data);

	store = store_open_at_version(f->path, 2, &error);
	g_assert_no_error(error);
	g_assert_cmpint(store_schema_version(store), ==, 2);
	store_close(store);
	raw_exec(f->path, "INSERT INTO employment (contact_id, source_id, org, org_key, title, first_seen, last_seen)"
			  " VALUES (7, 1, '株式会社ABC', 'abc', '部長', 1000, 1000);");

	store = store_open(f->path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(store);
	g_assert_cmpint(store_schema_version(store), ==, STORE_SCHEMA_VERSION);

	/* the contact */
	g_autoptr(GPtrArray) contacts = store_contacts_all(store);
	g_assert_cmpuint(contacts->len, ==, 1);
	StoreContact *contact = g_ptr_array_index(contacts, 0);
	g_assert_cmpint(contact->id, ==, 7);
	g_assert_cmpstr(contact->name, ==, "山田 太郎");
	g_assert_cmpstr(contact->org, ==, "株式会社ABC");
	g_assert_cmpstr(contact->title, ==, "部長");
	g_assert_cmpuint(contact->categories->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(contact->categories, 0), ==, "close");
	g_assert_cmpuint(contact->emails->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(contact->emails, 0), ==, "taro@example.jp");
	g_assert_cmpint(contact->first_seen, ==, 1000);
	g_assert_cmpint(contact->connected_on, ==, 900);
	g_assert_cmpint(contact->last_interaction, ==, 3000);
	g_assert_false(contact->gone);
	g_assert_cmpint(contact_by_email(store, "Taro@Example.JP"), ==, 7);

	/* its history */
	g_autoptr(JsonArray) interactions = store_contact_interactions(store, 7);
	g_assert_cmpuint(json_array_get_length(interactions), ==, 2);
	g_assert_cmpstr(array_str(interactions, 0, "via"), ==, "phone");
	g_assert_cmpstr(array_str(interactions, 1, "note"), ==, "lunch");
	g_autoptr(JsonArray) fields = store_contact_fields(store, 7);
	g_assert_cmpuint(json_array_get_length(fields), ==, 2);
	g_autoptr(JsonArray) employment = store_contact_employment(store, 7);
	g_assert_cmpuint(json_array_get_length(employment), ==, 1);
	g_assert_cmpstr(array_str(employment, 0, "org"), ==, "株式会社ABC");
	g_assert_true(array_bool(employment, 0, "current"));
	g_autoptr(GPtrArray) pending = store_nudges_in_state(store, "pending");
	g_assert_cmpuint(pending->len, ==, 1);
	StoreNudge *nudge = g_ptr_array_index(pending, 0);
	g_assert_cmpstr(nudge->kind, ==, "silence");
	g_assert_cmpstr(nudge->event_key, ==, "silence:7:3000");
	g_assert_cmpint(nudge->event_id, ==, 3);
	g_autoptr(StoreSource) source = store_source_get(store, "phone");
	g_assert_nonnull(source);
	g_assert_true(source->baseline_done);
	g_assert_cmpint(source->contacts, ==, 1);
	g_assert_null(store_source_held(store, source->id, NULL));

	/* and the daemon of today carries on with it */
	g_autoptr(GPtrArray) records = records_new();
	SyncOutcome outcome;
	g_ptr_array_add(records, make_record("uid-1", "山田 太郎", "uid-1", "taro@example.jp", "ABC株式会社", "部長"));
	sync_ok(store, 1, records, 5000, &outcome);
	g_assert_cmpuint(outcome.counts.added, ==, 0);
	g_assert_cmpuint(outcome.counts.updated, ==, 1);
	g_assert_cmpuint(outcome.changes->len, ==, 0); /* a re-spelling is no move */
	sync_outcome_clear(&outcome);
	g_autoptr(GPtrArray) after = store_contacts_all(store);
	g_assert_cmpuint(after->len, ==, 1);
	g_assert_cmpint(((StoreContact *)g_ptr_array_index(after, 0))->id, ==, 7);
	gint64 id = 0;
	g_assert_true(store_interaction_import(store, 7, 6000, "linkedin", NULL, "linkedin", "msg-1", &id, &error));
	g_assert_no_error(error);
	g_assert_cmpint(id, >, 0);
	g_autoptr(JsonArray) interactions_after = store_contact_interactions(store, 7);
	g_assert_cmpuint(json_array_get_length(interactions_after), ==, 3);
	store_close(store);
}

/* Asking for an older version never takes a database back. */
static void test_migrate_never_down(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	Store *store = store_open(f->path, &error);
	g_assert_no_error(error);
	ensure_source(store, "phone", "vcard");
	store_close(store);

	store = store_open_at_version(f->path, 1, &error);
	g_assert_no_error(error);
	g_assert_nonnull(store);
	g_assert_cmpint(store_schema_version(store), ==, STORE_SCHEMA_VERSION);
	g_autoptr(StoreSource) source = store_source_get(store, "phone");
	g_assert_nonnull(source);
	store_close(store);
}

/* ---- syncing ---- */

static GPtrArray *three_records(const char *bob_title, gboolean with_carol)
{
	GPtrArray *records = records_new();
	g_ptr_array_add(records, make_record("a", "Alice Adams", NULL, "alice@example.com", "Acme", "Engineer"));
	g_ptr_array_add(records, make_record("b", "Bob Brown", NULL, "bob@example.com", "Acme", bob_title));
	if (with_carol)
		g_ptr_array_add(records, make_record("c", "Carol Clark", NULL, "carol@example.com", "Initech", NULL));
	return records;
}

static void test_sync_lifecycle(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 source_id = ensure_source(store, "phone", "vcard");
	g_autoptr(GError) error = NULL;
	SyncOutcome outcome;

	{
		g_autoptr(GPtrArray) records = three_records("Manager", TRUE);
		sync_ok(store, source_id, records, T0, &outcome);
		assert_counts(&outcome.counts, 3, 0, 0, 0);
		g_assert_cmpuint(outcome.changes->len, ==, 0);
		sync_outcome_clear(&outcome);
	}
	g_autoptr(GPtrArray) contacts = store_contacts_all(store);
	g_assert_cmpuint(contacts->len, ==, 3);
	gint64 carol = contact_by_email(store, "carol@example.com");
	gint64 bob = contact_by_email(store, "bob@example.com");
	g_assert_cmpint(carol, >, 0);
	g_assert_cmpint(bob, >, 0);
	g_assert_cmpint(carol, !=, bob);
	g_autoptr(StoreContact) carol_before = store_contact_get(store, carol);
	g_assert_cmpint(carol_before->first_seen, ==, T0);
	g_assert_cmpstr(carol_before->org, ==, "Initech");
	g_assert_true(store_interaction_add(store, carol, T0 + 10, "coffee", "catch-up", "touch", NULL, &error));
	g_assert_no_error(error);

	/* the same again: nothing changes */
	{
		g_autoptr(GPtrArray) records = three_records("Manager", TRUE);
		sync_ok(store, source_id, records, T0 + DAY, &outcome);
		assert_counts(&outcome.counts, 0, 0, 0, 3);
		sync_outcome_clear(&outcome);
	}

	/* Bob's title changed */
	{
		g_autoptr(GPtrArray) records = three_records("Director", TRUE);
		sync_ok(store, source_id, records, T0 + 2 * DAY, &outcome);
		assert_counts(&outcome.counts, 0, 1, 0, 2);
		sync_outcome_clear(&outcome);
	}
	g_autoptr(StoreContact) bob_now = store_contact_get(store, bob);
	g_assert_cmpstr(bob_now->title, ==, "Director");

	/* Carol left the address book: gone, her history kept */
	{
		g_autoptr(GPtrArray) records = three_records("Director", FALSE);
		sync_ok(store, source_id, records, T0 + 3 * DAY, &outcome);
		assert_counts(&outcome.counts, 0, 0, 1, 2);
		sync_outcome_clear(&outcome);
	}
	g_autoptr(StoreContact) carol_gone = store_contact_get(store, carol);
	g_assert_nonnull(carol_gone);
	g_assert_true(carol_gone->gone);
	g_assert_cmpstr(carol_gone->name, ==, "Carol Clark");
	g_autoptr(JsonArray) interactions = store_contact_interactions(store, carol);
	g_assert_cmpuint(json_array_get_length(interactions), ==, 1);
	g_assert_cmpstr(array_str(interactions, 0, "note"), ==, "catch-up");
	g_autoptr(GPtrArray) all = store_contacts_all(store);
	g_assert_cmpuint(all->len, ==, 3); /* gone ones are listed too */
	g_autoptr(StoreSource) source = store_source_get(store, "phone");
	g_assert_cmpint(source->contacts, ==, 2);
	StoreCounts counts;
	store_counts(store, &counts);
	g_assert_cmpint(counts.contacts, ==, 2);
	g_assert_cmpint(counts.gone, ==, 1);
	g_autoptr(JsonArray) fields = store_contact_fields(store, carol);
	g_assert_cmpuint(json_array_get_length(fields), >, 0);
	for (guint i = 0; i < json_array_get_length(fields); i++)
		g_assert_true(array_bool(fields, i, "gone"));

	/* and back: the same contact, not gone, history still there */
	{
		g_autoptr(GPtrArray) records = three_records("Director", TRUE);
		sync_ok(store, source_id, records, T0 + 4 * DAY, &outcome);
		g_assert_cmpuint(outcome.counts.added + outcome.counts.updated, ==, 1);
		g_assert_cmpuint(outcome.counts.gone, ==, 0);
		g_assert_cmpuint(outcome.counts.unchanged, ==, 2);
		sync_outcome_clear(&outcome);
	}
	g_assert_cmpint(contact_by_email(store, "carol@example.com"), ==, carol);
	g_autoptr(StoreContact) carol_back = store_contact_get(store, carol);
	g_assert_false(carol_back->gone);
	g_assert_cmpint(carol_back->first_seen, ==, T0);
	g_assert_cmpint(carol_back->last_interaction, ==, T0 + 10);
	g_autoptr(GPtrArray) all_back = store_contacts_all(store);
	g_assert_cmpuint(all_back->len, ==, 3);
}

/* One person in two sources, their e-mail written in different case. */
static void test_sync_merge_email(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	gint64 linkedin = ensure_source(store, "linkedin", "linkedin");
	g_autoptr(GPtrArray) phone_records = records_new();
	g_autoptr(GPtrArray) linkedin_records = records_new();
	SyncOutcome outcome;

	g_ptr_array_add(phone_records, make_record("p1", "山田 太郎", NULL, "Taro.Yamada@Example.COM", "株式会社ABC", NULL));
	g_ptr_array_add(phone_records, make_record("p2", "Ken Suzuki", NULL, "ken@example.com", NULL, NULL));
	g_ptr_array_add(linkedin_records, make_record("l1", "Taro Yamada", NULL, "taro.yamada@example.com", "ABC", "部長"));
	g_ptr_array_add(linkedin_records, make_record("l2", "Kenji Sato", NULL, "kenji@other.example", NULL, NULL));
	sync_ok(store, phone, phone_records, T0, &outcome);
	sync_outcome_clear(&outcome);
	sync_ok(store, linkedin, linkedin_records, T0 + 60, &outcome);
	assert_counts(&outcome.counts, 2, 0, 0, 0);
	sync_outcome_clear(&outcome);

	/* Taro is one contact; Ken and Kenji share nothing */
	g_autoptr(GPtrArray) contacts = store_contacts_all(store);
	g_assert_cmpuint(contacts->len, ==, 3);
	gint64 taro = contact_by_email(store, "taro.yamada@example.com");
	g_assert_cmpint(taro, >, 0);
	g_autoptr(GArray) by_email = store_contacts_by_email(store, "TARO.YAMADA@EXAMPLE.COM");
	g_assert_cmpuint(by_email->len, ==, 1);
	g_assert_cmpint(g_array_index(by_email, gint64, 0), ==, taro);
	g_assert_cmpint(contact_by_email(store, "ken@example.com"), !=, contact_by_email(store, "kenji@other.example"));

	/* `show` lists what each source said */
	g_autoptr(JsonArray) fields = store_contact_fields(store, taro);
	gboolean phone_fn = FALSE, linkedin_fn = FALSE, linkedin_title = FALSE;
	for (guint i = 0; i < json_array_get_length(fields); i++) {
		const char *source = array_str(fields, i, "source");
		const char *field = array_str(fields, i, "field");
		JsonNode *value = json_object_get_member(json_array_get_object_element(fields, i), "value");
		g_assert_false(array_bool(fields, i, "gone"));
		if (strcmp(source, "phone") == 0 && strcmp(field, "fn") == 0) {
			g_assert_cmpstr(json_node_get_string(value), ==, "山田 太郎");
			phone_fn = TRUE;
		} else if (strcmp(source, "linkedin") == 0 && strcmp(field, "fn") == 0) {
			g_assert_cmpstr(json_node_get_string(value), ==, "Taro Yamada");
			linkedin_fn = TRUE;
		} else if (strcmp(source, "linkedin") == 0 && strcmp(field, "title") == 0) {
			g_assert_cmpstr(json_node_get_string(value), ==, "部長");
			linkedin_title = TRUE;
		} else if (strcmp(field, "emails") == 0) {
			g_assert_true(JSON_NODE_HOLDS_ARRAY(value));
		} else if (strcmp(source, "phone") == 0 && strcmp(field, "title") == 0) {
			g_assert_not_reached(); /* the phone record has no title */
		}
		g_assert_true(strcmp(source, "phone") == 0 || strcmp(source, "linkedin") == 0);
	}
	g_assert_true(phone_fn);
	g_assert_true(linkedin_fn);
	g_assert_true(linkedin_title);

	/* the phone forgets Taro: LinkedIn still knows him */
	g_ptr_array_remove_index(phone_records, 0);
	sync_ok(store, phone, phone_records, T0 + 120, &outcome);
	assert_counts(&outcome.counts, 0, 0, 1, 1);
	sync_outcome_clear(&outcome);
	g_autoptr(StoreContact) still = store_contact_get(store, taro);
	g_assert_false(still->gone);
	g_autoptr(JsonArray) fields_after = store_contact_fields(store, taro);
	g_assert_cmpuint(json_array_get_length(fields_after), ==, json_array_get_length(fields));
	for (guint i = 0; i < json_array_get_length(fields_after); i++)
		g_assert_true(array_bool(fields_after, i, "gone") == (strcmp(array_str(fields_after, i, "source"), "phone") == 0));

	/* Kenji: a null org is not listed */
	g_autoptr(JsonArray) ken_fields = store_contact_fields(store, contact_by_email(store, "kenji@other.example"));
	g_assert_cmpuint(json_array_get_length(ken_fields), ==, 2); /* fn, emails */
	for (guint i = 0; i < json_array_get_length(ken_fields); i++) {
		g_assert_cmpstr(array_str(ken_fields, i, "source"), ==, "linkedin");
		g_assert_cmpstr(array_str(ken_fields, i, "field"), !=, "org");
	}
}

static void test_sync_merge_uid(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	gint64 dav = ensure_source(store, "work", "carddav");
	g_autoptr(GPtrArray) a = records_new();
	g_autoptr(GPtrArray) b = records_new();
	SyncOutcome outcome;

	g_ptr_array_add(a, make_record("urn:uuid:1", "Hanako Sato", "urn:uuid:1", NULL, NULL, NULL));
	g_ptr_array_add(a, make_record("urn:uuid:2", "Hanako Sato", "urn:uuid:2", NULL, NULL, NULL));
	g_ptr_array_add(b, make_record("/dav/1.vcf", "佐藤 花子", "urn:uuid:1", NULL, NULL, NULL));
	sync_ok(store, phone, a, T0, &outcome);
	sync_outcome_clear(&outcome);
	sync_ok(store, dav, b, T0, &outcome);
	g_assert_cmpuint(outcome.counts.added, ==, 1);
	sync_outcome_clear(&outcome);

	g_autoptr(GPtrArray) contacts = store_contacts_all(store);
	g_assert_cmpuint(contacts->len, ==, 2);
	gint64 one = store_contact_by_identifier(store, "uid", "urn:uuid:1");
	gint64 two = store_contact_by_identifier(store, "uid", "urn:uuid:2");
	g_assert_cmpint(one, >, 0);
	g_assert_cmpint(two, >, 0);
	g_assert_cmpint(one, !=, two);
	g_autoptr(JsonArray) fields = store_contact_fields(store, one);
	gboolean seen_phone = FALSE, seen_work = FALSE;
	for (guint i = 0; i < json_array_get_length(fields); i++) {
		seen_phone |= strcmp(array_str(fields, i, "source"), "phone") == 0;
		seen_work |= strcmp(array_str(fields, i, "source"), "work") == 0;
	}
	g_assert_true(seen_phone);
	g_assert_true(seen_work);
}

/* Two records with one key in one batch: the first counts. */
static void test_sync_duplicate_key(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GPtrArray) records = records_new();
	SyncOutcome outcome;

	g_ptr_array_add(records, make_record("same", "First", NULL, "first@example.com", NULL, NULL));
	g_ptr_array_add(records, make_record("same", "Second", NULL, "second@example.com", NULL, NULL));
	sync_ok(store, phone, records, T0, &outcome);
	assert_counts(&outcome.counts, 1, 0, 0, 0);
	sync_outcome_clear(&outcome);
	g_assert_cmpint(contact_by_email(store, "first@example.com"), >, 0);
	g_assert_cmpint(contact_by_email(store, "second@example.com"), ==, 0);
}

/* A sync that would remove most of an address book is held. */
static void test_sync_hold(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GPtrArray) full = records_new();
	g_autoptr(GPtrArray) empty = records_new();
	g_autoptr(GError) error = NULL;
	SyncPolicy policy = { 0.3, 3, FALSE };
	SyncOutcome outcome;
	gint64 since = 0;

	for (int i = 0; i < 10; i++) {
		g_autofree char *key = g_strdup_printf("k%d", i);
		g_autofree char *email = g_strdup_printf("p%d@example.com", i);
		g_ptr_array_add(full, make_record(key, key, NULL, email, NULL, NULL));
	}
	g_assert_true(sync_all(store, phone, full, T0, &policy, &outcome, &error));
	g_assert_no_error(error);
	g_assert_false(outcome.held); /* the first sync is never held */
	sync_outcome_clear(&outcome);
	g_assert_true(store_source_set_result(store, phone, T0, "ok", NULL, &error));
	g_assert_no_error(error);

	g_assert_true(sync_all(store, phone, empty, T0 + DAY, &policy, &outcome, &error));
	g_assert_no_error(error);
	g_assert_true(outcome.held);
	g_assert_cmpuint(outcome.counts.gone, ==, 10);
	g_assert_nonnull(outcome.held_reason);
	sync_outcome_clear(&outcome);
	StoreCounts counts;
	store_counts(store, &counts);
	g_assert_cmpint(counts.contacts, ==, 10); /* nothing written */
	g_assert_cmpint(counts.gone, ==, 0);
	g_autofree char *reason = store_source_held(store, phone, &since);
	g_assert_nonnull(reason);
	g_assert_cmpint(since, ==, T0 + DAY);
	g_autoptr(JsonArray) held = store_held_syncs(store);
	g_assert_cmpuint(json_array_get_length(held), ==, 1);
	g_assert_cmpstr(array_str(held, 0, "source"), ==, "phone");

	policy.accept = TRUE;
	g_assert_true(sync_all(store, phone, empty, T0 + 2 * DAY, &policy, &outcome, &error));
	g_assert_no_error(error);
	g_assert_false(outcome.held);
	g_assert_cmpuint(outcome.counts.gone, ==, 10);
	sync_outcome_clear(&outcome);
	store_counts(store, &counts);
	g_assert_cmpint(counts.contacts, ==, 0);
	g_assert_cmpint(counts.gone, ==, 10);
	g_autofree char *no_reason = store_source_held(store, phone, NULL);
	g_assert_null(no_reason);
}

/* ---- employment ---- */

static void sync_one(Store *store, gint64 source_id, const char *org, const char *title, gint64 now,
		     SyncOutcome *outcome)
{
	g_autoptr(GPtrArray) records = records_new();
	g_ptr_array_add(records, make_record("taro", "山田 太郎", "uid-taro", "taro@example.jp", org, title));
	sync_ok(store, source_id, records, now, outcome);
}

static void test_employment(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GError) error = NULL;
	SyncOutcome outcome;

	/* the first sync records, and raises nothing */
	sync_one(store, phone, "株式会社ABC", "部長", T0, &outcome);
	g_assert_cmpuint(outcome.changes->len, ==, 0);
	sync_outcome_clear(&outcome);
	g_assert_true(store_source_set_result(store, phone, T0, "ok", NULL, &error));
	g_assert_no_error(error);
	gint64 taro = contact_by_email(store, "taro@example.jp");
	g_autoptr(JsonArray) first = store_contact_employment(store, taro);
	g_assert_cmpuint(json_array_get_length(first), ==, 1);
	g_assert_cmpstr(array_str(first, 0, "org"), ==, "株式会社ABC");
	g_assert_cmpstr(array_str(first, 0, "title"), ==, "部長");
	g_assert_cmpstr(array_str(first, 0, "source"), ==, "phone");
	g_assert_true(array_bool(first, 0, "current"));

	/* a re-spelling of the same company is no move */
	sync_one(store, phone, "ABC株式会社", "部長", T0 + DAY, &outcome);
	g_assert_cmpuint(outcome.counts.updated, ==, 1);
	g_assert_cmpuint(outcome.changes->len, ==, 0);
	sync_outcome_clear(&outcome);
	g_autoptr(JsonArray) respelled = store_contact_employment(store, taro);
	g_assert_cmpuint(json_array_get_length(respelled), ==, 1);
	g_assert_true(array_bool(respelled, 0, "current"));

	/* a new company closes the old row and opens one */
	sync_one(store, phone, "XYZ合同会社", "CTO", T0 + 2 * DAY, &outcome);
	g_assert_cmpuint(outcome.changes->len, ==, 1);
	EmploymentChange *change = g_ptr_array_index(outcome.changes, 0);
	g_assert_cmpint(change->contact_id, ==, taro);
	g_assert_true(change->new_org);
	g_assert_cmpstr(change->old_org, ==, "株式会社ABC");
	g_assert_cmpstr(change->old_title, ==, "部長");
	g_assert_cmpstr(change->org, ==, "XYZ合同会社");
	g_assert_cmpstr(change->title, ==, "CTO");
	g_autofree char *xyz_key = normalize_org("XYZ");
	g_assert_cmpstr(change->org_key, ==, xyz_key);
	sync_outcome_clear(&outcome);
	g_autoptr(JsonArray) moved = store_contact_employment(store, taro);
	g_assert_cmpuint(json_array_get_length(moved), ==, 2);
	g_assert_cmpstr(array_str(moved, 0, "org"), ==, "株式会社ABC");
	g_assert_false(array_bool(moved, 0, "current"));
	g_assert_cmpstr(array_str(moved, 1, "org"), ==, "XYZ合同会社");
	g_assert_true(array_bool(moved, 1, "current"));
	g_autoptr(StoreContact) contact = store_contact_get(store, taro);
	g_assert_cmpstr(contact->org, ==, "XYZ合同会社");

	/* a new title at the same company */
	sync_one(store, phone, "XYZ合同会社", "CEO", T0 + 3 * DAY, &outcome);
	g_assert_cmpuint(outcome.changes->len, ==, 1);
	change = g_ptr_array_index(outcome.changes, 0);
	g_assert_false(change->new_org);
	g_assert_cmpstr(change->old_title, ==, "CTO");
	g_assert_cmpstr(change->title, ==, "CEO");
	sync_outcome_clear(&outcome);
	g_autoptr(JsonArray) promoted = store_contact_employment(store, taro);
	g_assert_cmpuint(json_array_get_length(promoted), ==, 3);
	g_assert_false(array_bool(promoted, 1, "current"));
	g_assert_true(array_bool(promoted, 2, "current"));

	/* who is, and who was, at ABC and XYZ */
	g_autofree char *abc_key = normalize_org("(株)ABC");
	g_autoptr(JsonArray) at_abc = store_who_at(store, abc_key, FALSE);
	g_assert_cmpuint(json_array_get_length(at_abc), ==, 0);
	g_autoptr(JsonArray) was_at_abc = store_who_at(store, abc_key, TRUE);
	g_assert_cmpuint(json_array_get_length(was_at_abc), ==, 1);
	g_assert_cmpint(array_int(was_at_abc, 0, "id"), ==, taro);
	g_assert_false(array_bool(was_at_abc, 0, "current"));
	g_autoptr(JsonArray) at_xyz = store_who_at(store, xyz_key, FALSE);
	g_assert_cmpuint(json_array_get_length(at_xyz), ==, 1);
	g_assert_true(array_bool(at_xyz, 0, "current"));
	g_assert_cmpstr(array_str(at_xyz, 0, "title"), ==, "CEO");
}

/* ---- interactions ---- */

static void test_interactions(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	g_autoptr(GError) error = NULL;
	gint64 ids[3] = { 0 };
	const gint64 at[3] = { T0 - 30 * DAY, T0 - 1 * DAY, T0 - 10 * DAY };
	const char *const notes[3] = { "oldest", "newest", "middle" };

	for (int i = 0; i < 3; i++) {
		g_assert_true(store_interaction_add(store, taro, at[i], "email", notes[i], "touch", &ids[i], &error));
		g_assert_no_error(error);
		g_assert_cmpint(ids[i], >, 0);
	}
	g_assert_cmpint(ids[0], !=, ids[1]);
	g_autoptr(JsonArray) list = store_contact_interactions(store, taro);
	g_assert_cmpuint(json_array_get_length(list), ==, 3);
	g_assert_cmpint(array_int(list, 0, "id"), ==, ids[1]);
	g_assert_cmpint(array_int(list, 1, "id"), ==, ids[2]);
	g_assert_cmpint(array_int(list, 2, "id"), ==, ids[0]);
	g_assert_cmpstr(array_str(list, 0, "note"), ==, "newest");
	g_assert_cmpstr(array_str(list, 0, "via"), ==, "email");
	g_assert_cmpstr(array_str(list, 0, "origin"), ==, "touch");
	g_autoptr(StoreContact) contact = store_contact_get(store, taro);
	g_assert_cmpint(contact->last_interaction, ==, T0 - DAY);

	/* imported twice, kept once */
	gint64 first = 0, second = 42;
	g_assert_true(store_interaction_import(store, taro, T0 - 2 * DAY, "linkedin", NULL, "linkedin", "conv-1:3", &first, &error));
	g_assert_no_error(error);
	g_assert_cmpint(first, >, 0);
	g_assert_true(store_interaction_import(store, taro, T0 - 2 * DAY, "linkedin", NULL, "linkedin", "conv-1:3", &second, &error));
	g_assert_no_error(error);
	g_assert_cmpint(second, ==, 0);
	g_autoptr(JsonArray) after = store_contact_interactions(store, taro);
	g_assert_cmpuint(json_array_get_length(after), ==, 4);

	/* another contact's interactions are not this one's */
	gint64 other = make_contact(store, "ken", "Ken Suzuki", "ken@example.com");
	g_autoptr(JsonArray) none = store_contact_interactions(store, other);
	g_assert_cmpuint(json_array_get_length(none), ==, 0);
	g_autoptr(StoreContact) ken = store_contact_get(store, other);
	g_assert_cmpint(ken->last_interaction, ==, 0);
}

/* ---- events ---- */

static void test_events_dedup(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	g_autoptr(GError) error = NULL;
	gint64 id1 = 0, id2 = 0, id3 = 0;
	gboolean created = FALSE;

	g_assert_true(store_event_add(store, taro, "job-change", T0, "job:taro:xyz", "Joined XYZ", &id1, &created, &error));
	g_assert_no_error(error);
	g_assert_true(created);
	g_assert_cmpint(id1, >, 0);
	g_assert_true(store_event_add(store, taro, "job-change", T0 + 5, "job:taro:xyz", "Joined XYZ again", &id2, &created, &error));
	g_assert_no_error(error);
	g_assert_false(created);
	g_assert_cmpint(id2, ==, id1);
	g_assert_true(store_event_add(store, taro, "silence", T0 + 10, "silence:taro:1", NULL, &id3, &created, &error));
	g_assert_true(created);
	g_assert_cmpint(id3, !=, id1);

	g_autoptr(JsonArray) all = store_events_list(store, 0, NULL, 0);
	g_assert_cmpuint(json_array_get_length(all), ==, 2);
	g_assert_cmpint(array_int(all, 0, "id"), ==, id3); /* newest first */
	g_assert_cmpint(array_int(all, 1, "id"), ==, id1);
	g_assert_cmpstr(array_str(all, 1, "detail"), ==, "Joined XYZ"); /* the first one stays */
	g_assert_cmpstr(array_str(all, 1, "name"), ==, "山田 太郎");
	g_assert_false(array_bool(all, 1, "dismissed"));
	g_autoptr(JsonArray) jobs = store_events_list(store, 0, "job-change", 0);
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	g_autoptr(JsonArray) recent = store_events_list(store, T0 + 1, NULL, 0);
	g_assert_cmpuint(json_array_get_length(recent), ==, 1);
	g_autoptr(JsonArray) others = store_events_list(store, 0, NULL, taro + 1000);
	g_assert_cmpuint(json_array_get_length(others), ==, 0);
}

static void test_event_dismiss(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	g_autoptr(GError) error = NULL;
	gint64 event = add_event(store, taro, "job-change", T0, "job:1");
	gint64 nudge = add_nudge(store, event, taro, T0);
	gint64 acted_event = add_event(store, taro, "job-change", T0, "job:2");
	gint64 acted = add_nudge(store, acted_event, taro, T0);

	set_state(store, acted, "acted", T0 + 1);
	g_assert_true(store_event_dismiss(store, event, &error));
	g_assert_no_error(error);
	g_autofree char *state = nudge_state(store, nudge);
	g_assert_cmpstr(state, ==, "dismissed");
	g_autoptr(JsonArray) events = store_events_list(store, 0, NULL, 0);
	for (guint i = 0; i < json_array_get_length(events); i++)
		g_assert_true(array_bool(events, i, "dismissed") == (array_int(events, i, "id") == event));

	/* a nudge already acted on stays so */
	g_assert_true(store_event_dismiss(store, acted_event, &error));
	g_autofree char *acted_state = nudge_state(store, acted);
	g_assert_cmpstr(acted_state, ==, "acted");

	g_assert_false(store_event_dismiss(store, 999999, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* ---- nudges ---- */

static void test_nudges(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	g_autoptr(GError) error = NULL;
	gint64 event = add_event(store, taro, "silence", T0 - DAY, "silence:1");
	gint64 nudge = add_nudge(store, event, taro, T0);
	gint64 again = 42;

	/* never twice for one event */
	g_assert_true(store_nudge_add(store, event, taro, T0 + 100, &again, &error));
	g_assert_no_error(error);
	g_assert_cmpint(again, ==, 0);
	g_autoptr(GPtrArray) everything = store_nudges_in_state(store, NULL);
	g_assert_cmpuint(everything->len, ==, 1);

	g_autoptr(StoreNudge) fresh = store_nudge_get(store, nudge);
	g_assert_nonnull(fresh);
	g_assert_cmpint(fresh->event_id, ==, event);
	g_assert_cmpint(fresh->contact_id, ==, taro);
	g_assert_cmpstr(fresh->state, ==, "pending");
	g_assert_cmpstr(fresh->kind, ==, "silence");
	g_assert_cmpstr(fresh->event_key, ==, "silence:1");
	g_assert_cmpint(fresh->created_at, ==, T0);
	g_assert_cmpint(fresh->event_at, ==, T0 - DAY);
	g_assert_cmpint(fresh->shown_at, ==, 0);
	g_assert_null(fresh->summary);
	g_assert_null(store_nudge_get(store, nudge + 1000));

	g_autoptr(GPtrArray) none_shown = store_nudges_shown_since(store, 0);
	g_assert_cmpuint(none_shown->len, ==, 0);

	g_assert_true(store_nudge_set_text(store, nudge, "Reach out to 山田 太郎", "last contact 8 months ago", &error));
	g_assert_no_error(error);
	set_state(store, nudge, "shown", T0 + 500);
	g_autoptr(StoreNudge) shown = store_nudge_get(store, nudge);
	g_assert_cmpstr(shown->state, ==, "shown");
	g_assert_cmpint(shown->shown_at, ==, T0 + 500);
	g_assert_cmpstr(shown->summary, ==, "Reach out to 山田 太郎");
	g_assert_cmpstr(shown->body, ==, "last contact 8 months ago");

	g_autoptr(GPtrArray) since = store_nudges_shown_since(store, T0 + 500);
	g_assert_cmpuint(since->len, ==, 1);
	g_assert_cmpint(((StoreNudge *)g_ptr_array_index(since, 0))->id, ==, nudge);
	g_autoptr(GPtrArray) later = store_nudges_shown_since(store, T0 + 501);
	g_assert_cmpuint(later->len, ==, 0);
	g_autoptr(GPtrArray) pending = store_nudges_in_state(store, "pending");
	g_assert_cmpuint(pending->len, ==, 0);

	/* acting keeps when it was shown */
	set_state(store, nudge, "acted", T0 + 900);
	g_autoptr(StoreNudge) acted = store_nudge_get(store, nudge);
	g_assert_cmpint(acted->shown_at, ==, T0 + 500);
	g_autoptr(GPtrArray) acted_list = store_nudges_in_state(store, "acted");
	g_assert_cmpuint(acted_list->len, ==, 1);

	/* newest first */
	gint64 event2 = add_event(store, taro, "job-change", T0, "job:9");
	gint64 nudge2 = add_nudge(store, event2, taro, T0 + 1000);
	g_autoptr(GPtrArray) both = store_nudges_in_state(store, NULL);
	g_assert_cmpuint(both->len, ==, 2);
	g_assert_cmpint(((StoreNudge *)g_ptr_array_index(both, 0))->id, ==, nudge2);
}

static void test_nudges_close_for_contact(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	gint64 ken = make_contact(store, "ken", "Ken Suzuki", "ken@example.com");
	g_autoptr(GError) error = NULL;
	const char *const states[] = { "pending", "snoozed", "shown", "acted", "dismissed" };
	const char *const expected[] = { "resolved", "resolved", "shown", "acted", "dismissed" };
	gint64 ids[G_N_ELEMENTS(states)];

	g_assert_cmpint(taro, !=, ken);
	for (gsize i = 0; i < G_N_ELEMENTS(states); i++) {
		g_autofree char *key = g_strdup_printf("taro:%zu", i);
		ids[i] = add_nudge(store, add_event(store, taro, "silence", T0, key), taro, T0);
		if (strcmp(states[i], "pending") != 0)
			set_state(store, ids[i], states[i], T0 + 1);
	}
	gint64 kens = add_nudge(store, add_event(store, ken, "silence", T0, "ken:0"), ken, T0);

	g_assert_true(store_nudges_close_for_contact(store, taro, "resolved", T0 + 2, &error));
	g_assert_no_error(error);
	for (gsize i = 0; i < G_N_ELEMENTS(states); i++) {
		g_autofree char *state = nudge_state(store, ids[i]);
		g_assert_cmpstr(state, ==, expected[i]);
	}
	g_autofree char *ken_state = nudge_state(store, kens);
	g_assert_cmpstr(ken_state, ==, "pending");
}

/* ---- contacts and counts ---- */

static void test_contact_cadence_snooze(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 taro = make_contact(store, "taro", "山田 太郎", "taro@example.jp");
	g_autoptr(GError) error = NULL;

	g_autoptr(StoreContact) before = store_contact_get(store, taro);
	g_assert_cmpint(before->cadence_s, ==, 0);
	g_assert_null(before->tier);
	g_assert_cmpint(before->snoozed_until, ==, 0);

	g_assert_true(store_contact_set_cadence(store, taro, 0, "close", &error));
	g_assert_no_error(error);
	g_autoptr(StoreContact) tiered = store_contact_get(store, taro);
	g_assert_cmpint(tiered->cadence_s, ==, 0);
	g_assert_cmpstr(tiered->tier, ==, "close");

	g_assert_true(store_contact_set_cadence(store, taro, 45 * DAY, NULL, &error));
	g_assert_true(store_contact_set_snooze(store, taro, T0 + 7 * DAY, &error));
	g_assert_no_error(error);
	g_autoptr(StoreContact) timed = store_contact_get(store, taro);
	g_assert_cmpint(timed->cadence_s, ==, 45 * DAY);
	g_assert_null(timed->tier);
	g_assert_cmpint(timed->snoozed_until, ==, T0 + 7 * DAY);
	g_assert_null(store_contact_get(store, taro + 1000));
}

static void test_counts(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	StoreCounts counts;

	store_counts(store, &counts);
	g_assert_cmpint(counts.contacts, ==, 0);
	g_assert_cmpint(counts.gone, ==, 0);
	g_assert_cmpint(counts.interactions, ==, 0);
	g_assert_cmpint(counts.events, ==, 0);
	g_assert_cmpint(counts.nudges_pending, ==, 0);

	gint64 source = ensure_source(store, "phone", "vcard");
	g_autoptr(GPtrArray) records = three_records("Manager", TRUE);
	g_autoptr(GPtrArray) fewer = three_records("Manager", FALSE);
	g_autoptr(GError) error = NULL;
	SyncOutcome outcome;
	sync_ok(store, source, records, T0, &outcome);
	sync_outcome_clear(&outcome);
	sync_ok(store, source, fewer, T0 + 1, &outcome);
	sync_outcome_clear(&outcome);
	gint64 alice = contact_by_email(store, "alice@example.com");
	g_assert_true(store_interaction_add(store, alice, T0, NULL, NULL, "touch", NULL, &error));
	g_assert_true(store_interaction_add(store, alice, T0 + 5, NULL, NULL, "touch", NULL, &error));
	gint64 n1 = add_nudge(store, add_event(store, alice, "silence", T0, "a"), alice, T0);
	add_nudge(store, add_event(store, alice, "job-change", T0, "b"), alice, T0);
	add_event(store, alice, "post", T0, "c");
	set_state(store, n1, "shown", T0);

	store_counts(store, &counts);
	g_assert_cmpint(counts.contacts, ==, 2);
	g_assert_cmpint(counts.gone, ==, 1);
	g_assert_cmpint(counts.interactions, ==, 2);
	g_assert_cmpint(counts.events, ==, 3);
	g_assert_cmpint(counts.nudges_pending, ==, 1);
}

/* ---- known daemon bugs: these fail until daemon/store.c is fixed ---- */

/* One person, one source, two records: a vdir card renamed (same UID, a new
 * file name as key), a CardDAV card moved (a new href), or a duplicate card
 * deleted. The person still works at ABC, and the source still says so. */
static void test_bug_employment_other_record_gone(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GError) error = NULL;
	g_autofree char *abc = normalize_org("ABC");
	SyncOutcome outcome;

	{
		g_autoptr(GPtrArray) records = records_new();
		g_ptr_array_add(records, make_record("old-name.vcf", "山田 太郎", "uid-taro", "taro@example.jp", "ABC", "部長"));
		sync_ok(store, phone, records, T0, &outcome);
		sync_outcome_clear(&outcome);
	}
	g_assert_true(store_source_set_result(store, phone, T0, "ok", NULL, &error));
	gint64 taro = store_contact_by_identifier(store, "uid", "uid-taro");
	g_autoptr(JsonArray) before = store_who_at(store, abc, FALSE);
	g_assert_cmpuint(json_array_get_length(before), ==, 1);

	for (int round = 1; round <= 2; round++) {
		g_autoptr(GPtrArray) records = records_new();
		g_ptr_array_add(records, make_record("new-name.vcf", "山田 太郎", "uid-taro", "taro@example.jp", "ABC", "部長"));
		sync_ok(store, phone, records, T0 + round * DAY, &outcome);
		sync_outcome_clear(&outcome);
	}
	/* the same contact, present */
	g_assert_cmpint(store_contact_by_identifier(store, "uid", "uid-taro"), ==, taro);
	g_autoptr(StoreContact) contact = store_contact_get(store, taro);
	g_assert_false(contact->gone);
	g_assert_cmpstr(contact->org, ==, "ABC");

	g_autoptr(JsonArray) now = store_who_at(store, abc, FALSE);
	g_autoptr(JsonArray) employment = store_contact_employment(store, taro);
	guint current = 0;
	for (guint i = 0; i < json_array_get_length(employment); i++)
		current += array_bool(employment, i, "current");
	if (json_array_get_length(now) != 1 || current != 1)
		g_test_fail_printf("regression (daemon/store.c store_sync_records, the final \"UPDATE employment SET current = 0 "
				   "WHERE current = 1 AND EXISTS (... records r WHERE r.contact_id = employment.contact_id AND "
				   "r.source_id = employment.source_id AND r.gone_at IS NOT NULL)\"): a contact whose card in a "
				   "source changed key (renamed .vcf, same UID) has %u current employment rows and `who-at ABC` "
				   "lists %u people, expected 1 and 1. The statement closes the employment of any contact with a "
				   "gone record in the source, even when another, present record of the same contact says the "
				   "same organisation; every later sync re-closes it, so the contact drops out of who-at for good",
				   current, json_array_get_length(now));
}

/* LinkedIn leaves Company empty between jobs: ABC, then nothing, then XYZ
 * is a move from ABC to XYZ. */
static void test_bug_job_change_across_gap(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 linkedin = ensure_source(store, "linkedin", "linkedin");
	g_autoptr(GError) error = NULL;
	const char *const orgs[] = { "ABC", NULL, "XYZ" };
	guint moves = 0;
	SyncOutcome outcome;

	for (gsize i = 0; i < G_N_ELEMENTS(orgs); i++) {
		g_autoptr(GPtrArray) records = records_new();
		g_ptr_array_add(records, make_record("https://www.linkedin.com/in/taro", "Taro Yamada", NULL, "taro@example.jp",
						     orgs[i], orgs[i] ? "Engineer" : NULL));
		sync_ok(store, linkedin, records, T0 + (gint64)i * 30 * DAY, &outcome);
		for (guint c = 0; c < outcome.changes->len; c++) {
			EmploymentChange *change = g_ptr_array_index(outcome.changes, c);
			if (change->new_org && g_strcmp0(change->org, "XYZ") == 0 && g_strcmp0(change->old_org, "ABC") == 0)
				moves++;
		}
		sync_outcome_clear(&outcome);
		if (i == 0) {
			g_assert_true(store_source_set_result(store, linkedin, T0, "ok", NULL, &error));
			g_assert_no_error(error);
		}
	}
	if (moves != 1)
		g_test_fail_printf("regression (daemon/store.c record_employment): a record whose org goes ABC -> (none) -> XYZ "
				   "in three syncs yields %u EmploymentChange (expected 1, ABC -> XYZ): the sync without an org "
				   "closes the ABC row without a change, and the next one finds no current row, so no job-change "
				   "event is ever raised for the move", moves);
}

/* One sync into STORE: two cards of one person (the same e-mail in
 * another case), two Ken Suzukis sharing nothing, a card whose UID another
 * card repeats. Checks who joined whom. */
static void sync_people(Store *store)
{
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GPtrArray) records = records_new();
	SyncOutcome outcome;

	g_ptr_array_add(records, make_record("a1", "山田 太郎", "uid-a", "Taro@Example.com", "ABC", NULL));
	g_ptr_array_add(records, make_record("a2", "Taro Yamada", NULL, "taro@example.com", NULL, NULL));
	g_ptr_array_add(records, make_record("k1", "Ken Suzuki", NULL, "ken1@example.com", NULL, NULL));
	g_ptr_array_add(records, make_record("k2", "Ken Suzuki", NULL, "ken2@example.com", NULL, NULL));
	g_ptr_array_add(records, make_record("u1", "Hanako", "uid-h", NULL, NULL, NULL));
	g_ptr_array_add(records, make_record("u2", "Hanako Sato", "uid-h", "hanako@example.com", NULL, NULL));
	sync_ok(store, phone, records, T0, &outcome);
	assert_counts(&outcome.counts, 6, 0, 0, 0);
	sync_outcome_clear(&outcome);

	gint64 taro = contact_by_email(store, "taro@example.com");
	g_assert_cmpint(taro, >, 0);
	g_assert_cmpint(store_contact_by_identifier(store, "uid", "uid-a"), ==, taro);
	g_assert_cmpint(contact_by_email(store, "ken1@example.com"), !=, contact_by_email(store, "ken2@example.com"));
	gint64 hanako = store_contact_by_identifier(store, "uid", "uid-h");
	g_assert_cmpint(contact_by_email(store, "hanako@example.com"), ==, hanako);
	/* Both Kens are this source's: no suggestion to link them. */
	g_assert_cmpint(store_count_suggestions(store), ==, 0);
}

/* A first sync into an empty store looks its identifiers up in memory: it
 * joins the same records as a sync into a store that has contacts. */
static void test_sync_first_into_empty(Fixture *f, gconstpointer data)
{
	Store *store = f->store;

	sync_people(store);
	g_autoptr(GPtrArray) contacts = store_contacts_all(store);
	g_assert_cmpuint(contacts->len, ==, 4);

	g_autofree char *other_path = g_build_filename(f->dir, "other.db", NULL);
	g_autoptr(GError) error = NULL;
	Store *other = store_open(other_path, &error);
	g_assert_no_error(error);
	gint64 friends = ensure_source(other, "friends", "vcard");
	g_autoptr(GPtrArray) records = records_new();
	SyncOutcome outcome;
	g_ptr_array_add(records, make_record("f1", "Someone Else", NULL, "else@example.com", NULL, NULL));
	sync_ok(other, friends, records, T0 - 60, &outcome);
	sync_outcome_clear(&outcome);
	sync_people(other);
	g_autoptr(GPtrArray) other_contacts = store_contacts_all(other);
	g_assert_cmpuint(other_contacts->len, ==, 5);
	store_close(other);
}

static gint64 file_size(const char *path)
{
	struct stat st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return st.st_size;
}

static gboolean on_loop_timeout(gpointer user_data)
{
	*(gboolean *) user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the default main context for MS milliseconds. */
static void run_loop_for(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, on_loop_timeout, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

/* A long WAL is copied back into the database once commits pause, not in
 * the first idle moment after a commit (a checkpoint waits for the disk). */
static void test_checkpoint_after_pause(Fixture *f, gconstpointer data)
{
	Store *store = f->store;
	gint64 phone = ensure_source(store, "phone", "vcard");
	g_autoptr(GPtrArray) records = records_new();
	g_autofree char *title = g_strnfill(2000, 'x');
	SyncOutcome outcome;

	for (guint i = 0; i < 2000; i++) {
		g_autofree char *key = g_strdup_printf("k%u", i);
		g_autofree char *name = g_strdup_printf("Person %u", i);
		g_ptr_array_add(records, make_record(key, name, NULL, NULL, "ABC", title));
	}
	sync_ok(store, phone, records, T0, &outcome);
	sync_outcome_clear(&outcome);

	gint64 before = file_size(f->path);
	run_loop_for(200);
	g_assert_cmpint(file_size(f->path), ==, before);
	for (guint waited = 0; file_size(f->path) == before && waited < 5000; waited += 100)
		run_loop_for(100);
	g_assert_cmpint(file_size(f->path), >, before + 4 * 1024 * 1024);
}

static void add_test(const char *name, void (*func)(Fixture *, gconstpointer), gboolean open)
{
	g_test_add(name, Fixture, NULL, open ? fixture_setup_open : fixture_setup, func, fixture_teardown);
}

int main(int argc, char **argv)
{
	/* A known daemon bug fails its test; the others still run. */
	g_autofree char **args = g_new0(char *, argc + 2);
	memcpy(args, argv, sizeof *args * argc);
	args[argc++] = (char *)"--keep-going";
	g_test_init(&argc, &args, NULL);
	log_set_max_priority(LOG_WARNING); /* no "migrated to schema N" lines */

	add_test("/store/open/creates", test_open_creates, FALSE);
	add_test("/store/open/newer-refused", test_open_newer_refused, FALSE);
	add_test("/store/open/not-a-database", test_open_not_a_database, FALSE);
	add_test("/store/migrate/from-1", test_migrate_from_1, FALSE);
	add_test("/store/migrate/never-down", test_migrate_never_down, FALSE);
	add_test("/store/sync/lifecycle", test_sync_lifecycle, TRUE);
	add_test("/store/sync/merge-email", test_sync_merge_email, TRUE);
	add_test("/store/sync/merge-uid", test_sync_merge_uid, TRUE);
	add_test("/store/sync/duplicate-key", test_sync_duplicate_key, TRUE);
	add_test("/store/sync/first-into-empty", test_sync_first_into_empty, TRUE);
	add_test("/store/checkpoint/after-pause", test_checkpoint_after_pause, TRUE);
	add_test("/store/sync/hold", test_sync_hold, TRUE);
	add_test("/store/employment", test_employment, TRUE);
	add_test("/store/interactions", test_interactions, TRUE);
	add_test("/store/events/dedup", test_events_dedup, TRUE);
	add_test("/store/events/dismiss", test_event_dismiss, TRUE);
	add_test("/store/nudges/lifecycle", test_nudges, TRUE);
	add_test("/store/nudges/close-for-contact", test_nudges_close_for_contact, TRUE);
	add_test("/store/contacts/cadence-snooze", test_contact_cadence_snooze, TRUE);
	add_test("/store/counts", test_counts, TRUE);
	add_test("/store/regression/employment-other-record-gone", test_bug_employment_other_record_gone, TRUE);
	add_test("/store/regression/job-change-across-gap", test_bug_job_change_across_gap, TRUE);

	return g_test_run();
}
