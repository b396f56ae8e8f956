/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "carddav.h"
#include "credentials.h"
#include "duration.h"
#include "events.h"
#include "linkedin.h"
#include "log.h"
#include "normalize.h"
#include "parse-error.h"
#include "protocol.h"
#include "source.h"
#include "vcard.h"

/* Editors write a file in several steps: wait for them to settle. */
#define MONITOR_SETTLE_MS 300
/* How many broken cards one sync result names before "and N more". */
#define MAX_WARNINGS_NAMED 3
/* Below this many changed or removed contacts a sync is never held: a
 * small book legitimately loses a third of its cards at once. */
#define HOLD_MIN_CHANGES 5
/* After failures the interval doubles each time, up to this: a wrong
 * password must not become a retry storm. */
#define BACKOFF_MAX_S (24 * 3600)
#define BACKOFF_MAX_DOUBLINGS 10
#define BOOK_LISTING_INTERVAL_S (24 * 3600)

typedef struct {
	SyncDoneFunc done;
	gpointer user_data;
} Waiter;

/* What the CardDAV sync under way has read so far. */
typedef struct {
	RecordPack *pack;   /* owned: the records of the cards read */
	GHashTable *known;  /* owned href -> etag of the source's present records */
	GHashTable *listed; /* owned set of KNOWN's hrefs read again (keys borrowed from KNOWN) */
	GPtrArray *errors;  /* owned ParseError* of the broken cards */
} CarddavRead;

static void carddav_read_free(CarddavRead *read)
{
	if (!read)
		return;
	record_pack_free(read->pack);
	g_hash_table_unref(read->listed);
	g_hash_table_unref(read->known);
	g_ptr_array_unref(read->errors);
	g_free(read);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CarddavRead, carddav_read_free)

typedef struct {
	Sources *sources; /* borrowed: the owner */
	char *name, *type, *location;
	SourceType kind;
	gint64 interval_s;
	gint64 timeout_s;        /* carddav: each request; 0 = the engine's */
	char *username;          /* carddav */
	char *password;          /* carddav: inline or from netrc / the command; never logged */
	char *password_command;  /* carddav */
	GStrv addressbooks;      /* carddav: the ones to read, NULL = all */
	guint failures;          /* syncs failed in a row, for the backoff */
	gint64 books_listed_at;  /* carddav: when the address books were last listed */
	CarddavSync *carddav;    /* the sync under way; owned by the engine's callbacks */
	CarddavRead *carddav_read; /* owned: what CARDDAV has read so far */
	gint64 store_id;
	gint64 next_run;
	gboolean running;
	gboolean accept_next;  /* apply the next sync even if it would be held */
	guint timer_source;
	guint settle_source;
	guint run_source;
	GFileMonitor *monitor; /* owned; NULL when the path could not be watched */
	GArray *waiters;       /* Waiter */
} Source;

struct Sources {
	Store *store; /* borrowed */
	HttpEngine *http; /* borrowed */
	const Config *config; /* borrowed */
	SourcesChangedFunc on_changed;
	gpointer user_data;
	GPtrArray *list; /* Source*, owned, in config order */
};

static void source_free(Source *source)
{
	if (!source)
		return;
	g_clear_handle_id(&source->timer_source, g_source_remove);
	g_clear_handle_id(&source->settle_source, g_source_remove);
	g_clear_handle_id(&source->run_source, g_source_remove);
	if (source->monitor) {
		g_signal_handlers_disconnect_by_data(source->monitor, source);
		g_file_monitor_cancel(source->monitor);
		g_object_unref(source->monitor);
	}
	/* Waiters of a source dropped by a reload still get their answer. */
	for (guint i = 0; i < source->waiters->len; i++) {
		Waiter *w = &g_array_index(source->waiters, Waiter, i);
		SyncResult result = { source->name, FALSE, FALSE, "source removed by a reload", { 0 } };
		w->done(&result, w->user_data);
	}
	g_array_unref(source->waiters);
	if (source->carddav)
		carddav_sync_cancel(source->carddav);
	carddav_read_free(source->carddav_read);
	if (source->password)
		explicit_bzero(source->password, strlen(source->password));
	g_free(source->password);
	g_free(source->username);
	g_free(source->password_command);
	g_strfreev(source->addressbooks);
	g_free(source->name);
	g_free(source->type);
	g_free(source->location);
	g_free(source);
}

