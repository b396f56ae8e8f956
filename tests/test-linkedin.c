/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "linkedin.h"

#define DATA_DIR SRCDIR "/tests/data/linkedin"
#define MARCH DATA_DIR "/export-2024-03"
#define SEPTEMBER DATA_DIR "/export-2024-09"

static const char header[] = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n";

static LinkedinExport *parse_connections_text(const char *text)
{
	LinkedinExport *export = linkedin_export_new();

	linkedin_parse_connections(text, strlen(text), "Connections.csv", export);
	return export;
}

static LinkedinExport *parse_messages_text(const char *text)
{
	LinkedinExport *export = linkedin_export_new();

	linkedin_parse_messages(text, strlen(text), "messages.csv", export);
	return export;
}

static LinkedinExport *parse_path_ok(const char *path)
{
	g_autoptr(GError) error = NULL;
	LinkedinExport *export = linkedin_export_new();

	g_assert_true(linkedin_parse_path(path, export, &error));
	g_assert_no_error(error);
	return export;
}

static const LinkedinConnection *connection_at(const LinkedinExport *export, guint i)
{
	g_assert_cmpuint(i, <, export->connections->len);
	return g_ptr_array_index(export->connections, i);
}

static const LinkedinMessage *message_at(const LinkedinExport *export, guint i)
{
	g_assert_cmpuint(i, <, export->messages->len);
	return g_ptr_array_index(export->messages, i);
}

static const LinkedinConnection *connection_by_url(const LinkedinExport *export, const char *slug)
{
	g_autofree char *url = g_strconcat("https://www.linkedin.com/in/", slug, NULL);

	for (guint i = 0; i < export->connections->len; i++) {
		const LinkedinConnection *connection = g_ptr_array_index(export->connections, i);
		if (g_strcmp0(connection->url, url) == 0)
			return connection;
	}
	g_error("no connection %s", url);
	return NULL;
}

/* The error at index I names a file ending in FILE, LINE and a message
 * containing TEXT. */
static void assert_error(const LinkedinExport *export, guint i, const char *file, guint line, const char *text)
{
	g_assert_cmpuint(i, <, export->errors->len);
	const ParseError *error = g_ptr_array_index(export->errors, i);
	g_assert_nonnull(error->file);
	g_assert_true(g_str_has_suffix(error->file, file));
	g_assert_cmpuint(error->line, ==, line);
	g_assert_nonnull(strstr(error->message, text));
}

static void assert_connection(const LinkedinConnection *c, const char *first, const char *last,
			      const char *url, const char *email, const char *company,
			      const char *position, const char *connected_on, guint line)
{
	g_assert_cmpstr(c->first_name, ==, first);
	g_assert_cmpstr(c->last_name, ==, last);
	g_assert_cmpstr(c->url, ==, url);
	g_assert_cmpstr(c->email, ==, email);
	g_assert_cmpstr(c->company, ==, company);
	g_assert_cmpstr(c->position, ==, position);
	g_assert_cmpstr(c->connected_on, ==, connected_on);
	g_assert_cmpuint(c->line, ==, line);
}

static void test_export_march(void)
{
	g_autoptr(LinkedinExport) export = parse_path_ok(MARCH "/Connections.csv");

	/* BOM, notes preamble with a quoted paragraph over two lines, CRLF,
	 * no newline after the last row. The row without names (line 9) is
	 * skipped silently, the broken one (line 11) reported. */
	g_assert_cmpuint(export->connections->len, ==, 8);
	assert_connection(connection_at(export, 0), "Ken", "Suzuki",
			  "https://www.linkedin.com/in/ken-suzuki-7f3a21", NULL, "Acme, Inc.",
			  "Senior Software Engineer", "2024-03-06", 6);
	assert_connection(connection_at(export, 1), "太郎", "山田",
			  "https://www.linkedin.com/in/taro-yamada-1a2b3c", "taro.yamada@example.co.jp",
			  "株式会社サンプル", "部長", "2024-03-06", 7);
	assert_connection(connection_at(export, 2), "María", "García",
			  "https://www.linkedin.com/in/maria-garcia-es", "maria.garcia@example.es",
			  "Telefónica", "Head of \"Growth\" Marketing", "2023-01-15", 8);
	assert_connection(connection_at(export, 3), "Hanako", "Sato",
			  "https://www.linkedin.com/in/hanako-sato", NULL, "㈱テスト", "Manager, Sales",
			  "2024-01-20", 10);
	/* A bad date keeps the row, without a date. */
	assert_connection(connection_at(export, 4), "Aiko", "Tanaka",
			  "https://www.linkedin.com/in/aiko-tanaka", NULL, "株式会社ABC", "エンジニア", NULL,
			  12);
	assert_connection(connection_at(export, 5), "Wei", "Chen", "https://www.linkedin.com/in/wei-chen-88",
			  NULL, NULL, NULL, "2019-12-12", 13);
	/* A newline inside quotes; the next row's line number still counts it. */
	assert_connection(connection_at(export, 6), "Priya", "Sharma",
			  "https://www.linkedin.com/in/priya-sharma", "priya@example.in",
			  "Globex Corporation", "Director, Product\nStrategy", "2021-06-20", 14);
	assert_connection(connection_at(export, 7), "Jiro", "Kobayashi",
			  "https://www.linkedin.com/in/jiro-kobayashi", NULL, "合同会社ネクスト", "代表社員",
			  "2018-09-09", 16);

	g_assert_cmpuint(export->errors->len, ==, 3);
	assert_error(export, 0, "/Connections.csv", 11, "8 fields where the header has 7");
	assert_error(export, 1, "/Connections.csv", 12, "bad Connected On date \"31 Feb 2023\"");
	assert_error(export, 2, "/messages.csv", 9, "bad DATE \"yesterday\"");
}

