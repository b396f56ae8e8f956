/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/uri.h>

#include "charset.h"
#include "feed.h"
#include "protocol.h"

/* A feed larger than this is no blog: refuse it rather than build a tree. */
#define FEED_MAX_INPUT_BYTES (16u * 1024 * 1024)
#define FEED_MAX_ITEMS 1000u
#define FEED_MAX_TITLE_CHARS 1000u
#define FEED_MAX_SUMMARY_CHARS 2000u
/* Longer ids are replaced by their SHA-256, so they still tell items apart. */
#define FEED_MAX_ID_BYTES 1024u
#define FEED_MAX_URL_BYTES 8192u
#define FEED_MAX_ERRORS 50u
/* Text gathered from one element before it is stripped and cut. */
#define FEED_MAX_RAW_TEXT_BYTES (256u * 1024)
/* Nodes visited for one text: internal entities are walked, not copied,
 * and this bounds what an entity bomb that libxml2 let through can cost. */
#define FEED_MAX_TEXT_NODES 100000u
#define FEED_MAX_ENTITY_DEPTH 8u
#define FEED_MAX_ENTITY_NAME 64u
/* Where the XML declaration (and a comment before it) may be looked for. */
#define FEED_DECL_SCAN_BYTES 1024u
#define FEED_MAX_CHARSET_LABEL 40u

#define HREF_ATOM10 "http://www.w3.org/2005/Atom"
#define HREF_ATOM03 "http://purl.org/atom/ns#"
#define HREF_RDF "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define HREF_RSS090 "http://my.netscape.com/rdf/simple/0.9/"
#define HREF_DC "http://purl.org/dc/elements/1.1/"
#define HREF_DCTERMS "http://purl.org/dc/terms/"
#define HREF_CONTENT "http://purl.org/rss/1.0/modules/content/"

/* ---- Errors ------------------------------------------------------------- */

typedef struct {
	const char *name;  /* borrowed; may be NULL */
	GPtrArray *errors; /* owned; ParseError* */
	guint dropped;     /* errors beyond FEED_MAX_ERRORS */
} ErrorSink;

static void sink_add(ErrorSink *sink, guint line, const char *format, ...) G_GNUC_PRINTF(3, 4);

static void sink_add(ErrorSink *sink, guint line, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* libxml2 repeats itself while it recovers. */
	if (sink->errors->len > 0) {
		const ParseError *last = g_ptr_array_index(sink->errors, sink->errors->len - 1);
		if (last->line == line && strcmp(last->message, message) == 0)
			return;
	}
	if (sink->errors->len >= FEED_MAX_ERRORS) {
		sink->dropped++;
		return;
	}
	g_ptr_array_add(sink->errors, parse_error_new(sink->name, line, "%s", message));
}

static void sink_finish(ErrorSink *sink)
{
	if (sink->dropped > 0)
		g_ptr_array_add(sink->errors, parse_error_new(sink->name, 0, "%u more errors not shown",
							      sink->dropped));
	sink->dropped = 0;
}

/* ---- Dates -------------------------------------------------------------- */

static gint64 days_from_civil(int y, int m, int d)
{
	/* Howard Hinnant's algorithm: days since 1970-01-01, proleptic Gregorian. */
	y -= m <= 2;
	const int era = (y >= 0 ? y : y - 399) / 400;
	const int yoe = y - era * 400;
	const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (gint64)era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	gboolean leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

static gboolean make_time(int y, int mo, int d, int h, int mi, int s, int offset, gint64 *out)
{
	if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return FALSE;
	/* 24:00 is midnight at the end of the day; 60 is a leap second. */
	if (h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60 || (h == 24 && (mi || s)))
		return FALSE;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
	return TRUE;
}

static const char *read_digits(const char *p, guint min, guint max, int *value)
{
	guint n = 0;
	int v = 0;

	while (n < max && g_ascii_isdigit(p[n]))
		v = v * 10 + (p[n++] - '0');
	if (n < min)
		return NULL;
	*value = v;
	return p + n;
}

/* +hh, +hhmm, +hh:mm; NULL when P is none of these. */
static const char *read_offset(const char *p, int *offset)
{
	int sign = *p == '-' ? -1 : 1, h = 0, m = 0;

	if (*p != '+' && *p != '-')
		return NULL;
	const char *q = read_digits(p + 1, 2, 2, &h);
	if (!q)
		return NULL;
	if (*q == ':')
		q++;
	const char *r = read_digits(q, 2, 2, &m);
	if (r)
		q = r;
	if (h > 23 || m > 59)
		return NULL;
	*offset = sign * (h * 3600 + m * 60);
	return q;
}

static const struct {
	const char *name;
	int hours;
} zone_names[] = {
	{ "UT", 0 },   { "UTC", 0 },  { "GMT", 0 },  { "Z", 0 },    { "WET", 0 },
	{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 }, { "MST", -7 },
	{ "MDT", -6 }, { "PST", -8 }, { "PDT", -7 }, { "AKST", -9 }, { "AKDT", -8 },
	{ "HST", -10 }, { "AST", -4 }, { "ADT", -3 }, { "BST", 1 },  { "CET", 1 },
	{ "CEST", 2 }, { "MET", 1 },  { "MEST", 2 }, { "EET", 2 },  { "EEST", 3 },
	{ "MSK", 3 },  { "JST", 9 },  { "KST", 9 },  { "HKT", 8 },  { "SGT", 8 },
	{ "AWST", 8 }, { "AEST", 10 }, { "AEDT", 11 }, { "NZST", 12 }, { "NZDT", 13 },
};

static gboolean zone_offset(const char *word, gsize len, int *offset)
{
	for (gsize i = 0; i < G_N_ELEMENTS(zone_names); i++)
		if (strlen(zone_names[i].name) == len &&
		    g_ascii_strncasecmp(word, zone_names[i].name, len) == 0) {
			*offset = zone_names[i].hours * 3600;
			return TRUE;
		}
	/* RFC 2822 §4.3: other (military) letters carry no reliable meaning. */
	if (len == 1 && g_ascii_isalpha(*word)) {
		*offset = 0;
		return TRUE;
	}
	return FALSE;
}

static gboolean parse_iso8601(const char *p, gint64 *out)
{
	int y, mo = 1, d = 1, h = 0, mi = 0, s = 0, offset = 0;

	if (!(p = read_digits(p, 4, 4, &y)))
		return FALSE;
	if (*p == '-') {
		if (!(p = read_digits(p + 1, 2, 2, &mo)))
			return FALSE;
		if (*p == '-' && !(p = read_digits(p + 1, 2, 2, &d)))
			return FALSE;
	} else if (g_ascii_isdigit(*p)) {
		/* Basic format: 20040105T101010Z. */
		if (!(p = read_digits(p, 2, 2, &mo)) || !(p = read_digits(p, 2, 2, &d)))
			return FALSE;
	}
	if (*p == 'T' || *p == 't' || (*p == ' ' && g_ascii_isdigit(p[1]))) {
		if (!(p = read_digits(p + 1, 2, 2, &h)))
			return FALSE;
		if (*p == ':')
			p++;
		if (!(p = read_digits(p, 2, 2, &mi)))
			return FALSE;
		if (*p == ':' || g_ascii_isdigit(*p)) {
			if (!(p = read_digits(*p == ':' ? p + 1 : p, 2, 2, &s)))
				return FALSE;
		}
		if ((*p == '.' || *p == ',') && g_ascii_isdigit(p[1]))
			for (p++; g_ascii_isdigit(*p); p++)
				;
		while (*p == ' ')
			p++;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			if (!(p = read_offset(p, &offset)))
				return FALSE;
		} else if (g_ascii_isalpha(*p)) {
			const char *w = p;
			while (g_ascii_isalpha(*p))
				p++;
			if (!zone_offset(w, p - w, &offset))
				return FALSE;
		}
	}
	while (g_ascii_isspace(*p))
		p++;
	return *p == '\0' && make_time(y, mo, d, h, mi, s, offset, out);
}

static int month_number(const char *word, gsize len)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun",
					      "jul", "aug", "sep", "oct", "nov", "dec" };
	/* Feeds in German, French, Italian and Spanish localise the name. */
	static const struct {
		const char *name;
		int month;
	} others[] = {
		{ "mrz", 3 }, { "mai", 5 }, { "okt", 10 }, { "dez", 12 }, { "gen", 1 }, { "mag", 5 },
		{ "giu", 6 }, { "lug", 7 }, { "ago", 8 }, { "set", 9 }, { "ott", 10 }, { "dic", 12 },
		{ "ene", 1 }, { "abr", 4 }, { "avr", 4 }, { "juil", 7 }, { "janv", 1 },
	};

	if (len < 3)
		return 0;
	/* Names are lower case; the first letter rules out most at once. */
	char first = g_ascii_tolower(*word);
	for (int i = 0; i < 12; i++)
		if (months[i][0] == first && g_ascii_strncasecmp(word, months[i], 3) == 0)
			return i + 1;
	for (gsize i = 0; i < G_N_ELEMENTS(others); i++)
		if (others[i].name[0] == first && len >= strlen(others[i].name) &&
		    g_ascii_strncasecmp(word, others[i].name, strlen(others[i].name)) == 0)
			return others[i].month;
	return 0;
}

/* RFC 822 and the ways feeds bend it: "Mon, 2 Jan 06 15:04 JST",
 * "02-Jan-2006 15:04:05 +0900", asctime's "Mon Jan  2 15:04:05 2006". */
