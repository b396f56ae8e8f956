/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "feed.h"
#include "jobpost.h"

#define DATA_DIR SRCDIR "/tests/data/feeds"
/* The source copy: PKGDATADIR is where it is installed, after the tests. */
#define SHIPPED_RULES SRCDIR "/daemon/jobpost.rules"
#define FEEDPARSER_DIR CORPUS_DIR "/feeds/feedparser"
/* Where feedparser's own test server serves its files from: the document
 * address, and so the base of relative links without Content-Location. */
#define FEEDPARSER_URL "http://127.0.0.1:8097/tests/"

/* The share of evaluable feedparser expectations that must hold. Set from
 * what the parser achieves, so that a regression fails the test. */
#define FEEDPARSER_PASS_FLOOR 0.99

/* ---- Helpers ------------------------------------------------------------ */

static char *read_file(const char *path, gsize *len)
{
	char *data = NULL;
	g_autoptr(GError) error = NULL;

	g_file_get_contents(path, &data, len, &error);
	g_assert_no_error(error);
	return data;
}

static FeedDocument *parse_data_file(const char *name, const char *base_url, const JobpostRules *rules)
{
	g_autofree char *path = g_build_filename(DATA_DIR, name, NULL);
	gsize len;
	g_autofree char *data = read_file(path, &len);
	g_autoptr(GError) error = NULL;
	FeedDocument *doc = feed_parse_full(data, len, name, base_url, NULL, rules, &error);

	g_assert_no_error(error);
	g_assert_nonnull(doc);
	return doc;
}

static const FeedItem *item_at(const FeedDocument *doc, guint i)
{
	g_assert_cmpuint(i, <, doc->items->len);
	return g_ptr_array_index(doc->items, i);
}

static char *doc_to_string(const FeedDocument *doc)
{
	g_autoptr(JsonNode) node = feed_document_to_json(doc);
	return json_to_string(node, FALSE);
}

/* Everything a document holds, summaries included, as one string. */
static char *doc_everything(const FeedDocument *doc)
{
	GString *all = g_string_new(NULL);
	g_autofree char *json = doc_to_string(doc);

	g_string_append(all, json);
	for (guint i = 0; i < doc->items->len; i++) {
		const FeedItem *item = item_at(doc, i);
		if (item->summary)
			g_string_append(all, item->summary);
	}
	return g_string_free(all, FALSE);
}

static char *iso(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

/* Input bytes that are UTF-16/32 turned into UTF-8, for reading the
 * expectations comment; other bytes as they are. */
static char *bytes_as_utf8(const char *data, gsize len)
{
	const guchar *u = (const guchar *)data;
	const char *from = NULL;

	if (len >= 4 && ((u[0] == 0xFF && u[1] == 0xFE && !u[2] && !u[3]) || (u[0] == '<' && !u[1] && !u[2] && !u[3])))
		from = "UTF-32LE";
	else if (len >= 4 && ((!u[0] && !u[1] && u[2] == 0xFE && u[3] == 0xFF) || (!u[0] && !u[1] && !u[2] && u[3] == '<')))
		from = "UTF-32BE";
	else if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (len >= 4 && u[0] == '<' && !u[1])))
		from = "UTF-16LE";
	else if (len >= 2 && ((u[0] == 0xFE && u[1] == 0xFF) || (len >= 4 && !u[0] && u[1] == '<')))
		from = "UTF-16BE";
	if (from) {
		char *text = g_convert(data, len, "UTF-8", from, NULL, NULL, NULL);
		if (text)
			return text;
	}
	return g_strndup(data, len);
}

/* ---- A small evaluator of feedparser's "Expect:" lines ------------------- */

typedef struct {
	guint pass, fail, skipped;
	guint files, files_evaluated;
	GString *failures; /* owned */
} Tally;

/* Reads a Python string literal ('…', "…", u'…') at *P into a new string.
 * NULL when *P is no string literal this reader understands. */
static char *python_string(const char **p)
{
	const char *s = *p;
	GString *out;

	if (*s == 'u' || *s == 'U')
		s++;
	if (*s != '\'' && *s != '"')
		return NULL;
	char quote = *s++;
	out = g_string_new(NULL);
	while (*s && *s != quote) {
		if (*s != '\\') {
			g_string_append_c(out, *s++);
			continue;
		}
		s++;
		gunichar c = 0;
		int digits = 0;
		switch (*s) {
		case 'n': g_string_append_c(out, '\n'); s++; continue;
		case 't': g_string_append_c(out, '\t'); s++; continue;
		case 'r': g_string_append_c(out, '\r'); s++; continue;
		case '\\': case '\'': case '"': g_string_append_c(out, *s++); continue;
		case 'x': digits = 2; break;
		case 'u': digits = 4; break;
		case 'U': digits = 8; break;
		default:
			g_string_free(out, TRUE);
			return NULL;
		}
		s++;
		for (int i = 0; i < digits; i++, s++) {
			if (!g_ascii_isxdigit(*s)) {
				g_string_free(out, TRUE);
				return NULL;
			}
			c = c * 16 + g_ascii_xdigit_value(*s);
		}
		g_string_append_unichar(out, c);
	}
	if (*s != quote) {
		g_string_free(out, TRUE);
		return NULL;
	}
	*p = s + 1;
	return g_string_free(out, FALSE);
}

/* Splits an expression at " and " outside strings and brackets. */
static GPtrArray *split_clauses(const char *expr)
{
	GPtrArray *clauses = g_ptr_array_new_with_free_func(g_free);
	const char *start = expr;
	char quote = 0;
	int depth = 0;

	for (const char *p = expr; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '(' || *p == '[' || *p == '{') {
			depth++;
		} else if (*p == ')' || *p == ']' || *p == '}') {
			depth--;
		} else if (depth == 0 && strncmp(p, " and ", 5) == 0) {
			g_ptr_array_add(clauses, g_strstrip(g_strndup(start, p - start)));
			start = p + 5;
			p += 4;
		}
	}
	g_ptr_array_add(clauses, g_strstrip(g_strdup(start)));
	return clauses;
}

/* feedparser returns HTML where this parser returns plain text: compare
 * the text of both, tags dropped, the XML entities and character
 * references decoded (when HTML), white space collapsed. */
