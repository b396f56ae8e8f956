/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include <curl/curl.h>
#include <glib-unix.h>

#include "http.h"
#include "log.h"

#define DEFAULT_MAX_CONNECTIONS 16
#define DEFAULT_MAX_CONNECTIONS_PER_HOST 4
/* CardDAV multiget answers carry photos; feeds stay far below. */
#define DEFAULT_MAX_BODY_BYTES (16 * 1024 * 1024)
#define DEFAULT_CONNECT_TIMEOUT_S 15
#define DEFAULT_TIMEOUT_S 120
#define DEFAULT_MAX_REDIRECTS 8
/* Less than this many bytes a second for that long is a stalled transfer. */
#define LOW_SPEED_BYTES_PER_S 16L
#define LOW_SPEED_TIME_S 30L
/* A Retry-After beyond a week is a confused server, not a plan. */
#define RETRY_AFTER_MAX_S (7 * 24 * 3600)
#define USER_AGENT PACKAGE_NAME "/" PACKAGE_VERSION
#define ALLOWED_PROTOCOLS "http,https"

struct HttpRequest {
	char *method;                 /* owned */
	char *url;                    /* owned, as given; checked at submit */
	GPtrArray *headers;           /* owned "Name: value" lines */
	char *content_type;           /* owned */
	GBytes *body;                 /* owned; NULL without a body */
	char *etag, *last_modified;   /* owned */
	char *username;               /* owned */
	char *password;               /* owned, wiped on free */
	HttpChunkFunc sink;
	gpointer sink_data;           /* borrowed */
	gsize max_body_bytes;         /* 0: the engine's */
	guint timeout_s;              /* 0: the engine's */
	const char *invalid;          /* static text: why it cannot be sent */
};

typedef struct {
	char *url;                    /* normalised, without user:password */
	char *scheme;                 /* "http" or "https" */
	char *host;                   /* lower case */
	long port;
} Url;

typedef enum {
	TRANSFER_QUEUED,              /* in engine->queued */
	TRANSFER_RUNNING,             /* its easy handle is in the multi */
	TRANSFER_FINISHED,            /* in engine->finished, response filled */
} TransferState;

typedef struct {
	HttpEngine *engine;           /* borrowed */
	guint64 id;
	TransferState state;
	GList link;                   /* node in queued or finished; data = this */
	HttpRequest *request;         /* owned */
	HttpDoneFunc done;
	gpointer user_data;           /* borrowed */
	gboolean cancelled;           /* cancelled while curl ran: reaped once curl lets go */

	Url origin;                   /* owned: the URL submitted, scope of the credentials */
	Url current;                  /* owned: this hop */
	char *host_key;               /* owned "host:port" of this hop, for the per-host limit */
	char *method;                 /* owned; a 303 turns it into GET */
	gboolean send_body, send_auth;
	/* Credentials went as Basic before this server asked: if it wants
	 * Digest, it answers 401 and the hop is asked again the slow way. */
	gboolean basic_unasked;
	guint hops;
	gboolean all_permanent;
	GHashTable *visited;          /* owned set of "METHOD URL" requested so far */
	gint64 deadline_us;           /* monotonic; set when the first hop starts */
	gsize max_body;

	CURL *easy;                   /* owned while running */
	struct curl_slist *header_list; /* owned while running */
	char errbuf[CURL_ERROR_SIZE];
	gboolean in_headers;          /* between a status line and its blank line */
	gboolean discard_body;        /* the body of a redirect we follow */
	gsize received;               /* body bytes of the current response */
	GByteArray *body;             /* owned; NULL with a sink */
	char *error;                  /* owned; a failure found by our callbacks */

	HttpResponse response;        /* owned fields; complete when finished */
} Transfer;

struct HttpEngine {
	guint refs;                   /* 1, plus one while a dispatch runs callbacks */
	gboolean closing;             /* http_engine_free() started */
	gboolean in_curl;             /* inside curl_multi_socket_action() */
	HttpLimits limits;
	CURLM *multi;                 /* owned */
	GHashTable *watches;          /* fd → id of its g_unix_fd_add() source */
	guint timer_id;               /* curl's one timer */
	guint dispatch_id;            /* idle: start queued transfers, report finished */
	GHashTable *transfers;        /* &id → Transfer; owns every live transfer */
	GQueue queued;                /* waiting for a connection slot */
	GQueue finished;              /* waiting to be reported */
	GHashTable *host_running;     /* owned host key → transfers running there */
	/* owned host key → the auth schemes (CURLAUTH_*) its server asked for.
	 * Where that is Basic alone, credentials go at once instead of after
	 * a 401 each time (which doubles every request); where it is more,
	 * curl waits for the challenge. */
	GHashTable *host_auth;
	guint running;
	guint64 last_id;
};

void http_limits_default(HttpLimits *limits)
{
	*limits = (HttpLimits) {
		.max_connections = DEFAULT_MAX_CONNECTIONS,
		.max_connections_per_host = DEFAULT_MAX_CONNECTIONS_PER_HOST,
		.max_body_bytes = DEFAULT_MAX_BODY_BYTES,
		.connect_timeout_s = DEFAULT_CONNECT_TIMEOUT_S,
		.timeout_s = DEFAULT_TIMEOUT_S,
		.max_redirects = DEFAULT_MAX_REDIRECTS,
	};
}

