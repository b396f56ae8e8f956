/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The vCard reader: a hand-written tokenizer for vCard 2.1, 3.0 and 4.0 as
 * real exporters write them (SPEC §3), and the JSON of `tiesd --parse=vcard`
 * (SPEC §6).
 *
 * Layers, bottom up:
 *  1. Physical lines, ended by LF, CRLF, a bare CR, or CR CR LF (which some
 *     iOS exports write and every editor shows as one line break), counted
 *     from 1. A UTF-8 BOM at the start of a line is dropped (files joined
 *     with cat keep theirs). The whole buffer is converted first when it is
 *     UTF-16.
 *  2. Logical lines, one per property: folding (a line starting with a space
 *     or TAB continues the previous one, also inside the parameter list;
 *     blank lines between folds are skipped), 2.1 QUOTED-PRINTABLE soft line
 *     breaks ('=' at the end continues with the next line as it is), 2.1
 *     base64 continuation lines (any line of base64 characters, up to a blank
 *     line). Binary values (PHOTO, LOGO, KEY, SOUND, anything base64) are not
 *     kept: they stream through a base64 decoder into a SHA-256, and only a
 *     PHOTO's size, hash and media type are remembered.
 *  3. Cards: BEGIN/END (any case, with or without a group), nesting, limits.
 *     A BEGIN inside a card opens a nested card. When the outer card ends
 *     properly, its nested cards were agents (2.1 AGENT) and are dropped;
 *     when it never ends, it is the broken one: it becomes an error and the
 *     complete cards found inside it are kept, as the cards that follow a
 *     card whose END went missing.
 *  4. A card's properties become a VcardContact: quoted-printable decoding
 *     first, then the charset (CHARSET=, else UTF-8 when valid, else the
 *     card's or file's other CHARSET label, else windows-1252), and only
 *     then backslash unescaping and splitting of structured values, since a
 *     Shift_JIS character may have 0x5C ('\') as its second byte.
 *
 * Errors: every entry names the file and a 1-based line. A card is dropped,
 * with one error at its BEGIN line, when it has no END, goes over a limit,
 * or has none of FN, N, ORG and EMAIL. A line inside a card that is not a
 * property (no ':', no name) or a PHOTO that does not decode is reported at
 * its own line and skipped, and the card is kept: one bad line should not
 * cost the user the contact. Text outside of cards is ignored; when it looks
 * like properties (it has a ':'), one error is reported per stretch of it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "charset.h"
#include "protocol.h"
#include "vcard.h"

/* Unfolded text of one card, not counting streamed binary values. */
#define VCARD_MAX_CARD_BYTES (1024 * 1024)
#define VCARD_MAX_PROPERTIES 5000
#define VCARD_MAX_CARDS 100000
/* Cards open inside each other at once; past it the innermost is dropped. */
#define VCARD_MAX_NESTING 8
#define VCARD_MAX_FILE_BYTES (64 * 1024 * 1024)
#define VCARD_MAX_VDIR_FILES 100000
/* A PHOTO given as a URL longer than this is not kept. */
#define VCARD_MAX_PHOTO_URI 4096
/* How far "data:" may be from its ',' in a data: URI. */
#define VCARD_MAX_DATA_URI_HEADER 256

/* --- parameters ---------------------------------------------------------- */

typedef struct {
	char *name;  /* owned; upper case; a bare 2.1 parameter becomes TYPE or ENCODING */
	char *value; /* owned; unquoted, RFC 6868 decoded, raw bytes */
} Param;

static void param_free(Param *param)
{
	if (!param)
		return;
	g_free(param->name);
	g_free(param->value);
	g_free(param);
}

static const char *param_get(const GPtrArray *params, const char *name)
{
	for (guint i = 0; params && i < params->len; i++) {
		const Param *param = g_ptr_array_index(params, i);
		if (strcmp(param->name, name) == 0)
			return param->value;
	}
	return NULL;
}

/* Whether a NAME parameter lists VALUE (TYPE=a,b and TYPE=a;TYPE=b alike). */
static gboolean param_has(const GPtrArray *params, const char *name, const char *value)
{
	gsize n = strlen(value);

	for (guint i = 0; params && i < params->len; i++) {
		const Param *param = g_ptr_array_index(params, i);
		if (strcmp(param->name, name) != 0)
			continue;
		for (const char *p = param->value; *p;) {
			const char *comma = strchr(p, ',');
			gsize len = comma ? (gsize)(comma - p) : strlen(p);
			if (len == n && g_ascii_strncasecmp(p, value, n) == 0)
				return TRUE;
			p += len + (comma ? 1 : 0);
		}
	}
	return FALSE;
}

/* Strips quotes and decodes RFC 6868 (^n newline, ^' quote, ^^ caret). */
static char *param_value_decode(const char *s, gsize len)
{
	GString *out = g_string_sized_new(len);

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '"')
			continue;
		if (s[i] == '^' && i + 1 < len) {
			char next = s[i + 1];
			if (next == 'n' || next == 'N' || next == '\'' || next == '^') {
				g_string_append_c(out, next == '\'' ? '"' : next == '^' ? '^' : '\n');
				i++;
				continue;
			}
		}
		g_string_append_c(out, s[i]);
	}
	g_strstrip(out->str);
	out->len = strlen(out->str);
	return g_string_free(out, FALSE);
}

/* Adds one parameter to *PARAMS, created on the first one: most
 * properties have none. */
static void params_add(GPtrArray **params, const char *s, gsize len)
{
	while (len > 0 && g_ascii_isspace(*s))
		s++, len--;
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	if (len == 0)
		return;

	Param *param = g_new0(Param, 1);
	const char *eq = memchr(s, '=', len);
	if (eq) {
		param->name = g_ascii_strup(s, eq - s);
		g_strstrip(param->name);
		param->value = param_value_decode(eq + 1, len - (eq + 1 - s));
	} else {
		/* 2.1: TEL;HOME;VOICE, NOTE;QUOTED-PRINTABLE, SOUND;X-IRMC-N */
		param->value = param_value_decode(s, len);
		if (g_ascii_strcasecmp(param->value, "QUOTED-PRINTABLE") == 0 ||
		    g_ascii_strcasecmp(param->value, "BASE64") == 0 ||
		    g_ascii_strcasecmp(param->value, "B") == 0 ||
		    g_ascii_strcasecmp(param->value, "8BIT") == 0 ||
		    g_ascii_strcasecmp(param->value, "7BIT") == 0)
			param->name = g_strdup("ENCODING");
		else
			param->name = g_strdup("TYPE");
	}
	if (!*params)
		*params = g_ptr_array_new_with_free_func((GDestroyNotify)param_free);
	g_ptr_array_add(*params, param);
}

/* --- property names ------------------------------------------------------ */

/* The properties the reader acts on, known by name once per line instead
 * of comparing the name with every one of them. */
typedef enum {
	PROP_OTHER,
	PROP_BEGIN,
	PROP_END,
	PROP_AGENT,
	PROP_PHOTO,
	PROP_LOGO,
	PROP_KEY,
	PROP_X_MS_CARDPICTURE,
	PROP_SOUND,
	/* from here on, what a contact is built from */
	PROP_FN,
	PROP_N,
	PROP_ORG,
	PROP_TITLE,
	PROP_NICKNAME,
	PROP_NOTE,
	PROP_UID,
	PROP_KIND,          /* and X-ADDRESSBOOKSERVER-KIND */
	PROP_X_ABSHOWAS,
	PROP_REV,
	PROP_EMAIL,
	PROP_TEL,
	PROP_URL,
	PROP_BDAY,
	PROP_ANNIVERSARY,
	PROP_X_ANNIVERSARY, /* and the other exporters' anniversaries */
	PROP_X_ABDATE,
	PROP_CATEGORIES,
	PROP_X_SOCIALPROFILE,
	PROP_IMPP,
	PROP_X_ABLABEL,
	PROP_X_PHONETIC_FIRST_NAME,
	PROP_X_PHONETIC_LAST_NAME,
	PROP_SORT_STRING,
	PROP_X_ANDROID_CUSTOM,
	PROP_X_MESSAGING,   /* X-MESSAGING/service-...: KDE */
	PROP_SOCIAL,        /* one of social_props */
} PropKind;

#define PROP_NAME(name, kind) { name, sizeof(name) - 1, kind }

static const struct {
	const char *name; /* upper case */
	guint8 len;
	PropKind kind;
} prop_names[] = {
	PROP_NAME("BEGIN", PROP_BEGIN),
	PROP_NAME("END", PROP_END),
	PROP_NAME("AGENT", PROP_AGENT),
	PROP_NAME("PHOTO", PROP_PHOTO),
	PROP_NAME("LOGO", PROP_LOGO),
	PROP_NAME("KEY", PROP_KEY),
	PROP_NAME("X-MS-CARDPICTURE", PROP_X_MS_CARDPICTURE),
	PROP_NAME("SOUND", PROP_SOUND),
	PROP_NAME("FN", PROP_FN),
	PROP_NAME("N", PROP_N),
	PROP_NAME("ORG", PROP_ORG),
	PROP_NAME("TITLE", PROP_TITLE),
	PROP_NAME("NICKNAME", PROP_NICKNAME),
	PROP_NAME("NOTE", PROP_NOTE),
	PROP_NAME("UID", PROP_UID),
	PROP_NAME("KIND", PROP_KIND),
	PROP_NAME("X-ADDRESSBOOKSERVER-KIND", PROP_KIND),
	PROP_NAME("X-ABSHOWAS", PROP_X_ABSHOWAS),
	PROP_NAME("REV", PROP_REV),
	PROP_NAME("EMAIL", PROP_EMAIL),
	PROP_NAME("TEL", PROP_TEL),
	PROP_NAME("URL", PROP_URL),
	PROP_NAME("BDAY", PROP_BDAY),
	PROP_NAME("ANNIVERSARY", PROP_ANNIVERSARY),
	PROP_NAME("X-ANNIVERSARY", PROP_X_ANNIVERSARY),
	PROP_NAME("X-EVOLUTION-ANNIVERSARY", PROP_X_ANNIVERSARY),
	PROP_NAME("X-KADDRESSBOOK-X-ANNIVERSARY", PROP_X_ANNIVERSARY),
	PROP_NAME("X-MS-ANNIVERSARY", PROP_X_ANNIVERSARY),
	PROP_NAME("X-ABDATE", PROP_X_ABDATE),
	PROP_NAME("CATEGORIES", PROP_CATEGORIES),
	PROP_NAME("X-SOCIALPROFILE", PROP_X_SOCIALPROFILE),
	PROP_NAME("IMPP", PROP_IMPP),
	PROP_NAME("X-ABLABEL", PROP_X_ABLABEL),
	PROP_NAME("X-PHONETIC-FIRST-NAME", PROP_X_PHONETIC_FIRST_NAME),
	PROP_NAME("X-PHONETIC-LAST-NAME", PROP_X_PHONETIC_LAST_NAME),
	PROP_NAME("SORT-STRING", PROP_SORT_STRING),
	PROP_NAME("X-ANDROID-CUSTOM", PROP_X_ANDROID_CUSTOM),
};