static void test_messages_march(void)
{
	g_autoptr(LinkedinExport) export = parse_path_ok(MARCH "/Connections.csv");
	const LinkedinMessage *m;

	g_assert_true(export->messages_read);
	g_assert_cmpuint(export->messages->len, ==, 4);

	m = message_at(export, 0);
	g_assert_cmpstr(m->conversation_id, ==, "2-YTk0NjQ0ZGEtODNjNy00ZTAyLWI4NmQtZTg5MGU2ZDhhNTc3XzAxMA==");
	g_assert_cmpstr(m->from, ==, "Ken Suzuki");
	g_assert_cmpstr(m->sender_url, ==, "https://www.linkedin.com/in/ken-suzuki-7f3a21");
	g_assert_cmpstr(m->to, ==, "Kei Watanabe");
	g_assert_cmpuint(m->recipient_urls->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 0), ==, "https://www.linkedin.com/in/kei-watanabe");
	g_assert_cmpint(m->date, ==, 1709716502); /* 2024-03-06 09:15:02 UTC */
	g_assert_cmpuint(m->line, ==, 2);

	/* The first message's CONTENT ran over two lines. */
	m = message_at(export, 1);
	g_assert_cmpstr(m->from, ==, "Kei Watanabe");
	g_assert_cmpint(m->date, ==, 1709719304);
	g_assert_cmpuint(m->line, ==, 4);

	/* Two recipients joined by a comma; CONTENT of four lines with quotes. */
	m = message_at(export, 2);
	g_assert_cmpstr(m->to, ==, "山田 太郎, Hanako Sato");
	g_assert_cmpuint(m->recipient_urls->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 0), ==, "https://www.linkedin.com/in/taro-yamada-1a2b3c");
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 1), ==, "https://www.linkedin.com/in/hanako-sato");
	g_assert_cmpint(m->date, ==, 1709164799);
	g_assert_cmpuint(m->line, ==, 5);

	/* Line 9 had a bad date; two recipients joined by a space. */
	m = message_at(export, 3);
	g_assert_cmpstr(m->to, ==, "Wei Chen, Priya Sharma");
	g_assert_cmpuint(m->recipient_urls->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 0), ==, "https://www.linkedin.com/in/wei-chen-88");
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 1), ==, "https://www.linkedin.com/in/priya-sharma");
	g_assert_cmpint(m->date, ==, 1703442600);
	g_assert_cmpuint(m->line, ==, 10);
}