/* ---- requests ---- */

static void wipe_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

/* RFC 9110 token characters: methods and header names. */
static gboolean is_token(const char *text)
{
	if (!text || !*text)
		return FALSE;
	for (const char *p = text; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr("!#$%&'*+-.^_`|~", *p))
			return FALSE;
	return TRUE;
}

/* A value with CR or LF would smuggle further headers onto the wire. */
static gboolean is_header_value(const char *text)
{
	return text && !strpbrk(text, "\r\n");
}

HttpRequest *http_request_new(const char *method, const char *url)
{
	g_return_val_if_fail(method && url, NULL);

	HttpRequest *request = g_new0(HttpRequest, 1);
	request->method = g_strdup(method);
	request->url = g_strdup(url);
	request->headers = g_ptr_array_new_with_free_func(g_free);
	if (!is_token(method))
		request->invalid = "invalid HTTP method";
	return request;
}

void http_request_free(HttpRequest *request)
{
	if (!request)
		return;
	g_free(request->method);
	g_free(request->url);
	g_ptr_array_unref(request->headers);
	g_free(request->content_type);
	g_clear_pointer(&request->body, g_bytes_unref);
	g_free(request->etag);
	g_free(request->last_modified);
	g_free(request->username);
	wipe_free(request->password);
	g_free(request);
}

void http_request_add_header(HttpRequest *request, const char *name, const char *value)
{
	g_return_if_fail(request);

	if (!is_token(name) || !is_header_value(value)) {
		request->invalid = "invalid request header";
		return;
	}
	/* curl reads "Name:" as "remove this header"; "Name;" sends it empty. */
	if (*value)
		g_ptr_array_add(request->headers, g_strdup_printf("%s: %s", name, value));
	else
		g_ptr_array_add(request->headers, g_strdup_printf("%s;", name));
}

void http_request_set_body(HttpRequest *request, const char *content_type, const char *data, gsize len)
{
	g_return_if_fail(request && (data || len == 0));

	if (content_type && !is_header_value(content_type))
		request->invalid = "invalid content type";
	g_free(request->content_type);
	request->content_type = g_strdup(content_type);
	g_clear_pointer(&request->body, g_bytes_unref);
	request->body = g_bytes_new(data, len);
}

void http_request_set_auth(HttpRequest *request, const char *username, const char *password)
{
	g_return_if_fail(request && username);

	g_free(request->username);
	wipe_free(request->password);
	request->username = g_strdup(username);
	request->password = g_strdup(password ? password : "");
}

void http_request_set_conditional(HttpRequest *request, const char *etag, const char *last_modified)
{
	g_return_if_fail(request);

	if ((etag && !is_header_value(etag)) || (last_modified && !is_header_value(last_modified)))
		request->invalid = "invalid validator for a conditional request";
	g_free(request->etag);
	g_free(request->last_modified);
	request->etag = g_strdup(etag);
	request->last_modified = g_strdup(last_modified);
}

void http_request_set_sink(HttpRequest *request, HttpChunkFunc sink, gpointer user_data)
{
	g_return_if_fail(request);

	request->sink = sink;
	request->sink_data = user_data;
}

void http_request_set_max_body(HttpRequest *request, gsize max_bytes)
{
	g_return_if_fail(request);

	request->max_body_bytes = max_bytes;
}

void http_request_set_timeout(HttpRequest *request, guint timeout_s)
{
	g_return_if_fail(request);

	request->timeout_s = timeout_s;
}

/* ---- URLs ---- */

static void url_clear(Url *url)
{
	g_clear_pointer(&url->url, g_free);
	g_clear_pointer(&url->scheme, g_free);
	g_clear_pointer(&url->host, g_free);
	url->port = 0;
}

static char *url_part(CURLU *handle, CURLUPart part, unsigned int flags)
{
	char *value = NULL;
	if (curl_url_get(handle, part, &value, flags) != CURLUE_OK)
		return NULL;
	char *copy = g_strdup(value);
	curl_free(value);
	return copy;
}

/* Parses TEXT into OUT (user:password taken out); returns NULL, or why the
 * engine will not fetch it. USER and PASSWORD may be NULL when the caller
 * has no use for credentials found in the URL. */
