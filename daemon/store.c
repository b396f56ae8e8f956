/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <sqlite3.h>

#include "log.h"
#include "normalize.h"
#include "protocol.h"
#include "store-private.h"

#define STORE_BUSY_TIMEOUT_MS 5000

/* Defined with the rest of the feed tables' code in store-feeds.c. */
extern const char store_feeds_schema[];

/* Each entry moves the schema from version i to i + 1. Never edit one that
 * has shipped: add another. */
static const char *const migrations[] = {
	/* 0 -> 1: contacts from sources, interactions, events, nudges */
	"CREATE TABLE sources ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  type TEXT NOT NULL,"
	"  last_sync INTEGER,"
	"  last_result TEXT,"
	"  last_message TEXT,"
	"  baseline_done INTEGER NOT NULL DEFAULT 0,"
	"  sync_state TEXT);"
	"CREATE TABLE contacts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  name_key TEXT NOT NULL,"
	"  org TEXT,"
	"  title TEXT,"
	"  categories TEXT,"
	"  cadence_s INTEGER,"
	"  tier TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  connected_on INTEGER,"
	"  snoozed_until INTEGER,"
	"  gone INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX contacts_name_key ON contacts(name_key);"
	"CREATE TABLE records ("
	"  id INTEGER PRIMARY KEY,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  key TEXT NOT NULL,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  fields TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  gone_at INTEGER,"
	"  UNIQUE (source_id, key));"
	"CREATE INDEX records_contact ON records(contact_id);"
	"CREATE TABLE identifiers ("
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (kind, value, contact_id));"
	"CREATE INDEX identifiers_contact ON identifiers(contact_id);"
	"CREATE TABLE interactions ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  at INTEGER NOT NULL,"
	"  via TEXT,"
	"  note TEXT,"
	"  origin TEXT NOT NULL,"
	"  recorded_at INTEGER NOT NULL);"
	"CREATE INDEX interactions_contact ON interactions(contact_id, at);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  dedup_key TEXT NOT NULL UNIQUE,"
	"  detail TEXT,"
	"  dismissed INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX events_at ON events(at);"
	"CREATE TABLE nudges ("
	"  id INTEGER PRIMARY KEY,"
	"  event_id INTEGER NOT NULL UNIQUE REFERENCES events(id) ON DELETE CASCADE,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  state TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  shown_at INTEGER,"
	"  acted_at INTEGER,"
	"  summary TEXT,"
	"  body TEXT);"
	"CREATE INDEX nudges_state ON nudges(state);",

	/* 1 -> 2: employment timeline, for job changes and who-at */
	"CREATE TABLE employment ("
	"  id INTEGER PRIMARY KEY,"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,"
	"  org TEXT NOT NULL,"
	"  org_key TEXT NOT NULL,"
	"  unit TEXT,"
	"  title TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  current INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX employment_contact ON employment(contact_id);"
	"CREATE INDEX employment_org ON employment(org_key);",

	/* 2 -> 3: syncs held for changing too much at once */
	"ALTER TABLE sources ADD COLUMN held_since INTEGER;"
	"ALTER TABLE sources ADD COLUMN held_reason TEXT;"
	/* interactions imported from a source carry a key, so that a
	 * re-import adds nothing twice */
	"ALTER TABLE interactions ADD COLUMN origin_key TEXT;"
	"ALTER TABLE records ADD COLUMN etag TEXT;"
	/* possibly the same person, for the user to link */
	"CREATE TABLE suggestions ("
	"  a INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  b INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  reason TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (a, b));"
	/* what `tiesctl link` joined, so that `unlink` can part it again */
	"CREATE TABLE merges ("
	"  id INTEGER PRIMARY KEY,"
	"  link_id INTEGER NOT NULL,"
	"  kept INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,"
	"  absorbed_name TEXT NOT NULL,"
	"  at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX interactions_origin_key ON interactions(origin_key) WHERE origin_key IS NOT NULL;",

	/* 3 -> 4: feeds and their posts (store-feeds.c) */
	store_feeds_schema,

	/* 4 -> 5: a sync writes less per card: the records' hash was never
	 * read, and identifiers need no rowid beside their key. */
	"ALTER TABLE records DROP COLUMN hash;"
	"CREATE TABLE identifiers_new ("
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  PRIMARY KEY (kind, value, contact_id)) WITHOUT ROWID;"
	"INSERT INTO identifiers_new (contact_id, kind, value) SELECT contact_id, kind, value FROM identifiers;"
	"DROP TABLE identifiers;"
	"ALTER TABLE identifiers_new RENAME TO identifiers;"
	"CREATE INDEX identifiers_contact ON identifiers(contact_id);",
};

G_STATIC_ASSERT(G_N_ELEMENTS(migrations) == STORE_SCHEMA_VERSION);

void db_set_error(GError **error, Store *store, const char *what)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s: %s", store->path, what,
		    sqlite3_errmsg(store->db));
}

/* Prepared once, reset and reused: the statement cache of the store. */
sqlite3_stmt *db_prepare(Store *store, const char *sql)
{
	sqlite3_stmt *stmt = g_hash_table_lookup(store->statements, sql);

	if (stmt) {
		sqlite3_reset(stmt);
		sqlite3_clear_bindings(stmt);
		return stmt;
	}
	if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
		/* Only a programming error gets here: the SQL is ours. */
		log_error("database: cannot prepare \"%s\": %s", sql, sqlite3_errmsg(store->db));
		return NULL;
	}
	g_hash_table_insert(store->statements, (gpointer)sql, stmt);
	return stmt;
}

void db_bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text)
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(stmt, index);
}

void db_bind_borrowed(sqlite3_stmt *stmt, int index, const char *text)
{
	if (text)
		sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, index);
}

void db_bind_time(sqlite3_stmt *stmt, int index, gint64 value)
{
	if (value)
		sqlite3_bind_int64(stmt, index, value);
	else
		sqlite3_bind_null(stmt, index);
}

char *db_column_text(sqlite3_stmt *stmt, int index)
{
	const unsigned char *text = sqlite3_column_text(stmt, index);
	return text ? g_strdup((const char *)text) : NULL;
}

/* Runs a statement that returns no rows. */
gboolean db_step_done(Store *store, sqlite3_stmt *stmt, GError **error)
{
	if (!stmt) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: bad statement", store->path);
		return FALSE;
	}
	int rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_set_error(error, store, "write failed");
		sqlite3_reset(stmt);
		return FALSE;
	}
	sqlite3_reset(stmt);
	return TRUE;
}

gboolean db_exec(Store *store, const char *sql, GError **error)
{
	char *message = NULL;
	if (sqlite3_exec(store->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", store->path,
			    message ? message : "failed");
		sqlite3_free(message);
		return FALSE;
	}
	return TRUE;
}

gint64 db_query_int(Store *store, const char *sql, gint64 fallback)
{
	sqlite3_stmt *stmt = db_prepare(store, sql);
	gint64 value = fallback;
	if (stmt && sqlite3_step(stmt) == SQLITE_ROW)
		value = sqlite3_column_int64(stmt, 0);
	if (stmt)
		sqlite3_reset(stmt);
	return value;
}

int store_schema_version(Store *store)
{
	sqlite3_stmt *stmt;
	int version = -1;
	if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			version = sqlite3_column_int(stmt, 0);
		sqlite3_finalize(stmt);
	}
	return version;
}

static gboolean migrate(Store *store, int target, GError **error)
{
	int version = store_schema_version(store);

	if (version < 0) {
		db_set_error(error, store, "cannot read the schema version");
		return FALSE;
	}
	if (version > STORE_SCHEMA_VERSION) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "%s: schema version %d is newer than this tiesd understands (%d); "
			    "use a newer tiesd",
			    store->path, version, STORE_SCHEMA_VERSION);
		return FALSE;
	}
	while (version < target) {
		g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", version + 1);
		if (!db_exec(store, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (!db_exec(store, migrations[version], error) || !db_exec(store, bump, error)) {
			db_exec(store, "ROLLBACK", NULL);
			g_prefix_error(error, "migration to schema %d: ", version + 1);
			return FALSE;
		}
		if (!db_exec(store, "COMMIT", error))
			return FALSE;
		log_info("database %s migrated to schema %d", store->path, version + 1);
		version++;
	}
	return TRUE;
}

static void finalize_statement(gpointer stmt)
{
	sqlite3_finalize(stmt);
}

/* SQLite copies the WAL back into the database inside the commit that
 * takes it over 1,000 pages: on the way of a sync's answer. Done once no
 * commit came for STORE_CHECKPOINT_QUIET_MS instead: a checkpoint waits
 * for the disk (fsync), which held up a poll of 1,000 feeds when it ran
 * in an idle moment between its commits. A WAL past
 * STORE_CHECKPOINT_MAX_PAGES is copied back at the next idle moment. */
#define STORE_CHECKPOINT_PAGES 1000
#define STORE_CHECKPOINT_MAX_PAGES 16000
#define STORE_CHECKPOINT_QUIET_MS 500

static gboolean on_checkpoint(gpointer user_data)
{
	Store *store = user_data;
	int logged = 0, copied = 0;

	store->checkpoint_source = 0;
	if (sqlite3_wal_checkpoint_v2(store->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied) != SQLITE_OK)
		log_warning("database %s: checkpoint: %s", store->path, sqlite3_errmsg(store->db));
	return G_SOURCE_REMOVE;
}

static int on_wal_commit(void *user_data, sqlite3 *db, const char *name, int pages)
{
	Store *store = user_data;

	(void)db;
	(void)name;
	if (pages < STORE_CHECKPOINT_PAGES || (store->checkpoint_source && store->checkpoint_soon))
		return SQLITE_OK;
	g_clear_handle_id(&store->checkpoint_source, g_source_remove);
	store->checkpoint_soon = pages >= STORE_CHECKPOINT_MAX_PAGES;
	store->checkpoint_source = store->checkpoint_soon
		? g_idle_add_full(G_PRIORITY_LOW + 10, on_checkpoint, store, NULL)
		: g_timeout_add_full(G_PRIORITY_LOW + 10, STORE_CHECKPOINT_QUIET_MS, on_checkpoint, store, NULL);
	return SQLITE_OK;
}

/* SQLite counts the memory it holds under a global mutex, on every malloc
 * and free: a tenth of a sync's SQLite work, for a figure nothing reads.
 * This must come before SQLite initialises (the first open). */
static void configure_sqlite(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		g_once_init_leave(&done, 1);
	}
}

