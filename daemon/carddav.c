/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "carddav.h"

#include <string.h>

#include <libxml/parser.h>

#include "log.h"

/* Requests are chosen by what the servers answer fast (doc: MEASURED.md):
 * - never a Depth 1 PROPFIND over an address book (Radicale rescans the
 *   folder for every card: N²); Depth 1 only on the home, which lists
 *   collections;
 * - the first sync (nothing known) fetches every card with one
 *   addressbook-query (fast on both servers) and reads no sync-token:
 *   Radicale reads the whole book to compute one, which would nearly double
 *   the first sync. The next sync reads the token, then lists the ETags and
 *   compares them, so that what changed in between is not lost; any sync
 *   with ETags known reads the token before the listing, so that changes in
 *   between come again next time;
 * - with a stored token: nothing at all when the book's sync-token has not
 *   moved, else one sync-collection; cards it names without their data
 *   (Xandikos) are fetched with addressbook-multiget, but only a few: the
 *   multiget of Xandikos costs about as much per card as its
 *   addressbook-query costs for the whole book, so beyond
 *   CARDDAV_MULTIGET_MAX_HREFS one addressbook-query with the data replaces
 *   the multigets;
 * - a token the server rejects (Radicale: 403 valid-sync-token; Xandikos:
 *   500) falls back to the full path; with ETags known from before, that
 *   lists ETags only and fetches only what changed. */

/* ---- Limits ---- */

/* Discovery answers (PROPFIND on the URL, the principal, the home). */
#define CARDDAV_MAX_PROPFIND_BYTES ((gsize) 4 * 1024 * 1024)
/* One REPORT answer; streamed, so this bounds the transfer, not memory. */
#define CARDDAV_MAX_REPORT_BYTES ((gsize) 256 * 1024 * 1024)
/* One vCard (photos included). */
#define CARDDAV_MAX_CARD_BYTES ((gsize) 1024 * 1024)
/* Any other text of a multistatus: hrefs, ETags, tokens, names. */
#define CARDDAV_MAX_TEXT_BYTES ((gsize) 16 * 1024)
/* Cards per address book, and their data in all. */
#define CARDDAV_MAX_CARDS 200000u
#define CARDDAV_MAX_BOOK_BYTES ((gsize) 512 * 1024 * 1024)
#define CARDDAV_MAX_XML_DEPTH 64
#define CARDDAV_MAX_HREFS_PER_RESPONSE 1024u
#define CARDDAV_MAX_BOOKS 64u
/* Hrefs per addressbook-multiget request. */
#define CARDDAV_MULTIGET_BATCH 50u
/* More cards to fetch than this: one addressbook-query with the data
 * instead of multigets (Xandikos: a multiget of k cards takes about k/8 of
 * a query of the whole book). */
#define CARDDAV_MULTIGET_MAX_HREFS 10u
/* Bytes handed to libxml2 at once (its length argument is an int). */
#define CARDDAV_XML_CHUNK ((gsize) 1024 * 1024)

#define NS_DAV "DAV:"
#define NS_CARDDAV "urn:ietf:params:xml:ns:carddav"
#define XML_CONTENT_TYPE "application/xml; charset=utf-8"

/* ---- Streaming multistatus parser ---- */

typedef enum {
	TAG_OTHER,
	TAG_MULTISTATUS,
	TAG_ERROR,
	TAG_RESPONSE,
	TAG_HREF,
	TAG_STATUS,
	TAG_TOP_SYNC_TOKEN,
	TAG_PROPSTAT,
	TAG_PROPSTAT_STATUS,
	TAG_PROP,
	TAG_GETETAG,
	TAG_ADDRESS_DATA,
	TAG_DISPLAYNAME,
	TAG_SYNC_TOKEN,
	TAG_RESOURCETYPE,
	TAG_CUP,
	TAG_CUP_HREF,
	TAG_HOME_SET,
	TAG_HOME_HREF,
	TAG_REPORT_SET,
	TAG_REPORT_INNER,
} Tag;

/* Properties of one propstat, or merged from the 2xx ones of a response. */
typedef struct {
	char *etag;         /* owned */
	char *data;         /* owned: address-data */
	char *displayname;  /* owned */
	char *sync_token;   /* owned */
	char *principal;    /* owned: current-user-principal href, raw */
	char *home;         /* owned: first addressbook-home-set href, raw */
	gboolean addressbook, collection;
	gboolean data_seen;     /* an address-data element was there */
	gboolean reports_listed; /* supported-report-set named some report */
	gboolean report_sync;   /* ... and sync-collection among them */
} MsProps;

typedef struct {
	GPtrArray *hrefs;  /* char*, raw, owned */
	int status;        /* response-level status, 0 when absent */
	MsProps props;     /* from the 2xx propstats */
	gboolean data_missing; /* address-data came in a non-2xx propstat */
} MsResponse;

/* Handles one complete response; may steal its strings. Returns FALSE
 * (after ms_fail()) to stop. */
typedef gboolean (*MsResponseFunc)(MsResponse *response, gpointer user_data);

typedef struct {
	xmlParserCtxtPtr ctxt;  /* owned */
	Tag stack[CARDDAV_MAX_XML_DEPTH];
	guint depth;
	Tag root;
	GString *text;          /* owned */
	gboolean capturing;
	gsize text_limit;
	MsResponse response;
	MsProps propstat;
	int propstat_status;
	char *sync_token;       /* owned: the multistatus' own sync-token */
	gboolean valid_sync_token; /* DAV:error with valid-sync-token */
	char *error;            /* owned: first error, for people */
	gboolean own_error;     /* ERROR is ours (a limit), not libxml2's */
	MsResponseFunc on_response;
	gpointer user_data;     /* borrowed */
} MsParser;

static void ms_props_clear(MsProps *props)
{
	g_free(props->etag);
	g_free(props->data);
	g_free(props->displayname);
	g_free(props->sync_token);
	g_free(props->principal);
	g_free(props->home);
	memset(props, 0, sizeof(*props));
}

#define TAKE_IF_SET(to, from) do { if (from) { g_free(to); (to) = g_steal_pointer(&(from)); } } while (0)

static void ms_props_merge(MsProps *into, MsProps *from)
{
	TAKE_IF_SET(into->etag, from->etag);
	TAKE_IF_SET(into->data, from->data);
	TAKE_IF_SET(into->displayname, from->displayname);
	TAKE_IF_SET(into->sync_token, from->sync_token);
	TAKE_IF_SET(into->principal, from->principal);
	TAKE_IF_SET(into->home, from->home);
	into->addressbook |= from->addressbook;
	into->collection |= from->collection;
	into->data_seen |= from->data_seen;
	into->reports_listed |= from->reports_listed;
	into->report_sync |= from->report_sync;
	ms_props_clear(from);
}

static void ms_response_clear(MsResponse *response)
{
	if (response->hrefs)
		g_ptr_array_set_size(response->hrefs, 0);
	response->status = 0;
	response->data_missing = FALSE;
	ms_props_clear(&response->props);
}

