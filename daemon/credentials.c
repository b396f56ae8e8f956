/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include "credentials.h"
#include "log.h"

#define PASSWORD_COMMAND_TIMEOUT_S 30
#define NETRC_MAX_BYTES (1024 * 1024)

typedef struct {
	const char *machine; /* NULL for "default" */
	const char *login, *password;
} NetrcEntry;

char *netrc_lookup(const char *path, const char *url, const char *username, char **out_login)
{
	g_autofree char *data = NULL;
	gsize len;
	g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
	const char *host = uri ? g_uri_get_host(uri) : NULL;

	if (!host || !g_file_get_contents(path, &data, &len, NULL) || len > NETRC_MAX_BYTES)
		return NULL;

	/* "machine NAME login L password P" and "default login L password P",
	 * tokens separated by any white space. */
	g_auto(GStrv) tokens = g_regex_split_simple("[ \t\r\n]+", data, 0, 0);
	g_autoptr(GArray) entries = g_array_new(FALSE, TRUE, sizeof(NetrcEntry));
	NetrcEntry *entry = NULL;
	for (guint i = 0; tokens[i]; i++) {
		const char *t = tokens[i], *next = tokens[i + 1];
		if (strcmp(t, "machine") == 0 || strcmp(t, "default") == 0) {
			NetrcEntry e = { strcmp(t, "machine") == 0 ? next : NULL, NULL, NULL };
			g_array_append_val(entries, e);
			entry = &g_array_index(entries, NetrcEntry, entries->len - 1);
			if (e.machine)
				i++;
		} else if (entry && next && strcmp(t, "login") == 0) {
			entry->login = next;
			i++;
		} else if (entry && next && strcmp(t, "password") == 0) {
			entry->password = next;
			i++;
		}
	}

	const NetrcEntry *match = NULL;
	for (guint i = 0; i < entries->len && !match; i++) {
		const NetrcEntry *e = &g_array_index(entries, NetrcEntry, i);
		if (e->machine && g_ascii_strcasecmp(e->machine, host) == 0 && e->password &&
		    (!username || g_strcmp0(e->login, username) == 0))
			match = e;
	}
	for (guint i = 0; i < entries->len && !match; i++) {
		const NetrcEntry *e = &g_array_index(entries, NetrcEntry, i);
		if (!e->machine && e->password && (!username || g_strcmp0(e->login, username) == 0))
			match = e;
	}
	char *password = match ? g_strdup(match->password) : NULL;
	if (match && out_login)
		*out_login = g_strdup(match->login);
	explicit_bzero(data, len);
	return password;
}

typedef struct {
	PasswordFunc done;
	gpointer user_data;
	GSubprocess *process; /* owned */
	guint timeout;
} PasswordJob;

static gboolean on_timeout(gpointer user_data)
{
	PasswordJob *job = user_data;
	job->timeout = 0;
	g_subprocess_force_exit(job->process);
	return G_SOURCE_REMOVE;
}

static void on_finished(GObject *object, GAsyncResult *result, gpointer user_data)
{
	PasswordJob *job = user_data;
	g_autofree char *out = NULL;
	g_autoptr(GError) error = NULL;

	g_clear_handle_id(&job->timeout, g_source_remove);
	if (!g_subprocess_communicate_utf8_finish(job->process, result, &out, NULL, &error)) {
		job->done(NULL, error->message, job->user_data);
	} else if (!g_subprocess_get_if_exited(job->process) || g_subprocess_get_exit_status(job->process) != 0) {
		job->done(NULL, "password-command failed (or took too long)", job->user_data);
	} else {
		char *newline = out ? strchr(out, '\n') : NULL;
		if (newline)
			*newline = '\0';
		if (!out || !*out)
			job->done(NULL, "password-command printed nothing", job->user_data);
		else
			job->done(g_steal_pointer(&out), NULL, job->user_data);
	}
	if (out)
		explicit_bzero(out, strlen(out));
	g_object_unref(job->process);
	g_free(job);
}

void password_command_run(const char *command, PasswordFunc done, gpointer user_data)
{
	g_auto(GStrv) argv = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_shell_parse_argv(command, NULL, &argv, &error)) {
		done(NULL, error->message, user_data);
		return;
	}
	GSubprocess *process = g_subprocess_newv((const char *const *)argv,
						 G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
	if (!process) {
		done(NULL, error->message, user_data);
		return;
	}
	PasswordJob *job = g_new0(PasswordJob, 1);
	job->done = done;
	job->user_data = user_data;
	job->process = process;
	job->timeout = g_timeout_add_seconds(PASSWORD_COMMAND_TIMEOUT_S, on_timeout, job);
	g_subprocess_communicate_utf8_async(process, NULL, NULL, on_finished, job);
}
