/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "conf.h"
#include "nudge.h"
#include "store.h"

#define DAY G_GINT64_CONSTANT(86400)
#define NOW G_GINT64_CONSTANT(1750000000)

static StoreContact *contact_new(gint64 id, const char *name)
{
	StoreContact *contact = g_new0(StoreContact, 1);
	contact->id = id;
	contact->name = g_strdup(name);
	contact->emails = g_ptr_array_new_with_free_func(g_free);
	contact->urls = g_ptr_array_new_with_free_func(g_free);
	contact->categories = g_ptr_array_new_with_free_func(g_free);
	contact->first_seen = NOW - 400 * DAY;
	return contact;
}

static void add_category(StoreContact *contact, const char *category)
{
	g_ptr_array_add(contact->categories, g_strdup(category));
}

/* ---- cadence ---- */

static void test_cadence_precedence(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(1, "Alice");
	Cadence cadence;

	config->default_cadence_s = 100 * DAY; /* unlike any tier */

	/* nothing set: the default */
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 100 * DAY);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_DEFAULT);
	g_assert_null(cadence.tier);
	g_assert_cmpstr(cadence_origin_name(cadence.origin), ==, "default");

	/* categories that name no tier change nothing */
	add_category(contact, "Friends");
	add_category(contact, "");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 100 * DAY);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_DEFAULT);

	/* a category naming a tier, in any case */
	add_category(contact, "WEAK");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 180 * DAY);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_CATEGORY);
	g_assert_cmpstr(cadence.tier, ==, "WEAK");
	g_assert_cmpstr(cadence_origin_name(cadence.origin), ==, "category");

	/* the contact's tier beats the category */
	contact->tier = g_strdup("Close");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 30 * DAY);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_CONTACT);
	g_assert_cmpstr(cadence.tier, ==, "Close");
	g_assert_cmpstr(cadence_origin_name(cadence.origin), ==, "contact");

	/* and the contact's own duration beats everything */
	contact->cadence_s = 12 * DAY;
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 12 * DAY);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_CONTACT);
	g_assert_null(cadence.tier);
}

static void test_cadence_first_category_wins(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(1, "Alice");
	Cadence cadence;

	add_category(contact, "colleagues");
	add_category(contact, "yearly");
	add_category(contact, "close");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.seconds, ==, 365 * DAY);
	g_assert_cmpstr(cadence.tier, ==, "yearly");
}

/* A tier the config no longer has falls back to the categories. */
static void test_cadence_unknown_contact_tier(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(1, "Alice");
	Cadence cadence;

	contact->tier = g_strdup("removed-tier");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_DEFAULT);
	g_assert_cmpint(cadence.seconds, ==, 180 * DAY);
	add_category(contact, "regular");
	nudge_cadence(config, contact, &cadence);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_CATEGORY);
	g_assert_cmpint(cadence.seconds, ==, 90 * DAY);
}

static void test_cadence_never(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) by_tier = contact_new(1, "Alice");
	g_autoptr(StoreContact) by_category = contact_new(2, "Bob");
	Cadence cadence;

	by_tier->tier = g_strdup("never");
	nudge_cadence(config, by_tier, &cadence);
	g_assert_cmpint(cadence.seconds, ==, CONFIG_CADENCE_NEVER);
	g_assert_cmpint(nudge_due(by_tier, &cadence), ==, 0);

	add_category(by_category, "Never");
	nudge_cadence(config, by_category, &cadence);
	g_assert_cmpint(cadence.seconds, ==, CONFIG_CADENCE_NEVER);
	g_assert_cmpint(cadence.origin, ==, CADENCE_FROM_CATEGORY);
	g_assert_cmpint(nudge_due(by_category, &cadence), ==, 0);
	g_assert_cmpint(nudge_jitter(2, CONFIG_CADENCE_NEVER), ==, 0);
}

/* ---- the silence clock ---- */