Sources *sources_new(Store *store, HttpEngine *http, SourcesChangedFunc on_changed, gpointer user_data)
{
	Sources *sources = g_new0(Sources, 1);
	sources->store = store;
	sources->http = http;
	sources->on_changed = on_changed;
	sources->user_data = user_data;
	sources->list = g_ptr_array_new_with_free_func((GDestroyNotify)source_free);
	return sources;
}

void sources_free(Sources *sources)
{
	if (!sources)
		return;
	g_ptr_array_unref(sources->list);
	g_free(sources);
}

static Source *find(Sources *sources, const char *name)
{
	for (guint i = 0; i < sources->list->len; i++) {
		Source *source = g_ptr_array_index(sources->list, i);
		if (strcmp(source->name, name) == 0)
			return source;
	}
	return NULL;
}

gboolean sources_exists(Sources *sources, const char *name)
{
	return find(sources, name) != NULL;
}

GPtrArray *sources_names(Sources *sources)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < sources->list->len; i++)
		g_ptr_array_add(names, g_strdup(((Source *)g_ptr_array_index(sources->list, i))->name));
	return names;
}

/* ---- vCard files and vdirs ---- */

/* A card's fields are written as JSON text directly, byte for byte as
 * json-glib's generator writes the same object (earlier syncs stored that
 * text, and a sync compares with it): building a JsonObject for every
 * card and serialising it cost nearly as much as parsing the card. */

/* g_string_append_len() without its generality, which costs more than the
 * copy of the few bytes appended at a time here. */
static void json_text_append(GString *out, const char *s, gsize n)
{
	gsize at = out->len;

	g_string_set_size(out, at + n);
	memcpy(out->str + at, s, n);
}

static gboolean json_text_escaped(guchar c)
{
	/* json-glib leaves 0x1f as it is. */
	return c == '"' || c == '\\' || (c > 0 && c < 0x1f) || c == 0x7f;
}

static void json_text_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const char *p = s; *p; p++) {
		const char *run = p;
		while (*p && !json_text_escaped(*p))
			p++;
		json_text_append(out, run, p - run);
		if (!*p)
			break;
		switch (*p) {
		case '"':
		case '\\':
			g_string_append_c(out, '\\');
			g_string_append_c(out, *p);
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			g_string_append_printf(out, "\\u%04x", (guint) *p);
		}
	}
	g_string_append_c(out, '"');
}

/* NAME needs no escaping. */
static void json_text_name(GString *out, const char *name)
{
	if (out->len > 1)
		g_string_append_c(out, ',');
	g_string_append_c(out, '"');
	json_text_append(out, name, strlen(name));
	g_string_append_c(out, '"');
	g_string_append_c(out, ':');
}

static void json_text_member(GString *out, const char *name, const char *value)
{
	json_text_name(out, name);
	if (value)
		json_text_string(out, value);
	else
		json_text_append(out, "null", 4);
}

static void json_text_list(GString *out, const char *name, const GPtrArray *values)
{
	json_text_name(out, name);
	g_string_append_c(out, '[');
	for (guint i = 0; i < values->len; i++) {
		if (i)
			g_string_append_c(out, ',');
		json_text_string(out, g_ptr_array_index(values, i));
	}
	g_string_append_c(out, ']');
}

/* Swaps two string lists: the record takes the card's without copying. */
static void take_list(GPtrArray **to, GPtrArray **from)
{
	GPtrArray *list = *to;

	*to = *from;
	*from = list;
}

/* A sealed record of CARD under KEY, which it takes, as it takes CARD's
 * strings and lists: CARD is only fit to be freed afterwards. */