static gboolean parse_rfc822(const char *p, gint64 *out)
{
	int numbers[3], n_numbers = 0, number_digits[3];
	int mo = 0, h = 0, mi = 0, s = 0, offset = 0;
	gboolean have_time = FALSE, have_zone = FALSE, month_first = FALSE;
	const char *text_start = p;

	while (*p) {
		if (g_ascii_isspace(*p) || *p == ',' || *p == '-' || *p == '/' || *p == '.') {
			if ((*p == '-') && have_time && !have_zone && g_ascii_isdigit(p[1])) {
				if (!(p = read_offset(p, &offset)))
					return FALSE;
				have_zone = TRUE;
				continue;
			}
			p++;
			continue;
		}
		if (*p == '+') {
			if (have_zone || !(p = read_offset(p, &offset)))
				return FALSE;
			have_zone = TRUE;
			continue;
		}
		if (g_ascii_isalpha(*p)) {
			const char *w = p;
			while (g_ascii_isalpha(*p))
				p++;
			gsize len = p - w;
			int m = month_number(w, len);
			if (m && (!mo || month_first)) {
				/* Italian and Spanish "mar" is Tuesday as well. */
				month_first = !mo && w == text_start;
				mo = m;
			} else if (!mo && !n_numbers && !have_time)
				; /* a weekday, in whatever language; never checked */
			else if (have_time && !have_zone && zone_offset(w, len, &offset))
				have_zone = TRUE;
			else
				return FALSE;
			continue;
		}
		if (g_ascii_isdigit(*p)) {
			const char *start = p;
			int v;
			p = read_digits(p, 1, 4, &v);
			if (*p == ':') {
				if (have_time || p - start > 2)
					return FALSE;
				h = v;
				if (!(p = read_digits(p + 1, 2, 2, &mi)))
					return FALSE;
				if (*p == ':' && !(p = read_digits(p + 1, 2, 2, &s)))
					return FALSE;
				if (*p == '.' && g_ascii_isdigit(p[1]))
					for (p++; g_ascii_isdigit(*p); p++)
						;
				have_time = TRUE;
				continue;
			}
			if (g_ascii_isdigit(*p) || n_numbers == 2)
				return FALSE;
			number_digits[n_numbers] = p - start;
			numbers[n_numbers++] = v;
			continue;
		}
		return FALSE;
	}
	if (!mo || n_numbers != 2)
		return FALSE;

	/* The day comes first unless the first number can only be a year. */
	int di = number_digits[0] > 2 ? 1 : 0;
	int d = numbers[di], y = numbers[1 - di];
	int y_digits = number_digits[1 - di];
	if (number_digits[di] > 2)
		return FALSE;
	if (y_digits <= 2)
		y += y < 50 ? 2000 : 1900; /* RFC 2822 §4.3 */
	else if (y_digits == 3)
		y += 1900;
	return make_time(y, mo, d, h, mi, s, offset, out);
}

gboolean feed_parse_date(const char *text, gint64 *unix_utc)
{
	if (!text)
		return FALSE;
	while (g_ascii_isspace(*text))
		text++;
	if (!*text)
		return FALSE;
	return parse_iso8601(text, unix_utc) || parse_rfc822(text, unix_utc);
}

/* ---- Plain text --------------------------------------------------------- */

/* Builds plain text one character at a time: runs of white space become one
 * space, none at either end, and the text stops at MAX characters. */
typedef struct {
	GString *out; /* owned */
	gsize chars, max;
	gboolean space;
} Emitter;

/* LEN is the length of the input: the text rarely needs more room than
 * that, or than MAX characters of four bytes. */
static void emitter_init(Emitter *e, gsize max, gsize len)
{
	e->out = g_string_sized_new(MIN(len, max * 4));
	e->chars = 0;
	e->max = max;
	e->space = FALSE;
}

static gboolean emitter_full(const Emitter *e)
{
	return e->chars >= e->max;
}

/* C1 controls never mean themselves in a feed: they are windows-1252
 * punctuation (&#146; for ’) read as Latin-1, as HTML decodes them. */
static const gunichar c1_as_windows_1252[32] = {
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
};

static void emit_char(Emitter *e, gunichar c)
{
	if (emitter_full(e))
		return;
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
		e->space = TRUE;
		return;
	}
	if (c >= 0x80 && c <= 0x9F)
		c = c1_as_windows_1252[c - 0x80];
	if (c == 0 || (c < 0x20) || !g_unichar_validate(c))
		c = 0xFFFD;
	if (e->space && e->out->len > 0) {
		g_string_append_c(e->out, ' ');
		if (++e->chars >= e->max)
			return;
	}
	e->space = FALSE;
	g_string_append_unichar(e->out, c);
	e->chars++;
}

/* Emits the character at P (before END) and returns the next one. Most
 * characters are themselves, so their bytes are copied rather than decoded
 * and encoded again. */
static const char *emit_utf8(Emitter *e, const char *p, const char *end)
{
	guchar c = *p;

	if (c > 0x20 && c < 0x7F && !e->space && !emitter_full(e)) {
		g_string_append_c(e->out, c);
		e->chars++;
		return p + 1;
	}
	gunichar u = g_utf8_get_char_validated(p, end - p);
	if (u == (gunichar)-1 || u == (gunichar)-2) {
		emit_char(e, 0xFFFD);
		return p + 1;
	}
	const char *next = g_utf8_next_char(p);
	if (u < 0xA0 || e->space || emitter_full(e))
		emit_char(e, u);
	else {
		g_string_append_len(e->out, p, next - p);
		e->chars++;
	}
	return next;
}

/* Whether C starts a character that stands for itself: no markup,
 * reference, white space, control or U+0080..U+00BF. */
static gboolean is_plain_lead(guchar c)
{
	return c > 0x20 && c != '<' && c != '&' && c != 0x7F && c != 0xC2;
}

/* is_plain_lead() for a byte below 0x80. */
static gboolean is_plain_ascii(guchar c)
{
	return c > 0x20 && c < 0x7F && c != '<' && c != '&';
}

/* The length of the well-formed UTF-8 sequence at P (RFC 3629: no
 * overlong forms, surrogates or code points past U+10FFFF), or 0 when P
 * (before END) starts none. Checked here, byte by byte, as the run is
 * found: a second pass with g_utf8_validate_len() cost as much again. */