static void test_silence_since(void)
{
	g_autoptr(StoreContact) contact = contact_new(1, "Alice");

	contact->first_seen = 1000;
	g_assert_cmpint(nudge_silence_since(contact), ==, 1000);
	contact->connected_on = 500;
	g_assert_cmpint(nudge_silence_since(contact), ==, 500);
	contact->last_interaction = 2000;
	g_assert_cmpint(nudge_silence_since(contact), ==, 2000);
	/* an interaction older than the connection still wins: it is known */
	contact->last_interaction = 100;
	g_assert_cmpint(nudge_silence_since(contact), ==, 100);
}

static void test_jitter(void)
{
	const gint64 cadences[] = { 180 * DAY, 30 * DAY, 10 * DAY, 2 * DAY, 100, 10 };
	g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	g_autoptr(GArray) values = g_array_new(FALSE, FALSE, sizeof(gint64));

	for (gsize c = 0; c < G_N_ELEMENTS(cadences); c++) {
		gint64 span = MIN(cadences[c] / 10, 3 * DAY);
		for (gint64 id = 1; id <= 1000; id++) {
			gint64 j = nudge_jitter(id, cadences[c]);
			g_assert_cmpint(j, >=, 0);
			g_assert_cmpint(j, <, span);
			g_assert_cmpint(j, ==, nudge_jitter(id, cadences[c])); /* fixed per contact */
		}
	}
	/* large ids too */
	g_assert_cmpint(nudge_jitter(G_GINT64_CONSTANT(1) << 40, 180 * DAY), <, 3 * DAY);
	g_assert_cmpint(nudge_jitter(G_MAXINT64, 180 * DAY), >=, 0);

	/* too short a cadence for any */
	g_assert_cmpint(nudge_jitter(7, 9), ==, 0);
	g_assert_cmpint(nudge_jitter(7, 0), ==, 0);

	/* contacts imported together spread out */
	for (gint64 id = 1; id <= 100; id++) {
		gint64 j = nudge_jitter(id, 180 * DAY);
		g_array_append_val(values, j);
	}
	for (guint i = 0; i < values->len; i++)
		g_hash_table_add(seen, &g_array_index(values, gint64, i));
	g_assert_cmpuint(g_hash_table_size(seen), >, 10);
	gint64 lo = G_MAXINT64, hi = G_MININT64;
	for (guint i = 0; i < values->len; i++) {
		lo = MIN(lo, g_array_index(values, gint64, i));
		hi = MAX(hi, g_array_index(values, gint64, i));
	}
	g_assert_cmpint(hi - lo, >, DAY); /* over most of the three days */
}

static void test_due(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(17, "Alice");
	Cadence cadence;

	contact->first_seen = NOW - 400 * DAY;
	contact->last_interaction = NOW - 10 * DAY;
	nudge_cadence(config, contact, &cadence);
	gint64 due = nudge_due(contact, &cadence);
	g_assert_cmpint(due, ==, NOW - 10 * DAY + 180 * DAY + nudge_jitter(17, 180 * DAY));
	g_assert_cmpint(due, >=, NOW + 170 * DAY);
	g_assert_cmpint(due, <, NOW + 173 * DAY);

	/* an interaction moves it */
	contact->last_interaction = NOW;
	g_assert_cmpint(nudge_due(contact, &cadence), ==, due + 10 * DAY);
}

/* ---- quiet hours ---- */

static gboolean quiet_at(const Config *config, int hour, int minute)
{
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Asia/Tokyo");
	g_assert_nonnull(tz);
	g_autoptr(GDateTime) local = g_date_time_new(tz, 2025, 1, 15, hour, minute, 30);
	return nudge_quiet_at(config, local);
}

static void test_quiet_overnight(void)
{
	g_autoptr(Config) config = config_new_default(NULL); /* 21:00-09:00 */

	g_assert_false(quiet_at(config, 20, 59));
	g_assert_true(quiet_at(config, 21, 0));
	g_assert_true(quiet_at(config, 23, 59));
	g_assert_true(quiet_at(config, 0, 0));
	g_assert_true(quiet_at(config, 3, 0));
	g_assert_true(quiet_at(config, 8, 59));
	g_assert_false(quiet_at(config, 9, 0));
	g_assert_false(quiet_at(config, 12, 0));
}

