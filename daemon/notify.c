/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <libnotify/notify.h>

#include "log.h"
#include "notify.h"

#define NOTIFICATIONS_BUS_NAME "org.freedesktop.Notifications"

struct Notifier {
	NotifyActionFunc on_action;
	NotifyServerFunc on_server;
	gpointer user_data;
	guint watch_id;
	gboolean available;
	/* nudge id -> NotifyNotification*, owned: kept until the server says it
	 * closed, since actions only arrive while we hold it. */
	GHashTable *shown;
};

typedef struct {
	Notifier *notifier; /* borrowed */
	gint64 nudge_id;
} ActionData;

static const struct {
	const char *id;
	const char *label;
	NotifyAction action;
} action_table[] = {
	{ "reached-out", "Reached out", NOTIFY_ACTION_REACHED_OUT },
	{ "snooze", "Snooze a week", NOTIFY_ACTION_SNOOZE },
	{ "open", "Open", NOTIFY_ACTION_OPEN },
	{ "dismiss", "Dismiss", NOTIFY_ACTION_DISMISS },
};

static void on_name_appeared(GDBusConnection *connection, const char *name, const char *owner, gpointer user_data)
{
	Notifier *notifier = user_data;

	log_info("notification server %s is on the session bus", owner);
	notifier->available = TRUE;
	if (notifier->on_server)
		notifier->on_server(TRUE, notifier->user_data);
}

static void on_name_vanished(GDBusConnection *connection, const char *name, gpointer user_data)
{
	Notifier *notifier = user_data;

	if (notifier->available || !connection)
		log_info("no notification server%s; nudges stay pending",
			 connection ? "" : " (no session bus)");
	notifier->available = FALSE;
	g_hash_table_remove_all(notifier->shown);
	if (notifier->on_server)
		notifier->on_server(FALSE, notifier->user_data);
}

Notifier *notifier_new(NotifyActionFunc on_action, NotifyServerFunc on_server, gpointer user_data)
{
	Notifier *notifier = g_new0(Notifier, 1);

	notifier->on_action = on_action;
	notifier->on_server = on_server;
	notifier->user_data = user_data;
	notifier->shown = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_object_unref);
	if (!notify_is_initted())
		notify_init("ties");
	/* Watching, not calling: a missing server must not trigger bus
	 * activation or block the loop. */
	notifier->watch_id = g_bus_watch_name(G_BUS_TYPE_SESSION, NOTIFICATIONS_BUS_NAME,
					      G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
					      on_name_vanished, notifier, NULL);
	return notifier;
}

void notifier_free(Notifier *notifier)
{
	if (!notifier)
		return;
	if (notifier->watch_id)
		g_bus_unwatch_name(notifier->watch_id);
	g_hash_table_destroy(notifier->shown);
	g_free(notifier);
	if (notify_is_initted())
		notify_uninit();
}

gboolean notifier_available(const Notifier *notifier)
{
	return notifier->available;
}

static void on_action(NotifyNotification *notification, char *action, gpointer user_data)
{
	ActionData *data = user_data;

	for (gsize i = 0; i < G_N_ELEMENTS(action_table); i++) {
		if (strcmp(action, action_table[i].id) == 0) {
			data->notifier->on_action(data->nudge_id, action_table[i].action, data->notifier->user_data);
			return;
		}
	}
	log_debug("notification action \"%s\" unknown, ignoring", action);
}

static void on_closed(NotifyNotification *notification, gpointer user_data)
{
	ActionData *data = user_data;
	g_hash_table_remove(data->notifier->shown, &data->nudge_id);
}

static void free_action_data(gpointer data, GClosure *closure)
{
	g_free(data);
}

static gboolean server_has(GList *caps, const char *cap)
{
	for (GList *l = caps; l; l = l->next)
		if (strcmp(l->data, cap) == 0)
			return TRUE;
	return FALSE;
}

gboolean notifier_show(Notifier *notifier, gint64 nudge_id, const char *summary, const char *body,
		       const char *open_uri, GError **error)
{
	if (!notifier->available) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no notification server");
		return FALSE;
	}

	GList *caps = notify_get_server_caps();
	gboolean markup = server_has(caps, "body-markup");
	gboolean actions = server_has(caps, "actions");
	g_list_free_full(caps, g_free);

	g_autofree char *escaped = markup ? g_markup_escape_text(body, -1) : NULL;
	NotifyNotification *notification = notify_notification_new(summary, markup ? escaped : body, "contact-new");
	ActionData *data = g_new0(ActionData, 1);
	data->notifier = notifier;
	data->nudge_id = nudge_id;

	notify_notification_set_app_name(notification, "ties");
	notify_notification_set_category(notification, "ties.nudge");
	notify_notification_set_timeout(notification, NOTIFY_EXPIRES_NEVER);
	if (actions) {
		for (gsize i = 0; i < G_N_ELEMENTS(action_table); i++) {
			if (action_table[i].action == NOTIFY_ACTION_OPEN && !open_uri)
				continue;
			notify_notification_add_action(notification, action_table[i].id, action_table[i].label,
						       on_action, data, NULL);
		}
	}
	g_signal_connect_data(notification, "closed", G_CALLBACK(on_closed), data, free_action_data, 0);

	if (!notify_notification_show(notification, error)) {
		g_object_unref(notification);
		return FALSE;
	}
	gint64 *key = g_new(gint64, 1);
	*key = nudge_id;
	g_hash_table_replace(notifier->shown, key, notification);
	return TRUE;
}