static const char *url_parse(const char *text, Url *out, char **user, char **password)
{
	CURLU *handle = curl_url();
	const char *why = NULL;
	g_autofree char *scheme = NULL;
	g_autofree char *host = NULL;
	g_autofree char *port = NULL;

	if (!handle)
		return "out of memory";
	/* Accept any scheme here, so that the answer can name the problem. */
	if (curl_url_set(handle, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		why = "malformed URL";
		goto out;
	}
	scheme = url_part(handle, CURLUPART_SCHEME, 0);
	if (!scheme || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0)) {
		why = "URL scheme not allowed (only http and https)";
		goto out;
	}
	host = url_part(handle, CURLUPART_HOST, 0);
	port = url_part(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	if (!host || !*host || !port) {
		why = "URL without a host";
		goto out;
	}
	if (user && password) {
		*user = url_part(handle, CURLUPART_USER, CURLU_URLDECODE);
		*password = url_part(handle, CURLUPART_PASSWORD, CURLU_URLDECODE);
	}
	curl_url_set(handle, CURLUPART_USER, NULL, 0);
	curl_url_set(handle, CURLUPART_PASSWORD, NULL, 0);
	curl_url_set(handle, CURLUPART_OPTIONS, NULL, 0);
	curl_url_set(handle, CURLUPART_FRAGMENT, NULL, 0);
	out->url = url_part(handle, CURLUPART_URL, 0);
	if (!out->url) {
		why = "malformed URL";
		goto out;
	}
	out->scheme = g_ascii_strdown(scheme, -1);
	out->host = g_ascii_strdown(host, -1);
	out->port = strtol(port, NULL, 10);
out:
	curl_url_cleanup(handle);
	return why;
}

/* Credentials follow a redirect only to the host they were given for,
 * on the same scheme and port or upgraded to https. */
static gboolean url_same_site(const Url *origin, const Url *next)
{
	if (strcmp(origin->host, next->host) != 0)
		return FALSE;
	if (strcmp(origin->scheme, next->scheme) == 0)
		return origin->port == next->port;
	return strcmp(next->scheme, "https") == 0;
}

static void transfer_set_hop(Transfer *transfer, Url *url)
{
	url_clear(&transfer->current);
	transfer->current = *url;
	*url = (Url) { 0 };
	g_free(transfer->host_key);
	transfer->host_key = g_strdup_printf("%s:%ld", transfer->current.host, transfer->current.port);
	g_hash_table_add(transfer->visited, g_strdup_printf("%s %s", transfer->method, transfer->current.url));
}

/* ---- transfers ---- */

static gboolean is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static void schedule_dispatch(HttpEngine *engine);

static void transfer_free(Transfer *transfer)
{
	http_request_free(transfer->request);
	url_clear(&transfer->origin);
	url_clear(&transfer->current);
	g_free(transfer->host_key);
	g_free(transfer->method);
	g_hash_table_unref(transfer->visited);
	if (transfer->body)
		g_byte_array_unref(transfer->body);
	g_free(transfer->error);
	g_free(transfer->response.error);
	g_clear_pointer(&transfer->response.body, g_bytes_unref);
	g_free(transfer->response.etag);
	g_free(transfer->response.last_modified);
	g_free(transfer->response.content_type);
	g_free(transfer->response.effective_url);
	g_free(transfer);
}

/* Takes a running transfer's easy handle out of curl and gives back its slot. */
static void transfer_stop(Transfer *transfer)
{
	HttpEngine *engine = transfer->engine;

	curl_multi_remove_handle(engine->multi, transfer->easy);
	g_clear_pointer(&transfer->easy, curl_easy_cleanup);
	g_clear_pointer(&transfer->header_list, curl_slist_free_all);
	engine->running--;
	guint on_host = GPOINTER_TO_UINT(g_hash_table_lookup(engine->host_running, transfer->host_key));
	if (on_host <= 1)
		g_hash_table_remove(engine->host_running, transfer->host_key);
	else
		g_hash_table_insert(engine->host_running, g_strdup(transfer->host_key), GUINT_TO_POINTER(on_host - 1));
}

/* Takes TRANSFER out of whatever holds it in ENGINE. */
static void transfer_detach(Transfer *transfer)
{
	HttpEngine *engine = transfer->engine;

	switch (transfer->state) {
	case TRANSFER_QUEUED:
		g_queue_unlink(&engine->queued, &transfer->link);
		break;
	case TRANSFER_RUNNING:
		transfer_stop(transfer);
		break;
	case TRANSFER_FINISHED:
		g_queue_unlink(&engine->finished, &transfer->link);
		break;
	}
	g_hash_table_remove(engine->transfers, &transfer->id);
}

static void transfer_finish(Transfer *transfer)
{
	/* NULL for a URL refused before any hop: it may hold a password. */
	transfer->response.effective_url = g_strdup(transfer->current.url);
	transfer->state = TRANSFER_FINISHED;
	g_queue_push_tail_link(&transfer->engine->finished, &transfer->link);
	schedule_dispatch(transfer->engine);
}

static void transfer_fail(Transfer *transfer, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void transfer_fail(Transfer *transfer, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	transfer->response.error = g_strdup_vprintf(format, ap);
	va_end(ap);
	transfer_finish(transfer);
}

static char *header_dup(CURL *easy, const char *name)
{
	struct curl_header *header;
	if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK)
		return NULL;
	return g_strdup(header->value);
}

/* Retry-After is either delta-seconds or an HTTP-date. */
static gint64 parse_retry_after(const char *value)
{
	guint64 seconds;
	if (g_ascii_string_to_unsigned(value, 10, 0, G_MAXUINT64, &seconds, NULL))
		return MIN(seconds, (guint64) RETRY_AFTER_MAX_S);
	time_t when = curl_getdate(value, NULL);
	if (when == -1)
		return -1;
	return CLAMP((gint64) when - g_get_real_time() / G_USEC_PER_SEC, 0, RETRY_AFTER_MAX_S);
}

static void response_fill(Transfer *transfer, long status)
{
	HttpResponse *response = &transfer->response;

	response->status = status;
	response->etag = header_dup(transfer->easy, "ETag");
	response->last_modified = header_dup(transfer->easy, "Last-Modified");
	response->content_type = header_dup(transfer->easy, "Content-Type");
	g_autofree char *retry_after = header_dup(transfer->easy, "Retry-After");
	if (retry_after)
		response->retry_after_s = parse_retry_after(retry_after);
	response->permanent_redirect = transfer->hops > 0 && transfer->all_permanent;
	if (transfer->body)
		response->body = g_byte_array_free_to_bytes(g_steal_pointer(&transfer->body));
}

static char *curl_failure(const Transfer *transfer, CURLcode code)
{
	const char *what;

	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
		what = "could not resolve the host name";
		break;
	case CURLE_COULDNT_CONNECT:
		what = "could not connect";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = "timed out";
		break;
	case CURLE_PARTIAL_FILE:
		what = "connection closed before the whole body arrived";
		break;
	case CURLE_GOT_NOTHING:
		what = "server closed the connection without answering";
		break;
	case CURLE_FILESIZE_EXCEEDED:
		return g_strdup_printf("response larger than %" G_GSIZE_FORMAT " bytes", transfer->max_body);
	case CURLE_BAD_CONTENT_ENCODING:
		what = "could not decode the compressed body";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		what = "TLS certificate not trusted";
		break;
	case CURLE_SSL_CONNECT_ERROR:
		what = "TLS handshake failed";
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		what = "network error";
		break;
	default:
		what = curl_easy_strerror(code);
		break;
	}
	g_autofree char *detail = g_strchomp(g_strdup(transfer->errbuf));
	if (!*detail)
		return g_strdup(what);
	return g_strdup_printf("%s (%s)", what, detail);
}

