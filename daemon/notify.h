/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* Desktop notifications through libnotify; only this file includes it. */
typedef struct Notifier Notifier;

typedef enum {
	NOTIFY_ACTION_REACHED_OUT,
	NOTIFY_ACTION_SNOOZE,
	NOTIFY_ACTION_OPEN,
	NOTIFY_ACTION_DISMISS,
} NotifyAction;

/* Runs from the main loop when the user picks an action of nudge NUDGE_ID. */
typedef void (*NotifyActionFunc)(gint64 nudge_id, NotifyAction action, gpointer user_data);
/* Runs when a notification server appears on (or leaves) the session bus. */
typedef void (*NotifyServerFunc)(gboolean available, gpointer user_data);

Notifier *notifier_new(NotifyActionFunc on_action, NotifyServerFunc on_server, gpointer user_data);
void notifier_free(Notifier *notifier);

/* TRUE while a notification server owns its bus name. Without a session
 * bus at all (a headless login) it stays FALSE. */
gboolean notifier_available(const Notifier *notifier);

/* Shows one nudge with the actions "Reached out", "Snooze a week", "Open"
 * (only when OPEN_URI is set) and "Dismiss". */
gboolean notifier_show(Notifier *notifier, gint64 nudge_id, const char *summary, const char *body,
		       const char *open_uri, GError **error);
