/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "conf.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define DAY G_GINT64_CONSTANT(86400)

/* A temporary folder per test, removed with what the test wrote into it. */
typedef struct {
	char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	f->dir = g_dir_make_tmp("test-conf-XXXXXX", &error);
	g_assert_no_error(error);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	g_assert_cmpint(g_rmdir(f->dir), ==, 0);
	g_free(f->dir);
}

/* Writes TEXT to DIR/ties.conf with MODE; returns the path. */
static char *write_conf(const Fixture *f, const char *text, int mode)
{
	char *path = g_build_filename(f->dir, "ties.conf", NULL);
	g_autoptr(GError) error = NULL;

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
	return path;
}

static char *data_path(const char *name)
{
	return g_build_filename(SRCDIR, "tests", "data", "conf", name, NULL);
}

static gint64 tier(const Config *config, const char *name)
{
	gint64 cadence = G_MININT64;
	if (!config_tier_cadence(config, name, &cadence))
		g_error("no tier \"%s\"", name);
	return cadence;
}

static void assert_default_tiers(const Config *config)
{
	g_assert_cmpint(tier(config, "close"), ==, 30 * DAY);
	g_assert_cmpint(tier(config, "regular"), ==, 90 * DAY);
	g_assert_cmpint(tier(config, "weak"), ==, 180 * DAY);
	g_assert_cmpint(tier(config, "yearly"), ==, 365 * DAY);
	g_assert_cmpint(tier(config, "never"), ==, CONFIG_CADENCE_NEVER);
}

static void assert_default_ties(const Config *config)
{
	g_assert_cmpint(config->default_cadence_s, ==, 180 * DAY);
	g_assert_true(config->quiet_hours);
	g_assert_cmpint(config->quiet_start_min, ==, 21 * 60);
	g_assert_cmpint(config->quiet_end_min, ==, 9 * 60);
	g_assert_cmpint(config->max_nudges_per_day, ==, 3);
	assert_default_tiers(config);
}

/* ---- defaults ---- */

static void test_missing_file(Fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "no-such.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/home/me/.local/share/contacts", &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpstr(config->path, ==, path);
	assert_default_ties(config);
	g_assert_null(config->organization);
	g_assert_cmpuint(config->tiers->len, ==, 5);
	g_assert_cmpuint(config->feeds->len, ==, 0);
	g_assert_cmpuint(config->warnings->len, ==, 0);

	g_assert_cmpuint(config->sources->len, ==, 1);
	const SourceConfig *source = g_ptr_array_index(config->sources, 0);
	g_assert_cmpstr(source->name, ==, "contacts");
	g_assert_cmpint(source->type, ==, SOURCE_TYPE_VCARD);
	g_assert_cmpstr(source->path, ==, "/home/me/.local/share/contacts");
	g_assert_cmpint(source->interval_s, >, 0);
	g_assert_null(source->url);
	g_assert_null(source->password);
	g_assert_true(config_find_source(config, "contacts") == source);
	g_assert_null(config_find_source(config, "phone"));
}

static void test_missing_file_no_vdir(Fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "no-such.conf", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	assert_default_ties(config);
	g_assert_cmpuint(config->sources->len, ==, 0);
}

static void test_new_default(void)
{
	g_autoptr(Config) none = config_new_default(NULL);
	g_autoptr(Config) vdir = config_new_default("/srv/vdir");

	assert_default_ties(none);
	g_assert_null(none->path);
	g_assert_cmpuint(none->sources->len, ==, 0);
	assert_default_ties(vdir);
	g_assert_cmpuint(vdir->sources->len, ==, 1);
	g_assert_cmpstr(((SourceConfig *)g_ptr_array_index(vdir->sources, 0))->path, ==, "/srv/vdir");
	g_assert_cmpstr(((SourceConfig *)g_ptr_array_index(vdir->sources, 0))->name, ==, "contacts");
}

