/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "duration.h"
#include "log.h"
#include "normalize.h"
#include "nudge.h"
#include "protocol.h"

#define SECONDS_PER_DAY 86400
#define JITTER_MAX_S (3 * SECONDS_PER_DAY)
#define SNOOZE_ACTION_S (7 * SECONDS_PER_DAY)
#define RECENT_NUDGES_S (30 * SECONDS_PER_DAY)
/* Re-evaluate at least this often, so that clock changes and suspend are
 * caught up with; every known deadline wakes the scheduler earlier. */
#define MAX_SLEEP_S 3600

/* ---- policy ---- */

const char *cadence_origin_name(CadenceOrigin origin)
{
	switch (origin) {
	case CADENCE_FROM_CONTACT:
		return "contact";
	case CADENCE_FROM_CATEGORY:
		return "category";
	case CADENCE_FROM_DEFAULT:
		return "default";
	}
	return "default";
}

void nudge_cadence(const Config *config, const StoreContact *contact, Cadence *out)
{
	if (contact->cadence_s) {
		*out = (Cadence){ contact->cadence_s, CADENCE_FROM_CONTACT, NULL };
		return;
	}
	if (contact->tier && config_tier_cadence(config, contact->tier, &out->seconds)) {
		out->origin = CADENCE_FROM_CONTACT;
		out->tier = contact->tier;
		return;
	}
	for (guint i = 0; i < contact->categories->len; i++) {
		const char *category = g_ptr_array_index(contact->categories, i);
		if (config_tier_cadence(config, category, &out->seconds)) {
			out->origin = CADENCE_FROM_CATEGORY;
			out->tier = category;
			return;
		}
	}
	*out = (Cadence){ config->default_cadence_s, CADENCE_FROM_DEFAULT, NULL };
}

gint64 nudge_silence_since(const StoreContact *contact)
{
	if (contact->last_interaction)
		return contact->last_interaction;
	if (contact->connected_on)
		return contact->connected_on;
	return contact->first_seen;
}

gint64 nudge_jitter(gint64 contact_id, gint64 cadence_s)
{
	gint64 span = MIN(cadence_s / 10, JITTER_MAX_S);
	if (span <= 0)
		return 0;
	/* A multiplicative hash spreads consecutive ids over the span. */
	guint32 h = (guint32)contact_id * 2654435761u;
	return (gint64)(h % (guint32)span);
}

gint64 nudge_due(const StoreContact *contact, const Cadence *cadence)
{
	if (cadence->seconds == CONFIG_CADENCE_NEVER)
		return 0;
	return nudge_silence_since(contact) + cadence->seconds + nudge_jitter(contact->id, cadence->seconds);
}

gboolean nudge_quiet_at(const Config *config, GDateTime *local)
{
	if (!config->quiet_hours)
		return FALSE;
	int minute = g_date_time_get_hour(local) * 60 + g_date_time_get_minute(local);
	int start = config->quiet_start_min, end = config->quiet_end_min;
	if (start < end)
		return minute >= start && minute < end;
	return minute >= start || minute < end;
}

gint64 nudge_quiet_end(const Config *config, GDateTime *local)
{
	/* Built from the local date, not by adding minutes, so that a night
	 * with a clock change still ends at the configured time. */
	GTimeZone *zone = g_date_time_get_timezone(local);
	g_autoptr(GDateTime) end = g_date_time_new(zone, g_date_time_get_year(local), g_date_time_get_month(local),
						   g_date_time_get_day_of_month(local), config->quiet_end_min / 60,
						   config->quiet_end_min % 60, 0);
	if (g_date_time_compare(end, local) <= 0) {
		g_autoptr(GDateTime) today = g_steal_pointer(&end);
		g_autoptr(GDateTime) tomorrow = g_date_time_add_days(local, 1);
		end = g_date_time_new(zone, g_date_time_get_year(tomorrow), g_date_time_get_month(tomorrow),
				      g_date_time_get_day_of_month(tomorrow), config->quiet_end_min / 60,
				      config->quiet_end_min % 60, 0);
	}
	return g_date_time_to_unix(end);
}

int nudge_kind_order(const char *kind)
{
	if (g_strcmp0(kind, "job-change") == 0)
		return 0;
	if (g_strcmp0(kind, "new-role") == 0)
		return 1;
	return 2;
}