static void test_quiet_daytime(void)
{
	g_autoptr(Config) config = config_new_default(NULL);

	config->quiet_start_min = 13 * 60;
	config->quiet_end_min = 14 * 60;
	g_assert_false(quiet_at(config, 12, 59));
	g_assert_true(quiet_at(config, 13, 0));
	g_assert_true(quiet_at(config, 13, 59));
	g_assert_false(quiet_at(config, 14, 0));
	g_assert_false(quiet_at(config, 3, 0));
	g_assert_false(quiet_at(config, 22, 0));
}

static void test_quiet_off(void)
{
	g_autoptr(Config) config = config_new_default(NULL);

	config->quiet_hours = FALSE;
	for (int hour = 0; hour < 24; hour++)
		g_assert_false(quiet_at(config, hour, 0));
}

static gint64 unix_at(GTimeZone *tz, int y, int mo, int d, int h, int mi, int s)
{
	g_autoptr(GDateTime) dt = g_date_time_new(tz, y, mo, d, h, mi, s);
	g_assert_nonnull(dt);
	return g_date_time_to_unix(dt);
}

static gint64 quiet_end(const Config *config, GTimeZone *tz, int y, int mo, int d, int h, int mi, int s)
{
	g_autoptr(GDateTime) local = g_date_time_new(tz, y, mo, d, h, mi, s);
	g_assert_nonnull(local);
	return nudge_quiet_end(config, local);
}

static void test_quiet_end(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Asia/Tokyo");

	g_assert_nonnull(tz);
	/* in the evening: tomorrow morning */
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 15, 22, 30, 15), ==, unix_at(tz, 2025, 1, 16, 9, 0, 0));
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 15, 21, 0, 0), ==, unix_at(tz, 2025, 1, 16, 9, 0, 0));
	/* after midnight: this morning */
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 16, 3, 0, 0), ==, unix_at(tz, 2025, 1, 16, 9, 0, 0));
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 16, 8, 59, 59), ==, unix_at(tz, 2025, 1, 16, 9, 0, 0));
	/* over a month's end */
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 31, 23, 0, 0), ==, unix_at(tz, 2025, 2, 1, 9, 0, 0));

	config->quiet_start_min = 13 * 60;
	config->quiet_end_min = 14 * 60;
	g_assert_cmpint(quiet_end(config, tz, 2025, 1, 15, 13, 30, 0), ==, unix_at(tz, 2025, 1, 15, 14, 0, 0));
}

/* The end of the night's quiet hours when the clocks change that night:
 * 09:00 local is 10 hours after 22:00 in spring and 12 in autumn. */
static void test_quiet_end_dst(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(GTimeZone) tz = g_time_zone_new_identifier("Europe/Berlin");

	if (!tz) {
		g_test_skip("no Europe/Berlin time zone data");
		return;
	}
	static const struct {
		int month, day;
	} nights[] = { { 3, 29 }, { 10, 25 } };
	for (gsize i = 0; i < G_N_ELEMENTS(nights); i++) {
		gint64 got = quiet_end(config, tz, 2025, nights[i].month, nights[i].day, 22, 0, 0);
		gint64 want = unix_at(tz, 2025, nights[i].month, nights[i].day + 1, 9, 0, 0);
		if (got != want) {
			g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(got);
			g_autoptr(GDateTime) local = g_date_time_to_timezone(dt, tz);
			g_autofree char *text = g_date_time_format(local, "%F %T %Z");
			g_test_fail_printf("regression (daemon/nudge.c nudge_quiet_end): from 2025-%02d-%02d 22:00 Europe/Berlin "
					   "the quiet hours 21:00-09:00 end at %s, expected 09:00 local; it adds minutes "
					   "to Unix time, which is off by the DST change of that night",
					   nights[i].month, nights[i].day, text);
			return;
		}
	}
}

/* ---- ranking ---- */

static NudgeRank rank(gint64 id, int kind_order, gboolean known, gboolean same_org, double overdue, gint64 cadence_s)
{
	return (NudgeRank){ kind_order, known, same_org, overdue, cadence_s, id };
}