static void test_default_paths(void)
{
	g_autofree char *conf = config_default_path();
	g_autofree char *db = config_default_database();
	g_autofree char *vdir = config_default_vdir();
	g_autofree char *want_conf = g_build_filename(g_get_user_config_dir(), "ties", "ties.conf", NULL);
	g_autofree char *want_db = g_build_filename(g_get_user_data_dir(), "ties", "ties.db", NULL);
	g_autofree char *want_vdir = g_build_filename(g_get_user_data_dir(), "contacts", NULL);

	g_assert_cmpstr(conf, ==, want_conf);
	g_assert_cmpstr(db, ==, want_db);
	g_assert_cmpstr(vdir, ==, want_vdir);
}

/* ---- a full, valid file ---- */

static void test_spec_example(void)
{
	g_autofree char *path = data_path("spec.conf");
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);
	g_autofree char *phone_path = g_build_filename(g_get_home_dir(), ".local", "share", "contacts", NULL);
	g_autofree char *linkedin_path = g_build_filename(g_get_home_dir(), "Downloads", "Connections.csv", NULL);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpstr(config->path, ==, path);
	assert_default_ties(config);
	g_assert_cmpuint(config->warnings->len, ==, 0);

	/* The file's sources replace the default vdir source. */
	g_assert_cmpuint(config->sources->len, ==, 3);
	g_assert_null(config_find_source(config, "contacts"));

	const SourceConfig *work = config_find_source(config, "work");
	g_assert_nonnull(work);
	g_assert_cmpint(work->type, ==, SOURCE_TYPE_CARDDAV);
	g_assert_cmpstr(work->url, ==, "https://dav.example.com/");
	g_assert_cmpstr(work->username, ==, "me");
	g_assert_cmpstr(work->password_command, ==, "pass show dav/me");
	g_assert_null(work->password);
	g_assert_null(work->path);
	g_assert_null(work->addressbooks);
	g_assert_cmpint(work->interval_s, ==, 3600);
	g_assert_cmpuint(work->line, ==, 14);

	const SourceConfig *phone = config_find_source(config, "phone");
	g_assert_nonnull(phone);
	g_assert_cmpint(phone->type, ==, SOURCE_TYPE_VCARD);
	g_assert_cmpstr(phone->path, ==, phone_path);
	g_assert_cmpuint(phone->line, ==, 21);

	const SourceConfig *linkedin = config_find_source(config, "linkedin");
	g_assert_nonnull(linkedin);
	g_assert_cmpint(linkedin->type, ==, SOURCE_TYPE_LINKEDIN);
	g_assert_cmpstr(linkedin->path, ==, linkedin_path);

	g_assert_cmpstr(source_type_name(work->type), ==, "carddav");
	g_assert_cmpstr(source_type_name(phone->type), ==, "vcard");
	g_assert_cmpstr(source_type_name(linkedin->type), ==, "linkedin");

	g_assert_cmpuint(config->feeds->len, ==, 1);
	const FeedConfig *feed = g_ptr_array_index(config->feeds, 0);
	g_assert_cmpstr(feed->name, ==, "tanaka");
	/* the "# her note.com blog" comment is not part of the URL */
	g_assert_cmpstr(feed->url, ==, "https://note.com/tanaka/rss");
	g_assert_cmpstr(feed->contact, ==, "tanaka@example.com");
	g_assert_cmpint(feed->interval_s, >, 0);
	g_assert_cmpuint(feed->line, ==, 29);
}