/* TRANSFER asks again (its next hop, or the same one another way): at the
 * head of the queue, as it has waited its turn already. */
static void transfer_requeue(Transfer *transfer)
{
	transfer->state = TRANSFER_QUEUED;
	g_queue_push_head_link(&transfer->engine->queued, &transfer->link);
	schedule_dispatch(transfer->engine);
}

/* Checks the Location of a redirect and requeues TRANSFER for the next hop. */
static void transfer_redirect(Transfer *transfer, long status, const char *location)
{
	HttpEngine *engine = transfer->engine;
	Url next = { 0 };

	if (transfer->hops >= engine->limits.max_redirects) {
		transfer_fail(transfer, "too many redirects (more than %u)", engine->limits.max_redirects);
		return;
	}
	const char *why = location ? url_parse(location, &next, NULL, NULL) : "malformed URL";
	if (why) {
		transfer_fail(transfer, "redirect refused: %s", why);
		return;
	}
	if (strcmp(transfer->current.scheme, "https") == 0 && strcmp(next.scheme, "http") == 0) {
		url_clear(&next);
		transfer_fail(transfer, "redirect refused: from https to http");
		return;
	}
	/* 303 means "GET the answer there"; 301 and 302 turn POST into GET as
	 * every browser does; the rest (PROPFIND on a moved collection) repeat. */
	if ((status == 303 && strcmp(transfer->method, "HEAD") != 0) ||
	    ((status == 301 || status == 302) && strcmp(transfer->method, "POST") == 0)) {
		g_free(transfer->method);
		transfer->method = g_strdup("GET");
		transfer->send_body = FALSE;
	}
	g_autofree char *key = g_strdup_printf("%s %s", transfer->method, next.url);
	if (g_hash_table_contains(transfer->visited, key)) {
		url_clear(&next);
		transfer_fail(transfer, "redirect loop");
		return;
	}
	log_debug("http: %ld redirect to %s", status, next.url);
	transfer->hops++;
	transfer->all_permanent = transfer->all_permanent && (status == 301 || status == 308);
	transfer->send_auth = transfer->request->username && url_same_site(&transfer->origin, &next);
	transfer_set_hop(transfer, &next);
	transfer_requeue(transfer);
}

/* Curl is done with the current hop of TRANSFER. */
static void transfer_hop_done(Transfer *transfer, CURLcode result)
{
	HttpEngine *engine = transfer->engine;
	long status = 0;
	g_autofree char *location = NULL;
	gboolean redirect = FALSE;

	curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
	if (result == CURLE_OK && is_redirect(status)) {
		struct curl_header *header;
		char *next = NULL;
		redirect = curl_easy_header(transfer->easy, "Location", 0, CURLH_HEADER, -1, &header) == CURLHE_OK;
		if (curl_easy_getinfo(transfer->easy, CURLINFO_REDIRECT_URL, &next) == CURLE_OK)
			location = g_strdup(next);
	}
	long offered = 0;
	if (result == CURLE_OK && transfer->send_auth && transfer->host_key)
		curl_easy_getinfo(transfer->easy, CURLINFO_HTTPAUTH_AVAIL, &offered);
	gboolean ask_again = status == 401 && transfer->basic_unasked && (offered & ~CURLAUTH_BASIC);
	if ((status != 401 && offered) || ask_again)
		g_hash_table_insert(engine->host_auth, g_strdup(transfer->host_key), GINT_TO_POINTER((int) offered));
	if (result == CURLE_OK && !redirect && !ask_again)
		response_fill(transfer, status);
	else if (result != CURLE_OK)
		transfer->response.status = status;
	transfer_stop(transfer);
	schedule_dispatch(engine);

	if (transfer->cancelled) {
		g_hash_table_remove(engine->transfers, &transfer->id);
		transfer_free(transfer);
		return;
	}
	log_debug("http: %s %s: %ld (curl %d)", transfer->method, transfer->current.url, status, result);
	if (transfer->error) {
		transfer_fail(transfer, "%s", transfer->error);
	} else if (result != CURLE_OK) {
		g_autofree char *why = curl_failure(transfer, result);
		transfer_fail(transfer, "%s", why);
	} else if (redirect) {
		/* Kept if the redirect fails; the next hop's answer replaces it. */
		transfer->response.status = status;
		transfer_redirect(transfer, status, location);
	} else if (ask_again) {
		log_debug("http: %s asks for more than Basic auth", transfer->host_key);
		transfer_requeue(transfer);
	} else {
		transfer_finish(transfer);
	}
}