static void test_export_september(void)
{
	g_autoptr(LinkedinExport) march = parse_path_ok(MARCH "/Connections.csv");
	g_autoptr(LinkedinExport) september = parse_path_ok(SEPTEMBER "/Connections.csv");
	const LinkedinConnection *before, *after;

	/* LF line ends, no BOM, a final newline, every row well-formed. */
	g_assert_cmpuint(september->connections->len, ==, 9);

	/* Moved to another company. */
	before = connection_by_url(march, "ken-suzuki-7f3a21");
	after = connection_by_url(september, "ken-suzuki-7f3a21");
	g_assert_cmpstr(before->company, ==, "Acme, Inc.");
	g_assert_cmpstr(after->company, ==, "Globex Corporation");
	g_assert_cmpstr(before->position, ==, "Senior Software Engineer");
	g_assert_cmpstr(after->position, ==, "Staff Engineer");
	g_assert_cmpstr(after->connected_on, ==, before->connected_on);

	/* Same company written differently, new title. */
	before = connection_by_url(march, "taro-yamada-1a2b3c");
	after = connection_by_url(september, "taro-yamada-1a2b3c");
	g_assert_cmpstr(before->company, ==, "株式会社サンプル");
	g_assert_cmpstr(after->company, ==, "(株)サンプル");
	g_assert_cmpstr(before->position, ==, "部長");
	g_assert_cmpstr(after->position, ==, "執行役員");
	g_assert_cmpstr(after->connected_on, ==, "2024-03-06");

	/* Only the spelling of the company changed. */
	before = connection_by_url(march, "hanako-sato");
	after = connection_by_url(september, "hanako-sato");
	g_assert_cmpstr(before->company, ==, "㈱テスト");
	g_assert_cmpstr(after->company, ==, "株式会社テスト");
	g_assert_cmpstr(after->position, ==, before->position);

	/* Unchanged. */
	before = connection_by_url(march, "maria-garcia-es");
	after = connection_by_url(september, "maria-garcia-es");
	g_assert_cmpstr(after->company, ==, before->company);
	g_assert_cmpstr(after->position, ==, before->position);

	/* Now shares an e-mail address; a valid date this time. */
	after = connection_by_url(september, "aiko-tanaka");
	g_assert_cmpstr(after->email, ==, "aiko.tanaka@example.jp");
	g_assert_cmpstr(after->connected_on, ==, "2023-02-28");

	/* Company and position dropped; a new connection. */
	after = connection_by_url(september, "jiro-kobayashi");
	g_assert_null(after->company);
	g_assert_null(after->position);
	after = connection_by_url(september, "yuki-ito-tokyo");
	assert_connection(after, "由紀", "伊藤", "https://www.linkedin.com/in/yuki-ito-tokyo",
			  "yuki.ito@example.jp", "株式会社サンプル", "マネージャー", "2024-09-02", 14);

	/* Messages.csv found whatever its case; quoted header names, extra
	 * columns, the draft skipped, recipients joined by a semicolon. */
	g_assert_cmpuint(september->errors->len, ==, 0);
	g_assert_true(september->messages_read);
	g_assert_cmpuint(september->messages->len, ==, 2);
	g_assert_cmpint(message_at(september, 0)->date, ==, 1725264000);
	const LinkedinMessage *m = message_at(september, 1);
	g_assert_cmpint(m->date, ==, 1725325323);
	g_assert_cmpstr(m->to, ==, "山田 太郎");
	g_assert_cmpuint(m->recipient_urls->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 1), ==, "https://www.linkedin.com/in/yuki-ito-tokyo");
}

static void test_export_old(void)
{
	g_autoptr(LinkedinExport) export = parse_path_ok(DATA_DIR "/export-2017/Connections.csv");

	/* No URL column, no notes: columns are found by name. */
	g_assert_cmpuint(export->errors->len, ==, 0);
	g_assert_false(export->messages_read);
	g_assert_cmpuint(export->connections->len, ==, 2);
	assert_connection(connection_at(export, 0), "Ken", "Suzuki", NULL, "ken.suzuki@example.com",
			  "Acme Inc.", "Software Engineer", "2017-07-14", 2);
	assert_connection(connection_at(export, 1), "Hanako", "Sato", NULL, NULL, "株式会社テスト", "営業",
			  "2016-01-03", 3);
}

static void test_columns_by_name(void)
{
	g_autoptr(LinkedinExport) export = parse_connections_text(
		" connected on ,EMAIL ADDRESS,last name,First Name,Position,Company,Url,Headline\n"
		"01 Apr 2020,a@example.com,Yamada,Taro,CEO,Example KK,https://www.linkedin.com/in/x,Hi\n");

	g_assert_cmpuint(export->errors->len, ==, 0);
	g_assert_cmpuint(export->connections->len, ==, 1);
	assert_connection(connection_at(export, 0), "Taro", "Yamada", "https://www.linkedin.com/in/x",
			  "a@example.com", "Example KK", "CEO", "2020-04-01", 2);
}