/* Old one-service properties: X-TWITTER:user and the like. */
static const struct {
	const char *name;
	const char *type;
} social_props[] = {
	{ "X-TWITTER", "twitter" }, { "X-SKYPE", "skype" }, { "X-SKYPE-USERNAME", "skype" },
	{ "X-AIM", "aim" }, { "X-JABBER", "jabber" }, { "X-MSN", "msn" }, { "X-YAHOO", "yahoo" },
	{ "X-ICQ", "icq" }, { "X-GTALK", "gtalk" }, { "X-GOOGLE-TALK", "gtalk" }, { "X-QQ", "qq" },
	{ "X-GADUGADU", "gadugadu" }, { "X-LINKEDIN", "linkedin" }, { "X-FACEBOOK", "facebook" },
	{ "X-GITHUB", "github" }, { "X-MASTODON", "mastodon" }, { "X-LINE", "line" },
};

#define X_MESSAGING "X-MESSAGING/"

/* NAME (LEN bytes, upper case) as a kind; *SOCIAL is its index in
 * social_props for PROP_SOCIAL. */
static PropKind prop_kind(const char *name, gsize len, guint *social)
{
	for (gsize i = 0; i < G_N_ELEMENTS(prop_names); i++)
		if (prop_names[i].len == len && prop_names[i].name[0] == name[0] &&
		    memcmp(prop_names[i].name, name, len) == 0)
			return prop_names[i].kind;
	if (len < 2 || name[0] != 'X' || name[1] != '-')
		return PROP_OTHER;
	for (gsize i = 0; i < G_N_ELEMENTS(social_props); i++) {
		if (strcmp(name, social_props[i].name) == 0) {
			*social = i;
			return PROP_SOCIAL;
		}
	}
	return g_str_has_prefix(name, X_MESSAGING) ? PROP_X_MESSAGING : PROP_OTHER;
}

/* --- photo and other binary values, streamed ---------------------------- */

typedef struct {
	gboolean present;
	char *mediatype; /* owned; may be NULL */
	char *uri;       /* owned; set for a photo given by URL */
	char *sha256;    /* owned; set for an embedded photo */
	gsize bytes;
} Photo;

static void photo_clear(Photo *photo)
{
	g_clear_pointer(&photo->mediatype, g_free);
	g_clear_pointer(&photo->uri, g_free);
	g_clear_pointer(&photo->sha256, g_free);
	photo->present = FALSE;
	photo->bytes = 0;
}

typedef enum {
	SINK_SKIP,   /* not a photo: read and forget */
	SINK_HEAD,   /* not yet known whether data: URI, base64 or URL */
	SINK_BASE64,
	SINK_PERCENT, /* a data: URI without ;base64 */
	SINK_URI,
	SINK_BAD,
} SinkState;

typedef struct {
	SinkState state;
	gboolean base64;  /* ENCODING=b or BASE64 */
	GString *head;    /* owned; the first bytes, until the kind is known; the URL */
	guint8 quad[4];
	int nquad;
	gboolean padded;
	int pct;          /* SINK_PERCENT: digits of a %XX seen so far, -1 none */
	guint8 pct_value;
	guint8 out[768];
	gsize nout;
	guint8 magic[8];  /* first decoded bytes, to tell the image type */
	gsize nmagic;
	GChecksum *sum;   /* owned */
	gsize bytes;
	char *mediatype;  /* owned; from the data: URI */
} Sink;

static void sink_init(Sink *sink, gboolean wanted, gboolean base64)
{
	memset(sink, 0, sizeof(*sink));
	sink->state = wanted ? SINK_HEAD : SINK_SKIP;
	sink->base64 = base64;
	sink->pct = -1;
	if (wanted) {
		sink->head = g_string_new(NULL);
		sink->sum = g_checksum_new(G_CHECKSUM_SHA256);
	}
}

static void sink_flush(Sink *sink)
{
	if (sink->nout == 0)
		return;
	g_checksum_update(sink->sum, sink->out, sink->nout);
	sink->bytes += sink->nout;
	sink->nout = 0;
}

static void sink_byte(Sink *sink, guint8 byte)
{
	if (sink->nmagic < sizeof(sink->magic))
		sink->magic[sink->nmagic++] = byte;
	sink->out[sink->nout++] = byte;
	if (sink->nout == sizeof(sink->out))
		sink_flush(sink);
}

static int base64_value(guchar c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static void sink_quad_out(Sink *sink)
{
	if (sink->nquad >= 2)
		sink_byte(sink, (sink->quad[0] << 2) | (sink->quad[1] >> 4));
	if (sink->nquad >= 3)
		sink_byte(sink, ((sink->quad[1] & 0x0f) << 4) | (sink->quad[2] >> 2));
	if (sink->nquad == 4)
		sink_byte(sink, ((sink->quad[2] & 0x03) << 6) | sink->quad[3]);
	sink->nquad = 0;
}

static void sink_base64(Sink *sink, const char *s, gsize len)
{
	for (gsize i = 0; i < len && sink->state == SINK_BASE64; i++) {
		guchar c = s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			/* Padding ends a quad; concatenated base64 may go on after it. */
			if (sink->nquad == 0 && sink->padded)
				continue;
			if (sink->nquad == 0) {
				sink->state = SINK_BAD;
				return;
			}
			sink_quad_out(sink); /* drops a lone character of a cut value */
			sink->padded = TRUE;
			continue;
		}
		int v = base64_value(c);
		if (v < 0) {
			sink->state = SINK_BAD;
			return;
		}
		sink->padded = FALSE;
		sink->quad[sink->nquad++] = v;
		if (sink->nquad == 4)
			sink_quad_out(sink);
	}
}

static void sink_percent(Sink *sink, const char *s, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		guchar c = s[i];
		if (sink->pct >= 0) {
			if (!g_ascii_isxdigit(c)) {
				sink->state = SINK_BAD;
				return;
			}
			sink->pct_value = (sink->pct_value << 4) | g_ascii_xdigit_value(c);
			if (++sink->pct == 2) {
				sink_byte(sink, sink->pct_value);
				sink->pct = -1;
			}
		} else if (c == '%') {
			sink->pct = 0;
			sink->pct_value = 0;
		} else {
			sink_byte(sink, c);
		}
	}
}

static void sink_feed(Sink *sink, const char *s, gsize len);

/* Decides from the first bytes what the value is; FINAL when no more come. */
static void sink_decide(Sink *sink, gboolean final)
{
	const char *h = sink->head->str;
	gsize skip = 0;

	while (skip < sink->head->len && g_ascii_isspace(h[skip]))
		skip++;
	h += skip;
	gsize len = sink->head->len - skip;

	if (len < 5 && !final)
		return;
	if (len >= 5 && g_ascii_strncasecmp(h, "data:", 5) == 0) {
		const char *comma = memchr(h, ',', len);
		if (!comma) {
			if (final || len > VCARD_MAX_DATA_URI_HEADER)
				sink->state = SINK_BAD;
			return;
		}
		g_autofree char *meta = g_strndup(h + 5, comma - h - 5);
		g_auto(GStrv) parts = g_strsplit(meta, ";", -1);
		gboolean base64 = FALSE;
		for (guint i = 0; parts[i]; i++) {
			g_strstrip(parts[i]);
			if (i == 0 && parts[i][0])
				sink->mediatype = g_ascii_strdown(parts[i], -1);
			else if (i > 0 && g_ascii_strcasecmp(parts[i], "base64") == 0)
				base64 = TRUE;
		}

		g_autoptr(GString) rest = g_string_new_len(comma + 1, len - (comma + 1 - h));
		g_string_truncate(sink->head, 0);
		sink->state = base64 ? SINK_BASE64 : SINK_PERCENT;
		sink_feed(sink, rest->str, rest->len);
		return;
	}
	/* A URI has its scheme and ':' early; base64 without ENCODING= has none. */
	const char *colon = memchr(h, ':', MIN(len, 64));
	if (!sink->base64 && !colon && len < 64 && !final)
		return;
	if (sink->base64 || (!colon && len > 0)) {
		g_autoptr(GString) all = g_string_new_len(h, len);
		g_string_truncate(sink->head, 0);
		sink->state = SINK_BASE64;
		sink_feed(sink, all->str, all->len);
		return;
	}
	sink->state = SINK_URI;
}

static void sink_feed(Sink *sink, const char *s, gsize len)
{
	switch (sink->state) {
	case SINK_SKIP:
	case SINK_BAD:
		return;
	case SINK_HEAD:
		g_string_append_len(sink->head, s, len);
		sink_decide(sink, FALSE);
		return;
	case SINK_BASE64:
		sink_base64(sink, s, len);
		return;
	case SINK_PERCENT:
		sink_percent(sink, s, len);
		return;
	case SINK_URI:
		if (sink->head->len + len > VCARD_MAX_PHOTO_URI)
			sink->state = SINK_BAD;
		else
			g_string_append_len(sink->head, s, len);
		return;
	}
}

