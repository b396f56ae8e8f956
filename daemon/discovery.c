/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "charset.h"
#include "discovery.h"

/* A page with more elements than this is not walked further. */
#define DISCOVERY_MAX_ELEMENTS 20000u
#define DISCOVERY_MAX_DEPTH 256u
#define DISCOVERY_MAX_URL_BYTES 2048u
/* Where a <meta charset> is looked for, as browsers do. */
#define DISCOVERY_CHARSET_SCAN_BYTES 1024u
#define DISCOVERY_MAX_CHARSET_LABEL 40u

/* Path segments that name site pages, not users. */
static const char *const github_reserved[] = {
	"about", "collections", "enterprise", "events", "explore", "features", "login", "marketplace",
	"new", "notifications", "orgs", "pricing", "search", "settings", "sponsors", "topics", "trending",
	NULL,
};
static const char *const qiita_reserved[] = {
	"about", "advent-calendar", "api", "organizations", "question-feed", "search", "settings", "tags",
	"trend", "timeline", NULL,
};
static const char *const zenn_reserved[] = {
	"about", "articles", "books", "dashboard", "enter", "faq", "scraps", "search", "topics", "trending", NULL,
};
static const char *const note_reserved[] = {
	"hashtag", "info", "interests", "login", "magazine", "notes", "search", "signup", "sitesettings", "topic",
	NULL,
};
static const char *const hatena_domains[] = {
	"hatenablog.com", "hatenablog.jp", "hateblo.jp", "hatenadiary.com", "hatenadiary.jp", NULL,
};
/* Sites whose pages announce no feed of the person, or shut robots out. */
static const char *const skipped_hosts[] = {
	"linkedin.com", "facebook.com", "twitter.com", "x.com", "instagram.com", "youtube.com", "tiktok.com",
	"threads.net", "threads.com", "bsky.app", NULL,
};
/* Hosts with /@NAME paths that are no Mastodon. */
static const char *const not_mastodon_hosts[] = {
	"medium.com", "youtube.com", "tiktok.com", "threads.net", "threads.com", "x.com", "twitter.com",
	"instagram.com", "linkedin.com", "note.com", NULL,
};

typedef struct {
	char *host;        /* lower case */
	GPtrArray *segments; /* char*, non-empty path segments, as written */
} PageUrl;

static void page_url_clear(PageUrl *page)
{
	g_free(page->host);
	if (page->segments)
		g_ptr_array_unref(page->segments);
}

static gboolean parse_page_url(const char *url, PageUrl *out)
{
	g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL) : NULL;

	if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri))
		return FALSE;
	const char *scheme = g_uri_get_scheme(uri);
	if (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)
		return FALSE;
	out->host = g_ascii_strdown(g_uri_get_host(uri), -1);
	out->segments = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) parts = g_strsplit(g_uri_get_path(uri), "/", -1);
	for (char **p = parts; *p; p++)
		if (**p)
			g_ptr_array_add(out->segments, g_strdup(*p));
	return TRUE;
}

static gboolean host_is(const char *host, const char *domain)
{
	if (strcmp(host, domain) == 0)
		return TRUE;
	gsize hl = strlen(host), dl = strlen(domain);
	return hl > dl && host[hl - dl - 1] == '.' && strcmp(host + hl - dl, domain) == 0;
}

static gboolean host_in(const char *host, const char *const *domains)
{
	for (gsize i = 0; domains[i]; i++)
		if (host_is(host, domains[i]))
			return TRUE;
	return FALSE;
}

static gboolean in_list(const char *word, const char *const *list)
{
	for (gsize i = 0; list[i]; i++)
		if (g_ascii_strcasecmp(word, list[i]) == 0)
			return TRUE;
	return FALSE;
}

