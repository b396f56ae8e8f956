/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "events.h"
#include "log.h"
#include "normalize.h"
#include "store-feeds.h"

char *events_job_change_key(gint64 contact_id, const char *org_key)
{
	return g_strdup_printf("job-change:%" G_GINT64_FORMAT ":%s", contact_id, org_key);
}

static char *describe(const EmploymentChange *change)
{
	if (change->new_org)
		return change->title ? g_strdup_printf("Joined %s as %s", change->org, change->title)
				     : g_strdup_printf("Joined %s", change->org);
	return g_strdup_printf("New role at %s: %s", change->org, change->title ? change->title : "(no title)");
}

guint events_record_changes(Store *store, const char *source, GPtrArray *changes, gint64 now)
{
	guint created_count = 0;

	for (guint i = 0; changes && i < changes->len; i++) {
		const EmploymentChange *change = g_ptr_array_index(changes, i);
		g_autoptr(GError) error = NULL;
		g_autofree char *detail = describe(change);
		g_autofree char *title_key = normalize_name(change->title);
		g_autofree char *key = change->new_org ? events_job_change_key(change->contact_id, change->org_key)
						       : g_strdup_printf("new-role:%" G_GINT64_FORMAT ":%s:%s",
									 change->contact_id, change->org_key, title_key);
		const char *kind = change->new_org ? "job-change" : "new-role";
		gint64 event_id;
		gboolean created;

		/* The post that announced this move raised its event already:
		 * one event per move, told the card's way. */
		if (change->new_org &&
		    (event_id = store_post_job_change_near(store, change->contact_id, now, EVENTS_SAME_MOVE_WINDOW_S))) {
			if (store_event_set_detail(store, event_id, detail, &error))
				log_info("source %s: %s (contact %" G_GINT64_FORMAT ", the move a post announced)", source,
					 detail, change->contact_id);
			else
				log_error("cannot record a job-change event: %s", error->message);
			continue;
		}

		if (!store_event_add(store, change->contact_id, kind, now, key, detail, &event_id, &created, &error) ||
		    (created && !store_nudge_add(store, event_id, change->contact_id, now, NULL, &error))) {
			log_error("cannot record a %s event: %s", kind, error->message);
			continue;
		}
		if (created) {
			created_count++;
			log_info("source %s: %s (contact %" G_GINT64_FORMAT ", was %s%s%s)", source, detail,
				 change->contact_id, change->old_org ? change->old_org : "?",
				 change->old_title ? " / " : "", change->old_title ? change->old_title : "");
		}
	}
	return created_count;
}
