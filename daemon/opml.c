/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "opml.h"

#define OPML_MAX_URL_BYTES 8192u

OpmlFeed *opml_feed_new(const char *url, const char *title, const char *html_url, const char *contact)
{
	OpmlFeed *feed = g_new0(OpmlFeed, 1);
	feed->url = g_strdup(url);
	feed->title = g_strdup(title);
	feed->html_url = g_strdup(html_url);
	feed->contact = g_strdup(contact);
	return feed;
}

void opml_feed_free(OpmlFeed *feed)
{
	if (!feed)
		return;
	g_free(feed->url);
	g_free(feed->title);
	g_free(feed->html_url);
	g_free(feed->contact);
	g_free(feed);
}

/* ---- import ---- */

/* The attribute's value, trimmed, with runs of white space as one space;
 * NULL when absent or empty. */
static char *clean_text(xmlChar *value)
{
	if (!value)
		return NULL;
	GString *text = g_string_new(NULL);
	gboolean space = FALSE;
	for (const char *p = (const char *)value; *p; p++) {
		if (g_ascii_isspace(*p)) {
			space = text->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(text, ' ');
		space = FALSE;
		g_string_append_c(text, *p);
	}
	xmlFree(value);
	if (text->len == 0 || !g_utf8_validate(text->str, -1, NULL)) {
		g_string_free(text, TRUE);
		return NULL;
	}
	return g_string_free(text, FALSE);
}

static char *attribute(xmlNode *node, const char *name)
{
	return clean_text(xmlGetNoNsProp(node, (const xmlChar *)name));
}

static char *http_url(xmlNode *node, const char *name, const char *other_spelling)
{
	g_autofree char *value = attribute(node, name);
	if (!value && other_spelling)
		value = attribute(node, other_spelling);
	if (!value || strlen(value) > OPML_MAX_URL_BYTES)
		return NULL;
	g_autoptr(GUri) uri = g_uri_parse(value, G_URI_FLAGS_ENCODED, NULL);
	const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
	if (!scheme || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) ||
	    !g_uri_get_host(uri) || !*g_uri_get_host(uri))
		return NULL;
	return g_steal_pointer(&value);
}

/* ties:contact in our namespace, with the prefix undeclared, or plain. */
static char *contact_attribute(xmlNode *node)
{
	for (xmlAttr *attr = node->properties; attr; attr = attr->next) {
		const char *name = (const char *)attr->name;
		gboolean ours = attr->ns && attr->ns->href &&
				strcmp((const char *)attr->ns->href, OPML_TIES_NAMESPACE) == 0 && strcmp(name, "contact") == 0;
		gboolean loose = !attr->ns && (strcmp(name, "ties:contact") == 0 || strcmp(name, "contact") == 0);
		if (ours || loose)
			return clean_text(xmlNodeListGetString(node->doc, attr->children, 1));
	}
	return NULL;
}

typedef struct {
	GPtrArray *feeds;
	GHashTable *seen; /* url -> NULL, borrowed from FEEDS */
	guint skipped;
} Import;

static void read_outlines(xmlNode *parent, const char *folder, guint depth, Import *import)
{
	if (depth > OPML_MAX_DEPTH)
		return;
	for (xmlNode *node = parent->children; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE || strcmp((const char *)node->name, "outline") != 0)
			continue;
		g_autofree char *text = attribute(node, "text");
		g_autofree char *title = attribute(node, "title");
		g_autofree char *raw_url = attribute(node, "xmlUrl");
		if (!raw_url)
			raw_url = attribute(node, "xmlurl");
		if (!raw_url) {
			/* A folder: its name stands for the contact of what it holds. */
			read_outlines(node, text ? text : title ? title : folder, depth + 1, import);
			continue;
		}
		g_autofree char *url = http_url(node, "xmlUrl", "xmlurl");
		if (!url) {
			import->skipped++;
			continue;
		}
		if (g_hash_table_contains(import->seen, url) || import->feeds->len >= OPML_MAX_FEEDS)
			continue;
		g_autofree char *html_url = http_url(node, "htmlUrl", "htmlurl");
		g_autofree char *contact = contact_attribute(node);
		OpmlFeed *feed = opml_feed_new(url, title ? title : text, html_url, contact ? contact : folder);
		g_ptr_array_add(import->feeds, feed);
		g_hash_table_add(import->seen, feed->url);
	}
}

