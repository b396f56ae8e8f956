/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "opml.h"

#define DATA_DIR SRCDIR "/tests/data/opml"

static GPtrArray *parse_file(const char *name, guint *skipped, GError **error)
{
	g_autofree char *path = g_build_filename(DATA_DIR, name, NULL);
	g_autofree char *data = NULL;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return opml_parse(data, len, skipped, error);
}

static void assert_feed(const GPtrArray *feeds, guint i, const char *url, const char *title, const char *contact)
{
	g_assert_cmpuint(i, <, feeds->len);
	const OpmlFeed *feed = g_ptr_array_index(feeds, i);
	g_assert_cmpstr(feed->url, ==, url);
	g_assert_cmpstr(feed->title, ==, title);
	g_assert_cmpstr(feed->contact, ==, contact);
}

/* Feedly's export: folders, nested folders, duplicates, odd URLs. */
static void test_folders(void)
{
	g_autoptr(GError) error = NULL;
	guint skipped = 0;
	g_autoptr(GPtrArray) feeds = parse_file("feedly.opml", &skipped, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(feeds->len, ==, 4);
	assert_feed(feeds, 0, "https://yamada.hatenablog.com/feed", "山田のブログ", "山田 太郎");
	g_assert_cmpstr(((OpmlFeed *)g_ptr_array_index(feeds, 0))->html_url, ==, "https://yamada.hatenablog.com/");
	assert_feed(feeds, 1, "https://note.com/yamada/rss", "yamada on note", "山田 太郎");
	/* The nearest folder names the contact. */
	assert_feed(feeds, 2, "https://ken.example/index.xml?a=1&b=2", "Ken's notes", "Nested");
	assert_feed(feeds, 3, "https://top.example/feed", "Top level", NULL);
	/* feed:// and a relative URL are no http(s) URLs. */
	g_assert_cmpuint(skipped, ==, 2);
}

static void test_contact_attribute(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) feeds = parse_file("ties.opml", NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(feeds->len, ==, 2);
	assert_feed(feeds, 0, "https://ken.example/feed", "Ken's blog", "ken@example.com");
	/* Lower-case xmlurl, a plain contact attribute, text as the title. */
	assert_feed(feeds, 1, "https://sato.example/rss", "佐藤の日記", "佐藤 花子");

	g_autoptr(GPtrArray) loose = parse_file("undeclared.opml", NULL, &error);
	g_assert_no_error(error);
	assert_feed(loose, 0, "http://a.example/rss", "x", "Ken Suzuki");
}

static void test_encoding(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) feeds = parse_file("latin1.opml", NULL, &error);
	g_assert_no_error(error);
	assert_feed(feeds, 0, "http://cafe.example/rss", "Café crème", NULL);
}

static void test_refused(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) doctype = parse_file("doctype.opml", NULL, &error);
	g_assert_null(doctype);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_clear_error(&error);

	g_autoptr(GPtrArray) rss = parse_file("not-opml.xml", NULL, &error);
	g_assert_null(rss);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
	g_clear_error(&error);

	g_assert_null(opml_parse("", 0, NULL, &error));
	g_clear_error(&error);
	g_assert_null(opml_parse("\xff\xfe<<", 4, NULL, &error));
	g_clear_error(&error);

	g_autofree char *huge = g_malloc0(OPML_MAX_BYTES + 1);
	g_assert_null(opml_parse(huge, OPML_MAX_BYTES + 1, NULL, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
}

static void test_round_trip(void)
{
	g_autoptr(GPtrArray) feeds = g_ptr_array_new_with_free_func((GDestroyNotify)opml_feed_free);
	g_ptr_array_add(feeds, opml_feed_new("https://yamada.hatenablog.com/feed", "山田のブログ", NULL, "山田 太郎"));
	g_ptr_array_add(feeds, opml_feed_new("https://ken.example/rss?a=1&b=\"2\"", "Ken <notes> & \"more\"",
					     "https://ken.example/", "Ken Suzuki"));
	g_ptr_array_add(feeds, opml_feed_new("https://nobody.example/feed", NULL, NULL, NULL));
	g_ptr_array_add(feeds, opml_feed_new("https://titled.example/feed", "Only a title", NULL, NULL));

	g_autofree char *xml = opml_export(feeds, 1700000000);
	g_assert_nonnull(strstr(xml, "<opml "));
	g_assert_nonnull(strstr(xml, " version=\"2.0\""));
	g_assert_nonnull(strstr(xml, "xmlns:ties=\"" OPML_TIES_NAMESPACE "\""));
	g_assert_nonnull(strstr(xml, "<dateCreated>Tue, 14 Nov 2023 22:13:20 GMT</dateCreated>"));
	/* The contact's name is the outline's text. */
	g_assert_nonnull(strstr(xml, "text=\"山田 太郎\""));

	g_autoptr(GError) error = NULL;
	guint skipped = 99;
	g_autoptr(GPtrArray) back = opml_parse(xml, strlen(xml), &skipped, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(skipped, ==, 0);
	g_assert_cmpuint(back->len, ==, feeds->len);
	for (guint i = 0; i < feeds->len; i++) {
		const OpmlFeed *a = g_ptr_array_index(feeds, i), *b = g_ptr_array_index(back, i);
		g_assert_cmpstr(a->url, ==, b->url);
		g_assert_cmpstr(a->contact, ==, b->contact);
		g_assert_cmpstr(a->html_url, ==, b->html_url);
		/* Without a title, the text (the URL) stands in. */
		g_assert_cmpstr(b->title, ==, a->title ? a->title : a->url);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/opml/folders", test_folders);
	g_test_add_func("/opml/contact-attribute", test_contact_attribute);
	g_test_add_func("/opml/encoding", test_encoding);
	g_test_add_func("/opml/refused", test_refused);
	g_test_add_func("/opml/round-trip", test_round_trip);
	return g_test_run();
}