/* A user name as these sites allow them: letters, digits, - _ . */
static gboolean user_name(const char *text)
{
	if (!*text || strlen(text) > 100)
		return FALSE;
	for (const char *p = text; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return FALSE;
	return TRUE;
}

/* The single path segment of PAGE when it is a user name not in RESERVED. */
static const char *only_user(const PageUrl *page, const char *const *reserved)
{
	if (page->segments->len != 1)
		return NULL;
	const char *user = g_ptr_array_index(page->segments, 0);
	return user_name(user) && !in_list(user, reserved) ? user : NULL;
}

char *discovery_from_pattern(const char *page_url)
{
	PageUrl page = { 0 };
	char *feed = NULL;
	const char *user;

	if (!parse_page_url(page_url, &page))
		return NULL;
	const char *host = page.host;
	const char *first = page.segments->len ? g_ptr_array_index(page.segments, 0) : "";

	if (strcmp(host, "note.com") == 0 || strcmp(host, "www.note.com") == 0) {
		if ((user = only_user(&page, note_reserved)))
			feed = g_strdup_printf("https://note.com/%s/rss", user);
	} else if (host_in(host, hatena_domains) && !in_list(host, hatena_domains)) {
		/* NAME.hatenablog.com: any page of the blog. */
		feed = g_strdup_printf("https://%s/feed", host);
	} else if (strcmp(host, "qiita.com") == 0) {
		if ((user = only_user(&page, qiita_reserved)))
			feed = g_strdup_printf("https://qiita.com/%s/feed", user);
	} else if (strcmp(host, "zenn.dev") == 0) {
		if ((user = only_user(&page, zenn_reserved)))
			feed = g_strdup_printf("https://zenn.dev/%s/feed", user);
	} else if (strcmp(host, "medium.com") == 0 || strcmp(host, "www.medium.com") == 0) {
		if (page.segments->len == 1 && first[0] == '@' && user_name(first + 1))
			feed = g_strdup_printf("https://medium.com/feed/%s", first);
	} else if (host_is(host, "medium.com")) {
		/* USER.medium.com */
		g_autofree char *label = g_strndup(host, strlen(host) - strlen(".medium.com"));
		if (user_name(label) && !strchr(label, '.'))
			feed = g_strdup_printf("https://%s/feed", host);
	} else if (strcmp(host, "github.com") == 0 || strcmp(host, "www.github.com") == 0) {
		if ((user = only_user(&page, github_reserved)))
			feed = g_strdup_printf("https://github.com/%s.atom", user);
	} else if (!host_in(host, not_mastodon_hosts) && page.segments->len == 1 && first[0] == '@') {
		/* Mastodon: /@user, or /@user@home for an account of another server. */
		g_auto(GStrv) parts = g_strsplit(first + 1, "@", 3);
		guint n = g_strv_length(parts);
		if (n == 1 && user_name(parts[0]))
			feed = g_strdup_printf("https://%s/@%s.rss", host, parts[0]);
		else if (n == 2 && user_name(parts[0]) && user_name(parts[1]) && strchr(parts[1], '.'))
			feed = g_strdup_printf("https://%s/@%s.rss", parts[1], parts[0]);
	}
	page_url_clear(&page);
	return feed;
}

gboolean discovery_skip_page(const char *page_url)
{
	PageUrl page = { 0 };
	if (!parse_page_url(page_url, &page))
		return TRUE;
	gboolean skip = host_in(page.host, skipped_hosts);
	page_url_clear(&page);
	return skip;
}

/* ---- <link rel="alternate"> ---- */

static gboolean has_token(const char *list, const char *token)
{
	g_auto(GStrv) words = g_strsplit_set(list, " \t\r\n\f", -1);
	for (char **w = words; *w; w++)
		if (g_ascii_strcasecmp(*w, token) == 0)
			return TRUE;
	return FALSE;
}

static gboolean feed_type(const char *type)
{
	g_autofree char *bare = g_strstrip(g_strndup(type, strcspn(type, ";")));
	return g_ascii_strcasecmp(bare, "application/rss+xml") == 0 ||
	       g_ascii_strcasecmp(bare, "application/atom+xml") == 0;
}

static char *resolve_http(const char *base, const char *href)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(href));
	if (!*trimmed || strlen(trimmed) > DISCOVERY_MAX_URL_BYTES)
		return NULL;
	char *resolved = base ? g_uri_resolve_relative(base, trimmed, G_URI_FLAGS_ENCODED, NULL)
			      : g_strdup(trimmed);
	g_autoptr(GUri) uri = resolved ? g_uri_parse(resolved, G_URI_FLAGS_ENCODED, NULL) : NULL;
	const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
	if (!scheme || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0) ||
	    !g_uri_get_host(uri) || !*g_uri_get_host(uri)) {
		g_free(resolved);
		return NULL;
	}
	return resolved;
}

