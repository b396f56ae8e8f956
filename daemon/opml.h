/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* OPML 1.0 and 2.0 subscription lists, as feed readers import and export
 * them (doc/feeds.md).
 *
 * Import reads every <outline> with an xmlUrl (xmlurl too), at any depth;
 * outlines without one are folders. Its contact is, in this order: the
 * attribute ties:contact (namespace OPML_TIES_NAMESPACE; an undeclared
 * "ties:" prefix or a plain "contact" attribute is taken as well), else the
 * text of the nearest enclosing folder. A document with a DOCTYPE is
 * refused (OPML has none; entities are how XML attacks come). */
#define OPML_TIES_NAMESPACE "urn:ties:opml:1"
#define OPML_MAX_BYTES (8 * 1024 * 1024)
#define OPML_MAX_FEEDS 20000u
#define OPML_MAX_DEPTH 32u

typedef struct {
	char *url;      /* xmlUrl, an absolute http(s) URL */
	char *title;    /* title, else text; NULL when neither */
	char *html_url; /* htmlUrl; NULL when absent */
	char *contact;  /* who wrote it (see above); NULL when unknown */
} OpmlFeed;

OpmlFeed *opml_feed_new(const char *url, const char *title, const char *html_url, const char *contact);
void opml_feed_free(OpmlFeed *feed);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OpmlFeed, opml_feed_free)

/* The feeds of an OPML document, in document order, each URL once.
 * *OUT_SKIPPED (may be NULL) counts outlines whose xmlUrl is no http(s)
 * URL. FALSE with ERROR when DATA is no OPML at all. */
GPtrArray *opml_parse(const char *data, gsize len, guint *out_skipped, GError **error);

/* An OPML 2.0 document (UTF-8) of FEEDS (OpmlFeed*): one outline each,
 * type="rss", text = the contact's name (else the title, else the URL),
 * title, xmlUrl, htmlUrl and ties:contact as known. NOW is dateCreated. */
char *opml_export(const GPtrArray *feeds, gint64 now);