Store *store_open_at_version(const char *path, int target_version, GError **error)
{
	g_return_val_if_fail(target_version >= 0 && target_version <= STORE_SCHEMA_VERSION, NULL);
	configure_sqlite();

	g_autofree char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		int errsv = errno;
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "cannot create %s: %s", dir,
			    g_strerror(errsv));
		return NULL;
	}

	Store *store = g_new0(Store, 1);
	store->path = g_strdup(path);
	store->statements = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, finalize_statement);
	if (sqlite3_open_v2(path, &store->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		db_set_error(error, store, "cannot open");
		store_close(store);
		return NULL;
	}
	sqlite3_busy_timeout(store->db, STORE_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(store->db, 1);
	if (!db_exec(store, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
		  error) ||
	    !migrate(store, target_version, error)) {
		store_close(store);
		return NULL;
	}
	sqlite3_wal_hook(store->db, on_wal_commit, store);
	return store;
}

Store *store_open(const char *path, GError **error)
{
	return store_open_at_version(path, STORE_SCHEMA_VERSION, error);
}

void store_close(Store *store)
{
	if (!store)
		return;
	g_clear_handle_id(&store->checkpoint_source, g_source_remove);
	if (store->statements)
		g_hash_table_destroy(store->statements);
	if (store->db)
		sqlite3_close(store->db);
	g_free(store->path);
	g_free(store);
}

const char *store_path(Store *store)
{
	return store->path;
}

/* ---- sources ---- */

void store_source_free(StoreSource *source)
{
	if (!source)
		return;
	g_free(source->name);
	g_free(source->type);
	g_free(source->last_result);
	g_free(source->last_message);
	g_free(source);
}

gboolean store_source_ensure(Store *store, const char *name, const char *type, gint64 *out_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "INSERT INTO sources (name, type) VALUES (?1, ?2) "
					    "ON CONFLICT (name) DO UPDATE SET type = excluded.type");
	db_bind_text(stmt, 1, name);
	db_bind_text(stmt, 2, type);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	stmt = db_prepare(store, "SELECT id FROM sources WHERE name = ?1");
	db_bind_text(stmt, 1, name);
	if (sqlite3_step(stmt) != SQLITE_ROW) {
		db_set_error(error, store, "source row missing");
		sqlite3_reset(stmt);
		return FALSE;
	}
	*out_id = sqlite3_column_int64(stmt, 0);
	sqlite3_reset(stmt);
	return TRUE;
}

StoreSource *store_source_get(Store *store, const char *name)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT s.id, s.name, s.type, s.last_sync, s.last_result, s.last_message, s.baseline_done,"
		" (SELECT count(*) FROM records r WHERE r.source_id = s.id AND r.gone_at IS NULL)"
		" FROM sources s WHERE s.name = ?1");
	StoreSource *source = NULL;

	db_bind_text(stmt, 1, name);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		source = g_new0(StoreSource, 1);
		source->id = sqlite3_column_int64(stmt, 0);
		source->name = db_column_text(stmt, 1);
		source->type = db_column_text(stmt, 2);
		source->last_sync = sqlite3_column_int64(stmt, 3);
		source->last_result = db_column_text(stmt, 4);
		source->last_message = db_column_text(stmt, 5);
		source->baseline_done = sqlite3_column_int(stmt, 6);
		source->contacts = sqlite3_column_int64(stmt, 7);
	}
	sqlite3_reset(stmt);
	return source;
}

gboolean store_source_set_result(Store *store, gint64 source_id, gint64 at, const char *result,
				 const char *message, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE sources SET last_sync = ?2, last_result = ?3, last_message = ?4,"
		" baseline_done = baseline_done OR ?3 = 'ok' WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, source_id);
	db_bind_time(stmt, 2, at);
	db_bind_text(stmt, 3, result);
	db_bind_text(stmt, 4, message);
	return db_step_done(store, stmt, error);
}

/* ---- records and contacts ---- */

SourceRecord *source_record_new(void)
{
	SourceRecord *record = g_new0(SourceRecord, 1);
	record->emails = g_ptr_array_new_with_free_func(g_free);
	record->urls = g_ptr_array_new_with_free_func(g_free);
	record->categories = g_ptr_array_new_with_free_func(g_free);
	record->fields = json_object_new();
	return record;
}

void source_record_free(SourceRecord *record)
{
	if (!record)
		return;
	g_free(record->key);
	g_free(record->name);
	g_free(record->uid);
	g_ptr_array_unref(record->emails);
	g_ptr_array_unref(record->urls);
	g_ptr_array_unref(record->categories);
	g_free(record->org);
	g_free(record->unit);
	g_free(record->title);
	g_free(record->etag);
	if (record->fields)
		json_object_unref(record->fields);
	g_free(record->fields_text);
	g_free(record);
}

void source_record_seal(SourceRecord *record)
{
	if (!record->fields)
		return;
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, g_steal_pointer(&record->fields));
	g_free(record->fields_text);
	record->fields_text = json_to_string(node, FALSE);
}

static char *record_fields_json(const SourceRecord *record)
{
	if (record->fields_text)
		return g_strdup(record->fields_text);
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(node, record->fields);
	return json_to_string(node, FALSE);
}

static char *join_lines(const GPtrArray *array)
{
	if (!array || array->len == 0)
		return NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	for (guint i = 0; i < array->len; i++) {
		if (i)
			g_string_append_c(text, '\n');
		g_string_append(text, g_ptr_array_index(array, i));
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/* ---- applying a sync ---- */

/* A record's identifiers, normalised once for the lookups and the inserts. */
typedef struct {
	GPtrArray *emails; /* owned char* */
	GPtrArray *urls;   /* owned char* */
} RecordKeys;

static void record_keys_init(RecordKeys *keys, const SourceRecord *record)
{
	keys->emails = g_ptr_array_new_full(record->emails->len, g_free);
	for (guint i = 0; i < record->emails->len; i++)
		g_ptr_array_add(keys->emails, normalize_email(g_ptr_array_index(record->emails, i)));
	keys->urls = g_ptr_array_new_full(record->urls->len, g_free);
	for (guint i = 0; i < record->urls->len; i++)
		g_ptr_array_add(keys->urls, normalize_url(g_ptr_array_index(record->urls, i)));
}

static void record_keys_clear(RecordKeys *keys)
{
	g_clear_pointer(&keys->emails, g_ptr_array_unref);
	g_clear_pointer(&keys->urls, g_ptr_array_unref);
}

/* The contact an identifier belongs to, or 0: a present one before a gone
 * one, then the oldest. Picked here rather than by ORDER BY, which costs
 * SQLite a sorter on every one of a sync's many lookups. */
static gint64 contact_by_identifier(Store *store, const char *kind, const char *value)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT i.contact_id, c.gone FROM identifiers i JOIN contacts c ON c.id = i.contact_id"
		" WHERE i.kind = ?1 AND i.value = ?2");
	gint64 best = 0;
	gboolean best_gone = TRUE;

	db_bind_borrowed(stmt, 1, kind);
	db_bind_borrowed(stmt, 2, value);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);
		gboolean gone = sqlite3_column_int(stmt, 1) != 0;
		if (!best || (best_gone && !gone) || (gone == best_gone && id < best)) {
			best = id;
			best_gone = gone;
		}
	}
	sqlite3_reset(stmt);
	return best;
}

/* An identifier as a key of SyncRun's own_identifiers. */
static char *identifier_key(const char *kind, const char *value)
{
	return g_strconcat(kind, ":", value, NULL);
}

/* The contact one identifier belongs to: from OWN (see SyncRun) when
 * given, else from the store. */
static gint64 contact_by_identifier_in(Store *store, GHashTable *own, const char *kind, const char *value)
{
	if (!own)
		return contact_by_identifier(store, kind, value);
	g_autofree char *key = identifier_key(kind, value);
	gint64 *id = g_hash_table_lookup(own, key);
	return id ? *id : 0;
}

/* The contact this record's identifiers (UID, e-mail, profile URL) already
 * belong to, or 0. */
static gint64 find_contact_by_identifiers(Store *store, GHashTable *own, const SourceRecord *record,
					  const RecordKeys *keys)
{
	gint64 found = record->uid ? contact_by_identifier_in(store, own, "uid", record->uid) : 0;

	for (guint i = 0; !found && i < keys->emails->len; i++)
		found = contact_by_identifier_in(store, own, "email", g_ptr_array_index(keys->emails, i));
	for (guint i = 0; !found && i < keys->urls->len; i++)
		found = contact_by_identifier_in(store, own, "url", g_ptr_array_index(keys->urls, i));
	return found;
}

static gboolean insert_identifier(Store *store, GHashTable *own, gint64 contact_id, const char *kind,
				  const char *value, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "INSERT OR IGNORE INTO identifiers (contact_id, kind, value) VALUES (?1, ?2, ?3)");

	if (own) {
		/* The first contact keeps it, as the oldest does in the store. */
		char *key = identifier_key(kind, value);
		if (g_hash_table_contains(own, key))
			g_free(key);
		else
			g_hash_table_insert(own, key, g_memdup2(&contact_id, sizeof contact_id));
	}
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_borrowed(stmt, 2, kind);
	db_bind_borrowed(stmt, 3, value);
	return db_step_done(store, stmt, error);
}

