/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Shared by the files of the store module (store.c, store-feeds.c) and by
 * nothing else: the rest of the daemon sees store.h only. */

#include <sqlite3.h>

#include "store.h"

struct Store {
	sqlite3 *db;
	char *path;
	GHashTable *statements; /* SQL text (static) -> sqlite3_stmt*, owned */
	guint checkpoint_source; /* copies the WAL back when commits pause (or soon) */
	gboolean checkpoint_soon; /* ... at the next idle moment: the WAL is long */
};

void db_set_error(GError **error, Store *store, const char *what);
/* The cached prepared statement for SQL (a string literal), reset. */
sqlite3_stmt *db_prepare(Store *store, const char *sql);
void db_bind_text(sqlite3_stmt *stmt, int index, const char *text);
/* As db_bind_text(), without SQLite's copy of TEXT, which must then live
 * until the statement has run: for the many rows of a sync. */
void db_bind_borrowed(sqlite3_stmt *stmt, int index, const char *text);
/* Binds VALUE, or NULL for 0. */
void db_bind_time(sqlite3_stmt *stmt, int index, gint64 value);
char *db_column_text(sqlite3_stmt *stmt, int index);
/* Runs a statement that returns no rows. */
gboolean db_step_done(Store *store, sqlite3_stmt *stmt, GError **error);
gboolean db_exec(Store *store, const char *sql, GError **error);
gint64 db_query_int(Store *store, const char *sql, gint64 fallback);
/* MEMBER = the column as a string, or null. */
void db_set_column_member(JsonObject *object, const char *member, sqlite3_stmt *stmt, int column);
/* MEMBER = the column as an RFC 3339 time, or null for NULL/0. */
void db_set_time_member(JsonObject *object, const char *member, sqlite3_stmt *stmt, int column);
