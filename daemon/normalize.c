/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "normalize.h"

/* Company forms, written as they look after NFKC and case folding, without a
 * trailing dot (dots at the ends are trimmed before matching, so "Inc." and
 * "Inc" both meet "inc"). Japanese forms stand before the name (前株) or
 * after it (後株) and touch it without a space. */
static const char *const org_forms_japanese[] = {
	"株式会社", "(株)", "有限会社", "(有)", "合同会社", "(同)", "合資会社", "(資)",
	"合名会社", "(名)", "一般社団法人", "(一社)", "一般財団法人", "(一財)",
	"公益社団法人", "(公社)", "公益財団法人", "(公財)", "(社)", "(財)",
	"特定非営利活動法人", "npo法人",
};

/* Latin forms are suffixes only and must stand as their own word: taken from
 * the start they would eat real names ("AG Barr", "Co-op", "Limited Brands"),
 * and without a word boundary "Bag" would lose its "ag". */
static const char *const org_forms_latin[] = {
	"incorporated", "inc", "corporation", "corp", "company", "co", "limited", "ltd",
	"llc", "l.l.c", "llp", "gmbh", "kg", "ag", "s.a", "k.k", "kk", "g.k", "plc",
	"pty", "pte", "b.v", "n.v",
};

/* Characters that NFKC and case folding leave as they are, but for ASCII
 * letters' case: ASCII, the kana (not the combining or half-width ones),
 * the CJK unified ideographs and the common Japanese punctuation. Each is
 * a starter that nothing before it composes with, so folding never reaches
 * back across one (case folding goes character by character, ß → ss
 * included): text folds piece by piece, split before any of them. The most
 * frequent are tested first. */
