/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "duration.h"
#include "log.h"
#include "loop.h"
#include "normalize.h"
#include "protocol.h"
#include "store-feeds.h"

/* How many candidates an "ambiguous" answer names. */
#define AMBIGUOUS_NAMED 5
#define SNOOZE_MAX_S (365 * 86400)
/* The recent posts `show` lists. */
#define SHOW_POSTS 10

typedef JsonObject *(*CommandFunc)(Tiesd *tiesd, ControlRequest *request, JsonObject *args);

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- finding the contact a user means ---- */

static JsonObject *ambiguous(GPtrArray *matches, const char *query)
{
	g_autoptr(GString) names = g_string_new(NULL);
	for (guint i = 0; i < matches->len && i < AMBIGUOUS_NAMED; i++) {
		StoreContact *c = g_ptr_array_index(matches, i);
		g_string_append_printf(names, "%s%" G_GINT64_FORMAT " %s%s%s%s", i ? ", " : "", c->id, c->name,
				       c->emails->len ? " <" : "", c->emails->len ? (char *)g_ptr_array_index(c->emails, 0) : "",
				       c->emails->len ? ">" : "");
	}
	if (matches->len > AMBIGUOUS_NAMED)
		g_string_append_printf(names, " and %u more", matches->len - AMBIGUOUS_NAMED);
	return protocol_error_new(PROTOCOL_E_AMBIGUOUS, "\"%s\" matches %u contacts: %s; use an id or e-mail address",
				  query, matches->len, names->str);
}

/* Sets *OUT to the one contact QUERY means, or returns the error response. */
static JsonObject *resolve_contact(Tiesd *tiesd, const char *query, StoreContact **out)
{
	if (!query || !*query)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "a contact is required");

	if (text_is_id(query)) {
		*out = store_contact_get(tiesd->store, g_ascii_strtoll(query, NULL, 10));
		return *out ? NULL : protocol_error_new(PROTOCOL_E_NOT_FOUND, "no contact with id %s", query);
	}

	g_autoptr(GPtrArray) all = store_contacts_all(tiesd->store);
	g_autoptr(GPtrArray) matches = g_ptr_array_new();
	g_autoptr(GPtrArray) exact = g_ptr_array_new();

	if (strchr(query, '@')) {
		g_autofree char *key = normalize_email(query);
		for (guint i = 0; i < all->len; i++) {
			StoreContact *c = g_ptr_array_index(all, i);
			for (guint j = 0; j < c->emails->len; j++)
				if (strcmp(g_ptr_array_index(c->emails, j), key) == 0) {
					g_ptr_array_add(matches, c);
					break;
				}
		}
	} else {
		g_autofree char *key = normalize_name(query);
		for (guint i = 0; i < all->len; i++) {
			StoreContact *c = g_ptr_array_index(all, i);
			g_autofree char *name = normalize_name(c->name);
			if (strstr(name, key)) {
				g_ptr_array_add(matches, c);
				if (strcmp(name, key) == 0)
					g_ptr_array_add(exact, c);
			}
		}
		/* "yamada" for 山田 太郎 <yamada@example.com>: no name matched,
		 * so try the addresses. */
		for (guint i = 0; matches->len == 0 && i < all->len; i++) {
			StoreContact *c = g_ptr_array_index(all, i);
			for (guint j = 0; j < c->emails->len; j++)
				if (strstr(g_ptr_array_index(c->emails, j), key)) {
					g_ptr_array_add(matches, c);
					break;
				}
		}
	}
	/* Prefer a contact still in some source over gone ones, and a whole
	 * name over a part of one. */
	GPtrArray *candidates = exact->len == 1 ? exact : matches;
	if (candidates->len > 1) {
		g_autoptr(GPtrArray) present = g_ptr_array_new();
		for (guint i = 0; i < candidates->len; i++)
			if (!((StoreContact *)g_ptr_array_index(candidates, i))->gone)
				g_ptr_array_add(present, g_ptr_array_index(candidates, i));
		if (present->len != 1)
			return ambiguous(present->len ? present : candidates, query);
		*out = store_contact_get(tiesd->store, ((StoreContact *)g_ptr_array_index(present, 0))->id);
		return NULL;
	}
	if (candidates->len == 0)
		return protocol_error_new(PROTOCOL_E_NOT_FOUND, "no contact matches \"%s\"", query);
	if (candidates->len > 1)
		return ambiguous(candidates, query);
	*out = store_contact_get(tiesd->store, ((StoreContact *)g_ptr_array_index(candidates, 0))->id);
	return NULL;
}

