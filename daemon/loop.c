/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "commands.h"
#include "log.h"
#include "loop.h"

static void on_action(gint64 nudge_id, NotifyAction action, gpointer user_data)
{
	Tiesd *tiesd = user_data;
	nudge_scheduler_handle_action(tiesd->nudges, nudge_id, action);
}

static void on_server(gboolean available, gpointer user_data)
{
	Tiesd *tiesd = user_data;
	if (available && tiesd->nudges)
		nudge_scheduler_kick(tiesd->nudges);
}

static void on_feeds_changed(gpointer user_data)
{
	Tiesd *tiesd = user_data;
	nudge_scheduler_kick(tiesd->nudges);
}

/* New contacts may be what a feed waits for, and their web pages may
 * name feeds. */
static void on_sources_changed(gpointer user_data)
{
	Tiesd *tiesd = user_data;
	if (tiesd->feeds)
		feed_poller_contacts_changed(tiesd->feeds);
	nudge_scheduler_kick(tiesd->nudges);
}

static void log_warnings(const Config *config)
{
	for (guint i = 0; i < config->warnings->len; i++)
		log_warning("%s", (const char *)g_ptr_array_index(config->warnings, i));
}

/* The socket systemd passed us, or -1 when we were started by hand. */
static int activated_socket(GError **error)
{
	int n = sd_listen_fds(TRUE);

	if (n <= 0)
		return -1;
	if (n > 1)
		log_warning("socket activation passed %d sockets, using the first", n);
	int fd = SD_LISTEN_FDS_START;
	if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "the activation socket is not a listening AF_UNIX stream socket");
		return -2;
	}
	return fd;
}

gboolean tiesd_start(Tiesd *tiesd, Config *config, GError **error)
{
	tiesd->config = config;
	tiesd->started_at = g_get_real_time() / G_USEC_PER_SEC;
	log_warnings(config);

	tiesd->store = store_open(tiesd->database_path, error);
	if (!tiesd->store)
		return FALSE;

	int fd = activated_socket(error);
	if (fd == -2)
		return FALSE;
	if (fd >= 0) {
		log_info("listening on the socket systemd passed");
	} else {
		fd = control_bind(tiesd->socket_path, error);
		if (fd < 0)
			return FALSE;
		tiesd->bound_socket = TRUE;
		log_info("listening on %s", tiesd->socket_path);
	}
	tiesd->control = control_server_new(fd, commands_handle, tiesd);

	tiesd->notifier = notifier_new(on_action, on_server, tiesd);
	tiesd->nudges = nudge_scheduler_new(tiesd->store, tiesd->notifier);
	nudge_scheduler_set_config(tiesd->nudges, config);
	tiesd->http = http_engine_new(NULL);
	if (!tiesd->http) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot start the HTTP engine (libcurl)");
		return FALSE;
	}
	tiesd->sources = sources_new(tiesd->store, tiesd->http, on_sources_changed, tiesd);
	sources_set_config(tiesd->sources, config);
	tiesd->rules = jobpost_rules_load_default();
	tiesd->feeds = feed_poller_new(tiesd->store, tiesd->http, tiesd->rules);
	feed_poller_set_changed_func(tiesd->feeds, on_feeds_changed, tiesd);
	feed_poller_set_config(tiesd->feeds, config);
	feed_poller_contacts_changed(tiesd->feeds);
	nudge_scheduler_kick(tiesd->nudges);
	return TRUE;
}

gboolean tiesd_reload(Tiesd *tiesd, GError **error)
{
	Config *config = config_load(tiesd->config_path, tiesd->default_vdir, error);

	if (!config)
		return FALSE;
	log_warnings(config);
	sources_set_config(tiesd->sources, config);
	feed_poller_set_config(tiesd->feeds, config);
	nudge_scheduler_set_config(tiesd->nudges, config);
	config_free(tiesd->config);
	tiesd->config = config;
	nudge_scheduler_kick(tiesd->nudges);
	log_info("configuration reloaded from %s", tiesd->config_path);
	return TRUE;
}

static gboolean on_quit_signal(gpointer user_data)
{
	Tiesd *tiesd = user_data;
	log_info("stopping");
	sd_notify(0, "STOPPING=1");
	g_main_loop_quit(tiesd->loop);
	return G_SOURCE_CONTINUE;
}

static gboolean on_sighup(gpointer user_data)
{
	Tiesd *tiesd = user_data;
	g_autoptr(GError) error = NULL;

	sd_notify(0, "RELOADING=1");
	if (!tiesd_reload(tiesd, &error))
		log_error("reload failed, keeping the previous configuration: %s", error->message);
	sd_notify(0, "READY=1");
	return G_SOURCE_CONTINUE;
}

static gboolean on_watchdog(gpointer user_data)
{
	sd_notify(0, "WATCHDOG=1");
	return G_SOURCE_CONTINUE;
}

void tiesd_run(Tiesd *tiesd)
{
	guint64 watchdog_usec = 0;
	guint watchdog_source = 0;
	StoreCounts counts;

	tiesd->loop = g_main_loop_new(NULL, FALSE);
	guint term = g_unix_signal_add(SIGTERM, on_quit_signal, tiesd);
	guint intr = g_unix_signal_add(SIGINT, on_quit_signal, tiesd);
	guint hup = g_unix_signal_add(SIGHUP, on_sighup, tiesd);
	if (sd_watchdog_enabled(FALSE, &watchdog_usec) > 0 && watchdog_usec > 0)
		watchdog_source = g_timeout_add(MAX(watchdog_usec / 2000, 1), on_watchdog, NULL);

	store_counts(tiesd->store, &counts);
	sd_notifyf(0, "READY=1\nSTATUS=%" G_GINT64_FORMAT " contacts, %" G_GINT64_FORMAT " nudges pending",
		   counts.contacts, counts.nudges_pending);
	g_main_loop_run(tiesd->loop);

	g_source_remove(term);
	g_source_remove(intr);
	g_source_remove(hup);
	if (watchdog_source)
		g_source_remove(watchdog_source);
}

void tiesd_stop(Tiesd *tiesd)
{
	sources_free(tiesd->sources);
	feed_poller_free(tiesd->feeds);
	g_clear_pointer(&tiesd->rules, jobpost_rules_free);
	http_engine_free(tiesd->http);
	nudge_scheduler_free(tiesd->nudges);
	notifier_free(tiesd->notifier);
	control_server_free(tiesd->control);
	if (tiesd->bound_socket)
		unlink(tiesd->socket_path);
	store_close(tiesd->store);
	config_free(tiesd->config);
	if (tiesd->loop)
		g_main_loop_unref(tiesd->loop);
	g_free(tiesd->config_path);
	g_free(tiesd->database_path);
	g_free(tiesd->socket_path);
	g_free(tiesd->default_vdir);
	memset(tiesd, 0, sizeof *tiesd);
}