static void test_names(void)
{
	g_autofree char *text = g_strconcat(header,
		",,,,,,06 Mar 2024\n"        /* deleted member: skipped */
		" , \u3000,,,Acme,,\n"       /* only white space: skipped */
		"Prince,,,,,,\n"             /* one name is enough */
		",Suzuki,,,,,\n"
		"\u3000Ken\u3000, Suzuki ,,,,,\n", NULL);
	g_autoptr(LinkedinExport) export = parse_connections_text(text);

	g_assert_cmpuint(export->errors->len, ==, 0);
	g_assert_cmpuint(export->connections->len, ==, 3);
	g_assert_cmpstr(connection_at(export, 0)->first_name, ==, "Prince");
	g_assert_null(connection_at(export, 0)->last_name);
	g_assert_null(connection_at(export, 0)->connected_on);
	g_assert_null(connection_at(export, 1)->first_name);
	g_assert_cmpstr(connection_at(export, 1)->last_name, ==, "Suzuki");
	/* Values are trimmed, ideographic space included. */
	g_assert_cmpstr(connection_at(export, 2)->first_name, ==, "Ken");
	g_assert_cmpstr(connection_at(export, 2)->last_name, ==, "Suzuki");
}

static void test_dates(void)
{
	static const struct {
		const char *input, *expected;
	} cases[] = {
		{ "06 Mar 2024", "2024-03-06" },  { "6 Mar 2024", "2024-03-06" },
		{ "2024-03-06", "2024-03-06" },   { "2024/3/6", "2024-03-06" },
		{ "Mar 6, 2024", "2024-03-06" },  { "6 March 2024", "2024-03-06" },
		{ "29 feb 2024", "2024-02-29" },  { "01 Sept 2019", "2019-09-01" },
		{ "31 Dec 1999", "1999-12-31" },  { "31 Feb 2023", NULL },
		{ "29 Feb 2023", NULL },          { "03/06/2024", NULL },
		{ "yesterday", NULL },            { "2024-13-01", NULL },
		{ "06 Foo 2024", NULL },          { "06 Mar 24", NULL },
		{ "0 Mar 2024", NULL },           { "06 Mar 2024 10:00", NULL },
		{ "Ma 6 2024", NULL },            { "6 Mar, 2024", "2024-03-06" },
	};
	g_autoptr(GString) text = g_string_new(header);
	guint bad = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
		g_string_append_printf(text, "First%zu,Last,,,,,\"%s\"\n", i, cases[i].input);
	g_autoptr(LinkedinExport) export = parse_connections_text(text->str);

	g_assert_cmpuint(export->connections->len, ==, G_N_ELEMENTS(cases));
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		const LinkedinConnection *c = connection_at(export, i);
		if (g_strcmp0(c->connected_on, cases[i].expected) != 0)
			g_error("\"%s\" gave %s", cases[i].input, c->connected_on);
		if (!cases[i].expected)
			assert_error(export, bad++, "Connections.csv", i + 2, cases[i].input);
	}
	g_assert_cmpuint(export->errors->len, ==, bad);
}

static void test_line_endings(void)
{
	static const char *const endings[] = { "\n", "\r\n", "\r" };

	for (gsize e = 0; e < G_N_ELEMENTS(endings); e++) {
		const char *nl = endings[e];
		g_autofree char *text = g_strconcat("Notes:", nl, "\"A note, with a comma", nl, "over two lines\"",
						    nl, nl, "First Name,Last Name,URL,Email Address,Company,"
						    "Position,Connected On", nl, "Ken,Suzuki,,,Acme,\"A", nl, "B\",",
						    nl, "Broken,Row", nl, "Taro,Yamada,,,,,01 Jan 2020", NULL);
		g_autoptr(LinkedinExport) export = parse_connections_text(text);

		g_assert_cmpuint(export->connections->len, ==, 2);
		g_assert_cmpstr(connection_at(export, 0)->company, ==, "Acme");
		/* A line break inside quotes reads as "\n" whatever the file uses. */
		g_assert_cmpstr(connection_at(export, 0)->position, ==, "A\nB");
		g_assert_cmpuint(connection_at(export, 0)->line, ==, 6);
		g_assert_cmpstr(connection_at(export, 1)->connected_on, ==, "2020-01-01");
		g_assert_cmpuint(connection_at(export, 1)->line, ==, 9);
		g_assert_cmpuint(export->errors->len, ==, 1);
		assert_error(export, 0, "Connections.csv", 8, "2 fields where the header has 7");
	}
}

static void test_quotes(void)
{
	g_autofree char *text = g_strconcat(header,
		"\"Ken \"\"The Hammer\"\"\",Suzuki,,,\"Acme, Inc.\",\"\",\"06 Mar 2024\"\n"
		/* A quote inside an unquoted field is kept; text after a closing
		 * quote is kept too, as spreadsheets read it. */
		"Ken \"K\" ,Suzuki,,,\"Acme\" Japan,\"\"\"\",\n"
		"\"\",\"Solo\",\"\",\"\",\"\",\"\",\"\"\n", NULL);
	g_autoptr(LinkedinExport) export = parse_connections_text(text);

	g_assert_cmpuint(export->errors->len, ==, 0);
	g_assert_cmpuint(export->connections->len, ==, 3);
	assert_connection(connection_at(export, 0), "Ken \"The Hammer\"", "Suzuki", NULL, NULL, "Acme, Inc.",
			  NULL, "2024-03-06", 2);
	assert_connection(connection_at(export, 1), "Ken \"K\"", "Suzuki", NULL, NULL, "Acme Japan", "\"",
			  NULL, 3);
	assert_connection(connection_at(export, 2), NULL, "Solo", NULL, NULL, NULL, NULL, NULL, 4);
}