/* ---- contacts as JSON ---- */

static void set_contact_brief(Tiesd *tiesd, JsonObject *row, const StoreContact *contact, gint64 now)
{
	Cadence cadence;
	nudge_cadence(tiesd->config, contact, &cadence);
	gint64 due = nudge_due(contact, &cadence);

	json_object_set_int_member(row, "id", contact->id);
	json_object_set_string_member(row, "name", contact->name);
	json_set_string_or_null(row, "org", contact->org);
	json_set_string_or_null(row, "title", contact->title);
	json_object_set_array_member(row, "emails", json_array_from_strings(contact->emails));
	json_set_string_or_null(row, "tier", cadence.tier);
	if (cadence.seconds == CONFIG_CADENCE_NEVER)
		json_object_set_null_member(row, "cadence_s");
	else
		json_object_set_int_member(row, "cadence_s", cadence.seconds);
	json_set_time_or_null(row, "last_interaction", contact->last_interaction);
	json_set_time_or_null(row, "next_due", due);
	json_object_set_boolean_member(row, "overdue", due && due <= now && !contact->gone);
	json_object_set_boolean_member(row, "gone", contact->gone);
}

static gboolean contact_matches(const StoreContact *contact, const char *name_key, const char *email_key)
{
	if (!name_key)
		return TRUE;
	g_autofree char *name = normalize_name(contact->name);
	if (strstr(name, name_key))
		return TRUE;
	if (contact->org) {
		g_autofree char *org = normalize_name(contact->org);
		if (strstr(org, name_key))
			return TRUE;
	}
	for (guint i = 0; i < contact->emails->len; i++)
		if (strstr(g_ptr_array_index(contact->emails, i), email_key))
			return TRUE;
	return FALSE;
}

static JsonObject *cmd_contacts(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	const char *query = json_get_string(args, "query");
	const char *tier = json_get_string(args, "tier");
	gboolean overdue_only = json_get_bool(args, "overdue");
	gboolean include_gone = json_get_bool(args, "include_gone");
	g_autofree char *name_key = query ? normalize_name(query) : NULL;
	g_autofree char *email_key = query ? normalize_email(query) : NULL;
	gint64 dummy;
	gint64 now = now_s();

	if (tier && !config_tier_cadence(tiesd->config, tier, &dummy))
		return protocol_error_new(PROTOCOL_E_INVALID, "no tier \"%s\" in the configuration", tier);

	g_autoptr(GPtrArray) all = store_contacts_all(tiesd->store);
	JsonArray *list = json_array_new();
	for (guint i = 0; i < all->len; i++) {
		StoreContact *contact = g_ptr_array_index(all, i);
		if (contact->gone && !include_gone)
			continue;
		if (!contact_matches(contact, name_key, email_key))
			continue;
		Cadence cadence;
		nudge_cadence(tiesd->config, contact, &cadence);
		if (tier && (!cadence.tier || g_ascii_strcasecmp(cadence.tier, tier) != 0))
			continue;
		gint64 due = nudge_due(contact, &cadence);
		if (overdue_only && (!due || due > now || contact->gone))
			continue;
		JsonObject *row = json_object_new();
		set_contact_brief(tiesd, row, contact, now);
		json_array_add_object_element(list, row);
	}
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "contacts", list);
	return protocol_result_new(result);
}

