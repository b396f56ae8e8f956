/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "duration.h"
#include "protocol.h"

/* Exit statuses (SPEC §6). */
enum {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_UNREACHABLE = 3,
};

/* How long to wait for a response; `sync --wait` waits without limit. */
#define RESPONSE_TIMEOUT_S 30
#define READ_CHUNK 4096
#define MAX_COMMAND_OPTIONS 3
#define MAX_COMMAND_ARGS 2
#define TABLE_MAX_COLUMNS 8
/* Widest a name or organisation may make a table column, in terminal cells. */
#define NAME_COLUMN_MAX 28

#define START_HINT "Start it with: systemctl --user start tiesd.socket (or run tiesd in a terminal)"
#define JOURNAL_HINT "journalctl --user -u tiesd may say why"

/* Connection failures: both exit 3, with different advice. */
typedef enum {
	CTL_ERROR_UNREACHABLE, /* nobody listens: say how to start tiesd */
	CTL_ERROR_LOST,        /* it listened but did not answer */
	CTL_ERROR_PROTOCOL,    /* it answered something unreadable */
} CtlError;

static GQuark ctl_error_quark(void)
{
	return g_quark_from_static_string("tiesctl-error");
}
#define CTL_ERROR ctl_error_quark()

typedef struct Invocation Invocation;

typedef struct {
	const char *name;  /* "--wait" */
	const char *value; /* placeholder of its value; NULL for a flag */
	const char *help;
} OptionSpec;

typedef struct {
	const char *name;
	const char *synopsis; /* after "tiesctl " */
	const char *summary;  /* one line for the command list */
	const char *description;
	guint min_args, max_args;
	const char *arg_names[MAX_COMMAND_ARGS + 1]; /* to name a missing one */
	OptionSpec options[MAX_COMMAND_OPTIONS + 1];
	gboolean client_version_first; /* `version`: print ours before asking */
	/* Builds the request, or fails with a usage error. */
	JsonObject *(*build)(Invocation *inv, GError **error);
	/* Prints RESULT for people; returns the exit status. */
	int (*render)(Invocation *inv, JsonObject *result);
	/* The exit status under --json, when it depends on RESULT. */
	int (*json_status)(JsonObject *result);
} Command;

struct Invocation {
	const Command *command; /* borrowed, from commands[] */
	GPtrArray *args;        /* char*, borrowed from argv */
	const char *values[MAX_COMMAND_OPTIONS]; /* borrowed; "" for a given flag */
	gboolean json, help, version;
	const char *socket_path; /* borrowed */
	char *error;             /* owned: the first usage problem found */
	gboolean wait;           /* `sync --wait`: progress, no timeout */
	GHashTable *reported;    /* char* set: sources whose progress was printed */
};

/* ---- text for terminals ---- */

static gint64 now_unix(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* Names and notes come from address books and feeds that others write: a
 * control character in one must not move the cursor or recolour the
 * terminal, nor break a table row. */
static char *text_clean(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text ? text : ""; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		g_string_append_unichar(out, g_unichar_iscntrl(c) ? ' ' : c);
	}
	return g_string_free(out, FALSE);
}

static guint char_width(gunichar c)
{
	if (g_unichar_iszerowidth(c))
		return 0;
	return g_unichar_iswide(c) ? 2 : 1;
}

/* Terminal cells TEXT takes: CJK characters take two. */
static guint text_width(const char *text)
{
	guint width = 0;

	for (const char *p = text; *p; p = g_utf8_next_char(p))
		width += char_width(g_utf8_get_char(p));
	return width;
}

/* TEXT cleaned and cut to MAX cells (0: no limit), "…" marking a cut. */
static char *text_fit(const char *text, guint max)
{
	g_autofree char *clean = text_clean(text);

	if (max == 0 || text_width(clean) <= max)
		return g_steal_pointer(&clean);
	GString *out = g_string_new(NULL);
	guint width = 0;
	for (const char *p = clean; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (width + char_width(c) > max - 1)
			break;
		g_string_append_unichar(out, c);
		width += char_width(c);
	}
	g_string_append(out, "…");
	return g_string_free(out, FALSE);
}

static void print_padded(const char *text, guint width)
{
	fputs(text, stdout);
	for (guint w = text_width(text); w < width; w++)
		fputc(' ', stdout);
}

/* Columns padded by display width; the last column is never padded. */
typedef struct {
	guint columns;
	const char *indent;                     /* borrowed */
	const char *headers[TABLE_MAX_COLUMNS]; /* borrowed */
	guint limits[TABLE_MAX_COLUMNS];        /* 0: no limit */
	guint widths[TABLE_MAX_COLUMNS];
	GPtrArray *cells; /* char*, owned: fitted texts, COLUMNS per row */
} Table;

/* HEADERS is NULL-terminated; LIMITS has one entry per header. */
static void table_init(Table *table, const char *indent, const char *const *headers, const guint *limits)
{
	memset(table, 0, sizeof *table);
	table->indent = indent;
	while (headers[table->columns] && table->columns < TABLE_MAX_COLUMNS) {
		table->headers[table->columns] = headers[table->columns];
		table->limits[table->columns] = limits[table->columns];
		table->widths[table->columns] = text_width(headers[table->columns]);
		table->columns++;
	}
	table->cells = g_ptr_array_new_with_free_func(g_free);
}

static void table_clear(Table *table)
{
	g_clear_pointer(&table->cells, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Table, table_clear)

/* One row: exactly as many strings (NULL for empty) as there are columns. */
static void table_add(Table *table, ...)
{
	va_list ap;

	va_start(ap, table);
	for (guint i = 0; i < table->columns; i++) {
		char *cell = text_fit(va_arg(ap, const char *), table->limits[i]);
		table->widths[i] = MAX(table->widths[i], text_width(cell));
		g_ptr_array_add(table->cells, cell);
	}
	va_end(ap);
}

static void table_print_row(const Table *table, const char *const *cells)
{
	guint last = table->columns;

	/* No padding after the last cell that says something. */
	while (last > 1 && !*cells[last - 1])
		last--;
	fputs(table->indent, stdout);
	for (guint i = 0; i < last; i++) {
		if (i + 1 == last) {
			fputs(cells[i], stdout);
		} else {
			print_padded(cells[i], table->widths[i]);
			fputs("  ", stdout);
		}
	}
	fputc('\n', stdout);
}

static void table_print(const Table *table)
{
	table_print_row(table, table->headers);
	for (guint i = 0; i < table->cells->len; i += table->columns)
		table_print_row(table, (const char *const *)&table->cells->pdata[i]);
}

/* "Label:" padded so that values line up. */
static void print_field(const char *label, const char *value)
{
	g_autofree char *clean = text_clean(value);
	g_autofree char *key = g_strconcat(label, ":", NULL);

	print_padded(key, 15);
	fputs(clean, stdout);
	fputc('\n', stdout);
}

/* ---- times ---- */

static char *time_relative(gint64 when)
{
	gint64 delta = when - now_unix();

	if (delta > -60 && delta < 60)
		return g_strdup("just now");
	g_autofree char *span = duration_format_human(delta);
	return delta < 0 ? g_strdup_printf("%s ago", span) : g_strdup_printf("in %s", span);
}

static char *time_local(gint64 when, const char *format)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(when);
	return dt ? g_date_time_format(dt, format) : g_strdup("?");
}

/* MEMBER of OBJECT, a time, as "3 days ago"; ABSENT when it is null. */
static char *member_relative(JsonObject *object, const char *member, const char *absent)
{
	gint64 when;

	if (!date_parse_utc(json_get_string(object, member), &when))
		return g_strdup(absent);
	return time_relative(when);
}

/* "2025-01-10 14:30 (3 days ago)" in local time. */
static char *member_local(JsonObject *object, const char *member, const char *absent)
{
	gint64 when;

	if (!date_parse_utc(json_get_string(object, member), &when))
		return g_strdup(absent);
	g_autofree char *local = time_local(when, "%Y-%m-%d %H:%M");
	g_autofree char *relative = time_relative(when);
	return g_strdup_printf("%s (%s)", local, relative);
}

