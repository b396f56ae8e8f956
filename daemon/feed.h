/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "jobpost.h"
#include "parse-error.h"

typedef enum {
	FEED_FORMAT_UNKNOWN,
	FEED_FORMAT_RSS09X,
	FEED_FORMAT_RSS10,
	FEED_FORMAT_RSS20,
	FEED_FORMAT_ATOM10,
} FeedFormat;

/* One entry; strings owned, UTF-8, NULL when absent. */
typedef struct {
	char *id;        /* guid/id, else link, else "sha256:" of title+date */
	char *link;      /* absolute http(s) URL; NULL when it cannot be made one */
	char *title;     /* plain text, white space collapsed */
	char *summary;   /* plain text, HTML stripped */
	gint64 published; /* Unix time UTC; 0 when unknown */
	gboolean job_change;
} FeedItem;

typedef struct {
	FeedFormat format;
	gboolean wellformed_xml;
	char *title, *link;
	GPtrArray *items;  /* FeedItem* */
	GPtrArray *errors; /* ParseError* */
} FeedDocument;

void feed_document_free(FeedDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FeedDocument, feed_document_free)

/* Parses an RSS or Atom document without any network access or external
 * entities. BASE_URL (may be NULL) resolves relative links. RULES (may be
 * NULL) classifies items as job-change posts. Returns NULL with ERROR only
 * when DATA is no feed at all. */
FeedDocument *feed_parse(const char *data, gsize len, const char *base_url,
			 const JobpostRules *rules, GError **error);

/* As feed_parse(), with where the bytes came from: NAME (may be NULL) is
 * the file or URL that errors name; CONTENT_TYPE (may be NULL) is the HTTP
 * Content-Type header, whose charset wins over the XML declaration (RFC
 * 7303); a byte order mark wins over both. */
FeedDocument *feed_parse_full(const char *data, gsize len, const char *name,
			      const char *base_url, const char *content_type,
			      const JobpostRules *rules, GError **error);

/* As feed_parse_full() for a poll: no job-change classification, and
 * posts dated before FULL_TEXT_SINCE keep only SHORT_TEXT_CHARS characters
 * of their text (no event will read more of it; extracting the rest was a
 * tenth of a first poll's work). */
FeedDocument *feed_parse_for_poll(const char *data, gsize len, const char *base_url, const char *content_type,
				  gint64 full_text_since, gsize short_text_chars, GError **error);

const char *feed_format_name(FeedFormat format);

/* Reads a feed date: RFC 822/2822 (weekday optional and not checked,
 * 2-digit years, zone names such as GMT, EST, JST, or none for UTC) or
 * ISO 8601/RFC 3339 (seconds and fraction optional, Z or an offset).
 * FALSE when TEXT is neither. */
gboolean feed_parse_date(const char *text, gint64 *unix_utc);

/* The shape of `tiesd --parse=feed` (SPEC §6). */
JsonNode *feed_document_to_json(const FeedDocument *doc);
