/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* All of SQLite lives behind this door: the rest of the daemon sees plain
 * structs. Times are Unix seconds; 0 means "none". */
typedef struct Store Store;

#define STORE_SCHEMA_VERSION 5

/* Opens (creating it and its folder when needed) and migrates the database
 * forward to STORE_SCHEMA_VERSION. A database written by a newer tiesd is
 * refused rather than damaged. */
Store *store_open(const char *path, GError **error);
/* Same, but migrates only up to TARGET_VERSION: for testing migrations. */
Store *store_open_at_version(const char *path, int target_version, GError **error);
void store_close(Store *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Store, store_close)
int store_schema_version(Store *store);
const char *store_path(Store *store);

/* ---- sources ---- */
typedef struct {
	gint64 id;
	char *name, *type;
	gint64 last_sync;
	char *last_result; /* "ok", "error", or NULL before the first sync */
	char *last_message;
	gboolean baseline_done;
	gint64 contacts; /* records present now */
} StoreSource;

void store_source_free(StoreSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreSource, store_source_free)
/* The source's row, created on first use. */
gboolean store_source_ensure(Store *store, const char *name, const char *type, gint64 *out_id, GError **error);
StoreSource *store_source_get(Store *store, const char *name);
gboolean store_source_set_result(Store *store, gint64 source_id, gint64 at, const char *result,
				 const char *message, GError **error);

/* One person as one source sees it. */
typedef struct {
	char *key;   /* stable within the source (UID, else file and position) */
	char *name;  /* display name */
	char *uid;
	GPtrArray *emails, *urls, *categories; /* char*, never NULL */
	char *org, *unit, *title;
	gint64 connected_on;
	char *etag;         /* the server's version of it (CardDAV); may be NULL */
	JsonObject *fields; /* everything the source said, for `show`; NULL once sealed */
	char *fields_text;  /* FIELDS as JSON text, once sealed */
} SourceRecord;

SourceRecord *source_record_new(void);
/* Turns FIELDS into text: ten thousand records held for one sync take a
 * fraction of the memory that way. */
void source_record_seal(SourceRecord *record);
void source_record_free(SourceRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SourceRecord, source_record_free)

typedef struct {
	guint added, updated, gone, unchanged;
} SyncCounts;

/* A move seen in a sync: a new organisation, or a new title at the same one. */
typedef struct {
	gint64 contact_id;
	gboolean new_org;       /* FALSE: same organisation, new title */
	char *old_org, *old_title;
	char *org, *org_key, *title;
} EmploymentChange;

void employment_change_free(EmploymentChange *change);

typedef struct {
	/* Hold the sync when it would change or remove more than this share
	 * of the source's records (and at least HOLD_MIN of them). */
	double hold_share;
	guint hold_min;
	gboolean accept;        /* apply even so (`tiesctl sync --accept`) */
} SyncPolicy;

typedef struct {
	SyncCounts counts;
	gboolean held;          /* nothing was written */
	char *held_reason;      /* why, for `tiesctl status` */
	GPtrArray *changes;     /* EmploymentChange*; empty on the first sync (the silent baseline) */
} SyncOutcome;

void sync_outcome_clear(SyncOutcome *outcome);

/* What one sync of a source saw. */
typedef struct {
	GPtrArray *records;   /* SourceRecord*: new or (possibly) changed */
	gboolean complete;    /* RECORDS + UNCHANGED_KEYS is all there is; any other record is gone */
	GPtrArray *unchanged_keys; /* char*, may be NULL: known records still there, not re-sent */
	GPtrArray *removed_keys;   /* char*, may be NULL: when not complete, the records that went */
} SyncBatch;

/* Applies BATCH to what SOURCE_ID said, in one transaction: new records
 * become (or join) contacts, changed ones are updated, gone ones are
 * marked gone with their history kept. A sync past POLICY's share is
 * rolled back and recorded as held on the source. */
gboolean store_sync_records(Store *store, gint64 source_id, const SyncBatch *batch, gint64 now,
			    const SyncPolicy *policy, SyncOutcome *outcome, GError **error);

/* The records of one sync, held compactly (about half the memory of
 * SourceRecords, no allocation per record) until its one transaction: a
 * source that reads its records as they stream in keeps no more. */
typedef struct RecordPack RecordPack;

RecordPack *record_pack_new(void);
void record_pack_free(RecordPack *pack);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(RecordPack, record_pack_free)
/* Copies RECORD (sealed or not) into PACK. */
void record_pack_add(RecordPack *pack, const SourceRecord *record);
guint record_pack_count(const RecordPack *pack);

/* store_sync_records() with the records of PACK; BATCH->records is not read. */
gboolean store_sync_pack(Store *store, gint64 source_id, const RecordPack *pack, const SyncBatch *batch, gint64 now,
			 const SyncPolicy *policy, SyncOutcome *outcome, GError **error);

/* href -> etag of the source's present records (CardDAV), new table. */
GHashTable *store_source_etags(Store *store, gint64 source_id);
/* A source's own state between syncs (CardDAV sync tokens), as text. */
char *store_source_state(Store *store, gint64 source_id);
gboolean store_source_set_state(Store *store, gint64 source_id, const char *state, GError **error);

/* The hold recorded on a source (NULL when none), and its time. */
char *store_source_held(Store *store, gint64 source_id, gint64 *out_since);
/* [{"source","reason","since"}] of every held source. */
JsonArray *store_held_syncs(Store *store);