static SourceRecord *record_seal_card(VcardContact *card, char *key)
{
	SourceRecord *record = source_record_new();
	/* room for a small card's fields without growing */
	GString *f = g_string_sized_new(256);

	g_string_append_c(f, '{');
	record->key = key;
	if (card->fn && *card->fn)
		record->name = g_steal_pointer(&card->fn);
	else if (card->org_name)
		record->name = g_strdup(card->org_name);
	else if (card->emails->len)
		record->name = g_strdup(g_ptr_array_index(card->emails, 0));
	else
		record->name = g_strdup("(no name)");
	record->uid = g_steal_pointer(&card->uid);
	take_list(&record->emails, &card->emails);
	take_list(&record->urls, &card->urls);
	for (guint i = 0; i < card->social_profiles->len; i++) {
		const VcardSocialProfile *profile = g_ptr_array_index(card->social_profiles, i);
		if (profile->uri)
			g_ptr_array_add(record->urls, g_strdup(profile->uri));
	}
	take_list(&record->categories, &card->categories);
	record->org = g_steal_pointer(&card->org_name);
	if (card->org_units->len) {
		g_ptr_array_add(card->org_units, NULL);
		record->unit = g_strjoinv(" / ", (char **)card->org_units->pdata);
		g_ptr_array_remove_index(card->org_units, card->org_units->len - 1);
	}
	record->title = g_steal_pointer(&card->title);

	json_text_member(f, "fn", record->name);
	json_text_member(f, "org", record->org);
	json_text_member(f, "unit", record->unit);
	json_text_member(f, "title", record->title);
	json_text_list(f, "emails", record->emails);
	json_text_list(f, "tels", card->tels);
	json_text_list(f, "urls", record->urls);
	json_text_list(f, "categories", record->categories);
	json_text_member(f, "nickname", card->nickname);
	json_text_member(f, "bday", card->bday);
	json_text_member(f, "note", card->note);
	json_text_member(f, "uid", record->uid);
	json_text_member(f, "rev", card->rev);
	g_string_append_c(f, '}');
	g_clear_pointer(&record->fields, json_object_unref);
	record->fields_text = g_string_free(f, FALSE);
	return record;
}

/* A sealed record of CARD, read from a file under ROOT; takes CARD's strings
 * and lists as record_seal_card() does. */
static SourceRecord *record_from_card(VcardContact *card, const char *root)
{
	if (card->uid)
		return record_seal_card(card, g_strconcat("uid:", card->uid, NULL));

	const char *file = card->file ? card->file : "";
	const char *relative = g_str_has_prefix(file, root) ? file + strlen(root) : file;
	while (*relative == '/')
		relative++;
	return record_seal_card(card, g_strdup_printf("file:%s#%u", relative, card->index));
}

/* "file:line: message; …; and N more" of the first few PARSE_ERRORS. */
static char *describe_errors(const GPtrArray *parse_errors, const char *fallback_file)
{
	g_autoptr(GString) text = g_string_new(NULL);

	for (guint i = 0; i < parse_errors->len; i++) {
		const ParseError *e = g_ptr_array_index(parse_errors, i);
		const char *file = e->file ? e->file : fallback_file;
		log_warning("%s:%u: %s", file, e->line, e->message);
		if (i < MAX_WARNINGS_NAMED)
			g_string_append_printf(text, "%s%s:%u: %s", i ? "; " : "", file, e->line, e->message);
	}
	if (parse_errors->len > MAX_WARNINGS_NAMED)
		g_string_append_printf(text, "; and %u more", parse_errors->len - MAX_WARNINGS_NAMED);
	return text->len ? g_string_free(g_steal_pointer(&text), FALSE) : NULL;
}

gboolean vcard_source_read(const char *path, GPtrArray **out_records, char **out_warnings, GError **error)
{
	g_autoptr(VcardResult) result = vcard_result_new();

	if (!vcard_parse_path(path, result, error))
		return FALSE;

	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)source_record_free);
	for (guint i = 0; i < result->contacts->len; i++) {
		g_ptr_array_add(records, record_from_card(g_ptr_array_index(result->contacts, i), path));
	}
	*out_records = records;
	*out_warnings = describe_errors(result->errors, path);
	return TRUE;
}

/* ---- LinkedIn exports ---- */

static gboolean has_cjk(const char *text)
{
	for (const char *p = text; p && *p; p = g_utf8_next_char(p)) {
		GUnicodeScript script = g_unichar_get_script(g_utf8_get_char(p));
		if (script == G_UNICODE_SCRIPT_HAN || script == G_UNICODE_SCRIPT_HIRAGANA ||
		    script == G_UNICODE_SCRIPT_KATAKANA || script == G_UNICODE_SCRIPT_HANGUL)
			return TRUE;
	}
	return FALSE;
}

/* 山田 太郎 family first, Ken Suzuki given first: as each is written. */
static char *display_name(const char *given, const char *family)
{
	if (!given || !family)
		return g_strdup(given ? given : family);
	if (has_cjk(given) || has_cjk(family))
		return g_strdup_printf("%s %s", family, given);
	return g_strdup_printf("%s %s", given, family);
}

