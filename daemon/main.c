/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "feed.h"
#include "jobpost.h"
#include "linkedin.h"
#include "log.h"
#include "loop.h"
#include "protocol.h"
#include "vcard.h"

static void print_json(JsonNode *node)
{
	g_autoptr(JsonGenerator) generator = json_generator_new();
	json_generator_set_pretty(generator, TRUE);
	json_generator_set_root(generator, node);
	g_autofree char *text = json_generator_to_data(generator, NULL);
	printf("%s\n", text);
}

/* `tiesd --parse=KIND FILE`: what the store would receive, as JSON. */
static int parse_only(const char *kind, const char *path, const char *base_url)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	if (strcmp(kind, "vcard") == 0) {
		g_autoptr(VcardResult) result = vcard_result_new();
		if (!vcard_parse_path(path, result, &error))
			goto fail;
		node = vcard_result_to_json(result);
	} else if (strcmp(kind, "linkedin") == 0) {
		g_autoptr(LinkedinExport) export = linkedin_export_new();
		if (!linkedin_parse_path(path, export, &error))
			goto fail;
		node = linkedin_export_to_json(export);
	} else if (strcmp(kind, "feed") == 0) {
		g_autofree char *data = NULL;
		gsize len;
		g_autoptr(JobpostRules) rules = jobpost_rules_load_default();
		if (!g_file_get_contents(path, &data, &len, &error))
			goto fail;
		g_autoptr(FeedDocument) doc = feed_parse_full(data, len, path, base_url, NULL, rules, &error);
		if (!doc)
			goto fail;
		node = feed_document_to_json(doc);
	} else {
		fprintf(stderr, "tiesd: --parse takes vcard, feed or linkedin, not \"%s\"\n", kind);
		return 2;
	}
	print_json(node);
	return 0;

fail:
	fprintf(stderr, "tiesd: %s: %s\n", path, error->message);
	return 1;
}

int main(int argc, char **argv)
{
	g_autofree char *config_path = NULL, *database = NULL, *socket_path = NULL, *parse = NULL, *base_url = NULL;
	gboolean debug = FALSE, version = FALSE;
	g_auto(GStrv) rest = NULL;
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "PATH" },
		{ "database", 0, 0, G_OPTION_ARG_FILENAME, &database, "SQLite database", "PATH" },
		{ "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path, "Control socket (when not socket-activated)", "PATH" },
		{ "parse", 0, 0, G_OPTION_ARG_STRING, &parse, "Parse FILE as vcard, feed or linkedin, print JSON, and exit", "KIND" },
		{ "base-url", 0, 0, G_OPTION_ARG_STRING, &base_url, "With --parse=feed: the address the feed came from", "URL" },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log debug messages", NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, "[FILE]" },
		{ NULL },
	};
	g_autoptr(GOptionContext) context = g_option_context_new("- keep your weak ties alive");
	g_autoptr(GError) error = NULL;

	setlocale(LC_ALL, "");
	g_option_context_add_main_entries(context, entries, NULL);
	g_option_context_set_summary(context, "tiesd watches address books and feeds and nudges you to stay in touch.\n"
					      "Steer it with tiesctl(1).");
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "tiesd: %s\n", error->message);
		return 2;
	}
	if (version) {
		printf("tiesd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (parse) {
		if (!rest || !rest[0] || rest[1]) {
			fprintf(stderr, "tiesd: --parse=%s needs exactly one FILE\n", parse);
			return 2;
		}
		return parse_only(parse, rest[0], base_url);
	}
	if (rest && rest[0]) {
		fprintf(stderr, "tiesd: unexpected argument \"%s\"\n", rest[0]);
		return 2;
	}
	if (debug)
		log_set_max_priority(LOG_DEBUG);

	Tiesd tiesd = { 0 };
	tiesd.config_path = config_path ? g_steal_pointer(&config_path) : config_default_path();
	tiesd.database_path = database ? g_steal_pointer(&database) : config_default_database();
	tiesd.socket_path = socket_path ? g_steal_pointer(&socket_path) : protocol_default_socket();
	tiesd.default_vdir = config_default_vdir();

	Config *config = config_load(tiesd.config_path, tiesd.default_vdir, &error);
	if (!config) {
		log_error("%s", error->message);
		tiesd_stop(&tiesd);
		return 1;
	}
	if (!tiesd_start(&tiesd, config, &error)) {
		log_error("%s", error->message);
		tiesd_stop(&tiesd);
		return 1;
	}
	log_info("tiesd %s started (database %s, config %s)", PACKAGE_VERSION, tiesd.database_path, tiesd.config_path);
	tiesd_run(&tiesd);
	tiesd_stop(&tiesd);
	return 0;
}