static const char *mediatype_sniff(const guint8 *magic, gsize n)
{
	if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
		return "image/jpeg";
	if (n >= 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	if (n >= 4 && memcmp(magic, "GIF8", 4) == 0)
		return "image/gif";
	if (n >= 2 && memcmp(magic, "BM", 2) == 0)
		return "image/bmp";
	if (n >= 4 && (memcmp(magic, "II*\0", 4) == 0 || memcmp(magic, "MM\0*", 4) == 0))
		return "image/tiff";
	return NULL;
}

/* TYPE=JPEG (2.1, 3.0) or MEDIATYPE=image/jpeg (4.0) → "image/jpeg". */
static char *mediatype_from_params(const GPtrArray *params)
{
	const char *mediatype = param_get(params, "MEDIATYPE");
	if (mediatype && *mediatype)
		return g_ascii_strdown(mediatype, -1);

	for (guint i = 0; params && i < params->len; i++) {
		const Param *param = g_ptr_array_index(params, i);
		if (strcmp(param->name, "TYPE") != 0 || !*param->value)
			continue;
		if (strchr(param->value, '/'))
			return g_ascii_strdown(param->value, -1);
		static const char *const images[] = { "JPEG", "JPG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "HEIC" };
		for (gsize k = 0; k < G_N_ELEMENTS(images); k++) {
			if (g_ascii_strcasecmp(param->value, images[k]) == 0) {
				g_autofree char *lower = g_ascii_strdown(images[k], -1);
				return g_strconcat("image/", k == 1 ? "jpeg" : lower, NULL);
			}
		}
	}
	return NULL;
}

/* Ends the stream. Returns FALSE when the value was meant as a photo but
 * does not decode (bad base64, a broken data: URI). */
static gboolean sink_finish(Sink *sink, const GPtrArray *params, Photo *photo)
{
	gboolean ok = TRUE;

	memset(photo, 0, sizeof(*photo));
	if (sink->state == SINK_HEAD)
		sink_decide(sink, TRUE);
	if (sink->state == SINK_BASE64)
		sink_quad_out(sink); /* a lone last character of a cut value is dropped */
	if (sink->state == SINK_PERCENT && sink->pct >= 0)
		sink->state = SINK_BAD;

	switch (sink->state) {
	case SINK_BASE64:
	case SINK_PERCENT:
		sink_flush(sink);
		if (sink->bytes == 0)
			break;
		photo->present = TRUE;
		photo->bytes = sink->bytes;
		photo->sha256 = g_strdup(g_checksum_get_string(sink->sum));
		photo->mediatype = g_steal_pointer(&sink->mediatype);
		if (!photo->mediatype)
			photo->mediatype = mediatype_from_params(params);
		if (!photo->mediatype)
			photo->mediatype = g_strdup(mediatype_sniff(sink->magic, sink->nmagic));
		break;
	case SINK_URI:
		g_strstrip(sink->head->str);
		if (!sink->head->str[0])
			break;
		photo->present = TRUE;
		photo->uri = g_strdup(sink->head->str);
		photo->mediatype = mediatype_from_params(params);
		break;
	case SINK_BAD:
		ok = FALSE;
		break;
	case SINK_SKIP:
	case SINK_HEAD:
		break;
	}
	if (sink->head)
		g_string_free(sink->head, TRUE);
	if (sink->sum)
		g_checksum_free(sink->sum);
	g_free(sink->mediatype);
	memset(sink, 0, sizeof(*sink));
	return ok;
}

/* --- physical and logical lines ------------------------------------------ */

typedef struct {
	const char *s;
	gsize len;
	guint number;
} Line;

typedef struct {
	const char *p;
	guint number; /* of the line at p */
} Cursor;

typedef struct Card Card;

typedef struct {
	const char *file; /* borrowed */
	const char *end;
	Cursor pos;
	Card *stack[VCARD_MAX_NESTING]; /* owned, innermost last */
	guint depth;       /* cards in STACK */
	GPtrArray *errors; /* ParseError*, owned, NULL until the first; moved into the result at the end */
	VcardResult *result;
	guint cards;       /* BEGINs seen */
	guint finished;    /* cards emitted or dropped, for VcardContact.index */
	gboolean stopped;
	gboolean in_stray; /* inside a stretch of text outside of cards */
	char *charset;     /* owned; the last non-UTF-8 CHARSET label of the file */
} Parser;

static const char *scan_line(const char *p, const char *end, guint number, Line *line)
{
	const char *e = p;

	while (e < end && *e != '\n' && *e != '\r')
		e++;
	line->s = p;
	line->len = e - p;
	line->number = number;
	if (line->len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
		line->s += 3;
		line->len -= 3;
	}
	if (e >= end)
		return e;
	if (*e == '\n')
		return e + 1;
	const char *q = e;
	while (q < end && *q == '\r')
		q++;
	if (q < end && *q == '\n')
		return q + 1; /* CRLF, or CR CR LF */
	return e + 1;
}

static gboolean cursor_next(const Parser *ps, Cursor *cursor, Line *line)
{
	if (cursor->p >= ps->end)
		return FALSE;
	cursor->p = scan_line(cursor->p, ps->end, cursor->number++, line);
	return TRUE;
}

static gboolean line_is_blank(const Line *line)
{
	for (gsize i = 0; i < line->len; i++)
		if (line->s[i] != ' ' && line->s[i] != '\t')
			return FALSE;
	return TRUE;
}

static gboolean line_is_fold(const Line *line)
{
	return line->len > 0 && (line->s[0] == ' ' || line->s[0] == '\t');
}

static gboolean is_name_char(char c)
{
	return g_ascii_isalnum(c) || c == '-' || c == '_' || c == '/';
}

/* "NAME:" or "group.NAME;" at the start of LINE. */
static gboolean line_looks_like_property(const Line *line)
{
	gsize i = 0;

	while (i < line->len && (is_name_char(line->s[i]) || line->s[i] == '.'))
		i++;
	return i > 0 && i < line->len && (line->s[i] == ':' || line->s[i] == ';');
}

static gboolean line_is_card_boundary(const Line *line)
{
	const char *s = line->s;
	gsize len = line->len;
	const char *dot = memchr(s, '.', len);
	const char *colon = memchr(s, ':', len);

	if (dot && colon && dot < colon) {
		len -= dot + 1 - s;
		s = dot + 1;
	}
	return (len >= 11 && g_ascii_strncasecmp(s, "BEGIN:VCARD", 11) == 0) ||
	       (len >= 9 && g_ascii_strncasecmp(s, "END:VCARD", 9) == 0);
}

static gboolean line_is_base64(const Line *line)
{
	if (line->len == 0)
		return FALSE;
	for (gsize i = 0; i < line->len; i++) {
		char c = line->s[i];
		if (!g_ascii_isalnum(c) && c != '+' && c != '/' && c != '=' && c != ' ' && c != '\t')
			return FALSE;
	}
	return TRUE;
}

/* One property: its header parsed, its value unfolded (or streamed). One
 * Logical serves a whole buffer: NAME and TEXT keep their memory from line
 * to line. */
typedef struct {
	guint line;
	gboolean no_colon;
	gboolean bad_name;
	char *group;       /* owned; lower case; NULL when none */
	GString *name;     /* owned; upper case */
	PropKind kind;     /* of NAME */
	guint social;      /* PROP_SOCIAL: index in social_props */
	GPtrArray *params; /* Param*, owned; NULL when none */
	GString *text;     /* owned; header ':' value, unfolded */
	gsize value_start; /* offset of the value in text */
	gboolean qp;
	gboolean streamed; /* the value went through a Sink, text holds the header only */
	gboolean photo_bad;
	Photo photo;
	gboolean oversized;
	gboolean had_nul;
} Logical;

/* Forgets the property, keeping the memory of NAME and TEXT. */
static void logical_clear(Logical *lg)
{
	GString *name = lg->name, *text = lg->text;

	g_free(lg->group);
	if (lg->params)
		g_ptr_array_unref(lg->params);
	photo_clear(&lg->photo);
	memset(lg, 0, sizeof(*lg));
	lg->name = name;
	lg->text = text;
	if (name)
		g_string_truncate(name, 0);
	if (text)
		g_string_truncate(text, 0);
}

static void logical_free(Logical *lg)
{
	logical_clear(lg);
	if (lg->name)
		g_string_free(lg->name, TRUE);
	if (lg->text)
		g_string_free(lg->text, TRUE);
}

/* Appends bytes of a physical line, dropping NULs and stopping at the
 * card size limit. */
static void logical_append(Logical *lg, const char *s, gsize n)
{
	if (lg->oversized)
		return;
	if (lg->text->len + n > VCARD_MAX_CARD_BYTES) {
		lg->oversized = TRUE;
		return;
	}
	const char *nul;
	while (n > 0 && (nul = memchr(s, '\0', n))) {
		g_string_append_len(lg->text, s, nul - s);
		n -= nul - s + 1;
		s = nul + 1;
		lg->had_nul = TRUE;
	}
	g_string_append_len(lg->text, s, n);
}

/* Takes the next line when it folds into the current one (blank lines in
 * between are skipped) and appends it without its first white space. */
static gboolean take_fold(Parser *ps, Logical *lg)
{
	Cursor cursor = ps->pos;
	Line line;

	/* Most lines start with a name: no need to scan them here. A line
	 * starting with white space, a line break or a BOM needs a look. */
	if (cursor.p < ps->end && !strchr(" \t\r\n\xEF", *cursor.p))
		return FALSE;
	do {
		if (!cursor_next(ps, &cursor, &line))
			return FALSE;
	} while (line_is_blank(&line));
	if (!line_is_fold(&line))
		return FALSE;
	ps->pos = cursor;
	logical_append(lg, line.s + 1, line.len - 1);
	return TRUE;
}

/* Old Android phones end a line of a 2.1 value with '\' and go on on the
 * next line: an escaped line break. Not in Shift_JIS and the like, where a
 * line may end with a character whose second byte is 0x5C. */
static gboolean take_backslash_break(Parser *ps, Logical *lg)
{
	const GString *t = lg->text;
	const char *charset;
	gsize n = 0;

	while (n < t->len - lg->value_start && t->str[t->len - 1 - n] == '\\')
		n++;
	if (n % 2 == 0)
		return FALSE;
	charset = param_get(lg->params, "CHARSET");
	if (charset && g_ascii_strcasecmp(charset_iconv_name(charset), "UTF-8") != 0)
		return FALSE;

	Cursor cursor = ps->pos;
	Line line;
	if (!cursor_next(ps, &cursor, &line) || line_is_blank(&line) || line_is_fold(&line) ||
	    line_looks_like_property(&line) || line_is_card_boundary(&line))
		return FALSE;
	ps->pos = cursor;
	logical_append(lg, "n", 1);
	logical_append(lg, line.s, line.len);
	return TRUE;
}

/* The ':' that ends the parameters: the first one outside a quoted
 * parameter value; the first one at all when the quotes do not balance. */
static gssize find_value_colon(const char *s, gsize len, gboolean honour_quotes)
{
	gboolean in_params = FALSE, quoted = FALSE;

	for (gsize i = 0; i < len; i++) {
		char c = s[i];
		if (c == ':' && !quoted)
			return i;
		if (!honour_quotes)
			continue;
		if (c == ';' && !quoted)
			in_params = TRUE;
		else if (c == '"' && in_params)
			quoted = !quoted;
	}
	return -1;
}

static gboolean valid_name(const char *s, gsize len)
{
	if (len == 0)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!is_name_char(s[i]))
			return FALSE;
	return TRUE;
}

/* Parses "group.NAME;param;param" (LEN bytes of S) into LG. */
static void parse_header(const char *s, gsize len, Logical *lg)
{
	gsize name_end = 0;

	while (name_end < len && s[name_end] != ';')
		name_end++;

	const char *name = s;
	gsize name_len = name_end;
	while (name_len > 0 && g_ascii_isspace(*name))
		name++, name_len--;
	while (name_len > 0 && g_ascii_isspace(name[name_len - 1]))
		name_len--;

	const char *dot = NULL;
	for (gsize i = 0; i < name_len; i++)
		if (name[i] == '.')
			dot = name + i;
	if (dot) {
		gsize group_len = dot - name;
		lg->group = g_ascii_strdown(name, group_len);
		/* every segment of the group must be a name */
		for (const char *seg = name; seg <= dot;) {
			const char *next = memchr(seg, '.', dot + 1 - seg);
			if (!valid_name(seg, next - seg))
				lg->bad_name = TRUE;
			seg = next + 1;
		}
		name_len -= dot + 1 - name;
		name = dot + 1;
	}
	if (!valid_name(name, name_len))
		lg->bad_name = TRUE;
	if (!lg->name)
		lg->name = g_string_sized_new(32);
	g_string_append_len(lg->name, name, name_len);
	for (char *c = lg->name->str; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c -= 'a' - 'A';
	lg->kind = prop_kind(lg->name->str, lg->name->len, &lg->social);

	gsize i = name_end + 1, start = i;
	gboolean quoted = FALSE;
	for (; i <= len; i++) {
		if (i < len && s[i] == '"')
			quoted = !quoted;
		if (i == len || (s[i] == ';' && !quoted)) {
			if (start < i)
				params_add(&lg->params, s + start, i - start);
			start = i + 1;
		}
	}
}

/* Binary values that are streamed, never kept as text. */
static gboolean logical_is_binary(const Logical *lg)
{
	const char *encoding = param_get(lg->params, "ENCODING");

	if (encoding && (g_ascii_strcasecmp(encoding, "BASE64") == 0 || g_ascii_strcasecmp(encoding, "B") == 0))
		return TRUE;
	if (lg->qp)
		return FALSE;
	if (lg->kind == PROP_SOUND)
		return !param_has(lg->params, "TYPE", "X-IRMC-N");
	return lg->kind == PROP_PHOTO || lg->kind == PROP_LOGO || lg->kind == PROP_KEY ||
	       lg->kind == PROP_X_MS_CARDPICTURE;
}

static void read_binary(Parser *ps, Logical *lg)
{
	const char *encoding = param_get(lg->params, "ENCODING");
	gboolean base64 = encoding && (g_ascii_strcasecmp(encoding, "BASE64") == 0 ||
				      g_ascii_strcasecmp(encoding, "B") == 0);
	Sink sink;

	sink_init(&sink, (lg->kind == PROP_PHOTO || lg->kind == PROP_X_MS_CARDPICTURE) && !lg->bad_name, base64);
	sink_feed(&sink, lg->text->str + lg->value_start, lg->text->len - lg->value_start);
	g_string_truncate(lg->text, lg->value_start);

	for (;;) {
		Cursor cursor = ps->pos;
		Line line;
		gboolean skipped_blank = FALSE;

		if (!cursor_next(ps, &cursor, &line))
			break;
		while (line_is_blank(&line)) {
			skipped_blank = TRUE;
			if (!cursor_next(ps, &cursor, &line))
				goto done;
		}
		if (line_is_fold(&line)) {
			ps->pos = cursor;
			sink_feed(&sink, line.s + 1, line.len - 1);
		} else if (base64 && !skipped_blank && line_is_base64(&line)) {
			/* 2.1: base64 lines need no indent; a blank line ends them */
			ps->pos = cursor;
			sink_feed(&sink, line.s, line.len);
		} else {
			break;
		}
	}
done:
	lg->streamed = TRUE;
	lg->photo_bad = !sink_finish(&sink, lg->params, &lg->photo);
}

/* 2.1 quoted-printable: '=' at the end of the value is a soft line break,
 * the next line follows as it is, even without an indent. */
static void read_qp(Parser *ps, Logical *lg)
{
	for (;;) {
		GString *t = lg->text;
		gsize n = t->len;

		while (n > lg->value_start && (t->str[n - 1] == ' ' || t->str[n - 1] == '\t'))
			n--;
		if (n > lg->value_start && t->str[n - 1] == '=' && !lg->oversized) {
			Cursor cursor = ps->pos;
			Line line;

			g_string_truncate(t, n - 1);
			if (!cursor_next(ps, &cursor, &line))
				return;
			if (line_is_blank(&line)) {
				/* Some exporters leave blank lines inside a soft
				 * break; a property after them means the value
				 * simply ended with '='. */
				do {
					if (!cursor_next(ps, &cursor, &line))
						return;
				} while (line_is_blank(&line));
				if (line_looks_like_property(&line))
					return;
			} else if (line_is_card_boundary(&line)) {
				return;
			}
			ps->pos = cursor;
			logical_append(lg, line.s, line.len);
			continue;
		}
		if (!take_fold(ps, lg))
			return;
	}
}

/* Reads the next property. Returns FALSE at the end of the input. */
static gboolean read_logical(Parser *ps, Logical *lg)
{
	Line line;

	do {
		if (!cursor_next(ps, &ps->pos, &line))
			return FALSE;
	} while (line_is_blank(&line));

	lg->line = line.number;
	if (!lg->text)
		lg->text = g_string_sized_new(MAX(line.len + 16, 256));
	/* An indented line with nothing to continue stands on its own. */
	while (line.len > 0 && (line.s[0] == ' ' || line.s[0] == '\t'))
		line.s++, line.len--;
	logical_append(lg, line.s, line.len);

	gssize colon;
	while ((colon = find_value_colon(lg->text->str, lg->text->len, TRUE)) < 0 && take_fold(ps, lg))
		;
	if (colon < 0)
		colon = find_value_colon(lg->text->str, lg->text->len, FALSE);
	if (colon < 0) {
		lg->no_colon = TRUE;
		return TRUE;
	}
	lg->value_start = colon + 1;
	parse_header(lg->text->str, colon, lg);

	const char *encoding = param_get(lg->params, "ENCODING");
	lg->qp = encoding && g_ascii_strcasecmp(encoding, "QUOTED-PRINTABLE") == 0;

	if (logical_is_binary(lg))
		read_binary(ps, lg);
	else if (lg->qp)
		read_qp(ps, lg);
	else
		while (take_fold(ps, lg) || take_backslash_break(ps, lg))
			;
	return TRUE;
}

static const char *logical_value(const Logical *lg)
{
	return lg->text->str + lg->value_start;
}

/* --- cards ------------------------------------------------------------- */

typedef struct {
	guint line;
	PropKind kind;
	guint social;      /* PROP_SOCIAL: index in social_props */
	char *group;       /* owned; lower case or NULL */
	char *name;        /* owned; upper case; only for PROP_X_MESSAGING, whose name says the service */
	GPtrArray *params; /* Param*, owned; NULL when none */
	gsize value_len;
	gboolean qp;
	char value[];      /* raw bytes as unfolded, still encoded; in the same block */
} Prop;

static void prop_free(Prop *prop)
{
	if (!prop)
		return;
	g_free(prop->group);
	g_free(prop->name);
	if (prop->params)
		g_ptr_array_unref(prop->params);
	g_free(prop);
}

struct Card {
	guint begin_line;
	GPtrArray *props;  /* Prop*, owned: only the properties a contact uses */
	GPtrArray *errors; /* ParseError*, owned, NULL until the first: lines skipped, the card kept */
	gsize bytes;
	guint n_props;
	char *drop_reason; /* owned; set once the card went over a limit */
	char *charset;     /* owned; its first non-UTF-8 CHARSET label */
	Photo photo;
	int photo_rank;    /* how good photo is: 0 none, 1 URL, 2 X-MS-CARDPICTURE, 3 PHOTO */
	GPtrArray *nested; /* Card*, owned, NULL until the first: complete cards found inside this one */
};

static void card_free(Card *card)
{
	if (!card)
		return;
	g_ptr_array_unref(card->props);
	if (card->errors)
		g_ptr_array_unref(card->errors);
	g_free(card->drop_reason);
	g_free(card->charset);
	photo_clear(&card->photo);
	if (card->nested)
		g_ptr_array_unref(card->nested);
	g_free(card);
}

static Card *card_new(guint line)
{
	Card *card = g_new0(Card, 1);

	card->begin_line = line;
	card->props = g_ptr_array_new_with_free_func((GDestroyNotify)prop_free);
	return card;
}

static void card_add_nested(Card *card, Card *inner)
{
	if (!card->nested)
		card->nested = g_ptr_array_new_with_free_func((GDestroyNotify)card_free);
	g_ptr_array_add(card->nested, inner);
}

static void card_error(const Parser *ps, Card *card, guint line, const char *message)
{
	if (!card->errors)
		card->errors = parse_errors_new();
	g_ptr_array_add(card->errors, parse_error_new(ps->file, line, "%s", message));
}

static void card_drop(Card *card, const char *reason)
{
	if (!card->drop_reason)
		card->drop_reason = g_strdup(reason);
}

static gboolean is_utf8_label(const char *label)
{
	return g_ascii_strcasecmp(charset_iconv_name(label), "UTF-8") == 0;
}

static gboolean charset_known(const char *label)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *probe = charset_to_utf8("", 0, label, &error);
	return probe != NULL;
}

/* The properties a VcardContact is built from; the others are read and
 * forgotten. */
static gboolean prop_wanted(PropKind kind)
{
	return kind == PROP_SOUND || kind >= PROP_FN;
}

static void card_add(Parser *ps, Card *card, Logical *lg)
{
	if (card->drop_reason)
		return;
	if (++card->n_props > VCARD_MAX_PROPERTIES) {
		g_autofree char *reason = g_strdup_printf("card has more than %d properties, skipped", VCARD_MAX_PROPERTIES);
		card_drop(card, reason);
		return;
	}
	card->bytes += lg->text->len;
	if (lg->oversized || card->bytes > VCARD_MAX_CARD_BYTES) {
		g_autofree char *reason = g_strdup_printf("card is larger than %d bytes, skipped", VCARD_MAX_CARD_BYTES);
		card_drop(card, reason);
		return;
	}
	if (lg->had_nul)
		card_error(ps, card, lg->line, "NUL bytes in the line, removed");
	if (lg->no_colon) {
		card_error(ps, card, lg->line, "line is not a property (no ':'), ignoring");
		return;
	}
	if (lg->bad_name) {
		card_error(ps, card, lg->line, "property has no valid name, ignoring");
		return;
	}

	const char *charset = param_get(lg->params, "CHARSET");
	if (charset && !card->charset && !is_utf8_label(charset) && charset_known(charset))
		card->charset = g_strdup(charset);

	if (lg->streamed) {
		/* The first photo wins, but an embedded PHOTO beats Outlook's
		 * X-MS-CARDPICTURE, which beats a URL. */
		int rank = !lg->photo.present ? 0 : lg->photo.uri ? 1 : lg->kind == PROP_PHOTO ? 3 : 2;
		if (lg->photo_bad) {
			g_autofree char *message = g_strdup_printf("%s does not decode, ignoring it", lg->name->str);
			card_error(ps, card, lg->line, message);
		} else if (rank > card->photo_rank) {
			photo_clear(&card->photo);
			card->photo = lg->photo;
			card->photo_rank = rank;
			memset(&lg->photo, 0, sizeof(lg->photo));
		}
		return;
	}
	if (!prop_wanted(lg->kind))
		return;

	gsize value_len = lg->text->len - lg->value_start;
	Prop *prop = g_malloc(sizeof(Prop) + value_len + 1);
	prop->line = lg->line;
	prop->kind = lg->kind;
	prop->social = lg->social;
	prop->group = g_steal_pointer(&lg->group);
	prop->name = lg->kind == PROP_X_MESSAGING ? g_strdup(lg->name->str) : NULL;
	prop->params = g_steal_pointer(&lg->params);
	prop->value_len = value_len;
	prop->qp = lg->qp;
	memcpy(prop->value, lg->text->str + lg->value_start, value_len);
	prop->value[value_len] = '\0';
	g_ptr_array_add(card->props, prop);
}

/* --- from properties to a contact --------------------------------------- */

static char *qp_decode(const char *s, gsize len, gsize *out_len)
{
	char *out = g_malloc(len + 1), *o = out;

	for (gsize i = 0; i < len; i++) {
		if (s[i] == '=' && i + 2 < len &&
		    g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2])) {
			char byte = (g_ascii_xdigit_value(s[i + 1]) << 4) | g_ascii_xdigit_value(s[i + 2]);
			if (byte)
				*o++ = byte;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*out_len = o - out;
	return out;
}

static char *bytes_to_utf8(const char *raw, gsize len, const char *label, const char *fallback)
{
	if (label && !is_utf8_label(label)) {
		char *text = charset_to_utf8(raw, len, label, NULL);
		if (text)
			return text;
	}
	if (g_utf8_validate_len(raw, len, NULL))
		return g_strndup(raw, len);
	if (fallback) {
		char *text = charset_to_utf8(raw, len, fallback, NULL);
		if (text)
			return text;
	}
	return charset_guess_to_utf8(raw, len);
}

/* The value as UTF-8: quoted-printable decoded, then the charset; still
 * escaped. */
static char *prop_utf8(const Prop *prop, const char *fallback)
{
	g_autofree char *decoded = NULL;
	const char *raw = prop->value;
	gsize len = prop->value_len;

	if (prop->qp) {
		decoded = qp_decode(raw, len, &len);
		raw = decoded;
	}
	return bytes_to_utf8(raw, len, param_get(prop->params, "CHARSET"), fallback);
}

static char *param_utf8(const Prop *prop, const char *name, const char *fallback)
{
	const char *value = param_get(prop->params, name);
	if (!value)
		return NULL;
	return bytes_to_utf8(value, strlen(value), param_get(prop->params, "CHARSET"), fallback);
}

/* Backslash escapes: \n \N newline, \, \; \: \\ the character, and \" too
 * (Apple writes it); others are kept as written ("C:\Users"). CR LF and CR
 * become LF. In place (the text only shrinks); returns S. */
static char *unescape(char *s)
{
	char *o = strpbrk(s, "\\\r");

	if (!o)
		return s; /* most values */
	for (const char *p = o; *p; p++) {
		char c = *p;
		if (c == '\\' && p[1]) {
			char next = p[1];
			if (next == 'n' || next == 'N') {
				*o++ = '\n';
				p++;
				continue;
			}
			if (next == ',' || next == ';' || next == ':' || next == '\\' || next == '"') {
				*o++ = next;
				p++;
				continue;
			}
		}
		if (c == '\r') {
			*o++ = '\n';
			if (p[1] == '\n')
				p++;
			continue;
		}
		*o++ = c;
	}
	*o = '\0';
	return s;
}

/* The next part of the text at *CURSOR, up to a SEP that is not escaped,
 * cut off and unescaped in place; NULL after the last one. A last part
 * ending in a lone '\' is dropped. */
static char *part_next(char **cursor, char sep)
{
	char *start = *cursor, *p = start;

	if (!start)
		return NULL;
	for (; *p && *p != sep; p++) {
		if (*p == '\\' && !*++p) {
			*cursor = NULL;
			return NULL;
		}
	}
	*cursor = *p ? p + 1 : NULL;
	*p = '\0';
	return unescape(start);
}

/* Trims S in place; returns it, or NULL when it is empty. */
static char *trimmed(char *s)
{
	if (!s)
		return NULL;
	g_strstrip(s);
	return *s ? s : NULL;
}

/* Trims S in place; returns it, or NULL (freeing it) when it is empty. */
static char *tidy(char *s)
{
	if (!s)
		return NULL;
	g_strstrip(s);
	if (!*s) {
		g_free(s);
		return NULL;
	}
	return s;
}

/* The next part, trimmed, as a copy; NULL when it is empty or there is none. */
static char *part_dup(char **cursor, char sep)
{
	return g_strdup(trimmed(part_next(cursor, sep)));
}

static void add_unique(GPtrArray *list, char *value, gboolean fold_case)
{
	if (!value)
		return;
	for (guint i = 0; i < list->len; i++) {
		const char *other = g_ptr_array_index(list, i);
		if (fold_case ? g_ascii_strcasecmp(other, value) == 0 : strcmp(other, value) == 0) {
			g_free(value);
			return;
		}
	}
	g_ptr_array_add(list, value);
}

static char *nfkc(const char *s)
{
	return s ? tidy(g_utf8_normalize(s, -1, G_NORMALIZE_NFKC)) : NULL;
}

/* BDAY and ANNIVERSARY: 19800102, 1980-01-02, --0102, --01-02, a date-time;
 * year 1604 (Apple, CardBook) and 0000 mean no year. NULL when unusable. */
static char *parse_date(const char *s)
{
	while (g_ascii_isspace(*s))
		s++;

	int year = -1, month, day;
	const char *p = s;
	if (p[0] == '-' && p[1] == '-') {
		p += 2;
	} else {
		if (!g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]) || !g_ascii_isdigit(p[2]) || !g_ascii_isdigit(p[3]))
			return NULL;
		year = (p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		p += 4;
		if (*p == '-')
			p++;
	}
	if (!g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]))
		return NULL;
	month = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p == '-')
		p++;
	if (!g_ascii_isdigit(p[0]) || !g_ascii_isdigit(p[1]))
		return NULL;
	day = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p && *p != 'T' && *p != 't' && !g_ascii_isspace(*p))
		return NULL;

	if (year == 1604 || year == 0)
		year = -1;
	if (!g_date_valid_dmy(day, month, year < 0 ? 2000 : year))
		return NULL;
	if (year < 0)
		return g_strdup_printf("--%02d-%02d", month, day);
	return g_strdup_printf("%04d-%02d-%02d", year, month, day);
}

