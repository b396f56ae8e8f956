/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "duration.h"

#define CONFIG_MAX_BYTES (1024 * 1024)
#define DEFAULT_SOURCE_INTERVAL_S 3600
#define DEFAULT_FEED_INTERVAL_S (6 * 3600)
/* Shorter intervals would hammer servers; tests still use seconds. */
#define MIN_INTERVAL_S 1

typedef enum { SECTION_TIES, SECTION_TIERS, SECTION_SOURCE, SECTION_FEED } SectionKind;

typedef struct {
	const char *path;
	guint line;
	const char *key;
} Where;

typedef gboolean (*SetFunc)(Config *config, void *section, const char *value, const Where *where, GError **error);

/* One row per setting: the table is the documentation of what is accepted. */
typedef struct {
	SectionKind section;
	const char *key;
	SetFunc set;
} Setting;

static void fail(GError **error, const Where *where, const char *format, ...) G_GNUC_PRINTF(3, 4);
static void fail(GError **error, const Where *where, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	g_autofree char *why = g_strdup_vprintf(format, ap);
	va_end(ap);
	if (where->key)
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s:%u: %s: %s",
			    where->path, where->line, where->key, why);
	else
		g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE, "%s:%u: %s",
			    where->path, where->line, why);
}

static gboolean parse_duration_value(const char *value, gint64 *out, const Where *where, GError **error)
{
	g_autoptr(GError) local = NULL;
	if (!duration_parse(value, out, &local)) {
		fail(error, where, "%s", local->message);
		return FALSE;
	}
	return TRUE;
}

static char *expand_path(const char *value)
{
	if (g_str_has_prefix(value, "~/"))
		return g_build_filename(g_get_home_dir(), value + 2, NULL);
	if (strcmp(value, "~") == 0)
		return g_strdup(g_get_home_dir());
	return g_strdup(value);
}

static gboolean parse_cadence_value(const char *value, gint64 *out, const Where *where, GError **error)
{
	if (!parse_duration_value(value, out, where, error))
		return FALSE;
	if (*out <= 0) {
		fail(error, where, "a cadence must be longer than 0s (use \"never\" in [tiers] for none)");
		return FALSE;
	}
	return TRUE;
}

static gboolean set_cadence(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	return parse_cadence_value(value, &config->default_cadence_s, where, error);
}

static gboolean set_quiet_hours(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	if (g_ascii_strcasecmp(value, "off") == 0) {
		config->quiet_hours = FALSE;
		return TRUE;
	}
	g_auto(GStrv) parts = g_strsplit(value, "-", 3);
	if (g_strv_length(parts) != 2 || !clock_parse(g_strstrip(parts[0]), &config->quiet_start_min) ||
	    !clock_parse(g_strstrip(parts[1]), &config->quiet_end_min)) {
		fail(error, where, "expected HH:MM-HH:MM or off, not \"%s\"", value);
		return FALSE;
	}
	config->quiet_hours = config->quiet_start_min != config->quiet_end_min;
	return TRUE;
}

static gboolean set_max_nudges(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	guint64 n;
	if (!g_ascii_string_to_unsigned(value, 10, 0, 1000, &n, NULL)) {
		fail(error, where, "expected a whole number from 0 to 1000, not \"%s\"", value);
		return FALSE;
	}
	config->max_nudges_per_day = (int)n;
	return TRUE;
}

static gboolean set_hold_share(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	guint64 percent;
	g_autofree char *number = g_strdup(value);
	gsize len = strlen(number);

	if (len > 0 && number[len - 1] == '%')
		number[len - 1] = '\0';
	if (!g_ascii_string_to_unsigned(number, 10, 1, 100, &percent, NULL)) {
		fail(error, where, "expected a share from 1%% to 100%%, not \"%s\"", value);
		return FALSE;
	}
	config->hold_share = percent / 100.0;
	return TRUE;
}

static gboolean set_organization(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	g_free(config->organization);
	config->organization = g_strdup(value);
	return TRUE;
}

