/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "conf.h"
#include "control.h"
#include "feeds.h"
#include "http.h"
#include "jobpost.h"
#include "notify.h"
#include "nudge.h"
#include "source.h"
#include "store.h"

/* The running daemon: what main() wires together and the commands see. */
typedef struct {
	char *config_path;
	char *database_path;
	char *socket_path;
	char *default_vdir;
	Config *config;          /* owned; replaced whole on reload */
	Store *store;            /* owned */
	HttpEngine *http;        /* owned: the one curl-multi engine */
	Notifier *notifier;      /* owned */
	NudgeScheduler *nudges;  /* owned */
	Sources *sources;        /* owned */
	JobpostRules *rules;     /* owned: what makes a post a job change */
	FeedPoller *feeds;       /* owned */
	ControlServer *control;  /* owned */
	GMainLoop *loop;         /* owned */
	gint64 started_at;
	gboolean bound_socket;    /* we created socket_path, so we remove it */
} Tiesd;

/* Opens the store, takes the socket (socket activation first, else binds
 * socket_path), starts sources, feeds and the nudge scheduler. CONFIG is taken. */
gboolean tiesd_start(Tiesd *tiesd, Config *config, GError **error);
/* Runs the main loop until SIGTERM/SIGINT; tells systemd READY=1 first,
 * pings the watchdog when WATCHDOG_USEC asks for it. */
void tiesd_run(Tiesd *tiesd);
void tiesd_stop(Tiesd *tiesd);

/* Re-reads the config file; on an error the old config stays. */
gboolean tiesd_reload(Tiesd *tiesd, GError **error);