static char *comparable(const char *s, gboolean html)
{
	static const struct {
		const char *name;
		gunichar c;
	} entities[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
	GString *out = g_string_new(NULL);
	gboolean space = FALSE, in_tag = FALSE;

	for (const char *p = s ? s : ""; *p; p++) {
		gunichar c = (guchar)*p;
		if (in_tag) {
			in_tag = *p != '>';
			continue;
		}
		if (html && *p == '<' && (g_ascii_isalpha(p[1]) || p[1] == '/')) {
			in_tag = TRUE;
			continue;
		}
		if (g_ascii_isspace(*p)) {
			space = TRUE;
			continue;
		}
		if (html && *p == '&') {
			for (gsize i = 0; i < G_N_ELEMENTS(entities); i++)
				if (g_str_has_prefix(p + 1, entities[i].name)) {
					c = entities[i].c;
					p += strlen(entities[i].name);
					break;
				}
			if (p[1] == '#') {
				gboolean hex = p[2] == 'x' || p[2] == 'X';
				char *end;
				guint64 v = g_ascii_strtoull(p + (hex ? 3 : 2), &end, hex ? 16 : 10);
				if (*end == ';' && end > p + (hex ? 3 : 2)) {
					c = (gunichar)v;
					p = end;
				}
			}
		}
		if (space && out->len)
			g_string_append_c(out, ' ');
		space = FALSE;
		if (c < 0x80)
			g_string_append_c(out, (char)c);
		else if (c == (guchar)*p)
			g_string_append_c(out, *p); /* a byte of a UTF-8 sequence */
		else
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

typedef enum { CLAUSE_PASS, CLAUSE_FAIL, CLAUSE_SKIP } ClauseResult;

static ClauseResult compare_string(const char *ours, const char *expected)
{
	g_autofree char *a = g_strdup(ours ? ours : "");
	g_autofree char *as_html = comparable(expected, TRUE);
	g_autofree char *as_text = comparable(expected, FALSE);

	/* feedparser's value is HTML or, for some text constructs, text. */
	return strcmp(a, as_html) == 0 || strcmp(a, as_text) == 0 ? CLAUSE_PASS : CLAUSE_FAIL;
}

/* A struct_time tuple: its first six fields, as ISO 8601 UTC. */
static char *python_time_tuple(const char *p)
{
	int f[6];

	if (*p++ != '(')
		return NULL;
	for (int i = 0; i < 6; i++) {
		char *end;
		while (*p == ' ')
			p++;
		f[i] = (int)strtol(p, &end, 10);
		if (end == p)
			return NULL;
		p = end;
		while (*p == ' ')
			p++;
		if (*p++ != ',')
			return NULL;
	}
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02dZ", f[0], f[1], f[2], f[3], f[4], f[5]);
}

static ClauseResult eval_clause(const FeedDocument *doc, const char *clause)
{
	g_autoptr(GRegex) re = g_regex_new("^(feed|entries\\[(\\d+)\\])(?:\\['(\\w+)'\\]|\\.(\\w+))"
					   "(\\['value'\\])? == (.*)$", 0, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	if (strcmp(clause, "bozo") == 0)
		return !doc || !doc->wellformed_xml ? CLAUSE_PASS : CLAUSE_FAIL;
	if (strcmp(clause, "not bozo") == 0)
		return doc && doc->wellformed_xml ? CLAUSE_PASS : CLAUSE_FAIL;
	if (!g_regex_match(re, clause, 0, &m))
		return CLAUSE_SKIP;

	g_autofree char *subject = g_match_info_fetch(m, 1);
	g_autofree char *index = g_match_info_fetch(m, 2);
	g_autofree char *key1 = g_match_info_fetch(m, 3);
	g_autofree char *key2 = g_match_info_fetch(m, 4);
	g_autofree char *value_suffix = g_match_info_fetch(m, 5);
	g_autofree char *literal = g_match_info_fetch(m, 6);
	const char *key = *key1 ? key1 : key2;
	gboolean is_feed = strcmp(subject, "feed") == 0;

	if (*value_suffix && strcmp(key, "title_detail") != 0)
		return CLAUSE_SKIP;
	if (*value_suffix)
		key = "title";

	static const char *const feed_keys[] = { "title", "link", NULL };
	static const char *const entry_keys[] = { "title", "link", "id", "guid", "published", "updated",
						  "published_parsed", "updated_parsed", "description",
						  "summary", NULL };
	if (!g_strv_contains(is_feed ? feed_keys : entry_keys, key))
		return CLAUSE_SKIP;

	gboolean tuple = g_str_has_suffix(key, "_parsed");
	const char *lp = literal;
	g_autofree char *expected = tuple ? python_time_tuple(literal) : python_string(&lp);
	if (!expected || (!tuple && *lp))
		return CLAUSE_SKIP;
	/* feedparser's summaries are sanitised HTML, which plain text cannot
	 * be compared with. */
	if ((strcmp(key, "description") == 0 || strcmp(key, "summary") == 0) && strchr(expected, '<'))
		return CLAUSE_SKIP;

	if (!doc)
		return CLAUSE_FAIL;
	if (is_feed)
		return compare_string(strcmp(key, "title") == 0 ? doc->title : doc->link, expected);

	guint64 i = g_ascii_strtoull(index, NULL, 10);
	if (i >= doc->items->len)
		return CLAUSE_FAIL;
	const FeedItem *item = g_ptr_array_index(doc->items, i);
	if (strcmp(key, "title") == 0)
		return compare_string(item->title, expected);
	if (strcmp(key, "link") == 0)
		return compare_string(item->link, expected);
	if (strcmp(key, "id") == 0 || strcmp(key, "guid") == 0)
		return compare_string(item->id, expected);
	if (strcmp(key, "description") == 0 || strcmp(key, "summary") == 0)
		return compare_string(item->summary, expected);
	g_autofree char *ours = item->published ? iso(item->published) : g_strdup("none");
	if (tuple)
		return strcmp(ours, expected) == 0 ? CLAUSE_PASS : CLAUSE_FAIL;
	/* A date as written: it must be the one read. */
	gint64 t;
	if (!feed_parse_date(expected, &t))
		return CLAUSE_FAIL;
	return t == item->published ? CLAUSE_PASS : CLAUSE_FAIL;
}

/* The value of a "Header:" line of the comment, or NULL. */
static char *comment_header(const char *comment, const char *name)
{
	g_auto(GStrv) lines = g_strsplit(comment, "\n", -1);

	for (char **l = lines; *l; l++) {
		const char *p = strstr(*l, "Header:");
		if (!p)
			continue;
		p += 7;
		while (g_ascii_isspace(*p))
			p++;
		gsize n = strlen(name);
		if (g_ascii_strncasecmp(p, name, n) == 0 && p[n] == ':')
			return g_strstrip(g_strdup(p + n + 1));
	}
	return NULL;
}

static void evaluate_feedparser_file(const char *path, const char *relpath, Tally *tally)
{
	gsize len;
	g_autofree char *data = read_file(path, &len);
	g_autofree char *text = bytes_as_utf8(data, len);
	const char *expect = strstr(text, "Expect:");
	const char *desc = strstr(text, "Description:");

	tally->files++;
	if (!expect || !desc || desc > expect)
		return;
	const char *close = strstr(expect, "-->");
	if (!close)
		return;
	g_autofree char *comment = g_strndup(text, close - text);
	g_autofree char *expr = g_strstrip(g_strndup(expect + 7, close - expect - 7));

	g_autofree char *doc_url = g_strconcat(FEEDPARSER_URL, relpath, NULL);
	g_autofree char *location = comment_header(comment, "Content-Location");
	g_autofree char *content_type = comment_header(comment, "Content-type");
	g_autofree char *base = location ? g_uri_resolve_relative(doc_url, location, G_URI_FLAGS_NONE, NULL)
					 : g_strdup(doc_url);
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse_full(data, len, relpath, base, content_type, NULL, &error);
	g_autoptr(GPtrArray) clauses = split_clauses(expr);
	gboolean evaluated = FALSE;

	for (guint i = 0; i < clauses->len; i++) {
		const char *clause = g_ptr_array_index(clauses, i);
		switch (eval_clause(doc, clause)) {
		case CLAUSE_PASS:
			tally->pass++;
			evaluated = TRUE;
			break;
		case CLAUSE_FAIL:
			tally->fail++;
			evaluated = TRUE;
			g_string_append_printf(tally->failures, "  %s: %s\n", relpath, clause);
			break;
		case CLAUSE_SKIP:
			tally->skipped++;
			break;
		}
	}
	if (evaluated)
		tally->files_evaluated++;
}

static void walk_tree(const char *dir, const char *rel, void (*fn)(const char *, const char *, gpointer),
		      gpointer data)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
	for (guint i = 0; i < names->len; i++) {
		const char *n = g_ptr_array_index(names, i);
		g_autofree char *path = g_build_filename(dir, n, NULL);
		g_autofree char *sub = rel ? g_build_filename(rel, n, NULL) : g_strdup(n);
		if (g_file_test(path, G_FILE_TEST_IS_DIR))
			walk_tree(path, sub, fn, data);
		else
			fn(path, sub, data);
	}
}

static void feedparser_visit(const char *path, const char *rel, gpointer data)
{
	if (g_str_has_suffix(path, ".xml"))
		evaluate_feedparser_file(path, rel, data);
}

static void test_feedparser_expectations(void)
{
	Tally tally = { .failures = g_string_new(NULL) };

	walk_tree(FEEDPARSER_DIR, NULL, feedparser_visit, &tally);
	guint total = tally.pass + tally.fail;
	double rate = total ? (double)tally.pass / total : 0;
	g_test_message("feedparser expectations: %u of %u evaluable clauses hold (%.1f%%), %u skipped; "
		       "%u of %u files evaluated",
		       tally.pass, total, rate * 100, tally.skipped, tally.files_evaluated, tally.files);
	if (g_test_verbose() && tally.failures->len)
		g_test_message("failing clauses:\n%s", tally.failures->str);
	g_string_free(tally.failures, TRUE);
	g_assert_cmpuint(total, >, 1000);
	g_assert_cmpfloat(rate, >=, FEEDPARSER_PASS_FLOOR);
}


/* ---- Dates -------------------------------------------------------------- */

static void test_dates(void)
{
	static const struct {
		const char *text;
		const char *utc; /* NULL: not a date */
	} cases[] = {
		/* RFC 822 and its real-world variants */
		{ "Mon, 02 Jan 2006 15:04:05 +0900", "2006-01-02T06:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 JST", "2006-01-02T06:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 UT", "2006-01-02T15:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 EST", "2006-01-02T20:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 PDT", "2006-01-02T22:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 -0800", "2006-01-02T23:04:05Z" },
		{ "Mon, 02 Jan 2006 15:04:05 +05:30", "2006-01-02T09:34:05Z" },
		{ "02 Jan 2006 15:04:05 +0000", "2006-01-02T15:04:05Z" },
		{ "Mon, 2 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "Fri, 02 Jan 2006 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "Mon, 02 Jan 06 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "Fri, 01 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00Z" },
		{ "Mon, 02 Jan 2006 15:04 GMT", "2006-01-02T15:04:00Z" },
		{ "Mon, 02 Jan 2006 15:04:05", "2006-01-02T15:04:05Z" },
		{ "Monday, 02 January 2006 15:04:05 GMT", "2006-01-02T15:04:05Z" },
		{ "02-Jan-2006 15:04:05 +0100", "2006-01-02T14:04:05Z" },
		{ "Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z" },
		{ "Mon Jan  2 15:04:05 JST 2006", "2006-01-02T06:04:05Z" },
		{ "mer, 16 nov 2022 00:38:15 +0100", "2022-11-15T23:38:15Z" },
		{ "mar, 15 nov 2022 10:00:00 +0000", "2022-11-15T10:00:00Z" },
		{ "Sat, 01 Jan 2000 08:59:59 +0900", "1999-12-31T23:59:59Z" },
		{ "  Thu, 29 Feb 2024 12:00:00 GMT  ", "2024-02-29T12:00:00Z" },
		/* RFC 3339 / ISO 8601 */
		{ "2006-01-02T15:04:05Z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04:05+09:00", "2006-01-02T06:04:05Z" },
		{ "2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z" },
		{ "2006-01-02T15:04Z", "2006-01-02T15:04:00Z" },
		{ "2006-01-02T15:04:05.123456Z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04:05.5-05:00", "2006-01-02T20:04:05Z" },
		{ "2006-01-02t15:04:05z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02 15:04:05", "2006-01-02T15:04:05Z" },
		{ "2006-01-02T15:04:05+0900", "2006-01-02T06:04:05Z" },
		{ "20060102T150405Z", "2006-01-02T15:04:05Z" },
		{ "2006-01-02", "2006-01-02T00:00:00Z" },
		{ "2006-01", "2006-01-01T00:00:00Z" },
		{ "2006-01-02T24:00:00Z", "2006-01-03T00:00:00Z" },
		/* Not dates */
		{ "", NULL },
		{ "yesterday", NULL },
		{ "2003-02-29T00:00:00Z", NULL },
		{ "2006-13-01T00:00:00Z", NULL },
		{ "2006-01-02T25:00:00Z", NULL },
		{ "Mon, 32 Jan 2006 00:00:00 GMT", NULL },
		{ "Mon, 02 Foo 2006 00:00:00 GMT", NULL },
		{ "Jan 2006", NULL },
		{ "2006-01-02T15:04:05Z trailing", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		gint64 t = 0;
		gboolean ok = feed_parse_date(cases[i].text, &t);
		g_autofree char *got = ok ? iso(t) : NULL;
		g_test_message("%s -> %s", cases[i].text, got ? got : "(none)");
		g_assert_cmpstr(got, ==, cases[i].utc);
	}
	gint64 t = 0;
	g_assert_false(feed_parse_date(NULL, &t));
}

/* ---- Formats and fields ------------------------------------------------- */

static void test_json_shape(void)
{
	static const char feed[] =
		"<rss version=\"2.0\"><channel><title>T</title>"
		"<item><guid isPermaLink=\"false\">g1</guid><title>A</title>"
		"<pubDate>Mon, 02 Jan 2006 15:04:05 +0900</pubDate></item>"
		"<item><link>/2</link></item>"
		"</channel></rss>";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, strlen(feed), "https://example.com/rss", NULL, &error);

	g_assert_no_error(error);
	g_autofree char *json = doc_to_string(doc);
	g_assert_cmpstr(json, ==,
			"{\"format\":\"rss2.0\",\"wellformed_xml\":true,"
			"\"feed\":{\"title\":\"T\",\"link\":null},"
			"\"items\":[{\"id\":\"g1\",\"link\":null,\"title\":\"A\","
			"\"published\":\"2006-01-02T06:04:05Z\",\"job_change\":false},"
			"{\"id\":\"https://example.com/2\",\"link\":\"https://example.com/2\",\"title\":null,"
			"\"published\":null,\"job_change\":false}],"
			"\"errors\":[]}");

	static const char empty[] = "<feed xmlns=\"http://www.w3.org/2005/Atom\"/>";
	g_autoptr(FeedDocument) doc2 = feed_parse(empty, strlen(empty), NULL, NULL, &error);
	g_assert_no_error(error);
	g_autofree char *json2 = doc_to_string(doc2);
	g_assert_cmpstr(json2, ==,
			"{\"format\":\"atom1.0\",\"wellformed_xml\":true,"
			"\"feed\":{\"title\":null,\"link\":null},\"items\":[],\"errors\":[]}");
}

static void test_formats(void)
{
	static const struct {
		const char *xml;
		FeedFormat format;
		const char *name;
	} cases[] = {
		{ "<rss version=\"0.91\"><channel/></rss>", FEED_FORMAT_RSS09X, "rss0.9x" },
		{ "<rss version=\"0.92\"><channel/></rss>", FEED_FORMAT_RSS09X, "rss0.9x" },
		{ "<rss version=\"0.94\"><channel/></rss>", FEED_FORMAT_RSS09X, "rss0.9x" },
		{ "<rss><channel/></rss>", FEED_FORMAT_RSS09X, "rss0.9x" },
		{ "<rss version=\"2.0\"><channel/></rss>", FEED_FORMAT_RSS20, "rss2.0" },
		{ "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
		  "xmlns=\"http://purl.org/rss/1.0/\"><channel/></rdf:RDF>", FEED_FORMAT_RSS10, "rss1.0" },
		{ "<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", FEED_FORMAT_ATOM10, "atom1.0" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(FeedDocument) doc = feed_parse(cases[i].xml, strlen(cases[i].xml), NULL, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpint(doc->format, ==, cases[i].format);
		g_assert_cmpstr(feed_format_name(doc->format), ==, cases[i].name);
		g_assert_true(doc->wellformed_xml);
	}
}

static void test_rss2_fields(void)
{
	static const char feed[] =
		"<?xml version=\"1.0\"?>\n"
		"<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"\n"
		"     xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n"
		"<channel><title>  Many\n   spaces  </title><link>https://b.example/</link>\n"
		"<item><title>Full</title><guid>https://b.example/p/1</guid>\n"
		"<dc:creator>Taro</dc:creator><dc:date>2024-05-01T10:00:00+09:00</dc:date>\n"
		"<content:encoded><![CDATA[<p>Body <script>var x = '<p>';</script>text</p>]]></content:encoded>\n"
		"</item>\n"
		"<item><title>Not a permalink</title><guid isPermaLink=\"false\">id-2</guid></item>\n"
		"</channel></rss>\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, sizeof feed - 1, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(doc->title, ==, "Many spaces");
	g_assert_cmpuint(doc->items->len, ==, 2);
	const FeedItem *a = item_at(doc, 0), *b = item_at(doc, 1);
	g_assert_cmpstr(a->id, ==, "https://b.example/p/1");
	g_assert_cmpstr(a->link, ==, "https://b.example/p/1"); /* guid is a permalink by default */
	g_assert_cmpstr(a->summary, ==, "Body text");
	g_autofree char *when = iso(a->published);
	g_assert_cmpstr(when, ==, "2024-05-01T01:00:00Z");
	g_assert_cmpstr(b->id, ==, "id-2");
	g_assert_null(b->link);
}

static void test_undeclared_prefix(void)
{
	static const char feed[] =
		"<rss version=\"2.0\"><channel><item><title>t</title>"
		"<dc:date>2024-01-01T00:00:00Z</dc:date><itunes:title>not this</itunes:title>"
		"</item></channel></rss>";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, sizeof feed - 1, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_false(doc->wellformed_xml);
	g_assert_cmpuint(doc->errors->len, >, 0);
	g_autofree char *when = iso(item_at(doc, 0)->published);
	g_assert_cmpstr(when, ==, "2024-01-01T00:00:00Z");
	g_assert_cmpstr(item_at(doc, 0)->title, ==, "t");
}

/* ---- Own fixtures ------------------------------------------------------- */

static void test_shift_jis(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("shift_jis.xml", NULL, NULL);

	g_assert_true(doc->wellformed_xml);
	g_assert_cmpstr(doc->title, ==, "技術ブログ①");
	g_assert_cmpuint(doc->items->len, ==, 2);
	g_assert_cmpstr(item_at(doc, 0)->title, ==, "㈱サンプルに入社しました");
	g_assert_cmpstr(item_at(doc, 0)->summary, ==, "①新しい職場での初日。～ＡＢＣ～");
	/* Both items: the parse did not stop at the first NEC character. */
	g_assert_cmpstr(item_at(doc, 1)->title, ==, "②その後");
	g_autofree char *when = iso(item_at(doc, 1)->published);
	g_assert_cmpstr(when, ==, "2006-01-03T00:00:00Z");
}

static void test_euc_jp(void)
{
	g_autoptr(JobpostRules) rules = jobpost_rules_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(jobpost_rules_load_file(rules, SHIPPED_RULES, &error));
	g_assert_no_error(error);
	g_autoptr(FeedDocument) doc = parse_data_file("euc-jp.xml", NULL, rules);
	g_assert_cmpint(doc->format, ==, FEED_FORMAT_RSS10);
	g_assert_true(doc->wellformed_xml);
	g_assert_cmpstr(doc->title, ==, "日記①");
	g_assert_cmpuint(doc->items->len, ==, 1);
	const FeedItem *item = item_at(doc, 0);
	g_assert_cmpstr(item->title, ==, "退職しました");
	g_assert_cmpstr(item->id, ==, "https://example.jp/2024/04/01"); /* rdf:about */
	g_assert_true(item->job_change);
	g_autofree char *when = iso(item->published);
	g_assert_cmpstr(when, ==, "2024-04-01T09:30:00Z");
}

static void test_charset_sources(void)
{
	/* Shift_JIS bytes and no declaration: the HTTP header names them. */
	g_autofree char *sjis = g_convert("<rss><channel><title>株式会社①</title></channel></rss>", -1,
					  "CP932", "UTF-8", NULL, NULL, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) with_header = feed_parse_full(sjis, strlen(sjis), NULL, NULL,
							      "application/rss+xml; charset=\"Shift_JIS\"",
							      NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(with_header->title, ==, "株式会社①");
	g_assert_true(with_header->wellformed_xml);

	/* Nothing names them: read anyway, but not well-formed. */
	g_autoptr(FeedDocument) guessed = feed_parse(sjis, strlen(sjis), NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(guessed->title, ==, "株式会社①");
	g_assert_false(guessed->wellformed_xml);

	/* UTF-16LE with a byte order mark, declaring another encoding. */
	static const char text[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feed "
				   "xmlns=\"http://www.w3.org/2005/Atom\"><title>日本語 ©</title></feed>";
	gsize n;
	g_autofree char *utf16 = g_convert(text, -1, "UTF-16LE", "UTF-8", NULL, &n, NULL);
	g_autofree char *with_bom = g_malloc(n + 2);
	memcpy(with_bom, "\xFF\xFE", 2);
	memcpy(with_bom + 2, utf16, n);
	g_autoptr(FeedDocument) wide = feed_parse(with_bom, n + 2, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(wide->title, ==, "日本語 ©");

	/* A UTF-8 BOM, and windows-1252 declared as ISO-8859-1 (&#146; and
	 * 0x92 both as the browser reads them). */
	static const char latin[] = "\xEF\xBB\xBF<rss><channel><title>don&#146;t</title></channel></rss>";
	g_autoptr(FeedDocument) bom = feed_parse(latin, sizeof latin - 1, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(bom->title, ==, "don’t");
	static const char cp1252[] = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>"
				     "<rss><channel><title>don\x92t caf\xe9</title></channel></rss>";
	g_autoptr(FeedDocument) win = feed_parse(cp1252, sizeof cp1252 - 1, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(win->title, ==, "don’t café");
	g_assert_true(win->wellformed_xml);

	/* An encoding nobody knows. */
	static const char bogus[] = "<?xml version=\"1.0\" encoding=\"x-bogus\"?><rss><channel>"
				    "<title>ok</title></channel></rss>";
	g_autoptr(FeedDocument) b = feed_parse(bogus, sizeof bogus - 1, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(b->title, ==, "ok");
	g_assert_false(b->wellformed_xml);
}

static void test_html_entities(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("nbsp.xml", NULL, NULL);

	g_assert_false(doc->wellformed_xml); /* XML does not define them */
	g_assert_cmpstr(doc->title, ==, "Café\u00a0Notes © 2024");
	g_assert_cmpuint(doc->items->len, ==, 2);
	g_assert_cmpstr(item_at(doc, 0)->title, ==, "Wait… what—really?");
	/* Inside CDATA an entity is text until the HTML is read as text. */
	g_assert_cmpstr(item_at(doc, 0)->summary, ==, "Price:\u00a05€ & AT&T \u00a0kept");
	g_assert_cmpstr(item_at(doc, 1)->title, ==, "Second &unknownentity; post");
	/* Each kind of repair is reported once, with its line. */
	g_assert_cmpuint(doc->errors->len, ==, 8);
	const ParseError *first = g_ptr_array_index(doc->errors, 0);
	g_assert_cmpstr(first->file, ==, "nbsp.xml");
	g_assert_cmpuint(first->line, ==, 5);
	g_assert_nonnull(strstr(first->message, "&eacute;"));
}

static void test_entities_declared(void)
{
	/* An internal subset that defines its own entity (even one named like
	 * an HTML entity) keeps its meaning. */
	static const char feed[] = "<!DOCTYPE rss [<!ENTITY me \"Taro\"><!ENTITY nbsp \"_\">]>"
				   "<rss><channel><title>&me;&nbsp;&amp;&hellip;</title></channel></rss>";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, sizeof feed - 1, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(doc->title, ==, "Taro_&…");
	g_assert_false(doc->wellformed_xml); /* &hellip; is not declared */
}

static void test_atom_xml_base(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("atom-base.xml", "https://ignored.example/", NULL);

	g_assert_cmpint(doc->format, ==, FEED_FORMAT_ATOM10);
	g_assert_true(doc->wellformed_xml);
	g_assert_cmpstr(doc->title, ==, "Base & relative links");
	g_assert_cmpstr(doc->link, ==, "https://blog.example.org/ja/");
	g_assert_cmpuint(doc->items->len, ==, 3);

	const FeedItem *a = item_at(doc, 0);
	g_assert_cmpstr(a->id, ==, "tag:blog.example.org,2024:1");
	/* rel="alternate" of an HTML type wins over self and JSON. */
	g_assert_cmpstr(a->link, ==, "https://blog.example.org/ja/posts/1.html");
	g_assert_cmpstr(a->title, ==, "First & best");
	g_assert_cmpstr(a->summary, ==, "Hello world");
	g_autofree char *pa = iso(a->published); /* published, not updated */
	g_assert_cmpstr(pa, ==, "2024-03-01T00:00:00Z");

	const FeedItem *b = item_at(doc, 1);
	g_assert_cmpstr(b->link, ==, "https://other.example.net/a/b/c?x=1#top");
	g_assert_cmpstr(b->summary, ==, "Two");
	g_autofree char *pb = iso(b->published); /* updated, without seconds */
	g_assert_cmpstr(pb, ==, "2024-03-02T10:00:00Z");

	const FeedItem *c = item_at(doc, 2);
	g_assert_cmpstr(c->link, ==, "https://blog.example.org/other/%E6%97%A5%E6%9C%AC%E8%AA%9E%20page");
	g_autofree char *pc = iso(c->published);
	g_assert_cmpstr(pc, ==, "2024-03-03T15:00:00Z");
}

static void test_relative_links(void)
{
	g_autoptr(FeedDocument) with_base = parse_data_file("atom-relative.xml",
							    "https://feeds.example.com/u/atom.xml", NULL);
	g_assert_cmpstr(with_base->link, ==, "https://feeds.example.com/");
	g_assert_cmpstr(item_at(with_base, 0)->link, ==, "https://feeds.example.com/posts/1");
	/* Only http(s) links are kept: a notification opens them. */
	g_assert_null(item_at(with_base, 1)->link);
	g_assert_cmpstr(item_at(with_base, 1)->id, ==, "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af7");

	g_autoptr(FeedDocument) without = parse_data_file("atom-relative.xml", NULL, NULL);
	g_assert_null(without->link);
	g_assert_null(item_at(without, 0)->link);
}

static void test_mastodon(void)
{
	g_autoptr(JobpostRules) rules = jobpost_rules_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(jobpost_rules_load_file(rules, SHIPPED_RULES, &error));
	g_autoptr(FeedDocument) doc = parse_data_file("mastodon.xml", NULL, rules);
	g_assert_cmpuint(doc->items->len, ==, 2);
	const FeedItem *a = item_at(doc, 0);
	g_assert_null(a->title);
	g_assert_cmpstr(a->id, ==, "https://mastodon.example/@hanako/112030000000000001");
	g_assert_cmpstr(a->link, ==, "https://mastodon.example/@hanako/112030000000000001");
	g_assert_cmpstr(a->summary, ==, "今日から新しい会社に入社しました！ よろしくお願いします。");
	g_assert_true(a->job_change);
	g_assert_false(item_at(doc, 1)->job_change);

	g_autoptr(FeedDocument) no_rules = parse_data_file("mastodon.xml", NULL, NULL);
	g_assert_false(item_at(no_rules, 0)->job_change);
}

static void test_no_guid(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("no-guid.xml", NULL, NULL);
	g_autoptr(FeedDocument) again = parse_data_file("no-guid.xml", NULL, NULL);

	g_assert_cmpint(doc->format, ==, FEED_FORMAT_RSS09X);
	g_assert_cmpuint(doc->items->len, ==, 4); /* the empty one is dropped */
	g_assert_cmpuint(doc->errors->len, ==, 1);
	g_assert_cmpuint(((const ParseError *)g_ptr_array_index(doc->errors, 0))->line, ==, 20);
	g_assert_cmpstr(item_at(doc, 0)->id, ==, "http://old.example.com/a");
	/* Same title, other date: other ids; the same input: the same ids. */
	g_assert_true(g_str_has_prefix(item_at(doc, 1)->id, "sha256:"));
	g_assert_cmpstr(item_at(doc, 1)->id, !=, item_at(doc, 2)->id);
	for (guint i = 0; i < doc->items->len; i++)
		g_assert_cmpstr(item_at(doc, i)->id, ==, item_at(again, i)->id);
	g_assert_cmpstr(item_at(doc, 3)->summary, ==, "Only text, café crème");
}

static void test_billion_laughs(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("billion-laughs.xml", NULL, NULL);

	g_assert_false(doc->wellformed_xml);
	g_assert_cmpuint(doc->errors->len, >, 0);
	g_autofree char *all = doc_everything(doc);
	g_assert_cmpuint(strlen(all), <, 64 * 1024);
	g_assert_null(strstr(all, "lollollollollollollollollollol"));
}

static void test_quadratic_blowup(void)
{
	/* One big entity referenced many times stays within libxml2's limits,
	 * so the parser's own text bounds must hold. */
	GString *feed = g_string_new("<!DOCTYPE rss [<!ENTITY a \"");
	for (int i = 0; i < 20000; i++)
		g_string_append_c(feed, 'a');
	g_string_append(feed, "\">]><rss><channel><item><title>");
	for (int i = 0; i < 20000; i++)
		g_string_append(feed, "&a;");
	g_string_append(feed, "</title><description>");
	for (int i = 0; i < 20000; i++)
		g_string_append(feed, "&a;");
	g_string_append(feed, "</description></item></channel></rss>");

	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed->str, feed->len, NULL, NULL, &error);
	g_string_free(feed, TRUE);
	g_assert_no_error(error);
	g_assert_cmpuint(doc->items->len, ==, 1);
	g_assert_cmpint(g_utf8_strlen(item_at(doc, 0)->title, -1), ==, 1000);
	g_assert_cmpint(g_utf8_strlen(item_at(doc, 0)->summary, -1), ==, 2000);
}

static void test_external_entity(void)
{
	g_autofree char *passwd = NULL;
	if (!g_file_get_contents("/etc/passwd", &passwd, NULL, NULL) || !strstr(passwd, "root:")) {
		g_test_skip("no /etc/passwd with a root entry to leak");
		return;
	}
	static const char *const files[] = { "xxe.xml", "xxe-parameter.xml" };
	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autoptr(FeedDocument) doc = parse_data_file(files[i], NULL, NULL);
		g_autofree char *all = doc_everything(doc);

		g_assert_null(strstr(all, "root:"));
		g_assert_cmpstr(doc->title, ==, "Feed");
		g_assert_cmpuint(doc->items->len, ==, 1);
		g_assert_cmpstr(item_at(doc, 0)->title, ==, "Item");
	}
}

static void test_not_a_feed(void)
{
	g_autofree char *path = g_build_filename(DATA_DIR, "not-a-feed.html", NULL);
	gsize len;
	g_autofree char *data = read_file(path, &len);
	g_autoptr(GError) error = NULL;
	FeedDocument *doc = feed_parse_full(data, len, "not-a-feed.html", NULL, NULL, NULL, &error);

	g_assert_null(doc);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_assert_nonnull(strstr(error->message, "not-a-feed.html"));
	g_assert_nonnull(strstr(error->message, "<html>"));

	static const char *const junk[] = { "", "   ", "{\"version\": \"https://jsonfeed.org/version/1\"}",
					    "<?xml version=\"1.0\"?>", "\xff\xfe\x00", "<a><b>" };
	for (gsize i = 0; i < G_N_ELEMENTS(junk); i++) {
		g_autoptr(GError) e = NULL;
		g_assert_null(feed_parse(junk[i], strlen(junk[i]), NULL, NULL, &e));
		g_assert_error(e, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	}
}

static void test_truncated(void)
{
	g_autoptr(FeedDocument) doc = parse_data_file("truncated.xml", NULL, NULL);

	g_assert_false(doc->wellformed_xml);
	g_assert_cmpstr(doc->title, ==, "Truncated");
	g_assert_cmpuint(doc->items->len, >=, 2);
	g_assert_cmpstr(item_at(doc, 0)->title, ==, "One");
	g_assert_cmpstr(item_at(doc, 1)->link, ==, "https://cut.example.com/2");
	g_assert_cmpuint(doc->errors->len, >, 0);
	const ParseError *e = g_ptr_array_index(doc->errors, 0);
	g_assert_cmpuint(e->line, ==, 17);
	g_assert_cmpstr(e->file, ==, "truncated.xml");
}

static void test_control_characters(void)
{
	static const char feed[] = "<rss><channel><title>a\x01" "b\x0b" "c</title></channel></rss>\n\0";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, sizeof feed - 1, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(doc->title, ==, "abc");
	g_assert_false(doc->wellformed_xml);

	/* A NUL byte does not cut a legacy-encoded text short. */
	static const char latin[] = "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><rss><channel>"
				    "<title>caf\xe9\0s</title><link>http://a.example/</link></channel></rss>";
	g_autoptr(FeedDocument) doc2 = feed_parse(latin, sizeof latin - 1, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(doc2->title, ==, "cafés");
	g_assert_cmpstr(doc2->link, ==, "http://a.example/");
	g_assert_false(doc2->wellformed_xml);
}

/* Non-ASCII character data reaches libxml2 as CDATA sections (see
 * wrap_text()); what is read must not change, nor the errors' lines. */
static void test_non_ascii_text(void)
{
	static const char feed[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<rss version=\"2.0\"><channel><title>日本&amp;語 <![CDATA[<b>]]>ブログ</title>\n"
		"<link>http://a.example/</link><!-- コメント --><?pi 日本?>\n"
		"<item x=\"a>b\" y='日>'><title>転職&lt;しました&gt;]]</title>\n"
		"<link>http://a.example/日本</link>\n"
		"<description>&lt;p&gt;今日は&#x65E5;<![CDATA[]]>本 &gt; 語&lt;/p&gt;</description></item>\n"
		"</channel></rss>\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse(feed, sizeof feed - 1, NULL, NULL, &error);

	g_assert_no_error(error);
	g_assert_true(doc->wellformed_xml);
	g_assert_cmpstr(doc->title, ==, "日本&語 ブログ");
	g_assert_cmpuint(doc->items->len, ==, 1);
	g_assert_cmpstr(item_at(doc, 0)->title, ==, "転職<しました>]]");
	g_assert_cmpstr(item_at(doc, 0)->summary, ==, "今日は日本 > 語");

	/* "]]>" in text is an error on the line where it is. */
	static const char bad[] = "<rss><channel><title>日本</title>\n\n<link>語]]>語</link></channel></rss>\n";
	g_autoptr(FeedDocument) doc2 = feed_parse(bad, sizeof bad - 1, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_false(doc2->wellformed_xml);
	g_assert_cmpstr(doc2->title, ==, "日本");
	g_assert_cmpuint(doc2->errors->len, >, 0);
	g_assert_cmpuint(((const ParseError *)g_ptr_array_index(doc2->errors, 0))->line, ==, 3);
}

/* ---- Limits ------------------------------------------------------------- */

static void test_limits(void)
{
	/* Input size */
	gsize big = 16 * 1024 * 1024 + 1;
	g_autofree char *huge = g_malloc(big);
	memset(huge, ' ', big);
	g_autoptr(GError) error = NULL;
	g_assert_null(feed_parse(huge, big, NULL, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
	g_clear_error(&error);

	/* Items, title, summary and id lengths */
	GString *feed = g_string_new("<rss version=\"2.0\"><channel><item><title>");
	for (int i = 0; i < 3000; i++)
		g_string_append(feed, "あ");
	g_string_append(feed, "</title><description>");
	for (int i = 0; i < 5000; i++)
		g_string_append(feed, "word ");
	g_string_append(feed, "</description><guid>");
	for (int i = 0; i < 2000; i++)
		g_string_append_c(feed, 'g');
	g_string_append(feed, "</guid></item>");
	for (int i = 0; i < 1004; i++)
		g_string_append_printf(feed, "<item><guid>%d</guid></item>", i);
	g_string_append(feed, "</channel></rss>");
	g_autoptr(FeedDocument) doc = feed_parse(feed->str, feed->len, NULL, NULL, &error);
	g_string_free(feed, TRUE);
	g_assert_no_error(error);
	g_assert_cmpuint(doc->items->len, ==, 1000);
	const FeedItem *first = item_at(doc, 0);
	g_assert_cmpint(g_utf8_strlen(first->title, -1), ==, 1000);
	g_assert_cmpint(g_utf8_strlen(first->summary, -1), ==, 2000);
	g_assert_true(g_str_has_prefix(first->id, "sha256:"));
	g_assert_cmpuint(strlen(first->id), ==, 7 + 64);
	gboolean reported = FALSE;
	for (guint i = 0; i < doc->errors->len; i++)
		reported |= strstr(((const ParseError *)g_ptr_array_index(doc->errors, i))->message,
				   "more than 1000 items") != NULL;
	g_assert_true(reported);
}

/* ---- The whole corpus --------------------------------------------------- */

typedef struct {
	guint files, documents, feedlike, feedlike_parsed;
	GString *missed; /* owned */
} CorpusRun;

/* A cheap look at whether a file is meant to be a feed: its root element
 * is named in the first bytes. */
static gboolean looks_like_feed(const char *text)
{
	g_autofree char *head = g_strndup(text, 4096);
	return g_regex_match_simple("^(<\\?xml[^>]*>|<!--.*?-->|<!DOCTYPE[^>]*>|\\s)*<(rss|feed|rdf:RDF)[\\s>]",
				    head, G_REGEX_DOTALL, 0);
}

static void corpus_visit(const char *path, const char *rel, gpointer data)
{
	CorpusRun *run = data;
	gsize len;
	g_autofree char *bytes = read_file(path, &len);
	g_autofree char *text = bytes_as_utf8(bytes, len);
	g_autoptr(GError) error = NULL;
	g_autoptr(FeedDocument) doc = feed_parse_full(bytes, len, rel, "https://example.com/feed", NULL, NULL,
						      &error);
	gboolean feedlike = looks_like_feed(text);

	run->files++;
	run->feedlike += feedlike;
	if (!doc) {
		g_assert_nonnull(error);
		if (feedlike)
			g_string_append_printf(run->missed, "  %s: %s\n", rel, error->message);
		return;
	}
	g_assert_no_error(error);
	run->documents++;
	run->feedlike_parsed += feedlike;
	g_autofree char *json = doc_to_string(doc);
	g_assert_true(g_str_has_prefix(json, "{\"format\":"));
	g_assert_cmpuint(doc->items->len, <=, 1000);
	for (guint i = 0; i < doc->items->len; i++) {
		const FeedItem *item = item_at(doc, i);
		g_assert_nonnull(item->id);
		g_assert_true(!item->link || g_str_has_prefix(item->link, "http"));
		g_assert_true(!item->title || g_utf8_strlen(item->title, -1) <= 1000);
		g_assert_true(!item->summary || g_utf8_strlen(item->summary, -1) <= 2000);
	}
}

static void test_corpus_all_files(void)
{
	CorpusRun run = { .missed = g_string_new(NULL) };
	g_autofree char *dir = g_build_filename(CORPUS_DIR, "feeds", NULL);

	walk_tree(dir, NULL, corpus_visit, &run);
	g_test_message("%u files, %u read as feeds; %u of %u that open with <rss>, <feed> or <rdf:RDF>",
		       run.files, run.documents, run.feedlike_parsed, run.feedlike);
	if (run.missed->len)
		g_test_message("not read:\n%s", run.missed->str);
	g_assert_cmpuint(run.files, >, 2500);
	/* Every file that starts like a feed is read as one. */
	g_assert_cmpstr(run.missed->str, ==, "");
	g_string_free(run.missed, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/feed/dates", test_dates);
	g_test_add_func("/feed/json-shape", test_json_shape);
	g_test_add_func("/feed/formats", test_formats);
	g_test_add_func("/feed/rss2-fields", test_rss2_fields);
	g_test_add_func("/feed/undeclared-prefix", test_undeclared_prefix);
	g_test_add_func("/feed/shift-jis", test_shift_jis);
	g_test_add_func("/feed/euc-jp", test_euc_jp);
	g_test_add_func("/feed/charset-sources", test_charset_sources);
	g_test_add_func("/feed/html-entities", test_html_entities);
	g_test_add_func("/feed/entities-declared", test_entities_declared);
	g_test_add_func("/feed/atom-xml-base", test_atom_xml_base);
	g_test_add_func("/feed/relative-links", test_relative_links);
	g_test_add_func("/feed/mastodon-no-title", test_mastodon);
	g_test_add_func("/feed/no-guid", test_no_guid);
	g_test_add_func("/feed/billion-laughs", test_billion_laughs);
	g_test_add_func("/feed/quadratic-blowup", test_quadratic_blowup);
	g_test_add_func("/feed/external-entity", test_external_entity);
	g_test_add_func("/feed/not-a-feed", test_not_a_feed);
	g_test_add_func("/feed/truncated", test_truncated);
	g_test_add_func("/feed/control-characters", test_control_characters);
	g_test_add_func("/feed/non-ascii-text", test_non_ascii_text);
	g_test_add_func("/feed/limits", test_limits);
	g_test_add_func("/feed/corpus/all-files", test_corpus_all_files);
	g_test_add_func("/feed/corpus/feedparser-expectations", test_feedparser_expectations);
	return g_test_run();
}
