/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "jobpost.h"
#include "log.h"
#include "normalize.h"

/* A rules file is a short list of phrases; anything far larger is a
 * mistake (a log file named by accident), not rules. */
#define JOBPOST_MAX_FILE_BYTES (1024 * 1024)
#define JOBPOST_MAX_RULES 10000u
#define JOBPOST_MAX_PHRASE_CHARS 200
#define JOBPOST_MAX_SEGMENTS 8u
/* What one * may stand for: enough for a company name or "15", little
 * enough that far-apart words of a long text do not pair up. */
#define JOBPOST_GLOB_MAX_CHARS 60

typedef enum {
	RULE_MOVE,
	RULE_EXCLUDE,
} RuleKind;

typedef struct {
	GPtrArray *segments; /* char*, normalised; the parts between the *s */
} Phrase;

/* Phrases indexed by the first two bytes of their first part, so that a
 * text is read once, not once per phrase (a post's text against 144
 * phrases was a tenth of a feed poll's time). */
typedef struct {
	GPtrArray *phrases;     /* Phrase* */
	GHashTable *by_start;   /* first two bytes -> GPtrArray of borrowed Phrase* */
	guint8 starts[65536 / 8]; /* bit set: some phrase starts with these two bytes */
} PhraseList;

struct JobpostRules {
	PhraseList moves;
	PhraseList excludes;
};

static void phrase_free(Phrase *phrase)
{
	if (!phrase)
		return;
	g_ptr_array_unref(phrase->segments);
	g_free(phrase);
}

static void phrase_list_init(PhraseList *list)
{
	list->phrases = g_ptr_array_new_with_free_func((GDestroyNotify)phrase_free);
	list->by_start = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
}

static void phrase_list_clear(PhraseList *list)
{
	g_ptr_array_unref(list->phrases);
	g_hash_table_unref(list->by_start);
}

/* P[1] may be the text's terminating NUL. */
static guint pair_at(const char *p)
{
	return (guint)(guchar)p[0] << 8 | (guchar)p[1];
}

static void index_start(PhraseList *list, guint pair, Phrase *phrase)
{
	GPtrArray *same = g_hash_table_lookup(list->by_start, GUINT_TO_POINTER(pair));

	if (!same) {
		same = g_ptr_array_new();
		g_hash_table_insert(list->by_start, GUINT_TO_POINTER(pair), same);
	}
	g_ptr_array_add(same, phrase);
	list->starts[pair / 8] |= 1u << (pair % 8);
}

/* A first part of one byte starts at every pair with that first byte. */
static void phrase_list_add(PhraseList *list, Phrase *phrase)
{
	const char *first = g_ptr_array_index(phrase->segments, 0);

	g_ptr_array_add(list->phrases, phrase);
	if (first[1]) {
		index_start(list, pair_at(first), phrase);
		return;
	}
	for (guint second = 0; second < 256; second++)
		index_start(list, (guint)(guchar)first[0] << 8 | second, phrase);
}

JobpostRules *jobpost_rules_new(void)
{
	JobpostRules *rules = g_new0(JobpostRules, 1);

	phrase_list_init(&rules->moves);
	phrase_list_init(&rules->excludes);
	return rules;
}

void jobpost_rules_free(JobpostRules *rules)
{
	if (!rules)
		return;
	phrase_list_clear(&rules->moves);
	phrase_list_clear(&rules->excludes);
	g_free(rules);
}

guint jobpost_rules_count(const JobpostRules *rules)
{
	return rules ? rules->moves.phrases->len + rules->excludes.phrases->len : 0;
}

/* What g_unichar_isspace() says of an ASCII character. */
static gboolean ascii_space(guchar byte)
{
	return byte == ' ' || (byte >= '\t' && byte <= '\r' && byte != '\v');
}

/* Whether the character at P (not ASCII) may be white space or a quote to
 * normalize_text(): all of those are below U+3001, U+3000 being the last
 * space. Kana and ideographs, most of a Japanese text, are not decoded. */
static gboolean maybe_space_or_quote(const char *p)
{
	const guchar *b = (const guchar *)p;

	return b[0] < 0xE3 || (b[0] == 0xE3 && b[1] == 0x80 && b[2] == 0x80);
}

/* The length of the white space character at P, 0 for another. */
static gsize space_len(const char *p)
{
	guchar byte = *p;

	if (byte < 0x80)
		return ascii_space(byte) ? 1 : 0;
	return maybe_space_or_quote(p) && g_unichar_isspace(g_utf8_get_char(p)) ? g_utf8_skip[byte] : 0;
}