static void assert_before(NudgeRank a, NudgeRank b)
{
	g_assert_cmpint(nudge_rank_compare(&a, &b), <, 0);
	g_assert_cmpint(nudge_rank_compare(&b, &a), >, 0);
}

static void test_kind_order(void)
{
	g_assert_cmpint(nudge_kind_order("job-change"), <, nudge_kind_order("new-role"));
	g_assert_cmpint(nudge_kind_order("new-role"), <, nudge_kind_order("silence"));
	g_assert_cmpint(nudge_kind_order("job-change"), ==, 0);
	g_assert_cmpint(nudge_kind_order("silence"), ==, 2);
	g_assert_cmpint(nudge_kind_order(NULL), ==, 2);
}

static void test_rank_pairs(void)
{
	/* a job change beats a long silence */
	assert_before(rank(1, 0, FALSE, TRUE, 0.0, 30 * DAY), rank(2, 2, TRUE, FALSE, 5.0, 365 * DAY));
	assert_before(rank(1, 1, TRUE, FALSE, 0.0, 90 * DAY), rank(2, 2, TRUE, FALSE, 1.0, 90 * DAY));
	/* known history before none */
	assert_before(rank(2, 2, TRUE, FALSE, 0.5, 90 * DAY), rank(1, 2, FALSE, FALSE, 0.5, 90 * DAY));
	/* outside the user's company before inside */
	assert_before(rank(2, 2, TRUE, FALSE, 0.5, 90 * DAY), rank(1, 2, TRUE, TRUE, 0.5, 90 * DAY));
	/* more overdue first */
	assert_before(rank(2, 2, TRUE, FALSE, 1.5, 90 * DAY), rank(1, 2, TRUE, FALSE, 0.2, 90 * DAY));
	/* equally overdue: the weaker tie first */
	assert_before(rank(2, 2, TRUE, FALSE, 0.5, 365 * DAY), rank(1, 2, TRUE, FALSE, 0.5, 30 * DAY));
	/* all equal: by id, stable */
	assert_before(rank(1, 2, TRUE, FALSE, 0.5, 90 * DAY), rank(2, 2, TRUE, FALSE, 0.5, 90 * DAY));
	NudgeRank same = rank(3, 2, TRUE, FALSE, 0.5, 90 * DAY);
	g_assert_cmpint(nudge_rank_compare(&same, &same), ==, 0);
}

static int compare_ranks(const void *a, const void *b)
{
	return nudge_rank_compare(a, b);
}

static void test_rank_sort(void)
{
	NudgeRank ranks[] = {
		rank(4, 2, FALSE, FALSE, 5.0, 90 * DAY),  /* long silence, nothing on record */
		rank(7, 2, TRUE, FALSE, 0.5, 90 * DAY),   /* silence */
		rank(5, 2, TRUE, TRUE, 9.0, 90 * DAY),    /* silence at the user's company */
		rank(3, 2, TRUE, FALSE, 0.5, 365 * DAY),  /* as 7, a weaker tie */
		rank(6, 1, FALSE, TRUE, 0.0, 90 * DAY),   /* new role */
		rank(2, 2, TRUE, FALSE, 2.0, 30 * DAY),   /* very overdue */
		rank(1, 0, TRUE, FALSE, 0.1, 90 * DAY),   /* job change */
	};
	const gint64 expected[] = { 1, 6, 2, 3, 7, 5, 4 };

	qsort(ranks, G_N_ELEMENTS(ranks), sizeof ranks[0], compare_ranks);
	for (gsize i = 0; i < G_N_ELEMENTS(ranks); i++)
		g_assert_cmpint(ranks[i].id, ==, expected[i]);
}

/* ---- what the notification says ---- */

static void test_summary(void)
{
	g_autoptr(StoreContact) contact = contact_new(1, "山田 太郎");
	g_autofree char *summary = nudge_summary(contact);

	g_assert_cmpstr(summary, ==, "Reach out to 山田 太郎");
}

