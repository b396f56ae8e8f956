/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "parse-error.h"

/* Limits per file: a real export is a few MiB and LinkedIn caps connections
 * at 30,000; messages of a long career run to tens of thousands. */
#define LINKEDIN_MAX_FILE_SIZE (64u * 1024 * 1024)
#define LINKEDIN_MAX_ROWS 500000u
#define LINKEDIN_MAX_ERRORS 1000u

/* One row of Connections.csv; strings owned, NULL when empty. */
typedef struct {
	char *first_name, *last_name, *url, *email, *company, *position;
	char *connected_on; /* "YYYY-MM-DD" */
	guint line;
} LinkedinConnection;

/* One row of messages.csv; strings owned, NULL when empty. */
typedef struct {
	char *conversation_id;
	char *from, *sender_url;
	char *to;
	GPtrArray *recipient_urls; /* char*, never NULL */
	gint64 date;               /* Unix time, UTC */
	guint line;
} LinkedinMessage;

typedef struct {
	GPtrArray *connections; /* LinkedinConnection* */
	GPtrArray *messages;    /* LinkedinMessage* */
	GPtrArray *errors;      /* ParseError* */
	gboolean messages_read; /* a messages.csv was parsed (even an empty one) */
} LinkedinExport;

LinkedinExport *linkedin_export_new(void);
void linkedin_export_free(LinkedinExport *export);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LinkedinExport, linkedin_export_free)

/* Reads Connections.csv (note lines before the header are skipped by
 * finding the header, BOM and CRLF allowed). Bad rows become errors.
 * Columns are found by their header names, so older exports without URL
 * work. Rows with neither first nor last name (LinkedIn writes them for
 * deleted members) are skipped silently: nothing can be done about them.
 * A bad "Connected On" keeps the row with a NULL date and adds an error.
 * Text that is not UTF-8 (a file re-saved by Excel) is read as CP932 when
 * it decodes as such, else as windows-1252. */
void linkedin_parse_connections(const char *data, gsize len, const char *file, LinkedinExport *export);
/* Reads messages.csv. Rows without a valid DATE are errors; unsent drafts
 * (IS MESSAGE DRAFT = Yes, FOLDER = DRAFT) are skipped silently since they
 * are no interaction. CONTENT is not kept. */
void linkedin_parse_messages(const char *data, gsize len, const char *file, LinkedinExport *export);

/* Reads PATH (Connections.csv, or a folder holding the unpacked export) and,
 * when present beside it, messages.csv (both names matched ignoring case).
 * FALSE with ERROR only when PATH cannot be read or is larger than the
 * limit; a messages.csv that cannot be read is an entry of errors. */
gboolean linkedin_parse_path(const char *path, LinkedinExport *export, GError **error);

/* The shape of `tiesd --parse=linkedin` (SPEC §6), with "messages" between
 * "connections" and "errors" when messages_read. */
JsonNode *linkedin_export_to_json(const LinkedinExport *export);