/* Apple's "_$!<HomePage>!$_" → "HomePage". */
static char *label_clean(char *label)
{
	if (!label)
		return NULL;
	gsize len = strlen(label);
	if (len >= 8 && g_str_has_prefix(label, "_$!<") && g_str_has_suffix(label, ">!$_")) {
		memmove(label, label + 4, len - 8);
		label[len - 8] = '\0';
	}
	return tidy(label);
}

static const struct {
	const char *host;
	const char *type;
} social_hosts[] = {
	{ "linkedin.com", "linkedin" }, { "twitter.com", "twitter" }, { "x.com", "twitter" },
	{ "facebook.com", "facebook" }, { "github.com", "github" }, { "instagram.com", "instagram" },
	{ "flickr.com", "flickr" }, { "myspace.com", "myspace" }, { "note.com", "note" },
	{ "qiita.com", "qiita" }, { "zenn.dev", "zenn" }, { "mastodon.social", "mastodon" },
	{ "bsky.app", "bluesky" }, { "medium.com", "medium" }, { "youtube.com", "youtube" },
};

static char *social_type_from_uri(const char *uri)
{
	const char *host = strstr(uri, "://");
	if (!host)
		return NULL;
	host += 3;
	gsize len = strcspn(host, "/:?#");
	for (gsize i = 0; i < G_N_ELEMENTS(social_hosts); i++) {
		gsize n = strlen(social_hosts[i].host);
		if (len >= n && g_ascii_strncasecmp(host + len - n, social_hosts[i].host, n) == 0 &&
		    (len == n || host[len - n - 1] == '.'))
			return g_strdup(social_hosts[i].type);
	}
	return NULL;
}