/* ---- curl callbacks of one transfer ---- */

/* Notes where each response's body starts: curl hands over the headers of
 * every response (a 401 before Digest, a redirect), and only the last body
 * is kept. */
static size_t on_curl_header(char *data, size_t size, size_t count, void *user_data)
{
	Transfer *transfer = user_data;
	size_t len = size * count;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		transfer->in_headers = TRUE;
		return len;
	}
	gboolean blank = (len == 2 && data[0] == '\r' && data[1] == '\n') || (len == 1 && data[0] == '\n');
	if (!blank || !transfer->in_headers)
		return len;
	transfer->in_headers = FALSE;

	long status = 0;
	curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 100 && status < 200)
		return len;
	struct curl_header *location;
	transfer->discard_body = (is_redirect(status) &&
				  curl_easy_header(transfer->easy, "Location", 0, CURLH_HEADER, -1, &location) == CURLHE_OK) ||
				 (status == 401 && transfer->basic_unasked);
	transfer->received = 0;
	if (transfer->body)
		g_byte_array_set_size(transfer->body, 0);
	return len;
}

/* Returning less than LEN makes curl abort with CURLE_WRITE_ERROR. */
static size_t on_curl_write(char *data, size_t size, size_t count, void *user_data)
{
	Transfer *transfer = user_data;
	size_t len = size * count;

	if (transfer->cancelled)
		return 0;
	/* Counted after decoding, so that a small gzip bomb is caught too. */
	if (len > transfer->max_body - transfer->received) {
		transfer->error = g_strdup_printf("response larger than %" G_GSIZE_FORMAT " bytes", transfer->max_body);
		return 0;
	}
	transfer->received += len;
	if (transfer->discard_body)
		return len;
	if (transfer->request->sink) {
		if (!transfer->request->sink(data, len, transfer->request->sink_data)) {
			transfer->error = g_strdup("aborted by the receiver of the body");
			return 0;
		}
		return transfer->cancelled ? 0 : len;
	}
	g_byte_array_append(transfer->body, (const guint8 *) data, len);
	return len;
}

/* ---- starting a hop ---- */

static gboolean slist_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *longer = curl_slist_append(*list, line);
	if (!longer)
		return FALSE;
	*list = longer;
	return TRUE;
}

static struct curl_slist *transfer_header_list(const Transfer *transfer, gboolean posts)
{
	const HttpRequest *request = transfer->request;
	struct curl_slist *list = NULL;
	gboolean ok = TRUE;

	/* No 100-continue round trip: bodies here are small XML documents. */
	ok = ok && slist_add(&list, "Expect:");
	if (posts) {
		/* Without a type of our own, curl would claim a form. */
		g_autofree char *type = transfer->send_body && request->content_type
			? g_strdup_printf("Content-Type: %s", request->content_type)
			: g_strdup("Content-Type:");
		ok = ok && slist_add(&list, type);
	}
	for (guint i = 0; ok && i < request->headers->len; i++)
		ok = slist_add(&list, g_ptr_array_index(request->headers, i));
	if (ok && request->etag) {
		g_autofree char *line = g_strdup_printf("If-None-Match: %s", request->etag);
		ok = slist_add(&list, line);
	}
	if (ok && request->last_modified) {
		g_autofree char *line = g_strdup_printf("If-Modified-Since: %s", request->last_modified);
		ok = slist_add(&list, line);
	}
	if (!ok)
		g_clear_pointer(&list, curl_slist_free_all);
	return list;
}

/* A server on this machine: compressing its answers costs both sides CPU
 * and saves nothing (a Radicale answer of 1,000 cards came 8 % later). */