/* OWN: see SyncRun; NULL outside a sync. */
static gboolean insert_identifiers(Store *store, GHashTable *own, gint64 contact_id, const char *uid,
				   const RecordKeys *keys, GError **error)
{
	if (uid && !insert_identifier(store, own, contact_id, "uid", uid, error))
		return FALSE;
	for (guint i = 0; i < keys->emails->len; i++)
		if (!insert_identifier(store, own, contact_id, "email", g_ptr_array_index(keys->emails, i), error))
			return FALSE;
	for (guint i = 0; i < keys->urls->len; i++)
		if (!insert_identifier(store, own, contact_id, "url", g_ptr_array_index(keys->urls, i), error))
			return FALSE;
	return TRUE;
}

static gboolean add_identifiers(Store *store, gint64 contact_id, const SourceRecord *record, GError **error)
{
	RecordKeys keys;

	record_keys_init(&keys, record);
	gboolean ok = insert_identifiers(store, NULL, contact_id, record->uid, &keys, error);
	record_keys_clear(&keys);
	return ok;
}

/* The contact row shows what its records say now. NAME_KEY is the record's
 * normalised name, or NULL to compute it. */
static gboolean update_contact_from_record(Store *store, gint64 contact_id, const SourceRecord *record,
					   const char *name_key, GError **error)
{
	g_autofree char *own_key = name_key ? NULL : normalize_name(record->name);
	g_autofree char *categories = join_lines(record->categories);
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE contacts SET name = ?2, name_key = ?3, org = ?4, title = ?5, categories = ?6,"
		" connected_on = coalesce(?7, connected_on), gone = 0 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_borrowed(stmt, 2, record->name);
	db_bind_borrowed(stmt, 3, name_key ? name_key : own_key);
	db_bind_borrowed(stmt, 4, record->org);
	db_bind_borrowed(stmt, 5, record->title);
	db_bind_borrowed(stmt, 6, categories);
	db_bind_time(stmt, 7, record->connected_on);
	return db_step_done(store, stmt, error);
}

/* A new contact showing RECORD; NAME_KEY as for update_contact_from_record(). */
static gboolean insert_contact(Store *store, const SourceRecord *record, const char *name_key, gint64 now,
			       gint64 *out_id, GError **error)
{
	g_autofree char *own_key = name_key ? NULL : normalize_name(record->name);
	g_autofree char *categories = join_lines(record->categories);
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO contacts (name, name_key, org, title, categories, connected_on, first_seen)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");

	db_bind_borrowed(stmt, 1, record->name);
	db_bind_borrowed(stmt, 2, name_key ? name_key : own_key);
	db_bind_borrowed(stmt, 3, record->org);
	db_bind_borrowed(stmt, 4, record->title);
	db_bind_borrowed(stmt, 5, categories);
	db_bind_time(stmt, 6, record->connected_on);
	sqlite3_bind_int64(stmt, 7, now);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	*out_id = sqlite3_last_insert_rowid(store->db);
	return TRUE;
}

static gboolean create_contact(Store *store, const SourceRecord *record, gint64 now, gint64 *out_id, GError **error)
{
	return insert_contact(store, record, NULL, now, out_id, error);
}

void employment_change_free(EmploymentChange *change)
{
	if (!change)
		return;
	g_free(change->old_org);
	g_free(change->old_title);
	g_free(change->org);
	g_free(change->org_key);
	g_free(change->title);
	g_free(change);
}

/* Keeps the employment timeline per contact and source: the same
 * (normalised) organisation and title extend the latest row (reopening it
 * after a gap, such as an export without a company), anything else closes
 * it and opens one. A move from the latest organisation or title to
 * another is added to CHANGES. A contact just created for RECORD (FRESH)
 * has no timeline to look up. */
static gboolean record_employment(Store *store, gint64 contact_id, gint64 source_id, const SourceRecord *record,
				  gboolean fresh, gint64 now, GPtrArray *changes, GError **error)
{
	g_autofree char *org_key = record->org ? normalize_org(record->org) : NULL;
	g_autofree char *old_org = NULL, *old_org_key = NULL, *old_title = NULL;
	sqlite3_stmt *stmt;
	gint64 latest_id = 0;
	gboolean latest_current = FALSE;

	if (!fresh) {
		stmt = db_prepare(store,
			"SELECT id, org_key, org, title, current FROM employment"
			" WHERE contact_id = ?1 AND source_id = ?2 ORDER BY current DESC, id DESC LIMIT 1");
		sqlite3_bind_int64(stmt, 1, contact_id);
		sqlite3_bind_int64(stmt, 2, source_id);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			latest_id = sqlite3_column_int64(stmt, 0);
			old_org_key = db_column_text(stmt, 1);
			old_org = db_column_text(stmt, 2);
			old_title = db_column_text(stmt, 3);
			latest_current = sqlite3_column_int(stmt, 4);
		}
		sqlite3_reset(stmt);
	}

	if (!org_key) {
		/* No organisation now: the job ends, but no move is known yet. */
		if (!latest_current)
			return TRUE;
		stmt = db_prepare(store, "UPDATE employment SET current = 0 WHERE id = ?1");
		sqlite3_bind_int64(stmt, 1, latest_id);
		return db_step_done(store, stmt, error);
	}

	gboolean same_org = g_strcmp0(old_org_key, org_key) == 0;
	if (latest_id && same_org) {
		g_autofree char *title_key = normalize_name(record->title);
		g_autofree char *old_title_key = normalize_name(old_title);
		if (strcmp(title_key, old_title_key) == 0) {
			stmt = db_prepare(store, "UPDATE employment SET last_seen = ?2, current = 1 WHERE id = ?1");
			sqlite3_bind_int64(stmt, 1, latest_id);
			sqlite3_bind_int64(stmt, 2, now);
			return db_step_done(store, stmt, error);
		}
	}
	if (latest_current) {
		stmt = db_prepare(store, "UPDATE employment SET current = 0 WHERE id = ?1");
		sqlite3_bind_int64(stmt, 1, latest_id);
		if (!db_step_done(store, stmt, error))
			return FALSE;
	}
	if (latest_id && changes) {
		EmploymentChange *change = g_new0(EmploymentChange, 1);
		change->contact_id = contact_id;
		change->new_org = !same_org;
		change->old_org = g_steal_pointer(&old_org);
		change->old_title = g_steal_pointer(&old_title);
		change->org = g_strdup(record->org);
		change->org_key = g_strdup(org_key);
		change->title = g_strdup(record->title);
		g_ptr_array_add(changes, change);
	}
	stmt = db_prepare(store,
		"INSERT INTO employment (contact_id, source_id, org, org_key, unit, title, first_seen, last_seen)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)");
	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, source_id);
	db_bind_borrowed(stmt, 3, record->org);
	db_bind_borrowed(stmt, 4, org_key);
	db_bind_borrowed(stmt, 5, record->unit);
	db_bind_borrowed(stmt, 6, record->title);
	sqlite3_bind_int64(stmt, 7, now);
	return db_step_done(store, stmt, error);
}

static gboolean add_suggestion(Store *store, gint64 a, gint64 b, const char *reason, gint64 now, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT OR IGNORE INTO suggestions (a, b, reason, created_at) VALUES (min(?1, ?2), max(?1, ?2), ?3, ?4)");
	sqlite3_bind_int64(stmt, 1, a);
	sqlite3_bind_int64(stmt, 2, b);
	db_bind_text(stmt, 3, reason);
	sqlite3_bind_int64(stmt, 4, now);
	return db_step_done(store, stmt, error);
}

/* TRUE when the contact and the record both have profile URLs and share
 * none: two people called Ken Suzuki. */
static gboolean urls_conflict(Store *store, gint64 contact_id, const RecordKeys *keys)
{
	sqlite3_stmt *stmt;
	gboolean contact_has = FALSE, shared = FALSE;

	if (keys->urls->len == 0)
		return FALSE;
	/* "+kind": by contact (identifiers_contact); SQLite would otherwise
	 * take the primary key by kind and read every URL of every contact. */
	stmt = db_prepare(store, "SELECT value FROM identifiers WHERE contact_id = ?1 AND +kind = 'url'");
	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		contact_has = TRUE;
		for (guint i = 0; i < keys->urls->len && !shared; i++)
			shared = g_strcmp0(g_ptr_array_index(keys->urls, i), (const char *)sqlite3_column_text(stmt, 0)) == 0;
	}
	sqlite3_reset(stmt);
	return contact_has && !shared;
}

/* ---- records held for one sync ---- */

/* Records are copied one after the other into blocks of this size (a
 * larger record gets a block of its own): no allocation per string, and no
 * copy of everything when a buffer grows. */
#define RECORD_PACK_BLOCK ((gsize) 64 * 1024)

struct RecordPack {
	GPtrArray *blocks; /* owned GByteArray*, filled in order, never grown past their size */
	guint count;
};

/* A packed record: its size (guint32, itself included), then its strings
 * (a guint32 of the length plus one, 0 for NULL, then the bytes and the
 * NUL) in the order of PackString, its lists (a guint32 count, then the
 * strings) emails, urls, categories, and connected_on (gint64). */
typedef enum {
	PACK_NAME_KEY, /* normalize_name() of the name, for the lookups by name */
	PACK_KEY,
	PACK_NAME,
	PACK_UID,
	PACK_ORG,
	PACK_UNIT,
	PACK_TITLE,
	PACK_ETAG,
	PACK_FIELDS,   /* the sealed fields */
	PACK_N_STRINGS,
} PackString;

#define PACK_N_LISTS 3

RecordPack *record_pack_new(void)
{
	RecordPack *pack = g_new0(RecordPack, 1);
	pack->blocks = g_ptr_array_new_with_free_func((GDestroyNotify) g_byte_array_unref);
	return pack;
}

void record_pack_free(RecordPack *pack)
{
	if (!pack)
		return;
	g_ptr_array_unref(pack->blocks);
	g_free(pack);
}

guint record_pack_count(const RecordPack *pack)
{
	return pack->count;
}

static gsize packed_string_size(const char *s)
{
	return sizeof(guint32) + (s ? strlen(s) + 1 : 0);
}

static void pack_u32(GByteArray *block, guint32 value)
{
	g_byte_array_append(block, (const guint8 *) &value, sizeof value);
}