static SourceRecord *record_from_connection(const LinkedinConnection *row)
{
	SourceRecord *record = source_record_new();
	JsonObject *f = record->fields;

	record->name = display_name(row->first_name, row->last_name);
	if (!record->name)
		record->name = g_strdup(row->email ? row->email : "(no name)");
	if (row->url) {
		g_autofree char *url_key = normalize_url(row->url);
		record->key = g_strconcat("url:", url_key, NULL);
		g_ptr_array_add(record->urls, g_strdup(row->url));
	} else {
		g_autofree char *name_key = normalize_name(record->name);
		record->key = g_strconcat("name:", name_key, NULL);
	}
	if (row->email)
		g_ptr_array_add(record->emails, g_strdup(row->email));
	record->org = g_strdup(row->company);
	record->title = g_strdup(row->position);
	if (row->connected_on) {
		g_autofree char *midnight = g_strconcat(row->connected_on, "T00:00:00Z", NULL);
		date_parse_utc(midnight, &record->connected_on);
	}
	json_set_string_or_null(f, "fn", record->name);
	json_set_string_or_null(f, "org", row->company);
	json_set_string_or_null(f, "title", row->position);
	json_object_set_array_member(f, "emails", json_array_from_strings(record->emails));
	json_object_set_array_member(f, "urls", json_array_from_strings(record->urls));
	json_set_string_or_null(f, "connected_on", row->connected_on);
	return record;
}

/* Each message is an interaction with the contacts in it, found by their
 * profile URL; the user's own URL matches nobody. */
static guint import_messages(Store *store, const char *source, const GPtrArray *messages)
{
	guint added = 0;

	for (guint i = 0; i < messages->len; i++) {
		const LinkedinMessage *m = g_ptr_array_index(messages, i);
		g_autoptr(GPtrArray) urls = g_ptr_array_new();

		if (m->sender_url)
			g_ptr_array_add(urls, m->sender_url);
		for (guint j = 0; j < m->recipient_urls->len; j++)
			g_ptr_array_add(urls, g_ptr_array_index(m->recipient_urls, j));
		for (guint j = 0; j < urls->len; j++) {
			g_autofree char *url_key = normalize_url(g_ptr_array_index(urls, j));
			gint64 contact_id = store_contact_by_identifier(store, "url", url_key);
			g_autoptr(GError) error = NULL;
			gint64 id = 0;
			if (!contact_id)
				continue;
			g_autofree char *key = g_strdup_printf("linkedin:%s:%s:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT,
							       source, m->conversation_id ? m->conversation_id : "",
							       m->date, contact_id);
			if (!store_interaction_import(store, contact_id, m->date, "linkedin", NULL, "linkedin", key, &id,
						      &error))
				log_error("source %s: %s", source, error->message);
			else if (id)
				added++;
		}
	}
	return added;
}

/* ---- running a sync ---- */

static void schedule_next(Source *source);
static void start(Source *source);

static void finish(Source *source, gboolean ok, gboolean held, const char *message, const SyncCounts *counts)
{
	Sources *sources = source->sources;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	g_autoptr(GError) error = NULL;
	SyncResult result = { source->name, ok, held, message, *counts };
	const char *state = held ? "held" : ok ? "ok" : "error";

	if (!store_source_set_result(sources->store, source->store_id, now, state, message, &error))
		log_error("source %s: cannot record the result: %s", source->name, error->message);
	if (ok)
		log_info("source %s: %u added, %u updated, %u gone, %u unchanged%s%s", source->name, counts->added,
			 counts->updated, counts->gone, counts->unchanged, message ? "; " : "", message ? message : "");
	else
		log_warning("source %s: %s", source->name, message);

	source->running = FALSE;
	source->failures = ok || held ? 0 : source->failures + 1;
	schedule_next(source);

	g_autoptr(GArray) waiters = source->waiters;
	source->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
	for (guint i = 0; i < waiters->len; i++) {
		Waiter *w = &g_array_index(waiters, Waiter, i);
		w->done(&result, w->user_data);
	}
	if (ok && (counts->added || counts->updated || counts->gone) && sources->on_changed)
		sources->on_changed(sources->user_data);
}

/* The common end of every kind of sync: store the records of PACK and
 * what else BATCH says, raise the events the changes call for, or hold a
 * sync that changes too much. */