static void social_free(VcardSocialProfile *profile)
{
	if (!profile)
		return;
	g_free(profile->type);
	g_free(profile->user);
	g_free(profile->uri);
	g_free(profile);
}

/* Takes TYPE, USER and URI; drops empty and repeated profiles. */
static void social_add(VcardContact *contact, char *type, char *user, char *uri)
{
	type = tidy(type);
	user = tidy(user);
	uri = tidy(uri);
	if (user && user[0] == '@' && !strchr(user + 1, '@'))
		memmove(user, user + 1, strlen(user)); /* @handle */
	if (type) {
		char *lower = g_utf8_strdown(type, -1);
		g_free(type);
		type = lower;
	}
	if (!user && !uri) {
		g_free(type);
		return;
	}
	for (guint i = 0; i < contact->social_profiles->len; i++) {
		const VcardSocialProfile *other = g_ptr_array_index(contact->social_profiles, i);
		if (g_strcmp0(other->type, type) == 0 && g_strcmp0(other->user, user) == 0 &&
		    g_strcmp0(other->uri, uri) == 0) {
			g_free(type);
			g_free(user);
			g_free(uri);
			return;
		}
	}
	VcardSocialProfile *profile = g_new0(VcardSocialProfile, 1);
	profile->type = type;
	profile->user = user;
	profile->uri = uri;
	g_ptr_array_add(contact->social_profiles, profile);
}