/* NFKC, case folding, ’‘ as ', and every run of white space (full-width
 * space included, by NFKC) as one space. Never NULL. */
static char *normalize_text(const char *text)
{
	char *folded = normalize_fold(text);
	char *out = folded;        /* the text as it is kept ends here */
	const char *kept = folded; /* and goes on with [kept, p), not moved yet */
	const char *p = folded;

	/* In place: the text only shrinks (a run of spaces becomes one, a
	 * three-byte quote one byte). Most of it stays where it is, and is
	 * moved, if at all, a run at a time. */
	while (*p) {
		guchar byte = *p;
		if (byte < 0x80 ? !ascii_space(byte) : !maybe_space_or_quote(p)) {
			p += byte < 0x80 ? 1 : g_utf8_skip[byte];
			continue;
		}
		gsize n = space_len(p);
		if (n) {
			const char *end = p + n;
			while ((n = space_len(end)))
				end += n;
			/* One space between words is already what it should be. */
			if (end == p + 1 && byte == ' ' && p > folded && *end) {
				p = end;
				continue;
			}
			memmove(out, kept, p - kept);
			out += p - kept;
			if (p > folded && *end)
				*out++ = ' ';
			kept = p = end;
			continue;
		}
		n = g_utf8_skip[byte];
		gunichar c = g_utf8_get_char(p);
		if (c == 0x2019 || c == 0x2018 || c == 0x02BC) {
			memmove(out, kept, p - kept);
			out += p - kept;
			*out++ = '\'';
			kept = p + n;
		}
		p += n;
	}
	memmove(out, kept, p - kept);
	out[p - kept] = '\0';
	return folded;
}

/* The end of the window a * may span from P: JOBPOST_GLOB_MAX_CHARS
 * characters on, or the end of the field. */
static const char *glob_limit(const char *p, const char *end)
{
	for (int n = 0; p < end && n < JOBPOST_GLOB_MAX_CHARS; n++)
		p = g_utf8_next_char(p);
	return p;
}

static const char *find_in(const char *p, const char *end, const char *needle)
{
	return p > end ? NULL : memmem(p, (gsize)(end - p), needle, strlen(needle));
}

/* Segment K and the rest match, segment K starting within [P, LIMIT]. */
static gboolean match_rest(const Phrase *phrase, guint k, const char *p, const char *limit,
			   const char *end)
{
	if (k == phrase->segments->len)
		return TRUE;
	const char *seg = g_ptr_array_index(phrase->segments, k);
	gsize n = strlen(seg);

	for (const char *hit = find_in(p, end, seg); hit && hit <= limit; hit = find_in(hit + 1, end, seg))
		if (match_rest(phrase, k + 1, hit + n, glob_limit(hit + n, end), end))
			return TRUE;
	return FALSE;
}

/* Whether a phrase of LIST occurs in FIELD: at each place where one may
 * start, its first part, then the rest. */
static gboolean any_matches(const PhraseList *list, const char *field)
{
	const char *end = field + strlen(field);

	for (const char *p = field; p < end; p++) {
		guint pair = pair_at(p);
		if (!(list->starts[pair / 8] & (1u << (pair % 8))))
			continue;
		const GPtrArray *same = g_hash_table_lookup(list->by_start, GUINT_TO_POINTER(pair));
		for (guint i = 0; i < same->len; i++) {
			const Phrase *phrase = g_ptr_array_index(same, i);
			const char *first = g_ptr_array_index(phrase->segments, 0);
			gsize n = strlen(first);
			if ((gsize)(end - p) >= n && memcmp(p, first, n) == 0 &&
			    match_rest(phrase, 1, p + n, glob_limit(p + n, end), end))
				return TRUE;
		}
	}
	return FALSE;
}

gboolean jobpost_classify(const JobpostRules *rules, const char *title, const char *text)
{
	if (!rules || (!title && !text))
		return FALSE;
	g_autofree char *t = normalize_text(title);
	g_autofree char *body = normalize_text(text);

	if (any_matches(&rules->excludes, t))
		return FALSE;
	if (any_matches(&rules->moves, t))
		return TRUE;
	return any_matches(&rules->moves, body) && !any_matches(&rules->excludes, body);
}

static gboolean parse_kind(const char *word, RuleKind *kind)
{
	if (strcmp(word, "join") == 0 || strcmp(word, "leave") == 0 || strcmp(word, "move") == 0)
		*kind = RULE_MOVE;
	else if (strcmp(word, "exclude") == 0)
		*kind = RULE_EXCLUDE;
	else
		return FALSE;
	return TRUE;
}