static void pack_string(GByteArray *block, const char *s)
{
	guint32 size = s ? (guint32) strlen(s) + 1 : 0;

	pack_u32(block, size);
	if (s)
		g_byte_array_append(block, (const guint8 *) s, size);
}

void record_pack_add(RecordPack *pack, const SourceRecord *record)
{
	g_autofree char *fields = record->fields_text ? NULL : record_fields_json(record);
	g_autofree char *name_key = normalize_name(record->name);
	const char *strings[PACK_N_STRINGS] = {
		[PACK_NAME_KEY] = name_key, [PACK_KEY] = record->key, [PACK_NAME] = record->name,
		[PACK_UID] = record->uid, [PACK_ORG] = record->org, [PACK_UNIT] = record->unit,
		[PACK_TITLE] = record->title, [PACK_ETAG] = record->etag,
		[PACK_FIELDS] = fields ? fields : record->fields_text,
	};
	const GPtrArray *lists[PACK_N_LISTS] = { record->emails, record->urls, record->categories };
	gsize size = sizeof(guint32) + sizeof(gint64);

	for (guint i = 0; i < PACK_N_STRINGS; i++)
		size += packed_string_size(strings[i]);
	for (guint l = 0; l < PACK_N_LISTS; l++) {
		size += sizeof(guint32);
		for (guint i = 0; i < lists[l]->len; i++)
			size += packed_string_size(g_ptr_array_index(lists[l], i));
	}
	g_return_if_fail(size <= G_MAXUINT32);

	GByteArray *block = pack->blocks->len ? g_ptr_array_index(pack->blocks, pack->blocks->len - 1) : NULL;
	if (!block || block->len + size > RECORD_PACK_BLOCK) {
		block = g_byte_array_sized_new((guint) MAX(RECORD_PACK_BLOCK, size));
		g_ptr_array_add(pack->blocks, block);
	}
	pack_u32(block, (guint32) size);
	for (guint i = 0; i < PACK_N_STRINGS; i++)
		pack_string(block, strings[i]);
	for (guint l = 0; l < PACK_N_LISTS; l++) {
		pack_u32(block, lists[l]->len);
		for (guint i = 0; i < lists[l]->len; i++)
			pack_string(block, g_ptr_array_index(lists[l], i));
	}
	g_byte_array_append(block, (const guint8 *) &record->connected_on, sizeof record->connected_on);
	pack->count++;
}

typedef struct {
	const RecordPack *pack; /* borrowed */
	guint block;
	gsize offset;
} PackCursor;

static guint32 unpack_u32(const guint8 **p)
{
	guint32 value;
	memcpy(&value, *p, sizeof value);
	*p += sizeof value;
	return value;
}

static const char *unpack_string(const guint8 **p)
{
	guint32 size = unpack_u32(p);
	const char *s = size ? (const char *) *p : NULL;
	*p += size;
	return s;
}

/* The next packed record's start, or NULL after the last. */
static const guint8 *pack_next(PackCursor *cursor)
{
	while (cursor->block < cursor->pack->blocks->len) {
		const GByteArray *block = g_ptr_array_index(cursor->pack->blocks, cursor->block);
		if (cursor->offset < block->len) {
			const guint8 *entry = block->data + cursor->offset;
			guint32 size;
			memcpy(&size, entry, sizeof size);
			cursor->offset += size;
			return entry;
		}
		cursor->block++;
		cursor->offset = 0;
	}
	return NULL;
}

/* A packed record as a SourceRecord whose strings point into the pack:
 * VIEW is read, never freed; its lists (no free function) are reused. */
static const char *unpack_record(const guint8 *entry, SourceRecord *view)
{
	const guint8 *p = entry + sizeof(guint32);
	const char *strings[PACK_N_STRINGS];
	GPtrArray *lists[PACK_N_LISTS] = { view->emails, view->urls, view->categories };

	for (guint i = 0; i < PACK_N_STRINGS; i++)
		strings[i] = unpack_string(&p);
	for (guint l = 0; l < PACK_N_LISTS; l++) {
		guint32 n = unpack_u32(&p);
		g_ptr_array_set_size(lists[l], 0);
		for (guint32 i = 0; i < n; i++)
			g_ptr_array_add(lists[l], (char *) unpack_string(&p));
	}
	memcpy(&view->connected_on, p, sizeof view->connected_on);
	view->key = (char *) strings[PACK_KEY];
	view->name = (char *) strings[PACK_NAME];
	view->uid = (char *) strings[PACK_UID];
	view->org = (char *) strings[PACK_ORG];
	view->unit = (char *) strings[PACK_UNIT];
	view->title = (char *) strings[PACK_TITLE];
	view->etag = (char *) strings[PACK_ETAG];
	view->fields_text = (char *) strings[PACK_FIELDS];
	return strings[PACK_NAME_KEY];
}

static const char *unpack_name_key(const guint8 *entry)
{
	const guint8 *p = entry + sizeof(guint32);
	return unpack_string(&p);
}

/* ---- the one transaction of a sync ---- */

typedef struct {
	Store *store;            /* borrowed */
	gint64 source_id, now;
	gboolean fresh_source;   /* the source had no record at all: no key to look up */
	SyncCounts counts;
	GPtrArray *changes;      /* owned EmploymentChange* */
	GHashTable *name_counts; /* owned: name key (borrowed from the pack) -> records of this sync with it */
	GHashTable *seen;        /* owned set of the keys seen (borrowed from the pack and the batch) */
	/* When the store held no contact as the sync began (a first run),
	 * every contact is this sync's own: its identifiers ("kind:value" ->
	 * owned contact id) are looked up here, not in the store, and no name
	 * can join a record to another source's contact. NULL otherwise. */
	GHashTable *own_identifiers;
} SyncRun;

/* The one contact a new record with no shared identifier joins by name:
 * the normalised name must be unique among present contacts and in this
 * sync, the contact must not have a record of this source already, and no
 * profile URL may disagree. Near misses are kept in *OUT_SUGGEST. */
static gint64 find_contact_by_name(SyncRun *run, const char *name_key, const RecordKeys *keys, GArray *out_suggest)
{
	Store *store = run->store;
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT c.id, EXISTS (SELECT 1 FROM records r WHERE r.contact_id = c.id AND r.source_id = ?2"
		" AND r.gone_at IS NULL) FROM contacts c WHERE c.name_key = ?1 AND c.gone = 0");
	g_autoptr(GArray) candidates = g_array_new(FALSE, FALSE, sizeof(gint64));
	gboolean same_source = FALSE;

	if (!*name_key || run->own_identifiers)
		return 0;
	db_bind_borrowed(stmt, 1, name_key);
	sqlite3_bind_int64(stmt, 2, run->source_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);
		g_array_append_val(candidates, id);
		same_source |= sqlite3_column_int(stmt, 1);
	}
	sqlite3_reset(stmt);

	gboolean unique_here = GPOINTER_TO_UINT(g_hash_table_lookup(run->name_counts, name_key)) <= 1;
	if (candidates->len == 1 && unique_here && !same_source &&
	    !urls_conflict(store, g_array_index(candidates, gint64, 0), keys))
		return g_array_index(candidates, gint64, 0);
	if (!same_source)
		g_array_append_vals(out_suggest, candidates->data, candidates->len);
	return 0;
}

/* A record seen again unchanged: only when it was seen moves. */
static gboolean touch_record(SyncRun *run, gint64 record_id, gint64 contact_id, const char *etag, GError **error)
{
	Store *store = run->store;
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE records SET last_seen = ?2, etag = coalesce(?3, etag) WHERE id = ?1");

	run->counts.unchanged++;
	sqlite3_bind_int64(stmt, 1, record_id);
	sqlite3_bind_int64(stmt, 2, run->now);
	db_bind_borrowed(stmt, 3, etag);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	stmt = db_prepare(store, "UPDATE employment SET last_seen = ?3 WHERE contact_id = ?1 AND source_id = ?2 AND current = 1");
	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, run->source_id);
	sqlite3_bind_int64(stmt, 3, run->now);
	return db_step_done(store, stmt, error);
}

/* A record new to the source: the contact it joins (by identifier, else by
 * name, else a new one), and its row. *OUT_FRESH: the contact is new. */
static gboolean insert_record(SyncRun *run, const SourceRecord *record, const char *name_key, const RecordKeys *keys,
			      gint64 *out_contact_id, gboolean *out_fresh, GError **error)
{
	Store *store = run->store;
	g_autoptr(GArray) suggest = g_array_new(FALSE, FALSE, sizeof(gint64));
	gint64 contact_id = find_contact_by_identifiers(store, run->own_identifiers, record, keys);

	if (!contact_id)
		contact_id = find_contact_by_name(run, name_key, keys, suggest);
	*out_fresh = contact_id == 0;
	if (!contact_id && !insert_contact(store, record, name_key, run->now, &contact_id, error))
		return FALSE;
	for (guint i = 0; i < suggest->len; i++)
		if (!add_suggestion(store, contact_id, g_array_index(suggest, gint64, i), "same name", run->now, error))
			return FALSE;
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO records (source_id, key, contact_id, fields, first_seen, last_seen, etag)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)");
	sqlite3_bind_int64(stmt, 1, run->source_id);
	db_bind_borrowed(stmt, 2, record->key);
	sqlite3_bind_int64(stmt, 3, contact_id);
	db_bind_borrowed(stmt, 4, record->fields_text);
	sqlite3_bind_int64(stmt, 5, run->now);
	db_bind_borrowed(stmt, 6, record->etag);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	run->counts.added++;
	*out_contact_id = contact_id;
	return TRUE;
}

