/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "charset.h"
#include "linkedin.h"
#include "normalize.h"
#include "protocol.h"

/* More columns than any LinkedIn file has; beyond it a row is broken anyway,
 * and a line of a million commas must not become a million strings. */
#define CSV_MAX_FIELDS 64u
/* How much of a bad value an error message quotes. */
#define EXCERPT_CHARS 40

#define CONNECTIONS_FILE "Connections.csv"
#define MESSAGES_FILE "messages.csv"

static void linkedin_connection_free(LinkedinConnection *connection)
{
	if (!connection)
		return;
	g_free(connection->first_name);
	g_free(connection->last_name);
	g_free(connection->url);
	g_free(connection->email);
	g_free(connection->company);
	g_free(connection->position);
	g_free(connection->connected_on);
	g_free(connection);
}

static void linkedin_message_free(LinkedinMessage *message)
{
	if (!message)
		return;
	g_free(message->conversation_id);
	g_free(message->from);
	g_free(message->sender_url);
	g_free(message->to);
	if (message->recipient_urls)
		g_ptr_array_unref(message->recipient_urls);
	g_free(message);
}

LinkedinExport *linkedin_export_new(void)
{
	LinkedinExport *export = g_new0(LinkedinExport, 1);

	export->connections = g_ptr_array_new_with_free_func((GDestroyNotify)linkedin_connection_free);
	export->messages = g_ptr_array_new_with_free_func((GDestroyNotify)linkedin_message_free);
	export->errors = parse_errors_new();
	return export;
}

void linkedin_export_free(LinkedinExport *export)
{
	if (!export)
		return;
	if (export->connections)
		g_ptr_array_unref(export->connections);
	if (export->messages)
		g_ptr_array_unref(export->messages);
	if (export->errors)
		g_ptr_array_unref(export->errors);
	g_free(export);
}

/* ---- Text ---------------------------------------------------------------- */

static gboolean has_private_use(const char *text, gsize len)
{
	for (const char *p = text; p < text + len; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c >= 0xE000 && c <= 0xF8FF)
			return TRUE;
	}
	return FALSE;
}

/* The file as UTF-8 without a BOM. LinkedIn writes UTF-8; a file opened and
 * saved again by Excel on Japanese Windows is CP932, elsewhere windows-1252.
 * CP932 is taken only when it decodes cleanly and without private-use
 * characters, which Latin text misread as CP932 tends to produce. */
static char *decode_text(const char *data, gsize len, gsize *out_len)
{
	g_autofree char *clean = NULL;
	char *text;

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
	}
	/* NUL bytes never belong in a CSV file and would cut strings short. */
	if (memchr(data, '\0', len)) {
		gsize n = 0;
		clean = g_malloc(len);
		for (gsize i = 0; i < len; i++)
			if (data[i] != '\0')
				clean[n++] = data[i];
		data = clean;
		len = n;
	}

	if (g_utf8_validate_len(data, len, NULL)) {
		*out_len = len;
		return g_strndup(data, len);
	}

	gsize written = 0;
	text = g_convert(data, len, "UTF-8", "CP932", NULL, &written, NULL);
	if (text && !has_private_use(text, written)) {
		*out_len = written;
		return text;
	}
	g_free(text);

	text = charset_guess_to_utf8(data, len);
	*out_len = strlen(text);
	return text;
}

static gboolean is_blank_at(const char *p)
{
	return g_unichar_isspace(g_utf8_get_char(p));
}

/* A copy of TEXT without surrounding white space (U+3000 too); NULL when
 * nothing is left. */
static char *trimmed(const char *text)
{
	if (!text)
		return NULL;

	const char *start = text, *end = text + strlen(text);
	while (start < end && is_blank_at(start))
		start = g_utf8_next_char(start);
	while (end > start) {
		const char *prev = g_utf8_prev_char(end);
		if (!is_blank_at(prev))
			break;
		end = prev;
	}
	return start < end ? g_strndup(start, end - start) : NULL;
}

/* A short, still valid UTF-8 quote of a bad value for an error message. */
static char *excerpt(const char *text)
{
	return text_shorten(text, EXCERPT_CHARS);
}

/* ---- CSV (RFC 4180) -------------------------------------------------------- */

typedef struct {
	const char *p, *end; /* borrowed */
	guint line;          /* physical line at p, 1-based */
} CsvReader;

typedef enum {
	CSV_RECORD,
	CSV_END,
	CSV_UNTERMINATED,
} CsvStatus;

