/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "jobpost.h"

/* The source copy: PKGDATADIR is where it is installed, after the tests. */
#define SHIPPED_RULES SRCDIR "/daemon/jobpost.rules"
#define LABELLED SRCDIR "/tests/data/jobpost/labelled.tsv"

static JobpostRules *shipped_rules(void)
{
	JobpostRules *rules = jobpost_rules_new();
	g_autoptr(GError) error = NULL;

	g_assert_true(jobpost_rules_load_file(rules, SHIPPED_RULES, &error));
	g_assert_no_error(error);
	return rules;
}

/* A file in a fresh temporary folder; the caller removes both. */
static char *write_temp(const char *dir, const char *name, const char *contents)
{
	char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, contents, -1, &error));
	return path;
}

static void test_labelled(void)
{
	g_autoptr(JobpostRules) rules = shipped_rules();
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	guint yes = 0, no = 0, japanese = 0, english = 0, wrong = 0;

	g_assert_true(g_file_get_contents(LABELLED, &data, NULL, &error));
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	for (guint i = 0; lines[i]; i++) {
		if (!*lines[i] || *lines[i] == '#')
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", 3);
		g_assert_cmpuint(g_strv_length(f), ==, 3);
		g_assert_true(strcmp(f[0], "yes") == 0 || strcmp(f[0], "no") == 0);
		gboolean expected = strcmp(f[0], "yes") == 0;
		gboolean got = jobpost_classify(rules, *f[1] ? f[1] : NULL, *f[2] ? f[2] : NULL);
		if (got != expected) {
			g_test_message("line %u: %s «%s» «%s» classified %s", i + 1, f[0], f[1], f[2],
				       got ? "yes" : "no");
			wrong++;
		}
		expected ? yes++ : no++;
		/* Kana or kanji in it: a Japanese example. */
		gboolean ja = FALSE;
		for (const char *p = lines[i]; *p; p = g_utf8_next_char(p)) {
			gunichar c = g_utf8_get_char(p);
			ja |= (c >= 0x3040 && c <= 0x30FF) || (c >= 0x4E00 && c <= 0x9FFF) ||
			      (c >= 0xFF61 && c <= 0xFF9F);
		}
		ja ? japanese++ : english++;
	}
	g_test_message("%u labelled posts (%u yes, %u no; %u Japanese, %u English), %u wrong",
		       yes + no, yes, no, japanese, english, wrong);
	g_assert_cmpuint(yes + no, >=, 30);
	g_assert_cmpuint(yes, >=, 10);
	g_assert_cmpuint(no, >=, 10);
	g_assert_cmpuint(japanese, >=, 10);
	g_assert_cmpuint(english, >=, 10);
	g_assert_cmpuint(wrong, ==, 0);
}

static void test_normalisation(void)
{
	g_autoptr(JobpostRules) rules = jobpost_rules_new();
	g_autoptr(GError) error = NULL;
	static const char text[] = "join: I've joined\n"
				   "leave: after * years at * i'm leaving\n"
				   "move: ジョインしました\n";

	g_assert_true(jobpost_rules_load_data(rules, text, sizeof text - 1, "inline", &error));
	g_assert_cmpuint(jobpost_rules_count(rules), ==, 3);
	/* Case, curly apostrophes, runs of white space, width. */
	g_assert_true(jobpost_classify(rules, "I’VE   JOINED\nAcme", NULL));
	g_assert_true(jobpost_classify(rules, "ｼﾞｮｲﾝしました", NULL));
	/* Other spaces and apostrophes; white space at either end is dropped,
	 * and a space before an apostrophe stays a space. */
	g_assert_true(jobpost_classify(rules, " \t I\u02bcve\u2028\u00a0 joined ", NULL));
	g_assert_true(jobpost_classify(rules, "\u3000I\u2018ve\u3000joined\u3000", NULL));
	g_assert_false(jobpost_classify(rules, "I \u2019ve joined", NULL));
	g_assert_true(jobpost_classify(rules, NULL, "After 3 years at Foo Bar Ltd., I'm leaving."));
	/* A * spans at most 60 characters, and never title and text at once. */
	g_assert_false(jobpost_classify(rules, NULL,
					"After 3 years at a company whose name, together with everything "
					"else said here, is far longer than sixty characters, I'm leaving."));
	g_assert_false(jobpost_classify(rules, "After 3 years at Foo", "I'm leaving"));
	g_assert_false(jobpost_classify(rules, NULL, NULL));
	g_assert_false(jobpost_classify(NULL, "I've joined", NULL));
	g_assert_false(jobpost_classify(rules, "", ""));
}