static gsize utf8_char_len(const char *p, const char *end)
{
	const guchar *u = (const guchar *)p;
	guchar c = u[0];

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	gsize n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
	if ((gsize)(end - p) < n)
		return 0;
	/* The second byte's range is narrower after these leads. */
	guchar lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
	guchar hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (gsize i = 2; i < n; i++)
		if ((u[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Copies the run at P of characters that stand for themselves, and of
 * single spaces between them, within the emitter's limit, in one go: such
 * runs are most of a post's text. A pending space is written first, as
 * emit_char() would. Returns where the run ends (P when there is none). */
static const char *emit_run(Emitter *e, const char *p, const char *end)
{
	const char *q = p;
	gsize chars = 0;

	if (p >= end || !is_plain_lead(*p))
		return p;
	if (e->space) {
		if (e->out->len > 0) {
			g_string_append_c(e->out, ' ');
			if (++e->chars >= e->max)
				return p;
		}
		e->space = FALSE;
	}
	gsize room = e->chars < e->max ? e->max - e->chars : 0;
	while (q < end && chars < room) {
		const guchar *u = (const guchar *)q;
		gsize n;
		if (is_plain_ascii(u[0]))
			n = 1;
		else if (u[0] == ' ')
			n = q > p && end - q > 1 && is_plain_lead(q[1]);
		else if (u[0] >= 0xE1 && u[0] <= 0xEF && u[0] != 0xED && end - q >= 3 &&
			 (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80)
			/* Three bytes with no narrower second byte: CJK text. */
			n = 3;
		else
			n = u[0] >= 0x80 && u[0] != 0xC2 ? utf8_char_len(q, end) : 0;
		if (n == 0)
			break;
		q += n;
		chars++;
	}
	g_string_append_len(e->out, p, q - p);
	e->chars += chars;
	return q;
}

/* NULL when nothing but white space was emitted. */
static char *emitter_finish(Emitter *e)
{
	if (e->out->len == 0) {
		g_string_free(e->out, TRUE);
		return NULL;
	}
	return g_string_free(e->out, FALSE);
}

static void emit_text(Emitter *e, const char *text, gsize len)
{
	const char *end = text + len;

	for (const char *p = text; p < end && !emitter_full(e);) {
		const char *q = emit_run(e, p, end);
		p = q > p ? q : emit_utf8(e, p, end);
	}
}

static char *collapse_text(const char *text, gsize max_chars)
{
	Emitter e;

	if (!text)
		return NULL;
	gsize len = strlen(text);
	emitter_init(&e, max_chars, len);
	emit_text(&e, text, len);
	return emitter_finish(&e);
}

static gboolean is_xml_char(gunichar c)
{
	return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
	       (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

static gboolean is_name_byte(guchar c)
{
	return g_ascii_isalnum(c) || c == '_' || c == ':' || c == '.' || c == '-' || c >= 0x80;
}

/* Reads a character reference or an HTML named entity at P ("&…;"). Returns
 * its length, or 0 when P starts none. */
static gsize read_entity(const char *p, const char *end, gunichar *c)
{
	const char *q = p + 1;

	if (q < end && *q == '#') {
		gboolean hex = q + 1 < end && (q[1] == 'x' || q[1] == 'X');
		guint64 v = 0;
		q += hex ? 2 : 1;
		const char *digits = q;
		while (q < end && (hex ? g_ascii_isxdigit(*q) : g_ascii_isdigit(*q)) && q - digits < 8) {
			v = v * (hex ? 16 : 10) + (hex ? (guint64)g_ascii_xdigit_value(*q) : (guint64)(*q - '0'));
			q++;
		}
		if (q == digits || q >= end || *q != ';')
			return 0;
		/* Out of range stays invalid, for the callers to replace. */
		*c = v <= 0x10FFFF ? (gunichar)v : 0x110000;
		return q + 1 - p;
	}
	const char *name = q;
	while (q < end && is_name_byte(*q) && q - name < FEED_MAX_ENTITY_NAME)
		q++;
	if (q == name || q >= end || *q != ';')
		return 0;
	char buf[FEED_MAX_ENTITY_NAME + 1];
	memcpy(buf, name, q - name);
	buf[q - name] = '\0';
	if (strcmp(buf, "apos") == 0) {
		*c = '\'';
		return q + 1 - p;
	}
	const htmlEntityDesc *desc = htmlEntityLookup((const xmlChar *)buf);
	if (!desc)
		return 0;
	*c = desc->value;
	return q + 1 - p;
}

static gboolean tag_is(const char *name, gsize len, const char *const *names)
{
	for (; *names; names++)
		if (strlen(*names) == len && g_ascii_strncasecmp(name, *names, len) == 0)
			return TRUE;
	return FALSE;
}

/* Elements that separate words when an HTML summary is read as text. */
static const char *const block_tags[] = {
	"p", "br", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
	"h6", "tr", "td", "th", "table", "blockquote", "pre", "hr", "section", "article",
	"header", "footer", "figure", "figcaption", "img", NULL,
};
static const char *const hidden_tags[] = { "script", "style", NULL };

/* The byte past the first MARKER from P to END; NULL when there is none. */
static const char *find_past(const char *p, const char *end, const char *marker)
{
	gsize n = strlen(marker);
	const char *hit = p < end ? memmem(p, (gsize)(end - p), marker, n) : NULL;

	return hit ? hit + n : NULL;
}

/* find_past(), or END when MARKER is not there. */
static const char *skip_past(const char *p, const char *end, const char *marker)
{
	const char *past = find_past(p, end, marker);

	return past ? past : end;
}

/* Skips a tag starting at P ('<'); returns the byte after its '>'. */
static const char *skip_tag(const char *p, const char *end)
{
	char quote = 0, last = 0;

	for (p++; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if ((*p == '"' || *p == '\'') && last == '=') {
			/* Only a value may be quoted: href=a"b is no quote. */
			quote = *p;
		} else if (*p == '>') {
			return p + 1;
		}
		if (!g_ascii_isspace(*p))
			last = *p;
	}
	return end;
}

static void emit_html(Emitter *e, const char *html, gsize len)
{
	const char *p = html, *end = html + len;

	while (p < end && !emitter_full(e)) {
		if (*p == '<' && p + 1 < end) {
			if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
				p = skip_past(p + 4, end, "-->");
				continue;
			}
			if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
				const char *stop = skip_past(p + 9, end, "]]>");
				emit_text(e, p + 9, (stop == end ? end : stop - 3) - (p + 9));
				p = stop;
				continue;
			}
			gboolean closing = p[1] == '/';
			const char *name = p + (closing ? 2 : 1);
			if (name < end && (g_ascii_isalpha(*name) || ((*name == '!' || *name == '?') && !closing))) {
				const char *name_end = name;
				while (name_end < end && g_ascii_isalnum(*name_end))
					name_end++;
				gsize name_len = name_end - name;
				p = skip_tag(p, end);
				if (tag_is(name, name_len, block_tags)) {
					emit_char(e, ' ');
				} else if (!closing && tag_is(name, name_len, hidden_tags)) {
					char close[16];
					g_snprintf(close, sizeof close, "</%.*s", (int)name_len, name);
					/* Case-insensitive search for the closing tag. */
					gsize cn = strlen(close);
					const char *q = p;
					while (q + cn <= end && g_ascii_strncasecmp(q, close, cn) != 0)
						q++;
					p = q + cn <= end ? skip_tag(q, end) : end;
				}
				continue;
			}
		}
		if (*p == '&') {
			gunichar c;
			gsize n = read_entity(p, end, &c);
			if (n > 0) {
				emit_char(e, c);
				p += n;
				continue;
			}
		}
		const char *q = emit_run(e, p, end);
		p = q > p ? q : emit_utf8(e, p, end);
	}
}

static char *html_to_text(const char *html, gsize max_chars)
{
	Emitter e;

	if (!html)
		return NULL;
	gsize len = strlen(html);
	emitter_init(&e, max_chars, len);
	emit_html(&e, html, len);
	return emitter_finish(&e);
}

/* ---- Reading the input as UTF-8 ----------------------------------------- */

/* The charset parameter of a Content-Type header value, or NULL. */
static char *content_type_charset(const char *content_type)
{
	if (!content_type)
		return NULL;
	for (const char *p = strchr(content_type, ';'); p; p = strchr(p + 1, ';')) {
		const char *q = p + 1;
		while (g_ascii_isspace(*q))
			q++;
		if (g_ascii_strncasecmp(q, "charset", 7) != 0)
			continue;
		q += 7;
		while (g_ascii_isspace(*q))
			q++;
		if (*q != '=')
			continue;
		q++;
		while (g_ascii_isspace(*q) || *q == '"' || *q == '\'')
			q++;
		const char *v = q;
		while (*q && (g_ascii_isalnum(*q) || strchr("-_.:+", *q)))
			q++;
		if (q > v && q - v <= FEED_MAX_CHARSET_LABEL)
			return g_strndup(v, q - v);
	}
	return NULL;
}

/* The encoding named by the XML declaration, or NULL. A comment may stand
 * before the declaration in broken files; it is looked for anyway. */
static char *declared_encoding(const char *data, gsize len)
{
	gsize n = MIN(len, FEED_DECL_SCAN_BYTES);
	const char *end = data + n;
	const char *p = g_strstr_len(data, n, "<?xml");

	if (!p)
		return NULL;
	const char *decl_end = g_strstr_len(p, end - p, "?>");
	if (!decl_end)
		return NULL;
	const char *q = g_strstr_len(p, decl_end - p, "encoding");
	if (!q)
		return NULL;
	q += 8;
	while (q < decl_end && g_ascii_isspace(*q))
		q++;
	if (q >= decl_end || *q != '=')
		return NULL;
	q++;
	while (q < decl_end && g_ascii_isspace(*q))
		q++;
	if (q >= decl_end || (*q != '"' && *q != '\''))
		return NULL;
	char quote = *q++;
	const char *v = q;
	while (q < decl_end && *q != quote)
		q++;
	if (q >= decl_end || q == v || q - v > FEED_MAX_CHARSET_LABEL)
		return NULL;
	return g_strndup(v, q - v);
}

static gboolean label_is(const char *label, const char *name)
{
	return g_ascii_strcasecmp(label, name) == 0;
}

/* Decodes strictly; NULL when a byte does not belong to the charset. */
static char *convert_strict(const char *data, gsize len, const char *label, gsize *out_len)
{
	return g_convert(data, len, "UTF-8", charset_iconv_name(label), NULL, out_len, NULL);
}

/* Unlabelled bytes that are not UTF-8: Japanese blogs are the likely case
 * here, so try the two Japanese encodings strictly and keep the one whose
 * text looks like Japanese (kana and kanji rather than half-width katakana
 * soup); otherwise windows-1252, which never fails. */
static char *guess_legacy(const char *data, gsize len, const char **used)
{
	static const char *const candidates[] = { "Shift_JIS", "EUC-JP" };
	char *best = NULL;
	glong best_score = G_MINLONG;

	for (gsize i = 0; i < G_N_ELEMENTS(candidates); i++) {
		char *text = convert_strict(data, len, candidates[i], NULL);
		if (!text)
			continue;
		glong score = 0;
		for (const char *p = text; *p; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);
			if ((c >= 0x3040 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF))
				score += 2;
			else if (c >= 0xFF61 && c <= 0xFF9F)
				score -= 1;
		}
		if (score > best_score) {
			g_free(best);
			best = text;
			best_score = score;
			*used = candidates[i];
		} else {
			g_free(text);
		}
	}
	if (best)
		return best;
	*used = "windows-1252";
	return charset_to_utf8(data, len, "windows-1252", NULL);
}

/* The encoding that a byte order mark or the first bytes ("<" in UTF-16 or
 * UTF-32) show; NULL for ASCII-compatible bytes. *SKIP is the length of
 * the mark: 3 for UTF-8's. */
static const char *sniff_encoding(const char *data, gsize len, gsize *skip)
{
	const guchar *u = (const guchar *)data;
	const char *wide = NULL;

	*skip = 0;
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		*skip = 3;
	else if (len >= 4 && u[0] == 0xFF && u[1] == 0xFE && u[2] == 0 && u[3] == 0)
		wide = "UTF-32LE", *skip = 4;
	else if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0xFE && u[3] == 0xFF)
		wide = "UTF-32BE", *skip = 4;
	else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
		wide = "UTF-16LE", *skip = 2;
	else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
		wide = "UTF-16BE", *skip = 2;
	else if (len >= 4 && u[0] == '<' && u[1] == 0 && u[2] == 0 && u[3] == 0)
		wide = "UTF-32LE";
	else if (len >= 4 && u[0] == 0 && u[1] == 0 && u[2] == 0 && u[3] == '<')
		wide = "UTF-32BE";
	else if (len >= 4 && u[0] == '<' && u[1] == 0 && u[3] == 0)
		wide = "UTF-16LE";
	else if (len >= 4 && u[0] == 0 && u[1] == '<' && u[2] == 0)
		wide = "UTF-16BE";
	return wide;
}

/* The charset label of ASCII-compatible bytes without a byte order mark:
 * HTTP's, else the XML declaration's; NULL when there is none. UTF-16/32
 * named over such bytes is a mislabel, and counts as none: the bytes
 * themselves tell. */
static char *input_label(const char *data, gsize len, const char *content_type)
{
	char *label = content_type_charset(content_type);

	if (!label)
		label = declared_encoding(data, len);
	if (label && (g_ascii_strncasecmp(label, "UTF-16", 6) == 0 ||
		      g_ascii_strncasecmp(label, "UTF-32", 6) == 0 || label_is(label, "UCS-2")))
		g_clear_pointer(&label, g_free);
	return label;
}

static gboolean label_is_utf8(const char *label)
{
	return label_is(label, "UTF-8") || label_is(label, "utf8");
}

/* Returns the document as UTF-8, *OUT_LEN bytes (a U+0000 of UTF-16 may
 * still be in it: the repair pass drops it). *SUSPECT is set when the
 * encoding had to be guessed or the bytes did not fit it. */
static char *decode_input(const char *data, gsize len, const char *content_type,
			  ErrorSink *sink, gboolean *suspect, gsize *out_len)
{
	gsize skip;
	const char *wide = sniff_encoding(data, len, &skip);

	data += skip;
	len -= skip;
	char *text;
	if (wide) {
		text = convert_strict(data, len, wide, out_len);
		if (!text) {
			sink_add(sink, 0, "bytes that are not %s, replaced", wide);
			*suspect = TRUE;
			text = charset_to_utf8(data, len, wide, NULL);
			*out_len = strlen(text);
		}
		return text;
	}

	/* NUL is no character of any ASCII-compatible encoding feeds use (no
	 * multibyte sequence holds a 0 byte), only damage: drop it here, where
	 * decoders would otherwise cut the text short. */
	g_autofree char *without_nul = NULL;
	if (memchr(data, '\0', len)) {
		without_nul = g_malloc(len);
		gsize n = 0;
		for (gsize i = 0; i < len; i++)
			if (data[i])
				without_nul[n++] = data[i];
		sink_add(sink, 0, "%" G_GSIZE_FORMAT " NUL bytes dropped", len - n);
		*suspect = TRUE;
		data = without_nul;
		len = n;
	}

	g_autofree char *label = skip ? NULL : input_label(data, len, content_type);
	if (skip || (label && label_is_utf8(label))) {
		if (g_utf8_validate_len(data, len, NULL)) {
			*out_len = len;
			return g_strndup(data, len);
		}
		sink_add(sink, 0, "bytes that are not UTF-8, replaced");
		*suspect = TRUE;
		text = g_utf8_make_valid(data, len);
		*out_len = strlen(text);
		return text;
	}
	if (label) {
		text = convert_strict(data, len, label, out_len);
		if (text)
			return text;
		g_autoptr(GError) local = NULL;
		text = charset_to_utf8(data, len, label, &local);
		if (text) {
			sink_add(sink, 0, "bytes that are not %s, replaced", label);
			*suspect = TRUE;
			*out_len = strlen(text);
			return text;
		}
		sink_add(sink, 0, "unknown encoding \"%s\", ignoring", label);
		*suspect = TRUE;
	}
	if (g_utf8_validate_len(data, len, NULL)) {
		*out_len = len;
		return g_strndup(data, len);
	}
	const char *used = NULL;
	text = guess_legacy(data, len, &used);
	sink_add(sink, 0, "no encoding declared and not UTF-8; read as %s", used);
	*suspect = TRUE;
	*out_len = strlen(text);
	return text;
}

/* ---- Repairs before libxml2 sees the text -------------------------------- */

typedef struct {
	GString *out;           /* owned */
	GHashTable *declared;   /* owned; entity names of the internal subset */
	GHashTable *reported;   /* owned; entity names already reported */
	gboolean external_dtd;  /* a DOCTYPE names an external subset */
	gboolean repaired;      /* the text was not well-formed XML */
	guint line;
	ErrorSink *sink;        /* borrowed */
} Repair;

static void copy_span(Repair *r, const char *p, const char *q)
{
	for (const char *c = p; c < q; c++)
		if (*c == '\n')
			r->line++;
	g_string_append_len(r->out, p, q - p);
}

/* Copies a DOCTYPE declaration, noting the general entities its internal
 * subset declares and whether it names an external subset. */
static const char *copy_doctype(Repair *r, const char *p, const char *end)
{
	const char *q = p + 9;
	gboolean subset = FALSE;
	char quote = 0;

	while (q < end) {
		if (quote) {
			if (*q == quote)
				quote = 0;
			q++;
		} else if (*q == '"' || *q == '\'') {
			quote = *q++;
		} else if (subset && end - q >= 4 && memcmp(q, "<!--", 4) == 0) {
			q = skip_past(q + 4, end, "-->");
		} else if (subset && end - q >= 8 && memcmp(q, "<!ENTITY", 8) == 0) {
			const char *n = q + 8;
			while (n < end && g_ascii_isspace(*n))
				n++;
			const char *name = n;
			while (n < end && is_name_byte(*n))
				n++;
			if (n > name && *name != '%')
				g_hash_table_add(r->declared, g_strndup(name, n - name));
			q = n;
		} else if (!subset && *q == '[') {
			subset = TRUE;
			q++;
		} else if (subset && *q == ']') {
			subset = FALSE;
			q++;
		} else if (!subset && *q == '>') {
			q++;
			break;
		} else {
			if (!subset && (g_str_has_prefix(q, "PUBLIC") || g_str_has_prefix(q, "SYSTEM")))
				r->external_dtd = TRUE;
			q++;
		}
	}
	copy_span(r, p, q);
	return q;
}

static void repair_reference(Repair *r, const char *p, const char *end, gsize *consumed)
{
	const char *q = p + 1;

	if (q < end && *q == '#') {
		gunichar c;
		gsize n = read_entity(p, end, &c);
		if (n > 0 && is_xml_char(c) && p[2] != 'X') {
			g_string_append_len(r->out, p, n);
			*consumed = n;
			return;
		}
		if (n > 0 && is_xml_char(c)) {
			/* HTML's &#X41; is no XML. */
			g_string_append_printf(r->out, "&#%u;", c);
			*consumed = n;
			sink_add(r->sink, r->line, "character reference %.*s read as HTML", (int)n, p);
			r->repaired = TRUE;
			return;
		}
		if (n > 0) {
			g_string_append(r->out, "&#xFFFD;");
			*consumed = n;
			sink_add(r->sink, r->line, "character reference %.*s is not allowed in XML, replaced",
				 (int)n, p);
			r->repaired = TRUE;
			return;
		}
	} else {
		const char *name = q;
		while (q < end && is_name_byte(*q) && q - name < FEED_MAX_ENTITY_NAME)
			q++;
		if (q > name && q < end && *q == ';' && !g_ascii_isdigit(*name) && *name != '.' && *name != '-') {
			g_autofree char *n = g_strndup(name, q - name);
			*consumed = q + 1 - p;
			if (strcmp(n, "amp") == 0 || strcmp(n, "lt") == 0 || strcmp(n, "gt") == 0 ||
			    strcmp(n, "quot") == 0 || strcmp(n, "apos") == 0 ||
			    g_hash_table_contains(r->declared, n)) {
				g_string_append_len(r->out, p, *consumed);
				return;
			}
			const htmlEntityDesc *desc = htmlEntityLookup((const xmlChar *)n);
			if (desc)
				g_string_append_printf(r->out, "&#%u;", desc->value);
			else
				g_string_append_printf(r->out, "&amp;%s;", n);
			/* With an external DTD that is not read, HTML entities are
			 * what it is there to define: no fault of the document. */
			if (!desc || !r->external_dtd) {
				r->repaired = TRUE;
				if (!g_hash_table_contains(r->reported, n)) {
					sink_add(r->sink, r->line, desc ? "undefined entity &%s; read as HTML"
									: "undefined entity &%s; kept as text", n);
					g_hash_table_add(r->reported, g_steal_pointer(&n));
				}
			}
			return;
		}
	}
	g_string_append(r->out, "&amp;");
	*consumed = 1;
	if (!g_hash_table_contains(r->reported, "&")) {
		sink_add(r->sink, r->line, "bare & read as &amp;");
		g_hash_table_add(r->reported, g_strdup("&"));
	}
	r->repaired = TRUE;
}

/* Whether one of the eight bytes at P is a control character, '&' or '<'
 * (exact: the tests for a zero byte and for a byte below 0x20 have no
 * false positives as to whether there is one). */
static gboolean word_needs_look(const char *p)
{
	const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101), highs = ones << 7;
	guint64 w, amp, lt;

	memcpy(&w, p, sizeof w);
	amp = w ^ (ones * '&');
	lt = w ^ (ones * '<');
	return ((((w - ones * 0x20) & ~w) | ((amp - ones) & ~amp) | ((lt - ones) & ~lt)) & highs) != 0;
}

/* The first byte from P that needs a look in needs_repair(): a control
 * character other than white space, '&' or '<'; END when there is none.
 * Most bytes need none, so they are checked eight at a time. */
static const char *next_to_look_at(const char *p, const char *end)
{
	while (p < end) {
		while (end - p >= 8 && !word_needs_look(p))
			p += 8;
		for (const char *stop = MIN(p + 8, end); p < stop; p++) {
			guchar c = *p;
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == '&' || c == '<')
				return p;
		}
	}
	return end;
}

/* The length of the character reference at P ("&#") when repair_reference()
 * keeps it as it is, else 0. */
static gsize kept_char_ref(const char *p, const char *end)
{
	gunichar c;
	gsize n = read_entity(p, end, &c);

	return n > 0 && is_xml_char(c) && p[2] != 'X' ? n : 0;
}

/* Whether repair_markup() would change TEXT: a control character XML
 * forbids, a DOCTYPE (its entities need the careful path), or an & that
 * starts no XML reference outside comments and CDATA. Most feeds are
 * well-formed, and copying each twice was a tenth of a poll's time. */
static gboolean needs_repair(const char *text, gsize len)
{
	const char *p = text, *end = text + len;

	while ((p = next_to_look_at(p, end)) < end) {
		guchar c = *p;
		if (c < 0x20) {
			return TRUE;
		} else if (c == '<') {
			if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
				p = skip_past(p + 4, end, "-->");
			else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
				p = skip_past(p + 9, end, "]]>");
			else if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0)
				return TRUE;
			else
				p++;
		} else if (end - p > 1 && p[1] == '#') {
			gsize n = kept_char_ref(p, end);
			if (!n)
				return TRUE;
			p += n;
		} else {
			static const char *const predefined[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
			gsize n = 0;
			for (gsize i = 0; i < G_N_ELEMENTS(predefined) && !n; i++) {
				gsize k = strlen(predefined[i]);
				if ((gsize)(end - p) >= k && memcmp(p, predefined[i], k) == 0)
					n = k;
			}
			if (!n)
				return TRUE;
			p += n;
		}
	}
	return FALSE;
}

/* Makes common faults of real feeds parseable: control characters that
 * XML forbids are dropped, HTML entities (&nbsp; &hellip;) become character
 * references, and a stray & becomes &amp;. Comments, CDATA sections and
 * processing instructions are left alone. Line numbers do not change. */
static GString *repair_markup(const char *text, gsize len, ErrorSink *sink, gboolean *repaired)
{
	g_autoptr(GString) clean = g_string_sized_new(len + 1);
	guint dropped = 0;

	for (gsize i = 0; i < len; i++) {
		guchar c = text[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			dropped++;
		else
			g_string_append_c(clean, c);
	}
	if (dropped) {
		sink_add(sink, 0, "%u control characters dropped", dropped);
		*repaired = TRUE;
	}

	Repair r = {
		.out = g_string_sized_new(clean->len + 64),
		.declared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
		.line = 1,
		.sink = sink,
	};
	const char *p = clean->str, *end = clean->str + clean->len;
	while (p < end) {
		const char *special = p;
		while (special < end && *special != '<' && *special != '&')
			special++;
		copy_span(&r, p, special);
		p = special;
		if (p >= end)
			break;
		if (*p == '&') {
			gsize n;
			repair_reference(&r, p, end, &n);
			p += n;
			continue;
		}
		const char *q;
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
			q = skip_past(p + 4, end, "-->");
		else if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
			q = skip_past(p + 9, end, "]]>");
		else if (end - p >= 2 && p[1] == '?')
			q = skip_past(p + 2, end, "?>");
		else if (end - p >= 9 && memcmp(p, "<!DOCTYPE", 9) == 0) {
			p = copy_doctype(&r, p, end);
			continue;
		} else
			q = p + 1;
		copy_span(&r, p, q);
		p = q;
	}
	g_hash_table_unref(r.declared);
	g_hash_table_unref(r.reported);
	*repaired = *repaired || r.repaired;
	return r.out;
}

/* ---- libxml2 ------------------------------------------------------------ */

static void on_xml_error(void *data, xmlErrorPtr error)
{
	xmlParserCtxt *ctxt = data;
	ErrorSink *sink = ctxt->_private;

	if (!sink || !error || error->level < XML_ERR_ERROR)
		return;
	g_autofree char *message = g_strchomp(g_strdup(error->message ? error->message : "XML error"));
	sink_add(sink, error->line > 0 ? (guint)error->line : 0, "%s", message);
}

/* No network, no DTD loading, no entity substitution (so no external
 * entity is ever read, and libxml2's amplification limits hold: no HUGE).
 * The input is UTF-8 already, whatever its declaration says: IGNORE_ENC. */
#define FEED_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | \
			  XML_PARSE_IGNORE_ENC | XML_PARSE_NOCDATA | XML_PARSE_COMPACT | \
			  XML_PARSE_BIG_LINES)

/* Sets CTXT up the same for every pass. */
static void setup_parser(xmlParserCtxt *ctxt, gboolean recover, ErrorSink *sink)
{
	xmlCtxtUseOptions(ctxt, FEED_XML_OPTIONS | (recover ? XML_PARSE_RECOVER : 0));
	/* Whatever the process-wide defaults say: no DTD, no substitution. */
	ctxt->replaceEntities = 0;
	ctxt->loadsubset = 0;
	ctxt->validate = 0;
	ctxt->sax->serror = on_xml_error;
	ctxt->_private = sink;
}

/* The document CTXT built (NULL when a strict pass found it not
 * well-formed); frees CTXT. */
static xmlDoc *finish_parser(xmlParserCtxt *ctxt, gboolean recover, gboolean *wellformed)
{
	xmlDoc *doc = ctxt->myDoc;

	*wellformed = doc && ctxt->wellFormed && ctxt->nsWellFormed;
	if (doc && !recover && !*wellformed) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	ctxt->myDoc = NULL;
	xmlFreeParserCtxt(ctxt);
	return doc;
}

static xmlDoc *parse_xml(const char *text, gsize len, gboolean recover, ErrorSink *sink,
			 gboolean *wellformed)
{
	if (len > G_MAXINT)
		return NULL;
	xmlParserCtxt *ctxt = xmlCreateMemoryParserCtxt(text, (int)len);
	if (!ctxt)
		return NULL;
	setup_parser(ctxt, recover, sink);
	xmlParseDocument(ctxt);
	return finish_parser(ctxt, recover, wellformed);
}

/* Whether TEXT has fewer than LINES lines. */
static gboolean fewer_lines(const char *text, gsize len, gsize lines)
{
	const char *end = text + len;

	if (len + 1 < lines)
		return TRUE;
	for (gsize n = 1; n < lines; n++) {
		text = memchr(text, '\n', end - text);
		if (!text)
			return TRUE;
		text++;
	}
	return FALSE;
}

/* Whether TEXT may hold an overlong UTF-8 form. The push parser checks
 * the code point of each character of a CDATA section but lets such a
 * form through, which the pull parser rejects. They are rare: four scans
 * for their leads cost less than finding the sections. */
static gboolean may_hold_overlong_utf8(const char *text, gsize len)
{
	/* A lead byte, and the least second byte that makes it no overlong
	 * form (0xFF: every C0 and C1 sequence is one). */
	static const guchar leads[][2] = { { 0xC0, 0xFF }, { 0xC1, 0xFF }, { 0xE0, 0xA0 }, { 0xF0, 0x90 } };
	const char *end = text + len;

	for (gsize i = 0; i < G_N_ELEMENTS(leads); i++)
		for (const char *p = text; (p = memchr(p, leads[i][0], end - p)); p++)
			if (end - p < 2 || (guchar)p[1] < leads[i][1])
				return TRUE;
	return FALSE;
}

/* Whether parse_pushed() builds the tree that parse_xml() would from
 * TEXT, when it finds TEXT well-formed. The push parser hands a CDATA
 * section over as it is, and before it moves past it; the pull parser
 * turns its CR LF and CR into LF, and moves past it first, so that a text
 * node it starts has the line where the section ends. That line is only
 * ever read (for an element's line, by xmlGetLineNo()) from the line an
 * xmlNode's unsigned short no longer holds. (An empty section is no text
 * node to the push parser and an empty one to the pull parser: the same
 * text to the reader.) Its sections may hold overlong UTF-8 forms, which
 * the pull parser rejects. Past XML_MAX_LOOKUP_LIMIT bytes the push parser
 * gives up. */
static gboolean push_parse_matches(const char *text, gsize len)
{
	return len > 0 && len <= XML_MAX_LOOKUP_LIMIT && !memchr(text, '\r', len) &&
	       fewer_lines(text, len, G_MAXUSHORT) && !may_hold_overlong_utf8(text, len);
}

/* Whether TEXT holds a CDATA section, the only thing the push parser
 * reads faster: elsewhere it pays only where it fails and the pull parser
 * must parse again. '[' is rare, so it is what is looked for. */
static gboolean has_cdata(const char *text, gsize len)
{
	const char *end = text + len;

	for (const char *p = text; (p = memchr(p, '[', end - p)); p++)
		if (p - text >= 2 && end - p >= 7 && memcmp(p - 2, "<![CDATA[", 9) == 0)
			return TRUE;
	return FALSE;
}

/* Skips the markup at P ('<'), keeping DEPTH, the number of open
 * elements; NULL when it is none that wrap_text() knows (a DOCTYPE, one
 * left open, an end tag with none open). In a document that libxml2 finds
 * well-formed each ends where libxml2 ends it; in any other, libxml2 meets
 * the fault no later than where the two first differ, so it rejects the
 * copy that wrap_text() makes as well. */
static const char *skip_markup(const char *p, const char *end, int *depth)
{
	if (end - p >= 4 && memcmp(p, "<!--", 4) == 0)
		return find_past(p + 4, end, "-->");
	if (end - p >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
		return find_past(p + 9, end, "]]>");
	if (end - p < 2 || p[1] == '!')
		return NULL;
	if (p[1] == '?')
		return find_past(p + 2, end, "?>");
	if (p[1] == '/') {
		p = memchr(p, '>', end - p);
		return p && (*depth)-- > 0 ? p + 1 : NULL;
	}
	/* A '>' in an attribute value ends no tag. */
	for (char quote = 0; ++p < end;) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '>') {
			if (p[-1] != '/')
				(*depth)++;
			return p + 1;
		}
	}
	return NULL;
}