static inline gboolean stable_char(gunichar c)
{
	return c < 0x80 || (c >= 0x3041 && c <= 0x3096) || (c >= 0x4E00 && c <= 0x9FFF) ||
	       (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC || (c >= 0x3001 && c <= 0x3002) ||
	       (c >= 0x300C && c <= 0x300F);
}

/* The length of the stable character at P (not at its end), 0 when another
 * character or an invalid sequence starts there. Past ASCII they are all
 * U+3001-U+9FFF, three bytes led by E3-E9: nothing to decode for the rest. */
static inline gsize stable_len(const char *p)
{
	const guchar *b = (const guchar *)p;

	if (b[0] < 0x80)
		return 1;
	/* A continuation byte (80-BF) XOR 0x80 is below 0x40; the NUL is not,
	 * so B[2] is read only within the text. */
	if (b[0] < 0xE3 || b[0] > 0xE9 || (b[1] ^ 0x80) >= 0x40 || (b[2] ^ 0x80) >= 0x40)
		return 0;
	return stable_char((gunichar)(b[0] & 0x0F) << 12 | (gunichar)(b[1] & 0x3F) << 6 | (b[2] & 0x3F)) ? 3 : 0;
}

/* NFKC first so that full-width and compatibility letters fold, and again
 * after folding, which can leave text that is not in normal form. Invalid
 * bytes become U+FFFD as g_utf8_make_valid() of the whole text makes them:
 * its repair steps over one bad byte or one valid character at a time, and
 * a stable character starts with no continuation byte, so it is never
 * inside either. */
static char *fold_piece(const char *start, const char *end)
{
	gssize len = end - start;
	g_autofree char *valid = g_utf8_validate_len(start, len, NULL) ? NULL : g_utf8_make_valid(start, len);
	g_autofree char *nfkc = valid ? g_utf8_normalize(valid, -1, G_NORMALIZE_NFKC)
				      : g_utf8_normalize(start, len, G_NORMALIZE_NFKC);
	g_autofree char *folded = g_utf8_casefold(nfkc, -1);

	return g_utf8_normalize(folded, -1, G_NORMALIZE_NFKC);
}

/* Stable characters are copied (ASCII lower-cased), and the rest folded in
 * pieces that run up to the next stable character, each with the stable
 * character before it, which a combining mark may join (か + U+3099 or
 * half-width ﾞ is が). Most text is all stable, and in the rest only the
 * pieces around a full-width ！ or an é take the four passes and their
 * allocations. The key is as long as the text but for the pieces: written
 * in one buffer, grown only for them. */
char *normalize_fold(const char *text)
{
	if (!text)
		return g_strdup("");
	gsize len = strlen(text), size = len + 1;
	char *key = g_malloc(size), *w = key;
	const char *p = text;

	while (*p) {
		guchar byte = *p;
		if (byte < 0x80) {
			*w++ = byte >= 'A' && byte <= 'Z' ? byte + ('a' - 'A') : byte;
			p++;
			continue;
		}
		gsize n = stable_len(p);
		if (n) {
			memcpy(w, p, n);
			w += n;
			p += n;
			continue;
		}
		/* Pieces end before a stable character, so one stands before P
		 * unless P is the start: take back its copy. */
		const char *start = p;
		if (p > text) {
			start = g_utf8_prev_char(p);
			w -= p - start;
		}
		/* Byte by byte, for invalid bytes; a valid character's later
		 * bytes are never taken for a stable one. */
		while (*p && !stable_len(p))
			p++;
		g_autofree char *piece = fold_piece(start, p);
		gsize piece_len = strlen(piece), at = w - key;
		gsize need = at + piece_len + (len - (p - text)) + 1;
		if (need > size) {
			size = need + need / 4;
			key = g_realloc(key, size);
			w = key + at;
		}
		memcpy(w, piece, piece_len);
		w += piece_len;
	}
	*w = '\0';
	return key;
}

gboolean text_is_id(const char *text)
{
	if (!*text)
		return FALSE;
	for (const char *p = text; *p; p++)
		if (!g_ascii_isdigit(*p))
			return FALSE;
	return TRUE;
}

const char *text_cut_point(const char *text, gsize max_chars)
{
	const char *p = text;

	for (gsize n = 0; *p && n < max_chars; n++)
		p = g_utf8_next_char(p);
	return p;
}

char *text_shorten(const char *text, gsize max_chars)
{
	if (!text)
		return NULL;
	const char *cut = text_cut_point(text, max_chars);
	if (!*cut)
		return g_strdup(text);
	static const char ellipsis[] = "…";
	gsize kept = cut - text;
	char *out = g_malloc(kept + sizeof ellipsis);
	memcpy(out, text, kept);
	memcpy(out + kept, ellipsis, sizeof ellipsis);
	return out;
}

/* White space and invisible format characters (zero-width space, BOM, soft
 * hyphen) carry no identity. U+3000 is turned into U+0020 by NFKC already. */
static gboolean is_blank(gunichar c)
{
	GUnicodeType type = g_unichar_type(c);

	return g_unichar_isspace(c) || type == G_UNICODE_SPACE_SEPARATOR ||
	       type == G_UNICODE_FORMAT || type == G_UNICODE_CONTROL;
}

/* Stable characters past ASCII are letters and punctuation, never blank:
 * most of a Japanese name is kept without being decoded. */
static char *strip_blanks(const char *start, const char *end)
{
	char *out = g_malloc(end - start + 1), *w = out;

	for (const char *p = start; p < end;) {
		guchar byte = *p;
		gsize n = 1;
		gboolean keep;
		/* An ASCII character is blank when it is a space or a control. */
		if (byte < 0x80) {
			keep = byte > 0x20 && byte != 0x7F;
		} else if ((n = stable_len(p))) {
			keep = TRUE;
		} else {
			n = g_utf8_skip[byte];
			keep = !is_blank(g_utf8_get_char(p));
		}
		if (keep) {
			memcpy(w, p, n);
			w += n;
		}
		p += n;
	}
	*w = '\0';
	return out;
}

char *normalize_name(const char *name)
{
	g_autofree char *key = normalize_fold(name);

	return strip_blanks(key, key + strlen(key));
}

/* What may separate a company form from the name: "Example, Inc.",
 * "Example & Co.", "ABC・株式会社". */
static gboolean is_org_separator(gunichar c)
{
	return is_blank(c) || c == ',' || c == '.' || c == '&' || c == '-' || c == '/' ||
	       c == 0x3001 /* 、 */ || c == 0x3002 /* 。 */ || c == 0x30FB /* ・ */;
}

static void trim_separators(const char **start, const char **end)
{
	while (*start < *end && is_org_separator(g_utf8_get_char(*start)))
		*start = g_utf8_next_char(*start);
	while (*end > *start) {
		const char *prev = g_utf8_prev_char(*end);
		if (!is_org_separator(g_utf8_get_char(prev)))
			break;
		*end = prev;
	}
}

static gboolean has_prefix_len(const char *start, const char *end, const char *prefix, gsize n)
{
	return (gsize)(end - start) >= n && memcmp(start, prefix, n) == 0;
}

static gboolean has_suffix_len(const char *start, const char *end, const char *suffix, gsize n)
{
	return (gsize)(end - start) >= n && memcmp(end - n, suffix, n) == 0;
}

/* Removes one company form from either end of [*start, *end). */
static gboolean strip_one_form(const char **start, const char **end)
{
	for (gsize i = 0; i < G_N_ELEMENTS(org_forms_japanese); i++) {
		const char *form = org_forms_japanese[i];
		gsize n = strlen(form);
		if (has_prefix_len(*start, *end, form, n)) {
			*start += n;
			return TRUE;
		}
		if (has_suffix_len(*start, *end, form, n)) {
			*end -= n;
			return TRUE;
		}
	}
	for (gsize i = 0; i < G_N_ELEMENTS(org_forms_latin); i++) {
		const char *form = org_forms_latin[i];
		gsize n = strlen(form);
		/* Something must stand before the form, ending in a non-letter. */
		if ((gsize)(*end - *start) <= n || !has_suffix_len(*start, *end, form, n))
			continue;
		const char *before = g_utf8_prev_char(*end - n);
		if (g_unichar_isalnum(g_utf8_get_char(before)))
			continue;
		*end -= n;
		return TRUE;
	}
	return FALSE;
}

char *normalize_org(const char *org)
{
	g_autofree char *key = normalize_fold(org);
	const char *start = key, *end = key + strlen(key);

	trim_separators(&start, &end);
	const char *whole_start = start, *whole_end = end;

	/* Forms come stacked ("Co., Ltd.", "GmbH & Co. KG"): strip until none is
	 * left, trimming the punctuation that joined them each time. */
	while (strip_one_form(&start, &end))
		trim_separators(&start, &end);

	/* An organisation called only "株式会社" keeps a key of its own rather
	 * than matching every other empty one. */
	if (start == end)
		return strip_blanks(whole_start, whole_end);
	return strip_blanks(start, end);
}

char *normalize_email(const char *email)
{
	g_autofree char *key = normalize_fold(email);
	const char *start = key, *end = key + strlen(key);

	/* vCard URIs and copied links carry a "mailto:" in front. */
	while (start < end && is_blank(g_utf8_get_char(start)))
		start = g_utf8_next_char(start);
	if (has_prefix_len(start, end, "mailto:", strlen("mailto:")))
		start += strlen("mailto:");
	return strip_blanks(start, end);
}

/* Percent-escapes decoded where that gives text, so that a LinkedIn slug
 * written "%E5%B1%B1%E7%94%B0" and one written "山田" meet; "/" stays
 * escaped since it would change the path's shape. */
static char *unescape_path(const char *path)
{
	g_autofree char *unescaped = g_uri_unescape_string(path, "/");

	if (!unescaped || !g_utf8_validate(unescaped, -1, NULL))
		return g_strdup(path);
	for (const char *p = unescaped; *p; p++)
		if (g_ascii_iscntrl(*p))
			return g_strdup(path);
	return g_steal_pointer(&unescaped);
}

char *normalize_url(const char *url)
{
	g_autofree char *valid = g_utf8_make_valid(url ? url : "", -1);
	const char *start = valid, *end;

	while (*start && g_ascii_isspace(*start))
		start++;

	/* The scheme (http, https, or none at all) says nothing about the page. */
	const char *colon = strstr(start, "://");
	if (colon) {
		gboolean scheme = colon > start;
		for (const char *p = start; p < colon; p++)
			if (!g_ascii_isalnum(*p) && *p != '+' && *p != '-' && *p != '.')
				scheme = FALSE;
		if (scheme)
			start = colon + 3;
	} else if (g_str_has_prefix(start, "//")) {
		start += 2;
	}

	end = start + strcspn(start, "?#");
	while (end > start && g_ascii_isspace(end[-1]))
		end--;

	const char *host_end = start + strcspn(start, "/");
	if (host_end > end)
		host_end = end;

	g_autofree char *host = g_ascii_strdown(start, host_end - start);
	/* User info ("user@host") does not name a different page. */
	char *at = strrchr(host, '@');
	const char *host_name = at ? at + 1 : host;
	if (g_str_has_prefix(host_name, "www."))
		host_name += 4;
	/* The default ports are the same page. */
	gsize host_len = strlen(host_name);
	if (g_str_has_suffix(host_name, ":80"))
		host_len -= 3;
	else if (g_str_has_suffix(host_name, ":443"))
		host_len -= 4;

	/* jp.linkedin.com, m.linkedin.com and www.linkedin.com show one profile. */
	g_autofree char *host_key = g_strndup(host_name, host_len);
	gboolean linkedin = g_str_has_suffix(host_key, ".linkedin.com") ||
			    strcmp(host_key, "linkedin.com") == 0;
	if (linkedin) {
		g_free(host_key);
		host_key = g_strdup("linkedin.com");
	}

	g_autofree char *raw_path = g_strndup(host_end, end - host_end);
	g_autofree char *path = unescape_path(raw_path);
	gsize path_len = strlen(path);
	while (path_len > 0 && path[path_len - 1] == '/')
		path_len--;
	path[path_len] = '\0';

	/* LinkedIn profile slugs are case-insensitive; other paths may not be. */
	if (linkedin && g_str_has_prefix(path, "/in/")) {
		g_autofree char *lower = g_utf8_strdown(path, -1);
		return g_strconcat(host_key, lower, NULL);
	}
	return g_strconcat(host_key, path, NULL);
}