static gboolean update_record(SyncRun *run, gint64 record_id, const SourceRecord *record, gboolean was_gone,
			      GError **error)
{
	sqlite3_stmt *stmt = db_prepare(run->store,
		"UPDATE records SET fields = ?2, last_seen = ?3, gone_at = NULL, etag = ?4 WHERE id = ?1");

	sqlite3_bind_int64(stmt, 1, record_id);
	db_bind_borrowed(stmt, 2, record->fields_text);
	sqlite3_bind_int64(stmt, 3, run->now);
	db_bind_borrowed(stmt, 4, record->etag);
	if (!db_step_done(run->store, stmt, error))
		return FALSE;
	if (was_gone)
		run->counts.added++;
	else
		run->counts.updated++;
	return TRUE;
}

/* RECORD's fields are sealed (fields_text). A record is unchanged when its
 * fields text is. */
static gboolean sync_one_record(SyncRun *run, const SourceRecord *record, const char *name_key, GError **error)
{
	Store *store = run->store;
	gint64 record_id = 0, contact_id = 0;
	gboolean was_gone = FALSE, same = FALSE, fresh = FALSE;

	if (!run->fresh_source) {
		sqlite3_stmt *stmt = db_prepare(store,
			"SELECT id, contact_id, fields, gone_at FROM records WHERE source_id = ?1 AND key = ?2");
		sqlite3_bind_int64(stmt, 1, run->source_id);
		db_bind_borrowed(stmt, 2, record->key);
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			record_id = sqlite3_column_int64(stmt, 0);
			contact_id = sqlite3_column_int64(stmt, 1);
			same = g_strcmp0((const char *)sqlite3_column_text(stmt, 2), record->fields_text) == 0;
			was_gone = sqlite3_column_type(stmt, 3) != SQLITE_NULL;
		}
		sqlite3_reset(stmt);
	}
	if (record_id && same && !was_gone)
		return touch_record(run, record_id, contact_id, record->etag, error);

	RecordKeys keys;
	record_keys_init(&keys, record);
	gboolean ok = record_id ? update_record(run, record_id, record, was_gone, error)
				: insert_record(run, record, name_key, &keys, &contact_id, &fresh, error);
	/* A new contact already shows the record. */
	ok = ok && (fresh || update_contact_from_record(store, contact_id, record, name_key, error)) &&
	     insert_identifiers(store, run->own_identifiers, contact_id, record->uid, &keys, error) &&
	     record_employment(store, contact_id, run->source_id, record, fresh, run->now,
			       was_gone ? NULL : run->changes, error);
	record_keys_clear(&keys);
	return ok;
}

void sync_outcome_clear(SyncOutcome *outcome)
{
	g_clear_pointer(&outcome->held_reason, g_free);
	g_clear_pointer(&outcome->changes, g_ptr_array_unref);
}

static gboolean set_held(Store *store, gint64 source_id, gint64 since, const char *reason, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE sources SET held_since = ?2, held_reason = ?3 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, source_id);
	db_bind_time(stmt, 2, since);
	db_bind_text(stmt, 3, reason);
	return db_step_done(store, stmt, error);
}

/* How often each name occurs in this sync: a name two records share is no
 * evidence for either. */
static GHashTable *count_names(const RecordPack *pack)
{
	GHashTable *counts = g_hash_table_new(g_str_hash, g_str_equal);
	PackCursor cursor = { pack, 0, 0 };
	const guint8 *entry;

	while ((entry = pack_next(&cursor))) {
		const char *key = unpack_name_key(entry);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(counts, key));
		g_hash_table_insert(counts, (gpointer) key, GUINT_TO_POINTER(n + 1));
	}
	return counts;
}

static gboolean apply_records(SyncRun *run, const RecordPack *pack, GError **error)
{
	g_autoptr(GPtrArray) emails = g_ptr_array_new();
	g_autoptr(GPtrArray) urls = g_ptr_array_new();
	g_autoptr(GPtrArray) categories = g_ptr_array_new();
	SourceRecord view = { .emails = emails, .urls = urls, .categories = categories };
	PackCursor cursor = { pack, 0, 0 };
	const guint8 *entry;

	while ((entry = pack_next(&cursor))) {
		const char *name_key = unpack_record(entry, &view);
		if (!g_hash_table_add(run->seen, view.key)) {
			log_warning("source %" G_GINT64_FORMAT ": two records share the key %s, ignoring the second",
				    run->source_id, view.key);
			continue;
		}
		if (!sync_one_record(run, &view, name_key, error))
			return FALSE;
	}
	return TRUE;
}

/* A contact is gone when it has records and none is present, and a job
 * it holds through a source ends when its records there are gone. Only
 * the contacts a change touched are settled: a scan of every contact was
 * a tenth of a sync of 10,000 cards. */
static gboolean settle_contact(Store *store, gint64 contact_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE contacts SET gone = NOT EXISTS (SELECT 1 FROM records r WHERE r.contact_id = ?1 AND r.gone_at IS NULL)"
		" WHERE id = ?1 AND EXISTS (SELECT 1 FROM records r WHERE r.contact_id = ?1)");
	sqlite3_bind_int64(stmt, 1, contact_id);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	stmt = db_prepare(store,
		"UPDATE employment SET current = 0 WHERE contact_id = ?1 AND current = 1 AND NOT EXISTS"
		" (SELECT 1 FROM records r WHERE r.contact_id = ?1 AND r.source_id = employment.source_id"
		" AND r.gone_at IS NULL)");
	sqlite3_bind_int64(stmt, 1, contact_id);
	return db_step_done(store, stmt, error);
}

/* Marks the record ID gone; its contact is settled at the end of the sync. */
static gboolean record_went(SyncRun *run, gint64 id, gint64 contact_id, GHashTable *contacts, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(run->store, "UPDATE records SET gone_at = ?2 WHERE id = ?1");

	sqlite3_bind_int64(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, run->now);
	if (!db_step_done(run->store, stmt, error))
		return FALSE;
	g_hash_table_add(contacts, g_memdup2(&contact_id, sizeof contact_id));
	run->counts.gone++;
	return TRUE;
}

/* The records of BATCH that went: the ones not seen when it is complete,
 * else the ones it names. Their contacts are added to CONTACTS. */
static gboolean mark_gone(SyncRun *run, const SyncBatch *batch, GHashTable *contacts, GError **error)
{
	Store *store = run->store;
	typedef struct {
		gint64 id, contact_id;
	} GoneRecord;
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(GoneRecord));
	sqlite3_stmt *stmt;

	if (batch->complete) {
		for (guint i = 0; batch->unchanged_keys && i < batch->unchanged_keys->len; i++) {
			g_hash_table_add(run->seen, g_ptr_array_index(batch->unchanged_keys, i));
			run->counts.unchanged++;
		}
		stmt = db_prepare(store, "SELECT id, contact_id, key FROM records WHERE source_id = ?1 AND gone_at IS NULL");
		sqlite3_bind_int64(stmt, 1, run->source_id);
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			GoneRecord row = { sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1) };
			if (!g_hash_table_contains(run->seen, sqlite3_column_text(stmt, 2)))
				g_array_append_val(gone, row);
		}
		sqlite3_reset(stmt);
	}
	for (guint i = 0; !batch->complete && batch->removed_keys && i < batch->removed_keys->len; i++) {
		stmt = db_prepare(store,
			"SELECT id, contact_id FROM records WHERE source_id = ?1 AND key = ?2 AND gone_at IS NULL");
		sqlite3_bind_int64(stmt, 1, run->source_id);
		db_bind_text(stmt, 2, g_ptr_array_index(batch->removed_keys, i));
		if (sqlite3_step(stmt) == SQLITE_ROW) {
			GoneRecord row = { sqlite3_column_int64(stmt, 0), sqlite3_column_int64(stmt, 1) };
			g_array_append_val(gone, row);
		}
		sqlite3_reset(stmt);
	}
	for (guint i = 0; i < gone->len; i++) {
		const GoneRecord *row = &g_array_index(gone, GoneRecord, i);
		if (!record_went(run, row->id, row->contact_id, contacts, error))
			return FALSE;
	}
	return TRUE;
}

gboolean store_sync_pack(Store *store, gint64 source_id, const RecordPack *pack, const SyncBatch *batch, gint64 now,
			 const SyncPolicy *policy, SyncOutcome *outcome, GError **error)
{
	g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func((GDestroyNotify)employment_change_free);
	g_autoptr(GHashTable) name_counts = count_names(pack);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) went = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_autoptr(GHashTable) own_identifiers = NULL;
	SyncRun run = { store, source_id, now, FALSE, { 0 }, changes, name_counts, seen, NULL };
	sqlite3_stmt *stmt;

	memset(outcome, 0, sizeof *outcome);
	if (!db_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	/* Lookups in an empty store were a sixth of a first sync. */
	if (!db_query_int(store, "SELECT EXISTS (SELECT 1 FROM contacts)", 1))
		run.own_identifiers = own_identifiers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	stmt = db_prepare(store, "SELECT baseline_done, (SELECT count(*) FROM records r WHERE r.source_id = s.id"
			      " AND r.gone_at IS NULL), NOT EXISTS (SELECT 1 FROM records r WHERE r.source_id = s.id)"
			      " FROM sources s WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, source_id);
	gboolean baseline_done = FALSE;
	gint64 present = 0;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		baseline_done = sqlite3_column_int(stmt, 0);
		present = sqlite3_column_int64(stmt, 1);
		run.fresh_source = sqlite3_column_int(stmt, 2);
	}
	sqlite3_reset(stmt);

	if (!apply_records(&run, pack, error) || !mark_gone(&run, batch, went, error))
		goto fail;

	/* A server glitch (an empty or rewritten address book) must not delete
	 * history or raise a storm of events: such a sync is held. */
	SyncCounts counts = run.counts;
	guint touched = counts.updated + counts.gone;
	if (policy && !policy->accept && baseline_done && present > 0 && touched >= policy->hold_min &&
	    (double)touched / (double)present > policy->hold_share) {
		db_exec(store, "ROLLBACK", NULL);
		outcome->held = TRUE;
		outcome->held_reason = g_strdup_printf(
			"would change %u and remove %u of %" G_GINT64_FORMAT " contacts (more than %.0f%%); "
			"`tiesctl sync --accept` applies it",
			counts.updated, counts.gone, present, policy->hold_share * 100);
		outcome->counts = counts;
		if (!set_held(store, source_id, now, outcome->held_reason, error))
			return FALSE;
		return TRUE;
	}

	GHashTableIter iter;
	gpointer contact_id;
	g_hash_table_iter_init(&iter, went);
	while (g_hash_table_iter_next(&iter, &contact_id, NULL))
		if (!settle_contact(store, *(gint64 *)contact_id, error))
			goto fail;
	if (!set_held(store, source_id, 0, NULL, error))
		goto fail;
	if (!db_exec(store, "COMMIT", error))
		goto fail;
	outcome->counts = counts;
	if (!baseline_done)
		g_ptr_array_set_size(changes, 0); /* the first sync records, it raises nothing */
	outcome->changes = g_steal_pointer(&changes);
	return TRUE;

fail:
	db_exec(store, "ROLLBACK", NULL);
	return FALSE;
}