static gboolean host_is_loopback(const char *host)
{
	struct in_addr v4;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return TRUE;
	return inet_pton(AF_INET, host, &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

#define SETOPT(option, value) \
	do { \
		if (rc == CURLE_OK) \
			rc = curl_easy_setopt(easy, option, value); \
	} while (0)

static CURLcode transfer_setup(Transfer *transfer, CURL *easy, gint64 left_ms)
{
	const HttpLimits *limits = &transfer->engine->limits;
	const HttpRequest *request = transfer->request;
	gboolean head = strcmp(transfer->method, "HEAD") == 0;
	gboolean posts = !head && (transfer->send_body || strcmp(transfer->method, "GET") != 0);
	CURLcode rc = CURLE_OK;

	transfer->header_list = transfer_header_list(transfer, posts);
	if (!transfer->header_list)
		return CURLE_OUT_OF_MEMORY;

	SETOPT(CURLOPT_PRIVATE, transfer);
	SETOPT(CURLOPT_URL, transfer->current.url);
	SETOPT(CURLOPT_ERRORBUFFER, transfer->errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, ALLOWED_PROTOCOLS);
	/* Redirects are ours (transfer_redirect): every hop gets checked. */
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long) MIN((gint64) limits->connect_timeout_s * 1000, left_ms));
	SETOPT(CURLOPT_TIMEOUT_MS, (long) left_ms);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES_PER_S);
	SETOPT(CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	if (limits->compress_loopback || !host_is_loopback(transfer->current.host))
		SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	/* Refuses a too large Content-Length before any body arrives. */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) transfer->max_body);
	SETOPT(CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(CURLOPT_HTTPHEADER, transfer->header_list);
	SETOPT(CURLOPT_HEADERFUNCTION, on_curl_header);
	SETOPT(CURLOPT_HEADERDATA, transfer);
	SETOPT(CURLOPT_WRITEFUNCTION, on_curl_write);
	SETOPT(CURLOPT_WRITEDATA, transfer);
	if (head) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (posts) {
		gsize size = 0;
		const char *data = transfer->send_body ? g_bytes_get_data(request->body, &size) : NULL;
		SETOPT(CURLOPT_CUSTOMREQUEST, transfer->method);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
		SETOPT(CURLOPT_POSTFIELDS, data ? data : "");
	}
	transfer->basic_unasked = FALSE;
	if (transfer->send_auth) {
		gpointer asked;
		/* Basic goes at once where the server asked for it alone, or,
		 * before it said, where nobody can read it on the way (https,
		 * this machine); else curl waits for a 401 first. */
		gboolean basic = g_hash_table_lookup_extended(transfer->engine->host_auth, transfer->host_key, NULL, &asked)
			? GPOINTER_TO_INT(asked) == CURLAUTH_BASIC
			: strcmp(transfer->current.scheme, "https") == 0 || host_is_loopback(transfer->current.host);
		transfer->basic_unasked = basic;
		SETOPT(CURLOPT_HTTPAUTH, (long) (basic ? CURLAUTH_BASIC : CURLAUTH_BASIC | CURLAUTH_DIGEST));
		SETOPT(CURLOPT_USERNAME, request->username);
		SETOPT(CURLOPT_PASSWORD, request->password);
	}
	return rc;
}

#undef SETOPT

/* Hands the current hop of TRANSFER to curl, or finishes it with an error. */
static void transfer_start(Transfer *transfer)
{
	HttpEngine *engine = transfer->engine;
	gint64 now = g_get_monotonic_time();

	guint timeout_s = transfer->request->timeout_s ? transfer->request->timeout_s : engine->limits.timeout_s;

	if (!transfer->deadline_us)
		transfer->deadline_us = now + (gint64) timeout_s * G_USEC_PER_SEC;
	gint64 left_ms = (transfer->deadline_us - now) / 1000;
	if (left_ms <= 0) {
		transfer_fail(transfer, "timed out after %u s", timeout_s);
		return;
	}

	transfer->errbuf[0] = '\0';
	transfer->in_headers = FALSE;
	transfer->discard_body = FALSE;
	transfer->received = 0;
	if (transfer->body)
		g_byte_array_set_size(transfer->body, 0);

	CURL *easy = curl_easy_init();
	CURLcode rc = easy ? transfer_setup(transfer, easy, left_ms) : CURLE_OUT_OF_MEMORY;
	CURLMcode mrc = rc == CURLE_OK ? curl_multi_add_handle(engine->multi, easy) : CURLM_OK;
	if (rc != CURLE_OK || mrc != CURLM_OK) {
		g_clear_pointer(&easy, curl_easy_cleanup);
		g_clear_pointer(&transfer->header_list, curl_slist_free_all);
		transfer_fail(transfer, "%s", rc != CURLE_OK ? curl_easy_strerror(rc) : curl_multi_strerror(mrc));
		return;
	}
	transfer->easy = easy;
	transfer->state = TRANSFER_RUNNING;
	engine->running++;
	guint on_host = GPOINTER_TO_UINT(g_hash_table_lookup(engine->host_running, transfer->host_key));
	g_hash_table_insert(engine->host_running, g_strdup(transfer->host_key), GUINT_TO_POINTER(on_host + 1));
}

/* Starts queued transfers while the limits leave room; a transfer whose host
 * is busy lets later ones to other hosts pass. */
static void engine_start_queued(HttpEngine *engine)
{
	GList *link = engine->queued.head;

	while (link && engine->running < engine->limits.max_connections) {
		GList *next = link->next;
		Transfer *transfer = link->data;
		guint on_host = GPOINTER_TO_UINT(g_hash_table_lookup(engine->host_running, transfer->host_key));
		if (on_host < engine->limits.max_connections_per_host) {
			g_queue_unlink(&engine->queued, link);
			transfer_start(transfer);
		}
		link = next;
	}
}

/* ---- the engine and the main loop ---- */