static gboolean set_source_type(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	SourceConfig *source = section;
	if (strcmp(value, "vcard") == 0)
		source->type = SOURCE_TYPE_VCARD;
	else if (strcmp(value, "carddav") == 0)
		source->type = SOURCE_TYPE_CARDDAV;
	else if (strcmp(value, "linkedin") == 0)
		source->type = SOURCE_TYPE_LINKEDIN;
	else {
		fail(error, where, "unknown source type \"%s\" (expected vcard, carddav or linkedin)", value);
		return FALSE;
	}
	return TRUE;
}

#define STRING_SETTER(fn, type, field, transform)                                                     \
	static gboolean fn(Config *config, void *section, const char *value, const Where *where,       \
			   GError **error)                                                             \
	{                                                                                             \
		type *s = section;                                                                    \
		g_free(s->field);                                                                     \
		s->field = transform(value);                                                          \
		return TRUE;                                                                          \
	}

STRING_SETTER(set_source_path, SourceConfig, path, expand_path)
STRING_SETTER(set_source_username, SourceConfig, username, g_strdup)
STRING_SETTER(set_source_password, SourceConfig, password, g_strdup)
STRING_SETTER(set_source_password_command, SourceConfig, password_command, g_strdup)
STRING_SETTER(set_feed_contact, FeedConfig, contact, g_strdup)

static gboolean check_url(const char *value, const Where *where, GError **error)
{
	if (!g_str_has_prefix(value, "http://") && !g_str_has_prefix(value, "https://")) {
		fail(error, where, "expected an http:// or https:// URL, not \"%s\"", value);
		return FALSE;
	}
	return TRUE;
}

static gboolean set_source_url(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	SourceConfig *source = section;
	if (!check_url(value, where, error))
		return FALSE;
	g_free(source->url);
	source->url = g_strdup(value);
	return TRUE;
}

static gboolean set_feed_url(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	FeedConfig *feed = section;
	if (!check_url(value, where, error))
		return FALSE;
	g_free(feed->url);
	feed->url = g_strdup(value);
	return TRUE;
}

static gboolean set_interval(gint64 *out, const char *value, const Where *where, GError **error)
{
	gint64 seconds;
	if (!parse_duration_value(value, &seconds, where, error))
		return FALSE;
	if (seconds < MIN_INTERVAL_S) {
		fail(error, where, "interval must be at least %ds", MIN_INTERVAL_S);
		return FALSE;
	}
	*out = seconds;
	return TRUE;
}

static gboolean set_source_interval(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	return set_interval(&((SourceConfig *)section)->interval_s, value, where, error);
}

/* A server slower than this is broken, not slow. */
#define MAX_TIMEOUT_S 3600

static gboolean set_source_timeout(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	gint64 seconds;
	if (!parse_duration_value(value, &seconds, where, error))
		return FALSE;
	if (seconds < 1 || seconds > MAX_TIMEOUT_S) {
		fail(error, where, "timeout must be between 1s and %ds", MAX_TIMEOUT_S);
		return FALSE;
	}
	((SourceConfig *)section)->timeout_s = seconds;
	return TRUE;
}

static gboolean set_feed_interval(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	return set_interval(&((FeedConfig *)section)->interval_s, value, where, error);
}

static gboolean set_source_addressbooks(Config *config, void *section, const char *value, const Where *where, GError **error)
{
	SourceConfig *source = section;
	g_strfreev(source->addressbooks);
	source->addressbooks = g_strsplit(value, ",", -1);
	for (char **p = source->addressbooks; *p; p++)
		g_strstrip(*p);
	return TRUE;
}

static const Setting settings[] = {
	{ SECTION_TIES, "cadence", set_cadence },
	{ SECTION_TIES, "quiet-hours", set_quiet_hours },
	{ SECTION_TIES, "max-nudges-per-day", set_max_nudges },
	{ SECTION_TIES, "organization", set_organization },
	{ SECTION_TIES, "hold-changes-above", set_hold_share },
	{ SECTION_SOURCE, "type", set_source_type },
	{ SECTION_SOURCE, "path", set_source_path },
	{ SECTION_SOURCE, "url", set_source_url },
	{ SECTION_SOURCE, "username", set_source_username },
	{ SECTION_SOURCE, "password", set_source_password },
	{ SECTION_SOURCE, "password-command", set_source_password_command },
	{ SECTION_SOURCE, "addressbooks", set_source_addressbooks },
	{ SECTION_SOURCE, "interval", set_source_interval },
	{ SECTION_SOURCE, "timeout", set_source_timeout },
	{ SECTION_FEED, "url", set_feed_url },
	{ SECTION_FEED, "contact", set_feed_contact },
	{ SECTION_FEED, "interval", set_feed_interval },
};

