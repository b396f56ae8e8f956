/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>

#include <gio/gio.h>

#include "duration.h"

static void test_parse(void)
{
	static const struct {
		const char *text;
		gint64 seconds;
	} good[] = {
		{ "90d", 90 * 86400 }, { "2w", 14 * 86400 }, { "12h", 12 * 3600 }, { "30m", 1800 },
		{ "30min", 1800 },     { "45s", 45 },        { "1y", 365 * 86400 }, { "1w2d", 9 * 86400 },
		{ "0s", 0 },
	};
	static const char *const bad[] = { "", "d", "90", "90x", "-1d", "1.5d", "90 d", "d90", "99999999999999999999d", "1y1y9999999y" };

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		gint64 seconds = -1;
		g_autoptr(GError) error = NULL;
		g_assert_true(duration_parse(good[i].text, &seconds, &error));
		g_assert_no_error(error);
		g_assert_cmpint(seconds, ==, good[i].seconds);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		gint64 seconds = 42;
		g_autoptr(GError) error = NULL;
		g_assert_false(duration_parse(bad[i], &seconds, &error));
		g_assert_nonnull(error);
		g_assert_cmpint(seconds, ==, 42);
	}
}

static void test_format(void)
{
	static const struct {
		gint64 seconds;
		const char *exact, *human;
	} cases[] = {
		{ 90 * 86400, "90d", "3 months" }, { 14 * 86400, "2w", "2 weeks" }, { 3600, "1h", "1 hour" },
		{ 86400, "1d", "1 day" },          { 365 * 86400, "1y", "1 year" }, { 61, "61s", "1 minute" },
		{ 240 * 86400, "240d", "8 months" }, { 3 * 86400, "3d", "3 days" }, { 5, "5s", "moments" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *exact = duration_format(cases[i].seconds);
		g_autofree char *human = duration_format_human(cases[i].seconds);
		g_assert_cmpstr(exact, ==, cases[i].exact);
		g_assert_cmpstr(human, ==, cases[i].human);
	}
}

static void test_dates(void)
{
	gint64 t;
	g_autoptr(GError) error = NULL;

	g_setenv("TZ", "Asia/Tokyo", TRUE);
	g_assert_true(date_parse("2025-01-10", &t, NULL));
	g_assert_cmpint(t, ==, 1736434800); /* 2025-01-10T00:00+09:00 */
	g_assert_true(date_parse("2025-01-10 14:30", &t, NULL));
	g_assert_cmpint(t, ==, 1736434800 + 14 * 3600 + 1800);
	g_assert_true(date_parse("2025-01-10T14:30:15", &t, NULL));
	g_assert_cmpint(t, ==, 1736434800 + 14 * 3600 + 1815);
	g_assert_true(date_parse("2025-01-10T05:30:00Z", &t, NULL));
	g_assert_cmpint(t, ==, 1736487000);
	g_assert_true(date_parse("2025-01-10T14:30:00+09:00", &t, NULL));
	g_assert_cmpint(t, ==, 1736487000);
	g_assert_false(date_parse("2025-02-30", &t, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
	g_assert_false(date_parse("yesterday", &t, NULL));
	g_assert_false(date_parse("2025-01-10 25:00", &t, NULL));

	g_autofree char *text = date_format_utc(1736487000);
	g_assert_cmpstr(text, ==, "2025-01-10T05:30:00Z");
	g_assert_true(date_parse_utc(text, &t));
	g_assert_cmpint(t, ==, 1736487000);
}

static void test_clock(void)
{
	int minutes;
	g_assert_true(clock_parse("21:00", &minutes));
	g_assert_cmpint(minutes, ==, 1260);
	g_assert_true(clock_parse("9:05", &minutes));
	g_assert_cmpint(minutes, ==, 545);
	g_assert_false(clock_parse("24:01", &minutes));
	g_assert_false(clock_parse("12:60", &minutes));
	g_assert_false(clock_parse("noon", &minutes));
	g_assert_false(clock_parse("12:00x", &minutes));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/duration/parse", test_parse);
	g_test_add_func("/duration/format", test_format);
	g_test_add_func("/duration/dates", test_dates);
	g_test_add_func("/duration/clock", test_clock);
	return g_test_run();
}