static JsonObject *cmd_show(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) contact = NULL;
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "contact"), &contact);
	if (error)
		return error;

	JsonObject *result = json_object_new();
	Cadence cadence;
	nudge_cadence(tiesd->config, contact, &cadence);
	set_contact_brief(tiesd, result, contact, now_s());
	json_object_set_string_member(result, "cadence_from", cadence_origin_name(cadence.origin));
	json_set_time_or_null(result, "snoozed_until", contact->snoozed_until > now_s() ? contact->snoozed_until : 0);
	json_set_time_or_null(result, "first_seen", contact->first_seen);
	json_object_set_array_member(result, "urls", json_array_from_strings(contact->urls));
	json_object_set_array_member(result, "categories", json_array_from_strings(contact->categories));
	json_object_set_array_member(result, "fields", store_contact_fields(tiesd->store, contact->id));
	json_object_set_array_member(result, "interactions", store_contact_interactions(tiesd->store, contact->id));
	json_object_set_array_member(result, "employment", store_contact_employment(tiesd->store, contact->id));
	json_object_set_array_member(result, "posts", store_contact_posts(tiesd->store, contact->id, SHOW_POSTS));
	json_object_set_array_member(result, "events", store_events_list(tiesd->store, 0, NULL, contact->id));
	json_object_set_array_member(result, "suggested_links", store_contact_suggestions(tiesd->store, contact->id));
	return protocol_result_new(result);
}

static JsonObject *cmd_touch(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) contact = NULL;
	g_autoptr(GError) gerror = NULL;
	const char *at_text = json_get_string(args, "at");
	const char *via = json_get_string(args, "via");
	const char *note = json_get_string(args, "note");
	gint64 now = now_s(), at = now, id;

	if (at_text && !date_parse(at_text, &at, &gerror))
		return protocol_error_new(PROTOCOL_E_INVALID, "%s", gerror->message);
	/* A minute of slack for clocks of client and daemon. */
	if (at > now + 60)
		return protocol_error_new(PROTOCOL_E_INVALID, "%s is in the future", at_text);
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "contact"), &contact);
	if (error)
		return error;
	if (!store_interaction_add(tiesd->store, contact->id, at, via, note, "cli", &id, &gerror))
		return protocol_error_new(PROTOCOL_E_FAILED, "%s", gerror->message);
	nudge_scheduler_kick(tiesd->nudges);

	JsonObject *interaction = json_object_new();
	json_object_set_int_member(interaction, "id", id);
	json_object_set_int_member(interaction, "contact_id", contact->id);
	json_object_set_string_member(interaction, "name", contact->name);
	json_set_time_or_null(interaction, "at", at);
	json_set_string_or_null(interaction, "via", via);
	json_set_string_or_null(interaction, "note", note);
	json_object_set_string_member(interaction, "origin", "cli");
	JsonObject *result = json_object_new();
	json_object_set_object_member(result, "interaction", interaction);
	return protocol_result_new(result);
}

static JsonObject *cmd_cadence(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) contact = NULL;
	g_autoptr(GError) gerror = NULL;
	const char *value = json_get_string(args, "cadence");
	gint64 seconds = 0;
	const char *tier = NULL;

	if (!value)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "a cadence (duration or tier) is required");
	if (config_tier_cadence(tiesd->config, value, &seconds)) {
		tier = value;
		seconds = 0;
	} else if (!duration_parse(value, &seconds, &gerror) || seconds <= 0) {
		return protocol_error_new(PROTOCOL_E_INVALID, "\"%s\" is neither a tier of the configuration nor a duration like 90d",
					  value);
	}
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "contact"), &contact);
	if (error)
		return error;
	g_autofree char *tier_lower = tier ? g_ascii_strdown(tier, -1) : NULL;
	if (!store_contact_set_cadence(tiesd->store, contact->id, seconds, tier_lower, &gerror))
		return protocol_error_new(PROTOCOL_E_FAILED, "%s", gerror->message);
	nudge_scheduler_kick(tiesd->nudges);

	g_autoptr(StoreContact) updated = store_contact_get(tiesd->store, contact->id);
	Cadence cadence;
	nudge_cadence(tiesd->config, updated, &cadence);
	JsonObject *result = json_object_new();
	json_object_set_int_member(result, "contact_id", contact->id);
	if (cadence.seconds == CONFIG_CADENCE_NEVER)
		json_object_set_null_member(result, "cadence_s");
	else
		json_object_set_int_member(result, "cadence_s", cadence.seconds);
	json_set_string_or_null(result, "tier", cadence.tier);
	json_set_time_or_null(result, "next_due", nudge_due(updated, &cadence));
	return protocol_result_new(result);
}