static void apply_batch(Source *source, const RecordPack *pack, const SyncBatch *batch, const char *warnings)
{
	Sources *sources = source->sources;
	SyncPolicy policy = { sources->config->hold_share, HOLD_MIN_CHANGES, source->accept_next };
	SyncOutcome outcome = { 0 };
	g_autoptr(GError) error = NULL;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	source->accept_next = FALSE;
	if (!store_sync_pack(sources->store, source->store_id, pack, batch, now, &policy, &outcome, &error)) {
		SyncCounts none = { 0 };
		finish(source, FALSE, FALSE, error->message, &none);
		return;
	}
	if (outcome.held) {
		log_warning("source %s: sync held: %s", source->name, outcome.held_reason);
		finish(source, FALSE, TRUE, outcome.held_reason, &outcome.counts);
	} else {
		events_record_changes(sources->store, source->name, outcome.changes, now);
		finish(source, TRUE, FALSE, warnings, &outcome.counts);
	}
	sync_outcome_clear(&outcome);
}

/* RECORDS are the whole source. */
static void apply_records(Source *source, GPtrArray *records, const char *warnings)
{
	g_autoptr(RecordPack) pack = record_pack_new();
	SyncBatch batch = { NULL, TRUE, NULL, NULL };

	for (guint i = 0; i < records->len; i++)
		record_pack_add(pack, g_ptr_array_index(records, i));
	g_ptr_array_unref(records);
	apply_batch(source, pack, &batch, warnings);
}

static void run_vcard(Source *source)
{
	GPtrArray *records = NULL;
	g_autofree char *warnings = NULL;
	g_autoptr(GError) error = NULL;
	SyncCounts none = { 0 };

	/* What is stored stays when the path cannot be read: an unreadable
	 * path is not an empty book. */
	if (!vcard_source_read(source->location, &records, &warnings, &error))
		finish(source, FALSE, FALSE, error->message, &none);
	else
		apply_records(source, records, warnings);
}

static void run_linkedin(Source *source)
{
	g_autoptr(LinkedinExport) export = linkedin_export_new();
	g_autoptr(GError) error = NULL;
	SyncCounts none = { 0 };

	if (!linkedin_parse_path(source->location, export, &error)) {
		finish(source, FALSE, FALSE, error->message, &none);
		return;
	}
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)source_record_free);
	for (guint i = 0; i < export->connections->len; i++) {
		SourceRecord *record = record_from_connection(g_ptr_array_index(export->connections, i));
		source_record_seal(record);
		g_ptr_array_add(records, record);
	}
	g_autofree char *warnings = describe_errors(export->errors, source->location);
	apply_records(source, records, warnings);
	guint added = import_messages(source->sources->store, source->name, export->messages);
	if (added) {
		log_info("source %s: %u interactions from messages", source->name, added);
		if (source->sources->on_changed)
			source->sources->on_changed(source->sources->user_data);
	}
}

/* ---- CardDAV ---- */

/* {"tokens": {"BOOK URL": "TOKEN", …}} in the source's state. */
static GHashTable *load_tokens(Store *store, gint64 source_id)
{
	GHashTable *tokens = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autofree char *state = store_source_state(store, source_id);
	g_autoptr(JsonParser) parser = json_parser_new();

	if (!state || !json_parser_load_from_data(parser, state, -1, NULL))
		return tokens;
	JsonNode *root = json_parser_get_root(parser);
	JsonObject *map = root && JSON_NODE_HOLDS_OBJECT(root) ? json_get_object(json_node_get_object(root), "tokens") : NULL;
	g_autoptr(GList) books = map ? json_object_get_members(map) : NULL;
	for (GList *l = books; l; l = l->next) {
		const char *token = json_get_string(map, l->data);
		if (token)
			g_hash_table_insert(tokens, g_strdup(l->data), g_strdup(token));
	}
	return tokens;
}

static void save_tokens(Store *store, gint64 source_id, const CarddavResult *result)
{
	g_autoptr(JsonObject) state = json_object_new();
	JsonObject *tokens = json_object_new();
	g_autoptr(GError) error = NULL;

	for (guint i = 0; i < result->books->len; i++) {
		const CarddavBook *book = g_ptr_array_index(result->books, i);
		/* A pending token is kept as "": the book is known, its token
		 * still to be read. */
		if (book->sync_token || book->token_pending)
			json_object_set_string_member(tokens, book->url, book->sync_token ? book->sync_token : "");
	}
	json_object_set_object_member(state, "tokens", tokens);
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(node, state);
	g_autofree char *text = json_to_string(node, FALSE);
	if (!store_source_set_state(store, source_id, text, &error))
		log_error("cannot store sync tokens: %s", error->message);
}