static void test_body(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(1, "山田 太郎");
	Cadence cadence;

	contact->org = g_strdup("株式会社ABC");
	contact->title = g_strdup("部長");
	contact->last_interaction = NOW - 240 * DAY;
	nudge_cadence(config, contact, &cadence);
	g_autofree char *body = nudge_body(contact, &cadence, NOW);
	g_assert_nonnull(strstr(body, "株式会社ABC"));
	g_assert_nonnull(strstr(body, "last contact 8 months ago"));
	g_assert_nonnull(strstr(body, "180d"));
	g_assert_cmpstr(body, ==, "部長, 株式会社ABC · last contact 8 months ago · cadence 180d");

	/* a tier is named */
	contact->tier = g_strdup("close");
	nudge_cadence(config, contact, &cadence);
	g_autofree char *tiered = nudge_body(contact, &cadence, NOW);
	g_assert_cmpstr(tiered, ==, "部長, 株式会社ABC · last contact 8 months ago · cadence 30d (close)");

	/* without a title, without an org */
	g_clear_pointer(&contact->title, g_free);
	g_autofree char *no_title = nudge_body(contact, &cadence, NOW);
	g_assert_cmpstr(no_title, ==, "株式会社ABC · last contact 8 months ago · cadence 30d (close)");
	g_clear_pointer(&contact->org, g_free);
	g_autofree char *no_org = nudge_body(contact, &cadence, NOW);
	g_assert_cmpstr(no_org, ==, "last contact 8 months ago · cadence 30d (close)");
}

static void test_body_no_interaction(void)
{
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = contact_new(1, "Ken Suzuki");
	Cadence cadence;

	contact->first_seen = NOW - 400 * DAY;
	nudge_cadence(config, contact, &cadence);
	g_autofree char *body = nudge_body(contact, &cadence, NOW);
	g_assert_null(strstr(body, "last contact"));
	g_assert_cmpstr(body, ==, "no contact on record (known for 1 year) · cadence 180d");

	/* LinkedIn's "Connected On" is when it started */
	contact->connected_on = NOW - 3 * 365 * DAY;
	g_autofree char *connected = nudge_body(contact, &cadence, NOW);
	g_assert_cmpstr(connected, ==, "no contact on record (known for 3 years) · cadence 180d");
}

/* 山田 太郎, 部長 at 株式会社ABC, last met 240 days ago, who joined it 2 days ago. */
static StoreContact *yamada_joined_abc(const Config *config, Cadence *cadence, StoreNudge *nudge)
{
	StoreContact *contact = contact_new(1, "山田 太郎");

	contact->org = g_strdup("株式会社ABC");
	contact->title = g_strdup("部長");
	contact->last_interaction = NOW - 240 * DAY;
	nudge_cadence(config, contact, cadence);
	*nudge = (StoreNudge){ 0 };
	nudge->kind = (char *)"job-change";
	nudge->detail = (char *)"Joined 株式会社ABC as 部長";
	nudge->event_at = NOW - 2 * DAY;
	return contact;
}

/* SPEC §5: "Joined 株式会社ABC as 部長 2 days ago · last contact 8 months ago" */
static void test_describe_job_change(void)
{
	StoreNudge nudge;
	Cadence cadence;
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = yamada_joined_abc(config, &cadence, &nudge);

	g_autofree char *body = nudge_describe(contact, &cadence, &nudge, NULL, NOW);
	g_assert_cmpstr(body, ==, "Joined 株式会社ABC as 部長 2 days ago · last contact 8 months ago");

	contact->last_interaction = 0;
	g_autofree char *unknown = nudge_describe(contact, &cadence, &nudge, NULL, NOW);
	g_assert_cmpstr(unknown, ==, "Joined 株式会社ABC as 部長 2 days ago · no contact on record");

	/* a silence reads as nudge_body() */
	contact->last_interaction = NOW - 240 * DAY;
	nudge.kind = (char *)"silence";
	nudge.detail = (char *)"no contact for 8 months (cadence 180d)";
	g_autofree char *silence = nudge_describe(contact, &cadence, &nudge, NULL, NOW);
	g_autofree char *plain = nudge_body(contact, &cadence, NOW);
	g_assert_cmpstr(silence, ==, plain);
}