static void source_config_free(SourceConfig *source)
{
	if (!source)
		return;
	g_free(source->name);
	g_free(source->path);
	g_free(source->url);
	g_free(source->username);
	if (source->password)
		explicit_bzero(source->password, strlen(source->password));
	g_free(source->password);
	g_free(source->password_command);
	g_strfreev(source->addressbooks);
	g_free(source);
}

static void feed_config_free(FeedConfig *feed)
{
	if (!feed)
		return;
	g_free(feed->name);
	g_free(feed->url);
	g_free(feed->contact);
	g_free(feed);
}

static void tier_config_free(TierConfig *tier)
{
	if (!tier)
		return;
	g_free(tier->name);
	g_free(tier);
}

static void set_tier(Config *config, const char *name, gint64 cadence_s)
{
	for (guint i = 0; i < config->tiers->len; i++) {
		TierConfig *tier = g_ptr_array_index(config->tiers, i);
		if (g_ascii_strcasecmp(tier->name, name) == 0) {
			tier->cadence_s = cadence_s;
			return;
		}
	}
	TierConfig *tier = g_new0(TierConfig, 1);
	tier->name = g_ascii_strdown(name, -1);
	tier->cadence_s = cadence_s;
	g_ptr_array_add(config->tiers, tier);
}

static Config *config_new_empty(void)
{
	Config *config = g_new0(Config, 1);
	config->default_cadence_s = 180 * 86400;
	config->quiet_hours = TRUE;
	config->quiet_start_min = 21 * 60;
	config->quiet_end_min = 9 * 60;
	config->max_nudges_per_day = 3;
	config->hold_share = 0.30;
	config->tiers = g_ptr_array_new_with_free_func((GDestroyNotify)tier_config_free);
	config->sources = g_ptr_array_new_with_free_func((GDestroyNotify)source_config_free);
	config->feeds = g_ptr_array_new_with_free_func((GDestroyNotify)feed_config_free);
	config->warnings = g_ptr_array_new_with_free_func(g_free);
	set_tier(config, "close", 30 * 86400);
	set_tier(config, "regular", 90 * 86400);
	set_tier(config, "weak", 180 * 86400);
	set_tier(config, "yearly", 365 * 86400);
	set_tier(config, "never", CONFIG_CADENCE_NEVER);
	return config;
}

Config *config_new_default(const char *default_vdir)
{
	Config *config = config_new_empty();
	if (default_vdir) {
		SourceConfig *source = g_new0(SourceConfig, 1);
		source->name = g_strdup("contacts");
		source->type = SOURCE_TYPE_VCARD;
		source->path = g_strdup(default_vdir);
		source->interval_s = DEFAULT_SOURCE_INTERVAL_S;
		g_ptr_array_add(config->sources, source);
	}
	return config;
}

void config_free(Config *config)
{
	if (!config)
		return;
	g_free(config->path);
	g_free(config->organization);
	g_ptr_array_unref(config->tiers);
	g_ptr_array_unref(config->sources);
	g_ptr_array_unref(config->feeds);
	g_ptr_array_unref(config->warnings);
	g_free(config);
}

static gboolean valid_name(const char *name)
{
	if (!*name)
		return FALSE;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return FALSE;
	return TRUE;
}

/* Drops a comment that starts at "#" or ";" after white space, and the
 * white space around the value; "..." keeps everything inside. */
static char *clean_value(char *raw)
{
	char *value = g_strstrip(raw);
	if (value[0] == '"') {
		char *end = strrchr(value + 1, '"');
		if (end) {
			*end = '\0';
			return value + 1;
		}
	}
	for (char *p = value; *p; p++) {
		if ((*p == '#' || *p == ';') && (p == value || g_ascii_isspace(p[-1]))) {
			*p = '\0';
			break;
		}
	}
	return g_strstrip(value);
}

