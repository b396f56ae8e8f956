/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* Durations as users write them: "90d", "2w", "12h", "30m", "45s", and
 * sums of them ("1w2d"). Units: s, m(in), h, d, w, y (365 days). */
gboolean duration_parse(const char *text, gint64 *out_seconds, GError **error);

/* The shortest exact form: 7776000 -> "90d", 1209600 -> "2w". */
char *duration_format(gint64 seconds);

/* Rounded, for people: "3 days", "8 months", "2 years". */
char *duration_format_human(gint64 seconds);

/* A date or time as users type it: "2025-01-10", "2025-01-10 14:30",
 * "2025-01-10T14:30:00", RFC 3339 with offset or Z, or "now"; dates without
 * an offset are local time. Returns Unix time. */
gboolean date_parse(const char *text, gint64 *out_unix, GError **error);

/* "2025-01-10T05:30:00Z" */
char *date_format_utc(gint64 unix_time);
/* Parses date_format_utc() output (any RFC 3339 really). */
gboolean date_parse_utc(const char *text, gint64 *out_unix);

/* "HH:MM" -> minutes after midnight. */
gboolean clock_parse(const char *text, int *out_minutes);