static void ms_fail(MsParser *parser, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void ms_fail(MsParser *parser, const char *format, ...)
{
	if (!parser->error) {
		va_list ap;
		va_start(ap, format);
		parser->error = g_strdup_vprintf(format, ap);
		va_end(ap);
		parser->own_error = TRUE;
	}
	if (parser->ctxt)
		xmlStopParser(parser->ctxt);
}

/* "HTTP/1.1 404 Not Found" -> 404; 0 when unreadable. */
static int parse_status_line(const char *text)
{
	const char *space = strchr(text, ' ');
	if (!space)
		return 0;
	gint64 code = g_ascii_strtoll(space + 1, NULL, 10);
	return code >= 100 && code <= 999 ? (int) code : 0;
}

static gboolean status_ok(int status)
{
	return status >= 200 && status < 300;
}

static Tag classify(Tag parent, guint depth, const xmlChar *uri, const xmlChar *name)
{
	const char *ns = (const char *) uri;
	const char *local = (const char *) name;
	gboolean dav = ns && strcmp(ns, NS_DAV) == 0;
	gboolean card = ns && strcmp(ns, NS_CARDDAV) == 0;

	if (depth == 0) {
		if (dav && strcmp(local, "multistatus") == 0)
			return TAG_MULTISTATUS;
		if (dav && strcmp(local, "error") == 0)
			return TAG_ERROR;
		return TAG_OTHER;
	}
	switch (parent) {
	case TAG_MULTISTATUS:
		if (dav && strcmp(local, "response") == 0)
			return TAG_RESPONSE;
		if (dav && strcmp(local, "sync-token") == 0)
			return TAG_TOP_SYNC_TOKEN;
		break;
	case TAG_RESPONSE:
		if (dav && strcmp(local, "href") == 0)
			return TAG_HREF;
		if (dav && strcmp(local, "status") == 0)
			return TAG_STATUS;
		if (dav && strcmp(local, "propstat") == 0)
			return TAG_PROPSTAT;
		break;
	case TAG_PROPSTAT:
		if (dav && strcmp(local, "prop") == 0)
			return TAG_PROP;
		if (dav && strcmp(local, "status") == 0)
			return TAG_PROPSTAT_STATUS;
		break;
	case TAG_PROP:
		if (dav && strcmp(local, "getetag") == 0)
			return TAG_GETETAG;
		if (card && strcmp(local, "address-data") == 0)
			return TAG_ADDRESS_DATA;
		if (dav && strcmp(local, "displayname") == 0)
			return TAG_DISPLAYNAME;
		if (dav && strcmp(local, "sync-token") == 0)
			return TAG_SYNC_TOKEN;
		if (dav && strcmp(local, "resourcetype") == 0)
			return TAG_RESOURCETYPE;
		if (dav && strcmp(local, "current-user-principal") == 0)
			return TAG_CUP;
		if (card && strcmp(local, "addressbook-home-set") == 0)
			return TAG_HOME_SET;
		if (dav && strcmp(local, "supported-report-set") == 0)
			return TAG_REPORT_SET;
		break;
	case TAG_CUP:
		if (dav && strcmp(local, "href") == 0)
			return TAG_CUP_HREF;
		break;
	case TAG_HOME_SET:
		if (dav && strcmp(local, "href") == 0)
			return TAG_HOME_HREF;
		break;
	case TAG_REPORT_SET:
	case TAG_REPORT_INNER:
		/* With or without RFC 3253's <report> wrapper (Xandikos). */
		return TAG_REPORT_INNER;
	default:
		break;
	}
	return TAG_OTHER;
}

static gsize text_limit(Tag tag)
{
	switch (tag) {
	case TAG_ADDRESS_DATA:
		return CARDDAV_MAX_CARD_BYTES;
	case TAG_HREF:
	case TAG_STATUS:
	case TAG_TOP_SYNC_TOKEN:
	case TAG_PROPSTAT_STATUS:
	case TAG_GETETAG:
	case TAG_DISPLAYNAME:
	case TAG_SYNC_TOKEN:
	case TAG_CUP_HREF:
	case TAG_HOME_HREF:
		return CARDDAV_MAX_TEXT_BYTES;
	default:
		return 0;
	}
}

static void on_start_element(void *user_data, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri,
			     int n_namespaces, const xmlChar **namespaces, int n_attributes, int n_defaulted,
			     const xmlChar **attributes)
{
	MsParser *parser = user_data;

	if (parser->depth >= CARDDAV_MAX_XML_DEPTH) {
		ms_fail(parser, "elements nested deeper than %d", CARDDAV_MAX_XML_DEPTH);
		return;
	}
	Tag parent = parser->depth > 0 ? parser->stack[parser->depth - 1] : TAG_OTHER;
	Tag tag = classify(parent, parser->depth, uri, name);
	if (parser->depth == 0)
		parser->root = tag;
	parser->stack[parser->depth++] = tag;

	switch (tag) {
	case TAG_RESPONSE:
		ms_response_clear(&parser->response);
		break;
	case TAG_PROPSTAT:
		ms_props_clear(&parser->propstat);
		parser->propstat_status = 0;
		break;
	case TAG_ADDRESS_DATA:
		parser->propstat.data_seen = TRUE;
		break;
	case TAG_RESOURCETYPE:
		break;
	case TAG_REPORT_INNER: {
		const char *ns = (const char *) uri;
		if (ns && strcmp(ns, NS_DAV) == 0 && strcmp((const char *) name, "supported-report") != 0 &&
		    strcmp((const char *) name, "report") != 0)
			parser->propstat.reports_listed = TRUE;
		if (ns && strcmp(ns, NS_CARDDAV) == 0)
			parser->propstat.reports_listed = TRUE;
		if (ns && strcmp(ns, NS_DAV) == 0 && strcmp((const char *) name, "sync-collection") == 0)
			parser->propstat.report_sync = TRUE;
		break;
	}
	case TAG_OTHER:
		if (parent == TAG_RESOURCETYPE && uri) {
			if (strcmp((const char *) uri, NS_CARDDAV) == 0 && strcmp((const char *) name, "addressbook") == 0)
				parser->propstat.addressbook = TRUE;
			else if (strcmp((const char *) uri, NS_DAV) == 0 && strcmp((const char *) name, "collection") == 0)
				parser->propstat.collection = TRUE;
		} else if (parent == TAG_ERROR && uri && strcmp((const char *) uri, NS_DAV) == 0 &&
			   strcmp((const char *) name, "valid-sync-token") == 0) {
			parser->valid_sync_token = TRUE;
		}
		break;
	default:
		break;
	}

	parser->text_limit = text_limit(tag);
	parser->capturing = parser->text_limit > 0;
	if (parser->capturing)
		g_string_truncate(parser->text, 0);
}

static char *take_text(MsParser *parser, gboolean strip)
{
	char *text = g_strndup(parser->text->str, parser->text->len);
	g_string_truncate(parser->text, 0);
	return strip ? g_strstrip(text) : text;
}

static void set_first(char **slot, char *value)
{
	if (*slot || !*value)
		g_free(value);
	else
		*slot = value;
}

static void on_end_element(void *user_data, const xmlChar *name, const xmlChar *prefix, const xmlChar *uri)
{
	MsParser *parser = user_data;

	if (parser->depth == 0)
		return;
	Tag tag = parser->stack[--parser->depth];
	parser->capturing = FALSE;

	switch (tag) {
	case TAG_HREF:
		if (parser->response.hrefs->len >= CARDDAV_MAX_HREFS_PER_RESPONSE) {
			ms_fail(parser, "more than %u hrefs in one response", CARDDAV_MAX_HREFS_PER_RESPONSE);
			return;
		}
		g_ptr_array_add(parser->response.hrefs, take_text(parser, TRUE));
		break;
	case TAG_STATUS: {
		g_autofree char *text = take_text(parser, TRUE);
		parser->response.status = parse_status_line(text);
		break;
	}
	case TAG_PROPSTAT_STATUS: {
		g_autofree char *text = take_text(parser, TRUE);
		parser->propstat_status = parse_status_line(text);
		break;
	}
	case TAG_TOP_SYNC_TOKEN:
		g_free(parser->sync_token);
		parser->sync_token = take_text(parser, TRUE);
		break;
	case TAG_GETETAG:
		set_first(&parser->propstat.etag, take_text(parser, TRUE));
		break;
	case TAG_ADDRESS_DATA:
		g_free(parser->propstat.data);
		parser->propstat.data = take_text(parser, FALSE);
		break;
	case TAG_DISPLAYNAME:
		set_first(&parser->propstat.displayname, take_text(parser, TRUE));
		break;
	case TAG_SYNC_TOKEN:
		set_first(&parser->propstat.sync_token, take_text(parser, TRUE));
		break;
	case TAG_CUP_HREF:
		set_first(&parser->propstat.principal, take_text(parser, TRUE));
		break;
	case TAG_HOME_HREF:
		set_first(&parser->propstat.home, take_text(parser, TRUE));
		break;
	case TAG_PROPSTAT:
		if (status_ok(parser->propstat_status)) {
			ms_props_merge(&parser->response.props, &parser->propstat);
		} else {
			parser->response.data_missing |= parser->propstat.data_seen;
			ms_props_clear(&parser->propstat);
		}
		break;
	case TAG_RESPONSE:
		if (parser->response.hrefs->len > 0 && parser->on_response &&
		    !parser->on_response(&parser->response, parser->user_data)) {
			if (!parser->error)
				ms_fail(parser, "response refused");
			return;
		}
		ms_response_clear(&parser->response);
		break;
	default:
		break;
	}
}

static void on_characters(void *user_data, const xmlChar *text, int len)
{
	MsParser *parser = user_data;

	if (!parser->capturing || len <= 0)
		return;
	if ((gsize) len > parser->text_limit - MIN(parser->text->len, parser->text_limit)) {
		if (parser->stack[parser->depth - 1] == TAG_ADDRESS_DATA)
			ms_fail(parser, "a card larger than %" G_GSIZE_FORMAT " bytes", parser->text_limit);
		else
			ms_fail(parser, "a value longer than %" G_GSIZE_FORMAT " bytes", parser->text_limit);
		return;
	}
	g_string_append_len(parser->text, (const char *) text, len);
}

/* A multistatus has no DTD; refusing any makes entity tricks (billion
 * laughs, external entities) impossible, whatever libxml2's defaults. */
static void on_internal_subset(void *user_data, const xmlChar *name, const xmlChar *external_id,
			       const xmlChar *system_id)
{
	ms_fail(user_data, "a document type declaration, which a multistatus never has");
}

static void on_entity_decl(void *user_data, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	ms_fail(user_data, "an entity declaration, which a multistatus never has");
}

static void on_xml_error(void *user_data, xmlErrorPtr error)
{
	MsParser *parser = user_data;

	if (parser->error || !error || error->level < XML_ERR_ERROR)
		return;
	g_autofree char *message = g_strchomp(g_strdup(error->message ? error->message : "XML error"));
	if (error->line > 0)
		parser->error = g_strdup_printf("line %d: %s", error->line, message);
	else
		parser->error = g_strdup(message);
}

static xmlSAXHandler ms_sax = {
	.internalSubset = on_internal_subset,
	.entityDecl = on_entity_decl,
	.characters = on_characters,
	.cdataBlock = on_characters,
	.startElementNs = on_start_element,
	.endElementNs = on_end_element,
	.serror = on_xml_error,
	.initialized = XML_SAX2_MAGIC,
};

static void ms_parser_free(MsParser *parser)
{
	if (!parser)
		return;
	if (parser->ctxt)
		xmlFreeParserCtxt(parser->ctxt);
	if (parser->text)
		g_string_free(parser->text, TRUE);
	ms_response_clear(&parser->response);
	if (parser->response.hrefs)
		g_ptr_array_unref(parser->response.hrefs);
	ms_props_clear(&parser->propstat);
	g_free(parser->sync_token);
	g_free(parser->error);
	g_free(parser);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MsParser, ms_parser_free)

static MsParser *ms_parser_new(MsResponseFunc on_response, gpointer user_data)
{
	MsParser *parser = g_new0(MsParser, 1);

	parser->text = g_string_new(NULL);
	parser->response.hrefs = g_ptr_array_new_with_free_func(g_free);
	parser->on_response = on_response;
	parser->user_data = user_data;
	parser->ctxt = xmlCreatePushParserCtxt(&ms_sax, parser, NULL, 0, NULL);
	if (!parser->ctxt) {
		parser->error = g_strdup("out of memory for the XML parser");
		return parser;
	}
	/* No network, no DTD loading, no entity substitution. */
	xmlCtxtUseOptions(parser->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	parser->ctxt->replaceEntities = 0;
	parser->ctxt->loadsubset = 0;
	parser->ctxt->validate = 0;
	return parser;
}

/* Returns FALSE once the document is known bad. */
static gboolean ms_parser_feed(MsParser *parser, const char *data, gsize len)
{
	while (!parser->error && len > 0) {
		gsize n = MIN(len, CARDDAV_XML_CHUNK);
		if (xmlParseChunk(parser->ctxt, data, (int) n, 0) != 0 && !parser->error)
			parser->error = g_strdup("not well-formed XML");
		data += n;
		len -= n;
	}
	return parser->error == NULL;
}

static gboolean ms_parser_finish(MsParser *parser)
{
	if (!parser->error && xmlParseChunk(parser->ctxt, NULL, 0, 1) != 0 && !parser->error)
		parser->error = g_strdup("not well-formed XML");
	if (!parser->error && (!parser->ctxt->wellFormed || !parser->ctxt->nsWellFormed))
		parser->error = g_strdup("not well-formed XML");
	return parser->error == NULL;
}

/* ---- URLs ---- */

static gboolean href_is_collection(const char *href)
{
	gsize len = strlen(href);
	return len > 0 && href[len - 1] == '/';
}

/* HREF (relative or absolute) resolved against BASE, as an absolute URL. */
static char *resolve_url(const char *base, const char *href)
{
	return g_uri_resolve_relative(base, href, G_URI_FLAGS_ENCODED, NULL);
}

/* The path (with its query, if any) of HREF resolved against BASE, encoded
 * as the server wrote it; this is how cards are named. */
static char *href_path(const char *base, const char *href)
{
	if (href[0] == '/' && href[1] != '/')
		return g_strdup(href);
	g_autofree char *url = resolve_url(base, href);
	g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL) : NULL;
	if (!uri)
		return NULL;
	const char *query = g_uri_get_query(uri);
	const char *path = *g_uri_get_path(uri) ? g_uri_get_path(uri) : "/";
	return query ? g_strconcat(path, "?", query, NULL) : g_strdup(path);
}

/* Decoded path without trailing slashes, to compare collections. */
static char *path_key(const char *path)
{
	/* Only %XX changes in decoding; a card's href seldom has any. */
	char *decoded = strchr(path, '%') ? g_uri_unescape_string(path, NULL) : NULL;
	if (!decoded)
		decoded = g_strdup(path);
	gsize len = strlen(decoded);
	while (len > 0 && decoded[len - 1] == '/')
		decoded[--len] = '\0';
	return decoded;
}

static char *url_path_key(const char *url)
{
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
	return path_key(uri ? g_uri_get_path(uri) : url);
}

static char *last_segment(const char *url)
{
	g_autofree char *key = url_path_key(url);
	const char *slash = strrchr(key, '/');
	return g_strdup(slash ? slash + 1 : key);
}

/* ---- The sync ---- */

typedef enum {
	STEP_PROBE,       /* PROPFIND Depth 0 on the configured URL */
	STEP_WELL_KNOWN,  /* PROPFIND Depth 0 on /.well-known/carddav */
	STEP_PRINCIPAL,   /* PROPFIND on the principal: Depth 1 on a first sync */
	STEP_HOME,        /* PROPFIND Depth 1 on the address book home */
	STEP_SYNC,        /* REPORT sync-collection */
	STEP_QUERY,       /* REPORT addressbook-query */
	STEP_MULTIGET,    /* REPORT addressbook-multiget */
	STEP_TOKEN,       /* PROPFIND Depth 0 on an address book: its sync-token */
} Step;

typedef enum {
	QUERY_DATA,   /* every card with data; complete */
	QUERY_ETAGS,  /* every ETag, to compare with the state; complete */
	QUERY_PICK,   /* every card with data, keeping the pending ones; incremental */
} QueryMode;

/* One address book being read. */
typedef struct {
	CarddavBook *book;      /* owned until it moves into the result */
	char *key;              /* owned: path_key of the book's URL */
	char *server_token;     /* owned: its sync-token per discovery; NULL if none */
	gboolean token_read;    /* SERVER_TOKEN is known (else asked before the book is read) */
	gboolean reports_listed, report_sync; /* what supported-report-set said */
	gboolean sync_supported;
	gboolean force_full;    /* the stored token was refused: the full path */
	GPtrArray *pending;     /* owned char*: hrefs whose data is still to fetch */
	guint pending_done;     /* how many of PENDING went into multigets */
	GHashTable *pending_set; /* owned, QUERY_PICK: hrefs wanted, borrowed from PENDING */
	GHashTable *batch;      /* owned, MULTIGET: hrefs asked and not answered yet */
	QueryMode query_mode;
	gsize bytes;            /* card data collected */
} BookJob;

struct CarddavSync {
	HttpEngine *engine;     /* borrowed */
	char *url;              /* owned: the account URL without user:password */
	char *username;         /* owned, may be NULL */
	char *password;         /* owned, wiped when freed; may be NULL */
	guint timeout_s;        /* each request; 0 = the engine's */
	GStrv addressbooks;     /* owned; NULL = all */
	GHashTable *tokens;     /* owned copy: book url -> token */
	GHashTable *etags;      /* owned copy: href -> etag */
	CarddavCardFunc card;
	CarddavDoneFunc done;
	gpointer user_data;     /* borrowed */
	/* Nothing known from before (no token, no ETag): the books are read
	 * without their sync-tokens, which are left to the next sync. */
	gboolean first;

	CarddavResult *result;  /* owned until DONE */
	Step step;
	char *request_url;      /* owned: URL of the request under way */
	const char *method;     /* static string */
	guint64 request_id;     /* 0 when none is under way */
	MsParser *parser;       /* owned: for the request under way */
	gboolean status_read;   /* the answer under way streams; its status was read */
	gboolean deliver;       /* ... and it is a 207: its cards are handed over */
	guint idle_id;          /* a failure reported from the main loop */
	gboolean finishing;     /* DONE is running */

	/* Discovery. */
	gboolean url_is_collection; /* the probe found a collection at the URL */
	long probe_status;      /* the probe's answer, for the error when nothing is found */
	MsProps found;          /* what the probe/principal step learnt (raw hrefs) */
	char *found_href;       /* owned: href of the first response, raw */
	char *home_url;         /* owned */
	gboolean home_guessed;  /* HOME_URL is the parent of the books synced last time */
	gboolean direct;        /* the books of the tokens, without a listing */
	GPtrArray *jobs;        /* owned BookJob* */
	guint job_index;
};

static void book_free(gpointer data)
{
	CarddavBook *book = data;
	if (!book)
		return;
	g_free(book->url);
	g_free(book->name);
	g_free(book->sync_token);
	if (book->unchanged)
		g_ptr_array_unref(book->unchanged);
	if (book->removed)
		g_ptr_array_unref(book->removed);
	g_free(book);
}

void carddav_result_free(CarddavResult *result)
{
	if (!result)
		return;
	if (result->books)
		g_ptr_array_unref(result->books);
	g_free(result->error);
	g_free(result);
}

/* Only before any card of the book was handed over. */
static void book_reset(CarddavBook *book)
{
	g_ptr_array_set_size(book->unchanged, 0);
	g_ptr_array_set_size(book->removed, 0);
}

static void job_free(gpointer data)
{
	BookJob *job = data;
	if (!job)
		return;
	book_free(job->book);
	g_free(job->key);
	g_free(job->server_token);
	if (job->pending)
		g_ptr_array_unref(job->pending);
	if (job->pending_set)
		g_hash_table_unref(job->pending_set);
	if (job->batch)
		g_hash_table_unref(job->batch);
	g_free(job);
}

static void job_set_token(BookJob *job, const char *token)
{
	g_free(job->server_token);
	job->server_token = token && *token ? g_strdup(token) : NULL;
	job->token_read = TRUE;
	/* A server that lists its reports and leaves sync-collection out does
	 * not have it; one that lists none (Xandikos) may still. */
	job->sync_supported = job->server_token && (!job->reports_listed || job->report_sync);
}

/* TOKEN_READ: PROPS holds the book's sync-token (or the server has none). */
static BookJob *job_new(const char *url, const MsProps *props, gboolean token_read)
{
	BookJob *job = g_new0(BookJob, 1);
	CarddavBook *book = g_new0(CarddavBook, 1);

	book->url = g_strdup(url);
	book->name = props->displayname && *props->displayname ? g_strdup(props->displayname) : last_segment(url);
	book->unchanged = g_ptr_array_new_with_free_func(g_free);
	book->removed = g_ptr_array_new_with_free_func(g_free);
	job->book = book;
	job->key = url_path_key(url);
	job->reports_listed = props->reports_listed;
	job->report_sync = props->report_sync;
	if (token_read)
		job_set_token(job, props->sync_token);
	job->pending = g_ptr_array_new_with_free_func(g_free);
	return job;
}

static void sync_free(CarddavSync *sync)
{
	if (!sync)
		return;
	if (sync->password) {
		explicit_bzero(sync->password, strlen(sync->password));
		g_free(sync->password);
	}
	g_free(sync->url);
	g_free(sync->username);
	g_strfreev(sync->addressbooks);
	if (sync->tokens)
		g_hash_table_unref(sync->tokens);
	if (sync->etags)
		g_hash_table_unref(sync->etags);
	carddav_result_free(sync->result);
	g_free(sync->request_url);
	ms_parser_free(sync->parser);
	if (sync->idle_id)
		g_source_remove(sync->idle_id);
	ms_props_clear(&sync->found);
	g_free(sync->found_href);
	g_free(sync->home_url);
	if (sync->jobs)
		g_ptr_array_unref(sync->jobs);
	g_free(sync);
}

static void sync_finish(CarddavSync *sync)
{
	CarddavResult *result = g_steal_pointer(&sync->result);

	if (result->error) {
		/* Nothing half-read reaches the caller. */
		g_ptr_array_set_size(result->books, 0);
		log_debug("carddav: %s", result->error);
	}
	sync->finishing = TRUE;
	sync->done(result, sync->user_data);
	sync_free(sync);
}

static void sync_set_error(CarddavSync *sync, long status, const char *format, ...) G_GNUC_PRINTF(3, 4);
static void sync_set_error(CarddavSync *sync, long status, const char *format, ...)
{
	va_list ap;

	if (sync->result->error)
		return;
	va_start(ap, format);
	sync->result->error = g_strdup_vprintf(format, ap);
	va_end(ap);
	sync->result->status = status;
}

static gboolean on_fail_idle(gpointer user_data)
{
	CarddavSync *sync = user_data;
	sync->idle_id = 0;
	sync_finish(sync);
	return G_SOURCE_REMOVE;
}

/* ---- Requests ---- */

static gboolean on_chunk(const char *data, gsize len, gpointer user_data)
{
	CarddavSync *sync = user_data;
	MsParser *parser = sync->parser;

	if (parser->error)
		/* Our own limits stop the transfer; for bad XML the rest is read
		 * (and dropped), so an error status still arrives with it. */
		return !parser->own_error;
	if (!sync->status_read) {
		/* Cards in any other answer (a refused token) are not the book's. */
		sync->deliver = http_engine_status(sync->engine, sync->request_id) == 207;
		sync->status_read = TRUE;
	}
	ms_parser_feed(parser, data, len);
	return !parser->own_error;
}

static void on_done(const HttpResponse *response, gpointer user_data);
static gboolean on_response(MsResponse *response, gpointer user_data);

static void submit(CarddavSync *sync, Step step, const char *method, const char *url, const char *depth,
		   const char *body, gsize max_body)
{
	HttpRequest *request = http_request_new(method, url);

	if (depth)
		http_request_add_header(request, "Depth", depth);
	http_request_set_body(request, XML_CONTENT_TYPE, body, strlen(body));
	if (sync->username)
		http_request_set_auth(request, sync->username, sync->password ? sync->password : "");
	http_request_set_sink(request, on_chunk, sync);
	http_request_set_max_body(request, max_body);
	http_request_set_timeout(request, sync->timeout_s);

	ms_parser_free(sync->parser);
	sync->parser = ms_parser_new(on_response, sync);
	sync->step = step;
	sync->status_read = FALSE;
	sync->deliver = FALSE;
	sync->method = method;
	g_free(sync->request_url);
	sync->request_url = g_strdup(url);
	sync->result->requests++;
	log_debug("carddav: %s %s", method, url);
	sync->request_id = http_engine_submit(sync->engine, request, on_done, sync);
}

#define PROPFIND_DISCOVERY \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\"><d:prop>" \
	"<d:resourcetype/><d:displayname/><d:current-user-principal/><c:addressbook-home-set/>" \
	"<d:sync-token/><d:supported-report-set/>" \
	"</d:prop></d:propfind>\n"

/* The first sync leaves the tokens out: the URL may be an address book. */
#define PROPFIND_DISCOVERY_NO_TOKEN \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<d:propfind xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\"><d:prop>" \
	"<d:resourcetype/><d:displayname/><d:current-user-principal/><c:addressbook-home-set/>" \
	"<d:supported-report-set/>" \
	"</d:prop></d:propfind>\n"

#define PROPFIND_HOME \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<d:propfind xmlns:d=\"DAV:\"><d:prop>" \
	"<d:resourcetype/><d:displayname/><d:sync-token/><d:supported-report-set/>" \
	"</d:prop></d:propfind>\n"

/* With a filter: Radicale computes a sync-token by reading the whole book,
 * so it is asked only of the books wanted (PROPFIND_TOKEN); on the first
 * sync, of none. */
#define PROPFIND_HOME_NO_TOKEN \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<d:propfind xmlns:d=\"DAV:\"><d:prop>" \
	"<d:resourcetype/><d:displayname/><d:supported-report-set/>" \
	"</d:prop></d:propfind>\n"

#define PROPFIND_TOKEN \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<d:propfind xmlns:d=\"DAV:\"><d:prop><d:sync-token/></d:prop></d:propfind>\n"

#define QUERY_BODY(PROPS) \
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" \
	"<c:addressbook-query xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\">" \
	"<d:prop>" PROPS "</d:prop><c:filter/></c:addressbook-query>\n"

static void next_book(CarddavSync *sync);
static void start_full(CarddavSync *sync, BookJob *job);

static BookJob *current_job(CarddavSync *sync)
{
	return g_ptr_array_index(sync->jobs, sync->job_index);
}

static void propfind(CarddavSync *sync, Step step, const char *url, const char *depth)
{
	const char *body = sync->first ? PROPFIND_DISCOVERY_NO_TOKEN : PROPFIND_DISCOVERY;

	/* What the last Depth 0 answer said has been used by now. */
	ms_props_clear(&sync->found);
	g_clear_pointer(&sync->found_href, g_free);

	if (step == STEP_HOME)
		body = sync->addressbooks || sync->first ? PROPFIND_HOME_NO_TOKEN : PROPFIND_HOME;
	else if (step == STEP_TOKEN)
		body = PROPFIND_TOKEN;
	submit(sync, step, "PROPFIND", url, depth, body, CARDDAV_MAX_PROPFIND_BYTES);
}

static void query(CarddavSync *sync, BookJob *job, QueryMode mode)
{
	job->query_mode = mode;
	if (mode == QUERY_ETAGS)
		submit(sync, STEP_QUERY, "REPORT", job->book->url, "1", QUERY_BODY("<d:getetag/>"),
		       CARDDAV_MAX_REPORT_BYTES);
	else
		submit(sync, STEP_QUERY, "REPORT", job->book->url, "1",
		       QUERY_BODY("<d:getetag/><c:address-data/>"), CARDDAV_MAX_REPORT_BYTES);
}

static void sync_collection(CarddavSync *sync, BookJob *job, const char *token)
{
	g_autofree char *escaped = g_markup_escape_text(token, -1);
	g_autofree char *body = g_strdup_printf(
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<d:sync-collection xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\">"
		"<d:sync-token>%s</d:sync-token><d:sync-level>1</d:sync-level>"
		"<d:prop><d:getetag/><c:address-data/></d:prop></d:sync-collection>\n",
		escaped);
	submit(sync, STEP_SYNC, "REPORT", job->book->url, "0", body, CARDDAV_MAX_REPORT_BYTES);
}

/* The next batch of JOB's pending hrefs, or the next step when none is left. */
static void fetch_pending(CarddavSync *sync, BookJob *job)
{
	if (job->pending_done >= job->pending->len) {
		next_book(sync);
		return;
	}
	if (job->pending->len > CARDDAV_MULTIGET_MAX_HREFS) {
		if (job->book->complete) {
			/* The whole book with its data, compared anew. */
			book_reset(job->book);
			job->bytes = 0;
			g_ptr_array_set_size(job->pending, 0);
			query(sync, job, QUERY_DATA);
		} else {
			g_clear_pointer(&job->pending_set, g_hash_table_unref);
			job->pending_set = g_hash_table_new(g_str_hash, g_str_equal);
			for (guint i = 0; i < job->pending->len; i++)
				g_hash_table_add(job->pending_set, g_ptr_array_index(job->pending, i));
			query(sync, job, QUERY_PICK);
		}
		return;
	}

	g_autoptr(GString) body = g_string_new(
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<c:addressbook-multiget xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:carddav\">"
		"<d:prop><d:getetag/><c:address-data/></d:prop>");
	g_clear_pointer(&job->batch, g_hash_table_unref);
	job->batch = g_hash_table_new(g_str_hash, g_str_equal);
	guint end = MIN(job->pending->len, job->pending_done + CARDDAV_MULTIGET_BATCH);
	for (; job->pending_done < end; job->pending_done++) {
		const char *href = g_ptr_array_index(job->pending, job->pending_done);
		g_autofree char *escaped = g_markup_escape_text(href, -1);
		g_string_append_printf(body, "<d:href>%s</d:href>", escaped);
		g_hash_table_add(job->batch, (gpointer) href);
	}
	g_string_append(body, "</c:addressbook-multiget>\n");
	submit(sync, STEP_MULTIGET, "REPORT", job->book->url, NULL, body->str, CARDDAV_MAX_REPORT_BYTES);
}

static void start_full(CarddavSync *sync, BookJob *job)
{
	CarddavBook *book = job->book;

	book_reset(book);
	job->bytes = 0;
	g_ptr_array_set_size(job->pending, 0);
	job->pending_done = 0;
	book->complete = TRUE;
	/* Read before the listing: what changes in between comes again. */
	g_free(book->sync_token);
	book->sync_token = g_strdup(job->server_token);
	book->token_pending = !job->token_read;
	query(sync, job, sync->etags && g_hash_table_size(sync->etags) > 0 ? QUERY_ETAGS : QUERY_DATA);
}

static void start_book(CarddavSync *sync, BookJob *job)
{
	const char *token = sync->tokens ? g_hash_table_lookup(sync->tokens, job->book->url) : NULL;
	/* Without the book's current token (a filtered home listing), a token
	 * it gave before says that it speaks sync-collection. */
	gboolean may_sync = token && *token && !job->force_full &&
		(job->token_read ? job->sync_supported : !job->reports_listed || job->report_sync);

	if (may_sync) {
		job->book->complete = FALSE;
		if (job->token_read && g_strcmp0(token, job->server_token) == 0) {
			/* The book's sync-token has not moved: nothing changed. */
			job->book->sync_token = g_strdup(token);
			next_book(sync);
			return;
		}
		sync_collection(sync, job, token);
		return;
	}
	if (!job->token_read && !sync->first) {
		/* Read before the listing: what changes in between comes again. */
		propfind(sync, STEP_TOKEN, job->book->url, "0");
		return;
	}
	/* On the first sync, the listing alone: the server's cost of a token
	 * (Radicale reads the whole book for it) is left to the next sync,
	 * which compares ETags after reading it. */
	start_full(sync, job);
}

static void next_book(CarddavSync *sync)
{
	if (sync->job_index < sync->jobs->len) {
		BookJob *job = current_job(sync);
		/* Done with it: into the result. */
		g_ptr_array_add(sync->result->books, g_steal_pointer(&job->book));
		sync->job_index++;
	}
	while (sync->job_index < sync->jobs->len) {
		BookJob *job = current_job(sync);
		if (job->book) {
			start_book(sync, job);
			return;
		}
		sync->job_index++;
	}
	sync_finish(sync);
}

static gboolean name_wanted(CarddavSync *sync, const CarddavBook *book)
{
	if (!sync->addressbooks)
		return TRUE;
	g_autofree char *segment = last_segment(book->url);
	for (char **name = sync->addressbooks; *name; name++)
		if (strcmp(*name, book->name) == 0 || strcmp(*name, segment) == 0)
			return TRUE;
	return FALSE;
}

/* The guessed home did not work out: discovery from the start. */
static void rediscover(CarddavSync *sync)
{
	log_debug("carddav: %s is not the home of the books known, discovering", sync->home_url);
	sync->home_guessed = FALSE;
	g_ptr_array_set_size(sync->jobs, 0);
	propfind(sync, STEP_PROBE, sync->url, "0");
}

static gboolean lists_known_book(CarddavSync *sync)
{
	for (guint i = 0; i < sync->jobs->len; i++) {
		const CarddavBook *book = ((BookJob *) g_ptr_array_index(sync->jobs, i))->book;
		if (g_hash_table_contains(sync->tokens, book->url))
			return TRUE;
	}
	return FALSE;
}

/* The home listing is in: keep the address books asked for and start. */
static void start_books(CarddavSync *sync)
{
	if (sync->home_guessed && !lists_known_book(sync)) {
		rediscover(sync);
		return;
	}
	if (sync->addressbooks) {
		for (char **name = sync->addressbooks; *name; name++) {
			gboolean found = FALSE;
			for (guint i = 0; i < sync->jobs->len && !found; i++) {
				const CarddavBook *book = ((BookJob *) g_ptr_array_index(sync->jobs, i))->book;
				g_autofree char *segment = last_segment(book->url);
				found = strcmp(*name, book->name) == 0 || strcmp(*name, segment) == 0;
			}
			if (!found && sync->home_guessed) {
				rediscover(sync);
				return;
			}
			if (!found) {
				sync_set_error(sync, 0, "no address book named \"%s\" at %s", *name, sync->home_url);
				sync_finish(sync);
				return;
			}
		}
		for (guint i = sync->jobs->len; i-- > 0;)
			if (!name_wanted(sync, ((BookJob *) g_ptr_array_index(sync->jobs, i))->book))
				g_ptr_array_remove_index(sync->jobs, i);
	}
	sync->job_index = 0;
	if (sync->jobs->len == 0) {
		sync_finish(sync);
		return;
	}
	start_book(sync, current_job(sync));
}

/* ---- Responses, one at a time as they stream in ---- */

static gboolean add_card(CarddavSync *sync, BookJob *job, const char *href, MsProps *props)
{
	if (job->book->cards >= CARDDAV_MAX_CARDS) {
		ms_fail(sync->parser, "more than %u cards in %s", CARDDAV_MAX_CARDS, job->book->url);
		return FALSE;
	}
	gsize len = strlen(props->data);
	if (len > CARDDAV_MAX_BOOK_BYTES - MIN(job->bytes, CARDDAV_MAX_BOOK_BYTES)) {
		ms_fail(sync->parser, "more than %" G_GSIZE_FORMAT " bytes of cards in %s", CARDDAV_MAX_BOOK_BYTES,
			job->book->url);
		return FALSE;
	}
	job->bytes += len;
	if (!sync->deliver)
		return TRUE;
	CarddavCard card = { href, props->etag, props->data };
	job->book->cards++;
	sync->card(job->book, &card, sync->user_data);
	return TRUE;
}

static gboolean on_card_response(CarddavSync *sync, BookJob *job, const char *href, MsResponse *response)
{
	CarddavBook *book = job->book;
	MsProps *props = &response->props;
	int status = response->status;
	gboolean gone = status == 404 || status == 410;

	if (sync->step == STEP_SYNC) {
		if (gone) {
			g_ptr_array_add(book->removed, g_strdup(href));
		} else if (status != 0 && !status_ok(status)) {
			log_debug("carddav: %s answered %d for %s, ignoring", book->url, status, href);
		} else if (props->data) {
			return add_card(sync, job, href, props);
		} else {
			/* ETag only (Xandikos): fetched afterwards. */
			g_ptr_array_add(job->pending, g_strdup(href));
		}
		return TRUE;
	}

	if (sync->step == STEP_MULTIGET) {
		if (!g_hash_table_remove(job->batch, href)) {
			log_debug("carddav: %s sent %s, not asked for, ignoring", book->url, href);
			return TRUE;
		}
		if (gone) {
			if (!book->complete)
				g_ptr_array_add(book->removed, g_strdup(href));
			return TRUE;
		}
		if (!props->data) {
			ms_fail(sync->parser, "no address-data for %s (status %d)", href, status);
			return FALSE;
		}
		return add_card(sync, job, href, props);
	}

	/* STEP_QUERY */
	if (gone || (status != 0 && !status_ok(status))) {
		if (status == 507) {
			ms_fail(sync->parser, "the server cut the listing short (507)");
			return FALSE;
		}
		return TRUE;
	}
	const char *known = sync->etags && props->etag ? g_hash_table_lookup(sync->etags, href) : NULL;
	switch (job->query_mode) {
	case QUERY_ETAGS:
		if (known && strcmp(known, props->etag) == 0)
			g_ptr_array_add(book->unchanged, g_strdup(href));
		else
			g_ptr_array_add(job->pending, g_strdup(href));
		return TRUE;
	case QUERY_DATA:
		if (known && strcmp(known, props->etag) == 0) {
			g_ptr_array_add(book->unchanged, g_strdup(href));
			return TRUE;
		}
		if (!props->data) {
			ms_fail(sync->parser, "no address-data for %s", href);
			return FALSE;
		}
		return add_card(sync, job, href, props);
	case QUERY_PICK:
		if (!g_hash_table_remove(job->pending_set, href))
			return TRUE;
		if (!props->data) {
			ms_fail(sync->parser, "no address-data for %s", href);
			return FALSE;
		}
		return add_card(sync, job, href, props);
	}
	return TRUE;
}

/* A response of a listing that may be an address book: a job if it is. */
static gboolean add_listed_book(CarddavSync *sync, MsResponse *response)
{
	if (!response->props.addressbook || !status_ok(response->status ? response->status : 200))
		return TRUE;
	if (sync->jobs->len >= CARDDAV_MAX_BOOKS) {
		ms_fail(sync->parser, "more than %u address books", CARDDAV_MAX_BOOKS);
		return FALSE;
	}
	g_autofree char *url = resolve_url(sync->request_url, g_ptr_array_index(response->hrefs, 0));
	if (url)
		g_ptr_array_add(sync->jobs, job_new(url, &response->props, !sync->addressbooks && !sync->first));
	return TRUE;
}

/* Whether URL (may be NULL) names the collection the request under way
 * asked for, not a member of it. */
static gboolean is_asked_url(CarddavSync *sync, const char *url)
{
	g_autofree char *key = url ? url_path_key(url) : NULL;
	g_autofree char *asked = url_path_key(sync->request_url);

	return key && strcmp(key, asked) == 0;
}

static gboolean on_response(MsResponse *response, gpointer user_data)
{
	CarddavSync *sync = user_data;

	switch (sync->step) {
	case STEP_PRINCIPAL:
		/* Depth 1: members are address books when the principal is its
		 * own home (Radicale's is), which saves a request. */
		if (sync->first) {
			g_autofree char *url = resolve_url(sync->request_url, g_ptr_array_index(response->hrefs, 0));
			if (!is_asked_url(sync, url))
				return add_listed_book(sync, response);
		}
		G_GNUC_FALLTHROUGH;
	case STEP_PROBE:
	case STEP_WELL_KNOWN:
	case STEP_TOKEN:
		/* Depth 0: the first response speaks of the URL asked. */
		if (!sync->found_href) {
			sync->found_href = g_strdup(g_ptr_array_index(response->hrefs, 0));
			ms_props_merge(&sync->found, &response->props);
		}
		return TRUE;
	case STEP_HOME:
		return add_listed_book(sync, response);
	case STEP_SYNC:
	case STEP_QUERY:
	case STEP_MULTIGET: {
		BookJob *job = current_job(sync);
		for (guint i = 0; i < response->hrefs->len; i++) {
			g_autofree char *href = href_path(sync->request_url, g_ptr_array_index(response->hrefs, i));
			if (!href)
				continue;
			g_autofree char *key = path_key(href);
			if (strcmp(key, job->key) == 0) {
				/* The collection itself (Xandikos lists it in queries). */
				if (response->status == 507 && sync->step != STEP_SYNC) {
					ms_fail(sync->parser, "the server cut the listing short (507)");
					return FALSE;
				}
				continue;
			}
			if (href_is_collection(href))
				continue;
			if (!on_card_response(sync, job, href, response))
				return FALSE;
		}
		return TRUE;
	}
	}
	return TRUE;
}

/* ---- Answers ---- */

static void fail_request(CarddavSync *sync, const HttpResponse *response, long status)
{
	const char *url = sync->request_url;

	if (response->error)
		sync_set_error(sync, status, "%s %s: %s", sync->method, url, response->error);
	else if (status == 401 && sync->username)
		sync_set_error(sync, status, "authentication failed for user %s at %s (401)", sync->username, url);
	else if (status == 401)
		sync_set_error(sync, status, "authentication required at %s (401), and no user name configured", url);
	else if (status >= 500)
		sync_set_error(sync, status, "server error %ld from %s (%s)", status, url, sync->method);
	else
		sync_set_error(sync, status, "unexpected status %ld from %s (%s)", status, url, sync->method);
	sync_finish(sync);
}

/* What the discovery learnt (sync->found, hrefs relative to BASE). */
static void after_discovery_step(CarddavSync *sync, const char *base)
{
	MsProps *found = &sync->found;

	if (found->addressbook && sync->found_href && sync->step != STEP_PRINCIPAL) {
		/* The URL is an address book: read it, whatever the filter. */
		g_autofree char *url = resolve_url(base, sync->found_href);
		if (url) {
			g_ptr_array_add(sync->jobs, job_new(url, found, !sync->first));
			sync->job_index = 0;
			start_book(sync, current_job(sync));
			return;
		}
	}
	if (found->home) {
		g_free(sync->home_url);
		sync->home_url = resolve_url(base, found->home);
	}
	if (found->home && sync->step == STEP_PRINCIPAL && sync->first && is_asked_url(sync, sync->home_url)) {
		start_books(sync);
		return;
	}
	/* Members of a principal that is not the home are no books of it. */
	g_ptr_array_set_size(sync->jobs, 0);
	if (sync->home_url && found->home) {
		propfind(sync, STEP_HOME, sync->home_url, "1");
		return;
	}
	if (found->principal && sync->step != STEP_PRINCIPAL) {
		g_autofree char *principal = resolve_url(base, found->principal);
		if (principal) {
			propfind(sync, STEP_PRINCIPAL, principal, sync->first ? "1" : "0");
			return;
		}
	}
	if (sync->step == STEP_PROBE) {
		g_autoptr(GUri) uri = g_uri_parse(sync->url, G_URI_FLAGS_ENCODED, NULL);
		g_autofree char *well_known = g_uri_join(G_URI_FLAGS_ENCODED, g_uri_get_scheme(uri), NULL,
							g_uri_get_host(uri), g_uri_get_port(uri),
							"/.well-known/carddav", NULL, NULL);
		sync->url_is_collection = found->collection;
		propfind(sync, STEP_WELL_KNOWN, well_known, "0");
		return;
	}
	if (sync->step == STEP_WELL_KNOWN && sync->url_is_collection) {
		/* Last resort: the configured URL may be a home of its own. */
		g_free(sync->home_url);
		sync->home_url = g_strdup(sync->url);
		propfind(sync, STEP_HOME, sync->home_url, "1");
		return;
	}
	if (sync->probe_status >= 500)
		sync_set_error(sync, sync->probe_status, "server error %ld from %s (PROPFIND)", sync->probe_status,
			       sync->url);
	else if (sync->probe_status != 207)
		sync_set_error(sync, sync->probe_status, "no CardDAV address book found at %s (PROPFIND answered %ld)",
			       sync->url, sync->probe_status);
	else
		sync_set_error(sync, 0, "no CardDAV address book found at %s", sync->url);
	sync_finish(sync);
}

static void on_done(const HttpResponse *response, gpointer user_data)
{
	CarddavSync *sync = user_data;
	g_autoptr(MsParser) parser = g_steal_pointer(&sync->parser);

	sync->request_id = 0;
	/* After a failure the engine may still hold the status of curl's
	 * first round, sent without credentials (401): the error counts then. */
	long status = response->error && response->status == 401 ? 0 : response->status;
	const char *url = sync->request_url;

	if (sync->step == STEP_PROBE)
		sync->probe_status = status;
	/* Answers other than a multistatus. */
	if (status != 207) {
		if (status == 0 && response->error && strcmp(response->error, "cancelled") == 0) {
			sync_set_error(sync, 0, "cancelled");
			sync_finish(sync);
			return;
		}
		if ((sync->step == STEP_SYNC || sync->step == STEP_TOKEN) && sync->direct && !response->error &&
		    status != 401 && status != 0) {
			/* The book known from the last sync is gone, or refuses its
			 * token: list the books, which sorts out either. */
			sync->direct = FALSE;
			g_ptr_array_set_size(sync->result->books, 0);
			rediscover(sync);
			return;
		}
		if (sync->step == STEP_SYNC && !response->error && status != 401 && status != 404 && status != 0) {
			/* A token the server does not take (Radicale: 403
			 * valid-sync-token; Xandikos: 500): the full path. */
			BookJob *job = current_job(sync);
			log_debug("carddav: %s refused the sync-token (%ld%s), reading it whole", job->book->url,
				  status, parser->valid_sync_token ? ", valid-sync-token" : "");
			job->force_full = TRUE;
			start_book(sync, job);
			return;
		}
		if (sync->step == STEP_HOME && sync->home_guessed && status != 401 && status != 0) {
			rediscover(sync);
			return;
		}
		if (((sync->step == STEP_PROBE && !response->error) || sync->step == STEP_WELL_KNOWN) &&
		    status != 401 && status != 0) {
			/* Not a DAV resource here: try the well-known URL, or
			 * the URL as a home (also when the well-known URL
			 * leads nowhere, e.g. a redirect loop). */
			ms_props_clear(&sync->found);
			g_clear_pointer(&sync->found_href, g_free);
			after_discovery_step(sync, url);
			return;
		}
		fail_request(sync, response, status);
		return;
	}

	/* A 207 that did not arrive whole, or that we stopped reading. */
	if (parser->own_error || (!response->error && !ms_parser_finish(parser))) {
		if (parser->own_error)
			/* A limit, a DTD, a card without data. */
			sync_set_error(sync, status, "multistatus from %s refused: %s", url, parser->error);
		else
			sync_set_error(sync, status, "malformed multistatus from %s: %s", url, parser->error);
		sync_finish(sync);
		return;
	}
	if (response->error) {
		fail_request(sync, response, status);
		return;
	}
	if (parser->root != TAG_MULTISTATUS) {
		sync_set_error(sync, status, "malformed multistatus from %s: no DAV:multistatus element", url);
		sync_finish(sync);
		return;
	}

	switch (sync->step) {
	case STEP_PROBE:
	case STEP_WELL_KNOWN:
	case STEP_PRINCIPAL:
		after_discovery_step(sync, response->effective_url ? response->effective_url : url);
		return;
	case STEP_HOME:
		start_books(sync);
		return;
	case STEP_TOKEN: {
		BookJob *job = current_job(sync);
		job_set_token(job, sync->found.sync_token);
		start_book(sync, job);
		return;
	}
	case STEP_SYNC: {
		BookJob *job = current_job(sync);
		g_free(job->book->sync_token);
		job->book->sync_token = parser->sync_token && *parser->sync_token
			? g_strdup(parser->sync_token) : g_strdup(job->server_token);
		job->pending_done = 0;
		fetch_pending(sync, job);
		return;
	}
	case STEP_QUERY: {
		BookJob *job = current_job(sync);
		if (job->query_mode == QUERY_PICK) {
			/* Named by sync-collection, gone since. */
			GHashTableIter iter;
			gpointer href;
			g_hash_table_iter_init(&iter, job->pending_set);
			while (g_hash_table_iter_next(&iter, &href, NULL))
				g_ptr_array_add(job->book->removed, g_strdup(href));
			g_clear_pointer(&job->pending_set, g_hash_table_unref);
			next_book(sync);
			return;
		}
		job->pending_done = 0;
		fetch_pending(sync, job);
		return;
	}
	case STEP_MULTIGET: {
		BookJob *job = current_job(sync);
		if (g_hash_table_size(job->batch) > 0) {
			GHashTableIter iter;
			gpointer href;
			g_hash_table_iter_init(&iter, job->batch);
			g_hash_table_iter_next(&iter, &href, NULL);
			sync_set_error(sync, status, "no answer for %s in the addressbook-multiget from %s",
				       (const char *) href, url);
			sync_finish(sync);
			return;
		}
		fetch_pending(sync, job);
		return;
	}
	}
}

/* ---- API ---- */

static GHashTable *copy_table(GHashTable *table)
{
	GHashTable *copy = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter iter;
	gpointer key, value;

	if (!table)
		return copy;
	g_hash_table_iter_init(&iter, table);
	while (g_hash_table_iter_next(&iter, &key, &value))
		if (key && value)
			g_hash_table_insert(copy, g_strdup(key), g_strdup(value));
	return copy;
}

/* Takes a user:password out of URL; returns the URL without them, or NULL
 * (with *WHY) when it is no http or https URL. */
static char *clean_url(const char *text, char **user, char **password, const char **why)
{
	g_autoptr(GUri) uri = g_uri_parse(text, G_URI_FLAGS_ENCODED | G_URI_FLAGS_HAS_PASSWORD, NULL);

	if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
		*why = "not a valid URL";
		return NULL;
	}
	const char *scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) {
		*why = "not an http or https URL";
		return NULL;
	}
	if (g_uri_get_user(uri))
		*user = g_uri_unescape_string(g_uri_get_user(uri), NULL);
	if (g_uri_get_password(uri))
		*password = g_uri_unescape_string(g_uri_get_password(uri), NULL);
	const char *path = g_uri_get_path(uri);
	return g_uri_join(G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host(uri), g_uri_get_port(uri),
			  *path ? path : "/", g_uri_get_query(uri), NULL);
}