static JsonObject *cmd_snooze(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) contact = NULL;
	g_autoptr(GError) gerror = NULL;
	const char *duration = json_get_string(args, "duration");
	gint64 seconds;

	if (!duration || !duration_parse(duration, &seconds, &gerror))
		return protocol_error_new(PROTOCOL_E_INVALID, "%s", gerror ? gerror->message : "a duration is required");
	if (seconds <= 0 || seconds > SNOOZE_MAX_S)
		return protocol_error_new(PROTOCOL_E_INVALID, "snooze for more than 0s and at most a year");
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "contact"), &contact);
	if (error)
		return error;
	gint64 until = now_s() + seconds;
	if (!store_contact_set_snooze(tiesd->store, contact->id, until, &gerror))
		return protocol_error_new(PROTOCOL_E_FAILED, "%s", gerror->message);
	nudge_scheduler_kick(tiesd->nudges);

	JsonObject *result = json_object_new();
	json_object_set_int_member(result, "contact_id", contact->id);
	json_set_time_or_null(result, "until", until);
	return protocol_result_new(result);
}

static JsonObject *cmd_dismiss(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(GError) gerror = NULL;
	gint64 event_id = json_get_int(args, "event", 0);

	if (event_id <= 0)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "an event id is required");
	if (!store_event_dismiss(tiesd->store, event_id, &gerror))
		return protocol_error_new(g_error_matches(gerror, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? PROTOCOL_E_NOT_FOUND
												   : PROTOCOL_E_FAILED,
					  "%s", gerror->message);
	nudge_scheduler_kick(tiesd->nudges);

	JsonObject *result = json_object_new();
	json_object_set_int_member(result, "event", event_id);
	json_object_set_boolean_member(result, "dismissed", TRUE);
	return protocol_result_new(result);
}

static JsonObject *cmd_events(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(GError) gerror = NULL;
	const char *since_text = json_get_string(args, "since");
	gint64 since = 0;

	if (since_text) {
		gint64 seconds;
		if (!duration_parse(since_text, &seconds, &gerror))
			return protocol_error_new(PROTOCOL_E_INVALID, "%s", gerror->message);
		since = now_s() - seconds;
	}
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "events",
				     store_events_list(tiesd->store, since, json_get_string(args, "kind"), 0));
	return protocol_result_new(result);
}

static JsonObject *cmd_who_at(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	const char *org = json_get_string(args, "org");

	if (!org || !*org)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "an organisation is required");
	g_autofree char *key = normalize_org(org);
	JsonObject *result = json_object_new();
	json_object_set_string_member(result, "org", org);
	json_object_set_array_member(result, "contacts", store_who_at(tiesd->store, key, json_get_bool(args, "past")));
	return protocol_result_new(result);
}

static JsonObject *cmd_link(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) a = NULL;
	g_autoptr(StoreContact) b = NULL;
	g_autoptr(GError) gerror = NULL;
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "a"), &a);

	if (error || (error = resolve_contact(tiesd, json_get_string(args, "b"), &b)))
		return error;
	if (a->id == b->id)
		return protocol_error_new(PROTOCOL_E_INVALID, "%s and %s are the same contact", json_get_string(args, "a"),
					  json_get_string(args, "b"));
	if (!store_contacts_link(tiesd->store, a->id, b->id, &gerror))
		return protocol_error_new(PROTOCOL_E_FAILED, "%s", gerror->message);
	log_info("linked %s (%" G_GINT64_FORMAT ") into %s (%" G_GINT64_FORMAT ")", b->name, b->id, a->name, a->id);
	nudge_scheduler_kick(tiesd->nudges);
	JsonObject *result = json_object_new();
	json_object_set_int_member(result, "contact_id", a->id);
	json_object_set_int_member(result, "absorbed", b->id);
	return protocol_result_new(result);
}