/* ---- contacts ---- */
typedef struct {
	gint64 id;
	char *name, *org, *title;
	GPtrArray *emails, *urls, *categories; /* char*, never NULL */
	gint64 cadence_s;      /* set by `tiesctl cadence DURATION`; 0 = not set */
	char *tier;            /* set by `tiesctl cadence TIER`; NULL = not set */
	gint64 first_seen, connected_on, snoozed_until, last_interaction;
	gboolean gone;
} StoreContact;

void store_contact_free(StoreContact *contact);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreContact, store_contact_free)
/* Every contact (gone ones too), by name. */
GPtrArray *store_contacts_all(Store *store);
StoreContact *store_contact_get(Store *store, gint64 id);
/* Contacts with this e-mail address (normalised). */
GArray *store_contacts_by_email(Store *store, const char *email);

gboolean store_contact_set_cadence(Store *store, gint64 contact_id, gint64 cadence_s, const char *tier, GError **error);
gboolean store_contact_set_snooze(Store *store, gint64 contact_id, gint64 until, GError **error);

/* [{"source","field","value","gone"}] of every record behind the contact. */
JsonArray *store_contact_fields(Store *store, gint64 contact_id);
/* [{"org","unit","title","first_seen","last_seen","source"}] oldest first. */
JsonArray *store_contact_employment(Store *store, gint64 contact_id);

/* Who is (and, with PAST, was) at the organisation ORG_KEY (normalised):
 * [{"id","name","org","title","current","first_seen","last_seen"}], current first. */
JsonArray *store_who_at(Store *store, const char *org_key, gboolean past);

/* Makes ABSORBED part of KEPT: its records, identifiers, interactions,
 * events and nudges move over, and the link is remembered so that it
 * survives later syncs and store_contacts_unlink() can undo it. */
gboolean store_contacts_link(Store *store, gint64 kept, gint64 absorbed, GError **error);
/* Parts again what links joined into CONTACT_ID: every link, or only the
 * one that absorbed a contact named NAME (may be NULL). The interactions
 * stay with CONTACT_ID. *OUT_CREATED gets the new contact ids. */
gboolean store_contacts_unlink(Store *store, gint64 contact_id, const char *name, GArray *out_created, GError **error);
/* [{"id","name","reason"}]: contacts that may be the same person. */
JsonArray *store_contact_suggestions(Store *store, gint64 contact_id);
gint64 store_count_suggestions(Store *store);

/* ---- interactions ---- */
gboolean store_interaction_add(Store *store, gint64 contact_id, gint64 at, const char *via, const char *note,
			       const char *origin, gint64 *out_id, GError **error);
/* The same, for interactions a source gives again on every sync:
 * ORIGIN_KEY (may be NULL) makes the second import a no-op (*OUT_ID 0). */
gboolean store_interaction_import(Store *store, gint64 contact_id, gint64 at, const char *via, const char *note,
				  const char *origin, const char *origin_key, gint64 *out_id, GError **error);
/* The contact an identifier (kind "uid", "email" or "url", value
 * normalised) belongs to, or 0. */
gint64 store_contact_by_identifier(Store *store, const char *kind, const char *value);
/* [{"id","at","via","note","origin"}] newest first. */
JsonArray *store_contact_interactions(Store *store, gint64 contact_id);

/* ---- events ---- */
/* Adds an event unless one with DEDUP_KEY exists; *OUT_CREATED says which. */
gboolean store_event_add(Store *store, gint64 contact_id, const char *kind, gint64 at, const char *dedup_key,
			 const char *detail, gint64 *out_id, gboolean *out_created, GError **error);
/* Marks the event dismissed and withdraws its nudge; FALSE if no such event. */
gboolean store_event_dismiss(Store *store, gint64 event_id, GError **error);
/* [{"id","contact_id","name","kind","at","detail","dismissed"}] newest
 * first; CONTACT_ID 0 = all, KIND NULL = all. */
JsonArray *store_events_list(Store *store, gint64 since, const char *kind, gint64 contact_id);

/* ---- nudges ---- */
typedef struct {
	gint64 id, event_id, contact_id;
	char *kind;  /* the event's */
	char *event_key; /* the event's dedup key */
	char *detail;    /* the event's, e.g. "Joined 株式会社ABC as 部長" */
	char *state; /* pending, shown, acted, snoozed, dismissed, resolved */
	char *summary, *body;
	gint64 created_at, shown_at, event_at;
} StoreNudge;

void store_nudge_free(StoreNudge *nudge);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StoreNudge, store_nudge_free)
gboolean store_nudge_add(Store *store, gint64 event_id, gint64 contact_id, gint64 now, gint64 *out_id, GError **error);
StoreNudge *store_nudge_get(Store *store, gint64 nudge_id);
/* Nudges in STATE (NULL = every state), newest first. */
GPtrArray *store_nudges_in_state(Store *store, const char *state);
/* Nudges shown since SINCE, newest first. */
GPtrArray *store_nudges_shown_since(Store *store, gint64 since);
gboolean store_nudge_set_state(Store *store, gint64 nudge_id, const char *state, gint64 at, GError **error);
gboolean store_nudge_set_text(Store *store, gint64 nudge_id, const char *summary, const char *body, GError **error);
/* Pending or snoozed nudges of CONTACT_ID become NEW_STATE (e.g. after an
 * interaction made them moot). */
gboolean store_nudges_close_for_contact(Store *store, gint64 contact_id, const char *new_state, gint64 at, GError **error);

/* ---- counts for `status` ---- */
typedef struct {
	gint64 contacts, gone, interactions, events, nudges_pending;
} StoreCounts;
void store_counts(Store *store, StoreCounts *counts);