int nudge_rank_compare(const NudgeRank *a, const NudgeRank *b)
{
	if (a->kind_order != b->kind_order)
		return a->kind_order < b->kind_order ? -1 : 1;
	if (a->known_history != b->known_history)
		return a->known_history ? -1 : 1;
	if (a->same_org != b->same_org)
		return a->same_org ? 1 : -1;
	if (a->overdue != b->overdue)
		return a->overdue > b->overdue ? -1 : 1;
	if (a->cadence_s != b->cadence_s)
		return a->cadence_s > b->cadence_s ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

char *nudge_summary(const StoreContact *contact)
{
	return g_strdup_printf("Reach out to %s", contact->name);
}

char *nudge_body(const StoreContact *contact, const Cadence *cadence, gint64 now)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autofree char *cadence_text = cadence->seconds == CONFIG_CADENCE_NEVER ? g_strdup("never")
									      : duration_format(cadence->seconds);

	if (contact->org) {
		g_string_append_printf(body, "%s%s%s · ", contact->title ? contact->title : "",
				       contact->title ? ", " : "", contact->org);
	}
	if (contact->last_interaction) {
		g_autofree char *ago = duration_format_human(now - contact->last_interaction);
		g_string_append_printf(body, "last contact %s ago", ago);
	} else {
		g_autofree char *ago = duration_format_human(now - nudge_silence_since(contact));
		g_string_append_printf(body, "no contact on record (known for %s)", ago);
	}
	g_string_append_printf(body, " · cadence %s%s%s%s", cadence_text, cadence->tier ? " (" : "",
			       cadence->tier ? cadence->tier : "", cadence->tier ? ")" : "");
	return g_string_free(g_steal_pointer(&body), FALSE);
}

/* A title longer than this is cut, so that the body stays a glance. */
#define TOPIC_TITLE_MAX_CHARS 40

static void append_topic(GString *body, const StoreNudge *nudge, const StorePost *topic, gint64 now)
{
	g_autofree char *title = NULL;

	if (!topic)
		return;
	if (topic->title && *topic->title) {
		const char *cut = text_cut_point(topic->title, TOPIC_TITLE_MAX_CHARS);
		g_autofree char *opening = g_strdup_printf("「%.*s", (int)(cut - topic->title), topic->title);
		/* A job change read from this very post already quotes it, maybe
		 * at greater length: compare the quotes' openings. */
		if (nudge->detail && strstr(nudge->detail, opening))
			return;
		title = g_strdup_printf("%s%s」", opening, *cut ? "…" : "");
	}
	g_autofree char *ago = duration_format_human(now - (topic->published ? topic->published : topic->seen_at));
	g_string_append_printf(body, "%swrote %s %s ago", body->len ? " · " : "", title ? title : "a post", ago);
}

char *nudge_describe(const StoreContact *contact, const Cadence *cadence, const StoreNudge *nudge,
		     const StorePost *topic, gint64 now)
{
	g_autoptr(GString) body = NULL;

	if (g_strcmp0(nudge->kind, "silence") == 0 || !nudge->detail) {
		g_autofree char *plain = nudge_body(contact, cadence, now);
		body = g_string_new(plain);
		append_topic(body, nudge, topic, now);
		return g_string_free(g_steal_pointer(&body), FALSE);
	}

	body = g_string_new(nudge->detail);
	g_autofree char *ago = duration_format_human(now - nudge->event_at);
	g_string_append_printf(body, " %s ago", ago);
	if (contact->last_interaction) {
		g_autofree char *last = duration_format_human(now - contact->last_interaction);
		g_string_append_printf(body, " · last contact %s ago", last);
	} else {
		g_string_append(body, " · no contact on record");
	}
	append_topic(body, nudge, topic, now);
	return g_string_free(g_steal_pointer(&body), FALSE);
}

/* ---- scheduler ---- */

struct NudgeScheduler {
	Store *store;          /* borrowed */
	Notifier *notifier;    /* borrowed */
	const Config *config;  /* borrowed */
	guint kick_source;
	guint timer_source;
};

typedef struct {
	StoreNudge *nudge;     /* borrowed */
	StoreContact *contact; /* borrowed */
	Cadence cadence;
	NudgeRank rank;
} Candidate;

static gboolean run(gpointer user_data);

NudgeScheduler *nudge_scheduler_new(Store *store, Notifier *notifier)
{
	NudgeScheduler *scheduler = g_new0(NudgeScheduler, 1);
	scheduler->store = store;
	scheduler->notifier = notifier;
	return scheduler;
}