static void engine_unref(HttpEngine *engine)
{
	if (--engine->refs > 0)
		return;
	g_hash_table_unref(engine->watches);
	g_hash_table_unref(engine->transfers);
	g_hash_table_unref(engine->host_running);
	g_hash_table_unref(engine->host_auth);
	g_free(engine);
}

/* Runs the callback of a finished transfer and frees it. */
static void transfer_report(Transfer *transfer)
{
	transfer_detach(transfer);
	if (transfer->done)
		transfer->done(&transfer->response, transfer->user_data);
	transfer_free(transfer);
}

static gboolean on_dispatch(gpointer user_data)
{
	HttpEngine *engine = user_data;

	engine->dispatch_id = 0;
	engine_start_queued(engine);
	/* A callback may free the engine: keep the struct until we are out. */
	engine->refs++;
	while (!engine->closing && engine->finished.head)
		transfer_report(engine->finished.head->data);
	engine_unref(engine);
	return G_SOURCE_REMOVE;
}

static void schedule_dispatch(HttpEngine *engine)
{
	if (!engine->dispatch_id && !engine->closing)
		engine->dispatch_id = g_idle_add(on_dispatch, engine);
}

/* Reaps what curl finished; nothing here calls back into the user. */
static void engine_drain(HttpEngine *engine)
{
	CURLMsg *message;
	int left;

	while ((message = curl_multi_info_read(engine->multi, &left))) {
		if (message->msg != CURLMSG_DONE)
			continue;
		/* The message dies with the handle: copy before transfer_stop(). */
		CURLcode result = message->data.result;
		char *private = NULL;
		curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &private);
		transfer_hop_done((Transfer *) private, result);
	}
}

static void engine_socket_action(HttpEngine *engine, curl_socket_t fd, int events)
{
	int running;

	engine->in_curl = TRUE;
	CURLMcode rc = curl_multi_socket_action(engine->multi, fd, events, &running);
	engine->in_curl = FALSE;
	if (rc != CURLM_OK)
		log_debug("http: curl_multi_socket_action: %s", curl_multi_strerror(rc));
	engine_drain(engine);
}

static gboolean on_socket_ready(gint fd, GIOCondition condition, gpointer user_data)
{
	int events = 0;

	if (condition & (G_IO_IN | G_IO_HUP))
		events |= CURL_CSELECT_IN;
	if (condition & G_IO_OUT)
		events |= CURL_CSELECT_OUT;
	if (condition & (G_IO_ERR | G_IO_NVAL))
		events |= CURL_CSELECT_ERR;
	engine_socket_action(user_data, fd, events);
	return G_SOURCE_CONTINUE;
}

static gboolean on_timeout(gpointer user_data)
{
	HttpEngine *engine = user_data;

	/* Cleared first: curl may arm the next timer from inside the action. */
	engine->timer_id = 0;
	engine_socket_action(engine, CURL_SOCKET_TIMEOUT, 0);
	return G_SOURCE_REMOVE;
}

/* CURLMOPT_SOCKETFUNCTION: one fd watch per socket, replaced on change. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *user_data, void *socket_data)
{
	HttpEngine *engine = user_data;
	gpointer key = GINT_TO_POINTER(fd);
	guint id = GPOINTER_TO_UINT(g_hash_table_lookup(engine->watches, key));

	if (id) {
		g_source_remove(id);
		g_hash_table_remove(engine->watches, key);
	}
	if (what == CURL_POLL_REMOVE)
		return 0;

	GIOCondition condition = G_IO_ERR | G_IO_HUP;
	if (what & CURL_POLL_IN)
		condition |= G_IO_IN;
	if (what & CURL_POLL_OUT)
		condition |= G_IO_OUT;
	id = g_unix_fd_add(fd, condition, on_socket_ready, engine);
	g_hash_table_insert(engine->watches, key, GUINT_TO_POINTER(id));
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: keeps the one timer. Curl must not be called
 * from here, so even a 0 ms timeout goes through the main loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *user_data)
{
	HttpEngine *engine = user_data;

	g_clear_handle_id(&engine->timer_id, g_source_remove);
	if (timeout_ms >= 0)
		engine->timer_id = g_timeout_add((guint) MIN(timeout_ms, (long) G_MAXUINT), on_timeout, engine);
	return 0;
}

HttpEngine *http_engine_new(const HttpLimits *limits)
{
	HttpLimits defaults;

	http_limits_default(&defaults);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	CURLM *multi = curl_multi_init();
	if (!multi) {
		curl_global_cleanup();
		return NULL;
	}

	HttpEngine *engine = g_new0(HttpEngine, 1);
	engine->refs = 1;
	engine->multi = multi;
	engine->limits = limits ? *limits : defaults;
	if (!engine->limits.max_connections)
		engine->limits.max_connections = defaults.max_connections;
	if (!engine->limits.max_connections_per_host)
		engine->limits.max_connections_per_host = defaults.max_connections_per_host;
	if (!engine->limits.max_body_bytes)
		engine->limits.max_body_bytes = defaults.max_body_bytes;
	if (!engine->limits.connect_timeout_s)
		engine->limits.connect_timeout_s = defaults.connect_timeout_s;
	if (!engine->limits.timeout_s)
		engine->limits.timeout_s = defaults.timeout_s;
	engine->watches = g_hash_table_new(NULL, NULL);
	engine->transfers = g_hash_table_new(g_int64_hash, g_int64_equal);
	engine->host_running = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	engine->host_auth = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_queue_init(&engine->queued);
	g_queue_init(&engine->finished);

	curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, engine);
	curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(multi, CURLMOPT_TIMERDATA, engine);
	/* Our queue already keeps to these; curl's limits also cover idle
	 * connections in its cache. */
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long) engine->limits.max_connections);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) engine->limits.max_connections_per_host);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long) engine->limits.max_connections);
	return engine;
}

