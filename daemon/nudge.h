/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "conf.h"
#include "notify.h"
#include "store.h"
#include "store-feeds.h"

/* ---- policy: pure functions, tested without a bus or a database ---- */

typedef enum {
	CADENCE_FROM_CONTACT,  /* `tiesctl cadence CONTACT DURATION|TIER` */
	CADENCE_FROM_CATEGORY, /* a vCard CATEGORIES value naming a tier */
	CADENCE_FROM_DEFAULT,  /* [ties] cadence */
} CadenceOrigin;

typedef struct {
	gint64 seconds;       /* CONFIG_CADENCE_NEVER: no silence nudges */
	CadenceOrigin origin;
	const char *tier;     /* borrowed from the config or contact; NULL when none */
} Cadence;

void nudge_cadence(const Config *config, const StoreContact *contact, Cadence *out);
const char *cadence_origin_name(CadenceOrigin origin);

/* When the silence clock started: the last interaction, else LinkedIn's
 * "Connected On", else when the contact was first seen. */
gint64 nudge_silence_since(const StoreContact *contact);
/* A few days at most (a tenth of the cadence for short ones), fixed per
 * contact, so contacts imported together do not all fall due at once. */
gint64 nudge_jitter(gint64 contact_id, gint64 cadence_s);
/* When the contact is due; 0 for cadence never. */
gint64 nudge_due(const StoreContact *contact, const Cadence *cadence);

gboolean nudge_quiet_at(const Config *config, GDateTime *local);
/* The end of the quiet period LOCAL is in, as Unix time. */
gint64 nudge_quiet_end(const Config *config, GDateTime *local);

/* What orders pending nudges (SPEC §5). */
typedef struct {
	int kind_order;          /* job-change 0, new-role 1, silence 2 */
	gboolean known_history;  /* an interaction is on record */
	gboolean same_org;       /* at the user's own organisation */
	double overdue;          /* (now - due) / cadence */
	gint64 cadence_s;        /* longer = weaker tie */
	gint64 id;
} NudgeRank;

int nudge_rank_compare(const NudgeRank *a, const NudgeRank *b);
int nudge_kind_order(const char *kind);

char *nudge_summary(const StoreContact *contact);
char *nudge_body(const StoreContact *contact, const Cadence *cadence, gint64 now);
/* The body for NUDGE: nudge_body() for a silence; for a job change or new
 * role "Joined X as Y 2 days ago · last contact 8 months ago". TOPIC (may
 * be NULL) is the contact's recent post, which adds
 * " · wrote 「TITLE」 3 days ago" unless the nudge is about that post. */
char *nudge_describe(const StoreContact *contact, const Cadence *cadence, const StoreNudge *nudge,
		     const StorePost *topic, gint64 now);

/* ---- the scheduler: raises silence events and shows nudges ---- */

typedef struct NudgeScheduler NudgeScheduler;

/* STORE and NOTIFIER are borrowed and outlive the scheduler. */
NudgeScheduler *nudge_scheduler_new(Store *store, Notifier *notifier);
void nudge_scheduler_free(NudgeScheduler *scheduler);
/* The config is borrowed until the next call. */
void nudge_scheduler_set_config(NudgeScheduler *scheduler, const Config *config);
/* Re-evaluate soon (coalesced): after a sync, a touch, a reload. */
void nudge_scheduler_kick(NudgeScheduler *scheduler);
/* The action a user chose on a notification. */
void nudge_scheduler_handle_action(NudgeScheduler *scheduler, gint64 nudge_id, NotifyAction action);
/* Pending nudges ranked, then those shown in the last 30 days. */
JsonArray *nudge_scheduler_list(NudgeScheduler *scheduler);
/* For `status`. */
gint64 nudge_scheduler_shown_today(NudgeScheduler *scheduler);
gboolean nudge_scheduler_quiet_now(NudgeScheduler *scheduler);