static void test_unterminated_quote(void)
{
	g_autofree char *text = g_strconcat(header,
		"Ken,Suzuki,,,Acme,,06 Mar 2024\n"
		"Bad,\"Row,,,Acme,,06 Mar 2024\n"
		"Taro,Yamada,,,Sample,,07 Mar 2024\n"
		"Hanako,Sato,,,Test,,08 Mar 2024", NULL);
	g_autoptr(LinkedinExport) export = parse_connections_text(text);

	/* Only the line with the stray quote is lost. */
	g_assert_cmpuint(export->connections->len, ==, 3);
	g_assert_cmpstr(connection_at(export, 0)->first_name, ==, "Ken");
	g_assert_cmpstr(connection_at(export, 1)->first_name, ==, "Taro");
	g_assert_cmpuint(connection_at(export, 1)->line, ==, 4);
	g_assert_cmpstr(connection_at(export, 2)->first_name, ==, "Hanako");
	g_assert_cmpuint(export->errors->len, ==, 1);
	assert_error(export, 0, "Connections.csv", 3, "quoted field never ends");
}

static void test_no_header(void)
{
	static const char *const inputs[] = {
		"",
		"\xEF\xBB\xBF",
		"\n\n\n",
		"Notes:\n\"First Name,Last Name\"\n\nKen,Suzuki,,,,,\n",
		"First Name\nKen\n",
		"\x01\x02\x03,\xff\xfe,\"",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
		g_autoptr(LinkedinExport) export = parse_connections_text(inputs[i]);
		g_assert_cmpuint(export->connections->len, ==, 0);
		const ParseError *error = g_ptr_array_index(export->errors, export->errors->len - 1);
		g_assert_cmpuint(error->line, ==, 0);
		g_assert_nonnull(strstr(error->message, "no header line"));
	}

	/* A header and nothing else is an empty export, not an error. */
	g_autoptr(LinkedinExport) empty = parse_connections_text(header);
	g_assert_cmpuint(empty->connections->len, ==, 0);
	g_assert_cmpuint(empty->errors->len, ==, 0);

	/* NULL data is an empty file. */
	g_autoptr(LinkedinExport) null_data = linkedin_export_new();
	linkedin_parse_connections(NULL, 0, NULL, null_data);
	g_assert_cmpuint(null_data->errors->len, ==, 1);
	g_assert_null(((const ParseError *)g_ptr_array_index(null_data->errors, 0))->file);
}

static void test_encodings(void)
{
	/* Re-saved by Excel on Japanese Windows: CP932, no BOM. 山田 太郎,
	 * 株式会社サンプル, ㈱ (an NEC extension strict Shift_JIS lacks). */
	static const char cp932[] =
		"First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"
		"\x91\xbe\x98\x59,\x8e\x52\x93\x63,,,\x8a\x94\x8e\xae\x89\xef\x8e\xd0\x83\x54\x83\x93\x83\x76\x83\x8b,"
		"\x95\x94\x92\xb7,06 Mar 2024\r\n"
		"Hanako,Sato,,,\x87\x8a\x83\x65\x83\x58\x83\x67,,\r\n";
	g_autoptr(LinkedinExport) japanese = parse_connections_text(cp932);

	g_assert_cmpuint(japanese->errors->len, ==, 0);
	g_assert_cmpuint(japanese->connections->len, ==, 2);
	g_assert_cmpstr(connection_at(japanese, 0)->first_name, ==, "太郎");
	g_assert_cmpstr(connection_at(japanese, 0)->last_name, ==, "山田");
	g_assert_cmpstr(connection_at(japanese, 0)->company, ==, "株式会社サンプル");
	g_assert_cmpstr(connection_at(japanese, 0)->position, ==, "部長");
	g_assert_cmpstr(connection_at(japanese, 1)->company, ==, "㈱テスト");

	/* windows-1252 from Excel elsewhere: "José,García". */
	g_autofree char *latin = g_strconcat(header, "Jos\xe9,Garc\xed" "a,,,Telef\xf3nica,,\n", NULL);
	g_autoptr(LinkedinExport) western = parse_connections_text(latin);
	g_assert_cmpuint(western->connections->len, ==, 1);
	g_assert_cmpstr(connection_at(western, 0)->first_name, ==, "José");
	g_assert_cmpstr(connection_at(western, 0)->last_name, ==, "García");
	g_assert_cmpstr(connection_at(western, 0)->company, ==, "Telefónica");

	/* NUL bytes are dropped, not a reason to cut the file short. */
	static const char nul[] = "First Name,Last Name\nKen,Su\0zuki\nTaro,Yamada\n";
	g_autoptr(LinkedinExport) with_nul = linkedin_export_new();
	linkedin_parse_connections(nul, sizeof(nul) - 1, "Connections.csv", with_nul);
	g_assert_cmpuint(with_nul->connections->len, ==, 2);
	g_assert_cmpstr(connection_at(with_nul, 0)->last_name, ==, "Suzuki");
	g_assert_cmpstr(connection_at(with_nul, 1)->last_name, ==, "Yamada");
}