static void test_values(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f,
		"[ties]\n"
		"cadence = 1w2d\n"
		"quiet-hours = 13:00 - 14:00\n"
		"max-nudges-per-day = 0 ; no cap\n"
		"organization = \"Foo # Bar\"  # quoted: the # inside stays\n"
		"hold-changes-above = 50%\n"
		"[source.dav]\n"
		"type = carddav\n"
		"url = http://localhost:8080/dav/#frag\n"
		"addressbooks = work , family\n"
		"interval = 90s\n"
		"[feed.blog]\n"
		"url = https://example.com/feed\n"
		"interval = 2h\n",
		0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpint(config->default_cadence_s, ==, 9 * DAY);
	g_assert_true(config->quiet_hours);
	g_assert_cmpint(config->quiet_start_min, ==, 13 * 60);
	g_assert_cmpint(config->quiet_end_min, ==, 14 * 60);
	g_assert_cmpint(config->max_nudges_per_day, ==, 0);
	g_assert_cmpstr(config->organization, ==, "Foo # Bar");
	g_assert_cmpfloat_with_epsilon(config->hold_share, 0.5, 1e-9);

	const SourceConfig *dav = config_find_source(config, "dav");
	g_assert_nonnull(dav);
	/* "#" not after white space is part of the value */
	g_assert_cmpstr(dav->url, ==, "http://localhost:8080/dav/#frag");
	g_assert_nonnull(dav->addressbooks);
	g_assert_cmpstrv(dav->addressbooks, ((const char *const[]){ "work", "family", NULL }));
	g_assert_cmpint(dav->interval_s, ==, 90);
	g_assert_cmpuint(config->sources->len, ==, 1);

	const FeedConfig *feed = g_ptr_array_index(config->feeds, 0);
	g_assert_cmpstr(feed->url, ==, "https://example.com/feed");
	g_assert_cmpstr(feed->name, ==, "blog");
	g_assert_null(feed->contact);
	g_assert_cmpint(feed->interval_s, ==, 2 * 3600);
}

/* A file that only tunes [ties] still reads the default vdir. */
static void test_no_sources_keeps_default_vdir(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "[ties]\ncadence = 30d\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);

	g_assert_no_error(error);
	g_assert_cmpint(config->default_cadence_s, ==, 30 * DAY);
	g_assert_cmpuint(config->sources->len, ==, 1);
	const SourceConfig *source = config_find_source(config, "contacts");
	g_assert_nonnull(source);
	g_assert_cmpstr(source->path, ==, "/default/vdir");
	g_assert_cmpint(source->type, ==, SOURCE_TYPE_VCARD);
}

static void test_empty_file(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);

	g_assert_no_error(error);
	assert_default_ties(config);
	g_assert_cmpuint(config->sources->len, ==, 1);
}

/* ---- passwords ---- */

static const char inline_password[] =
	"[source.dav]\n"
	"type = carddav\n"
	"url = https://dav.example.com/\n"
	"username = me\n"
	"password = s3cret-Passw0rd\n";

static void test_password_readable_by_others(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, inline_password, 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpstr(config_find_source(config, "dav")->password, ==, "s3cret-Passw0rd");
	g_assert_cmpuint(config->warnings->len, ==, 1);
	const char *warning = g_ptr_array_index(config->warnings, 0);
	g_assert_nonnull(strstr(warning, path));
	g_assert_nonnull(strstr(warning, "source.dav"));
	g_assert_nonnull(strstr(warning, "readable by others"));
	g_assert_null(strstr(warning, "s3cret")); /* never shown */
}

static void test_password_group_readable(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, inline_password, 0640);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(config->warnings->len, ==, 1);
}

static void test_password_private(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, inline_password, 0600);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpuint(config->warnings->len, ==, 0);
}

/* ---- errors: FILE:LINE: key: why ---- */

typedef struct {
	const char *name;
	const char *text;
	guint line;
	const char *key; /* NULL: the message names the section instead */
	const char *why; /* a part of what follows "FILE:LINE: [key: ]" */
} BadCase;