static gboolean mentions_comments(const char *text)
{
	if (!text)
		return FALSE;
	g_autofree char *lower = g_utf8_strdown(text, -1);
	return strstr(lower, "comment") || strstr(lower, "コメント");
}

typedef struct {
	guint elements;
	xmlChar *base;   /* <base href>, owned */
	xmlNode *feed, *comment_feed; /* the first of each kind */
} LinkWalk;

static void walk(xmlNode *node, guint depth, LinkWalk *w)
{
	if (depth > DISCOVERY_MAX_DEPTH)
		return;
	for (; node && w->elements < DISCOVERY_MAX_ELEMENTS; node = node->next) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		w->elements++;
		const char *name = (const char *)node->name;
		if (g_ascii_strcasecmp(name, "base") == 0 && !w->base) {
			w->base = xmlGetProp(node, (const xmlChar *)"href");
		} else if (g_ascii_strcasecmp(name, "link") == 0) {
			xmlChar *rel = xmlGetProp(node, (const xmlChar *)"rel");
			xmlChar *type = xmlGetProp(node, (const xmlChar *)"type");
			xmlChar *href = xmlGetProp(node, (const xmlChar *)"href");
			if (rel && type && href && has_token((const char *)rel, "alternate") &&
			    feed_type((const char *)type)) {
				xmlChar *title = xmlGetProp(node, (const xmlChar *)"title");
				gboolean comments = mentions_comments((const char *)href) ||
						    mentions_comments((const char *)title);
				xmlFree(title);
				if (comments && !w->comment_feed)
					w->comment_feed = node;
				else if (!comments && !w->feed)
					w->feed = node;
			}
			xmlFree(rel);
			xmlFree(type);
			xmlFree(href);
		}
		walk(node->children, depth + 1, w);
	}
}

/* The charset label after "charset=" in TEXT (a Content-Type or the
 * start of a page), or NULL. */
static char *charset_label(const char *text, gsize len)
{
	g_autofree char *lower = g_ascii_strdown(text, (gssize)len);
	const char *at = strstr(lower, "charset=");
	if (!at)
		return NULL;
	at += strlen("charset=");
	while (*at == '"' || *at == '\'' || *at == ' ')
		at++;
	gsize n = 0;
	while (at[n] && n < DISCOVERY_MAX_CHARSET_LABEL && (g_ascii_isalnum(at[n]) || strchr("-_:.", at[n])))
		n++;
	return n ? g_strndup(at, n) : NULL;
}

/* The page as UTF-8: by the charset of CONTENT_TYPE, else of a <meta> near
 * the start, else as it is when it is valid UTF-8, else windows-1252. We
 * decode, not libxml2, whose encoding errors would go to stderr. */
static char *page_to_utf8(const char *data, gsize len, const char *content_type)
{
	g_autofree char *label = content_type ? charset_label(content_type, strlen(content_type)) : NULL;
	if (!label)
		label = charset_label(data, MIN(len, DISCOVERY_CHARSET_SCAN_BYTES));
	if (label) {
		char *text = charset_to_utf8(data, (gssize)len, label, NULL);
		if (text)
			return text;
	}
	return charset_guess_to_utf8(data, (gssize)len);
}