static JsonObject *cmd_unlink(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) a = NULL;
	g_autoptr(GError) gerror = NULL;
	g_autoptr(GArray) created = g_array_new(FALSE, FALSE, sizeof(gint64));
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "a"), &a);

	if (error)
		return error;
	if (!store_contacts_unlink(tiesd->store, a->id, json_get_string(args, "b"), created, &gerror))
		return protocol_error_new(g_error_matches(gerror, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? PROTOCOL_E_NOT_FOUND
												   : PROTOCOL_E_FAILED,
					  "%s", gerror->message);
	nudge_scheduler_kick(tiesd->nudges);
	JsonObject *result = json_object_new();
	JsonArray *ids = json_array_new();
	for (guint i = 0; i < created->len; i++)
		json_array_add_int_element(ids, g_array_index(created, gint64, i));
	json_object_set_int_member(result, "contact_id", a->id);
	json_object_set_array_member(result, "separated", ids);
	return protocol_result_new(result);
}

static JsonObject *cmd_nudges(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "nudges", nudge_scheduler_list(tiesd->nudges));
	return protocol_result_new(result);
}

static JsonObject *cmd_sources(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "sources", sources_to_json(tiesd->sources));
	return protocol_result_new(result);
}

static JsonObject *cmd_feeds(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "feeds", feed_poller_to_json(tiesd->feeds));
	return protocol_result_new(result);
}

static JsonObject *cmd_feeds_add(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(StoreContact) contact = NULL;
	g_autoptr(GError) gerror = NULL;
	const char *url = json_get_string(args, "url");

	if (!url || !*url)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "a feed URL is required");
	JsonObject *error = resolve_contact(tiesd, json_get_string(args, "contact"), &contact);
	if (error)
		return error;
	gint64 id = feed_poller_add(tiesd->feeds, url, contact->id, FEED_ORIGIN_CLI, &gerror);
	if (!id)
		return protocol_error_new(g_error_matches(gerror, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)
						  ? PROTOCOL_E_INVALID
						  : PROTOCOL_E_FAILED,
					  "%s", gerror->message);
	log_info("feed %s added for %s", url, contact->name);
	g_autoptr(StoreFeed) feed = store_feed_get(tiesd->store, id);
	JsonObject *result = json_object_new();
	json_object_set_object_member(result, "feed", store_feed_to_json(feed, FEEDS_DEFAULT_INTERVAL_S));
	return protocol_result_new(result);
}

static JsonObject *cmd_feeds_import(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(GError) gerror = NULL;
	const char *opml = json_get_string(args, "opml");
	guint added = 0, skipped = 0;

	if (!opml)
		return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "the OPML document is required");
	if (!feed_poller_import_opml(tiesd->feeds, opml, strlen(opml), &added, &skipped, &gerror))
		return protocol_error_new(PROTOCOL_E_INVALID, "%s", gerror->message);
	log_info("OPML import: %u feeds added, %u skipped", added, skipped);
	JsonObject *result = json_object_new();
	json_object_set_int_member(result, "added", added);
	json_object_set_int_member(result, "skipped", skipped);
	return protocol_result_new(result);
}

static JsonObject *cmd_feeds_export(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autofree char *opml = feed_poller_export_opml(tiesd->feeds);
	JsonObject *result = json_object_new();
	json_object_set_string_member(result, "opml", opml);
	return protocol_result_new(result);
}