static gboolean has_high_byte(const char *p, const char *end)
{
	/* Eight bytes at a time: most feeds' text is ASCII. */
	for (guint64 word; end - p >= 8; p += 8) {
		memcpy(&word, p, sizeof(word));
		if (word & G_GUINT64_CONSTANT(0x8080808080808080))
			return TRUE;
	}
	for (; p < end; p++)
		if ((guchar)*p >= 0x80)
			return TRUE;
	return FALSE;
}

/* Adds to SPANS the pieces of the character data from P to END that
 * hold non-ASCII characters, between its references; FALSE when an '&'
 * ends no reference or "]]>" is in it (libxml2 rejects either). */
static gboolean add_spans(GArray *spans, const char *text, const char *p, const char *end)
{
	if (find_past(p, end, "]]>"))
		return FALSE;
	while (p < end) {
		const char *amp = memchr(p, '&', end - p);
		const char *stop = amp ? amp : end;
		if (has_high_byte(p, stop)) {
			gsize span[2] = { p - text, stop - text };
			g_array_append_vals(spans, span, 2);
		}
		if (!amp)
			break;
		p = memchr(amp, ';', end - amp);
		if (!p)
			return FALSE;
		p++;
	}
	return TRUE;
}

/* Copies N bytes from SRC to O; returns the byte past them. */
static char *put_bytes(char *o, const char *src, gsize n)
{
	memcpy(o, src, n);
	return o + n;
}

