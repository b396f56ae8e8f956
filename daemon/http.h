/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* The one curl-multi engine of the daemon, driven by the GLib main loop
 * (socket and timer callbacks on the default main context, no threads).
 * Only http.c includes curl.
 *
 * Transfers speak http and https only, with TLS verification always on.
 * Redirects are followed by the engine itself, so that every hop is checked:
 * only to http or https, never from https down to http, at most
 * max_redirects hops, no loops; credentials go along only to the same host. */
typedef struct HttpEngine HttpEngine;
typedef struct HttpRequest HttpRequest;

typedef struct {
	guint max_connections;          /* whole engine; more transfers wait in a queue */
	guint max_connections_per_host;
	gsize max_body_bytes;           /* larger bodies fail the transfer */
	guint connect_timeout_s;
	guint timeout_s;                /* whole transfer, redirects included */
	guint max_redirects;
	gboolean compress_loopback;     /* ask servers on this machine for compressed
	                                 * answers too (by default only others) */
} HttpLimits;

typedef struct {
	long status;            /* 0 when no HTTP answer came */
	char *error;            /* NULL on a complete transfer; else why it failed,
	                         * in words for a human (never holds a password);
	                         * status may still be set, e.g. for a cut body */
	GBytes *body;           /* the whole body (empty for a 304) when error is
	                         * NULL and no sink was set; else NULL */
	char *etag, *last_modified, *content_type; /* NULL when absent */
	char *effective_url;    /* after redirects, without user:password; NULL
	                         * when the URL was refused before any request */
	gboolean permanent_redirect; /* at least one redirect, and every one was 301/308 */
	gint64 retry_after_s;   /* from Retry-After (seconds or HTTP-date); -1 when absent */
} HttpResponse;

/* RESPONSE and what it points to belong to the engine and live until the
 * callback returns; take a reference (g_bytes_ref) or a copy to keep them. */
typedef void (*HttpDoneFunc)(const HttpResponse *response, gpointer user_data);
/* Streams the body of the final response (whatever its status) as it
 * arrives; return FALSE to abort the transfer. Runs inside curl: it must not
 * call http_engine_free(); http_engine_submit() and http_engine_cancel() are
 * fine. */
typedef gboolean (*HttpChunkFunc)(const char *data, gsize len, gpointer user_data);

/* Fills LIMITS with the daemon's defaults: 16 connections, 4 per host,
 * 16 MiB bodies, 15 s to connect, 120 s per transfer, 8 redirects. */
void http_limits_default(HttpLimits *limits);
/* LIMITS NULL means the defaults; zero fields take their default too, but
 * for max_redirects, where 0 follows none. Returns NULL when curl cannot
 * start. */
HttpEngine *http_engine_new(const HttpLimits *limits);
/* Stops every transfer; those not completed yet get their callback, from
 * inside this call, with status 0 and error "cancelled" (so their owners can
 * let go of USER_DATA); completed ones not yet reported get their response.
 * May be called from a done callback, not from a sink. Accepts NULL. */
void http_engine_free(HttpEngine *engine);

/* METHOD is any HTTP method ("GET", "PROPFIND", ...); URL an absolute http or
 * https URL. A user:password in URL is taken out of it and used as the
 * credentials unless http_request_set_auth() gives others. */
HttpRequest *http_request_new(const char *method, const char *url);
/* Only for requests never submitted; accepts NULL. */
void http_request_free(HttpRequest *request);
/* A name or value that would split the header (CR, LF, ':' in the name)
 * makes the transfer fail with an error instead of reaching the wire. */
void http_request_add_header(HttpRequest *request, const char *name, const char *value);
/* Copies DATA; CONTENT_TYPE may be NULL. */
void http_request_set_body(HttpRequest *request, const char *content_type, const char *data, gsize len);
/* Basic or Digest, whichever the server asks for; never logged, never put in
 * a URL; the engine's copy of PASSWORD is wiped when the request is freed. */
void http_request_set_auth(HttpRequest *request, const char *username, const char *password);
/* Sends If-None-Match / If-Modified-Since (either may be NULL); an answer
 * 304 is then a normal response with an empty body. */
void http_request_set_conditional(HttpRequest *request, const char *etag, const char *last_modified);
/* Streams the body to SINK instead of collecting it in response->body. */
void http_request_set_sink(HttpRequest *request, HttpChunkFunc sink, gpointer user_data);
/* Caps this request's body (decoded) instead of the engine's max_body_bytes;
 * 0 goes back to the engine's. */
void http_request_set_max_body(HttpRequest *request, gsize max_bytes);
/* The whole transfer, redirects included, may take TIMEOUT_S seconds
 * instead of the engine's HttpLimits.timeout_s (0: the engine's). */
void http_request_set_timeout(HttpRequest *request, guint timeout_s);

/* Queues REQUEST (the engine takes it over). DONE runs exactly once, from
 * the main loop and never from inside this call: on success, on failure
 * (invalid requests included), or with error "cancelled" when the engine is
 * freed; not after http_engine_cancel(). Returns an id (never 0) for
 * http_engine_cancel(). */
guint64 http_engine_submit(HttpEngine *engine, HttpRequest *request, HttpDoneFunc done, gpointer user_data);
/* Stops transfer ID and frees it; its DONE will not run. Returns FALSE when
 * ID is unknown or already reported. */
gboolean http_engine_cancel(HttpEngine *engine, guint64 id);
/* The HTTP status of the response whose body transfer ID streams to its
 * sink right now (from inside the sink: redirects are never streamed); 0
 * when none streams. */
long http_engine_status(HttpEngine *engine, guint64 id);
/* Transfers submitted whose callback has not run yet (queued, running, or
 * awaiting delivery). */
guint http_engine_active(const HttpEngine *engine);