/* Consumes a line break at r->p: CRLF, LF, or a lone CR (as old Excel for
 * the Mac wrote). */
static gboolean csv_eat_newline(CsvReader *r)
{
	if (r->p >= r->end)
		return FALSE;
	if (*r->p == '\r') {
		r->p++;
		if (r->p < r->end && *r->p == '\n')
			r->p++;
	} else if (*r->p == '\n') {
		r->p++;
	} else {
		return FALSE;
	}
	r->line++;
	return TRUE;
}

static void csv_end_field(GPtrArray *fields, guint *count, GString *field)
{
	if (*count < CSV_MAX_FIELDS)
		g_ptr_array_add(fields, g_strndup(field->str, field->len));
	(*count)++;
	g_string_truncate(field, 0);
}

/* Reads one record into FIELDS (char*, at most CSV_MAX_FIELDS of them);
 * COUNT is the true number of fields and LINE the physical line the record
 * starts on. A quote only opens a quoted field at the start of a field;
 * anywhere else it is kept as written, as spreadsheets do. A quoted field
 * that never ends would swallow the rest of the file: then only the line it
 * starts on is given up and reading goes on after it. */
static CsvStatus csv_read_record(CsvReader *r, GPtrArray *fields, guint *count, guint *line)
{
	g_autoptr(GString) field = g_string_new(NULL);
	const char *record_start = r->p;

	g_ptr_array_set_size(fields, 0);
	*count = 0;
	*line = r->line;
	if (r->p >= r->end)
		return CSV_END;

	for (;;) {
		if (r->p < r->end && *r->p == '"') {
			r->p++;
			for (;;) {
				if (r->p >= r->end) {
					r->p = record_start;
					r->line = *line;
					while (r->p < r->end && *r->p != '\r' && *r->p != '\n')
						r->p++;
					csv_eat_newline(r);
					return CSV_UNTERMINATED;
				}
				if (*r->p == '"') {
					if (r->p + 1 < r->end && r->p[1] == '"') {
						g_string_append_c(field, '"');
						r->p += 2;
						continue;
					}
					r->p++;
					break;
				}
				if (csv_eat_newline(r)) {
					g_string_append_c(field, '\n');
					continue;
				}
				g_string_append_c(field, *r->p);
				r->p++;
			}
		}

		const char *start = r->p;
		while (r->p < r->end && *r->p != ',' && *r->p != '\r' && *r->p != '\n')
			r->p++;
		g_string_append_len(field, start, r->p - start);
		csv_end_field(fields, count, field);

		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		csv_eat_newline(r);
		return CSV_RECORD;
	}
}

/* ---- Tables -------------------------------------------------------------- */

/* One column: the header names it goes by (lower case), NULL-terminated. */
typedef const char *const ColumnNames[4];

typedef struct Table Table;

typedef struct {
	const char *file;        /* borrowed; may be NULL */
	LinkedinExport *export;  /* borrowed */
	const int *index;        /* borrowed; field position per column, -1 if absent */
	guint errors;            /* errors reported for this file */
} TableContext;

struct Table {
	const char *header; /* how the header looks, for the error when it is missing */
	const ColumnNames *columns;
	guint n_columns;
	const guint *required; /* columns a header must have */
	guint n_required;
	void (*row)(TableContext *context, GPtrArray *fields, guint line);
};

static void report(TableContext *context, guint line, const char *format, ...) G_GNUC_PRINTF(3, 4);

/* Adds an error unless the file has already given too many: a garbage file
 * must not become a million error entries. */
static void report(TableContext *context, guint line, const char *format, ...)
{
	if (context->errors > LINKEDIN_MAX_ERRORS)
		return;
	if (context->errors++ == LINKEDIN_MAX_ERRORS) {
		g_ptr_array_add(context->export->errors,
				parse_error_new(context->file, line, "more than %u errors, ignoring the rest",
						LINKEDIN_MAX_ERRORS));
		return;
	}

	va_list ap;
	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_ptr_array_add(context->export->errors, parse_error_new(context->file, line, "%s", message));
}

static char *column_value(const TableContext *context, GPtrArray *fields, guint column)
{
	int i = context->index[column];

	if (i < 0 || (guint)i >= fields->len)
		return NULL;
	return trimmed(g_ptr_array_index(fields, i));
}