static void test_exclusion_scope(void)
{
	g_autoptr(JobpostRules) rules = shipped_rules();

	/* An exclusion in the title rules the post out, one in the text only
	 * when the title announces nothing. */
	g_assert_false(jobpost_classify(rules, "転職市場レポート", "私も転職しました"));
	g_assert_true(jobpost_classify(rules, "入社しました", "弊社では採用中です"));
	g_assert_false(jobpost_classify(rules, "お知らせ", "入社しました。弊社では採用中です"));
	g_assert_true(jobpost_classify(rules, "お知らせ", "入社しました。"));
}

static void test_bad_line(void)
{
	g_autofree char *dir = g_dir_make_tmp("ties-jobpost-XXXXXX", NULL);
	static const struct {
		const char *contents;
		guint line;
		const char *what;
	} cases[] = {
		{ "# comment\njoin: 入社しました\nthis line has no kind\n", 3, "KIND: PHRASE" },
		{ "join: a\r\n\r\nhired: 採用されました\r\n", 3, "unknown kind \"hired\"" },
		{ "\n\n\n\nexclude:   \n", 5, "empty phrase" },
		{ "leave: * *\n", 1, "empty phrase" },
	};

	g_assert_nonnull(dir);
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JobpostRules) rules = jobpost_rules_new();
		g_autoptr(GError) error = NULL;
		g_autofree char *path = write_temp(dir, "jobpost.rules", cases[i].contents);
		g_autofree char *where = g_strdup_printf("%s:%u: ", path, cases[i].line);

		g_assert_false(jobpost_rules_load_file(rules, path, &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
		g_test_message("%s", error->message);
		g_assert_true(g_str_has_prefix(error->message, where));
		g_assert_nonnull(strstr(error->message, cases[i].what));
		g_assert_cmpint(g_unlink(path), ==, 0);
	}

	/* The rules before the bad line stay. */
	g_autoptr(JobpostRules) rules = jobpost_rules_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *path = write_temp(dir, "partial.rules", "join: 入社しました\nbad\njoin: later\n");
	g_assert_false(jobpost_rules_load_file(rules, path, &error));
	g_assert_cmpuint(jobpost_rules_count(rules), ==, 1);
	g_assert_true(jobpost_classify(rules, "入社しました", NULL));
	g_assert_false(jobpost_classify(rules, "later", NULL));
	g_assert_cmpint(g_unlink(path), ==, 0);

	/* Not UTF-8, and a file that is not there. */
	g_clear_error(&error);
	g_autofree char *latin = write_temp(dir, "latin1.rules", "join: caf\xe9\n");
	g_assert_false(jobpost_rules_load_file(rules, latin, &error));
	g_assert_nonnull(strstr(error->message, latin));
	g_assert_cmpint(g_unlink(latin), ==, 0);
	g_clear_error(&error);
	g_autofree char *missing = g_build_filename(dir, "missing.rules", NULL);
	g_assert_false(jobpost_rules_load_file(rules, missing, &error));
	g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_user_rules(void)
{
	g_autoptr(JobpostRules) rules = shipped_rules();
	g_autofree char *dir = g_dir_make_tmp("ties-jobpost-XXXXXX", NULL);
	g_autoptr(GError) error = NULL;
	static const char title[] = "この春からスタートアップの仲間入りをしました";
	guint before = jobpost_rules_count(rules);

	g_assert_false(jobpost_classify(rules, title, NULL));
	g_autofree char *path = write_temp(dir, "jobpost.rules",
					   "# my own phrases\njoin: 仲間入りをしました\nexclude: podcast\n");
	g_assert_true(jobpost_rules_load_file(rules, path, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(jobpost_rules_count(rules), ==, before + 2);
	g_assert_true(jobpost_classify(rules, title, NULL));
	/* The user's exclusions rule out what the shipped phrases catch. */
	g_assert_true(jobpost_classify(rules, "My last day at Acme", NULL));
	g_assert_false(jobpost_classify(rules, "Podcast #12: my last day at Acme", NULL));
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/jobpost/labelled", test_labelled);
	g_test_add_func("/jobpost/normalisation", test_normalisation);
	g_test_add_func("/jobpost/exclusion-scope", test_exclusion_scope);
	g_test_add_func("/jobpost/bad-line", test_bad_line);
	g_test_add_func("/jobpost/user-rules", test_user_rules);
	return g_test_run();
}