/* The address books synced last time (the keys of STATE's tokens) sit in
 * their home: when they share a parent on the account's server, that parent
 * is listed first, saving the discovery's round trips (three before any
 * book, where a no-change sync needs one). When the URL is an address book
 * itself, or the listing does not show a known book, discovery runs. */
static char *guess_home(CarddavSync *sync)
{
	g_autoptr(GUri) account = g_uri_parse(sync->url, G_URI_FLAGS_ENCODED, NULL);
	g_autofree char *account_key = url_path_key(sync->url);
	g_autofree char *home = NULL;
	GHashTableIter iter;
	gpointer url;

	if (!account)
		return NULL;
	g_hash_table_iter_init(&iter, sync->tokens);
	while (g_hash_table_iter_next(&iter, &url, NULL)) {
		g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
		if (!uri || g_ascii_strcasecmp(g_uri_get_scheme(uri), g_uri_get_scheme(account)) != 0 ||
		    g_ascii_strcasecmp(g_uri_get_host(uri), g_uri_get_host(account)) != 0 ||
		    g_uri_get_port(uri) != g_uri_get_port(account))
			return NULL;
		g_autofree char *key = url_path_key(url);
		if (strcmp(key, account_key) == 0 || !*key)
			return NULL;
		/* "/me/contacts/" -> "/me/", kept encoded. */
		g_autofree char *path = g_strdup(g_uri_get_path(uri));
		gsize len = strlen(path);
		while (len > 0 && path[len - 1] == '/')
			path[--len] = '\0';
		char *slash = strrchr(path, '/');
		if (!slash)
			return NULL;
		slash[1] = '\0';
		g_autofree char *parent = resolve_url(url, path);
		if (!parent || (home && strcmp(home, parent) != 0))
			return NULL;
		if (!home)
			home = g_steal_pointer(&parent);
	}
	return g_steal_pointer(&home);
}