/* TEXT with each piece of the root element's character data that holds
 * non-ASCII characters made a CDATA section, for parse_pushed(): libxml2
 * 2.9 decodes such character data a character at a time (about 160
 * instructions for a Japanese one) where it scans a CDATA section once,
 * and with XML_PARSE_NOCDATA either is text that joins the text next to
 * it. NULL when there is none, or the copy would be too long for the push
 * parser, or TEXT has markup that skip_markup() does not know or a NUL
 * (where libxml2 may stop reading). The copy adds no line, and the line
 * of a text node in it is never read (see push_parse_matches()). */
static char *wrap_text(const char *text, gsize len, gsize *out_len)
{
	static const char open[] = "<![CDATA[", close[] = "]]>";
	const char *end = text + len, *p = text;
	g_autoptr(GArray) spans = g_array_sized_new(FALSE, FALSE, sizeof(gsize), 256);
	int depth = 0;

	if (memchr(text, '\0', len))
		return NULL;
	while (p < end) {
		const char *lt = memchr(p, '<', end - p);
		const char *stop = lt ? lt : end;
		/* Text outside the root element is an error either way. */
		if (depth > 0 && p < stop && !add_spans(spans, text, p, stop))
			return NULL;
		if (!lt)
			break;
		p = skip_markup(lt, end, &depth);
		if (!p)
			return NULL;
	}
	gsize n = spans->len / 2;
	if (n == 0 || len + n * (sizeof(open) + sizeof(close) - 2) > XML_MAX_LOOKUP_LIMIT)
		return NULL;

	/* Exactly as large as it must be: it may be near 10 MB. */
	*out_len = len + n * (sizeof(open) + sizeof(close) - 2);
	char *out = g_malloc(*out_len), *o = out;
	gsize done = 0;
	for (gsize i = 0; i < spans->len; i += 2) {
		gsize from = g_array_index(spans, gsize, i), to = g_array_index(spans, gsize, i + 1);
		o = put_bytes(o, text + done, from - done);
		o = put_bytes(o, open, sizeof(open) - 1);
		o = put_bytes(o, text + from, to - from);
		o = put_bytes(o, close, sizeof(close) - 1);
		done = to;
	}
	put_bytes(o, text + done, len - done);
	return out;
}

/* A strict pass with libxml2's push parser, given TEXT at once. It finds
 * the end of a CDATA section with one scan, where the pull parser decodes
 * the section a character at a time: that was a sixth of parsing feeds
 * that carry their posts' HTML as CDATA. Where it finds fault it leaves
 * SINK as it was: the pull parser's errors and recovery are the ones to
 * keep, on the original text. */
static xmlDoc *parse_pushed(const char *text, gsize len, ErrorSink *sink, gboolean *wellformed)
{
	guint before = sink->errors->len, dropped = sink->dropped;
	/* No first chunk: the encoding is then detected as parse_xml() does. */
	xmlParserCtxt *ctxt = xmlCreatePushParserCtxt(NULL, NULL, NULL, 0, NULL);
	if (!ctxt)
		return NULL;
	setup_parser(ctxt, FALSE, sink);
	xmlParseChunk(ctxt, text, (int)len, 1);
	xmlDoc *doc = finish_parser(ctxt, FALSE, wellformed);
	if (!doc) {
		g_ptr_array_set_size(sink->errors, before);
		sink->dropped = dropped;
	}
	return doc;
}

/* A strict pass; its errors are kept only when it is the final one. */
static xmlDoc *parse_strict(const char *text, gsize len, ErrorSink *sink, gboolean *wellformed)
{
	guint before = sink->errors->len;
	xmlDoc *doc = NULL;

	if (push_parse_matches(text, len)) {
		gsize wrapped_len;
		char *wrapped = wrap_text(text, len, &wrapped_len);
		if (wrapped) {
			doc = parse_pushed(wrapped, wrapped_len, sink, wellformed);
			g_free(wrapped);
		}
		if (!doc && has_cdata(text, len))
			doc = parse_pushed(text, len, sink, wellformed);
	}
	if (!doc)
		doc = parse_xml(text, len, FALSE, sink, wellformed);
	if (!doc) {
		g_ptr_array_set_size(sink->errors, before);
		sink->dropped = 0;
	}
	return doc;
}

