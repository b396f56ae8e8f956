/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "store.h"

/* A card's job change this close to a post's announcement is that same
 * move (feeds.h uses the same window the other way round). */
#define EVENTS_SAME_MOVE_WINDOW_S (90 * 86400)

/* Turns what a sync saw (EmploymentChange*) into job-change and new-role
 * events, each with its nudge: one per contact per move, never again once
 * raised or dismissed. Returns how many events were new. */
guint events_record_changes(Store *store, const char *source, GPtrArray *changes, gint64 now);

/* The dedup key of a move to ORG_KEY, shared by every detector (cards,
 * LinkedIn, posts) so that one move is one event. */
char *events_job_change_key(gint64 contact_id, const char *org_key);