static const BadCase bad_cases[] = {
	{ "unknown-key", "[ties]\ncadence = 90d\ncolour = blue\n", 3, "colour", "unknown key" },
	{ "unknown-key-source", "[source.a]\ntype = vcard\npath = /x\nfolder = /y\n", 4, "folder", "unknown key" },
	{ "unknown-key-feed", "[feed.t]\nurl = https://x.example/\npath = /y\n", 3, "path", "unknown key" },
	{ "unknown-section", "[ties]\n\n[contacts]\ntype = vcard\n", 3, NULL, "unknown section [contacts]" },
	{ "bad-source-name", "[source.my phone]\ntype = vcard\n", 1, NULL, "unknown section [source.my phone]" },
	{ "empty-source-name", "[source.]\n", 1, NULL, "unknown section [source.]" },
	{ "bad-header", "[ties]\n[tiers\n", 2, NULL, "section header" },
	{ "key-outside-section", "# first a comment\ncadence = 90d\n[ties]\n", 2, "cadence", "key outside any section" },
	{ "bad-duration", "[ties]\ncadence = 90 days\n", 2, "cadence", "invalid duration \"90 days\"" },
	{ "bad-duration-word", "[ties]\ncadence = soon\n", 2, "cadence", "invalid duration \"soon\"" },
	{ "negative-duration", "[ties]\ncadence = -5d\n", 2, "cadence", "invalid duration" },
	{ "bad-tier-duration", "[tiers]\nclose = monthly\n", 2, "close", "invalid duration \"monthly\"" },
	{ "bad-interval", "[source.a]\ntype = vcard\npath = /x\ninterval = 0s\n", 4, "interval", "at least" },
	{ "bad-timeout", "[source.a]\ntype = carddav\nurl = https://x.example/\ntimeout = 2h\n", 4, "timeout", "between 1s and" },
	{ "bad-quiet-hours-hour", "[ties]\nquiet-hours = 25:00-09:00\n", 2, "quiet-hours", "expected HH:MM-HH:MM or off" },
	{ "bad-quiet-hours-minute", "[ties]\nquiet-hours = 21:60-09:00\n", 2, "quiet-hours", "expected HH:MM-HH:MM or off" },
	{ "bad-quiet-hours-one", "[ties]\nquiet-hours = 21:00\n", 2, "quiet-hours", "expected HH:MM-HH:MM or off" },
	{ "bad-quiet-hours-three", "[ties]\nquiet-hours = 21:00-09:00-10:00\n", 2, "quiet-hours", "HH:MM-HH:MM" },
	{ "bad-quiet-hours-words", "[ties]\nquiet-hours = 9pm-9am\n", 2, "quiet-hours", "\"9pm-9am\"" },
	{ "max-nudges-negative", "[ties]\nmax-nudges-per-day = -1\n", 2, "max-nudges-per-day", "expected a whole number" },
	{ "max-nudges-word", "[ties]\nmax-nudges-per-day = many\n", 2, "max-nudges-per-day", "\"many\"" },
	{ "max-nudges-fraction", "[ties]\nmax-nudges-per-day = 1.5\n", 2, "max-nudges-per-day", "expected a whole number" },
	{ "empty-value", "[ties]\ncadence =\n", 2, "cadence", "empty value" },
	{ "empty-value-comment", "[ties]\ncadence =   # later\n", 2, "cadence", "empty value" },
	{ "bad-hold-share", "[ties]\nhold-changes-above = 0%\n", 2, "hold-changes-above", "1% to 100%" },
	{ "unknown-source-type", "[source.a]\ntype = ldap\npath = /x\n", 2, "type", "unknown source type \"ldap\"" },
	{ "source-without-type", "[ties]\ncadence = 90d\n\n[source.phone]\npath = /x\n", 4, NULL,
	  "[source.phone] needs a \"type\" key" },
	{ "vcard-without-path", "[ties]\n[source.phone]\ntype = vcard\ninterval = 1h\n", 2, NULL,
	  "[source.phone] needs a \"path\" key" },
	{ "linkedin-without-path", "[source.li]\n# nothing here\ntype = linkedin\n", 1, NULL,
	  "[source.li] needs a \"path\" key" },
	{ "carddav-without-url", "[ties]\n\n[source.work]\ntype = carddav\nusername = me\n", 3, NULL,
	  "[source.work] needs a \"url\" key" },
	{ "url-not-http", "[source.work]\ntype = carddav\nurl = ftp://dav.example.com/\n", 3, "url",
	  "expected an http:// or https:// URL, not \"ftp://dav.example.com/\"" },
	{ "url-no-scheme", "[source.work]\ntype = carddav\nurl = dav.example.com\n", 3, "url", "http://" },
	{ "feed-url-not-http", "[feed.t]\nurl = file:///etc/passwd\n", 2, "url", "http:// or https://" },
	{ "feed-without-url", "[feed.t]\ncontact = t@example.com\n", 1, NULL, "[feed.t] needs a \"url\" key" },
	{ "duplicate-key", "[ties]\ncadence = 90d\nquiet-hours = off\ncadence = 30d\n", 4, "cadence", "set twice" },
	{ "duplicate-key-source", "[source.a]\ntype = vcard\npath = /x\npath = /y\n", 4, "path", "set twice" },
	/* tier names are case-insensitive, so "Close" repeats "close" */
	{ "duplicate-tier-any-case", "[tiers]\nclose = 10d\nClose = 20d\n", 3, "Close", "set twice" },
	{ "duplicate-section", "[ties]\ncadence = 90d\n[tiers]\n[ties]\n", 4, NULL, "section [ties] appears twice" },
	{ "duplicate-source", "[source.a]\ntype = vcard\npath = /x\n[source.a]\n", 4, NULL, "[source.a] appears twice" },
	{ "line-without-equals", "[ties]\ncadence 90d\n", 2, NULL, "expected \"key = value\"" },
	{ "password-and-command",
	  "[ties]\n[source.work]\ntype = carddav\nurl = https://x.example/\npassword = hunter2\npassword-command = pass x\n", 2,
	  NULL, "[source.work] has both password and password-command" },
};