gboolean store_sync_records(Store *store, gint64 source_id, const SyncBatch *batch, gint64 now,
			    const SyncPolicy *policy, SyncOutcome *outcome, GError **error)
{
	g_autoptr(RecordPack) pack = record_pack_new();

	for (guint i = 0; i < batch->records->len; i++)
		record_pack_add(pack, g_ptr_array_index(batch->records, i));
	return store_sync_pack(store, source_id, pack, batch, now, policy, outcome, error);
}

GHashTable *store_source_etags(Store *store, gint64 source_id)
{
	GHashTable *etags = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT key, etag FROM records WHERE source_id = ?1 AND gone_at IS NULL AND etag IS NOT NULL");

	sqlite3_bind_int64(stmt, 1, source_id);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_hash_table_insert(etags, db_column_text(stmt, 0), db_column_text(stmt, 1));
	sqlite3_reset(stmt);
	return etags;
}

char *store_source_state(Store *store, gint64 source_id)
{
	sqlite3_stmt *stmt = db_prepare(store, "SELECT sync_state FROM sources WHERE id = ?1");
	char *state = NULL;

	sqlite3_bind_int64(stmt, 1, source_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		state = db_column_text(stmt, 0);
	sqlite3_reset(stmt);
	return state;
}

gboolean store_source_set_state(Store *store, gint64 source_id, const char *state, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE sources SET sync_state = ?2 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, source_id);
	db_bind_text(stmt, 2, state);
	return db_step_done(store, stmt, error);
}

char *store_source_held(Store *store, gint64 source_id, gint64 *out_since)
{
	sqlite3_stmt *stmt = db_prepare(store, "SELECT held_reason, held_since FROM sources WHERE id = ?1 AND held_since IS NOT NULL");
	char *reason = NULL;

	sqlite3_bind_int64(stmt, 1, source_id);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		reason = db_column_text(stmt, 0);
		if (out_since)
			*out_since = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_reset(stmt);
	return reason;
}

JsonArray *store_held_syncs(Store *store)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT name, held_reason, held_since FROM sources WHERE held_since IS NOT NULL ORDER BY name");

	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		db_set_column_member(row, "source", stmt, 0);
		db_set_column_member(row, "reason", stmt, 1);
		db_set_time_member(row, "since", stmt, 2);
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

void store_contact_free(StoreContact *contact)
{
	if (!contact)
		return;
	g_free(contact->name);
	g_free(contact->org);
	g_free(contact->title);
	g_ptr_array_unref(contact->emails);
	g_ptr_array_unref(contact->urls);
	g_ptr_array_unref(contact->categories);
	g_free(contact->tier);
	g_free(contact);
}

/* "+kind" makes SQLite find the identifiers by contact (identifiers_contact):
 * by kind (the primary key), which it would pick, each row of the listing
 * reads every e-mail address of every contact. */
#define CONTACT_COLUMNS                                                                                   \
	"SELECT c.id, c.name, c.org, c.title, c.categories, c.cadence_s, c.tier, c.first_seen,"          \
	" c.connected_on, c.snoozed_until, c.gone, (SELECT max(at) FROM interactions i WHERE i.contact_id = c.id)," \
	" (SELECT group_concat(value, char(10)) FROM identifiers d WHERE d.contact_id = c.id AND +d.kind = 'email')," \
	" (SELECT group_concat(value, char(10)) FROM identifiers d WHERE d.contact_id = c.id AND +d.kind = 'url')"    \
	" FROM contacts c"

static void split_lines_into(GPtrArray *array, const unsigned char *text)
{
	if (!text)
		return;
	g_auto(GStrv) parts = g_strsplit((const char *)text, "\n", -1);
	for (char **p = parts; *p; p++)
		if (**p)
			g_ptr_array_add(array, g_strdup(*p));
}

static StoreContact *contact_from_row(sqlite3_stmt *stmt)
{
	StoreContact *contact = g_new0(StoreContact, 1);
	contact->id = sqlite3_column_int64(stmt, 0);
	contact->name = db_column_text(stmt, 1);
	contact->org = db_column_text(stmt, 2);
	contact->title = db_column_text(stmt, 3);
	contact->categories = g_ptr_array_new_with_free_func(g_free);
	split_lines_into(contact->categories, sqlite3_column_text(stmt, 4));
	contact->cadence_s = sqlite3_column_int64(stmt, 5);
	contact->tier = db_column_text(stmt, 6);
	contact->first_seen = sqlite3_column_int64(stmt, 7);
	contact->connected_on = sqlite3_column_int64(stmt, 8);
	contact->snoozed_until = sqlite3_column_int64(stmt, 9);
	contact->gone = sqlite3_column_int(stmt, 10);
	contact->last_interaction = sqlite3_column_int64(stmt, 11);
	contact->emails = g_ptr_array_new_with_free_func(g_free);
	split_lines_into(contact->emails, sqlite3_column_text(stmt, 12));
	contact->urls = g_ptr_array_new_with_free_func(g_free);
	split_lines_into(contact->urls, sqlite3_column_text(stmt, 13));
	return contact;
}

GPtrArray *store_contacts_all(Store *store)
{
	GPtrArray *contacts = g_ptr_array_new_with_free_func((GDestroyNotify)store_contact_free);
	sqlite3_stmt *stmt = db_prepare(store, CONTACT_COLUMNS " ORDER BY c.name_key, c.id");

	while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
		g_ptr_array_add(contacts, contact_from_row(stmt));
	if (stmt)
		sqlite3_reset(stmt);
	return contacts;
}

StoreContact *store_contact_get(Store *store, gint64 id)
{
	sqlite3_stmt *stmt = db_prepare(store, CONTACT_COLUMNS " WHERE c.id = ?1");
	StoreContact *contact = NULL;

	sqlite3_bind_int64(stmt, 1, id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		contact = contact_from_row(stmt);
	sqlite3_reset(stmt);
	return contact;
}

GArray *store_contacts_by_email(Store *store, const char *email)
{
	g_autofree char *key = normalize_email(email);
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT DISTINCT contact_id FROM identifiers WHERE kind = 'email' AND value = ?1 ORDER BY contact_id");

	db_bind_text(stmt, 1, key);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		gint64 id = sqlite3_column_int64(stmt, 0);
		g_array_append_val(ids, id);
	}
	sqlite3_reset(stmt);
	return ids;
}

gboolean store_contact_set_cadence(Store *store, gint64 contact_id, gint64 cadence_s, const char *tier, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE contacts SET cadence_s = ?2, tier = ?3 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_time(stmt, 2, cadence_s);
	db_bind_text(stmt, 3, tier);
	return db_step_done(store, stmt, error);
}

gboolean store_contact_set_snooze(Store *store, gint64 contact_id, gint64 until, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE contacts SET snoozed_until = ?2 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_time(stmt, 2, until);
	return db_step_done(store, stmt, error);
}

void db_set_column_member(JsonObject *object, const char *member, sqlite3_stmt *stmt, int column)
{
	if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
		json_object_set_null_member(object, member);
	else
		json_object_set_string_member(object, member, (const char *)sqlite3_column_text(stmt, column));
}

void db_set_time_member(JsonObject *object, const char *member, sqlite3_stmt *stmt, int column)
{
	json_set_time_or_null(object, member, sqlite3_column_int64(stmt, column));
}

JsonArray *store_contact_fields(Store *store, gint64 contact_id)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT s.name, r.fields, r.gone_at FROM records r JOIN sources s ON s.id = r.source_id"
		" WHERE r.contact_id = ?1 ORDER BY s.name, r.key");

	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (!json_parser_load_from_data(parser, (const char *)sqlite3_column_text(stmt, 1), -1, NULL))
			continue;
		JsonNode *root = json_parser_get_root(parser);
		if (!root || !JSON_NODE_HOLDS_OBJECT(root))
			continue;
		JsonObject *fields = json_node_get_object(root);
		g_autoptr(GList) members = json_object_get_members(fields);
		for (GList *m = members; m; m = m->next) {
			JsonNode *value = json_object_get_member(fields, m->data);
			if (JSON_NODE_HOLDS_NULL(value))
				continue;
			if (JSON_NODE_HOLDS_ARRAY(value) && json_array_get_length(json_node_get_array(value)) == 0)
				continue;
			JsonObject *row = json_object_new();
			json_object_set_string_member(row, "source", (const char *)sqlite3_column_text(stmt, 0));
			json_object_set_string_member(row, "field", m->data);
			json_object_set_member(row, "value", json_node_copy(value));
			json_object_set_boolean_member(row, "gone", sqlite3_column_type(stmt, 2) != SQLITE_NULL);
			json_array_add_object_element(out, row);
		}
	}
	sqlite3_reset(stmt);
	return out;
}

JsonArray *store_contact_employment(Store *store, gint64 contact_id)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT e.org, e.unit, e.title, e.first_seen, e.last_seen, s.name, e.current FROM employment e"
		" JOIN sources s ON s.id = e.source_id WHERE e.contact_id = ?1 ORDER BY e.first_seen, e.id");

	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		db_set_column_member(row, "org", stmt, 0);
		db_set_column_member(row, "unit", stmt, 1);
		db_set_column_member(row, "title", stmt, 2);
		db_set_time_member(row, "first_seen", stmt, 3);
		db_set_time_member(row, "last_seen", stmt, 4);
		db_set_column_member(row, "source", stmt, 5);
		json_object_set_boolean_member(row, "current", sqlite3_column_int(stmt, 6));
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