/* Parses one line; NULL phrase and TRUE for blank and comment lines. */
static gboolean parse_line(char *line, RuleKind *kind, Phrase **phrase, char **why)
{
	*phrase = NULL;
	g_strstrip(line);
	if (!*line || *line == '#')
		return TRUE;

	char *colon = strchr(line, ':');
	if (!colon) {
		*why = g_strdup("expected \"KIND: PHRASE\"");
		return FALSE;
	}
	*colon = '\0';
	g_autofree char *word = g_ascii_strdown(g_strstrip(line), -1);
	if (!parse_kind(word, kind)) {
		*why = g_strdup_printf("unknown kind \"%s\" (join, leave, move or exclude)", word);
		return FALSE;
	}
	char *text = g_strstrip(colon + 1);
	if (g_utf8_strlen(text, -1) > JOBPOST_MAX_PHRASE_CHARS) {
		*why = g_strdup_printf("phrase longer than %d characters", JOBPOST_MAX_PHRASE_CHARS);
		return FALSE;
	}
	g_autofree char *norm = normalize_text(text);
	g_auto(GStrv) parts = g_strsplit(norm, "*", -1);
	g_autoptr(GPtrArray) segments = g_ptr_array_new_with_free_func(g_free);
	for (char **part = parts; *part; part++) {
		/* "after * years" keeps its spaces: they separate words. */
		if (**part && strspn(*part, " ") != strlen(*part))
			g_ptr_array_add(segments, g_strdup(*part));
	}
	if (segments->len == 0) {
		*why = g_strdup("empty phrase");
		return FALSE;
	}
	if (segments->len > JOBPOST_MAX_SEGMENTS) {
		*why = g_strdup_printf("more than %u parts between *", JOBPOST_MAX_SEGMENTS);
		return FALSE;
	}
	*phrase = g_new0(Phrase, 1);
	(*phrase)->segments = g_steal_pointer(&segments);
	return TRUE;
}

gboolean jobpost_rules_load_data(JobpostRules *rules, const char *data, gsize len,
				 const char *name, GError **error)
{
	const char *where = name ? name : "(rules)";

	if (!g_utf8_validate_len(data, len, NULL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: not a UTF-8 text file", where);
		return FALSE;
	}
	g_autofree char *copy = g_strndup(data, len);
	g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
	guint line_no = 0;

	for (char **line = lines; *line; line++) {
		RuleKind kind;
		Phrase *phrase;
		g_autofree char *why = NULL;

		line_no++;
		if (!parse_line(*line, &kind, &phrase, &why)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: %s", where, line_no, why);
			return FALSE;
		}
		if (!phrase)
			continue;
		if (jobpost_rules_count(rules) >= JOBPOST_MAX_RULES) {
			phrase_free(phrase);
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s:%u: more than %u rules",
				    where, line_no, JOBPOST_MAX_RULES);
			return FALSE;
		}
		phrase_list_add(kind == RULE_EXCLUDE ? &rules->excludes : &rules->moves, phrase);
	}
	return TRUE;
}

gboolean jobpost_rules_load_file(JobpostRules *rules, const char *path, GError **error)
{
	GStatBuf st;

	if (g_stat(path, &st) < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
			    g_strerror(saved));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: not a regular file", path);
		return FALSE;
	}
	if (st.st_size > JOBPOST_MAX_FILE_BYTES) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: larger than %d KiB", path,
			    JOBPOST_MAX_FILE_BYTES / 1024);
		return FALSE;
	}
	g_autofree char *data = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	if (len > JOBPOST_MAX_FILE_BYTES) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: larger than %d KiB", path,
			    JOBPOST_MAX_FILE_BYTES / 1024);
		return FALSE;
	}
	return jobpost_rules_load_data(rules, data, len, path, error);
}

JobpostRules *jobpost_rules_load_default(void)
{
	JobpostRules *rules = jobpost_rules_new();
	g_autofree char *user = g_build_filename(g_get_user_config_dir(), "ties", "jobpost.rules", NULL);
	const char *paths[] = { PKGDATADIR "/jobpost.rules", user };

	for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
		g_autoptr(GError) error = NULL;
		if (g_file_test(paths[i], G_FILE_TEST_EXISTS) && !jobpost_rules_load_file(rules, paths[i], &error))
			log_warning("%s", error->message);
	}
	return rules;
}
