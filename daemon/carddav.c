/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "carddav.h"

/* Placeholder so the tree links while the client is being written. */
struct CarddavSync {
	CarddavDoneFunc done;
	gpointer user_data;
	guint idle;
};

static gboolean report(gpointer user_data)
{
	CarddavSync *sync = user_data;
	CarddavResult *result = g_new0(CarddavResult, 1);
	result->books = g_ptr_array_new();
	result->error = g_strdup("CardDAV is not available in this build");
	sync->done(result, sync->user_data);
	g_free(sync);
	return G_SOURCE_REMOVE;
}

CarddavSync *carddav_sync_start(HttpEngine *engine, const CarddavAccount *account, const CarddavState *state,
				CarddavDoneFunc done, gpointer user_data)
{
	CarddavSync *sync = g_new0(CarddavSync, 1);
	sync->done = done;
	sync->user_data = user_data;
	sync->idle = g_idle_add(report, sync);
	return sync;
}

void carddav_sync_cancel(CarddavSync *sync)
{
	g_source_remove(sync->idle);
	g_free(sync);
}

void carddav_result_free(CarddavResult *result)
{
	g_ptr_array_unref(result->books);
	g_free(result->error);
	g_free(result);
}