/* Whether TEXT, which libxml2 found well-formed as DOC, may still be one
 * that repair_markup() changes (needs_repair() then decides): with a
 * DOCTYPE its entities need the careful path, libxml2 may stop reading at
 * a NUL, and it takes character references with more leading zeros than
 * read_entity() reads. All else that repair_markup() changes (control
 * characters, a bare &, an undefined entity, a reference to no XML
 * character, &#X) libxml2 rejects itself. */
static gboolean repair_may_matter(const xmlDoc *doc, const char *text, gsize len)
{
	const char *end = text + len;

	if (doc->intSubset || memchr(text, '\0', len))
		return TRUE;
	for (const char *p = text; (p = memchr(p, '&', end - p)); p++)
		if (end - p > 1 && p[1] == '#' && !kept_char_ref(p, end))
			return TRUE;
	return FALSE;
}

/* DATA as it is to be parsed, past a UTF-8 byte order mark, when
 * decode_input() passes it through unchanged if it is valid UTF-8 (its
 * mark or label says UTF-8, or it has none); NULL otherwise. libxml2
 * checks UTF-8 as it parses, so such input needs no validated copy first. */
static const char *plain_utf8(const char *data, gsize len, const char *content_type, gsize *out_len)
{
	gsize skip;

	if (sniff_encoding(data, len, &skip))
		return NULL;
	data += skip;
	len -= skip;
	if (!skip) {
		g_autofree char *label = input_label(data, len, content_type);
		if (label && !label_is_utf8(label))
			return NULL;
	}
	*out_len = len;
	return data;
}

/* ---- Reading the tree --------------------------------------------------- */

typedef enum {
	NS_NONE,
	NS_RSS,
	NS_ATOM,
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_RDF,
	NS_OTHER,
} NsKind;

static const struct {
	const char *prefix;
	NsKind kind;
} usual_prefixes[] = {
	{ "atom", NS_ATOM }, { "dc", NS_DC }, { "dcterms", NS_DCTERMS },
	{ "content", NS_CONTENT }, { "rdf", NS_RDF },
};

/* The entry of usual_prefixes for an element whose prefix was never
 * declared, or -1. */
static int undeclared_prefix(const xmlNode *node)
{
	const char *name = (const char *)node->name;
	const char *colon = node->ns || !name ? NULL : strchr(name, ':');

	for (gsize i = 0; colon && i < G_N_ELEMENTS(usual_prefixes); i++)
		if (strlen(usual_prefixes[i].prefix) == (gsize)(colon - name) &&
		    strncmp(name, usual_prefixes[i].prefix, colon - name) == 0)
			return (int)i;
	return -1;
}

/* An element's name, without such a prefix. */
static const char *local_name(const xmlNode *node)
{
	const char *name = (const char *)node->name;
	/* Most names have a namespace or no colon: spare them the lookup. */
	if (node->ns || !name || !strchr(name, ':'))
		return name;
	return undeclared_prefix(node) >= 0 ? strchr(name, ':') + 1 : name;
}

static NsKind ns_kind(const xmlNode *node)
{
	static const struct {
		const char *href;
		NsKind kind;
	} known[] = {
		{ "http://purl.org/rss/1.0/", NS_RSS },
		{ HREF_RSS090, NS_RSS },
		{ "http://backend.userland.com/rss2", NS_RSS },
		{ "http://backend.userland.com/rss", NS_RSS },
		{ "http://blogs.law.harvard.edu/tech/rss", NS_RSS },
		{ "http://purl.org/net/rss1.1#", NS_RSS },
		{ HREF_ATOM10, NS_ATOM },
		{ HREF_ATOM03, NS_ATOM },
		{ HREF_DC, NS_DC },
		{ HREF_DCTERMS, NS_DCTERMS },
		{ HREF_CONTENT, NS_CONTENT },
		{ HREF_RDF, NS_RDF },
	};

	if (!node->ns || !node->ns->href) {
		/* A prefix used but never declared (xmlns:dc forgotten):
		 * libxml2 keeps it in the name, and the usual prefixes say
		 * what was meant. */
		int i = undeclared_prefix(node);
		return i >= 0 ? usual_prefixes[i].kind : NS_NONE;
	}
	/* The elements of a feed share a few declarations, and each is asked
	 * about again and again: the first answer is kept in the tree, which
	 * is ours, as KIND + 1 (0 is no answer yet). */
	xmlNs *ns = node->ns;
	if (ns->_private)
		return (NsKind)(GPOINTER_TO_INT(ns->_private) - 1);
	NsKind kind = NS_OTHER;
	for (gsize i = 0; i < G_N_ELEMENTS(known) && kind == NS_OTHER; i++)
		if (strcmp((const char *)ns->href, known[i].href) == 0)
			kind = known[i].kind;
	ns->_private = GINT_TO_POINTER(kind + 1);
	return kind;
}

/* In the family of KIND: RSS and Atom elements may also come without a
 * namespace, or in the namespace of the root element (feeds invent their
 * own: "http://backend.userland.com/rss2.1"). */
static gboolean in_ns(const xmlNode *node, NsKind kind)
{
	NsKind k = ns_kind(node);

	if (k == kind)
		return TRUE;
	if (kind != NS_RSS && kind != NS_ATOM)
		return FALSE;
	if (k == NS_NONE)
		return TRUE;
	if (k != NS_OTHER)
		return FALSE;
	const xmlNode *root = xmlDocGetRootElement(node->doc);
	return root && root->ns && root->ns->href &&
	       strcmp((const char *)root->ns->href, (const char *)node->ns->href) == 0;
}

static gboolean is_element(const xmlNode *node, NsKind kind, const char *name)
{
	if (node->type != XML_ELEMENT_NODE || !node->name)
		return FALSE;
	const char *local = local_name(node);
	/* Most siblings differ in the first letter already (0x20 is what case
	 * changes in an ASCII letter): spare them the full comparison, and
	 * the rest, which mostly match exactly, the case-blind one. */
	return (*local | 0x20) == (*name | 0x20) &&
	       (strcmp(local, name) == 0 || g_ascii_strcasecmp(local, name) == 0) && in_ns(node, kind);
}

static xmlNode *child(const xmlNode *parent, NsKind kind, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_element(n, kind, name))
			return n;
	return NULL;
}

typedef struct {
	GString *out; /* borrowed */
	guint nodes_left;
	gboolean blocks; /* put a space around block-level XHTML elements */
} TextWalk;

static void walk_text(const xmlNode *node, TextWalk *w, guint depth)
{
	for (; node && w->nodes_left > 0 && w->out->len < FEED_MAX_RAW_TEXT_BYTES; node = node->next) {
		w->nodes_left--;
		switch (node->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			if (node->content) {
				const char *c = (const char *)node->content;
				gsize n = strlen(c), room = FEED_MAX_RAW_TEXT_BYTES - w->out->len;
				if (n > room) {
					/* Cut at a character boundary. */
					n = room;
					while (n > 0 && ((guchar)c[n] & 0xC0) == 0x80)
						n--;
					w->nodes_left = 0;
				}
				g_string_append_len(w->out, c, n);
			}
			break;
		case XML_ELEMENT_NODE: {
			gboolean block = w->blocks && node->name &&
					 tag_is((const char *)node->name, strlen((const char *)node->name),
						block_tags);
			if (block)
				g_string_append_c(w->out, ' ');
			walk_text(node->children, w, depth);
			if (block)
				g_string_append_c(w->out, ' ');
			break;
		}
		case XML_ENTITY_REF_NODE: {
			/* Only entities of the document's own internal subset;
			 * an external one is never read. */
			xmlEntity *ent = xmlGetDocEntity(node->doc, node->name);
			if (ent && ent->etype == XML_INTERNAL_GENERAL_ENTITY && depth < FEED_MAX_ENTITY_DEPTH)
				walk_text(ent->children, w, depth + 1);
			break;
		}
		default:
			break;
		}
	}
}

/* Text under NODE: character data, internal entities and, for XHTML,
 * the text of child elements. Never NULL. */
static char *node_text(const xmlNode *node, gboolean blocks)
{
	GString *out = g_string_new(NULL);
	TextWalk w = { .out = out, .nodes_left = FEED_MAX_TEXT_NODES, .blocks = blocks };

	if (node)
		walk_text(node->children, &w, 0);
	return g_string_free(out, FALSE);
}

/* node_text() without the copy when NODE holds one piece of character data,
 * as most elements do: that is returned from the tree and *OWNED is NULL.
 * Otherwise *OWNED is node_text(), and returned. */
static const char *text_of(const xmlNode *node, gboolean blocks, char **owned)
{
	const xmlNode *only = node ? node->children : NULL;

	*owned = NULL;
	if (only && !only->next && (only->type == XML_TEXT_NODE || only->type == XML_CDATA_SECTION_NODE) &&
	    only->content && strlen((const char *)only->content) <= FEED_MAX_RAW_TEXT_BYTES)
		return (const char *)only->content;
	return *owned = node_text(node, blocks);
}

static xmlAttr *find_attr(const xmlNode *node, const char *name, const char *ns_href)
{
	for (xmlAttr *a = node->properties; a; a = a->next) {
		if (!a->name || strcmp((const char *)a->name, name) != 0)
			continue;
		if (ns_href ? a->ns && a->ns->href && strcmp((const char *)a->ns->href, ns_href) == 0
			    : !a->ns)
			return a;
	}
	return NULL;
}

/* An attribute value, read with the same bounds as element text (libxml2's
 * own getters expand entities without limit). NULL when absent. */
static char *attr_value(const xmlNode *node, const char *name, const char *ns_href)
{
	xmlAttr *a = find_attr(node, name, ns_href);
	if (!a)
		return NULL;
	GString *out = g_string_new(NULL);
	TextWalk w = { .out = out, .nodes_left = FEED_MAX_TEXT_NODES };
	walk_text(a->children, &w, 0);
	return g_string_free(out, FALSE);
}

static gboolean has_http_scheme(const char *url)
{
	return g_ascii_strncasecmp(url, "http://", 7) == 0 || g_ascii_strncasecmp(url, "https://", 8) == 0;
}