JsonArray *store_who_at(Store *store, const char *org_key, gboolean past)
{
	/* One row per contact: the latest title there, the whole span seen. */
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT c.id, c.name, e.org, e.title, max(e.current = 1 AND c.gone = 0 AND r.gone_at IS NULL),"
		" min(e.first_seen), max(e.last_seen)"
		" FROM employment e JOIN contacts c ON c.id = e.contact_id"
		" LEFT JOIN records r ON r.contact_id = e.contact_id AND r.source_id = e.source_id"
		" WHERE e.org_key = ?1 GROUP BY c.id ORDER BY 5 DESC, c.name_key");
	JsonArray *out = json_array_new();

	db_bind_text(stmt, 1, org_key);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		gboolean current = sqlite3_column_int(stmt, 4);
		if (!current && !past)
			continue;
		JsonObject *row = json_object_new();
		json_object_set_int_member(row, "id", sqlite3_column_int64(stmt, 0));
		db_set_column_member(row, "name", stmt, 1);
		db_set_column_member(row, "org", stmt, 2);
		db_set_column_member(row, "title", stmt, 3);
		json_object_set_boolean_member(row, "current", current);
		db_set_time_member(row, "first_seen", stmt, 5);
		db_set_time_member(row, "last_seen", stmt, 6);
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

/* The contact row and identifiers again from what its present records say
 * (after records moved between contacts). */
static gboolean refresh_contact(Store *store, gint64 contact_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT fields FROM records WHERE contact_id = ?1 ORDER BY gone_at IS NOT NULL, last_seen DESC");
	g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func((GDestroyNotify)source_record_free);

	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		g_autoptr(JsonParser) parser = json_parser_new();
		if (!json_parser_load_from_data(parser, (const char *)sqlite3_column_text(stmt, 0), -1, NULL) ||
		    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
			continue;
		JsonObject *f = json_node_get_object(json_parser_get_root(parser));
		SourceRecord *record = source_record_new();
		record->name = g_strdup(json_get_string(f, "fn") ? json_get_string(f, "fn") : "(no name)");
		record->uid = g_strdup(json_get_string(f, "uid"));
		record->org = g_strdup(json_get_string(f, "org"));
		record->title = g_strdup(json_get_string(f, "title"));
		JsonArray *lists[] = { json_get_array(f, "emails"), json_get_array(f, "urls") };
		GPtrArray *targets[] = { record->emails, record->urls };
		for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
			for (guint i = 0; lists[l] && i < json_array_get_length(lists[l]); i++)
				if (json_array_get_string_element(lists[l], i))
					g_ptr_array_add(targets[l], g_strdup(json_array_get_string_element(lists[l], i)));
		g_ptr_array_add(records, record);
	}
	sqlite3_reset(stmt);

	stmt = db_prepare(store, "DELETE FROM identifiers WHERE contact_id = ?1");
	sqlite3_bind_int64(stmt, 1, contact_id);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	for (guint i = 0; i < records->len; i++)
		if (!add_identifiers(store, contact_id, g_ptr_array_index(records, i), error))
			return FALSE;
	if (records->len && !update_contact_from_record(store, contact_id, g_ptr_array_index(records, 0), NULL, error))
		return FALSE;
	return settle_contact(store, contact_id, error);
}

gboolean store_contacts_link(Store *store, gint64 kept, gint64 absorbed, GError **error)
{
	static const char *const moves[] = {
		"UPDATE records SET contact_id = ?1 WHERE contact_id = ?2",
		"UPDATE interactions SET contact_id = ?1 WHERE contact_id = ?2",
		"UPDATE events SET contact_id = ?1 WHERE contact_id = ?2",
		"UPDATE nudges SET contact_id = ?1 WHERE contact_id = ?2",
		"UPDATE employment SET contact_id = ?1 WHERE contact_id = ?2",
		"UPDATE feeds SET contact_id = ?1 WHERE contact_id = ?2",
		"DELETE FROM contacts WHERE id = ?2",
	};
	g_autoptr(StoreContact) gone = store_contact_get(store, absorbed);
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	g_autoptr(StoreContact) target = store_contact_get(store, kept);
	if (kept == absorbed || !gone || !target) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "cannot link a contact with itself or a missing one");
		return FALSE;
	}
	if (!db_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO merges (link_id, kept, record_id, absorbed_name, at)"
		" SELECT coalesce((SELECT max(link_id) FROM merges), 0) + 1, ?1, id, ?3, ?4 FROM records WHERE contact_id = ?2");
	sqlite3_bind_int64(stmt, 1, kept);
	sqlite3_bind_int64(stmt, 2, absorbed);
	db_bind_text(stmt, 3, gone->name);
	sqlite3_bind_int64(stmt, 4, now);
	if (!db_step_done(store, stmt, error))
		goto fail;
	/* Records an earlier link brought to ABSORBED now belong to KEPT. */
	stmt = db_prepare(store, "UPDATE merges SET kept = ?1 WHERE kept = ?2");
	sqlite3_bind_int64(stmt, 1, kept);
	sqlite3_bind_int64(stmt, 2, absorbed);
	if (!db_step_done(store, stmt, error))
		goto fail;
	for (gsize i = 0; i < G_N_ELEMENTS(moves); i++) {
		stmt = db_prepare(store, moves[i]);
		sqlite3_bind_int64(stmt, 1, kept);
		sqlite3_bind_int64(stmt, 2, absorbed);
		if (!db_step_done(store, stmt, error))
			goto fail;
	}
	if (!refresh_contact(store, kept, error) || !db_exec(store, "COMMIT", error))
		goto fail;
	return TRUE;
fail:
	db_exec(store, "ROLLBACK", NULL);
	return FALSE;
}

gboolean store_contacts_unlink(Store *store, gint64 contact_id, const char *name, GArray *out_created, GError **error)
{
	g_autoptr(GArray) links = g_array_new(FALSE, FALSE, sizeof(gint64));
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *name_key = name ? normalize_name(name) : NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	sqlite3_stmt *stmt;

	stmt = db_prepare(store, "SELECT DISTINCT link_id, absorbed_name FROM merges WHERE kept = ?1 ORDER BY link_id");
	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		g_autofree char *absorbed_key = normalize_name((const char *)sqlite3_column_text(stmt, 1));
		if (name_key && !strstr(absorbed_key, name_key))
			continue;
		gint64 link_id = sqlite3_column_int64(stmt, 0);
		g_array_append_val(links, link_id);
		g_ptr_array_add(names, db_column_text(stmt, 1));
	}
	sqlite3_reset(stmt);
	if (links->len == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no link%s%s to undo on this contact",
			    name ? " with " : "", name ? name : "");
		return FALSE;
	}

	if (!db_exec(store, "BEGIN IMMEDIATE", error))
		return FALSE;
	for (guint i = 0; i < links->len; i++) {
		gint64 link_id = g_array_index(links, gint64, i);
		gint64 new_id;
		g_autoptr(SourceRecord) placeholder = source_record_new();
		placeholder->name = g_strdup(g_ptr_array_index(names, i));
		if (!create_contact(store, placeholder, now, &new_id, error))
			goto fail;
		static const char *const moves[] = {
			"UPDATE employment SET contact_id = ?2 WHERE contact_id = ?1 AND source_id IN"
			" (SELECT r.source_id FROM records r JOIN merges m ON m.record_id = r.id WHERE m.link_id = ?3)",
			"UPDATE records SET contact_id = ?2 WHERE id IN (SELECT record_id FROM merges WHERE link_id = ?3)",
			"DELETE FROM merges WHERE link_id = ?3",
		};
		for (gsize m = 0; m < G_N_ELEMENTS(moves); m++) {
			stmt = db_prepare(store, moves[m]);
			sqlite3_bind_int64(stmt, 1, contact_id);
			sqlite3_bind_int64(stmt, 2, new_id);
			sqlite3_bind_int64(stmt, 3, link_id);
			if (!db_step_done(store, stmt, error))
				goto fail;
		}
		if (!refresh_contact(store, new_id, error))
			goto fail;
		if (out_created)
			g_array_append_val(out_created, new_id);
	}
	if (!refresh_contact(store, contact_id, error) || !db_exec(store, "COMMIT", error))
		goto fail;
	return TRUE;
fail:
	db_exec(store, "ROLLBACK", NULL);
	return FALSE;
}

JsonArray *store_contact_suggestions(Store *store, gint64 contact_id)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT c.id, c.name, s.reason FROM suggestions s JOIN contacts c ON c.id = CASE WHEN s.a = ?1 THEN s.b ELSE s.a END"
		" WHERE s.a = ?1 OR s.b = ?1 ORDER BY c.id");

	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		json_object_set_int_member(row, "id", sqlite3_column_int64(stmt, 0));
		db_set_column_member(row, "name", stmt, 1);
		db_set_column_member(row, "reason", stmt, 2);
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

gint64 store_count_suggestions(Store *store)
{
	return db_query_int(store, "SELECT count(*) FROM suggestions", 0);
}

/* ---- interactions ---- */

gboolean store_interaction_add(Store *store, gint64 contact_id, gint64 at, const char *via, const char *note,
			       const char *origin, gint64 *out_id, GError **error)
{
	return store_interaction_import(store, contact_id, at, via, note, origin, NULL, out_id, error);
}