/* The TYPE value of a social profile that names a service (not pref/home). */
static char *service_type(const Prop *prop)
{
	static const char *const generic[] = { "PREF", "HOME", "WORK", "INTERNET", "OTHER", "PERSONAL", "MOBILE" };

	for (guint i = 0; prop->params && i < prop->params->len; i++) {
		const Param *param = g_ptr_array_index(prop->params, i);
		if (strcmp(param->name, "TYPE") != 0)
			continue;
		g_auto(GStrv) values = g_strsplit(param->value, ",", -1);
		for (guint k = 0; values[k]; k++) {
			gboolean is_generic = !*values[k];
			for (gsize g = 0; g < G_N_ELEMENTS(generic); g++)
				if (g_ascii_strcasecmp(values[k], generic[g]) == 0)
					is_generic = TRUE;
			if (!is_generic)
				return g_strdup(values[k]);
		}
	}
	return NULL;
}

static gboolean is_cjk(const char *s)
{
	for (; s && *s; s = g_utf8_next_char(s)) {
		switch (g_unichar_get_script(g_utf8_get_char(s))) {
		case G_UNICODE_SCRIPT_HAN:
		case G_UNICODE_SCRIPT_HIRAGANA:
		case G_UNICODE_SCRIPT_KATAKANA:
		case G_UNICODE_SCRIPT_HANGUL:
			return TRUE;
		default:
			break;
		}
	}
	return FALSE;
}

static char *email_clean(char *email)
{
	email = tidy(email);
	if (!email)
		return NULL;
	if (g_ascii_strncasecmp(email, "mailto:", 7) == 0)
		memmove(email, email + 7, strlen(email + 7) + 1);
	/* "Name" <address> */
	char *lt = strrchr(email, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && memchr(lt, '@', gt - lt)) {
		memmove(email, lt + 1, gt - lt - 1);
		email[gt - lt - 1] = '\0';
	}
	return tidy(email);
}

static VcardContact *contact_new(void)
{
	VcardContact *contact = g_new0(VcardContact, 1);

	contact->org_units = g_ptr_array_new_with_free_func(g_free);
	contact->nicknames = g_ptr_array_new_with_free_func(g_free);
	contact->emails = g_ptr_array_new_with_free_func(g_free);
	contact->tels = g_ptr_array_new_with_free_func(g_free);
	contact->urls = g_ptr_array_new_with_free_func(g_free);
	contact->categories = g_ptr_array_new_with_free_func(g_free);
	contact->social_profiles = g_ptr_array_new_with_free_func((GDestroyNotify)social_free);
	return contact;
}

void vcard_contact_free(VcardContact *contact)
{
	if (!contact)
		return;
	g_free(contact->fn);
	g_free(contact->n_family);
	g_free(contact->n_given);
	g_free(contact->n_additional);
	g_free(contact->n_prefix);
	g_free(contact->n_suffix);
	g_free(contact->phonetic_family);
	g_free(contact->phonetic_given);
	g_free(contact->phonetic_full);
	g_free(contact->org_name);
	g_ptr_array_unref(contact->org_units);
	g_free(contact->title);
	g_free(contact->nickname);
	g_ptr_array_unref(contact->nicknames);
	g_free(contact->note);
	g_free(contact->uid);
	g_free(contact->kind);
	g_free(contact->rev);
	g_ptr_array_unref(contact->emails);
	g_ptr_array_unref(contact->tels);
	g_ptr_array_unref(contact->urls);
	g_ptr_array_unref(contact->categories);
	g_ptr_array_unref(contact->social_profiles);
	g_free(contact->bday);
	g_free(contact->anniversary);
	g_free(contact->photo_mediatype);
	g_free(contact->photo_sha256);
	g_free(contact->photo_uri);
	g_free(contact->file);
	g_free(contact);
}

/* A reading split into family and given (";"), or whole. */
typedef struct {
	char *family, *given, *full; /* owned */
} Reading;

static void reading_clear(Reading *reading)
{
	g_clear_pointer(&reading->family, g_free);
	g_clear_pointer(&reading->given, g_free);
	g_clear_pointer(&reading->full, g_free);
}

static gboolean reading_set(Reading *reading)
{
	return reading->family || reading->given || reading->full;
}

/* Reads TEXT, which it unescapes in place. */
static void reading_parse(Reading *reading, char *text, char sep)
{
	reading_clear(reading);
	if (strchr(text, sep)) {
		char *cursor = text;
		reading->family = nfkc(trimmed(part_next(&cursor, sep)));
		reading->given = nfkc(trimmed(part_next(&cursor, sep)));
	} else {
		reading->full = nfkc(unescape(text));
	}
}

/* Builds the contact; returns NULL (and says why) when the card has no
 * name nor anything else to know the person by. */
