/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "discovery.h"

#define DATA_DIR SRCDIR "/tests/data/discovery"

static void test_patterns(void)
{
	static const struct {
		const char *page, *feed;
	} cases[] = {
		{ "https://note.com/tanaka", "https://note.com/tanaka/rss" },
		{ "https://note.com/tanaka/", "https://note.com/tanaka/rss" },
		{ "http://www.note.com/tanaka_01", "https://note.com/tanaka_01/rss" },
		{ "https://note.com/hashtag/転職", NULL },
		{ "https://note.com/tanaka/n/n1234abcd", NULL },
		{ "https://yamada.hatenablog.com/", "https://yamada.hatenablog.com/feed" },
		{ "https://yamada.hatenablog.com/entry/2024/01/01/120000", "https://yamada.hatenablog.com/feed" },
		{ "https://yamada.hatenablog.jp", "https://yamada.hatenablog.jp/feed" },
		{ "http://Yamada.Hateblo.JP/about", "https://yamada.hateblo.jp/feed" },
		{ "https://yamada.hatenadiary.jp/", "https://yamada.hatenadiary.jp/feed" },
		{ "https://hatenablog.com/", NULL },
		{ "https://qiita.com/suzuki", "https://qiita.com/suzuki/feed" },
		{ "https://qiita.com/tags/rust", NULL },
		{ "https://qiita.com/suzuki/items/abc", NULL },
		{ "https://zenn.dev/sato", "https://zenn.dev/sato/feed" },
		{ "https://zenn.dev/articles", NULL },
		{ "https://medium.com/@ken", "https://medium.com/feed/@ken" },
		{ "https://medium.com/some-publication", NULL },
		{ "https://ken.medium.com/", "https://ken.medium.com/feed" },
		{ "https://mastodon.social/@ken", "https://mastodon.social/@ken.rss" },
		{ "https://fedibird.com/@yamada/", "https://fedibird.com/@yamada.rss" },
		{ "https://mastodon.social/@ken@fosstodon.org", "https://fosstodon.org/@ken.rss" },
		{ "https://www.youtube.com/@channel", NULL },
		{ "https://github.com/octocat", "https://github.com/octocat.atom" },
		{ "https://github.com/octocat/hello-world", NULL },
		{ "https://github.com/features", NULL },
		{ "https://example.com/blog/", NULL },
		{ "mailto:ken@example.com", NULL },
		{ "ftp://note.com/tanaka", NULL },
		{ "not a url", NULL },
		{ "", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *feed = discovery_from_pattern(cases[i].page);
		if (g_strcmp0(feed, cases[i].feed) != 0)
			g_error("%s: got %s, expected %s", cases[i].page, feed ? feed : "(none)",
				cases[i].feed ? cases[i].feed : "(none)");
	}
	g_assert_null(discovery_from_pattern(NULL));
}

static void test_skipped(void)
{
	g_assert_true(discovery_skip_page("https://www.linkedin.com/in/ken-suzuki"));
	g_assert_true(discovery_skip_page("https://x.com/ken"));
	g_assert_true(discovery_skip_page("https://twitter.com/ken"));
	g_assert_true(discovery_skip_page("https://www.facebook.com/ken"));
	g_assert_true(discovery_skip_page("mailto:ken@example.com"));
	g_assert_false(discovery_skip_page("https://ken.example/"));
	/* A host that only ends like one is not it. */
	g_assert_false(discovery_skip_page("https://notx.com/"));
}

static char *page_feed(const char *name, const char *base)
{
	g_autofree char *path = g_build_filename(DATA_DIR, name, NULL);
	g_autofree char *data = NULL;
	gsize len;
	g_assert_true(g_file_get_contents(path, &data, &len, NULL));
	return discovery_from_html(data, len, base, NULL);
}

static void test_html(void)
{
	static const struct {
		const char *file, *base, *feed;
	} cases[] = {
		/* The comment feed comes first in the page, the blog's feed wins. */
		{ "wordpress.html", "https://blog.example.jp/", "https://blog.example.jp/feed/" },
		{ "relative.html", "https://ken.example/notes/", "https://ken.example/index.xml" },
		{ "base.html", "https://blog.example.com/", "https://cdn.example.com/blog/feed.atom" },
		{ "none.html", "https://portfolio.example/", NULL },
		{ "sloppy.html", "http://old.example/~ken/index.html", "http://old.example/~ken/atom.xml" },
		{ "unsafe.html", "https://x.example/", NULL },
		{ "in-body.html", "https://x.example/", "https://example.org/rss" },
		{ "shift_jis.html", "https://sjis.example/dir/", "https://sjis.example/dir/rss.xml" },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *feed = page_feed(cases[i].file, cases[i].base);
		if (g_strcmp0(feed, cases[i].feed) != 0)
			g_error("%s: got %s, expected %s", cases[i].file, feed ? feed : "(none)",
				cases[i].feed ? cases[i].feed : "(none)");
	}
	/* No base: only absolute links come out. */
	g_autofree char *relative = page_feed("relative.html", NULL);
	g_assert_null(relative);
	g_autofree char *absolute = page_feed("wordpress.html", NULL);
	g_assert_cmpstr(absolute, ==, "https://blog.example.jp/feed/");

	/* Junk does not crash. */
	g_assert_null(discovery_from_html("", 0, "https://x.example/", NULL));
	g_assert_null(discovery_from_html("\0\0\0<<<>>>", 9, "https://x.example/", "text/html; charset=utf-16"));
	g_autoptr(GString) deep = g_string_new(NULL);
	for (guint i = 0; i < 50000; i++)
		g_string_append(deep, "<div>");
	g_string_append(deep, "<link rel=alternate type=application/rss+xml href=/deep.xml>");
	g_autofree char *lost = discovery_from_html(deep->str, deep->len, "https://x.example/", "text/html; charset=\"EUC-JP\"");
	(void)lost; /* found or not, within the element cap and without a crash */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/discovery/patterns", test_patterns);
	g_test_add_func("/discovery/skipped", test_skipped);
	g_test_add_func("/discovery/html", test_html);
	return g_test_run();
}