GPtrArray *opml_parse(const char *data, gsize len, guint *out_skipped, GError **error)
{
	if (len > OPML_MAX_BYTES) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "OPML larger than %d MiB",
			    OPML_MAX_BYTES / (1024 * 1024));
		return NULL;
	}
	/* No network, no DTD loading, no entity substitution. */
	xmlDocPtr doc = xmlReadMemory(data, (int)len, NULL, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_RECOVER |
					      XML_PARSE_NOCDATA);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || strcmp((const char *)root->name, "opml") != 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "not an OPML document (no <opml> root)");
		xmlFreeDoc(doc);
		return NULL;
	}
	if (doc->intSubset || doc->extSubset) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
			    "OPML with a DOCTYPE is not accepted (entities are not read)");
		xmlFreeDoc(doc);
		return NULL;
	}

	Import import = {
		g_ptr_array_new_with_free_func((GDestroyNotify)opml_feed_free),
		g_hash_table_new(g_str_hash, g_str_equal),
		0,
	};
	for (xmlNode *node = root->children; node; node = node->next)
		if (node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, "body") == 0)
			read_outlines(node, NULL, 0, &import);
	g_hash_table_unref(import.seen);
	xmlFreeDoc(doc);
	if (out_skipped)
		*out_skipped = import.skipped;
	return import.feeds;
}

/* ---- export ---- */

/* RFC 822, as OPML wants dateCreated; never localised. */
static char *rfc822_date(gint64 now)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(now);
	if (!time)
		return NULL;
	return g_strdup_printf("%s, %02d %s %04d %02d:%02d:%02d GMT", days[g_date_time_get_day_of_week(time) - 1],
			       g_date_time_get_day_of_month(time), months[g_date_time_get_month(time) - 1],
			       g_date_time_get_year(time), g_date_time_get_hour(time), g_date_time_get_minute(time),
			       g_date_time_get_second(time));
}

static void set_prop(xmlNode *node, const char *name, const char *value)
{
	if (value && g_utf8_validate(value, -1, NULL))
		xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

char *opml_export(const GPtrArray *feeds, gint64 now)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"opml");
	xmlDocSetRootElement(doc, root);
	xmlNewProp(root, (const xmlChar *)"version", (const xmlChar *)"2.0");
	xmlNs *ns = xmlNewNs(root, (const xmlChar *)OPML_TIES_NAMESPACE, (const xmlChar *)"ties");

	xmlNode *head = xmlNewChild(root, NULL, (const xmlChar *)"head", NULL);
	xmlNewTextChild(head, NULL, (const xmlChar *)"title", (const xmlChar *)"ties feeds");
	g_autofree char *date = rfc822_date(now);
	if (date)
		xmlNewTextChild(head, NULL, (const xmlChar *)"dateCreated", (const xmlChar *)date);
	xmlNode *body = xmlNewChild(root, NULL, (const xmlChar *)"body", NULL);

	for (guint i = 0; i < feeds->len; i++) {
		const OpmlFeed *feed = g_ptr_array_index(feeds, i);
		xmlNode *outline = xmlNewChild(body, NULL, (const xmlChar *)"outline", NULL);
		const char *text = feed->contact ? feed->contact : feed->title ? feed->title : feed->url;
		set_prop(outline, "type", "rss");
		set_prop(outline, "text", text);
		set_prop(outline, "title", feed->title);
		set_prop(outline, "xmlUrl", feed->url);
		set_prop(outline, "htmlUrl", feed->html_url);
		if (feed->contact && g_utf8_validate(feed->contact, -1, NULL))
			xmlNewNsProp(outline, ns, (const xmlChar *)"contact", (const xmlChar *)feed->contact);
	}

	xmlChar *memory = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(doc, &memory, &size, "UTF-8", 1);
	char *out = g_strndup((const char *)memory, (gsize)MAX(size, 0));
	xmlFree(memory);
	xmlFreeDoc(doc);
	return out;
}