void http_engine_free(HttpEngine *engine)
{
	if (!engine || engine->closing)
		return;
	g_return_if_fail(!engine->in_curl);

	engine->closing = TRUE;
	/* Callbacks may submit or cancel more: take one transfer at a time. */
	while (g_hash_table_size(engine->transfers) > 0) {
		GHashTableIter iter;
		Transfer *transfer;
		g_hash_table_iter_init(&iter, engine->transfers);
		g_hash_table_iter_next(&iter, NULL, (gpointer *) &transfer);
		/* Only finished transfers have a response filled in. */
		if (transfer->state != TRANSFER_FINISHED) {
			transfer->response.status = 0;
			transfer->response.error = g_strdup("cancelled");
			transfer->response.effective_url = g_strdup(transfer->current.url);
		}
		transfer_report(transfer);
	}
	g_clear_handle_id(&engine->dispatch_id, g_source_remove);
	/* Closing cached connections reports their sockets removed. */
	curl_multi_cleanup(engine->multi);
	engine->multi = NULL;
	g_clear_handle_id(&engine->timer_id, g_source_remove);
	GHashTableIter iter;
	gpointer id;
	g_hash_table_iter_init(&iter, engine->watches);
	while (g_hash_table_iter_next(&iter, NULL, &id))
		g_source_remove(GPOINTER_TO_UINT(id));
	g_hash_table_remove_all(engine->watches);
	curl_global_cleanup();
	engine_unref(engine);
}

guint64 http_engine_submit(HttpEngine *engine, HttpRequest *request, HttpDoneFunc done, gpointer user_data)
{
	g_return_val_if_fail(engine && request, 0);

	Transfer *transfer = g_new0(Transfer, 1);
	transfer->engine = engine;
	transfer->id = ++engine->last_id;
	transfer->link.data = transfer;
	transfer->request = request;
	transfer->done = done;
	transfer->user_data = user_data;
	transfer->method = g_strdup(request->method);
	transfer->send_body = request->body != NULL;
	transfer->all_permanent = TRUE;
	transfer->visited = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	transfer->max_body = request->max_body_bytes ? request->max_body_bytes : engine->limits.max_body_bytes;
	transfer->response.retry_after_s = -1;
	if (!request->sink)
		transfer->body = g_byte_array_new();
	g_hash_table_insert(engine->transfers, &transfer->id, transfer);

	const char *why = request->invalid;
	if (!why) {
		g_autofree char *user = NULL;
		char *password = NULL;
		why = url_parse(request->url, &transfer->origin, &user, &password);
		/* Credentials in the URL move out of it, so that no URL, log line
		 * or error message carries them. */
		if (!why && user && !request->username) {
			request->username = g_steal_pointer(&user);
			request->password = password ? g_steal_pointer(&password) : g_strdup("");
		}
		wipe_free(password);
	}
	if (why) {
		transfer_fail(transfer, "%s", why);
	} else {
		Url first = {
			.url = g_strdup(transfer->origin.url),
			.scheme = g_strdup(transfer->origin.scheme),
			.host = g_strdup(transfer->origin.host),
			.port = transfer->origin.port,
		};
		transfer->send_auth = request->username != NULL;
		transfer_set_hop(transfer, &first);
		transfer->state = TRANSFER_QUEUED;
		g_queue_push_tail_link(&engine->queued, &transfer->link);
		schedule_dispatch(engine);
	}
	return transfer->id;
}

gboolean http_engine_cancel(HttpEngine *engine, guint64 id)
{
	g_return_val_if_fail(engine, FALSE);

	Transfer *transfer = g_hash_table_lookup(engine->transfers, &id);
	if (!transfer || transfer->cancelled)
		return FALSE;
	/* From a sink, curl is inside this very transfer: let the write
	 * callback abort it and reap it when curl reports it done. */
	if (engine->in_curl && transfer->state == TRANSFER_RUNNING) {
		transfer->cancelled = TRUE;
		transfer->done = NULL;
		return TRUE;
	}
	transfer_detach(transfer);
	transfer_free(transfer);
	schedule_dispatch(engine);
	return TRUE;
}

long http_engine_status(HttpEngine *engine, guint64 id)
{
	g_return_val_if_fail(engine, 0);

	Transfer *transfer = g_hash_table_lookup(engine->transfers, &id);
	long status = 0;

	if (transfer && transfer->state == TRANSFER_RUNNING && transfer->easy)
		curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

guint http_engine_active(const HttpEngine *engine)
{
	g_return_val_if_fail(engine, 0);

	return g_hash_table_size(engine->transfers);
}
