/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "duration.h"

#define SECONDS_PER_DAY G_GINT64_CONSTANT(86400)
/* Ten thousand years: long enough for "never", short enough not to overflow. */
#define DURATION_MAX_SECONDS (SECONDS_PER_DAY * 365 * 10000)

static const struct {
	const char *suffix;
	gint64 seconds;
} duration_units[] = {
	{ "y", SECONDS_PER_DAY * 365 }, { "w", SECONDS_PER_DAY * 7 }, { "d", SECONDS_PER_DAY },
	{ "h", 3600 },                  { "min", 60 },               { "m", 60 },
	{ "s", 1 },
};

gboolean duration_parse(const char *text, gint64 *out_seconds, GError **error)
{
	const char *p = text;
	gint64 total = 0;

	if (!text || !*text)
		goto invalid;
	while (*p) {
		if (!g_ascii_isdigit(*p))
			goto invalid;
		char *end;
		errno = 0;
		guint64 n = g_ascii_strtoull(p, &end, 10);
		if (errno)
			goto invalid;
		p = end;
		gsize i;
		for (i = 0; i < G_N_ELEMENTS(duration_units); i++) {
			gsize len = strlen(duration_units[i].suffix);
			if (strncmp(p, duration_units[i].suffix, len) == 0 &&
			    !g_ascii_isalpha(p[len]))
				break;
		}
		if (i == G_N_ELEMENTS(duration_units))
			goto invalid;
		if (n > (guint64)(DURATION_MAX_SECONDS / duration_units[i].seconds))
			goto too_long;
		total += (gint64)n * duration_units[i].seconds;
		if (total > DURATION_MAX_SECONDS)
			goto too_long;
		p += strlen(duration_units[i].suffix);
	}
	*out_seconds = total;
	return TRUE;

invalid:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "invalid duration \"%s\" (expected a number and a unit, like 90d, 2w, 12h)",
		    text ? text : "");
	return FALSE;
too_long:
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "duration \"%s\" is too long", text);
	return FALSE;
}

char *duration_format(gint64 seconds)
{
	if (seconds == 0)
		return g_strdup("0s");
	for (gsize i = 0; i < G_N_ELEMENTS(duration_units); i++) {
		if (strcmp(duration_units[i].suffix, "min") == 0)
			continue;
		if (seconds % duration_units[i].seconds == 0)
			return g_strdup_printf("%" G_GINT64_FORMAT "%s",
					       seconds / duration_units[i].seconds,
					       duration_units[i].suffix);
	}
	return g_strdup_printf("%" G_GINT64_FORMAT "s", seconds);
}

char *duration_format_human(gint64 seconds)
{
	static const struct {
		gint64 seconds;
		const char *one, *many;
	} steps[] = {
		{ SECONDS_PER_DAY * 365, "year", "years" },
		{ SECONDS_PER_DAY * 30, "month", "months" },
		{ SECONDS_PER_DAY * 7, "week", "weeks" },
		{ SECONDS_PER_DAY, "day", "days" },
		{ 3600, "hour", "hours" },
		{ 60, "minute", "minutes" },
	};

	if (seconds < 0)
		seconds = -seconds;
	for (gsize i = 0; i < G_N_ELEMENTS(steps); i++) {
		gint64 n = seconds / steps[i].seconds;
		/* "8 months" rather than "35 weeks": switch unit at two of it,
		 * except years and days, which read well from one. */
		if (n >= 2 || (n == 1 && (i == 0 || steps[i].seconds <= SECONDS_PER_DAY)))
			return g_strdup_printf("%" G_GINT64_FORMAT " %s", n,
					       n == 1 ? steps[i].one : steps[i].many);
	}
	return g_strdup("moments");
}

gboolean date_parse(const char *text, gint64 *out_unix, GError **error)
{
	if (text && g_ascii_strcasecmp(text, "now") == 0) {
		*out_unix = g_get_real_time() / G_USEC_PER_SEC;
		return TRUE;
	}

	int y, mo, d, h = 0, mi = 0, s = 0, consumed = 0;
	if (text && sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &consumed) == 3) {
		const char *rest = text + consumed;
		g_autoptr(GTimeZone) local = g_time_zone_new_local();
		g_autoptr(GDateTime) dt = NULL;

		if (*rest == '\0') {
			dt = g_date_time_new(local, y, mo, d, 0, 0, 0);
		} else if (*rest == ' ' || *rest == 'T') {
			int n = 0;
			if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &n) == 2) {
				const char *tail = rest + 1 + n;
				if (*tail == ':' && sscanf(tail + 1, "%2d%n", &s, &n) == 1)
					tail += 1 + n;
				if (*tail == '\0')
					dt = g_date_time_new(local, y, mo, d, h, mi, s);
				else
					dt = g_date_time_new_from_iso8601(text, NULL);
			}
		}
		if (dt) {
			*out_unix = g_date_time_to_unix(dt);
			return TRUE;
		}
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "invalid date \"%s\" (expected YYYY-MM-DD, YYYY-MM-DD HH:MM or RFC 3339)",
		    text ? text : "");
	return FALSE;
}

char *date_format_utc(gint64 unix_time)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(unix_time);

	if (!dt)
		return g_strdup("1970-01-01T00:00:00Z");
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean date_parse_utc(const char *text, gint64 *out_unix)
{
	if (!text)
		return FALSE;
	g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(text, NULL);
	if (!dt)
		return FALSE;
	*out_unix = g_date_time_to_unix(dt);
	return TRUE;
}

gboolean clock_parse(const char *text, int *out_minutes)
{
	int h, m, n = 0;

	if (!text || sscanf(text, "%2d:%2d%n", &h, &m, &n) != 2 || text[n] != '\0' ||
	    h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return FALSE;
	*out_minutes = h * 60 + m;
	return TRUE;
}