static VcardContact *card_to_contact(Parser *ps, Card *card, const char **why)
{
	g_autoptr(GHashTable) labels = NULL;
	const char *fallback = card->charset ? card->charset : ps->charset;
	VcardContact *contact = contact_new();
	gboolean have_n = FALSE, have_org = FALSE, show_as_company = FALSE;
	g_autofree char *other_anniversary = NULL;
	Reading phonetic = { 0 }, irmc = { 0 }, sort_as = { 0 }, sort_string = { 0 };
	GString *note = NULL;

	/* Apple's itemN.X-ABLabel names the other itemN properties. */
	for (guint i = 0; i < card->props->len; i++) {
		const Prop *prop = g_ptr_array_index(card->props, i);
		if (!prop->group || prop->kind != PROP_X_ABLABEL)
			continue;
		if (!labels)
			labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		if (!g_hash_table_contains(labels, prop->group)) {
			char *label = label_clean(prop_utf8(prop, fallback));
			if (label)
				g_hash_table_insert(labels, g_strdup(prop->group), label);
		}
	}

	/* TEXT is unescaped in place, and taken where a field keeps it whole. */
	for (guint i = 0; i < card->props->len; i++) {
		const Prop *prop = g_ptr_array_index(card->props, i);
		const char *label = prop->group && labels ? g_hash_table_lookup(labels, prop->group) : NULL;
		g_autofree char *text = prop_utf8(prop, fallback);
		char *cursor = text;

		switch (prop->kind) {
		case PROP_FN:
			if (!contact->fn)
				contact->fn = tidy(unescape(g_steal_pointer(&text)));
			break;
		case PROP_N: {
			if (have_n)
				continue;
			contact->n_family = part_dup(&cursor, ';');
			contact->n_given = part_dup(&cursor, ';');
			contact->n_additional = part_dup(&cursor, ';');
			contact->n_prefix = part_dup(&cursor, ';');
			contact->n_suffix = part_dup(&cursor, ';');
			have_n = contact->n_family || contact->n_given || contact->n_additional ||
				 contact->n_prefix || contact->n_suffix;
			g_autofree char *sort = param_utf8(prop, "SORT-AS", fallback);
			if (sort && *sort) {
				/* RFC 6350 separates the parts with ',', phones write ';' */
				reading_parse(&sort_as, sort, strchr(sort, ';') ? ';' : ',');
				if (sort_as.full) {
					sort_as.family = g_steal_pointer(&sort_as.full);
				}
				/* the same as the name itself says nothing */
				if (g_strcmp0(sort_as.family, contact->n_family) == 0 &&
				    g_strcmp0(sort_as.given, contact->n_given) == 0)
					reading_clear(&sort_as);
			}
			break;
		}
		case PROP_ORG: {
			if (have_org)
				continue;
			char *unit;
			contact->org_name = part_dup(&cursor, ';');
			while ((unit = part_next(&cursor, ';')))
				if (trimmed(unit))
					g_ptr_array_add(contact->org_units, g_strdup(unit));
			have_org = contact->org_name || contact->org_units->len > 0;
			break;
		}
		case PROP_TITLE:
			if (!contact->title)
				contact->title = tidy(unescape(g_steal_pointer(&text)));
			break;
		case PROP_NICKNAME:
			while (cursor)
				add_unique(contact->nicknames, part_dup(&cursor, ','), FALSE);
			break;
		case PROP_NOTE: {
			const char *value = trimmed(unescape(text));
			if (value) {
				if (!note)
					note = g_string_new(value);
				else
					g_string_append_printf(note, "\n%s", value);
			}
			break;
		}
		case PROP_UID:
			if (!contact->uid)
				contact->uid = tidy(unescape(g_steal_pointer(&text)));
			break;
		case PROP_KIND:
			if (!contact->kind) {
				const char *kind = trimmed(unescape(text));
				if (kind)
					contact->kind = g_utf8_strdown(kind, -1);
			}
			break;
		case PROP_X_ABSHOWAS:
			show_as_company = g_ascii_strcasecmp(g_strstrip(text), "COMPANY") == 0;
			break;
		case PROP_REV:
			if (!contact->rev)
				contact->rev = tidy(unescape(g_steal_pointer(&text)));
			break;
		case PROP_EMAIL:
			add_unique(contact->emails, email_clean(unescape(g_steal_pointer(&text))), TRUE);
			break;
		case PROP_TEL: {
			char *tel = tidy(unescape(g_steal_pointer(&text)));
			if (tel && g_ascii_strncasecmp(tel, "tel:", 4) == 0) {
				memmove(tel, tel + 4, strlen(tel + 4) + 1);
				tel = tidy(tel);
			}
			add_unique(contact->tels, tel, FALSE);
			break;
		}
		case PROP_URL:
			add_unique(contact->urls, tidy(unescape(g_steal_pointer(&text))), FALSE);
			break;
		case PROP_BDAY:
		case PROP_ANNIVERSARY: {
			const char *value_type = param_get(prop->params, "VALUE");
			if (value_type && g_ascii_strcasecmp(value_type, "text") == 0)
				continue; /* "circa 1800" */
			char **slot = prop->kind == PROP_BDAY ? &contact->bday : &contact->anniversary;
			if (!*slot)
				*slot = parse_date(text);
			break;
		}
		case PROP_X_ABDATE:
			if (!label || g_ascii_strcasecmp(label, "Anniversary") != 0)
				break;
			G_GNUC_FALLTHROUGH;
		case PROP_X_ANNIVERSARY:
			if (!other_anniversary)
				other_anniversary = parse_date(text);
			break;
		case PROP_CATEGORIES:
			while (cursor)
				add_unique(contact->categories, part_dup(&cursor, ','), FALSE);
			break;
		case PROP_X_SOCIALPROFILE: {
			char *uri = tidy(unescape(g_steal_pointer(&text)));
			char *type = service_type(prop);
			char *user = param_utf8(prop, "X-USER", fallback);
			if (!type && label)
				type = g_strdup(label);
			if (!type && uri)
				type = social_type_from_uri(uri);
			if (!user && uri && g_str_has_prefix(uri, "x-apple:"))
				user = g_strdup(uri + 8);
			social_add(contact, type, user, uri);
			break;
		}
		case PROP_IMPP: {
			char *uri = tidy(unescape(g_steal_pointer(&text)));
			char *type = param_utf8(prop, "X-SERVICE-TYPE", fallback);
			char *user = NULL;
			const char *colon = uri ? strchr(uri, ':') : NULL;
			if (!type && label)
				type = g_strdup(label);
			if (colon) {
				if (!type)
					type = g_strndup(uri, colon - uri);
				const char *rest = colon + 1;
				while (*rest == '/')
					rest++;
				user = g_strdup(rest);
			}
			social_add(contact, type, user, uri);
			break;
		}
		case PROP_X_PHONETIC_FIRST_NAME:
			if (!phonetic.given)
				phonetic.given = nfkc(unescape(text));
			break;
		case PROP_X_PHONETIC_LAST_NAME:
			if (!phonetic.family)
				phonetic.family = nfkc(unescape(text));
			break;
		case PROP_SORT_STRING:
			if (!reading_set(&sort_string))
				sort_string.full = nfkc(unescape(text));
			break;
		case PROP_SOUND:
			/* SOUND;X-IRMC-N: the reading of N in half-width katakana */
			if (param_has(prop->params, "TYPE", "X-IRMC-N") && !reading_set(&irmc))
				reading_parse(&irmc, text, ';');
			break;
		case PROP_X_ANDROID_CUSTOM: {
			/* vnd.android.cursor.item/nickname;Nick;1;;; */
			const char *mimetype = part_next(&cursor, ';');
			char *nickname = part_next(&cursor, ';');
			if (nickname && strcmp(mimetype, "vnd.android.cursor.item/nickname") == 0)
				add_unique(contact->nicknames, g_strdup(trimmed(nickname)), FALSE);
			break;
		}
		case PROP_X_MESSAGING: {
			/* KDE: X-messaging/twitter-All:user */
			const char *service = prop->name + strlen(X_MESSAGING);
			char *user = tidy(unescape(g_steal_pointer(&text)));
			social_add(contact, g_strndup(service, strcspn(service, "-")), user, NULL);
			break;
		}
		case PROP_SOCIAL: {
			const char *type = social_props[prop->social].type;
			char *value = tidy(unescape(g_steal_pointer(&text)));
			if (value && strstr(value, "://"))
				social_add(contact, g_strdup(type), NULL, value);
			else
				social_add(contact, g_strdup(type), value, NULL);
			break;
		}
		default:
			break;
		}
	}

	if (note)
		contact->note = g_string_free(note, FALSE);
	if (contact->nicknames->len > 0)
		contact->nickname = g_strdup(g_ptr_array_index(contact->nicknames, 0));
	if (!contact->anniversary)
		contact->anniversary = g_steal_pointer(&other_anniversary);
	if (!contact->kind && show_as_company)
		contact->kind = g_strdup("org");

	/* The reading: Apple/Google's phonetic fields, else the 2.1 phones'
	 * SOUND;X-IRMC-N, else 4.0 SORT-AS, else SORT-STRING. */
	Reading *readings[] = { &phonetic, &irmc, &sort_as, &sort_string };
	for (gsize k = 0; k < G_N_ELEMENTS(readings); k++) {
		if (!reading_set(readings[k]))
			continue;
		contact->phonetic_family = g_steal_pointer(&readings[k]->family);
		contact->phonetic_given = g_steal_pointer(&readings[k]->given);
		if (!contact->phonetic_family && !contact->phonetic_given)
			contact->phonetic_full = g_steal_pointer(&readings[k]->full);
		break;
	}
	for (gsize k = 0; k < G_N_ELEMENTS(readings); k++)
		reading_clear(readings[k]);

	if (!contact->fn && !have_n && !have_org && contact->emails->len == 0) {
		*why = "card has no FN, N, ORG or EMAIL, skipped";
		vcard_contact_free(contact);
		return NULL;
	}

	/* No FN: "given family", or "family given" for a CJK name; else the
	 * organisation (a company's card). */
	if (!contact->fn && (contact->n_family || contact->n_given)) {
		if (contact->n_family && contact->n_given)
			contact->fn = is_cjk(contact->n_family) || is_cjk(contact->n_given)
					      ? g_strdup_printf("%s %s", contact->n_family, contact->n_given)
					      : g_strdup_printf("%s %s", contact->n_given, contact->n_family);
		else
			contact->fn = g_strdup(contact->n_family ? contact->n_family : contact->n_given);
	}
	if (!contact->fn && contact->org_name)
		contact->fn = g_strdup(contact->org_name);

	if (card->photo.present) {
		contact->has_photo = TRUE;
		contact->photo_mediatype = g_steal_pointer(&card->photo.mediatype);
		contact->photo_bytes = card->photo.bytes;
		contact->photo_sha256 = g_steal_pointer(&card->photo.sha256);
		contact->photo_uri = g_steal_pointer(&card->photo.uri);
	}
	return contact;
}

/* --- the card state machine --------------------------------------------- */

static void parser_add_error(Parser *ps, ParseError *error)
{
	if (!ps->errors)
		ps->errors = parse_errors_new();
	g_ptr_array_add(ps->errors, error);
}

static void parser_error(Parser *ps, guint line, const char *message)
{
	parser_add_error(ps, parse_error_new(ps->file, line, "%s", message));
}

/* Turns a complete top-level card into a contact or an error; frees it. */
static void card_finish(Parser *ps, Card *card)
{
	guint index = ps->finished++;

	if (card->charset) {
		g_free(ps->charset);
		ps->charset = g_strdup(card->charset);
	}
	if (card->drop_reason) {
		parser_error(ps, card->begin_line, card->drop_reason);
		card_free(card);
		return;
	}

	const char *why = NULL;
	VcardContact *contact = card_to_contact(ps, card, &why);
	while (card->errors && card->errors->len > 0)
		parser_add_error(ps, g_ptr_array_steal_index(card->errors, 0));
	if (contact) {
		contact->file = g_strdup(ps->file);
		contact->line = card->begin_line;
		contact->index = index;
		g_ptr_array_add(ps->result->contacts, contact);
	} else {
		parser_error(ps, card->begin_line, why);
	}
	card_free(card);
}

/* The innermost card will never see its END: report it, and keep the
 * complete cards found inside it. */
static void card_unclosed(Parser *ps)
{
	Card *card = ps->stack[--ps->depth];
	Card *parent = ps->depth > 0 ? ps->stack[ps->depth - 1] : NULL;

	ps->finished++;
	parser_error(ps, card->begin_line, "card has no END:VCARD, skipped");
	while (card->nested && card->nested->len > 0) {
		Card *inner = g_ptr_array_steal_index(card->nested, 0);
		if (parent)
			card_add_nested(parent, inner);
		else
			card_finish(ps, inner);
	}
	card_free(card);
}

static void card_begin(Parser *ps, guint line)
{
	if (ps->cards >= VCARD_MAX_CARDS) {
		g_autofree char *message = g_strdup_printf("more than %d cards, ignoring the rest", VCARD_MAX_CARDS);
		parser_error(ps, line, message);
		ps->stopped = TRUE;
		return;
	}
	ps->cards++;
	if (ps->depth >= VCARD_MAX_NESTING)
		card_unclosed(ps);
	ps->stack[ps->depth++] = card_new(line);
	ps->in_stray = FALSE;
}

static void card_end(Parser *ps)
{
	Card *card = ps->stack[--ps->depth];

	if (ps->depth == 0)
		/* cards nested in a card that ended well were its agents */
		card_finish(ps, card);
	else
		card_add_nested(ps->stack[ps->depth - 1], card);
}

static gboolean value_is(const char *value, const char *word)
{
	while (g_ascii_isspace(*value))
		value++;
	gsize n = strlen(word);
	if (g_ascii_strncasecmp(value, word, n) != 0)
		return FALSE;
	for (value += n; *value; value++)
		if (!g_ascii_isspace(*value))
			return FALSE;
	return TRUE;
}