static JsonObject *cmd_status(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonObject *result = json_object_new();
	JsonObject *counts = json_object_new();
	StoreCounts c;
	gint64 now = now_s();

	store_counts(tiesd->store, &c);
	json_object_set_string_member(result, "version", PACKAGE_VERSION);
	json_object_set_int_member(result, "pid", getpid());
	json_set_time_or_null(result, "started_at", tiesd->started_at);
	json_object_set_int_member(result, "uptime_s", now - tiesd->started_at);
	json_object_set_string_member(result, "database", tiesd->database_path);
	json_object_set_string_member(result, "config", tiesd->config_path);
	json_object_set_int_member(counts, "contacts", c.contacts);
	json_object_set_int_member(counts, "gone", c.gone);
	json_object_set_int_member(counts, "interactions", c.interactions);
	json_object_set_int_member(counts, "events", c.events);
	json_object_set_int_member(counts, "nudges_pending", c.nudges_pending);
	json_object_set_int_member(counts, "feeds", store_feeds_count(tiesd->store));
	json_object_set_int_member(counts, "posts", store_posts_count(tiesd->store));
	json_object_set_int_member(counts, "suggested_links", store_count_suggestions(tiesd->store));
	json_object_set_object_member(result, "counts", counts);
	json_object_set_boolean_member(result, "notification_server", notifier_available(tiesd->notifier));
	json_object_set_boolean_member(result, "quiet_now", nudge_scheduler_quiet_now(tiesd->nudges));
	json_object_set_int_member(result, "nudges_shown_today", nudge_scheduler_shown_today(tiesd->nudges));
	json_object_set_int_member(result, "max_nudges_per_day", tiesd->config->max_nudges_per_day);
	json_object_set_array_member(result, "sources", sources_to_json(tiesd->sources));
	json_object_set_array_member(result, "held_syncs", store_held_syncs(tiesd->store));
	return protocol_result_new(result);
}

static JsonObject *cmd_version(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonObject *result = json_object_new();
	json_object_set_string_member(result, "version", PACKAGE_VERSION);
	json_object_set_int_member(result, "protocol", PROTOCOL_VERSION);
	return protocol_result_new(result);
}

static JsonObject *cmd_reload(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	g_autoptr(GError) gerror = NULL;

	if (!tiesd_reload(tiesd, &gerror))
		return protocol_error_new(PROTOCOL_E_FAILED, "%s; the previous configuration stays", gerror->message);
	JsonObject *result = json_object_new();
	json_object_set_string_member(result, "config", tiesd->config_path);
	json_object_set_int_member(result, "sources", tiesd->config->sources->len);
	return protocol_result_new(result);
}

/* ---- sync, the one command answered later ---- */

typedef struct {
	ControlRequest *request; /* answered when pending reaches 0 */
	guint pending;
	JsonArray *results;      /* owned */
} SyncJob;

static void sync_job_finish_one(SyncJob *job);

static void on_sync_done(const SyncResult *sync, gpointer user_data)
{
	SyncJob *job = user_data;
	JsonObject *row = json_object_new();

	json_object_set_string_member(row, "source", sync->source);
	json_object_set_string_member(row, "result", sync->held ? "held" : sync->ok ? "ok" : "error");
	json_set_string_or_null(row, "message", sync->message);
	json_object_set_int_member(row, "added", sync->counts.added);
	json_object_set_int_member(row, "updated", sync->counts.updated);
	json_object_set_int_member(row, "gone", sync->counts.gone);
	json_object_set_int_member(row, "unchanged", sync->counts.unchanged);
	json_array_add_object_element(job->results, json_object_ref(row));
	control_request_progress(job->request, row);
	sync_job_finish_one(job);
}

static void sync_job_finish_one(SyncJob *job)
{
	if (--job->pending > 0)
		return;
	JsonObject *result = json_object_new();
	json_object_set_array_member(result, "results", g_steal_pointer(&job->results));
	control_request_reply(job->request, protocol_result_new(result));
	g_free(job);
}

/* The feeds' row: "ok" unless every feed failed, since one broken blog
 * among hundreds is no reason for `sync --wait` to fail. */
static void on_feeds_polled(const FeedPollCounts *counts, gpointer user_data)
{
	SyncJob *job = user_data;
	JsonObject *row = json_object_new();
	g_autofree char *message = counts->errors ? g_strdup_printf("%u of %u feeds failed, see tiesctl feeds",
								   counts->errors, counts->feeds)
						  : NULL;

	json_object_set_string_member(row, "source", "feeds");
	json_object_set_string_member(row, "result",
				      counts->errors && counts->errors == counts->feeds ? "error" : "ok");
	json_set_string_or_null(row, "message", message);
	json_object_set_int_member(row, "feeds", counts->feeds);
	json_object_set_int_member(row, "new_posts", counts->new_items);
	json_object_set_int_member(row, "not_modified", counts->not_modified);
	json_object_set_int_member(row, "errors", counts->errors);
	json_object_set_int_member(row, "events", counts->events);
	json_array_add_object_element(job->results, json_object_ref(row));
	control_request_progress(job->request, row);
	sync_job_finish_one(job);
}