/* The path part of a URL: hrefs are paths, book URLs absolute. */
static const char *url_path(const char *url)
{
	const char *scheme_end = strstr(url, "://");
	const char *path = scheme_end ? strchr(scheme_end + 3, '/') : url;
	return path ? path : "/";
}

/* A card as it streams in: a record, packed until the sync's end. */
static void on_carddav_card(const CarddavBook *book, const CarddavCard *card, gpointer user_data)
{
	CarddavRead *read = ((Source *) user_data)->carddav_read;
	g_autoptr(VcardResult) parsed = vcard_result_new();
	gpointer known_href;

	vcard_parse_buffer(card->data, strlen(card->data), card->href, parsed);
	while (parsed->errors->len)
		g_ptr_array_add(read->errors, g_ptr_array_steal_index(parsed->errors, 0));
	if (parsed->contacts->len == 0)
		return;
	g_autoptr(SourceRecord) record = record_seal_card(g_ptr_array_index(parsed->contacts, 0), g_strdup(card->href));
	record->etag = g_strdup(card->etag);
	record_pack_add(read->pack, record);
	if (g_hash_table_lookup_extended(read->known, card->href, &known_href, NULL))
		g_hash_table_add(read->listed, known_href);
}

/* What went, per book: what a complete listing no longer shows of the hrefs
 * known under it, else what the server said was removed. */
static GPtrArray *removed_hrefs(const CarddavResult *result, CarddavRead *read)
{
	GPtrArray *removed = g_ptr_array_new_with_free_func(g_free);

	for (guint b = 0; b < result->books->len; b++) {
		const CarddavBook *book = g_ptr_array_index(result->books, b);
		if (!book->complete) {
			for (guint i = 0; i < book->removed->len; i++)
				g_ptr_array_add(removed, g_strdup(g_ptr_array_index(book->removed, i)));
			continue;
		}
		for (guint i = 0; i < book->unchanged->len; i++) {
			gpointer known_href;
			if (g_hash_table_lookup_extended(read->known, g_ptr_array_index(book->unchanged, i), &known_href, NULL))
				g_hash_table_add(read->listed, known_href);
		}
		GHashTableIter iter;
		gpointer href;
		const char *prefix = url_path(book->url);
		g_hash_table_iter_init(&iter, read->known);
		while (g_hash_table_iter_next(&iter, &href, NULL))
			if (g_str_has_prefix(href, prefix) && !g_hash_table_contains(read->listed, href))
				g_ptr_array_add(removed, g_strdup(href));
	}
	return removed;
}

static gboolean tokens_pending(const CarddavResult *result)
{
	for (guint b = 0; b < result->books->len; b++)
		if (((const CarddavBook *) g_ptr_array_index(result->books, b))->token_pending)
			return TRUE;
	return FALSE;
}

static void on_carddav_done(CarddavResult *result, gpointer user_data)
{
	Source *source = user_data;
	g_autoptr(CarddavRead) read = g_steal_pointer(&source->carddav_read);
	SyncCounts none = { 0 };

	source->carddav = NULL;
	if (result->error) {
		finish(source, FALSE, FALSE, result->error, &none);
		carddav_result_free(result);
		return;
	}

	g_autoptr(GPtrArray) removed = removed_hrefs(result, read);
	g_autofree char *warnings = describe_errors(read->errors, source->location);
	SyncBatch batch = { NULL, FALSE, NULL, removed };
	log_debug("source %s: %u requests, %u cards, %u removed%s", source->name, result->requests,
		  record_pack_count(read->pack), removed->len, g_hash_table_size(read->known) ? "" : " (first sync)");
	apply_batch(source, read->pack, &batch, warnings);
	/* A held sync keeps the old tokens, so that --accept fetches it again. */
	g_autofree char *held = store_source_held(source->sources->store, source->store_id, NULL);
	if (source->failures == 0 && !held) {
		save_tokens(source->sources->store, source->store_id, result);
		/* Tokens left to the next sync: that one, right away. */
		if (tokens_pending(result))
			start(source);
	}
	carddav_result_free(result);
}