static int error_by_line(gconstpointer a, gconstpointer b)
{
	const ParseError *ea = *(ParseError *const *)a, *eb = *(ParseError *const *)b;
	return ea->line < eb->line ? -1 : ea->line > eb->line;
}

/* UTF-16 (with a BOM, or plainly "B\0E\0G\0" / "\0B\0E\0G") to UTF-8. */
static char *utf16_to_utf8(const char *data, gsize len, gsize *out_len)
{
	const char *from = NULL;
	gsize skip = 0;

	if (len >= 2 && (guchar)data[0] == 0xff && (guchar)data[1] == 0xfe)
		from = "UTF-16LE", skip = 2;
	else if (len >= 2 && (guchar)data[0] == 0xfe && (guchar)data[1] == 0xff)
		from = "UTF-16BE", skip = 2;
	else if (len >= 4 && data[0] && !data[1] && data[2] && !data[3])
		from = "UTF-16LE";
	else if (len >= 4 && !data[0] && data[1] && !data[2] && data[3])
		from = "UTF-16BE";
	if (!from)
		return NULL;
	char *text = charset_to_utf8(data + skip, len - skip, from, NULL);
	if (text)
		*out_len = strlen(text);
	return text;
}

void vcard_parse_buffer(const char *data, gsize len, const char *file, VcardResult *result)
{
	g_autofree char *converted = NULL;
	gsize converted_len = 0;
	Parser ps = { 0 };
	Logical lg = { 0 };

	g_return_if_fail(result != NULL);
	if (!data || len == 0)
		return;
	if ((converted = utf16_to_utf8(data, len, &converted_len))) {
		data = converted;
		len = converted_len;
	}

	ps.file = file;
	ps.end = data + len;
	ps.pos.p = data;
	ps.pos.number = 1;
	ps.result = result;

	while (!ps.stopped && read_logical(&ps, &lg)) {
		Card *card = ps.depth > 0 ? ps.stack[ps.depth - 1] : NULL;

		if (!lg.no_colon && !lg.bad_name && !lg.streamed &&
		    ((lg.kind == PROP_BEGIN && value_is(logical_value(&lg), "VCARD")) ||
		     (card && lg.kind == PROP_AGENT && value_is(logical_value(&lg), "BEGIN:VCARD")))) {
			card_begin(&ps, lg.line);
		} else if (card && !lg.no_colon && !lg.streamed && lg.kind == PROP_END &&
			   value_is(logical_value(&lg), "VCARD")) {
			card_end(&ps);
		} else if (card) {
			card_add(&ps, card, &lg);
		} else if (!lg.no_colon && !ps.in_stray) {
			parser_error(&ps, lg.line, "text outside of BEGIN:VCARD … END:VCARD, ignoring");
			ps.in_stray = TRUE;
		}
		logical_clear(&lg);
	}
	logical_free(&lg);
	while (ps.depth > 0)
		card_unclosed(&ps);

	if (ps.errors) {
		g_ptr_array_sort(ps.errors, error_by_line);
		g_ptr_array_extend_and_steal(result->errors, g_steal_pointer(&ps.errors));
	}
	g_free(ps.charset);
}

/* --- files and folders --------------------------------------------------- */

VcardResult *vcard_result_new(void)
{
	VcardResult *result = g_new0(VcardResult, 1);

	result->contacts = g_ptr_array_new_with_free_func((GDestroyNotify)vcard_contact_free);
	result->errors = parse_errors_new();
	return result;
}

void vcard_result_free(VcardResult *result)
{
	if (!result)
		return;
	g_ptr_array_unref(result->contacts);
	g_ptr_array_unref(result->errors);
	g_free(result);
}

/* Reads a regular file of at most VCARD_MAX_FILE_BYTES. */
static gboolean read_file(const char *path, char **data, gsize *len, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot open %s: %s", path,
			    g_strerror(saved));
		return FALSE;
	}

	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
		close(fd);
		return FALSE;
	}
	if (st.st_size > VCARD_MAX_FILE_BYTES) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s is larger than %d bytes", path,
			    VCARD_MAX_FILE_BYTES);
		close(fd);
		return FALSE;
	}

	GByteArray *buffer = g_byte_array_sized_new(st.st_size + 1);
	guint8 chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "cannot read %s: %s", path,
				    g_strerror(saved));
			g_byte_array_unref(buffer);
			close(fd);
			return FALSE;
		}
		if (n == 0)
			break;
		if (buffer->len + n > VCARD_MAX_FILE_BYTES) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s is larger than %d bytes", path,
				    VCARD_MAX_FILE_BYTES);
			g_byte_array_unref(buffer);
			close(fd);
			return FALSE;
		}
		g_byte_array_append(buffer, chunk, n);
	}
	close(fd);
	*len = buffer->len;
	*data = (char *)g_byte_array_free(buffer, FALSE);
	return TRUE;
}

static gboolean parse_file(const char *path, VcardResult *result, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!read_file(path, &data, &len, error))
		return FALSE;
	vcard_parse_buffer(data, len, path, result);
	return TRUE;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean vcard_parse_path(const char *path, VcardResult *result, GError **error)
{
	g_return_val_if_fail(path != NULL && result != NULL, FALSE);

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return parse_file(path, result, error);

	g_autoptr(GDir) dir = g_dir_open(path, 0, error);
	if (!dir)
		return FALSE;

	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	while ((name = g_dir_read_name(dir))) {
		gsize n = strlen(name);
		if (n < 4 || g_ascii_strcasecmp(name + n - 4, ".vcf") != 0 || name[0] == '.')
			continue;
		if (names->len >= VCARD_MAX_VDIR_FILES) {
			g_ptr_array_add(result->errors,
					parse_error_new(path, 0, "more than %d .vcf files, ignoring the rest",
							VCARD_MAX_VDIR_FILES));
			break;
		}
		g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, compare_names);

	for (guint i = 0; i < names->len; i++) {
		g_autofree char *file = g_build_filename(path, g_ptr_array_index(names, i), NULL);
		g_autoptr(GError) file_error = NULL;
		if (g_file_test(file, G_FILE_TEST_IS_DIR))
			continue;
		if (!parse_file(file, result, &file_error))
			g_ptr_array_add(result->errors, parse_error_new(file, 0, "%s", file_error->message));
	}
	return TRUE;
}

/* --- JSON --------------------------------------------------------------- */

static void add_strings(JsonBuilder *builder, const char *name, const GPtrArray *values)
{
	json_builder_set_member_name(builder, name);
	json_builder_begin_array(builder);
	for (guint i = 0; values && i < values->len; i++)
		json_builder_add_string_value(builder, g_ptr_array_index(values, i));
	json_builder_end_array(builder);
}

static void add_contact(JsonBuilder *builder, const VcardContact *c)
{
	json_builder_begin_object(builder);
	json_builder_add_string_member(builder, "fn", c->fn);

	json_builder_set_member_name(builder, "n");
	json_builder_begin_object(builder);
	json_builder_add_string_member(builder, "family", c->n_family);
	json_builder_add_string_member(builder, "given", c->n_given);
	json_builder_add_string_member(builder, "additional", c->n_additional);
	json_builder_add_string_member(builder, "prefix", c->n_prefix);
	json_builder_add_string_member(builder, "suffix", c->n_suffix);
	json_builder_end_object(builder);

	json_builder_set_member_name(builder, "phonetic");
	if (c->phonetic_family || c->phonetic_given) {
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "family", c->phonetic_family);
		json_builder_add_string_member(builder, "given", c->phonetic_given);
		json_builder_end_object(builder);
	} else if (c->phonetic_full) {
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "full", c->phonetic_full);
		json_builder_end_object(builder);
	} else {
		json_builder_add_null_value(builder);
	}

	json_builder_set_member_name(builder, "org");
	if (c->org_name || (c->org_units && c->org_units->len > 0)) {
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "name", c->org_name);
		add_strings(builder, "units", c->org_units);
		json_builder_end_object(builder);
	} else {
		json_builder_add_null_value(builder);
	}

	json_builder_add_string_member(builder, "title", c->title);
	json_builder_add_string_member(builder, "nickname", c->nickname);
	json_builder_add_string_member(builder, "note", c->note);
	json_builder_add_string_member(builder, "uid", c->uid);
	json_builder_add_string_member(builder, "kind", c->kind);
	json_builder_add_string_member(builder, "rev", c->rev);
	add_strings(builder, "emails", c->emails);
	add_strings(builder, "tels", c->tels);
	add_strings(builder, "urls", c->urls);

	json_builder_set_member_name(builder, "social_profiles");
	json_builder_begin_array(builder);
	for (guint i = 0; c->social_profiles && i < c->social_profiles->len; i++) {
		const VcardSocialProfile *profile = g_ptr_array_index(c->social_profiles, i);
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "type", profile->type);
		json_builder_add_string_member(builder, "user", profile->user);
		json_builder_add_string_member(builder, "uri", profile->uri);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);

	add_strings(builder, "categories", c->categories);
	json_builder_add_string_member(builder, "bday", c->bday);
	json_builder_add_string_member(builder, "anniversary", c->anniversary);

	json_builder_set_member_name(builder, "photo");
	if (c->has_photo) {
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "mediatype", c->photo_mediatype);
		json_builder_set_member_name(builder, "bytes");
		json_builder_add_int_value(builder, c->photo_bytes);
		json_builder_add_string_member(builder, "sha256", c->photo_sha256);
		json_builder_add_string_member(builder, "uri", c->photo_uri);
		json_builder_end_object(builder);
	} else {
		json_builder_add_null_value(builder);
	}
	json_builder_end_object(builder);
}

JsonNode *vcard_result_to_json(const VcardResult *result)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "contacts");
	json_builder_begin_array(builder);
	for (guint i = 0; result && i < result->contacts->len; i++)
		add_contact(builder, g_ptr_array_index(result->contacts, i));
	json_builder_end_array(builder);
	json_builder_set_member_name(builder, "errors");
	json_builder_add_value(builder, parse_errors_to_json(result ? result->errors : NULL));
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}