static void test_bad(Fixture *f, gconstpointer data)
{
	const BadCase *c = data;
	g_autofree char *path = write_conf(f, c->text, 0600);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);
	g_autofree char *prefix = c->key ? g_strdup_printf("%s:%u: %s: ", path, c->line, c->key)
					 : g_strdup_printf("%s:%u: ", path, c->line);

	g_assert_null(config);
	g_assert_nonnull(error);
	g_assert_true(error->domain == G_KEY_FILE_ERROR);
	if (!g_str_has_prefix(error->message, prefix))
		g_error("message \"%s\" does not start with \"%s\"", error->message, prefix);
	if (!strstr(error->message + strlen(prefix), c->why))
		g_error("message \"%s\" does not say \"%s\"", error->message, c->why);
	/* a password is never shown */
	g_assert_null(strstr(error->message, "hunter2"));
}

static void test_not_utf8(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "[ties]\norganization = \x8a\x94\x8e\xae\x89\xef\x8e\xd0\n", 0600);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_null(config);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, path));
	g_assert_nonnull(strstr(error->message, "UTF-8"));
}

/* A folder where the file should be: an error, not the defaults. */
static void test_unreadable(Fixture *f, gconstpointer data)
{
	g_autofree char *path = g_build_filename(f->dir, "ties.conf", NULL);
	g_assert_cmpint(g_mkdir(path, 0700), ==, 0);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, "/default/vdir", &error);

	g_assert_null(config);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, path));
	g_assert_cmpint(g_rmdir(path), ==, 0);
}

/* ---- tiers ---- */

static void test_custom_tier(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f,
		"[tiers]\n"
		"Friends = 2w\n"
		"close = 10d\n"
		"mentors = 1y\n",
		0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);
	gint64 cadence = 42;

	g_assert_no_error(error);
	g_assert_cmpint(tier(config, "friends"), ==, 14 * DAY);
	g_assert_cmpint(tier(config, "FRIENDS"), ==, 14 * DAY);
	g_assert_cmpint(tier(config, "mentors"), ==, 365 * DAY);
	/* overridden */
	g_assert_cmpint(tier(config, "close"), ==, 10 * DAY);
	/* the others keep their defaults */
	g_assert_cmpint(tier(config, "regular"), ==, 90 * DAY);
	g_assert_cmpint(tier(config, "weak"), ==, 180 * DAY);
	g_assert_cmpint(tier(config, "yearly"), ==, 365 * DAY);
	g_assert_cmpint(tier(config, "never"), ==, CONFIG_CADENCE_NEVER);
	g_assert_cmpuint(config->tiers->len, ==, 7);

	g_assert_false(config_tier_cadence(config, "acquaintances", &cadence));
	g_assert_false(config_tier_cadence(config, "", &cadence));
	g_assert_false(config_tier_cadence(config, NULL, &cadence));
	g_assert_cmpint(cadence, ==, 42);
}