static void start_carddav(Source *source)
{
	g_autoptr(GHashTable) tokens = load_tokens(source->sources->store, source->store_id);
	GHashTable *etags = store_source_etags(source->sources->store, source->store_id);
	CarddavAccount account = { source->location, source->username, source->password,
				   (const char *const *)source->addressbooks, (guint)source->timeout_s };
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	/* A sync goes straight to the known books; once a day (and after a
	 * restart) the books are listed again, so that new ones are found. */
	gboolean list_books = now - source->books_listed_at >= BOOK_LISTING_INTERVAL_S;
	CarddavState state = { tokens, etags, list_books };

	if (list_books)
		source->books_listed_at = now;
	/* --accept must fetch the held changes again, not an empty delta. */
	if (source->accept_next)
		g_hash_table_remove_all(tokens);
	carddav_read_free(source->carddav_read);
	source->carddav_read = g_new0(CarddavRead, 1);
	source->carddav_read->pack = record_pack_new();
	source->carddav_read->known = etags;
	source->carddav_read->listed = g_hash_table_new(g_str_hash, g_str_equal);
	source->carddav_read->errors = parse_errors_new();
	source->carddav = carddav_sync_start(source->sources->http, &account, &state, on_carddav_card, on_carddav_done,
					     source);
}

static void on_password(char *password, const char *error, gpointer user_data)
{
	Source *source = user_data;
	SyncCounts none = { 0 };

	if (!password) {
		g_autofree char *message = g_strdup_printf("password-command: %s", error);
		finish(source, FALSE, FALSE, message, &none);
		return;
	}
	source->password = password;
	start_carddav(source);
}

static void run_carddav(Source *source)
{
	if (!source->password && source->password_command) {
		password_command_run(source->password_command, on_password, source);
		return;
	}
	if (!source->password) {
		g_autofree char *netrc = g_build_filename(g_get_home_dir(), ".netrc", NULL);
		g_autofree char *login = NULL;
		source->password = netrc_lookup(netrc, source->location, source->username, &login);
		if (!source->username && login)
			source->username = g_steal_pointer(&login);
	}
	start_carddav(source);
}

static gboolean on_run(gpointer user_data)
{
	Source *source = user_data;

	source->run_source = 0;
	source->running = TRUE;
	switch (source->kind) {
	case SOURCE_TYPE_VCARD:
		run_vcard(source);
		break;
	case SOURCE_TYPE_LINKEDIN:
		run_linkedin(source);
		break;
	case SOURCE_TYPE_CARDDAV:
		run_carddav(source);
		break;
	}
	return G_SOURCE_REMOVE;
}

static void start(Source *source)
{
	if (source->running || source->run_source)
		return;
	g_clear_handle_id(&source->timer_source, g_source_remove);
	source->run_source = g_idle_add(on_run, source);
}

static gboolean on_timer(gpointer user_data)
{
	Source *source = user_data;
	source->timer_source = 0;
	start(source);
	return G_SOURCE_REMOVE;
}

static void schedule_next(Source *source)
{
	gint64 delay = source->interval_s;

	for (guint i = 0; i < MIN(source->failures, BACKOFF_MAX_DOUBLINGS) && delay < BACKOFF_MAX_S; i++)
		delay *= 2;
	delay = MIN(delay, MAX(BACKOFF_MAX_S, source->interval_s));
	if (source->failures)
		delay += g_random_int_range(0, (gint32)MIN(delay / 10 + 1, 3600)); /* jitter */
	g_clear_handle_id(&source->timer_source, g_source_remove);
	source->next_run = g_get_real_time() / G_USEC_PER_SEC + delay;
	source->timer_source = g_timeout_add_seconds(delay, on_timer, source);
}

static gboolean on_settled(gpointer user_data)
{
	Source *source = user_data;
	source->settle_source = 0;
	log_debug("source %s: %s changed", source->name, source->location);
	start(source);
	return G_SOURCE_REMOVE;
}

static void on_file_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
			    gpointer user_data)
{
	Source *source = user_data;

	if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
		return;
	g_clear_handle_id(&source->settle_source, g_source_remove);
	source->settle_source = g_timeout_add(MONITOR_SETTLE_MS, on_settled, source);
}

static void watch(Source *source)
{
	g_autoptr(GFile) file = g_file_new_for_path(source->location);
	g_autoptr(GError) error = NULL;
	GFileType type = g_file_query_file_type(file, G_FILE_QUERY_INFO_NONE, NULL);

	source->monitor = type == G_FILE_TYPE_DIRECTORY
				  ? g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error)
				  : g_file_monitor_file(file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
	if (!source->monitor) {
		log_warning("source %s: cannot watch %s: %s; relying on the interval", source->name,
			    source->location, error->message);
		return;
	}
	g_signal_connect(source->monitor, "changed", G_CALLBACK(on_file_changed), source);
}

