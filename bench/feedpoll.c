/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdio.h>

#include "feeds.h"
#include "http.h"
#include "jobpost.h"
#include "log.h"
#include "store.h"

/* The benchmark's driver of the feed poller (bench/feeds.sh): adds the
 * URLs of URLS_FILE (one a line) to the store DB unless there already,
 * polls every feed once on the daemon's modules (one HTTP engine, the
 * store, the parser and classifier), and prints the counts.
 * Usage: feedpoll DB URLS_FILE RULES_FILE */

static GMainLoop *loop;

static void on_done(const FeedPollCounts *counts, gpointer user_data)
{
	printf("feeds %u new_items %u not_modified %u errors %u events %u\n", counts->feeds, counts->new_items,
	       counts->not_modified, counts->errors, counts->events);
	g_main_loop_quit(loop);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *urls = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: feedpoll DB URLS_FILE RULES_FILE\n");
		return 2;
	}
	log_set_max_priority(LOG_WARNING);
	g_autoptr(Store) store = store_open(argv[1], &error);
	g_autoptr(JobpostRules) rules = jobpost_rules_new();
	if (!store || !g_file_get_contents(argv[2], &urls, NULL, &error) ||
	    !jobpost_rules_load_file(rules, argv[3], &error)) {
		fprintf(stderr, "feedpoll: %s\n", error->message);
		return 1;
	}
	HttpEngine *http = http_engine_new(NULL);
	FeedPoller *poller = feed_poller_new(store, http, rules);
	g_auto(GStrv) lines = g_strsplit(urls, "\n", -1);
	for (char **line = lines; *line; line++)
		if (**line && !feed_poller_add(poller, *line, 0, "opml", &error)) {
			fprintf(stderr, "feedpoll: %s\n", error->message);
			return 1;
		}
	loop = g_main_loop_new(NULL, FALSE);
	feed_poller_poll_all(poller, NULL, on_done, NULL);
	g_main_loop_run(loop);
	feed_poller_free(poller);
	http_engine_free(http);
	g_main_loop_unref(loop);
	return 0;
}
