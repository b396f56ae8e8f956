/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#define CONFIG_CADENCE_NEVER G_GINT64_CONSTANT(-1)

typedef enum {
	SOURCE_TYPE_VCARD,
	SOURCE_TYPE_CARDDAV,
	SOURCE_TYPE_LINKEDIN,
} SourceType;

typedef struct {
	char *name;    /* the NAME of [source.NAME] */
	SourceType type;
	char *path;    /* vcard, linkedin: ~ expanded */
	char *url;     /* carddav */
	char *username;
	char *password;         /* inline; never logged */
	char *password_command;
	GStrv addressbooks;     /* carddav: the ones to read; NULL = all */
	gint64 interval_s;
	gint64 timeout_s;       /* carddav: each HTTP transfer; 0 = the engine's */
	guint line;             /* where the section starts, for messages */
} SourceConfig;

typedef struct {
	char *name;
	char *url;
	char *contact;
	gint64 interval_s;
	guint line;
} FeedConfig;

typedef struct {
	char *name;
	gint64 cadence_s; /* CONFIG_CADENCE_NEVER for "never" */
} TierConfig;

typedef struct {
	char *path;                 /* the file read; NULL for built-in defaults */
	gint64 default_cadence_s;   /* [ties] cadence */
	gboolean quiet_hours;       /* FALSE when "off" */
	int quiet_start_min, quiet_end_min; /* local minutes after midnight */
	int max_nudges_per_day;     /* 0 = no cap */
	char *organization;         /* the user's own company, for ranking */
	double hold_share;          /* a sync changing more than this share is held */
	GPtrArray *tiers;   /* TierConfig* */
	GPtrArray *sources; /* SourceConfig* */
	GPtrArray *feeds;   /* FeedConfig* */
	GPtrArray *warnings; /* char*: things worth saying that are no error */
} Config;

/* The configuration used when no file exists: the defaults of SPEC §8 and
 * one vcard source reading DEFAULT_VDIR (may be NULL for none). */
Config *config_new_default(const char *default_vdir);

/* Reads PATH. A missing file gives the defaults; a file without any
 * [source.*] section still gets the default vdir source. Any wrong section, key,
 * type or value fails with an ERROR of the form "FILE:LINE: key: why". */
Config *config_load(const char *path, const char *default_vdir, GError **error);
void config_free(Config *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Config, config_free)

/* The cadence of tier NAME (case-insensitive); FALSE when there is none. */
gboolean config_tier_cadence(const Config *config, const char *name, gint64 *out_cadence_s);

const SourceConfig *config_find_source(const Config *config, const char *name);
const char *source_type_name(SourceType type);

/* Where things live, from the XDG variables (SPEC §2). */
char *config_default_path(void);
char *config_default_database(void);
char *config_default_vdir(void);