void nudge_scheduler_free(NudgeScheduler *scheduler)
{
	if (!scheduler)
		return;
	g_clear_handle_id(&scheduler->kick_source, g_source_remove);
	g_clear_handle_id(&scheduler->timer_source, g_source_remove);
	g_free(scheduler);
}

void nudge_scheduler_set_config(NudgeScheduler *scheduler, const Config *config)
{
	scheduler->config = config;
}

static gboolean on_kick(gpointer user_data)
{
	NudgeScheduler *scheduler = user_data;
	scheduler->kick_source = 0;
	run(scheduler);
	return G_SOURCE_REMOVE;
}

void nudge_scheduler_kick(NudgeScheduler *scheduler)
{
	if (!scheduler->kick_source)
		scheduler->kick_source = g_idle_add(on_kick, scheduler);
}

static gint64 now_s(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

static gint64 local_midnight_after(gint64 now)
{
	g_autoptr(GDateTime) local = g_date_time_new_from_unix_local(now);
	g_autoptr(GDateTime) start = g_date_time_new_local(g_date_time_get_year(local), g_date_time_get_month(local),
							   g_date_time_get_day_of_month(local), 0, 0, 0);
	g_autoptr(GDateTime) next = g_date_time_add_days(start, 1);
	return g_date_time_to_unix(next);
}

static gint64 local_midnight_before(gint64 now)
{
	return local_midnight_after(now) - SECONDS_PER_DAY;
}

gint64 nudge_scheduler_shown_today(NudgeScheduler *scheduler)
{
	g_autoptr(GPtrArray) shown = store_nudges_shown_since(scheduler->store, local_midnight_before(now_s()));
	return shown->len;
}

gboolean nudge_scheduler_quiet_now(NudgeScheduler *scheduler)
{
	g_autoptr(GDateTime) local = g_date_time_new_now_local();
	return nudge_quiet_at(scheduler->config, local);
}

static gboolean same_org(const Config *config, const StoreContact *contact)
{
	if (!config->organization || !contact->org)
		return FALSE;
	g_autofree char *mine = normalize_org(config->organization);
	g_autofree char *theirs = normalize_org(contact->org);
	return strcmp(mine, theirs) == 0;
}

static StoreContact *lookup_contact(GHashTable *by_id, gint64 id)
{
	return g_hash_table_lookup(by_id, &id);
}

static GHashTable *index_contacts(GPtrArray *contacts)
{
	GHashTable *by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
	for (guint i = 0; i < contacts->len; i++) {
		StoreContact *contact = g_ptr_array_index(contacts, i);
		g_hash_table_insert(by_id, &contact->id, contact);
	}
	return by_id;
}

static void log_store_error(const char *what, GError *error)
{
	if (error)
		log_error("%s: %s", what, error->message);
}

/* One silence per contact and silence-clock start: the same silence is
 * never raised twice, a new one after a new interaction is. */
static char *silence_key(const StoreContact *contact)
{
	return g_strdup_printf("silence:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT, contact->id,
			       nudge_silence_since(contact));
}

/* Raises a silence event, and its nudge, for every overdue contact; returns
 * the earliest future due time (or G_MAXINT64). */
static gint64 raise_silence_events(NudgeScheduler *scheduler, GPtrArray *contacts, gint64 now)
{
	gint64 next = G_MAXINT64;

	for (guint i = 0; i < contacts->len; i++) {
		StoreContact *contact = g_ptr_array_index(contacts, i);
		Cadence cadence;

		if (contact->gone)
			continue;
		nudge_cadence(scheduler->config, contact, &cadence);
		gint64 due = nudge_due(contact, &cadence);
		if (!due)
			continue;
		if (due > now) {
			next = MIN(next, due);
			continue;
		}
		if (contact->snoozed_until > now) {
			next = MIN(next, contact->snoozed_until);
			continue;
		}

		g_autoptr(GError) error = NULL;
		g_autofree char *dedup = silence_key(contact);
		g_autofree char *silent_for = duration_format_human(now - nudge_silence_since(contact));
		g_autofree char *cadence_text = duration_format(cadence.seconds);
		g_autofree char *detail = g_strdup_printf("no contact for %s (cadence %s)", silent_for, cadence_text);
		gint64 event_id;
		gboolean created;

		if (!store_event_add(scheduler->store, contact->id, "silence", due, dedup, detail, &event_id, &created,
				     &error)) {
			log_store_error("cannot record a silence event", error);
			continue;
		}
		if (created) {
			log_info("%s is overdue: %s", contact->name, detail);
			if (!store_nudge_add(scheduler->store, event_id, contact->id, now, NULL, &error))
				log_store_error("cannot record a nudge", error);
		}
	}
	return next;
}

/* Pending nudges that have become moot are closed; snoozed ones come back
 * when their snooze ends. Returns the earliest snooze end ahead. */
static gint64 revisit_nudges(NudgeScheduler *scheduler, GHashTable *by_id, gint64 now)
{
	g_autoptr(GPtrArray) open = store_nudges_in_state(scheduler->store, NULL);
	gint64 next = G_MAXINT64;

	for (guint i = 0; i < open->len; i++) {
		StoreNudge *nudge = g_ptr_array_index(open, i);
		gboolean pending = strcmp(nudge->state, "pending") == 0;
		gboolean snoozed = strcmp(nudge->state, "snoozed") == 0;
		const char *new_state = NULL;

		if (!pending && !snoozed)
			continue;
		StoreContact *contact = lookup_contact(by_id, nudge->contact_id);
		if (!contact || contact->gone) {
			new_state = "resolved";
		} else if (strcmp(nudge->kind, "silence") == 0) {
			Cadence cadence;
			nudge_cadence(scheduler->config, contact, &cadence);
			gint64 due = nudge_due(contact, &cadence);
			g_autofree char *key = silence_key(contact);
			if (!due || due > now || g_strcmp0(key, nudge->event_key) != 0)
				new_state = "resolved";
		}
		if (!new_state && contact->snoozed_until > now) {
			next = MIN(next, contact->snoozed_until);
			if (pending)
				new_state = "snoozed";
		} else if (!new_state && snoozed) {
			new_state = "pending";
		}
		if (new_state) {
			g_autoptr(GError) error = NULL;
			if (!store_nudge_set_state(scheduler->store, nudge->id, new_state, now, &error))
				log_store_error("cannot update a nudge", error);
		}
	}
	return next;
}

static int compare_candidates(gconstpointer a, gconstpointer b)
{
	return nudge_rank_compare(&((const Candidate *)a)->rank, &((const Candidate *)b)->rank);
}

/* Pending nudges, best first. */
static GArray *rank_pending(NudgeScheduler *scheduler, GPtrArray *pending, GHashTable *by_id, gint64 now)
{
	GArray *candidates = g_array_new(FALSE, TRUE, sizeof(Candidate));

	for (guint i = 0; i < pending->len; i++) {
		StoreNudge *nudge = g_ptr_array_index(pending, i);
		StoreContact *contact = lookup_contact(by_id, nudge->contact_id);
		Candidate c = { 0 };

		if (!contact)
			continue;
		c.nudge = nudge;
		c.contact = contact;
		nudge_cadence(scheduler->config, contact, &c.cadence);
		gint64 due = nudge_due(contact, &c.cadence);
		c.rank.kind_order = nudge_kind_order(nudge->kind);
		c.rank.known_history = contact->last_interaction != 0;
		c.rank.same_org = same_org(scheduler->config, contact);
		c.rank.cadence_s = c.cadence.seconds;
		c.rank.overdue = due && c.cadence.seconds > 0 ? (double)(now - due) / (double)c.cadence.seconds : 0;
		c.rank.id = nudge->id;
		g_array_append_val(candidates, c);
	}
	g_array_sort(candidates, compare_candidates);
	return candidates;
}

/* The contact's post a nudge names as its topic, if one is this recent. */
#define TOPIC_MAX_AGE_S (30 * 86400)

static StorePost *topic_of(NudgeScheduler *scheduler, gint64 contact_id, gint64 now)
{
	return store_contact_latest_post(scheduler->store, contact_id, now - TOPIC_MAX_AGE_S);
}

/* "Open" opens the post the nudge names, else the contact's first URL. */
static const char *open_uri_of(const StoreContact *contact, const StorePost *topic)
{
	if (topic && topic->link)
		return topic->link;
	return contact->urls->len ? g_ptr_array_index(contact->urls, 0) : NULL;
}

/* Why pending nudges are not shown right now; NULL when they would be. */
static const char *held_reason(NudgeScheduler *scheduler, gint64 now, gint64 shown_today)
{
	g_autoptr(GDateTime) local = g_date_time_new_from_unix_local(now);

	if (!notifier_available(scheduler->notifier))
		return "no-notification-server";
	if (nudge_quiet_at(scheduler->config, local))
		return "quiet-hours";
	if (scheduler->config->max_nudges_per_day && shown_today >= scheduler->config->max_nudges_per_day)
		return "daily-cap";
	return NULL;
}

static gint64 show_nudges(NudgeScheduler *scheduler, GHashTable *by_id, gint64 now)
{
	g_autoptr(GPtrArray) pending = store_nudges_in_state(scheduler->store, "pending");
	gint64 shown_today = nudge_scheduler_shown_today(scheduler);
	const char *held = held_reason(scheduler, now, shown_today);

	if (pending->len == 0)
		return G_MAXINT64;
	if (held) {
		g_autoptr(GDateTime) local = g_date_time_new_from_unix_local(now);
		log_debug("%u nudges pending, held: %s", pending->len, held);
		if (strcmp(held, "quiet-hours") == 0)
			return nudge_quiet_end(scheduler->config, local);
		if (strcmp(held, "daily-cap") == 0)
			return local_midnight_after(now);
		return G_MAXINT64; /* the server's arrival kicks us */
	}

	g_autoptr(GArray) ranked = rank_pending(scheduler, pending, by_id, now);
	int cap = scheduler->config->max_nudges_per_day;
	for (guint i = 0; i < ranked->len; i++) {
		if (cap && shown_today >= cap)
			return local_midnight_after(now);
		Candidate *c = &g_array_index(ranked, Candidate, i);
		g_autoptr(StorePost) topic = topic_of(scheduler, c->contact->id, now);
		g_autofree char *summary = nudge_summary(c->contact);
		g_autofree char *body = nudge_describe(c->contact, &c->cadence, c->nudge, topic, now);
		g_autoptr(GError) error = NULL;

		if (!notifier_show(scheduler->notifier, c->nudge->id, summary, body, open_uri_of(c->contact, topic),
				   &error)) {
			log_warning("cannot show a notification: %s; nudges stay pending", error->message);
			return now + 60;
		}
		log_info("nudge shown: %s (%s)", summary, body);
		if (!store_nudge_set_text(scheduler->store, c->nudge->id, summary, body, &error) ||
		    !store_nudge_set_state(scheduler->store, c->nudge->id, "shown", now, &error))
			log_store_error("cannot record a shown nudge", error);
		shown_today++;
	}
	return G_MAXINT64;
}

static gboolean on_timer(gpointer user_data)
{
	NudgeScheduler *scheduler = user_data;
	scheduler->timer_source = 0;
	run(scheduler);
	return G_SOURCE_REMOVE;
}

static gboolean run(gpointer user_data)
{
	NudgeScheduler *scheduler = user_data;
	gint64 now = now_s();
	g_autoptr(GPtrArray) contacts = store_contacts_all(scheduler->store);
	g_autoptr(GHashTable) by_id = index_contacts(contacts);

	gint64 next = raise_silence_events(scheduler, contacts, now);
	next = MIN(next, revisit_nudges(scheduler, by_id, now));
	next = MIN(next, show_nudges(scheduler, by_id, now));

	gint64 sleep_s = CLAMP(next - now, 1, MAX_SLEEP_S);
	g_clear_handle_id(&scheduler->timer_source, g_source_remove);
	scheduler->timer_source = g_timeout_add_seconds(sleep_s, on_timer, scheduler);
	return G_SOURCE_REMOVE;
}

void nudge_scheduler_handle_action(NudgeScheduler *scheduler, gint64 nudge_id, NotifyAction action)
{
	g_autoptr(StoreNudge) nudge = store_nudge_get(scheduler->store, nudge_id);
	g_autoptr(GError) error = NULL;
	gint64 now = now_s();

	if (!nudge) {
		log_warning("action on unknown nudge %" G_GINT64_FORMAT ", ignoring", nudge_id);
		return;
	}
	switch (action) {
	case NOTIFY_ACTION_REACHED_OUT:
		if (store_interaction_add(scheduler->store, nudge->contact_id, now, "notification", NULL, "notification",
					  NULL, &error) &&
		    store_nudge_set_state(scheduler->store, nudge_id, "acted", now, &error))
			log_info("reached out (nudge %" G_GINT64_FORMAT ")", nudge_id);
		break;
	case NOTIFY_ACTION_SNOOZE:
		if (store_contact_set_snooze(scheduler->store, nudge->contact_id, now + SNOOZE_ACTION_S, &error) &&
		    store_nudge_set_state(scheduler->store, nudge_id, "snoozed", now, &error))
			log_info("snoozed for a week (nudge %" G_GINT64_FORMAT ")", nudge_id);
		break;
	case NOTIFY_ACTION_DISMISS:
		if (store_event_dismiss(scheduler->store, nudge->event_id, &error))
			log_info("dismissed (nudge %" G_GINT64_FORMAT ")", nudge_id);
		break;
	case NOTIFY_ACTION_OPEN: {
		g_autoptr(StoreContact) contact = store_contact_get(scheduler->store, nudge->contact_id);
		g_autoptr(StorePost) topic = topic_of(scheduler, nudge->contact_id, now);
		const char *uri = contact ? open_uri_of(contact, topic) : NULL;
		if (uri && !g_app_info_launch_default_for_uri(uri, NULL, &error))
			log_warning("cannot open %s: %s", uri, error->message);
		g_clear_error(&error);
		break;
	}
	}
	log_store_error("cannot record the action", error);
	nudge_scheduler_kick(scheduler);
}

static const char *reason_of(const Candidate *c)
{
	if (strcmp(c->nudge->kind, "silence") != 0 && c->nudge->detail)
		return c->nudge->detail;
	return c->rank.known_history ? "overdue" : "overdue, no contact on record";
}

JsonArray *nudge_scheduler_list(NudgeScheduler *scheduler)
{
	gint64 now = now_s();
	g_autoptr(GPtrArray) contacts = store_contacts_all(scheduler->store);
	g_autoptr(GHashTable) by_id = index_contacts(contacts);
	g_autoptr(GPtrArray) pending = store_nudges_in_state(scheduler->store, "pending");
	g_autoptr(GArray) ranked = rank_pending(scheduler, pending, by_id, now);
	const char *held = held_reason(scheduler, now, nudge_scheduler_shown_today(scheduler));
	JsonArray *out = json_array_new();

	for (guint i = 0; i < ranked->len; i++) {
		Candidate *c = &g_array_index(ranked, Candidate, i);
		g_autoptr(StorePost) topic = topic_of(scheduler, c->contact->id, now);
		g_autofree char *summary = nudge_summary(c->contact);
		g_autofree char *body = nudge_describe(c->contact, &c->cadence, c->nudge, topic, now);
		JsonObject *row = json_object_new();

		json_object_set_int_member(row, "id", c->nudge->id);
		json_object_set_int_member(row, "event_id", c->nudge->event_id);
		json_object_set_int_member(row, "contact_id", c->contact->id);
		json_object_set_string_member(row, "name", c->contact->name);
		json_object_set_string_member(row, "kind", c->nudge->kind);
		json_object_set_string_member(row, "state", "pending");
		json_object_set_int_member(row, "rank", i + 1);
		json_object_set_string_member(row, "summary", summary);
		json_object_set_string_member(row, "body", body);
		json_object_set_string_member(row, "reason", reason_of(c));
		json_set_time_or_null(row, "created_at", c->nudge->created_at);
		json_object_set_null_member(row, "shown_at");
		json_set_string_or_null(row, "held", held);
		json_array_add_object_element(out, row);
	}

	g_autoptr(GPtrArray) recent = store_nudges_shown_since(scheduler->store, now - RECENT_NUDGES_S);
	for (guint i = 0; i < recent->len; i++) {
		StoreNudge *nudge = g_ptr_array_index(recent, i);
		StoreContact *contact = lookup_contact(by_id, nudge->contact_id);
		JsonObject *row = json_object_new();

		json_object_set_int_member(row, "id", nudge->id);
		json_object_set_int_member(row, "event_id", nudge->event_id);
		json_object_set_int_member(row, "contact_id", nudge->contact_id);
		json_set_string_or_null(row, "name", contact ? contact->name : NULL);
		json_object_set_string_member(row, "kind", nudge->kind);
		json_object_set_string_member(row, "state", nudge->state);
		json_object_set_null_member(row, "rank");
		json_set_string_or_null(row, "summary", nudge->summary);
		json_set_string_or_null(row, "body", nudge->body);
		json_set_string_or_null(row, "reason", strcmp(nudge->kind, "silence") == 0 ? "overdue" : nudge->detail);
		json_set_time_or_null(row, "created_at", nudge->created_at);
		json_set_time_or_null(row, "shown_at", nudge->shown_at);
		json_object_set_null_member(row, "held");
		json_array_add_object_element(out, row);
	}
	return out;
}