/* SPEC §5: "… · wrote 「…」 3 days ago", once, and cut when long. */
static void test_describe_topic(void)
{
	StoreNudge nudge;
	StorePost post = { 0 };
	Cadence cadence;
	g_autoptr(Config) config = config_new_default(NULL);
	g_autoptr(StoreContact) contact = yamada_joined_abc(config, &cadence, &nudge);

	post.title = (char *)"京都の紅葉";
	post.published = NOW - 3 * DAY;
	g_autofree char *body = nudge_describe(contact, &cadence, &nudge, &post, NOW);
	g_assert_cmpstr(body, ==,
			"Joined 株式会社ABC as 部長 2 days ago · last contact 8 months ago · wrote 「京都の紅葉」 3 days ago");

	/* a job change read from the post itself does not name it twice */
	nudge.detail = (char *)"Wrote 「京都の紅葉」";
	g_autofree char *same = nudge_describe(contact, &cadence, &nudge, &post, NOW);
	g_assert_null(strstr(same, "wrote"));
	/* nor when its title is longer than the topic shows */
	post.title = (char *)"京都の紅葉を見に行った話、そして新しい職場のこと。長い週末の記録として残しておきたいと思います";
	nudge.detail = (char *)"Wrote 「京都の紅葉を見に行った話、そして新しい職場のこと。長い週末の記録として残しておきたいと思います」";
	g_autofree char *long_same = nudge_describe(contact, &cadence, &nudge, &post, NOW);
	g_assert_null(strstr(long_same, "wrote"));
	post.title = (char *)"京都の紅葉";

	/* an undated post counts from when it was first seen; long titles are cut */
	nudge.kind = (char *)"silence";
	post.published = 0;
	post.seen_at = NOW - 5 * DAY;
	post.title = (char *)"An unusually long title about distributed systems and tea ceremonies";
	g_autofree char *silence = nudge_describe(contact, &cadence, &nudge, &post, NOW);
	g_assert_true(g_str_has_suffix(silence, " · wrote 「An unusually long title about distribute…」 5 days ago"));
}

int main(int argc, char **argv)
{
	/* A known daemon bug fails its test; the others still run. */
	g_autofree char **args = g_new0(char *, argc + 2);
	memcpy(args, argv, sizeof *args * argc);
	args[argc++] = (char *)"--keep-going";
	g_test_init(&argc, &args, NULL);

	g_test_add_func("/nudge/cadence/precedence", test_cadence_precedence);
	g_test_add_func("/nudge/cadence/first-category", test_cadence_first_category_wins);
	g_test_add_func("/nudge/cadence/unknown-contact-tier", test_cadence_unknown_contact_tier);
	g_test_add_func("/nudge/cadence/never", test_cadence_never);
	g_test_add_func("/nudge/silence-since", test_silence_since);
	g_test_add_func("/nudge/jitter", test_jitter);
	g_test_add_func("/nudge/due", test_due);
	g_test_add_func("/nudge/quiet/overnight", test_quiet_overnight);
	g_test_add_func("/nudge/quiet/daytime", test_quiet_daytime);
	g_test_add_func("/nudge/quiet/off", test_quiet_off);
	g_test_add_func("/nudge/quiet/end", test_quiet_end);
	g_test_add_func("/nudge/rank/kind-order", test_kind_order);
	g_test_add_func("/nudge/rank/pairs", test_rank_pairs);
	g_test_add_func("/nudge/rank/sort", test_rank_sort);
	g_test_add_func("/nudge/text/summary", test_summary);
	g_test_add_func("/nudge/text/body", test_body);
	g_test_add_func("/nudge/text/body-no-interaction", test_body_no_interaction);
	g_test_add_func("/nudge/text/describe-job-change", test_describe_job_change);
	g_test_add_func("/nudge/text/describe-topic", test_describe_topic);
	/* last: a failure here ends the run */
	g_test_add_func("/nudge/regression/quiet-end-dst", test_quiet_end_dst);

	return g_test_run();
}