static gboolean has_scheme(const char *url)
{
	const char *p = url;

	if (!g_ascii_isalpha(*p))
		return FALSE;
	while (g_ascii_isalnum(*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

/* What resolve_uri() leaves unescaped besides letters, digits and "-._". */
#define URI_KEPT_CHARS "!#$%&'()*+,/:;=?@[]~"

/* Whether g_uri_escape_string() would change URL; most links are plain
 * ASCII, and checking is far cheaper than escaping. */
static gboolean needs_escape(const char *url)
{
	for (const char *p = url; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("-._" URI_KEPT_CHARS, *p))
			return TRUE;
	return FALSE;
}

/* REF made absolute against BASE (either may be NULL); NULL when it cannot
 * be. Spaces and non-ASCII characters are percent-encoded first, as a
 * browser would. */
static char *resolve_uri(const char *ref, const char *base)
{
	g_autofree char *trimmed = g_strstrip(g_strdup(ref ? ref : ""));
	g_autofree char *escaped = needs_escape(trimmed) ? g_uri_escape_string(trimmed, URI_KEPT_CHARS, FALSE)
							 : g_steal_pointer(&trimmed);

	if (has_scheme(escaped) || !base)
		return g_steal_pointer(&escaped);
	xmlChar *built = xmlBuildURI((const xmlChar *)escaped, (const xmlChar *)base);
	if (!built)
		return NULL;
	char *result = g_strdup((const char *)built);
	xmlFree(built);
	return result;
}

/* The base URI in effect at NODE: xml:base of NODE and its ancestors on top
 * of the document's own address. */
static char *node_base(const xmlNode *node, const char *doc_base)
{
	g_autoptr(GPtrArray) bases = g_ptr_array_new_with_free_func(g_free);

	for (const xmlNode *n = node; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
		char *b = attr_value(n, "base", (const char *)XML_XML_NAMESPACE);
		if (b)
			g_ptr_array_add(bases, b);
	}
	char *base = g_strdup(doc_base);
	for (guint i = bases->len; i > 0; i--) {
		char *next = resolve_uri(g_ptr_array_index(bases, i - 1), base);
		if (next) {
			g_free(base);
			base = next;
		}
	}
	return base;
}

typedef struct {
	const char *base_url;   /* borrowed; may be NULL */
	ErrorSink *sink;        /* borrowed */
	gint64 full_text_since; /* posts dated before keep SHORT_TEXT_CHARS */
	gsize short_text_chars;
} Reader;

/* How much of the text of a post PUBLISHED then is worth extracting. */
static gsize text_chars(const Reader *rd, gint64 published)
{
	return published && published < rd->full_text_since ? rd->short_text_chars : FEED_MAX_SUMMARY_CHARS;
}

/* A link written at NODE, made an absolute http(s) URL, or NULL. */
static char *make_link(const Reader *rd, const xmlNode *node, const char *href)
{
	g_autofree char *ref = g_strstrip(g_strdup(href ? href : ""));

	/* An empty reference would name the feed itself. */
	if (!*ref)
		return NULL;
	/* An absolute reference needs no base; finding it was most of the cost. */
	g_autofree char *base = has_scheme(ref) ? NULL : node_base(node, rd->base_url);
	g_autofree char *url = resolve_uri(ref, base);
	if (!url || !*url || !has_http_scheme(url) || strlen(url) > FEED_MAX_URL_BYTES)
		return NULL;
	return g_steal_pointer(&url);
}

static char *element_link(const Reader *rd, const xmlNode *el)
{
	if (!el)
		return NULL;
	g_autofree char *owned = NULL;
	return make_link(rd, el, text_of(el, FALSE, &owned));
}

/* Atom's choice of link: rel="alternate" (the default) of an HTML type
 * first, then any alternate. */
static char *atom_link(const Reader *rd, const xmlNode *parent)
{
	const xmlNode *any = NULL;

	for (const xmlNode *n = parent->children; n; n = n->next) {
		if (!is_element(n, NS_ATOM, "link"))
			continue;
		g_autofree char *rel = attr_value(n, "rel", NULL);
		g_autofree char *type = attr_value(n, "type", NULL);
		if (rel && g_ascii_strcasecmp(g_strstrip(rel), "alternate") != 0)
			continue;
		if (!find_attr(n, "href", NULL))
			continue;
		if (!type || g_ascii_strcasecmp(type, "text/html") == 0 ||
		    g_ascii_strcasecmp(type, "application/xhtml+xml") == 0 ||
		    g_ascii_strcasecmp(type, "html") == 0) {
			any = n;
			break;
		}
		if (!any)
			any = n;
	}
	if (!any)
		return NULL;
	g_autofree char *href = attr_value(any, "href", NULL);
	return make_link(rd, any, href);
}

/* An Atom text construct (or Atom 0.3 content) as plain text. */
static char *atom_text(const xmlNode *el, gsize max_chars)
{
	if (!el || find_attr(el, "src", NULL))
		return NULL;
	g_autofree char *type = attr_value(el, "type", NULL);
	g_autofree char *mode = attr_value(el, "mode", NULL);
	gboolean xhtml = (type && (g_ascii_strcasecmp(type, "xhtml") == 0 ||
				   g_ascii_strcasecmp(type, "application/xhtml+xml") == 0)) ||
			 (mode && g_ascii_strcasecmp(mode, "xml") == 0);
	gboolean html = type && (g_ascii_strcasecmp(type, "html") == 0 ||
				 g_ascii_strcasecmp(type, "text/html") == 0);
	/* Atom 1.0 §3.1.1.3: any other MIME type but text and XML is base64. */
	gboolean base64 = (mode && g_ascii_strcasecmp(mode, "base64") == 0) ||
			  (type && strchr(type, '/') && g_ascii_strncasecmp(type, "text/", 5) != 0 &&
			   !g_str_has_suffix(type, "+xml") && !g_str_has_suffix(type, "/xml"));
	g_autofree char *owned = NULL, *decoded = NULL;
	const char *raw = text_of(el, xhtml, &owned);

	if (base64) {
		gsize n;
		g_autofree guchar *bytes = g_base64_decode(raw, &n);
		raw = decoded = g_utf8_make_valid((const char *)bytes, n);
		/* Whatever the type, what people put there is text or HTML. */
		html = TRUE;
	}
	if (xhtml)
		return collapse_text(raw, max_chars);
	if (html)
		return html_to_text(raw, max_chars);
	return collapse_text(raw, max_chars);
}

static char *rss_text(const xmlNode *el, gsize max_chars)
{
	if (!el)
		return NULL;
	/* RSS does not say whether text is HTML, and feeds write both; read it
	 * as HTML, which leaves plain text as it is. */
	g_autofree char *owned = NULL;
	return html_to_text(text_of(el, FALSE, &owned), max_chars);
}

static gint64 element_date(const xmlNode *el)
{
	gint64 t = 0;

	if (!el)
		return 0;
	g_autofree char *owned = NULL;
	return feed_parse_date(text_of(el, FALSE, &owned), &t) ? t : 0;
}

static void feed_item_free(FeedItem *item)
{
	if (!item)
		return;
	g_free(item->id);
	g_free(item->link);
	g_free(item->title);
	g_free(item->summary);
	g_free(item);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FeedItem, feed_item_free)

static char *iso_date(gint64 t)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;
}

/* Gives ITEM an id when it has none, and keeps ids short. FALSE when the
 * item holds nothing at all. */
static gboolean finish_item(FeedItem *item, const JobpostRules *rules)
{
	if (item->id && !*g_strstrip(item->id))
		g_clear_pointer(&item->id, g_free);
	if (!item->id && item->link)
		item->id = g_strdup(item->link);
	if (!item->id) {
		if (!item->title && !item->published && !item->summary)
			return FALSE;
		g_autofree char *date = item->published ? iso_date(item->published) : NULL;
		/* Title and date tell posts apart; without either, the text does. */
		g_autofree char *key = g_strdup_printf("%s\n%s\n%s", item->title ? item->title : "",
						       date ? date : "",
						       item->title || date ? "" : item->summary);
		g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
		item->id = g_strconcat("sha256:", sum, NULL);
	} else if (strlen(item->id) > FEED_MAX_ID_BYTES) {
		g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, item->id, -1);
		g_free(item->id);
		item->id = g_strconcat("sha256:", sum, NULL);
	}
	item->job_change = rules && jobpost_classify(rules, item->title, item->summary);
	return TRUE;
}

static char *trimmed_text(const xmlNode *el)
{
	if (!el)
		return NULL;
	g_autofree char *owned = NULL;
	const char *text = text_of(el, FALSE, &owned);
	/* As g_strstrip(), which the borrowed text must not be given. */
	while (g_ascii_isspace(*text))
		text++;
	gsize n = strlen(text);
	while (n > 0 && g_ascii_isspace(text[n - 1]))
		n--;
	return n > 0 ? g_strndup(text, n) : NULL;
}

static const xmlNode *first_of(const xmlNode *parent, NsKind kind, const char *const *names)
{
	for (; *names; names++) {
		const xmlNode *n = child(parent, kind, *names);
		if (n)
			return n;
	}
	return NULL;
}

static gint64 rss_item_date(const xmlNode *item)
{
	static const char *const dcterms[] = { "issued", "created", "modified", NULL };
	static const char *const atom[] = { "published", "updated", NULL };
	const xmlNode *el = child(item, NS_RSS, "pubDate");

	if (!el)
		el = child(item, NS_DC, "date");
	if (!el)
		el = first_of(item, NS_DCTERMS, dcterms);
	if (!el) {
		for (const xmlNode *n = item->children; n && !el; n = n->next)
			if (ns_kind(n) == NS_ATOM && n->type == XML_ELEMENT_NODE &&
			    g_strv_contains(atom, local_name(n)))
				el = n;
	}
	return element_date(el);
}

static FeedItem *rss_item(const Reader *rd, const xmlNode *node, const JobpostRules *rules)
{
	g_autoptr(FeedItem) item = g_new0(FeedItem, 1);
	const xmlNode *guid = child(node, NS_RSS, "guid");
	const xmlNode *title = child(node, NS_RSS, "title");
	const xmlNode *desc = child(node, NS_RSS, "description");

	if (!title)
		title = child(node, NS_DC, "title");
	if (!desc)
		desc = child(node, NS_CONTENT, "encoded");
	if (!desc)
		desc = child(node, NS_DC, "description");
	item->title = rss_text(title, FEED_MAX_TITLE_CHARS);
	item->published = rss_item_date(node);
	item->summary = rss_text(desc, text_chars(rd, item->published));
	item->id = trimmed_text(guid);
	if (!item->id)
		item->id = attr_value(node, "about", HREF_RDF);

	item->link = element_link(rd, child(node, NS_RSS, "link"));
	if (!item->link && guid) {
		g_autofree char *perma = attr_value(guid, "isPermaLink", NULL);
		if (!perma || g_ascii_strcasecmp(g_strstrip(perma), "false") != 0)
			item->link = element_link(rd, guid);
	}
	if (!item->link)
		item->link = atom_link(rd, node);
	if (!item->link) {
		g_autofree char *about = attr_value(node, "about", HREF_RDF);
		item->link = make_link(rd, node, about);
	}
	return finish_item(item, rules) ? g_steal_pointer(&item) : NULL;
}

static FeedItem *atom_entry(const Reader *rd, const xmlNode *node, const JobpostRules *rules)
{
	static const char *const dates[] = { "published", "issued", "updated", "modified", "created", NULL };
	g_autoptr(FeedItem) item = g_new0(FeedItem, 1);
	const xmlNode *date = first_of(node, NS_ATOM, dates);

	item->id = trimmed_text(child(node, NS_ATOM, "id"));
	item->title = atom_text(child(node, NS_ATOM, "title"), FEED_MAX_TITLE_CHARS);
	item->link = atom_link(rd, node);
	item->published = element_date(date ? date : child(node, NS_DC, "date"));
	gsize chars = text_chars(rd, item->published);
	item->summary = atom_text(child(node, NS_ATOM, "summary"), chars);
	if (!item->summary)
		item->summary = atom_text(child(node, NS_ATOM, "content"), chars);
	return finish_item(item, rules) ? g_steal_pointer(&item) : NULL;
}

static void add_item(FeedDocument *feed, ErrorSink *sink, const xmlNode *node, FeedItem *item)
{
	if (!item) {
		sink_add(sink, (guint)xmlGetLineNo(node), "empty item, ignoring");
		return;
	}
	g_ptr_array_add(feed->items, item);
}

static void read_rss(const Reader *rd, FeedDocument *feed, const xmlNode *root, const JobpostRules *rules)
{
	const xmlNode *channel = child(root, NS_RSS, "channel");

	if (channel) {
		const xmlNode *title = child(channel, NS_RSS, "title");
		feed->title = rss_text(title ? title : child(channel, NS_DC, "title"), FEED_MAX_TITLE_CHARS);
		feed->link = element_link(rd, child(channel, NS_RSS, "link"));
		if (!feed->link)
			feed->link = atom_link(rd, channel);
	}
	/* RSS 1.0 keeps items beside the channel; some 0.9x feeds do too. */
	const xmlNode *parents[] = { channel, root };
	for (gsize i = 0; i < G_N_ELEMENTS(parents); i++) {
		for (const xmlNode *n = parents[i] ? parents[i]->children : NULL; n; n = n->next) {
			if (!is_element(n, NS_RSS, "item"))
				continue;
			if (feed->items->len >= FEED_MAX_ITEMS) {
				sink_add(rd->sink, (guint)xmlGetLineNo(n), "more than %u items, ignoring the rest",
					 FEED_MAX_ITEMS);
				return;
			}
			add_item(feed, rd->sink, n, rss_item(rd, n, rules));
		}
	}
}

static void read_atom(const Reader *rd, FeedDocument *feed, const xmlNode *root, const JobpostRules *rules)
{
	feed->title = atom_text(child(root, NS_ATOM, "title"), FEED_MAX_TITLE_CHARS);
	feed->link = atom_link(rd, root);
	for (const xmlNode *n = root->children; n; n = n->next) {
		if (!is_element(n, NS_ATOM, "entry"))
			continue;
		if (feed->items->len >= FEED_MAX_ITEMS) {
			sink_add(rd->sink, (guint)xmlGetLineNo(n), "more than %u items, ignoring the rest",
				 FEED_MAX_ITEMS);
			return;
		}
		add_item(feed, rd->sink, n, atom_entry(rd, n, rules));
	}
}

static FeedFormat detect_format(const xmlNode *root)
{
	const char *name = (const char *)root->name;

	if (g_ascii_strcasecmp(name, "rss") == 0) {
		g_autofree char *version = attr_value(root, "version", NULL);
		if (!version || !*g_strstrip(version) || g_str_has_prefix(version, "0."))
			return FEED_FORMAT_RSS09X;
		return FEED_FORMAT_RSS20;
	}
	if (strcmp(name, "RDF") == 0 && ns_kind(root) == NS_RDF) {
		/* RSS 0.90 is RDF as well, in a namespace of its own. */
		const xmlNode *channel = child(root, NS_RSS, "channel");
		if (channel && channel->ns && channel->ns->href &&
		    strcmp((const char *)channel->ns->href, HREF_RSS090) == 0)
			return FEED_FORMAT_RSS09X;
		return FEED_FORMAT_RSS10;
	}
	if (strcmp(name, "feed") == 0)
		return FEED_FORMAT_ATOM10;
	return FEED_FORMAT_UNKNOWN;
}

/* ---- Entry points ------------------------------------------------------- */

void feed_document_free(FeedDocument *doc)
{
	if (!doc)
		return;
	g_free(doc->title);
	g_free(doc->link);
	if (doc->items)
		g_ptr_array_unref(doc->items);
	if (doc->errors)
		g_ptr_array_unref(doc->errors);
	g_free(doc);
}

static void set_not_a_feed(GError **error, const char *name, const char *what)
{
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s%snot a feed: %s",
		    name ? name : "", name ? ": " : "", what);
}

