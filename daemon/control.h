/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* The control socket: accepts same-uid peers, frames requests, and hands
 * each to the command handler; everything non-blocking on the main loop. */
typedef struct ControlServer ControlServer;
typedef struct ControlRequest ControlRequest;

/* Called once per request; the handler answers with control_request_reply()
 * now or later (the request stays valid until then). ARGS is borrowed. */
typedef void (*ControlHandler)(ControlRequest *request, const char *command, JsonObject *args, gpointer user_data);

/* Serves LISTEN_FD (a bound, listening AF_UNIX stream socket; taken over). */
ControlServer *control_server_new(int listen_fd, ControlHandler handler, gpointer user_data);
void control_server_free(ControlServer *server);

/* Sends an intermediate {"progress": PROGRESS} (taken over). */
void control_request_progress(ControlRequest *request, JsonObject *progress);
/* Sends the final response (an envelope from protocol_result_new() or
 * protocol_error_new(), taken over) and frees REQUEST. */
void control_request_reply(ControlRequest *request, JsonObject *response);

/* Binds PATH itself (when not socket-activated): creates the folder 0700,
 * replaces a stale socket, sets the socket 0600. Returns the fd or -errno. */
int control_bind(const char *path, GError **error);