static void test_tier_never(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "[tiers]\nweak = never\nghosts = Never\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(tier(config, "weak"), ==, CONFIG_CADENCE_NEVER);
	g_assert_cmpint(tier(config, "ghosts"), ==, CONFIG_CADENCE_NEVER);
	g_assert_cmpint(tier(config, "close"), ==, 30 * DAY);
}

static void test_tier_case_insensitive(void)
{
	g_autoptr(Config) config = config_new_default(NULL);

	g_assert_cmpint(tier(config, "CLOSE"), ==, 30 * DAY);
	g_assert_cmpint(tier(config, "Close"), ==, 30 * DAY);
	g_assert_cmpint(tier(config, "rEgUlAr"), ==, 90 * DAY);
	g_assert_cmpint(tier(config, "NEVER"), ==, CONFIG_CADENCE_NEVER);
}

/* ---- paths, quiet hours, BOM ---- */

static void test_home_expansion(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f,
		"[source.a]\ntype = vcard\npath = ~/contacts/vdir\n"
		"[source.b]\ntype = vcard\npath = ~\n"
		"[source.c]\ntype = vcard\npath = /abs/~/x\n"
		"[source.d]\ntype = linkedin\npath = ~other/Connections.csv\n",
		0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);
	g_autofree char *expected = g_build_filename(g_get_home_dir(), "contacts", "vdir", NULL);

	g_assert_no_error(error);
	g_assert_cmpstr(config_find_source(config, "a")->path, ==, expected);
	g_assert_true(g_path_is_absolute(config_find_source(config, "a")->path));
	g_assert_cmpstr(config_find_source(config, "b")->path, ==, g_get_home_dir());
	g_assert_cmpstr(config_find_source(config, "c")->path, ==, "/abs/~/x");
	g_assert_cmpstr(config_find_source(config, "d")->path, ==, "~other/Connections.csv");
}

static void test_quiet_hours_off(Fixture *f, gconstpointer data)
{
	static const char *const texts[] = { "[ties]\nquiet-hours = off\n", "[ties]\nquiet-hours = OFF # never quiet\n" };

	for (gsize i = 0; i < G_N_ELEMENTS(texts); i++) {
		g_autofree char *path = write_conf(f, texts[i], 0644);
		g_autoptr(GError) error = NULL;
		g_autoptr(Config) config = config_load(path, NULL, &error);

		g_assert_no_error(error);
		g_assert_false(config->quiet_hours);
		/* the rest keeps its defaults */
		g_assert_cmpint(config->default_cadence_s, ==, 180 * DAY);
		g_assert_cmpint(config->max_nudges_per_day, ==, 3);
	}
}

static void test_quiet_hours_end_of_day(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "[ties]\nquiet-hours = 22:00-24:00\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_true(config->quiet_hours);
	g_assert_cmpint(config->quiet_start_min, ==, 22 * 60);
	g_assert_cmpint(config->quiet_end_min, ==, 24 * 60);
}

static void test_bom_crlf(void)
{
	g_autofree char *path = data_path("bom-crlf.conf");
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_nonnull(config);
	g_assert_cmpint(config->default_cadence_s, ==, 14 * DAY);
	g_assert_true(config->quiet_hours);
	g_assert_cmpint(config->quiet_start_min, ==, 22 * 60 + 30);
	g_assert_cmpint(config->quiet_end_min, ==, 7 * 60 + 15);
	g_assert_cmpint(config->max_nudges_per_day, ==, 0);
	g_assert_cmpint(tier(config, "friends"), ==, 45 * DAY);
}