CarddavSync *carddav_sync_start(HttpEngine *engine, const CarddavAccount *account, const CarddavState *state,
				CarddavCardFunc card, CarddavDoneFunc done, gpointer user_data)
{
	CarddavSync *sync = g_new0(CarddavSync, 1);
	g_autofree char *url_user = NULL;
	g_autofree char *url_password = NULL;
	const char *why = NULL;

	xmlInitParser();
	sync->engine = engine;
	sync->card = card;
	sync->done = done;
	sync->user_data = user_data;
	sync->result = g_new0(CarddavResult, 1);
	sync->result->books = g_ptr_array_new_with_free_func(book_free);
	sync->jobs = g_ptr_array_new_with_free_func(job_free);
	sync->url = account->url ? clean_url(account->url, &url_user, &url_password, &why) : NULL;
	sync->username = g_strdup(account->username ? account->username : url_user);
	sync->password = g_strdup(account->password ? account->password : url_password);
	sync->timeout_s = account->timeout_s;
	if (url_password)
		explicit_bzero(url_password, strlen(url_password));
	if (account->addressbooks && account->addressbooks[0])
		sync->addressbooks = g_strdupv((char **) account->addressbooks);
	sync->tokens = copy_table(state ? state->tokens : NULL);
	sync->etags = copy_table(state ? state->etags : NULL);
	sync->first = g_hash_table_size(sync->tokens) == 0 && g_hash_table_size(sync->etags) == 0;

	if (!sync->url) {
		/* Not the URL itself in the message: it may hold a password. */
		sync_set_error(sync, 0, "CardDAV URL refused: %s", why ? why : "none given");
		sync->idle_id = g_idle_add(on_fail_idle, sync);
		return sync;
	}
	/* One known book: its sync-collection answers a no-change sync as fast
	 * as a listing would, and brings the changes in the same request. With
	 * several, one listing of their tokens is cheaper. */
	if (state && !state->list_books && !sync->addressbooks && g_hash_table_size(sync->tokens) == 1) {
		GHashTableIter iter;
		gpointer url;
		MsProps none = { 0 };
		g_hash_table_iter_init(&iter, sync->tokens);
		while (g_hash_table_iter_next(&iter, &url, NULL))
			g_ptr_array_add(sync->jobs, job_new(url, &none, FALSE));
		sync->direct = TRUE;
		sync->job_index = 0;
		start_book(sync, current_job(sync));
		return sync;
	}
	sync->home_url = guess_home(sync);
	if (sync->home_url) {
		sync->home_guessed = TRUE;
		propfind(sync, STEP_HOME, sync->home_url, "1");
	} else {
		propfind(sync, STEP_PROBE, sync->url, "0");
	}
	return sync;
}

void carddav_sync_cancel(CarddavSync *sync)
{
	if (!sync || sync->finishing)
		return;
	if (sync->request_id)
		http_engine_cancel(sync->engine, sync->request_id);
	sync_free(sync);
}