static FeedDocument *parse_document(const char *data, gsize len, const char *name, const char *base_url,
				    const char *content_type, const JobpostRules *rules, gint64 full_text_since,
				    gsize short_text_chars, GError **error)
{
	g_return_val_if_fail(data != NULL || len == 0, NULL);

	if (len > FEED_MAX_INPUT_BYTES) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, "%s%sfeed larger than %u MiB",
			    name ? name : "", name ? ": " : "", FEED_MAX_INPUT_BYTES / (1024 * 1024));
		return NULL;
	}

	ErrorSink sink = { .name = name, .errors = parse_errors_new() };
	gboolean suspect = FALSE, repaired = FALSE, wellformed = FALSE;
	g_autofree char *text = NULL;
	g_autoptr(GString) repaired_text = NULL;
	xmlDoc *doc = NULL;
	gsize xml_len = 0;
	const char *xml = plain_utf8(data ? data : "", len, content_type, &xml_len);
	if (xml) {
		doc = parse_strict(xml, xml_len, &sink, &wellformed);
		/* Parsing first spares most feeds the scan of needs_repair().
		 * Input that repair_markup() would change takes the careful
		 * way, as does a failed pass that met bytes that are not UTF-8
		 * (libxml2 checks as it parses). */
		if (doc ? repair_may_matter(doc, xml, xml_len) && needs_repair(xml, xml_len)
			: needs_repair(xml, xml_len) || !g_utf8_validate_len(xml, xml_len, NULL)) {
			if (doc) {
				g_clear_pointer(&doc, xmlFreeDoc);
				g_ptr_array_set_size(sink.errors, 0);
				sink.dropped = 0;
			}
			xml = NULL;
		}
	}
	if (!xml) {
		gsize text_len = 0;
		text = decode_input(data ? data : "", len, content_type, &sink, &suspect, &text_len);
		if (needs_repair(text, text_len)) {
			repaired_text = repair_markup(text, text_len, &sink, &repaired);
			g_clear_pointer(&text, g_free);
		}
		xml = repaired_text ? repaired_text->str : text;
		xml_len = repaired_text ? repaired_text->len : text_len;
		doc = parse_strict(xml, xml_len, &sink, &wellformed);
	}

	guint before = sink.errors->len;
	if (!doc) {
		gboolean ignored;
		doc = parse_xml(xml, xml_len, TRUE, &sink, &ignored);
		wellformed = FALSE;
	}
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	FeedFormat format = root ? detect_format(root) : FEED_FORMAT_UNKNOWN;
	if (format == FEED_FORMAT_UNKNOWN) {
		if (root) {
			g_autofree char *what = g_strdup_printf("the root element is <%s>", root->name);
			set_not_a_feed(error, name, what);
		} else {
			const ParseError *first = sink.errors->len > before ?
				g_ptr_array_index(sink.errors, before) : NULL;
			set_not_a_feed(error, name, first ? first->message : "no XML element in it");
		}
		if (doc)
			xmlFreeDoc(doc);
		g_ptr_array_unref(sink.errors);
		return NULL;
	}

	FeedDocument *feed = g_new0(FeedDocument, 1);
	feed->format = format;
	feed->wellformed_xml = wellformed && !suspect && !repaired;
	feed->items = g_ptr_array_new_with_free_func((GDestroyNotify)feed_item_free);
	Reader rd = {
		.base_url = base_url,
		.sink = &sink,
		.full_text_since = full_text_since,
		.short_text_chars = short_text_chars,
	};
	if (format == FEED_FORMAT_ATOM10)
		read_atom(&rd, feed, root, rules);
	else
		read_rss(&rd, feed, root, rules);
	xmlFreeDoc(doc);
	sink_finish(&sink);
	feed->errors = sink.errors;
	return feed;
}

FeedDocument *feed_parse_full(const char *data, gsize len, const char *name,
			      const char *base_url, const char *content_type,
			      const JobpostRules *rules, GError **error)
{
	return parse_document(data, len, name, base_url, content_type, rules, G_MININT64, 0, error);
}

FeedDocument *feed_parse_for_poll(const char *data, gsize len, const char *base_url, const char *content_type,
				  gint64 full_text_since, gsize short_text_chars, GError **error)
{
	return parse_document(data, len, NULL, base_url, content_type, NULL, full_text_since, short_text_chars,
			      error);
}

FeedDocument *feed_parse(const char *data, gsize len, const char *base_url,
			 const JobpostRules *rules, GError **error)
{
	return feed_parse_full(data, len, NULL, base_url, NULL, rules, error);
}

const char *feed_format_name(FeedFormat format)
{
	switch (format) {
	case FEED_FORMAT_RSS09X:
		return "rss0.9x";
	case FEED_FORMAT_RSS10:
		return "rss1.0";
	case FEED_FORMAT_RSS20:
		return "rss2.0";
	case FEED_FORMAT_ATOM10:
		return "atom1.0";
	case FEED_FORMAT_UNKNOWN:
		break;
	}
	return "unknown";
}

JsonNode *feed_document_to_json(const FeedDocument *doc)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_add_string_member(builder, "format", feed_format_name(doc->format));
	json_builder_set_member_name(builder, "wellformed_xml");
	json_builder_add_boolean_value(builder, doc->wellformed_xml);
	json_builder_set_member_name(builder, "feed");
	json_builder_begin_object(builder);
	json_builder_add_string_member(builder, "title", doc->title);
	json_builder_add_string_member(builder, "link", doc->link);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "items");
	json_builder_begin_array(builder);
	for (guint i = 0; doc->items && i < doc->items->len; i++) {
		const FeedItem *item = g_ptr_array_index(doc->items, i);
		g_autofree char *published = item->published ? iso_date(item->published) : NULL;
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "id", item->id);
		json_builder_add_string_member(builder, "link", item->link);
		json_builder_add_string_member(builder, "title", item->title);
		json_builder_add_string_member(builder, "published", published);
		json_builder_set_member_name(builder, "job_change");
		json_builder_add_boolean_value(builder, item->job_change);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);

	json_builder_set_member_name(builder, "errors");
	json_builder_add_value(builder, parse_errors_to_json(doc->errors));
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}