typedef struct {
	SectionKind kind;
	void *section;     /* SourceConfig*, FeedConfig*, or NULL */
	GHashTable *keys;  /* keys seen in this section, for duplicates */
} CurrentSection;

static gboolean begin_section(Config *config, const char *header, const Where *where,
			      CurrentSection *current, GHashTable *names, GError **error)
{
	g_hash_table_remove_all(current->keys);
	if (g_hash_table_contains(names, header)) {
		fail(error, where, "section [%s] appears twice", header);
		return FALSE;
	}
	g_hash_table_add(names, g_strdup(header));

	if (strcmp(header, "ties") == 0) {
		current->kind = SECTION_TIES;
		current->section = NULL;
	} else if (strcmp(header, "tiers") == 0) {
		current->kind = SECTION_TIERS;
		current->section = NULL;
	} else if (g_str_has_prefix(header, "source.") && valid_name(header + 7)) {
		SourceConfig *source = g_new0(SourceConfig, 1);
		source->name = g_strdup(header + 7);
		source->type = -1;
		source->interval_s = DEFAULT_SOURCE_INTERVAL_S;
		source->line = where->line;
		g_ptr_array_add(config->sources, source);
		current->kind = SECTION_SOURCE;
		current->section = source;
	} else if (g_str_has_prefix(header, "feed.") && valid_name(header + 5)) {
		FeedConfig *feed = g_new0(FeedConfig, 1);
		feed->name = g_strdup(header + 5);
		feed->interval_s = DEFAULT_FEED_INTERVAL_S;
		feed->line = where->line;
		g_ptr_array_add(config->feeds, feed);
		current->kind = SECTION_FEED;
		current->section = feed;
	} else {
		fail(error, where,
		     "unknown section [%s] (expected [ties], [tiers], [source.NAME] or [feed.NAME]; NAME of letters, digits, - and _)",
		     header);
		return FALSE;
	}
	return TRUE;
}

static gboolean set_key(Config *config, CurrentSection *current, const char *key, const char *value,
			const Where *where, GError **error)
{
	/* Tier names are case-insensitive, so "Close" repeats "close". */
	char *seen = current->kind == SECTION_TIERS ? g_ascii_strdown(key, -1) : g_strdup(key);
	if (!g_hash_table_add(current->keys, seen)) {
		fail(error, where, "set twice in this section");
		return FALSE;
	}
	if (!*value) {
		fail(error, where, "empty value");
		return FALSE;
	}
	if (current->kind == SECTION_TIERS) {
		gint64 cadence_s;
		if (!valid_name(key)) {
			fail(error, where, "a tier name is letters, digits, - and _");
			return FALSE;
		}
		if (g_ascii_strcasecmp(value, "never") == 0)
			cadence_s = CONFIG_CADENCE_NEVER;
		else if (!parse_cadence_value(value, &cadence_s, where, error))
			return FALSE;
		set_tier(config, key, cadence_s);
		return TRUE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(settings); i++)
		if (settings[i].section == current->kind && strcmp(settings[i].key, key) == 0)
			return settings[i].set(config, current->section, value, where, error);
	fail(error, where, "unknown key");
	return FALSE;
}

static gboolean check_sources(Config *config, const char *path, gboolean file_is_private, GError **error)
{
	for (guint i = 0; i < config->sources->len; i++) {
		SourceConfig *source = g_ptr_array_index(config->sources, i);
		Where where = { path, source->line, NULL };
		const char *missing = NULL;

		if ((int)source->type == -1)
			missing = "type";
		else if (source->type == SOURCE_TYPE_CARDDAV && !source->url)
			missing = "url";
		else if (source->type != SOURCE_TYPE_CARDDAV && !source->path)
			missing = "path";
		if (missing) {
			fail(error, &where, "[source.%s] needs a \"%s\" key", source->name, missing);
			return FALSE;
		}
		if (source->password && source->password_command) {
			fail(error, &where, "[source.%s] has both password and password-command", source->name);
			return FALSE;
		}
		if (source->password && !file_is_private)
			g_ptr_array_add(config->warnings,
					g_strdup_printf("%s: [source.%s] holds a password but the file is readable by others; "
							"chmod 600 it or use password-command",
							path, source->name));
	}
	for (guint i = 0; i < config->feeds->len; i++) {
		FeedConfig *feed = g_ptr_array_index(config->feeds, i);
		Where where = { path, feed->line, NULL };
		if (!feed->url) {
			fail(error, &where, "[feed.%s] needs a \"url\" key", feed->name);
			return FALSE;
		}
	}
	return TRUE;
}