static char *member_date(JsonObject *object, const char *member, const char *absent)
{
	gint64 when;

	if (!date_parse_utc(json_get_string(object, member), &when))
		return g_strdup(absent);
	return time_local(when, "%Y-%m-%d");
}

static char *member_int(JsonObject *object, const char *member)
{
	return g_strdup_printf("%" G_GINT64_FORMAT, json_get_int(object, member, 0));
}

/* An absent list is an empty one. */
static guint array_length(JsonArray *array)
{
	return array ? json_array_get_length(array) : 0;
}

static JsonObject *array_object(JsonArray *array, guint i)
{
	JsonNode *node = json_array_get_element(array, i);
	return JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static const char *array_string(JsonArray *array, guint i)
{
	JsonNode *node = json_array_get_element(array, i);

	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	return json_node_get_string(node);
}

/* ---- the connection ---- */

typedef void (*ProgressFunc)(JsonObject *progress, gpointer user_data);

typedef struct {
	int fd;
	FrameReader reader;
} Connection;

static void connection_close(Connection *conn)
{
	if (conn->fd >= 0)
		close(conn->fd);
	conn->fd = -1;
	frame_reader_clear(&conn->reader);
}

static gboolean connection_open(Connection *conn, const char *path, GError **error)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	/* Bounds connect() when the daemon's backlog is full, and send(). */
	struct timeval timeout = { .tv_sec = RESPONSE_TIMEOUT_S };

	conn->fd = -1;
	frame_reader_init(&conn->reader, PROTOCOL_MAX_RESPONSE);
	if (strlen(path) >= sizeof addr.sun_path) {
		g_set_error(error, CTL_ERROR, CTL_ERROR_UNREACHABLE, "cannot reach tiesd at %s: %s", path,
			    g_strerror(ENAMETOOLONG));
		return FALSE;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	conn->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (conn->fd < 0 ||
	    setsockopt(conn->fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0 ||
	    connect(conn->fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		g_set_error(error, CTL_ERROR, CTL_ERROR_UNREACHABLE, "cannot reach tiesd at %s: %s", path,
			    g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

static gboolean connection_send(Connection *conn, const char *data, gsize len, GError **error)
{
	gsize done = 0;

	while (done < len) {
		/* MSG_NOSIGNAL: a daemon that went away is an error, not SIGPIPE. */
		ssize_t n = send(conn->fd, data + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			g_set_error(error, CTL_ERROR, CTL_ERROR_LOST, "cannot send to tiesd: %s",
				    err == EAGAIN || err == EWOULDBLOCK ? "timed out" : g_strerror(err));
			return FALSE;
		}
		done += n;
	}
	return TRUE;
}

/* Waits until the socket is readable; TIMEOUT_S 0 waits without limit. */
static gboolean connection_wait(Connection *conn, gint64 deadline, GError **error)
{
	for (;;) {
		struct pollfd pfd = { .fd = conn->fd, .events = POLLIN };
		int timeout_ms = -1;
		if (deadline) {
			gint64 left = deadline - g_get_monotonic_time();
			timeout_ms = left > 0 ? (int)((left + 999) / 1000) : 0;
		}
		int n = poll(&pfd, 1, timeout_ms);
		if (n > 0)
			return TRUE;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			g_set_error(error, CTL_ERROR, CTL_ERROR_LOST,
				    "tiesd did not answer within %d seconds", RESPONSE_TIMEOUT_S);
		else
			g_set_error(error, CTL_ERROR, CTL_ERROR_LOST, "cannot wait for tiesd: %s",
				    g_strerror(errno));
		return FALSE;
	}
}

/* Sends REQUEST (one encoded message) and returns the final response,
 * handing progress messages to PROGRESS as they arrive. */
static JsonObject *connection_call(Connection *conn, const char *request, gsize len, gboolean wait_forever,
				   ProgressFunc progress, gpointer user_data, GError **error)
{
	gint64 deadline = wait_forever ? 0 : g_get_monotonic_time() + RESPONSE_TIMEOUT_S * G_USEC_PER_SEC;

	if (!connection_send(conn, request, len, error))
		return NULL;
	for (;;) {
		g_autoptr(GError) local_error = NULL;
		/* One read may bring several messages, or part of one. */
		g_autofree char *message = frame_reader_next(&conn->reader, &local_error);
		if (local_error) {
			g_set_error(error, CTL_ERROR, CTL_ERROR_PROTOCOL, "tiesd sent an unreadable answer: %s",
				    local_error->message);
			return NULL;
		}
		if (message) {
			g_autoptr(JsonObject) object = protocol_decode(message, &local_error);
			if (!object) {
				g_set_error(error, CTL_ERROR, CTL_ERROR_PROTOCOL,
					    "tiesd sent an unreadable answer: %s", local_error->message);
				return NULL;
			}
			if (json_object_has_member(object, "ok"))
				return g_steal_pointer(&object);
			JsonObject *body = json_get_object(object, "progress");
			if (body && progress)
				progress(body, user_data);
			continue;
		}

		if (!connection_wait(conn, deadline, error))
			return NULL;
		char buffer[READ_CHUNK];
		ssize_t n = recv(conn->fd, buffer, sizeof buffer, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			g_set_error(error, CTL_ERROR, CTL_ERROR_LOST, "%s",
				    n == 0 ? "tiesd closed the connection without answering"
					   : g_strerror(errno));
			return NULL;
		}
		frame_reader_feed(&conn->reader, buffer, n);
	}
}

/* ---- arguments ---- */

static const char *arg(Invocation *inv, guint i)
{
	return i < inv->args->len ? g_ptr_array_index(inv->args, i) : NULL;
}

/* COMMAND's option NAME and its index, or NULL. */
static const OptionSpec *command_option(const Command *command, const char *name, guint *out_slot)
{
	for (guint i = 0; command && command->options[i].name; i++) {
		if (strcmp(command->options[i].name, name) == 0) {
			*out_slot = i;
			return &command->options[i];
		}
	}
	return NULL;
}

/* The value given for option NAME, "" for a flag; NULL when not given. */
static const char *option(Invocation *inv, const char *name)
{
	guint slot;

	g_return_val_if_fail(command_option(inv->command, name, &slot), NULL);
	return inv->values[slot];
}

/* Sets a usage error (exit 2) and returns NULL, for the build functions. */
static JsonObject *usage_fail(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);
static JsonObject *usage_fail(GError **error, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_set_error_literal(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
	return NULL;
}

static gboolean check_duration(const char *command, const char *text, GError **error)
{
	gint64 seconds;
	g_autoptr(GError) local_error = NULL;

	if (duration_parse(text, &seconds, &local_error))
		return TRUE;
	usage_fail(error, "%s: %s", command, local_error->message);
	return FALSE;
}

static JsonObject *args_new_contact(Invocation *inv)
{
	JsonObject *args = json_object_new();
	json_object_set_string_member(args, "contact", arg(inv, 0));
	return args;
}

/* ---- commands: requests ---- */

static JsonObject *build_plain(Invocation *inv, GError **error)
{
	return protocol_request_new(inv->command->name, NULL);
}

static JsonObject *build_sync(Invocation *inv, GError **error)
{
	JsonObject *args = json_object_new();
	JsonArray *sources = json_array_new();

	for (guint i = 0; i < inv->args->len; i++)
		json_array_add_string_element(sources, arg(inv, i));
	json_object_set_array_member(args, "sources", sources);
	inv->wait = option(inv, "--wait") != NULL;
	json_object_set_boolean_member(args, "wait", inv->wait);
	json_object_set_boolean_member(args, "accept", option(inv, "--accept") != NULL);
	return protocol_request_new("sync", args);
}

static JsonObject *build_contacts(Invocation *inv, GError **error)
{
	JsonObject *args = json_object_new();

	json_set_string_or_null(args, "query", arg(inv, 0));
	json_object_set_boolean_member(args, "overdue", option(inv, "--overdue") != NULL);
	json_set_string_or_null(args, "tier", option(inv, "--tier"));
	json_object_set_boolean_member(args, "include_gone", option(inv, "--all") != NULL);
	return protocol_request_new("contacts", args);
}

static JsonObject *build_show(Invocation *inv, GError **error)
{
	return protocol_request_new("show", args_new_contact(inv));
}

static JsonObject *build_who_at(Invocation *inv, GError **error)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "org", arg(inv, 0));
	json_object_set_boolean_member(args, "past", option(inv, "--past") != NULL);
	return protocol_request_new("who-at", args);
}

/* The event kinds of SPEC §4. */
static const char *const event_kinds[] = {
	"job-change", "new-role", "silence", "birthday", "work-anniversary", "post", NULL,
};

static JsonObject *build_events(Invocation *inv, GError **error)
{
	const char *since = option(inv, "--since");
	const char *kind = option(inv, "--kind");

	if (since && !check_duration("events --since", since, error))
		return NULL;
	if (kind && !g_strv_contains(event_kinds, kind)) {
		g_autofree char *kinds = g_strjoinv(", ", (char **)event_kinds);
		return usage_fail(error, "events: unknown kind \"%s\" (one of %s)", kind, kinds);
	}
	JsonObject *args = json_object_new();
	json_set_string_or_null(args, "since", since);
	json_set_string_or_null(args, "kind", kind);
	return protocol_request_new("events", args);
}

static JsonObject *build_touch(Invocation *inv, GError **error)
{
	const char *at = option(inv, "--at");
	g_autofree char *at_utc = NULL;

	if (at) {
		gint64 when;
		g_autoptr(GError) local_error = NULL;
		if (!date_parse(at, &when, &local_error))
			return usage_fail(error, "touch --at: %s", local_error->message);
		/* The client's idea of local time is the user's: resolve it here. */
		at_utc = date_format_utc(when);
	}
	JsonObject *args = args_new_contact(inv);
	json_set_string_or_null(args, "at", at_utc);
	json_set_string_or_null(args, "via", option(inv, "--via"));
	json_set_string_or_null(args, "note", option(inv, "--note"));
	return protocol_request_new("touch", args);
}

static JsonObject *build_snooze(Invocation *inv, GError **error)
{
	if (!check_duration("snooze", arg(inv, 1), error))
		return NULL;
	JsonObject *args = args_new_contact(inv);
	json_object_set_string_member(args, "duration", arg(inv, 1));
	return protocol_request_new("snooze", args);
}

static JsonObject *build_dismiss(Invocation *inv, GError **error)
{
	guint64 event;

	if (!g_ascii_string_to_unsigned(arg(inv, 0), 10, 1, G_MAXINT64, &event, NULL))
		return usage_fail(error, "dismiss: EVENT must be an event id (a number), not \"%s\"",
				  arg(inv, 0));
	JsonObject *args = json_object_new();
	json_object_set_int_member(args, "event", (gint64)event);
	return protocol_request_new("dismiss", args);
}

static JsonObject *build_cadence(Invocation *inv, GError **error)
{
	/* A duration or a tier name: tiers are configurable, so only the
	 * daemon can tell a wrong one. */
	JsonObject *args = args_new_contact(inv);
	json_object_set_string_member(args, "cadence", arg(inv, 1));
	return protocol_request_new("cadence", args);
}

static JsonObject *build_feeds(Invocation *inv, GError **error)
{
	const char *action = arg(inv, 0);
	const char *contact = option(inv, "--contact");
	gboolean add = g_strcmp0(action, "add") == 0;
	gboolean import = g_strcmp0(action, "import") == 0;
	guint wanted = add || import ? 2 : action ? 1 : 0;

	if (action && !add && !import && strcmp(action, "export") != 0)
		return usage_fail(error, "feeds: unknown action \"%s\" (add, import or export)", action);
	if (inv->args->len < wanted)
		return usage_fail(error, "feeds %s: missing %s", action, add ? "URL" : "OPML");
	if (inv->args->len > wanted)
		return usage_fail(error, "feeds: unexpected argument \"%s\"", arg(inv, wanted));
	if (contact && !add)
		return usage_fail(error, "feeds: --contact goes with \"feeds add\" only");
	if (add && !contact)
		return usage_fail(error, "feeds add: missing --contact CONTACT");
	if (!action)
		return protocol_request_new("feeds", NULL);
	if (!add && !import)
		return protocol_request_new("feeds-export", NULL);

	JsonObject *args = json_object_new();
	if (add) {
		json_object_set_string_member(args, "url", arg(inv, 1));
		json_object_set_string_member(args, "contact", contact);
		return protocol_request_new("feeds-add", args);
	}

	/* The daemon may see another file system (a sandbox, another mount
	 * namespace): send the file's contents, not its name. */
	g_autofree char *opml = NULL;
	gsize len;
	g_autoptr(GError) local_error = NULL;
	if (!g_file_get_contents(arg(inv, 1), &opml, &len, &local_error)) {
		json_object_unref(args);
		return usage_fail(error, "feeds import: %s", local_error->message);
	}
	if (!g_utf8_validate(opml, len, NULL)) {
		json_object_unref(args);
		return usage_fail(error, "feeds import: %s is not UTF-8 text", arg(inv, 1));
	}
	json_object_set_string_member(args, "opml", opml);
	return protocol_request_new("feeds-import", args);
}

static JsonObject *build_link(Invocation *inv, GError **error)
{
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "a", arg(inv, 0));
	json_set_string_or_null(args, "b", arg(inv, 1));
	return protocol_request_new(inv->command->name, args);
}

/* ---- commands: output ---- */

static void print_sources(JsonArray *sources, gboolean with_location)
{
	g_auto(Table) table = { 0 };

	if (with_location)
		table_init(&table, "", (const char *[]){ "NAME", "TYPE", "EVERY", "LAST SYNC", "RESULT", "NEXT RUN", "CONTACTS", "LOCATION", NULL },
			   (guint[]){ 20, 0, 0, 0, 0, 0, 0, 0 });
	else
		table_init(&table, "  ", (const char *[]){ "NAME", "TYPE", "LAST SYNC", "RESULT", "NEXT RUN", "CONTACTS", NULL },
			   (guint[]){ 20, 0, 0, 0, 0, 0 });
	for (guint i = 0; i < array_length(sources); i++) {
		JsonObject *s = array_object(sources, i);
		g_autofree char *last = member_relative(s, "last_sync", "never");
		g_autofree char *next = member_relative(s, "next_run", "-");
		g_autofree char *count = member_int(s, "contacts");
		g_autofree char *every = duration_format(json_get_int(s, "interval_s", 0));
		const char *result = json_get_bool(s, "running") ? "running" : json_get_string(s, "last_result");

		if (!result)
			result = "-";
		if (with_location)
			table_add(&table, json_get_string(s, "name"), json_get_string(s, "type"), every, last, result,
				  next, count, json_get_string(s, "location"));
		else
			table_add(&table, json_get_string(s, "name"), json_get_string(s, "type"), last, result, next,
				  count);
	}
	table_print(&table);

	/* What the last sync had to say, below the table so that it stays tidy. */
	for (guint i = 0; i < array_length(sources); i++) {
		JsonObject *s = array_object(sources, i);
		const char *said = json_get_string(s, "last_error");
		if (!said)
			said = json_get_string(s, "last_message");
		if (!said)
			continue;
		g_autofree char *name = text_clean(json_get_string(s, "name"));
		g_autofree char *clean = text_clean(said);
		printf("%s%s: %s\n", with_location ? "" : "  ", name, clean);
	}
}

static int render_status(Invocation *inv, JsonObject *r)
{
	JsonObject *counts = json_get_object(r, "counts");
	JsonArray *sources = json_get_array(r, "sources");
	JsonArray *held = json_get_array(r, "held_syncs");
	gint64 uptime = MAX(json_get_int(r, "uptime_s", 0), 0);
	g_autofree char *up = uptime < 60 ? g_strdup_printf("%" G_GINT64_FORMAT " seconds", uptime)
					  : duration_format_human(uptime);
	g_autofree char *started = member_local(r, "started_at", "?");
	g_autofree char *version = text_clean(json_get_string(r, "version"));
	g_autofree char *contacts = g_strdup_printf("%" G_GINT64_FORMAT " (%" G_GINT64_FORMAT " gone)",
						    json_get_int(counts, "contacts", 0),
						    json_get_int(counts, "gone", 0));
	g_autofree char *interactions = member_int(counts, "interactions");
	g_autofree char *events = member_int(counts, "events");
	gint64 cap = json_get_int(r, "max_nudges_per_day", 0);
	g_autofree char *cap_text = cap ? g_strdup_printf(" of %" G_GINT64_FORMAT, cap) : g_strdup("");
	g_autofree char *nudges = g_strdup_printf("%" G_GINT64_FORMAT " pending, %" G_GINT64_FORMAT "%s shown today%s",
						  json_get_int(counts, "nudges_pending", 0),
						  json_get_int(r, "nudges_shown_today", 0), cap_text,
						  json_get_bool(r, "quiet_now") ? " (quiet hours now)" : "");

	printf("tiesd %s, pid %" G_GINT64_FORMAT ", up %s\n", version, json_get_int(r, "pid", 0), up);
	print_field("Started", started);
	print_field("Database", json_get_string(r, "database"));
	print_field("Config", json_get_string(r, "config") ? json_get_string(r, "config") : "(built-in defaults)");
	print_field("Contacts", contacts);
	print_field("Interactions", interactions);
	print_field("Events", events);
	print_field("Nudges", nudges);
	print_field("Notifications", json_get_bool(r, "notification_server")
					     ? "yes"
					     : "no notification server: nudges wait in `tiesctl nudges`");

	fputc('\n', stdout);
	if (array_length(sources) == 0) {
		printf("Sources: none configured\n");
	} else {
		printf("Sources:\n");
		print_sources(sources, FALSE);
	}
	if (array_length(held) > 0) {
		printf("\nHeld syncs (nothing was changed):\n");
		for (guint i = 0; i < array_length(held); i++) {
			JsonObject *h = array_object(held, i);
			g_autofree char *source = text_clean(json_get_string(h, "source"));
			g_autofree char *reason = text_clean(json_get_string(h, "reason"));
			g_autofree char *since = member_relative(h, "since", "?");
			printf("  %s: %s (since %s)\n", source, reason, since);
		}
	}
	return EXIT_DONE;
}

static int render_sources(Invocation *inv, JsonObject *r)
{
	JsonArray *sources = json_get_array(r, "sources");

	if (array_length(sources) == 0)
		printf("No sources configured.\n");
	else
		print_sources(sources, TRUE);
	return EXIT_DONE;
}

static const char *sync_source(JsonObject *result)
{
	const char *source = json_get_string(result, "source");
	return source ? source : "";
}

/* "phone: ok, 3 added, 1 updated, 0 gone"; "feeds: 40 polled, 3 new posts, …" */
static void print_sync_result(JsonObject *p)
{
	g_autofree char *source = text_clean(json_get_string(p, "source"));
	g_autofree char *message = text_clean(json_get_string(p, "message"));

	if (g_strcmp0(json_get_string(p, "result"), "ok") != 0) {
		printf("%s: error: %s\n", source, *message ? message : "failed");
	} else if (json_object_has_member(p, "feeds")) {
		printf("%s: %" G_GINT64_FORMAT " polled, %" G_GINT64_FORMAT " new posts, %" G_GINT64_FORMAT
		       " not modified, %" G_GINT64_FORMAT " failed\n",
		       source, json_get_int(p, "feeds", 0), json_get_int(p, "new_posts", 0),
		       json_get_int(p, "not_modified", 0), json_get_int(p, "errors", 0));
	} else {
		printf("%s: ok, %" G_GINT64_FORMAT " added, %" G_GINT64_FORMAT " updated, %" G_GINT64_FORMAT
		       " gone%s%s%s\n",
		       source, json_get_int(p, "added", 0), json_get_int(p, "updated", 0),
		       json_get_int(p, "gone", 0), *message ? " (" : "", message, *message ? ")" : "");
	}
	fflush(stdout);
}

static void on_sync_progress(JsonObject *progress, gpointer user_data)
{
	Invocation *inv = user_data;

	if (inv->json)
		return;
	print_sync_result(progress);
	g_hash_table_add(inv->reported, g_strdup(sync_source(progress)));
}

static int sync_status(JsonObject *r)
{
	JsonArray *results = json_get_array(r, "results");

	for (guint i = 0; i < array_length(results); i++)
		if (g_strcmp0(json_get_string(array_object(results, i), "result"), "ok") != 0)
			return EXIT_REFUSED;
	return EXIT_DONE;
}

static int render_sync(Invocation *inv, JsonObject *r)
{
	if (!inv->wait) {
		JsonArray *started = json_get_array(r, "started");
		if (array_length(started) == 0) {
			printf("Nothing to sync: no sources or feeds configured.\n");
			return EXIT_DONE;
		}
		GString *names = g_string_new(NULL);
		for (guint i = 0; i < array_length(started); i++) {
			g_autofree char *name = text_clean(array_string(started, i));
			g_string_append_printf(names, "%s%s", i ? ", " : "", name);
		}
		printf("Syncing %s.\n", names->str);
		g_string_free(names, TRUE);
		return EXIT_DONE;
	}

	JsonArray *results = json_get_array(r, "results");
	if (array_length(results) == 0)
		printf("Nothing to sync: no sources or feeds configured.\n");
	/* Progress printed most already; the final list fills any gap. */
	for (guint i = 0; i < array_length(results); i++) {
		JsonObject *result = array_object(results, i);
		if (!g_hash_table_contains(inv->reported, sync_source(result)))
			print_sync_result(result);
	}
	return sync_status(r);
}

static int render_contacts(Invocation *inv, JsonObject *r)
{
	JsonArray *contacts = json_get_array(r, "contacts");
	g_auto(Table) table = { 0 };

	if (array_length(contacts) == 0) {
		printf("No contacts.\n");
		return EXIT_DONE;
	}
	table_init(&table, "", (const char *[]){ "ID", "NAME", "ORG", "LAST CONTACT", "DUE", NULL },
		   (guint[]){ 0, NAME_COLUMN_MAX, NAME_COLUMN_MAX, 0, 0 });
	for (guint i = 0; i < array_length(contacts); i++) {
		JsonObject *c = array_object(contacts, i);
		g_autofree char *id = member_int(c, "id");
		g_autofree char *last = member_relative(c, "last_interaction", "never");
		g_autofree char *due = NULL;
		gint64 when;

		if (json_get_bool(c, "gone"))
			due = g_strdup("gone");
		else if (!date_parse_utc(json_get_string(c, "next_due"), &when))
			due = g_strdup("never");
		else if (json_get_bool(c, "overdue")) {
			g_autofree char *span = duration_format_human(now_unix() - when);
			due = g_strdup_printf("overdue %s", span);
		} else
			due = time_relative(when);
		table_add(&table, id, json_get_string(c, "name"), json_get_string(c, "org"), last, due);
	}
	table_print(&table);
	return EXIT_DONE;
}

static void print_section(const char *title, guint count)
{
	printf("\n%s:\n", title);
	if (count == 0)
		printf("  (none)\n");
}

static char *describe_cadence(JsonObject *c)
{
	JsonNode *node = json_object_get_member(c, "cadence_s");
	const char *from = json_get_string(c, "cadence_from");
	const char *tier = json_get_string(c, "tier");
	g_autofree char *span = node && !JSON_NODE_HOLDS_NULL(node)
					? duration_format(json_get_int(c, "cadence_s", 0))
					: g_strdup("never");

	if (g_strcmp0(from, "contact") == 0)
		return g_strdup_printf("%s (set for this contact)", span);
	if (g_strcmp0(from, "tier") == 0 || g_strcmp0(from, "category") == 0)
		return g_strdup_printf("%s (tier %s%s)", span, tier ? tier : "?",
				       g_strcmp0(from, "category") == 0 ? ", from a vCard category" : "");
	if (g_strcmp0(from, "default") == 0)
		return g_strdup_printf("%s (default)", span);
	return g_steal_pointer(&span);
}

static int render_show(Invocation *inv, JsonObject *c)
{
	g_autofree char *name = text_clean(json_get_string(c, "name"));
	g_autofree char *id = member_int(c, "id");
	const char *title = json_get_string(c, "title");
	const char *org = json_get_string(c, "org");
	JsonArray *emails = json_get_array(c, "emails");
	g_autofree char *cadence = describe_cadence(c);
	g_autofree char *last = member_local(c, "last_interaction", "never");
	g_autofree char *due = member_local(c, "next_due", "never");
	g_autofree char *first = member_local(c, "first_seen", "?");

	printf("%s (#%s)%s\n", name, id, json_get_bool(c, "gone") ? " — gone from every source" : "");
	if (title || org) {
		g_autofree char *line = g_strjoin(title && org ? ", " : "", title ? title : "", org ? org : "", NULL);
		g_autofree char *clean = text_clean(line);
		printf("%s\n", clean);
	}
	for (guint i = 0; i < array_length(emails); i++) {
		g_autofree char *email = text_clean(array_string(emails, i));
		printf("%s\n", email);
	}
	fputc('\n', stdout);
	print_field("Cadence", cadence);
	print_field("Last contact", last);
	if (json_get_bool(c, "overdue")) {
		g_autofree char *overdue = g_strconcat(due, ", overdue", NULL);
		print_field("Next due", overdue);
	} else {
		print_field("Next due", due);
	}
	if (json_get_string(c, "snoozed_until")) {
		g_autofree char *snoozed = member_local(c, "snoozed_until", "");
		print_field("Snoozed until", snoozed);
	}
	print_field("First seen", first);

	JsonArray *fields = json_get_array(c, "fields");
	print_section("Fields", array_length(fields));
	if (array_length(fields) > 0) {
		g_auto(Table) table = { 0 };
		table_init(&table, "  ", (const char *[]){ "SOURCE", "FIELD", "VALUE", NULL }, (guint[]){ 24, 0, 0 });
		for (guint i = 0; i < array_length(fields); i++) {
			JsonObject *f = array_object(fields, i);
			g_autofree char *source = g_strdup_printf("%s%s", json_get_string(f, "source"),
								  json_get_bool(f, "gone") ? " (gone)" : "");
			table_add(&table, source, json_get_string(f, "field"), json_get_string(f, "value"));
		}
		table_print(&table);
	}

	JsonArray *employment = json_get_array(c, "employment");
	print_section("Employment", array_length(employment));
	if (array_length(employment) > 0) {
		g_auto(Table) table = { 0 };
		table_init(&table, "  ", (const char *[]){ "FROM", "UNTIL", "ORG", "TITLE", "SOURCE", NULL },
			   (guint[]){ 0, 0, 40, 30, 0 });
		for (guint i = 0; i < array_length(employment); i++) {
			JsonObject *e = array_object(employment, i);
			g_autofree char *from = member_date(e, "first_seen", "?");
			g_autofree char *until = member_date(e, "last_seen", "?");
			const char *unit = json_get_string(e, "unit");
			g_autofree char *where = unit ? g_strdup_printf("%s / %s", json_get_string(e, "org"), unit)
						      : g_strdup(json_get_string(e, "org"));
			table_add(&table, from, until, where, json_get_string(e, "title"), json_get_string(e, "source"));
		}
		table_print(&table);
	}

	JsonArray *interactions = json_get_array(c, "interactions");
	print_section("Interactions", array_length(interactions));
	if (array_length(interactions) > 0) {
		g_auto(Table) table = { 0 };
		table_init(&table, "  ", (const char *[]){ "WHEN", "VIA", "FROM", "NOTE", NULL }, (guint[]){ 0, 16, 0, 0 });
		for (guint i = 0; i < array_length(interactions); i++) {
			JsonObject *x = array_object(interactions, i);
			g_autofree char *when = member_local(x, "at", "?");
			const char *via = json_get_string(x, "via");
			table_add(&table, when, via ? via : "-", json_get_string(x, "origin"), json_get_string(x, "note"));
		}
		table_print(&table);
	}

	JsonArray *posts = json_get_array(c, "posts");
	print_section("Posts", array_length(posts));
	if (array_length(posts) > 0) {
		g_auto(Table) table = { 0 };
		table_init(&table, "  ", (const char *[]){ "PUBLISHED", "TITLE", "LINK", NULL }, (guint[]){ 0, 50, 0 });
		for (guint i = 0; i < array_length(posts); i++) {
			JsonObject *p = array_object(posts, i);
			g_autofree char *when = member_relative(p, "published", "?");
			table_add(&table, when, json_get_string(p, "title"), json_get_string(p, "link"));
		}
		table_print(&table);
	}

	JsonArray *events = json_get_array(c, "events");
	print_section("Events", array_length(events));
	if (array_length(events) > 0) {
		g_auto(Table) table = { 0 };
		table_init(&table, "  ", (const char *[]){ "ID", "WHEN", "KIND", "DETAIL", NULL }, (guint[]){ 0, 0, 0, 0 });
		for (guint i = 0; i < array_length(events); i++) {
			JsonObject *e = array_object(events, i);
			g_autofree char *event_id = member_int(e, "id");
			g_autofree char *when = member_relative(e, "at", "?");
			g_autofree char *detail = g_strdup_printf("%s%s", json_get_bool(e, "dismissed") ? "(dismissed) " : "",
								  json_get_string(e, "detail") ? json_get_string(e, "detail") : "");
			table_add(&table, event_id, when, json_get_string(e, "kind"), detail);
		}
		table_print(&table);
	}

	/* Same name, not merged: the user decides with `tiesctl link`. */
	JsonArray *suggested = json_get_array(c, "suggested_links");
	if (array_length(suggested) > 0) {
		print_section("Maybe the same person (tiesctl link)", array_length(suggested));
		for (guint i = 0; i < array_length(suggested); i++) {
			JsonObject *m = array_object(suggested, i);
			g_autofree char *other_id = member_int(m, "id");
			g_autofree char *other = text_clean(json_get_string(m, "name"));
			g_autofree char *reason = text_clean(json_get_string(m, "reason"));
			printf("  #%s %s (%s)\n", other_id, other, reason);
		}
	}
	return EXIT_DONE;
}

static int render_who_at(Invocation *inv, JsonObject *r)
{
	JsonArray *people = json_get_array(r, "contacts");
	g_auto(Table) table = { 0 };

	if (array_length(people) == 0) {
		g_autofree char *org = text_clean(arg(inv, 0));
		printf("Nobody known at %s%s.\n", org, option(inv, "--past") ? ", now or before" : "");
		return EXIT_DONE;
	}
	table_init(&table, "", (const char *[]){ "ID", "NAME", "TITLE", "SINCE", "UNTIL", "ORG", NULL },
		   (guint[]){ 0, NAME_COLUMN_MAX, 24, 0, 0, 0 });
	for (guint i = 0; i < array_length(people); i++) {
		JsonObject *p = array_object(people, i);
		g_autofree char *id = member_int(p, "id");
		g_autofree char *since = member_date(p, "first_seen", "?");
		g_autofree char *until = json_get_bool(p, "current") ? g_strdup("now") : member_date(p, "last_seen", "?");
		table_add(&table, id, json_get_string(p, "name"), json_get_string(p, "title"), since, until,
			  json_get_string(p, "org"));
	}
	table_print(&table);
	return EXIT_DONE;
}

static int render_events(Invocation *inv, JsonObject *r)
{
	JsonArray *events = json_get_array(r, "events");
	g_auto(Table) table = { 0 };

	if (array_length(events) == 0) {
		printf("No events.\n");
		return EXIT_DONE;
	}
	table_init(&table, "", (const char *[]){ "ID", "WHEN", "KIND", "NAME", "DETAIL", NULL },
		   (guint[]){ 0, 0, 0, NAME_COLUMN_MAX, 0 });
	for (guint i = 0; i < array_length(events); i++) {
		JsonObject *e = array_object(events, i);
		g_autofree char *id = member_int(e, "id");
		g_autofree char *when = member_relative(e, "at", "?");
		g_autofree char *detail = g_strdup_printf("%s%s", json_get_bool(e, "dismissed") ? "(dismissed) " : "",
							  json_get_string(e, "detail") ? json_get_string(e, "detail") : "");
		table_add(&table, id, when, json_get_string(e, "kind"), json_get_string(e, "name"), detail);
	}
	table_print(&table);
	return EXIT_DONE;
}

static const char *held_text(const char *held)
{
	if (g_strcmp0(held, "quiet-hours") == 0)
		return "held for quiet hours";
	if (g_strcmp0(held, "daily-cap") == 0)
		return "held: today's nudges are used up";
	if (g_strcmp0(held, "no-notification-server") == 0)
		return "held: no notification server";
	return held;
}

static int render_nudges(Invocation *inv, JsonObject *r)
{
	JsonArray *nudges = json_get_array(r, "nudges");

	if (array_length(nudges) == 0) {
		printf("No nudges.\n");
		return EXIT_DONE;
	}
	for (guint i = 0; i < array_length(nudges); i++) {
		JsonObject *n = array_object(nudges, i);
		g_autofree char *name = text_clean(json_get_string(n, "name"));
		g_autofree char *summary = text_clean(json_get_string(n, "summary"));
		g_autofree char *body = text_clean(json_get_string(n, "body"));
		g_autofree char *reason = text_clean(json_get_string(n, "reason"));
		g_autofree char *state = text_clean(json_get_string(n, "state"));
		g_autofree char *kind = text_clean(json_get_string(n, "kind"));
		g_autofree char *created = member_relative(n, "created_at", "?");
		gint64 rank = json_get_int(n, "rank", 0);
		GString *status = g_string_new(state);

		if (json_get_string(n, "shown_at")) {
			g_autofree char *shown = member_relative(n, "shown_at", "");
			g_string_append_printf(status, "%s%s", strcmp(state, "shown") == 0 ? " " : ", shown ", shown);
		}
		if (json_get_string(n, "held"))
			g_string_append_printf(status, ", %s", held_text(json_get_string(n, "held")));

		if (i > 0)
			fputc('\n', stdout);
		if (rank > 0)
			printf("%" G_GINT64_FORMAT ". ", rank);
		else
			printf("-  ");
		printf("%s [%s]\n", name, status->str);
		g_string_free(status, TRUE);
		if (*summary)
			printf("   %s\n", summary);
		if (*body)
			printf("   %s\n", body);
		if (*reason && strcmp(reason, body) != 0)
			printf("   why: %s\n", reason);
		printf("   event %" G_GINT64_FORMAT " (%s), raised %s\n", json_get_int(n, "event_id", 0), kind, created);
	}
	return EXIT_DONE;
}

static int render_touch(Invocation *inv, JsonObject *r)
{
	JsonObject *x = json_get_object(r, "interaction");
	g_autofree char *when = member_local(x, "at", "?");
	g_autofree char *via = text_clean(json_get_string(x, "via"));

	printf("Recorded an interaction with contact %" G_GINT64_FORMAT " on %s%s%s.\n",
	       json_get_int(x, "contact_id", 0), when, *via ? " via " : "", via);
	return EXIT_DONE;
}

static int render_snooze(Invocation *inv, JsonObject *r)
{
	g_autofree char *until = member_local(r, "until", "?");

	printf("No nudges for contact %" G_GINT64_FORMAT " until %s.\n", json_get_int(r, "contact_id", 0), until);
	return EXIT_DONE;
}

static int render_dismiss(Invocation *inv, JsonObject *r)
{
	printf("Event %" G_GINT64_FORMAT " dismissed: it raises no nudge again.\n", json_get_int(r, "event", 0));
	return EXIT_DONE;
}

static int render_cadence(Invocation *inv, JsonObject *r)
{
	g_autofree char *due = member_local(r, "next_due", "never");
	g_autofree char *tier = text_clean(json_get_string(r, "tier"));
	gint64 cadence = json_get_int(r, "cadence_s", 0);
	g_autofree char *span = cadence > 0 ? duration_format(cadence) : g_strdup("never");

	printf("Contact %" G_GINT64_FORMAT ": cadence %s%s%s%s, next due %s.\n", json_get_int(r, "contact_id", 0),
	       span, *tier ? " (tier " : "", tier, *tier ? ")" : "", due);
	return EXIT_DONE;
}

static void print_feeds(JsonArray *feeds)
{
	g_auto(Table) table = { 0 };

	table_init(&table, "", (const char *[]){ "ID", "CONTACT", "LAST POLL", "RESULT", "URL", NULL },
		   (guint[]){ 0, NAME_COLUMN_MAX, 0, 0, 0 });
	for (guint i = 0; i < array_length(feeds); i++) {
		JsonObject *f = array_object(feeds, i);
		g_autofree char *id = member_int(f, "id");
		g_autofree char *polled = member_relative(f, "last_poll", "never");
		const char *result = json_get_string(f, "last_result");
		table_add(&table, id, json_get_string(f, "contact"), polled, result ? result : "-",
			  json_get_string(f, "url"));
	}
	table_print(&table);
	for (guint i = 0; i < array_length(feeds); i++) {
		JsonObject *f = array_object(feeds, i);
		if (!json_get_string(f, "last_error"))
			continue;
		g_autofree char *error = text_clean(json_get_string(f, "last_error"));
		printf("feed %" G_GINT64_FORMAT ": %s\n", json_get_int(f, "id", 0), error);
	}
}

static int render_feeds(Invocation *inv, JsonObject *r)
{
	const char *sub = arg(inv, 0);

	if (!sub) {
		JsonArray *feeds = json_get_array(r, "feeds");
		if (array_length(feeds) == 0)
			printf("No feeds.\n");
		else
			print_feeds(feeds);
	} else if (strcmp(sub, "export") == 0) {
		/* Raw, so that `tiesctl feeds export > feeds.opml` works. */
		const char *opml = json_get_string(r, "opml");
		if (opml) {
			fputs(opml, stdout);
			if (*opml && !g_str_has_suffix(opml, "\n"))
				fputc('\n', stdout);
		}
	} else if (strcmp(sub, "add") == 0) {
		g_autofree char *url = text_clean(arg(inv, 1));
		printf("Added feed %s.\n", url);
	} else {
		printf("Imported %" G_GINT64_FORMAT " feeds, skipped %" G_GINT64_FORMAT ".\n",
		       json_get_int(r, "added", 0), json_get_int(r, "skipped", 0));
	}
	return EXIT_DONE;
}

static int render_link(Invocation *inv, JsonObject *r)
{
	g_autofree char *a = text_clean(arg(inv, 0));
	g_autofree char *b = text_clean(arg(inv, 1));

	if (strcmp(inv->command->name, "link") == 0)
		printf("Linked %s and %s: one person now.\n", a, b);
	else if (*b)
		printf("Unlinked %s from %s.\n", b, a);
	else
		printf("Unlinked everything merged into %s.\n", a);
	return EXIT_DONE;
}

static int render_reload(Invocation *inv, JsonObject *r)
{
	g_autofree char *config = text_clean(json_get_string(r, "config"));

	printf("Reloaded %s: %" G_GINT64_FORMAT " sources.\n", *config ? config : "the built-in defaults",
	       json_get_int(r, "sources", 0));
	return EXIT_DONE;
}

static int render_version(Invocation *inv, JsonObject *r)
{
	g_autofree char *version = text_clean(json_get_string(r, "version"));

	printf("tiesd %s (protocol %" G_GINT64_FORMAT ")\n", version, json_get_int(r, "protocol", 0));
	return EXIT_DONE;
}

/* ---- the command table ---- */

#define CONTACT_HELP "CONTACT is a contact id, an e-mail address or a unique part of a name."

static const Command commands[] = {
	{ "status", "status", "daemon, counts, sources, held syncs, pending nudges",
	  "Show tiesd's version and uptime, its database, counts of contacts, events and\n"
	  "nudges, each source's last sync, result and next run, held syncs, and whether\n"
	  "a notification server is there to show nudges.",
	  0, 0, { NULL }, { { NULL } }, FALSE, build_plain, render_status, NULL },
	{ "sources", "sources", "the sources and their last sync",
	  "List the configured sources: type, interval, last sync, its result, next run,\n"
	  "contacts and location. Errors and warnings of the last sync follow the table.",
	  0, 0, { NULL }, { { NULL } }, FALSE, build_plain, render_sources, NULL },
	{ "sync", "sync [SOURCE...] [--wait] [--accept]", "sync now (no SOURCE: every source and feed)",
	  "Sync the named sources now, or every source and feed when none is named.",
	  0, G_MAXUINT, { NULL },
	  { { "--wait", NULL, "wait until every sync is done, printing each result as it\n"
			      "arrives; exit 1 if any source failed or was held" },
	    { "--accept", NULL, "apply a sync that was held for changing or removing too\n"
				"many contacts at once (see tiesctl status)" },
	    { NULL } },
	  FALSE, build_sync, render_sync, sync_status },
	{ "contacts", "contacts [QUERY] [--overdue] [--tier TIER] [--all]", "find contacts",
	  "List contacts, sorted by name: those whose name, e-mail or organisation\n"
	  "matches QUERY (case and width insensitive), or all of them.",
	  0, 1, { "QUERY", NULL },
	  { { "--overdue", NULL, "only those due for contact" },
	    { "--tier", "TIER", "only those of tier TIER (close, regular, weak, ...)" },
	    { "--all", NULL, "include contacts gone from every source" },
	    { NULL } },
	  FALSE, build_contacts, render_contacts, NULL },
	{ "show", "show CONTACT", "one contact in full",
	  "Show one contact: cadence and next due date, every field with the source it\n"
	  "came from, employment history, interactions, recent posts and events.\n" CONTACT_HELP,
	  1, 1, { "CONTACT", NULL }, { { NULL } }, FALSE, build_show, render_show, NULL },
	{ "who-at", "who-at ORG [--past]", "who is at ORG (--past: and who was)",
	  "List the contacts who work at ORG now. Organisation names are compared\n"
	  "loosely: 株式会社ABC, (株)ABC and ABC are the same.",
	  1, 1, { "ORG", NULL },
	  { { "--past", NULL, "also list those who used to work there" }, { NULL } },
	  FALSE, build_who_at, render_who_at, NULL },
	{ "events", "events [--since DURATION] [--kind KIND]", "detected events, newest first",
	  "List detected events, newest first.",
	  0, 0, { NULL },
	  { { "--since", "DURATION", "only events of the last DURATION (30d, 2w, ...)" },
	    { "--kind", "KIND", "only events of KIND: job-change, new-role, silence,\n"
				"birthday, work-anniversary or post" },
	    { NULL } },
	  FALSE, build_events, render_events, NULL },
	{ "nudges", "nudges", "pending and recent nudges, ranked",
	  "List pending nudges in rank order, then those shown in the last 30 days,\n"
	  "newest first. A nudge waiting for quiet hours to end, for tomorrow's\n"
	  "allowance or for a notification server says so.",
	  0, 0, { NULL }, { { NULL } }, FALSE, build_plain, render_nudges, NULL },
	{ "touch", "touch CONTACT [--at DATE] [--via CHANNEL] [--note TEXT]", "record an interaction",
	  "Record that you were in touch with CONTACT; this resets the silence clock.\n" CONTACT_HELP,
	  1, 1, { "CONTACT", NULL },
	  { { "--at", "DATE", "when (default now): YYYY-MM-DD or YYYY-MM-DD HH:MM in\n"
			      "local time, or RFC 3339; not in the future" },
	    { "--via", "CHANNEL", "how: meet, call, mail, chat, ..." },
	    { "--note", "TEXT", "a note to remember it by" },
	    { NULL } },
	  FALSE, build_touch, render_touch, NULL },
	{ "snooze", "snooze CONTACT DURATION", "no nudge about CONTACT for DURATION",
	  "Raise no nudge about CONTACT for DURATION (1w, 30d, ...).\n" CONTACT_HELP,
	  2, 2, { "CONTACT", "DURATION", NULL }, { { NULL } }, FALSE, build_snooze, render_snooze, NULL },
	{ "dismiss", "dismiss EVENT", "never raise EVENT again",
	  "Dismiss EVENT (its id, from `tiesctl events` or `tiesctl nudges`): a pending\n"
	  "nudge for it is withdrawn and it is never raised again, e.g. a job change\n"
	  "that was not one.",
	  1, 1, { "EVENT", NULL }, { { NULL } }, FALSE, build_dismiss, render_dismiss, NULL },
	{ "cadence", "cadence CONTACT DURATION|TIER", "how often to be in touch with CONTACT",
	  "Set how often you want to be in touch with CONTACT: a duration (90d, 6w, ...)\n"
	  "or a tier name (close, regular, weak, yearly, never, or one of your own).\n" CONTACT_HELP,
	  2, 2, { "CONTACT", "DURATION|TIER", NULL }, { { NULL } }, FALSE, build_cadence, render_cadence, NULL },
	{ "feeds", "feeds [add URL --contact CONTACT | import OPML | export]", "list, add, import or export feeds",
	  "feeds                          list the feeds and their last poll\n"
	  "feeds add URL --contact C      follow the feed at URL as contact C's\n"
	  "feeds import OPML              add the feeds of the OPML file\n"
	  "feeds export                   print every feed as OPML",
	  0, 2, { NULL },
	  { { "--contact", "CONTACT", "with add: whose feed it is" }, { NULL } },
	  FALSE, build_feeds, render_feeds, NULL },
	{ "link", "link A B", "treat contacts A and B as one person",
	  "Merge contacts A and B, which tiesd did not recognise as one person.\n"
	  "A and B are CONTACTs: an id, an e-mail address or a unique part of a name.",
	  2, 2, { "A", "B", NULL }, { { NULL } }, FALSE, build_link, render_link, NULL },
	{ "unlink", "unlink A [B]", "undo a merge of contacts",
	  "Separate B from contact A, or everything that was merged into A when B\n"
	  "is not given, whether merged by tiesd or by `tiesctl link`.",
	  1, 2, { "A", NULL }, { { NULL } }, FALSE, build_link, render_link, NULL },
	{ "reload", "reload", "re-read the configuration",
	  "Re-read the configuration file. On an error the old configuration stays\n"
	  "and the message names file, line and key.",
	  0, 0, { NULL }, { { NULL } }, FALSE, build_plain, render_reload, NULL },
	{ "version", "version", "tiesctl's and tiesd's versions",
	  "Print tiesctl's version, then ask tiesd for its own. With --json, print\n"
	  "tiesd's answer only (tiesctl --version prints the client's).",
	  0, 0, { NULL }, { { NULL } }, TRUE, build_plain, render_version, NULL },
};

#define GENERAL_SYNOPSIS "tiesctl [--json] [--socket PATH] COMMAND [ARGUMENT...]"

static const Command *command_find(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* Prints TEXT with every line but the first indented by INDENT columns. */
static void print_indented(const char *text, int indent)
{
	for (const char *p = text; *p; p++) {
		fputc(*p, stdout);
		if (*p == '\n')
			printf("%*s", indent, "");
	}
	fputc('\n', stdout);
}

static void print_help(void)
{
	printf("Usage: %s\n\n"
	       "Steer tiesd, the daemon that keeps your professional network alive.\n\n"
	       "Commands:\n",
	       GENERAL_SYNOPSIS);
	for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
		const Command *c = &commands[i];
		if (strlen(c->synopsis) > 30)
			printf("  %s\n  %-30s  %s\n", c->synopsis, "", c->summary);
		else
			printf("  %-30s  %s\n", c->synopsis, c->summary);
	}
	printf("\nOptions:\n"
	       "  --json          print tiesd's answer as one JSON document\n"
	       "  --socket PATH   talk to tiesd at PATH\n"
	       "  -h, --help      show this help; after COMMAND, that command's help\n"
	       "  --version       print tiesctl's version\n\n"
	       "CONTACT is a contact id, an e-mail address or a unique part of a name.\n"
	       "DURATION is like 90d, 2w, 12h.\n\n"
	       "Exit status: 0 done, 1 tiesd refused or failed, 2 usage error,\n"
	       "3 tiesd not reachable. See tiesctl(1).\n");
}

static void print_command_help(const Command *c)
{
	printf("Usage: tiesctl %s\n\n%s\n", c->synopsis, c->description);
	if (c->options[0].name) {
		printf("\nOptions:\n");
		for (guint i = 0; c->options[i].name; i++) {
			const OptionSpec *o = &c->options[i];
			g_autofree char *left = g_strdup_printf("%s%s%s", o->name, o->value ? " " : "",
								o->value ? o->value : "");
			printf("  %-18s  ", left);
			print_indented(o->help, 22);
		}
	}
	printf("\nGlobal options: --json, --socket PATH, -h/--help\n");
}

static int usage_error(const Command *command, const char *message)
{
	fprintf(stderr, "tiesctl: %s\n", message);
	if (command)
		fprintf(stderr, "Usage: tiesctl %s  (tiesctl %s --help for more)\n", command->synopsis, command->name);
	else
		fprintf(stderr, "Usage: %s  (tiesctl --help lists the commands)\n", GENERAL_SYNOPSIS);
	return EXIT_USAGE;
}

/* Records the first usage problem; parsing goes on so that a later --help
 * still gets help. */
static void invocation_fail(Invocation *inv, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void invocation_fail(Invocation *inv, const char *format, ...)
{
	va_list ap;

	if (inv->error)
		return;
	va_start(ap, format);
	inv->error = g_strdup_vprintf(format, ap);
	va_end(ap);
}

static void parse_arguments(Invocation *inv, int argc, char **argv)
{
	gboolean options_done = FALSE;
	gboolean unknown_command = FALSE;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!g_utf8_validate(a, -1, NULL)) {
			invocation_fail(inv, "argument %d is not UTF-8 text", i);
			continue;
		}
		if (!options_done && strcmp(a, "--") == 0) {
			options_done = TRUE;
			continue;
		}
		if (options_done || a[0] != '-' || a[1] == '\0') {
			if (inv->command)
				g_ptr_array_add(inv->args, (char *)a);
			else if (!unknown_command && !(inv->command = command_find(a))) {
				unknown_command = TRUE;
				invocation_fail(inv, "unknown command \"%s\"", a);
			}
			continue;
		}

		/* --name=value or --name value */
		const char *eq = g_str_has_prefix(a, "--") ? strchr(a, '=') : NULL;
		g_autofree char *name = eq ? g_strndup(a, eq - a) : g_strdup(a);
		const char *inline_value = eq ? eq + 1 : NULL;
		const OptionSpec *spec = NULL;
		guint slot = 0;
		const char *value;

		if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
			inv->help = TRUE;
			continue;
		}
		if (strcmp(name, "--json") == 0 || strcmp(name, "--version") == 0) {
			if (inline_value)
				invocation_fail(inv, "option %s takes no value", name);
			else if (strcmp(name, "--json") == 0)
				inv->json = TRUE;
			else
				inv->version = TRUE;
			continue;
		}
		/* Everything but --socket is the command's own. */
		if (strcmp(name, "--socket") != 0 && !(spec = command_option(inv->command, name, &slot))) {
			if (inv->command)
				invocation_fail(inv, "%s: unknown option %s", inv->command->name, name);
			else if (!unknown_command)
				invocation_fail(inv, "unknown option %s", name);
			continue;
		}
		if (spec && !spec->value) {
			if (inline_value)
				invocation_fail(inv, "option %s takes no value", name);
			inv->values[slot] = "";
			continue;
		}
		if (inline_value) {
			value = inline_value;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			invocation_fail(inv, "option %s needs a value (%s)", name, spec ? spec->value : "PATH");
			continue;
		}
		if (!g_utf8_validate(value, -1, NULL)) {
			invocation_fail(inv, "the value of %s is not UTF-8 text", name);
			continue;
		}
		if (spec) {
			inv->values[slot] = value;
		} else if (!*value) {
			invocation_fail(inv, "--socket needs a path");
		} else {
			inv->socket_path = value;
		}
	}
}

static char *default_socket_path(void)
{
	const char *env = g_getenv("TIES_SOCKET");

	/* Else where tiesd listens by default, found the same way. */
	return env && *env ? g_strdup(env) : protocol_default_socket();
}

static void print_json(JsonObject *object)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonGenerator) generator = json_generator_new();
	gsize len;

	json_node_set_object(node, object);
	json_generator_set_root(generator, node);
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_indent(generator, 2);
	g_autofree char *text = json_generator_to_data(generator, &len);
	fwrite(text, 1, len, stdout);
	fputc('\n', stdout);
}