/* Maps header names to columns; TRUE when FIELDS is the table's header. */
static gboolean map_header(const Table *table, GPtrArray *fields, int *index)
{
	for (guint c = 0; c < table->n_columns; c++)
		index[c] = -1;
	for (guint f = 0; f < fields->len; f++) {
		g_autofree char *name = trimmed(g_ptr_array_index(fields, f));
		if (!name)
			continue;
		for (guint c = 0; c < table->n_columns; c++)
			for (guint k = 0; table->columns[c][k]; k++)
				if (index[c] < 0 && g_ascii_strcasecmp(name, table->columns[c][k]) == 0)
					index[c] = (int)f;
	}
	for (guint r = 0; r < table->n_required; r++)
		if (index[table->required[r]] < 0)
			return FALSE;
	return TRUE;
}

static void parse_table(const Table *table, const char *data, gsize len, const char *file,
			LinkedinExport *export)
{
	gsize text_len = 0;
	g_autofree char *text = decode_text(data ? data : "", data ? len : 0, &text_len);
	g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func(g_free);
	g_autofree int *index = g_new(int, table->n_columns);
	CsvReader reader = { text, text + text_len, 1 };
	TableContext context = { file, export, index, 0 };
	gboolean header = FALSE;
	guint expected = 0, rows = 0, count, line;
	CsvStatus status;

	while ((status = csv_read_record(&reader, fields, &count, &line)) != CSV_END) {
		if (status == CSV_UNTERMINATED) {
			report(&context, line, "quoted field never ends, ignoring this line");
			continue;
		}
		/* Blank lines: between the notes and the header, at the end. */
		if (count == 1 && !*(const char *)g_ptr_array_index(fields, 0))
			continue;
		if (!header) {
			/* Note lines come first: the header is found, not counted. */
			if (map_header(table, fields, index)) {
				header = TRUE;
				expected = count;
			}
			continue;
		}
		if (count != expected) {
			report(&context, line, "%u fields where the header has %u, ignoring the row", count,
			       expected);
			continue;
		}
		if (rows++ == LINKEDIN_MAX_ROWS) {
			report(&context, line, "more than %u rows, ignoring the rest", LINKEDIN_MAX_ROWS);
			break;
		}
		table->row(&context, fields, line);
	}
	if (!header)
		report(&context, 0, "no header line \"%s\" found", table->header);
}

/* ---- Connections.csv ----------------------------------------------------- */

enum {
	CONN_FIRST_NAME,
	CONN_LAST_NAME,
	CONN_URL,
	CONN_EMAIL,
	CONN_COMPANY,
	CONN_POSITION,
	CONN_CONNECTED_ON,
	CONN_N_COLUMNS
};

static const ColumnNames connection_columns[CONN_N_COLUMNS] = {
	[CONN_FIRST_NAME] = { "first name", NULL },
	[CONN_LAST_NAME] = { "last name", NULL },
	[CONN_URL] = { "url", "profile url", NULL },
	[CONN_EMAIL] = { "email address", "e-mail address", "email", NULL },
	[CONN_COMPANY] = { "company", NULL },
	[CONN_POSITION] = { "position", NULL },
	[CONN_CONNECTED_ON] = { "connected on", NULL },
};

static const guint connection_required[] = { CONN_FIRST_NAME, CONN_LAST_NAME };

static const char *const month_names[] = {
	"january", "february", "march",     "april",   "may",      "june",
	"july",    "august",   "september", "october", "november", "december",
};

/* A number of at most four digits, or -1. */
static int parse_number(const char *text)
{
	int value = 0;
	gsize n = strlen(text);

	if (n == 0 || n > 4)
		return -1;
	for (gsize i = 0; i < n; i++) {
		if (!g_ascii_isdigit(text[i]))
			return -1;
		value = value * 10 + (text[i] - '0');
	}
	return value;
}

/* 1-12 for an English month name or its abbreviation ("Mar", "Sept"), or 0. */
static int parse_month_name(const char *text)
{
	gsize n = strlen(text);

	if (n < 3)
		return 0;
	for (gsize m = 0; m < G_N_ELEMENTS(month_names); m++)
		if (n <= strlen(month_names[m]) && g_ascii_strncasecmp(text, month_names[m], n) == 0)
			return m + 1;
	return 0;
}

/* "06 Mar 2024", "6 Mar 2024", "Mar 6, 2024", "2024-03-06", "2024/03/06"
 * → "2024-03-06"; NULL for anything else. All-numeric forms other than
 * year first are refused: 03/06/2024 is March in one locale, June in
 * another. */