gboolean store_interaction_import(Store *store, gint64 contact_id, gint64 at, const char *via, const char *note,
				  const char *origin, const char *origin_key, gint64 *out_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO interactions (contact_id, at, via, note, origin, recorded_at, origin_key)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING");
	sqlite3_bind_int64(stmt, 1, contact_id);
	sqlite3_bind_int64(stmt, 2, at);
	db_bind_text(stmt, 3, via);
	db_bind_text(stmt, 4, note);
	db_bind_text(stmt, 5, origin);
	sqlite3_bind_int64(stmt, 6, g_get_real_time() / G_USEC_PER_SEC);
	db_bind_text(stmt, 7, origin_key);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	if (out_id)
		*out_id = sqlite3_changes(store->db) ? sqlite3_last_insert_rowid(store->db) : 0;
	return TRUE;
}

gint64 store_contact_by_identifier(Store *store, const char *kind, const char *value)
{
	return contact_by_identifier(store, kind, value);
}

JsonArray *store_contact_interactions(Store *store, gint64 contact_id)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT id, at, via, note, origin FROM interactions WHERE contact_id = ?1 ORDER BY at DESC, id DESC");

	sqlite3_bind_int64(stmt, 1, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		json_object_set_int_member(row, "id", sqlite3_column_int64(stmt, 0));
		db_set_time_member(row, "at", stmt, 1);
		db_set_column_member(row, "via", stmt, 2);
		db_set_column_member(row, "note", stmt, 3);
		db_set_column_member(row, "origin", stmt, 4);
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

/* ---- events ---- */

gboolean store_event_add(Store *store, gint64 contact_id, const char *kind, gint64 at, const char *dedup_key,
			 const char *detail, gint64 *out_id, gboolean *out_created, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO events (contact_id, kind, at, dedup_key, detail) VALUES (?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT (dedup_key) DO NOTHING");
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_text(stmt, 2, kind);
	sqlite3_bind_int64(stmt, 3, at);
	db_bind_text(stmt, 4, dedup_key);
	db_bind_text(stmt, 5, detail);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	gboolean created = sqlite3_changes(store->db) > 0;
	if (out_created)
		*out_created = created;
	if (out_id) {
		stmt = db_prepare(store, "SELECT id FROM events WHERE dedup_key = ?1");
		db_bind_text(stmt, 1, dedup_key);
		*out_id = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
		sqlite3_reset(stmt);
	}
	return TRUE;
}

gboolean store_event_dismiss(Store *store, gint64 event_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE events SET dismissed = 1 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, event_id);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	if (sqlite3_changes(store->db) == 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no event %" G_GINT64_FORMAT, event_id);
		return FALSE;
	}
	stmt = db_prepare(store,
		"UPDATE nudges SET state = 'dismissed', acted_at = ?2 WHERE event_id = ?1 AND state IN ('pending', 'snoozed', 'shown')");
	sqlite3_bind_int64(stmt, 1, event_id);
	sqlite3_bind_int64(stmt, 2, g_get_real_time() / G_USEC_PER_SEC);
	return db_step_done(store, stmt, error);
}

JsonArray *store_events_list(Store *store, gint64 since, const char *kind, gint64 contact_id)
{
	JsonArray *out = json_array_new();
	sqlite3_stmt *stmt = db_prepare(store,
		"SELECT e.id, e.contact_id, c.name, e.kind, e.at, e.detail, e.dismissed FROM events e"
		" JOIN contacts c ON c.id = e.contact_id"
		" WHERE e.at >= ?1 AND (?2 IS NULL OR e.kind = ?2) AND (?3 = 0 OR e.contact_id = ?3)"
		" ORDER BY e.at DESC, e.id DESC");

	sqlite3_bind_int64(stmt, 1, since);
	db_bind_text(stmt, 2, kind);
	sqlite3_bind_int64(stmt, 3, contact_id);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		JsonObject *row = json_object_new();
		json_object_set_int_member(row, "id", sqlite3_column_int64(stmt, 0));
		json_object_set_int_member(row, "contact_id", sqlite3_column_int64(stmt, 1));
		db_set_column_member(row, "name", stmt, 2);
		db_set_column_member(row, "kind", stmt, 3);
		db_set_time_member(row, "at", stmt, 4);
		db_set_column_member(row, "detail", stmt, 5);
		json_object_set_boolean_member(row, "dismissed", sqlite3_column_int(stmt, 6));
		json_array_add_object_element(out, row);
	}
	sqlite3_reset(stmt);
	return out;
}

/* ---- nudges ---- */

void store_nudge_free(StoreNudge *nudge)
{
	if (!nudge)
		return;
	g_free(nudge->kind);
	g_free(nudge->event_key);
	g_free(nudge->detail);
	g_free(nudge->state);
	g_free(nudge->summary);
	g_free(nudge->body);
	g_free(nudge);
}

gboolean store_nudge_add(Store *store, gint64 event_id, gint64 contact_id, gint64 now, gint64 *out_id, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"INSERT INTO nudges (event_id, contact_id, state, created_at) VALUES (?1, ?2, 'pending', ?3)"
		" ON CONFLICT (event_id) DO NOTHING");
	sqlite3_bind_int64(stmt, 1, event_id);
	sqlite3_bind_int64(stmt, 2, contact_id);
	sqlite3_bind_int64(stmt, 3, now);
	if (!db_step_done(store, stmt, error))
		return FALSE;
	if (out_id)
		*out_id = sqlite3_changes(store->db) ? sqlite3_last_insert_rowid(store->db) : 0;
	return TRUE;
}

#define NUDGE_COLUMNS                                                                                   \
	"SELECT n.id, n.event_id, n.contact_id, e.kind, n.state, n.summary, n.body, n.created_at,"     \
	" n.shown_at, e.at, e.dedup_key, e.detail FROM nudges n JOIN events e ON e.id = n.event_id"

static StoreNudge *nudge_from_row(sqlite3_stmt *stmt)
{
	StoreNudge *nudge = g_new0(StoreNudge, 1);
	nudge->id = sqlite3_column_int64(stmt, 0);
	nudge->event_id = sqlite3_column_int64(stmt, 1);
	nudge->contact_id = sqlite3_column_int64(stmt, 2);
	nudge->kind = db_column_text(stmt, 3);
	nudge->state = db_column_text(stmt, 4);
	nudge->summary = db_column_text(stmt, 5);
	nudge->body = db_column_text(stmt, 6);
	nudge->created_at = sqlite3_column_int64(stmt, 7);
	nudge->shown_at = sqlite3_column_int64(stmt, 8);
	nudge->event_at = sqlite3_column_int64(stmt, 9);
	nudge->event_key = db_column_text(stmt, 10);
	nudge->detail = db_column_text(stmt, 11);
	return nudge;
}

StoreNudge *store_nudge_get(Store *store, gint64 nudge_id)
{
	sqlite3_stmt *stmt = db_prepare(store, NUDGE_COLUMNS " WHERE n.id = ?1");
	StoreNudge *nudge = NULL;

	sqlite3_bind_int64(stmt, 1, nudge_id);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		nudge = nudge_from_row(stmt);
	sqlite3_reset(stmt);
	return nudge;
}

GPtrArray *store_nudges_in_state(Store *store, const char *state)
{
	GPtrArray *nudges = g_ptr_array_new_with_free_func((GDestroyNotify)store_nudge_free);
	sqlite3_stmt *stmt = db_prepare(store, NUDGE_COLUMNS " WHERE ?1 IS NULL OR n.state = ?1 ORDER BY n.id DESC");

	db_bind_text(stmt, 1, state);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_ptr_array_add(nudges, nudge_from_row(stmt));
	sqlite3_reset(stmt);
	return nudges;
}

GPtrArray *store_nudges_shown_since(Store *store, gint64 since)
{
	GPtrArray *nudges = g_ptr_array_new_with_free_func((GDestroyNotify)store_nudge_free);
	sqlite3_stmt *stmt = db_prepare(store, NUDGE_COLUMNS " WHERE n.shown_at >= ?1 ORDER BY n.shown_at DESC, n.id DESC");

	sqlite3_bind_int64(stmt, 1, since);
	while (sqlite3_step(stmt) == SQLITE_ROW)
		g_ptr_array_add(nudges, nudge_from_row(stmt));
	sqlite3_reset(stmt);
	return nudges;
}

gboolean store_nudge_set_state(Store *store, gint64 nudge_id, const char *state, gint64 at, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE nudges SET state = ?2,"
		" shown_at = CASE WHEN ?2 = 'shown' THEN ?3 ELSE shown_at END,"
		" acted_at = CASE WHEN ?2 IN ('acted', 'dismissed', 'snoozed') THEN ?3 ELSE acted_at END"
		" WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, nudge_id);
	db_bind_text(stmt, 2, state);
	sqlite3_bind_int64(stmt, 3, at);
	return db_step_done(store, stmt, error);
}

gboolean store_nudge_set_text(Store *store, gint64 nudge_id, const char *summary, const char *body, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store, "UPDATE nudges SET summary = ?2, body = ?3 WHERE id = ?1");
	sqlite3_bind_int64(stmt, 1, nudge_id);
	db_bind_text(stmt, 2, summary);
	db_bind_text(stmt, 3, body);
	return db_step_done(store, stmt, error);
}

gboolean store_nudges_close_for_contact(Store *store, gint64 contact_id, const char *new_state, gint64 at, GError **error)
{
	sqlite3_stmt *stmt = db_prepare(store,
		"UPDATE nudges SET state = ?2, acted_at = ?3 WHERE contact_id = ?1 AND state IN ('pending', 'snoozed')");
	sqlite3_bind_int64(stmt, 1, contact_id);
	db_bind_text(stmt, 2, new_state);
	sqlite3_bind_int64(stmt, 3, at);
	return db_step_done(store, stmt, error);
}

void store_counts(Store *store, StoreCounts *counts)
{
	counts->contacts = db_query_int(store, "SELECT count(*) FROM contacts WHERE gone = 0", 0);
	counts->gone = db_query_int(store, "SELECT count(*) FROM contacts WHERE gone = 1", 0);
	counts->interactions = db_query_int(store, "SELECT count(*) FROM interactions", 0);
	counts->events = db_query_int(store, "SELECT count(*) FROM events", 0);
	counts->nudges_pending = db_query_int(store, "SELECT count(*) FROM nudges WHERE state = 'pending'", 0);
}