static void test_limits(void)
{
	g_autoptr(GString) text = g_string_new(header);

	/* More broken rows than errors are reported for. */
	for (guint i = 0; i < LINKEDIN_MAX_ERRORS + 50; i++)
		g_string_append(text, "a,b\n");
	/* A line of a hundred thousand commas. */
	for (guint i = 0; i < 100000; i++)
		g_string_append_c(text, ',');
	g_string_append(text, "\nKen,Suzuki,,,,,\n");
	g_autoptr(LinkedinExport) export = parse_connections_text(text->str);

	g_assert_cmpuint(export->connections->len, ==, 1);
	g_assert_cmpuint(export->errors->len, ==, LINKEDIN_MAX_ERRORS + 1);
	const ParseError *last = g_ptr_array_index(export->errors, LINKEDIN_MAX_ERRORS);
	g_assert_nonnull(strstr(last->message, "ignoring the rest"));
}

static void test_messages_columns(void)
{
	/* Fewer columns than today's exports, in another order. */
	g_autoptr(LinkedinExport) export = parse_messages_text(
		"DATE,FROM,TO,RECIPIENT PROFILE URLS,FOLDER\n"
		"2024-03-06T09:15:02Z,Ken Suzuki,Kei,\" https://a.example/in/1 ;, https://a.example/in/2\",INBOX\n"
		"2024-03-06 18:15:02+09:00,Ken Suzuki,Kei,,INBOX\n"
		"2024-03-06 09:15:02,Ken Suzuki,Kei,,INBOX\n"
		"2024-03-06 09:15:02 gmt,Ken Suzuki,Kei,,INBOX\n"
		"2024-03-06,Ken Suzuki,Kei,,INBOX\n"
		",Ken Suzuki,Kei,,INBOX\n"
		"2024-02-30 10:00:00 UTC,Ken Suzuki,Kei,,INBOX\n"
		"2024-03-07 10:00:00 UTC,Kei,Ken Suzuki,,DRAFT\n");

	g_assert_true(export->messages_read);
	g_assert_cmpuint(export->messages->len, ==, 5);
	for (guint i = 0; i < 4; i++) {
		const LinkedinMessage *m = message_at(export, i);
		g_assert_cmpint(m->date, ==, 1709716502);
		g_assert_null(m->conversation_id);
		g_assert_null(m->sender_url);
		g_assert_cmpstr(m->from, ==, "Ken Suzuki");
		g_assert_cmpstr(m->to, ==, "Kei");
		g_assert_nonnull(m->recipient_urls);
	}
	const LinkedinMessage *m = message_at(export, 0);
	g_assert_cmpuint(m->recipient_urls->len, ==, 2);
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 0), ==, "https://a.example/in/1");
	g_assert_cmpstr(g_ptr_array_index(m->recipient_urls, 1), ==, "https://a.example/in/2");
	g_assert_cmpuint(message_at(export, 1)->recipient_urls->len, ==, 0);
	g_assert_cmpint(message_at(export, 4)->date, ==, 1709683200); /* midnight UTC */

	g_assert_cmpuint(export->errors->len, ==, 2);
	assert_error(export, 0, "messages.csv", 7, "no DATE");
	assert_error(export, 1, "messages.csv", 8, "bad DATE \"2024-02-30 10:00:00 UTC\"");
}