static char *parse_connected_on(const char *text)
{
	g_auto(GStrv) parts = g_strsplit_set(text, " ,-/.", -1);
	const char *tokens[3];
	guint n = 0;
	int year = -1, month = 0, day = -1;

	for (guint i = 0; parts[i]; i++) {
		if (!*parts[i])
			continue;
		if (n == G_N_ELEMENTS(tokens))
			return NULL;
		tokens[n++] = parts[i];
	}
	if (n != 3)
		return NULL;

	if (strlen(tokens[0]) == 4 && parse_number(tokens[0]) >= 0) {
		year = parse_number(tokens[0]);
		month = parse_number(tokens[1]);
		day = parse_number(tokens[2]);
	} else {
		for (guint i = 0; i < 3; i++) {
			int number = parse_number(tokens[i]);
			if (number < 0 && !month)
				month = parse_month_name(tokens[i]);
			else if (number >= 0 && strlen(tokens[i]) == 4 && year < 0)
				year = number;
			else if (number >= 0 && strlen(tokens[i]) <= 2 && day < 0)
				day = number;
			else
				return NULL;
		}
	}
	if (year < 1900 || month < 1 || month > 12 || day < 1 ||
	    !g_date_valid_dmy(day, month, year))
		return NULL;
	return g_strdup_printf("%04d-%02d-%02d", year, month, day);
}

static void connection_row(TableContext *context, GPtrArray *fields, guint line)
{
	g_autofree char *first = column_value(context, fields, CONN_FIRST_NAME);
	g_autofree char *last = column_value(context, fields, CONN_LAST_NAME);

	/* Deleted members: a row with only a date; nothing to keep in touch with. */
	if (!first && !last)
		return;

	LinkedinConnection *connection = g_new0(LinkedinConnection, 1);
	connection->first_name = g_steal_pointer(&first);
	connection->last_name = g_steal_pointer(&last);
	connection->url = column_value(context, fields, CONN_URL);
	connection->email = column_value(context, fields, CONN_EMAIL);
	connection->company = column_value(context, fields, CONN_COMPANY);
	connection->position = column_value(context, fields, CONN_POSITION);
	connection->line = line;

	g_autofree char *date = column_value(context, fields, CONN_CONNECTED_ON);
	if (date) {
		connection->connected_on = parse_connected_on(date);
		if (!connection->connected_on) {
			g_autofree char *quote = excerpt(date);
			report(context, line, "bad Connected On date \"%s\", keeping the row without it",
			       quote);
		}
	}
	g_ptr_array_add(context->export->connections, connection);
}

static const Table connections_table = {
	.header = "First Name,Last Name,URL,Email Address,Company,Position,Connected On",
	.columns = connection_columns,
	.n_columns = CONN_N_COLUMNS,
	.required = connection_required,
	.n_required = G_N_ELEMENTS(connection_required),
	.row = connection_row,
};

void linkedin_parse_connections(const char *data, gsize len, const char *file, LinkedinExport *export)
{
	parse_table(&connections_table, data, len, file, export);
}

/* ---- messages.csv -------------------------------------------------------- */

enum {
	MSG_CONVERSATION_ID,
	MSG_FROM,
	MSG_SENDER_URL,
	MSG_TO,
	MSG_RECIPIENT_URLS,
	MSG_DATE,
	MSG_FOLDER,
	MSG_IS_DRAFT,
	MSG_N_COLUMNS
};

static const ColumnNames message_columns[MSG_N_COLUMNS] = {
	[MSG_CONVERSATION_ID] = { "conversation id", NULL },
	[MSG_FROM] = { "from", NULL },
	[MSG_SENDER_URL] = { "sender profile url", NULL },
	[MSG_TO] = { "to", NULL },
	[MSG_RECIPIENT_URLS] = { "recipient profile urls", "recipient profile url", NULL },
	[MSG_DATE] = { "date", NULL },
	[MSG_FOLDER] = { "folder", NULL },
	[MSG_IS_DRAFT] = { "is message draft", NULL },
};

static const guint message_required[] = { MSG_FROM, MSG_DATE };

/* "2024-03-06 09:15:02 UTC" (what LinkedIn writes), ISO 8601 with or without
 * an offset, or a bare date; times without a zone are UTC. */