char *discovery_from_html(const char *data, gsize len, const char *base_url, const char *content_type)
{
	if (!data || len == 0 || len > G_MAXINT)
		return NULL;
	g_autofree char *text = page_to_utf8(data, len, content_type);
	if (!text)
		return NULL;
	htmlDocPtr doc = htmlReadMemory(text, (int)strlen(text), base_url, "UTF-8",
					HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
						HTML_PARSE_RECOVER | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
	if (!doc)
		return NULL;

	LinkWalk w = { 0 };
	walk(xmlDocGetRootElement(doc), 0, &w);
	char *feed = NULL;
	xmlNode *chosen = w.feed ? w.feed : w.comment_feed;
	if (chosen) {
		xmlChar *href = xmlGetProp(chosen, (const xmlChar *)"href");
		g_autofree char *base = w.base ? resolve_http(base_url, (const char *)w.base) : NULL;
		feed = resolve_http(base ? base : base_url, (const char *)href);
		xmlFree(href);
	}
	xmlFree(w.base);
	xmlFreeDoc(doc);
	return feed;
}

/* ---- running one discovery ---- */

struct Discovery {
	HttpEngine *http;   /* borrowed */
	char *page_url;
	DiscoveryDoneFunc done;
	gpointer user_data;
	guint64 transfer;   /* 0 when no request is under way */
	GByteArray *page;   /* what came of the page, at most DISCOVERY_MAX_PAGE_BYTES */
	gboolean page_full; /* the rest was not read */
	guint idle;         /* a pattern's answer, delivered from the loop */
	char *feed_url;     /* what the idle delivers */
};

static void discovery_free(Discovery *discovery)
{
	g_clear_handle_id(&discovery->idle, g_source_remove);
	if (discovery->page)
		g_byte_array_unref(discovery->page);
	g_free(discovery->page_url);
	g_free(discovery->feed_url);
	g_free(discovery);
}

static gboolean deliver_pattern(gpointer user_data)
{
	Discovery *discovery = user_data;
	discovery->idle = 0;
	discovery->done(discovery->page_url, discovery->feed_url, NULL, discovery->user_data);
	discovery_free(discovery);
	return G_SOURCE_REMOVE;
}

/* The body looks like a feed document itself (it was linked as a page). */
static gboolean looks_like_feed(const HttpResponse *response, const char *data, gsize len)
{
	const char *type = response->content_type;
	if (type) {
		g_autofree char *bare = g_strstrip(g_strndup(type, strcspn(type, ";")));
		if (feed_type(bare) || g_ascii_strcasecmp(bare, "application/rdf+xml") == 0)
			return TRUE;
		if (g_ascii_strcasecmp(bare, "text/html") == 0 || g_ascii_strcasecmp(bare, "application/xhtml+xml") == 0)
			return FALSE;
	}
	/* XML served as text/xml or without a type: look at the root. */
	gsize n = MIN(len, 1024);
	g_autofree char *head = g_strndup(data, n);
	return strstr(head, "<rss") || strstr(head, "<feed") || strstr(head, "<rdf:RDF");
}

/* Keeps the start of the page: the links are in its <head>. */
static gboolean on_page_data(const char *data, gsize len, gpointer user_data)
{
	Discovery *discovery = user_data;
	gsize room = DISCOVERY_MAX_PAGE_BYTES - discovery->page->len;

	g_byte_array_append(discovery->page, (const guint8 *)data, (guint)MIN(len, room));
	if (len >= room) {
		discovery->page_full = TRUE;
		return FALSE;
	}
	return TRUE;
}

static void on_page(const HttpResponse *response, gpointer user_data)
{
	Discovery *discovery = user_data;
	g_autofree char *feed = NULL;
	g_autofree char *error = NULL;

	discovery->transfer = 0;
	if (response->error && !discovery->page_full) {
		error = g_strdup(response->error);
	} else if (response->status == 404 || response->status == 410) {
		/* No page, so no feed: an answer, not a failure. */
	} else if (response->status < 200 || response->status >= 300) {
		error = g_strdup_printf("HTTP %ld", response->status);
	} else {
		const char *data = (const char *)discovery->page->data;
		gsize len = discovery->page->len;
		if (looks_like_feed(response, data, len))
			feed = g_strdup(response->effective_url);
		else
			feed = discovery_from_html(data, len, response->effective_url, response->content_type);
	}
	discovery->done(discovery->page_url, feed, error, discovery->user_data);
	discovery_free(discovery);
}

Discovery *discovery_run(HttpEngine *http, const char *page_url, DiscoveryDoneFunc done, gpointer user_data)
{
	Discovery *discovery = g_new0(Discovery, 1);
	discovery->http = http;
	discovery->page_url = g_strdup(page_url);
	discovery->done = done;
	discovery->user_data = user_data;

	discovery->feed_url = discovery_from_pattern(page_url);
	if (discovery->feed_url || discovery_skip_page(page_url)) {
		discovery->idle = g_idle_add(deliver_pattern, discovery);
		return discovery;
	}
	HttpRequest *request = http_request_new("GET", page_url);
	http_request_add_header(request, "Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5");
	discovery->page = g_byte_array_new();
	http_request_set_sink(request, on_page_data, discovery);
	discovery->transfer = http_engine_submit(http, request, on_page, discovery);
	return discovery;
}

void discovery_cancel(Discovery *discovery)
{
	if (!discovery)
		return;
	if (discovery->transfer)
		http_engine_cancel(discovery->http, discovery->transfer);
	discovery_free(discovery);
}
