/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf.h"
#include "http.h"
#include "store.h"

/* The configured sources of contacts: when each runs (its interval, its
 * file monitor, `tiesctl sync`), and what it last did. */
typedef struct Sources Sources;

typedef struct {
	const char *source; /* borrowed for the callback's duration */
	gboolean ok;
	gboolean held;      /* ok is FALSE: the sync changed too much and waits for --accept */
	const char *message; /* NULL when there is nothing to say */
	SyncCounts counts;
} SyncResult;

typedef void (*SyncDoneFunc)(const SyncResult *result, gpointer user_data);
/* After a sync that changed what is stored. */
typedef void (*SourcesChangedFunc)(gpointer user_data);

/* STORE and HTTP are borrowed and outlive the sources. */
Sources *sources_new(Store *store, HttpEngine *http, SourcesChangedFunc on_changed, gpointer user_data);
void sources_free(Sources *sources);

/* Starts, keeps or drops sources to match CONFIG (borrowed until the next
 * call). A source whose settings did not change keeps its schedule. New
 * sources sync right away. */
void sources_set_config(Sources *sources, const Config *config);

gboolean sources_exists(Sources *sources, const char *name);
/* Syncs NAME as soon as possible (joining a sync already running); DONE
 * (may be NULL) runs once from the main loop when it has finished. ACCEPT
 * applies a sync that would otherwise be held for changing too much. */
void sources_sync(Sources *sources, const char *name, gboolean accept, SyncDoneFunc done, gpointer user_data);
/* Names of every source, in config order. */
GPtrArray *sources_names(Sources *sources);
/* [SOURCE] as doc/protocol.md describes. */
JsonArray *sources_to_json(Sources *sources);

/* The records a vCard file or vdir gives. Broken cards are described in
 * *OUT_WARNINGS. */
gboolean vcard_source_read(const char *path, GPtrArray **out_records, char **out_warnings, GError **error);