Config *config_load(const char *path, const char *default_vdir, GError **error)
{
	g_autofree char *data = NULL;
	gsize len;
	g_autoptr(GError) local = NULL;

	if (!g_file_get_contents(path, &data, &len, &local)) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
			Config *config = config_new_default(default_vdir);
			config->path = g_strdup(path);
			return config;
		}
		g_set_error(error, G_FILE_ERROR, local->code, "%s", local->message);
		return NULL;
	}
	if (len > CONFIG_MAX_BYTES) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
		return NULL;
	}
	if (memchr(data, '\0', len) || !g_utf8_validate(data, len, NULL)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: not a UTF-8 text file", path);
		return NULL;
	}

	g_autoptr(Config) config = config_new_empty();
	config->path = g_strdup(path);
	g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	CurrentSection current = { .kind = -1, .section = NULL, .keys = keys };
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		Where where = { path, i + 1, NULL };
		char *line = g_strstrip(lines[i]);

		if (i == 0 && g_str_has_prefix(line, "\xEF\xBB\xBF"))
			line = g_strstrip(line + 3);
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *end = strchr(line, ']');
			if (!end || end[1] != '\0') {
				fail(error, &where, "a section header must look like [name]");
				return NULL;
			}
			*end = '\0';
			if (!begin_section(config, g_strstrip(line + 1), &where, &current, names, error))
				return NULL;
			continue;
		}
		char *equals = strchr(line, '=');
		if (!equals) {
			fail(error, &where, "expected \"key = value\", a [section] or a # comment");
			return NULL;
		}
		*equals = '\0';
		char *key = g_strstrip(line);
		where.key = key;
		if ((int)current.kind == -1) {
			fail(error, &where, "key outside any section");
			return NULL;
		}
		if (!set_key(config, &current, key, clean_value(equals + 1), &where, error))
			return NULL;
	}

	/* A file that only tunes [ties] still reads the default vdir. */
	if (config->sources->len == 0 && default_vdir) {
		g_autoptr(Config) defaults = config_new_default(default_vdir);
		g_ptr_array_add(config->sources, g_ptr_array_steal_index(defaults->sources, 0));
	}

	struct stat st;
	gboolean is_private = stat(path, &st) == 0 && (st.st_mode & 0077) == 0;
	if (!check_sources(config, path, is_private, error))
		return NULL;
	return g_steal_pointer(&config);
}

gboolean config_tier_cadence(const Config *config, const char *name, gint64 *out_cadence_s)
{
	for (guint i = 0; name && i < config->tiers->len; i++) {
		const TierConfig *tier = g_ptr_array_index(config->tiers, i);
		if (g_ascii_strcasecmp(tier->name, name) == 0) {
			*out_cadence_s = tier->cadence_s;
			return TRUE;
		}
	}
	return FALSE;
}

const SourceConfig *config_find_source(const Config *config, const char *name)
{
	for (guint i = 0; i < config->sources->len; i++) {
		const SourceConfig *source = g_ptr_array_index(config->sources, i);
		if (strcmp(source->name, name) == 0)
			return source;
	}
	return NULL;
}

const char *source_type_name(SourceType type)
{
	switch (type) {
	case SOURCE_TYPE_VCARD:
		return "vcard";
	case SOURCE_TYPE_CARDDAV:
		return "carddav";
	case SOURCE_TYPE_LINKEDIN:
		return "linkedin";
	}
	return "unknown";
}

char *config_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "ties", "ties.conf", NULL);
}

char *config_default_database(void)
{
	return g_build_filename(g_get_user_data_dir(), "ties", "ties.db", NULL);
}

char *config_default_vdir(void)
{
	return g_build_filename(g_get_user_data_dir(), "contacts", NULL);
}