static void test_bom_section_first(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "\xEF\xBB\xBF[ties]\ncadence = 30d\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpint(config->default_cadence_s, ==, 30 * DAY);
}

/* Errors after a BOM still count lines from 1. */
static void test_bom_error_line(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "\xEF\xBB\xBF[ties]\r\ncadence = 30d\r\nbogus = 1\r\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);
	g_autofree char *prefix = g_strdup_printf("%s:3: bogus: ", path);

	g_assert_null(config);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, prefix));
}

/* A BOM is only a BOM at the very start. */
static void test_bom_elsewhere(Fixture *f, gconstpointer data)
{
	g_autofree char *path = write_conf(f, "[ties]\n\xEF\xBB\xBF" "cadence = 30d\n", 0644);
	g_autoptr(GError) error = NULL;
	g_autoptr(Config) config = config_load(path, NULL, &error);

	g_assert_null(config);
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, path));
}

static void add_fixture_test(const char *name, void (*func)(Fixture *, gconstpointer), gconstpointer data)
{
	g_test_add(name, Fixture, data, fixture_setup, func, fixture_teardown);
}

int main(int argc, char **argv)
{
	/* A known daemon bug fails its test; the others still run. */
	g_autofree char **args = g_new0(char *, argc + 2);
	memcpy(args, argv, sizeof *args * argc);
	args[argc++] = (char *)"--keep-going";
	g_test_init(&argc, &args, NULL);

	add_fixture_test("/conf/defaults/missing-file", test_missing_file, NULL);
	add_fixture_test("/conf/defaults/missing-file-no-vdir", test_missing_file_no_vdir, NULL);
	g_test_add_func("/conf/defaults/new-default", test_new_default);
	g_test_add_func("/conf/defaults/paths", test_default_paths);
	add_fixture_test("/conf/defaults/no-sources-keeps-vdir", test_no_sources_keeps_default_vdir, NULL);
	add_fixture_test("/conf/defaults/empty-file", test_empty_file, NULL);

	g_test_add_func("/conf/valid/spec-example", test_spec_example);
	add_fixture_test("/conf/valid/values", test_values, NULL);
	add_fixture_test("/conf/valid/home-expansion", test_home_expansion, NULL);
	add_fixture_test("/conf/valid/quiet-hours-off", test_quiet_hours_off, NULL);
	add_fixture_test("/conf/valid/quiet-hours-24", test_quiet_hours_end_of_day, NULL);
	g_test_add_func("/conf/valid/bom-crlf", test_bom_crlf);
	add_fixture_test("/conf/valid/bom-section-first", test_bom_section_first, NULL);

	add_fixture_test("/conf/password/readable-by-others", test_password_readable_by_others, NULL);
	add_fixture_test("/conf/password/group-readable", test_password_group_readable, NULL);
	add_fixture_test("/conf/password/private", test_password_private, NULL);

	add_fixture_test("/conf/tiers/custom", test_custom_tier, NULL);
	add_fixture_test("/conf/tiers/never", test_tier_never, NULL);
	g_test_add_func("/conf/tiers/case-insensitive", test_tier_case_insensitive);

	for (gsize i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		g_autofree char *name = g_strdup_printf("/conf/error/%s", bad_cases[i].name);
		add_fixture_test(name, test_bad, &bad_cases[i]);
	}
	add_fixture_test("/conf/error/not-utf8", test_not_utf8, NULL);
	add_fixture_test("/conf/error/unreadable", test_unreadable, NULL);
	add_fixture_test("/conf/error/bom-line-numbers", test_bom_error_line, NULL);
	add_fixture_test("/conf/error/bom-not-at-start", test_bom_elsewhere, NULL);

	return g_test_run();
}