static gboolean same_settings(const Source *source, const SourceConfig *config)
{
	const char *location = config->type == SOURCE_TYPE_CARDDAV ? config->url : config->path;
	/* Credentials are compared as configured: a password that came from
	 * netrc or a command is looked up again only when settings change. */
	return source->kind == config->type && g_strcmp0(source->location, location) == 0 &&
	       source->interval_s == config->interval_s && source->timeout_s == config->timeout_s &&
	       g_strcmp0(source->username, config->username) == 0 &&
	       g_strcmp0(source->password_command, config->password_command) == 0 &&
	       (!config->password || g_strcmp0(source->password, config->password) == 0) &&
	       ((!source->addressbooks && !config->addressbooks) ||
		(source->addressbooks && config->addressbooks &&
		 g_strv_equal((const char *const *)source->addressbooks, (const char *const *)config->addressbooks)));
}

void sources_set_config(Sources *sources, const Config *config)
{
	sources->config = config;
	GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify)source_free);

	for (guint i = 0; i < config->sources->len; i++) {
		const SourceConfig *sc = g_ptr_array_index(config->sources, i);
		Source *old = find(sources, sc->name);
		g_autoptr(GError) error = NULL;

		guint index;
		if (old && same_settings(old, sc) && g_ptr_array_find(sources->list, old, &index)) {
			g_ptr_array_add(list, g_ptr_array_steal_index(sources->list, index));
			continue;
		}
		Source *source = g_new0(Source, 1);
		source->sources = sources;
		source->name = g_strdup(sc->name);
		source->kind = sc->type;
		source->type = g_strdup(source_type_name(sc->type));
		source->location = g_strdup(sc->type == SOURCE_TYPE_CARDDAV ? sc->url : sc->path);
		source->interval_s = sc->interval_s;
		source->timeout_s = sc->timeout_s;
		source->username = g_strdup(sc->username);
		source->password = g_strdup(sc->password);
		source->password_command = g_strdup(sc->password_command);
		source->addressbooks = g_strdupv(sc->addressbooks);
		source->waiters = g_array_new(FALSE, FALSE, sizeof(Waiter));
		if (!store_source_ensure(sources->store, sc->name, source->type, &source->store_id, &error)) {
			log_error("source %s: %s", sc->name, error->message);
			source_free(source);
			continue;
		}
		if (source->kind != SOURCE_TYPE_CARDDAV)
			watch(source);
		g_ptr_array_add(list, source);
		start(source);
	}
	g_ptr_array_unref(sources->list);
	sources->list = list;
}

void sources_sync(Sources *sources, const char *name, gboolean accept, SyncDoneFunc done, gpointer user_data)
{
	Source *source = find(sources, name);

	if (!source)
		return;
	source->accept_next |= accept;
	if (done) {
		Waiter w = { done, user_data };
		g_array_append_val(source->waiters, w);
	}
	start(source);
}

JsonArray *sources_to_json(Sources *sources)
{
	JsonArray *out = json_array_new();

	for (guint i = 0; i < sources->list->len; i++) {
		Source *source = g_ptr_array_index(sources->list, i);
		g_autoptr(StoreSource) stored = store_source_get(sources->store, source->name);
		JsonObject *row = json_object_new();

		json_object_set_string_member(row, "name", source->name);
		json_object_set_string_member(row, "type", source->type);
		json_object_set_string_member(row, "location", source->location);
		json_object_set_int_member(row, "interval_s", source->interval_s);
		json_set_time_or_null(row, "last_sync", stored ? stored->last_sync : 0);
		json_set_string_or_null(row, "last_result", stored ? stored->last_result : NULL);
		gint64 held_since = 0;
		g_autofree char *held = store_source_held(sources->store, source->store_id, &held_since);
		json_set_string_or_null(row, "held", held);
		gboolean failed = stored && g_strcmp0(stored->last_result, "ok") != 0;
		json_set_string_or_null(row, "last_error", failed ? stored->last_message : NULL);
		json_set_string_or_null(row, "last_message", stored ? stored->last_message : NULL);
		json_set_time_or_null(row, "next_run", source->running || source->run_source ? 0 : source->next_run);
		json_object_set_int_member(row, "contacts", stored ? stored->contacts : 0);
		json_object_set_boolean_member(row, "running", source->running || source->run_source != 0);
		json_array_add_object_element(out, row);
	}
	return out;
}