static JsonObject *start_sync(Tiesd *tiesd, ControlRequest *request, JsonObject *args)
{
	JsonArray *requested = json_get_array(args, "sources");
	/* No source named: every source and every feed (SPEC §6). */
	gboolean everything = !requested || json_array_get_length(requested) == 0;
	g_autoptr(GPtrArray) names = NULL;

	if (!everything) {
		names = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < json_array_get_length(requested); i++) {
			JsonNode *node = json_array_get_element(requested, i);
			if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
				return protocol_error_new(PROTOCOL_E_BAD_REQUEST, "\"sources\" must be a list of names");
			const char *name = json_node_get_string(node);
			if (!sources_exists(tiesd->sources, name))
				return protocol_error_new(PROTOCOL_E_NOT_FOUND, "no source named \"%s\"", name);
			g_ptr_array_add(names, g_strdup(name));
		}
	} else {
		names = sources_names(tiesd->sources);
	}

	gboolean feeds = everything && store_feeds_count(tiesd->store) > 0;
	gboolean wait = json_get_bool(args, "wait");
	gboolean accept = json_get_bool(args, "accept");

	if (!wait) {
		for (guint i = 0; i < names->len; i++)
			sources_sync(tiesd->sources, g_ptr_array_index(names, i), accept, NULL, NULL);
		if (feeds) {
			feed_poller_poll_all(tiesd->feeds, NULL, NULL, NULL);
			g_ptr_array_add(names, g_strdup("feeds"));
		}
		JsonObject *started = json_object_new();
		json_object_set_array_member(started, "started", json_array_from_strings(names));
		return protocol_result_new(started);
	}
	if (names->len == 0 && !feeds) {
		JsonObject *done = json_object_new();
		json_object_set_array_member(done, "results", json_array_new());
		return protocol_result_new(done);
	}

	SyncJob *job = g_new0(SyncJob, 1);
	job->request = request;
	job->pending = names->len + (feeds ? 1 : 0);
	job->results = json_array_new();
	for (guint i = 0; i < names->len; i++)
		sources_sync(tiesd->sources, g_ptr_array_index(names, i), accept, on_sync_done, job);
	if (feeds)
		feed_poller_poll_all(tiesd->feeds, NULL, on_feeds_polled, job);
	return NULL; /* answered by sync_job_finish_one() */
}

static const struct {
	const char *name;
	CommandFunc func;
} commands[] = {
	{ "status", cmd_status },   { "sources", cmd_sources }, { "sync", start_sync },
	{ "contacts", cmd_contacts }, { "show", cmd_show },     { "touch", cmd_touch },
	{ "cadence", cmd_cadence }, { "snooze", cmd_snooze },   { "dismiss", cmd_dismiss },
	{ "events", cmd_events },   { "nudges", cmd_nudges },   { "reload", cmd_reload },
	{ "version", cmd_version }, { "who-at", cmd_who_at }, { "link", cmd_link },
	{ "unlink", cmd_unlink }, { "feeds", cmd_feeds }, { "feeds-add", cmd_feeds_add },
	{ "feeds-import", cmd_feeds_import }, { "feeds-export", cmd_feeds_export },
};

void commands_handle(ControlRequest *request, const char *command, JsonObject *args, gpointer user_data)
{
	Tiesd *tiesd = user_data;

	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (strcmp(commands[i].name, command) == 0) {
			log_debug("control: %s", command);
			JsonObject *response = commands[i].func(tiesd, request, args);
			if (response)
				control_request_reply(request, response);
			return;
		}
	}
	control_request_reply(request, protocol_error_new(PROTOCOL_E_UNKNOWN_COMMAND, "unknown command \"%s\"", command));
}