/* Sends the request and prints the answer; returns the exit status. */
static int run(Invocation *inv, JsonObject *request)
{
	g_autofree char *path = inv->socket_path ? g_strdup(inv->socket_path) : default_socket_path();
	g_autoptr(GError) error = NULL;
	Connection conn;
	gsize len;
	g_autofree char *data = protocol_encode(request, &len);

	if (len > PROTOCOL_MAX_REQUEST) {
		g_autofree char *message = g_strdup_printf("%s: the request is too large (%" G_GSIZE_FORMAT
							   " bytes; tiesd takes at most %d)",
							   inv->command->name, len, PROTOCOL_MAX_REQUEST);
		return usage_error(inv->command, message);
	}
	if (inv->command->client_version_first && !inv->json) {
		printf("tiesctl %s\n", PACKAGE_VERSION);
		fflush(stdout);
	}

	g_autoptr(JsonObject) response = NULL;
	if (connection_open(&conn, path, &error))
		response = connection_call(&conn, data, len, inv->wait, on_sync_progress, inv, &error);
	connection_close(&conn);
	if (!response) {
		fprintf(stderr, "tiesctl: %s\n", error->message);
		if (error->code == CTL_ERROR_PROTOCOL)
			return EXIT_REFUSED;
		fprintf(stderr, "%s\n", error->code == CTL_ERROR_UNREACHABLE ? START_HINT : JOURNAL_HINT);
		return EXIT_UNREACHABLE;
	}

	if (!json_get_bool(response, "ok")) {
		JsonObject *e = json_get_object(response, "error");
		const char *code = json_get_string(e, "code");
		const char *message = json_get_string(e, "message");
		fprintf(stderr, "tiesctl: %s\n", message ? message : code ? code : "tiesd refused the request");
		if (g_strcmp0(code, PROTOCOL_E_UNKNOWN_COMMAND) == 0)
			fprintf(stderr, "(tiesd may be older than tiesctl %s)\n", PACKAGE_VERSION);
		return EXIT_REFUSED;
	}
	JsonObject *result = json_get_object(response, "result");
	if (!result) {
		fprintf(stderr, "tiesctl: tiesd sent an unreadable answer: no result\n");
		return EXIT_REFUSED;
	}
	if (inv->json) {
		print_json(result);
		return inv->command->json_status ? inv->command->json_status(result) : EXIT_DONE;
	}
	return inv->command->render(inv, result);
}