static void test_messages_no_header(void)
{
	g_autoptr(LinkedinExport) export = parse_messages_text(
		"CONVERSATION ID,FROM,TO,CONTENT\n2-abc,Ken,Kei,hello\n");

	/* Read, but nothing in it: "messages" is [], not absent. */
	g_assert_true(export->messages_read);
	g_assert_cmpuint(export->messages->len, ==, 0);
	g_assert_cmpuint(export->errors->len, ==, 1);
	assert_error(export, 0, "messages.csv", 0, "no header line");
}

static void test_path_errors(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(LinkedinExport) export = linkedin_export_new();
	g_autofree char *dir = g_dir_make_tmp("test-linkedin-XXXXXX", NULL);
	g_autofree char *missing = g_build_filename(dir, "Connections.csv", NULL);
	g_autofree char *fifo = g_build_filename(dir, "fifo.csv", NULL);
	g_autofree char *big = g_build_filename(dir, "big.csv", NULL);

	g_assert_nonnull(dir);

	/* Missing file, or a folder without one: FALSE, nothing written. */
	g_assert_false(linkedin_parse_path(missing, export, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_clear_error(&error);
	g_assert_false(linkedin_parse_path(dir, export, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_clear_error(&error);

	/* A FIFO does not hang the reader. */
	g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
	g_assert_false(linkedin_parse_path(fifo, export, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);

	/* Over the size limit (a sparse file, no disk used). */
	FILE *f = fopen(big, "w");
	g_assert_nonnull(f);
	g_assert_cmpint(ftruncate(fileno(f), (off_t)LINKEDIN_MAX_FILE_SIZE + 1), ==, 0);
	fclose(f);
	g_assert_false(linkedin_parse_path(big, export, &error));
	g_assert_nonnull(strstr(error->message, "larger than"));
	g_clear_error(&error);

	g_assert_cmpuint(export->connections->len, ==, 0);
	g_assert_cmpuint(export->errors->len, ==, 0);
	g_assert_false(export->messages_read);

	/* A messages.csv that cannot be read is an error entry; the
	 * connections are still returned. */
	g_autofree char *connections = g_build_filename(dir, "connections.CSV", NULL);
	g_autofree char *messages = g_build_filename(dir, "MESSAGES.csv", NULL);
	g_assert_true(g_file_set_contents(connections, "First Name,Last Name\nKen,Suzuki\n", -1, NULL));
	g_assert_cmpint(g_mkdir(messages, 0700), ==, 0);
	g_assert_true(linkedin_parse_path(dir, export, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(export->connections->len, ==, 1);
	g_assert_false(export->messages_read);
	assert_error(export, 0, "MESSAGES.csv", 0, "not a regular file");

	g_assert_cmpint(g_rmdir(messages), ==, 0);
	g_assert_cmpint(g_unlink(connections), ==, 0);
	g_assert_cmpint(g_unlink(big), ==, 0);
	g_assert_cmpint(g_unlink(fifo), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_path_folder(void)
{
	/* The unpacked export's folder works as well as its Connections.csv. */
	g_autoptr(LinkedinExport) export = parse_path_ok(MARCH);

	g_assert_cmpuint(export->connections->len, ==, 8);
	g_assert_cmpuint(export->messages->len, ==, 4);
	g_assert_cmpuint(export->errors->len, ==, 3);
}

static JsonObject *object_at(JsonArray *array, guint i)
{
	g_assert_cmpuint(i, <, json_array_get_length(array));
	return json_array_get_object_element(array, i);
}

static void assert_members(JsonObject *object, const char *const *names)
{
	g_autoptr(GList) members = json_object_get_members(object);
	guint n = 0;

	for (GList *l = members; l; l = l->next, n++) {
		g_assert_nonnull(names[n]);
		g_assert_cmpstr(l->data, ==, names[n]);
	}
	g_assert_null(names[n]);
}

static void test_json(void)
{
	static const char *const top[] = { "connections", "messages", "errors", NULL };
	static const char *const connection[] = { "first_name", "last_name", "url", "email", "company",
						  "position", "connected_on", NULL };
	static const char *const message[] = { "conversation_id", "from", "sender_url", "to",
					       "recipient_urls", "date", NULL };
	static const char *const error[] = { "file", "line", "message", NULL };
	g_autoptr(LinkedinExport) export = parse_path_ok(MARCH "/Connections.csv");
	g_autoptr(JsonNode) root = linkedin_export_to_json(export);

	g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
	JsonObject *object = json_node_get_object(root);
	assert_members(object, top);

	JsonArray *connections = json_object_get_array_member(object, "connections");
	g_assert_cmpuint(json_array_get_length(connections), ==, 8);
	for (guint i = 0; i < 8; i++)
		assert_members(object_at(connections, i), connection);
	JsonObject *ken = object_at(connections, 0);
	g_assert_cmpstr(json_object_get_string_member(ken, "company"), ==, "Acme, Inc.");
	g_assert_true(json_object_get_null_member(ken, "email"));
	g_assert_cmpstr(json_object_get_string_member(ken, "connected_on"), ==, "2024-03-06");
	g_assert_true(json_object_get_null_member(object_at(connections, 4), "connected_on"));

	/* One connection exactly as `tiesd --parse=linkedin` prints it. */
	g_autoptr(JsonNode) taro = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(taro, object_at(connections, 1));
	g_autofree char *taro_text = json_to_string(taro, FALSE);
	g_assert_cmpstr(taro_text, ==,
			"{\"first_name\":\"太郎\",\"last_name\":\"山田\","
			"\"url\":\"https://www.linkedin.com/in/taro-yamada-1a2b3c\","
			"\"email\":\"taro.yamada@example.co.jp\",\"company\":\"株式会社サンプル\","
			"\"position\":\"部長\",\"connected_on\":\"2024-03-06\"}");

	JsonArray *messages = json_object_get_array_member(object, "messages");
	g_assert_cmpuint(json_array_get_length(messages), ==, 4);
	for (guint i = 0; i < 4; i++)
		assert_members(object_at(messages, i), message);
	JsonObject *first = object_at(messages, 0);
	g_assert_cmpstr(json_object_get_string_member(first, "date"), ==, "2024-03-06T09:15:02Z");
	g_assert_cmpstr(json_object_get_string_member(first, "from"), ==, "Ken Suzuki");
	JsonObject *kickoff = object_at(messages, 2);
	JsonArray *urls = json_object_get_array_member(kickoff, "recipient_urls");
	g_assert_cmpuint(json_array_get_length(urls), ==, 2);
	g_assert_cmpstr(json_array_get_string_element(urls, 1), ==, "https://www.linkedin.com/in/hanako-sato");
	g_assert_cmpstr(json_object_get_string_member(kickoff, "date"), ==, "2024-02-28T23:59:59Z");

	JsonArray *errors = json_object_get_array_member(object, "errors");
	g_assert_cmpuint(json_array_get_length(errors), ==, 3);
	for (guint i = 0; i < 3; i++)
		assert_members(object_at(errors, i), error);
	JsonObject *broken = object_at(errors, 0);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(broken, "file"), "/Connections.csv"));
	g_assert_cmpint(json_object_get_int_member(broken, "line"), ==, 11);

	/* Without a messages.csv there is no "messages" member at all. */
	static const char *const without[] = { "connections", "errors", NULL };
	g_autoptr(LinkedinExport) old = parse_path_ok(DATA_DIR "/export-2017/Connections.csv");
	g_autoptr(JsonNode) old_root = linkedin_export_to_json(old);
	assert_members(json_node_get_object(old_root), without);
	g_assert_true(json_object_get_null_member(
		object_at(json_object_get_array_member(json_node_get_object(old_root), "connections"), 0),
		"url"));

	/* An empty export is two empty lists. */
	g_autoptr(LinkedinExport) empty = linkedin_export_new();
	g_autoptr(JsonNode) empty_root = linkedin_export_to_json(empty);
	g_autofree char *empty_text = json_to_string(empty_root, FALSE);
	g_assert_cmpstr(empty_text, ==, "{\"connections\":[],\"errors\":[]}");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/linkedin/export/march", test_export_march);
	g_test_add_func("/linkedin/export/march-messages", test_messages_march);
	g_test_add_func("/linkedin/export/september", test_export_september);
	g_test_add_func("/linkedin/export/old", test_export_old);
	g_test_add_func("/linkedin/connections/columns-by-name", test_columns_by_name);
	g_test_add_func("/linkedin/connections/names", test_names);
	g_test_add_func("/linkedin/connections/dates", test_dates);
	g_test_add_func("/linkedin/csv/line-endings", test_line_endings);
	g_test_add_func("/linkedin/csv/quotes", test_quotes);
	g_test_add_func("/linkedin/csv/unterminated-quote", test_unterminated_quote);
	g_test_add_func("/linkedin/csv/no-header", test_no_header);
	g_test_add_func("/linkedin/csv/encodings", test_encodings);
	g_test_add_func("/linkedin/csv/limits", test_limits);
	g_test_add_func("/linkedin/messages/columns", test_messages_columns);
	g_test_add_func("/linkedin/messages/no-header", test_messages_no_header);
	g_test_add_func("/linkedin/path/errors", test_path_errors);
	g_test_add_func("/linkedin/path/folder", test_path_folder);
	g_test_add_func("/linkedin/json", test_json);
	return g_test_run();
}
