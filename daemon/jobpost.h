/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* Phrases that announce a move (入社しました, "my last day at") and
 * phrases that rule one out (転職市場, "we are hiring"), read from rules
 * files: the one shipped in PKGDATADIR, then the user's own.
 *
 * A rules file is UTF-8 text, one rule a line, "KIND: PHRASE":
 *   join: 入社しました       leave: my last day at
 *   move: 転職しました       exclude: 転職市場
 * join, leave and move announce a job change; exclude rules a post out.
 * Blank lines and lines starting with # are ignored. A phrase matches
 * anywhere in a post's title or text, compared after NFKC normalisation
 * and case folding, with runs of white space as one space and ’ as '.
 * In a phrase, * stands for up to 60 characters within the title or within
 * the text ("after * years at * leaving").
 *
 * A post announces a job change when its title holds a move phrase and no
 * exclude phrase, or else when its text holds a move phrase and neither
 * title nor text an exclude phrase: a "退職しました" post that ends with
 * "we are hiring" is still one, a post titled "転職活動のコツ" is not. */
typedef struct JobpostRules JobpostRules;

JobpostRules *jobpost_rules_new(void);
void jobpost_rules_free(JobpostRules *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(JobpostRules, jobpost_rules_free)

/* Adds the rules of one file. FALSE with an ERROR naming file and line on
 * a bad line; the rules read so far stay. A missing file is a
 * G_FILE_ERROR_NOENT error, which a caller may ignore for optional files. */
gboolean jobpost_rules_load_file(JobpostRules *rules, const char *path, GError **error);

/* As jobpost_rules_load_file(), from a string; NAME is what errors name. */
gboolean jobpost_rules_load_data(JobpostRules *rules, const char *data, gsize len,
				 const char *name, GError **error);

/* The shipped rules (PKGDATADIR/jobpost.rules), then the user's own
 * ($XDG_CONFIG_HOME/ties/jobpost.rules); a bad file is logged and skipped
 * from its bad line on. */
JobpostRules *jobpost_rules_load_default(void);

/* How many rules are loaded (for logging). */
guint jobpost_rules_count(const JobpostRules *rules);

/* TRUE when TITLE/TEXT (either may be NULL) announce a job change. */
gboolean jobpost_classify(const JobpostRules *rules, const char *title, const char *text);