static int tiesctl(int argc, char **argv)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GHashTable) reported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	Invocation inv = { .args = args, .reported = reported };
	g_autoptr(GError) error = NULL;

	parse_arguments(&inv, argc, argv);
	g_autofree char *parse_error = inv.error;
	const Command *command = inv.command;

	if (inv.help) {
		if (command)
			print_command_help(command);
		else
			print_help();
		return EXIT_DONE;
	}
	if (inv.version) {
		printf("tiesctl %s\n", PACKAGE_VERSION);
		return EXIT_DONE;
	}
	if (parse_error)
		return usage_error(command, parse_error);
	if (!command)
		return usage_error(NULL, "no command given");
	if (args->len < command->min_args) {
		g_autofree char *message = g_strdup_printf("%s: missing %s", command->name,
							   command->arg_names[MIN(args->len, MAX_COMMAND_ARGS)]);
		return usage_error(command, message);
	}
	if (args->len > command->max_args) {
		g_autofree char *message = g_strdup_printf("%s: unexpected argument \"%s\"%s", command->name,
							   arg(&inv, command->max_args),
							   command->max_args == 1 ? " (quote a name with spaces)" : "");
		return usage_error(command, message);
	}
	g_autoptr(JsonObject) request = command->build(&inv, &error);
	if (!request)
		return usage_error(command, error->message);
	return run(&inv, request);
}

int main(int argc, char **argv)
{
	int status = tiesctl(argc, argv);

	/* A full disk or a closed pipe must not pass for success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tiesctl: cannot write output: %s\n", g_strerror(errno));
		return status ? status : EXIT_REFUSED;
	}
	return status;
}