static gboolean parse_message_date(const char *text, gint64 *out)
{
	g_autoptr(GString) iso = g_string_new(text);
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();

	if (iso->len > 3 && (g_ascii_strcasecmp(iso->str + iso->len - 3, "utc") == 0 ||
			     g_ascii_strcasecmp(iso->str + iso->len - 3, "gmt") == 0)) {
		g_string_truncate(iso, iso->len - 3);
		while (iso->len > 0 && g_ascii_isspace(iso->str[iso->len - 1]))
			g_string_truncate(iso, iso->len - 1);
	}
	if (iso->len == strlen("YYYY-MM-DD"))
		g_string_append(iso, "T00:00:00");
	if (iso->len > 10 && iso->str[10] == ' ')
		iso->str[10] = 'T';

	g_autoptr(GDateTime) date = g_date_time_new_from_iso8601(iso->str, utc);
	if (!date)
		return FALSE;
	*out = g_date_time_to_unix(date);
	return TRUE;
}

static gboolean is_yes(const char *value)
{
	return value && (g_ascii_strcasecmp(value, "yes") == 0 || g_ascii_strcasecmp(value, "true") == 0);
}

static void message_row(TableContext *context, GPtrArray *fields, guint line)
{
	g_autofree char *date = column_value(context, fields, MSG_DATE);
	g_autofree char *folder = column_value(context, fields, MSG_FOLDER);
	g_autofree char *draft = column_value(context, fields, MSG_IS_DRAFT);
	gint64 when;

	if (is_yes(draft) || (folder && (g_ascii_strcasecmp(folder, "draft") == 0 ||
					 g_ascii_strcasecmp(folder, "drafts") == 0)))
		return;
	if (!date) {
		report(context, line, "no DATE, ignoring the message");
		return;
	}
	if (!parse_message_date(date, &when)) {
		g_autofree char *quote = excerpt(date);
		report(context, line, "bad DATE \"%s\", ignoring the message", quote);
		return;
	}

	LinkedinMessage *message = g_new0(LinkedinMessage, 1);
	message->conversation_id = column_value(context, fields, MSG_CONVERSATION_ID);
	message->from = column_value(context, fields, MSG_FROM);
	message->sender_url = column_value(context, fields, MSG_SENDER_URL);
	message->to = column_value(context, fields, MSG_TO);
	message->recipient_urls = g_ptr_array_new_with_free_func(g_free);
	message->date = when;
	message->line = line;

	/* Several recipients are joined by commas, semicolons or spaces,
	 * depending on the export's age. */
	g_autofree char *urls = column_value(context, fields, MSG_RECIPIENT_URLS);
	if (urls) {
		g_auto(GStrv) parts = g_strsplit_set(urls, ",; \t\r\n", -1);
		for (guint i = 0; parts[i]; i++)
			if (*parts[i])
				g_ptr_array_add(message->recipient_urls, g_strdup(parts[i]));
	}
	g_ptr_array_add(context->export->messages, message);
}

static const Table messages_table = {
	.header = "CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,"
		  "RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER",
	.columns = message_columns,
	.n_columns = MSG_N_COLUMNS,
	.required = message_required,
	.n_required = G_N_ELEMENTS(message_required),
	.row = message_row,
};

void linkedin_parse_messages(const char *data, gsize len, const char *file, LinkedinExport *export)
{
	export->messages_read = TRUE;
	parse_table(&messages_table, data, len, file, export);
}

/* ---- Files --------------------------------------------------------------- */

/* Reads a regular file of at most LINKEDIN_MAX_FILE_SIZE bytes. */
static gboolean read_file(const char *path, char **data, gsize *len, GError **error)
{
	/* O_NONBLOCK: a FIFO in the export's place must not hang the daemon. */
	int fd = g_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	struct stat st;

	if (fd < 0) {
		int saved = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
			    g_strerror(saved));
		return FALSE;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: not a regular file", path);
		close(fd);
		return FALSE;
	}
	if (st.st_size > (off_t)LINKEDIN_MAX_FILE_SIZE) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: larger than %u MiB", path,
			    LINKEDIN_MAX_FILE_SIZE / (1024 * 1024));
		close(fd);
		return FALSE;
	}

	/* A file that grows while it is read is taken as it was at fstat. */
	gsize size = st.st_size, done = 0;
	g_autofree char *buffer = g_malloc(size + 1);
	while (done < size) {
		ssize_t n = read(fd, buffer + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(saved), "%s: %s", path,
				    g_strerror(saved));
			close(fd);
			return FALSE;
		}
		if (n == 0)
			break;
		done += n;
	}
	close(fd);
	buffer[done] = '\0';
	*data = g_steal_pointer(&buffer);
	*len = done;
	return TRUE;
}

/* The path of NAME in DIR, its case ignored (exports have been seen with
 * both "Messages.csv" and "messages.csv"); the first in byte order when
 * several match, so the choice does not depend on the directory's order.
 * NULL when there is none. */
static char *find_in_dir(const char *dir, const char *name)
{
	g_autoptr(GDir) handle = g_dir_open(dir, 0, NULL);
	g_autofree char *best = NULL;
	const char *entry;

	if (!handle)
		return NULL;
	while ((entry = g_dir_read_name(handle)))
		if (g_ascii_strcasecmp(entry, name) == 0 && (!best || strcmp(entry, best) < 0)) {
			g_free(best);
			best = g_strdup(entry);
		}
	return best ? g_build_filename(dir, best, NULL) : NULL;
}

gboolean linkedin_parse_path(const char *path, LinkedinExport *export, GError **error)
{
	g_autofree char *connections = NULL, *dir = NULL;

	if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
		connections = find_in_dir(path, CONNECTIONS_FILE);
		if (!connections) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s: no %s in this folder",
				    path, CONNECTIONS_FILE);
			return FALSE;
		}
		dir = g_strdup(path);
	} else {
		connections = g_strdup(path);
		dir = g_path_get_dirname(path);
	}

	g_autofree char *data = NULL;
	gsize len = 0;
	if (!read_file(connections, &data, &len, error))
		return FALSE;
	linkedin_parse_connections(data, len, connections, export);

	g_autofree char *messages = find_in_dir(dir, MESSAGES_FILE);
	g_autofree char *base = g_path_get_basename(connections);
	/* PATH may itself be the messages file; it is not read twice. */
	if (!messages || g_ascii_strcasecmp(base, MESSAGES_FILE) == 0)
		return TRUE;

	g_autofree char *message_data = NULL;
	g_autoptr(GError) message_error = NULL;
	if (!read_file(messages, &message_data, &len, &message_error)) {
		g_ptr_array_add(export->errors, parse_error_new(messages, 0, "%s", message_error->message));
		return TRUE;
	}
	linkedin_parse_messages(message_data, len, messages, export);
	return TRUE;
}

/* ---- JSON ---------------------------------------------------------------- */

JsonNode *linkedin_export_to_json(const LinkedinExport *export)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_object(builder);
	json_builder_set_member_name(builder, "connections");
	json_builder_begin_array(builder);
	for (guint i = 0; i < export->connections->len; i++) {
		const LinkedinConnection *connection = g_ptr_array_index(export->connections, i);
		json_builder_begin_object(builder);
		json_builder_add_string_member(builder, "first_name", connection->first_name);
		json_builder_add_string_member(builder, "last_name", connection->last_name);
		json_builder_add_string_member(builder, "url", connection->url);
		json_builder_add_string_member(builder, "email", connection->email);
		json_builder_add_string_member(builder, "company", connection->company);
		json_builder_add_string_member(builder, "position", connection->position);
		json_builder_add_string_member(builder, "connected_on", connection->connected_on);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);

	if (export->messages_read) {
		json_builder_set_member_name(builder, "messages");
		json_builder_begin_array(builder);
		for (guint i = 0; i < export->messages->len; i++) {
			const LinkedinMessage *message = g_ptr_array_index(export->messages, i);
			g_autoptr(GDateTime) date = g_date_time_new_from_unix_utc(message->date);
			g_autofree char *when = date ? g_date_time_format(date, "%Y-%m-%dT%H:%M:%SZ") : NULL;

			json_builder_begin_object(builder);
			json_builder_add_string_member(builder, "conversation_id", message->conversation_id);
			json_builder_add_string_member(builder, "from", message->from);
			json_builder_add_string_member(builder, "sender_url", message->sender_url);
			json_builder_add_string_member(builder, "to", message->to);
			json_builder_set_member_name(builder, "recipient_urls");
			json_builder_begin_array(builder);
			for (guint u = 0; u < message->recipient_urls->len; u++)
				json_builder_add_string_value(builder,
							      g_ptr_array_index(message->recipient_urls, u));
			json_builder_end_array(builder);
			json_builder_add_string_member(builder, "date", when);
			json_builder_end_object(builder);
		}
		json_builder_end_array(builder);
	}

	json_builder_set_member_name(builder, "errors");
	json_builder_add_value(builder, parse_errors_to_json(export->errors));
	json_builder_end_object(builder);
	return json_builder_get_root(builder);
}
