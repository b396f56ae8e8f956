/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "protocol.h"
#include "source.h"
#include "vcard.h"

/* --- helpers ------------------------------------------------------------- */

static const char *corpus_dir(void)
{
	const char *dir = g_getenv("CORPUS_DIR");
	return dir && *dir ? dir : CORPUS_DIR;
}

static char *corpus_path(const char *relative)
{
	return g_build_filename(corpus_dir(), "vcard", relative, NULL);
}

static char *data_path(const char *name)
{
	return g_build_filename(SRCDIR, "tests", "data", "vcard", name, NULL);
}

static VcardResult *parse_path(const char *path)
{
	VcardResult *result = vcard_result_new();
	g_autoptr(GError) error = NULL;

	if (!vcard_parse_path(path, result, &error))
		g_error("cannot parse %s: %s", path, error->message);
	return result;
}

static VcardResult *parse_corpus(const char *relative)
{
	g_autofree char *path = corpus_path(relative);
	return parse_path(path);
}

static VcardResult *parse_data(const char *name)
{
	g_autofree char *path = data_path(name);
	return parse_path(path);
}

static VcardResult *parse_string(const char *text)
{
	VcardResult *result = vcard_result_new();
	vcard_parse_buffer(text, strlen(text), "test.vcf", result);
	return result;
}

static const VcardContact *contact_at(const VcardResult *result, guint i)
{
	g_assert_cmpuint(i, <, result->contacts->len);
	return g_ptr_array_index(result->contacts, i);
}

static const ParseError *error_at(const VcardResult *result, guint i)
{
	g_assert_cmpuint(i, <, result->errors->len);
	return g_ptr_array_index(result->errors, i);
}

static void assert_counts(const VcardResult *result, guint contacts, guint errors)
{
	if (result->contacts->len != contacts || result->errors->len != errors) {
		for (guint i = 0; i < result->errors->len; i++) {
			const ParseError *e = error_at(result, i);
			g_printerr("  error %s:%u: %s\n", e->file, e->line, e->message);
		}
		g_error("%u contacts and %u errors, expected %u and %u", result->contacts->len, result->errors->len,
			contacts, errors);
	}
}

static void assert_list(const GPtrArray *list, ...)
{
	va_list ap;
	guint i = 0;
	const char *expected;

	va_start(ap, list);
	while ((expected = va_arg(ap, const char *))) {
		g_assert_cmpuint(i, <, list->len);
		g_assert_cmpstr(g_ptr_array_index(list, i), ==, expected);
		i++;
	}
	va_end(ap);
	g_assert_cmpuint(list->len, ==, i);
}

static void assert_name(const VcardContact *c, const char *family, const char *given, const char *additional,
			const char *prefix, const char *suffix)
{
	g_assert_cmpstr(c->n_family, ==, family);
	g_assert_cmpstr(c->n_given, ==, given);
	g_assert_cmpstr(c->n_additional, ==, additional);
	g_assert_cmpstr(c->n_prefix, ==, prefix);
	g_assert_cmpstr(c->n_suffix, ==, suffix);
}

static void assert_error(const VcardResult *result, guint i, const char *file_suffix, guint line, const char *words)
{
	const ParseError *e = error_at(result, i);

	g_assert_nonnull(e->file);
	if (!g_str_has_suffix(e->file, file_suffix))
		g_error("error names %s, expected …%s", e->file, file_suffix);
	g_assert_cmpuint(e->line, ==, line);
	if (!strstr(e->message, words))
		g_error("error \"%s\" does not say \"%s\"", e->message, words);
}

/* --- 1. the whole corpus ---------------------------------------------------- */

/* A card's fields as json-glib writes them: how the sources layer wrote
 * them before writing the text itself, so what earlier syncs stored and a
 * sync now compares with. */
static char *fields_by_json_glib(const VcardContact *c)
{
	g_autoptr(JsonObject) f = json_object_new();
	g_autoptr(GPtrArray) urls = g_ptr_array_new();
	g_autofree char *unit = NULL;
	const char *name = c->fn && *c->fn ? c->fn : c->org_name ? c->org_name
			 : c->emails->len ? g_ptr_array_index(c->emails, 0) : "(no name)";
	const char *lists[] = { "emails", "tels", "urls", "categories" };
	const GPtrArray *values[] = { c->emails, c->tels, urls, c->categories };
	const char *after[] = { "nickname", c->nickname, "bday", c->bday, "note", c->note, "uid", c->uid,
				"rev", c->rev };

	for (guint i = 0; i < c->urls->len; i++)
		g_ptr_array_add(urls, g_ptr_array_index(c->urls, i));
	for (guint i = 0; i < c->social_profiles->len; i++) {
		const VcardSocialProfile *profile = g_ptr_array_index(c->social_profiles, i);
		if (profile->uri)
			g_ptr_array_add(urls, profile->uri);
	}
	if (c->org_units->len) {
		g_autoptr(GPtrArray) units = g_ptr_array_new();
		for (guint i = 0; i < c->org_units->len; i++)
			g_ptr_array_add(units, g_ptr_array_index(c->org_units, i));
		g_ptr_array_add(units, NULL);
		unit = g_strjoinv(" / ", (char **) units->pdata);
	}
	json_object_set_string_member(f, "fn", name);
	json_set_string_or_null(f, "org", c->org_name);
	json_set_string_or_null(f, "unit", unit);
	json_set_string_or_null(f, "title", c->title);
	for (gsize l = 0; l < G_N_ELEMENTS(lists); l++)
		json_object_set_array_member(f, lists[l], json_array_from_strings(values[l]));
	for (gsize i = 0; i < G_N_ELEMENTS(after); i += 2)
		json_set_string_or_null(f, after[i], after[i + 1]);
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	json_node_set_object(node, f);
	return json_to_string(node, FALSE);
}

/* The records of PATH carry their fields as json-glib would write them. */
static void assert_fields_as_json_glib(const char *path, const VcardResult *result)
{
	g_autoptr(GPtrArray) records = NULL;
	g_autofree char *warnings = NULL;
	g_autoptr(GError) error = NULL;

	g_assert_true(vcard_source_read(path, &records, &warnings, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(records->len, ==, result->contacts->len);
	for (guint i = 0; i < records->len; i++) {
		const SourceRecord *record = g_ptr_array_index(records, i);
		g_autofree char *expected = fields_by_json_glib(g_ptr_array_index(result->contacts, i));
		g_assert_cmpstr(record->fields_text, ==, expected);
	}
}

typedef struct {
	guint files, contacts, errors;
} Tally;

static void parse_tree(const char *dir, Tally *tally)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
	g_assert_no_error(error);

	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(dir, g_ptr_array_index(names, i), NULL);
		if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
			parse_tree(path, tally);
			continue;
		}
		if (!g_str_has_suffix(path, ".vcf") && !g_str_has_suffix(path, ".txt") && !g_str_has_suffix(path, "ref"))
			continue;

		g_autoptr(VcardResult) result = vcard_result_new();
		g_autoptr(GError) parse_error = NULL;
		g_assert_true(vcard_parse_path(path, result, &parse_error));
		g_assert_no_error(parse_error);
		tally->files++;
		tally->contacts += result->contacts->len;
		tally->errors += result->errors->len;

		/* Every contact and error is well formed, and JSON can hold it. */
		for (guint k = 0; k < result->contacts->len; k++) {
			const VcardContact *c = contact_at(result, k);
			g_assert_cmpstr(c->file, ==, path);
			g_assert_cmpuint(c->line, >=, 1);
			g_assert_true(!c->fn || g_utf8_validate(c->fn, -1, NULL));
			g_assert_true(!c->note || g_utf8_validate(c->note, -1, NULL));
			g_assert_nonnull(c->emails);
			g_assert_nonnull(c->org_units);
		}
		for (guint k = 0; k < result->errors->len; k++) {
			const ParseError *e = error_at(result, k);
			g_assert_cmpstr(e->file, ==, path);
			g_assert_cmpuint(e->line, >=, 1);
		}
		g_autoptr(JsonNode) json = vcard_result_to_json(result);
		g_autofree char *text = json_to_string(json, FALSE);
		g_assert_true(g_utf8_validate(text, -1, NULL));
		assert_fields_as_json_glib(path, result);
	}
}

static void test_corpus_all(void)
{
	g_autofree char *dir = corpus_path(".");
	Tally tally = { 0 };

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
		g_error("no corpus at %s (set CORPUS_DIR or configure --with-corpus)", dir);
	parse_tree(dir, &tally);
	g_test_message("vcard corpus: %u files, %u cards, %u errors", tally.files, tally.contacts, tally.errors);
	g_assert_cmpuint(tally.files, >=, 290);
	g_assert_cmpuint(tally.contacts, >=, 1300);
}

/* --- 2. corpus files with known contents ---------------------------------- */

static void test_aosp_japanese(void)
{
	g_autoptr(VcardResult) one = parse_corpus("aosp-vcard/v21_japanese_1.vcf");
	assert_counts(one, 1, 0);
	const VcardContact *c = contact_at(one, 0);
	/* No FN: built from N. Shift_JIS decoded; the half-width reading made full-width. */
	g_assert_cmpstr(c->fn, ==, "安藤ロイド");
	assert_name(c, "安藤ロイド", NULL, NULL, NULL, NULL);
	g_assert_cmpstr(c->phonetic_family, ==, "アンドウロイド");
	g_assert_null(c->phonetic_given);
	g_assert_null(c->phonetic_full);
	assert_list(c->tels, "0300000000", NULL);
	g_assert_cmpuint(c->line, ==, 1);
	g_assert_cmpuint(c->index, ==, 0);

	g_autoptr(VcardResult) two = parse_corpus("aosp-vcard/v21_japanese_2.vcf");
	assert_counts(two, 1, 0);
	c = contact_at(two, 0);
	g_assert_cmpstr(c->fn, ==, "安藤 ロイド 1");
	assert_name(c, "安藤", "ロイド1", NULL, NULL, NULL);
	g_assert_cmpstr(c->phonetic_family, ==, "アンドウ");
	g_assert_cmpstr(c->phonetic_given, ==, "ロイド1");
	/* Shift_JIS in quoted-printable. */
	g_assert_cmpstr(c->note, ==, "メモ");

	g_autoptr(VcardResult) three = parse_corpus("aosp-vcard/v30_japanese.vcf");
	assert_counts(three, 1, 0);
	c = contact_at(three, 0);
	g_assert_cmpstr(c->fn, ==, "伊能 圭一 伊予");
	assert_name(c, "伊能", "圭一", "伊予", NULL, NULL);

	g_autoptr(VcardResult) many = parse_corpus("aosp-vcard/v21_multiple_entry.vcf");
	assert_counts(many, 3, 0);
	for (guint i = 0; i < 3; i++) {
		g_autofree char *fn = g_strdup_printf("安藤ロイド%u", i + 3);
		g_autofree char *reading = g_strdup_printf("アンドウロイド%u", i + 3);
		c = contact_at(many, i);
		g_assert_cmpstr(c->fn, ==, fn);
		g_assert_cmpstr(c->phonetic_family, ==, reading);
		g_assert_cmpuint(c->tels->len, ==, 4);
		g_assert_cmpuint(c->index, ==, i);
	}
	g_assert_cmpuint(contact_at(many, 1)->line, ==, 12);
}

static void test_aosp_escapes(void)
{
	g_autoptr(VcardResult) result = parse_corpus("aosp-vcard/v21_backslash.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);
	/* N:;A\;B\\;C\\\;;D;\:E;\\\\; */
	assert_name(c, NULL, "A;B\\", "C\\;", "D", ":E");
	g_assert_cmpstr(c->fn, ==, "A;B\\C;D:E\\");

	g_autoptr(VcardResult) adr = parse_corpus("aosp-vcard/v21_adr_multiple_line.vcf");
	/* a value going on after a trailing backslash is not three broken lines */
	assert_counts(adr, 1, 0);
	g_assert_cmpstr(contact_at(adr, 0)->bday, ==, "2008-12-03");
}

static void test_aosp_complicated(void)
{
	g_autoptr(VcardResult) result = parse_corpus("aosp-vcard/v21_complicated.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	g_assert_cmpstr(c->fn, ==, "Joe Due");
	assert_name(c, "Gump", "Forrest", "Hoge", "Pos", "Tao");
	g_assert_cmpstr(c->org_name, ==, "Gump Shrimp Co.");
	assert_list(c->org_units, "Sales Dept.;Manager", "Fish keeper", NULL);
	g_assert_cmpstr(c->title, ==, "Shrimp Man");
	assert_list(c->emails, "forrestgump@walladalla.com", "cell@example.com", NULL);
	g_assert_cmpuint(c->tels->len, ==, 5);
	/* two NOTEs; the second has quoted-printable soft breaks with indented lines */
	g_assert_cmpstr(c->note, ==,
			"The following note is the example from RFC 2045.\n"
			"Now's the time for all folk to come to the aid of their country.");
	g_assert_true(c->has_photo);
	g_assert_cmpstr(c->photo_mediatype, ==, "image/jpeg");
	g_assert_cmpuint(c->photo_bytes, ==, 3888);
	g_assert_cmpstr(c->photo_sha256, ==, "764284cee9b51280b3ce349d8100e95bcc5ec5e38627daf50d03c12106ccfa4d");
	g_assert_cmpstr(c->bday, ==, "1980-01-01");
	g_assert_cmpstr(c->rev, ==, "20080424T195243Z");
}

static void test_aosp_simple(void)
{
	g_autoptr(VcardResult) v30 = parse_corpus("aosp-vcard/v30_simple.vcf");
	assert_counts(v30, 1, 0);
	const VcardContact *c = contact_at(v30, 0);
	g_assert_cmpstr(c->fn, ==, "And Roid");
	assert_name(c, "And", "Roid", NULL, NULL, NULL);
	g_assert_cmpstr(c->org_name, ==, "Open");
	assert_list(c->org_units, "Handset", "Alliance", NULL);
	/* SORT-STRING is one whole reading */
	g_assert_cmpstr(c->phonetic_full, ==, "android");
	g_assert_null(c->phonetic_family);
	g_assert_cmpstr(c->rev, ==, "20081031T065854Z");

	g_autoptr(VcardResult) v40 = parse_corpus("aosp-vcard/v40_sort_as.vcf");
	assert_counts(v40, 1, 0);
	c = contact_at(v40, 0);
	g_assert_cmpstr(c->fn, ==, "安藤 ロイド");
	g_assert_cmpstr(c->phonetic_family, ==, "あんどう");
	g_assert_cmpstr(c->phonetic_given, ==, "ろいど");
	g_assert_cmpstr(c->org_name, ==, "グーグル");
	assert_list(c->org_units, "検索部門", NULL);
}

static void test_aosp_broken(void)
{
	/* the nested cards are the outer card's agents, not contacts */
	g_autoptr(VcardResult) nest = parse_corpus("aosp-vcard/v21_nest.vcf");
	assert_counts(nest, 1, 0);
	g_assert_cmpstr(contact_at(nest, 0)->n_family, ==, "parent");
	assert_list(contact_at(nest, 0)->tels, "1", NULL);

	/* a photo that does not decode is skipped, the card kept */
	g_autoptr(VcardResult) photo = parse_corpus("aosp-vcard/v21_malformed_photo.vcf");
	assert_counts(photo, 1, 1);
	g_assert_false(contact_at(photo, 0)->has_photo);
	g_assert_cmpstr(contact_at(photo, 0)->fn, ==, "fullname");
	assert_error(photo, 0, "v21_malformed_photo.vcf", 5, "PHOTO");

	/* "# comment" lines are reported and skipped; the quoted-printable
	 * soft break still takes the "#<- sharp)" line */
	g_autoptr(VcardResult) comment = parse_corpus("aosp-vcard/v21_invalid_comment_line.vcf");
	assert_counts(comment, 1, 2);
	g_assert_cmpstr(contact_at(comment, 0)->note, ==,
			"This is an (sharp ->#<- sharp) example. This message must NOT be ignored.");
	g_assert_cmpstr(contact_at(comment, 0)->uid, ==, "357");
	assert_error(comment, 0, "v21_invalid_comment_line.vcf", 6, "':'");
	assert_error(comment, 1, "v21_invalid_comment_line.vcf", 9, "':'");

	g_autoptr(VcardResult) multi = parse_corpus("aosp-vcard/v21_invalid_multiple_line.vcf");
	assert_counts(multi, 1, 0);
	assert_list(contact_at(multi, 0)->emails, "omega@example.com", NULL);

	/* base64 that ends without a blank line */
	g_autoptr(VcardResult) b64 = parse_corpus("aosp-vcard/v21_base64_no_2_crlf.vcf");
	assert_counts(b64, 1, 0);
	g_assert_cmpuint(contact_at(b64, 0)->photo_bytes, ==, 3888);
}

static void test_ezvcard_apple(void)
{
	/* CR CR LF line ends, itemN groups, X-ABLabel, a 46 KB photo */
	g_autoptr(VcardResult) iphone = parse_corpus("ez-vcard/John_Doe_IPHONE.vcf");
	assert_counts(iphone, 1, 0);
	const VcardContact *c = contact_at(iphone, 0);
	g_assert_cmpstr(c->fn, ==, "Mr. John Richter James Doe Sr.");
	assert_name(c, "Doe", "John", "Richter,James", "Mr.", "Sr.");
	g_assert_cmpstr(c->nickname, ==, "Johny");
	g_assert_cmpstr(c->org_name, ==, "IBM");
	assert_list(c->org_units, "Accounting", NULL);
	g_assert_cmpstr(c->title, ==, "Money Counter");
	assert_list(c->emails, "john.doe@ibm.com", NULL);
	g_assert_cmpuint(c->tels->len, ==, 7);
	/* http\://www.ibm.com; the _$!<HomePage>!$_ label is no URL */
	assert_list(c->urls, "http://www.ibm.com", NULL);
	g_assert_cmpstr(c->bday, ==, "2012-06-06");
	g_assert_true(c->has_photo);
	g_assert_cmpstr(c->photo_mediatype, ==, "image/jpeg");
	g_assert_cmpuint(c->photo_bytes, ==, 32531);
	g_assert_cmpstr(c->photo_sha256, ==, "e01af63d0602d72a78c324e4c2ca35db8df8486f4857c8f18a4e12251e420e28");
	g_assert_null(c->photo_uri);

	g_autoptr(VcardResult) mac = parse_corpus("ez-vcard/John_Doe_MAC_ADDRESS_BOOK.vcf");
	assert_counts(mac, 1, 0);
	c = contact_at(mac, 0);
	g_assert_cmpstr(c->fn, ==, "Mr. John Richter,James Doe Sr.");
	g_assert_cmpstr(c->phonetic_family, ==, "Dow");
	g_assert_cmpstr(c->phonetic_given, ==, "Jon");
	g_assert_cmpuint(c->photo_bytes, ==, 18242);
	g_assert_true(g_str_has_prefix(c->note, "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\""));
}

static void test_ezvcard_gmail(void)
{
	g_autoptr(VcardResult) single = parse_corpus("ez-vcard/gmail-single.vcf");
	assert_counts(single, 1, 0);
	const VcardContact *c = contact_at(single, 0);
	g_assert_cmpstr(c->fn, ==, "Greg Dartmouth");
	g_assert_cmpstr(c->phonetic_family, ==, "Dart-mowth");
	g_assert_cmpstr(c->phonetic_given, ==, "Grregg");
	g_assert_cmpstr(c->nickname, ==, "Gman");
	g_assert_cmpstr(c->bday, ==, "1960-09-10");
	/* item4.X-ABDATE labelled _$!<Anniversary>!$_ */
	g_assert_cmpstr(c->anniversary, ==, "1970-06-02");
	assert_list(c->urls, "http://TheProfile.com", NULL);
	g_assert_cmpstr(c->note, ==,
			"This is GMail's note field.\nIt should be added as a NOTE type.\nACustomField: CustomField");

	g_autoptr(VcardResult) single2 = parse_corpus("ez-vcard/gmail-single2.vcf");
	assert_counts(single2, 1, 0);
	c = contact_at(single2, 0);
	g_assert_cmpstr(c->phonetic_family, ==, "ThePhoneticLastName");
	g_assert_cmpstr(c->phonetic_given, ==, "ThePhoneticFirstName");
	g_assert_cmpuint(c->emails->len, ==, 5);
	g_assert_cmpuint(c->urls->len, ==, 6);
	g_assert_cmpstr(c->anniversary, ==, "1930-03-20");

	g_autoptr(VcardResult) list = parse_corpus("ez-vcard/gmail-list.vcf");
	assert_counts(list, 3, 0);
}

static void test_ezvcard_outlook(void)
{
	g_autoptr(VcardResult) result = parse_corpus("ez-vcard/outlook-2003.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);
	assert_name(c, "Doe", "John", NULL, "Mr.", "III");
	/* =0D= soft break =0A: the break falls inside an encoded CR LF */
	g_assert_cmpstr(c->note, ==, "This is the note field!!\nSecond line\n\nThird line is empty");
	g_assert_cmpstr(c->org_name, ==, "Company, The");
	assert_list(c->org_units, "TheDepartment", NULL);
	g_assert_cmpstr(c->bday, ==, "1980-03-21");
	assert_list(c->emails, "jdoe@hotmail.com", NULL);
	assert_list(c->urls, "http://web-page-address.com", NULL);

	g_autoptr(VcardResult) issue = parse_corpus("ez-vcard/issue114.vcf");
	assert_counts(issue, 1, 0);
	g_assert_cmpstr(contact_at(issue, 0)->fn, ==, "Dummy, Dummy");
	g_assert_cmpstr(contact_at(issue, 0)->org_name, ==, "Dummy GmbH");

	g_autoptr(VcardResult) android = parse_corpus("ez-vcard/John_Doe_ANDROID.vcf");
	assert_counts(android, 6, 0);
	g_assert_null(contact_at(android, 0)->fn);
	assert_list(contact_at(android, 0)->emails, "john.doe@company.com", NULL);
	g_assert_cmpstr(contact_at(android, 2)->fn, ==, "Ñ Ñ Ñ Ñ Ñ");
}

static void test_evolution(void)
{
	g_autoptr(VcardResult) r1 = parse_corpus("evolution-data-server/e-vcard-tests/1.vcf");
	assert_counts(r1, 1, 0);
	g_assert_cmpstr(contact_at(r1, 0)->fn, ==, "Frank Dawson");
	g_assert_cmpstr(contact_at(r1, 0)->org_name, ==, "Lotus Development Corporation");
	assert_list(contact_at(r1, 0)->emails, "Frank_Dawson@Lotus.com", "fdawson@earthlink.net", NULL);

	/* UTF-8 in quoted-printable, broken across soft line breaks */
	g_autoptr(VcardResult) r5 = parse_corpus("evolution-data-server/e-vcard-tests/5.vcf");
	assert_counts(r5, 1, 0);
	g_assert_cmpstr(contact_at(r5, 0)->fn, ==, "十城目管理大型知座");
	g_assert_cmpstr(contact_at(r5, 0)->n_given, ==, "十城目管理大型知座");
	g_assert_cmpstr(contact_at(r5, 0)->title, ==, "十城目管理大型知座");

	/* bad parameters do not cost the card */
	g_autoptr(VcardResult) r6 = parse_corpus("evolution-data-server/e-vcard-tests/6.vcf");
	assert_counts(r6, 1, 0);
	g_assert_cmpuint(contact_at(r6, 0)->tels->len, ==, 2);

	/* no BEGIN */
	g_autoptr(VcardResult) r7 = parse_corpus("evolution-data-server/e-vcard-tests/7.vcf");
	assert_counts(r7, 0, 1);
	assert_error(r7, 0, "7.vcf", 1, "outside");

	/* no END, and a card cut in the middle of a name */
	g_autoptr(VcardResult) r8 = parse_corpus("evolution-data-server/e-vcard-tests/8.vcf");
	assert_counts(r8, 0, 1);
	assert_error(r8, 0, "8.vcf", 1, "END");
	g_autoptr(VcardResult) r9 = parse_corpus("evolution-data-server/e-vcard-tests/9.vcf");
	assert_counts(r9, 0, 1);
	assert_error(r9, 0, "9.vcf", 1, "END");

	g_autoptr(VcardResult) r10 = parse_corpus("evolution-data-server/e-vcard-tests/10.vcf");
	assert_counts(r10, 1, 0);
	g_autoptr(VcardResult) r11 = parse_corpus("evolution-data-server/e-vcard-tests/11.vcf");
	assert_counts(r11, 1, 0);
	g_assert_cmpstr(contact_at(r11, 0)->fn, ==, "Invalid AttributeParam");

	/* quoted-printable values that start with '=' on the property line */
	g_autoptr(VcardResult) r12 = parse_corpus("evolution-data-server/e-vcard-tests/12.vcf");
	assert_counts(r12, 1, 0);
	assert_name(contact_at(r12, 0), "Brüning", "Michael", NULL, NULL, NULL);
	g_assert_cmpstr(contact_at(r12, 0)->fn, ==, "Michael Brüning");
	g_assert_cmpstr(contact_at(r12, 0)->bday, ==, "1978-12-29");
	g_assert_cmpuint(contact_at(r12, 0)->tels->len, ==, 3);

	/* escapes, and folds inside the parameter list (with TAB) */
	g_autoptr(VcardResult) r13 = parse_corpus("evolution-data-server/e-vcard-tests/13.vcf");
	assert_counts(r13, 1, 0);
	assert_list(contact_at(r13, 0)->emails, "Frank_Dawson@Lotus.com", "semicolon;@points.net", NULL);
	assert_list(contact_at(r13, 0)->tels, "+1-919-676-9515", "+1-919-676-9564", NULL);
}

static void test_folkerkinzel(void)
{
	g_autoptr(VcardResult) large = parse_corpus("folkerkinzel-vcards/LargeFile.vcf");
	assert_counts(large, 1000, 0);
	g_assert_cmpstr(contact_at(large, 0)->fn, ==, "Kasey Schmitt");
	g_assert_cmpuint(contact_at(large, 999)->index, ==, 999);

	g_autoptr(VcardResult) empty = parse_corpus("folkerkinzel-vcards/Empty.vcf");
	assert_counts(empty, 0, 0);

	/* UTF-16LE with a BOM */
	g_autoptr(VcardResult) utf16 = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/v3Utf16Bom.vcf");
	assert_counts(utf16, 2, 0);
	g_assert_cmpstr(contact_at(utf16, 0)->fn, ==, "Folker Kinzel");
	g_assert_cmpstr(contact_at(utf16, 0)->photo_uri, ==,
			"https://lh3.googleusercontent.com/-qA19KAIW4ig/XPRQfJuWDoI/AAAAAAAAAAA/"
			"n3yseZjiGHcH1S5pjm8TULwkceJJtHykQCOQCEAE/photo.jpg");
	g_assert_cmpuint(contact_at(utf16, 0)->photo_bytes, ==, 0);
	g_assert_cmpstr(contact_at(utf16, 1)->fn, ==, "KMS Außenstelle");
	assert_list(contact_at(utf16, 1)->emails, "blablö@blub.com", NULL);

	/* the same without a BOM, in windows-1252 */
	g_autoptr(VcardResult) ansi = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/v3Ansi.vcf");
	assert_counts(ansi, 2, 0);
	g_assert_cmpstr(contact_at(ansi, 1)->fn, ==, "KMS Außenstelle");
	g_assert_cmpstr(contact_at(ansi, 1)->org_name, ==, "KMS Außenstelle");

	/* unlabelled 8-bit text: windows-1252, or the charset another
	 * property of the card is labelled with */
	g_autoptr(VcardResult) german = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/German.vcf");
	g_assert_cmpstr(contact_at(german, 0)->fn, ==, "Sören Täve Nüßlebaum");
	g_autoptr(VcardResult) greek = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/Greek.vcf");
	g_assert_cmpstr(contact_at(greek, 0)->fn, ==, "Βαγγέλης");
	assert_name(contact_at(greek, 0), "Παπαθανασίου", "Ευάγγελος", "Οδυσσέας", NULL, NULL);
	g_autoptr(VcardResult) ukrainian = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/Ukrainian.vcf");
	g_assert_cmpstr(contact_at(ukrainian, 0)->fn, ==, "Віталій Володимирович Кличко");
	g_autoptr(VcardResult) murks = parse_corpus("folkerkinzel-vcards/MultiAnsiFilterTests/Murks.vcf");
	g_assert_cmpstr(contact_at(murks, 0)->fn, ==, "Sören Täve Nüßlebaum");

	const char *const ansi_issues[] = { "AnsiIssue.vcf", "AnsiIssueInvalidEncoding.vcf", "AnsiIssueNoEncoding.vcf" };
	for (gsize i = 0; i < G_N_ELEMENTS(ansi_issues); i++) {
		g_autofree char *path = g_build_filename("folkerkinzel-vcards", ansi_issues[i], NULL);
		g_autoptr(VcardResult) issue = parse_corpus(path);
		assert_counts(issue, 1, 0);
		assert_name(contact_at(issue, 0), "Rastral", "Ralf", NULL, NULL, NULL);
	}
	/* Outlook's X-MS-CARDPICTURE stands in for PHOTO */
	g_autoptr(VcardResult) picture = parse_corpus("folkerkinzel-vcards/AnsiIssue.vcf");
	g_assert_true(contact_at(picture, 0)->has_photo);
	g_assert_cmpstr(contact_at(picture, 0)->photo_mediatype, ==, "image/jpeg");

	/* a 320 KB photo is streamed, not counted against the card size */
	g_autoptr(VcardResult) big = parse_corpus("folkerkinzel-vcards/NextCloudPhotoIssue.txt");
	assert_counts(big, 1, 0);
	g_assert_cmpuint(contact_at(big, 0)->photo_bytes, ==, 234773);
	g_assert_cmpstr(contact_at(big, 0)->photo_mediatype, ==, "image/png");
	g_assert_cmpstr(contact_at(big, 0)->photo_sha256, ==,
			"5f68e6d9f5beb6313c61fe43be0519de5fd4a7ca8aa3b00ff7a3b1a1abf863bc");

	/* quoted-printable soft breaks with blank lines after them, and no END */
	g_autoptr(VcardResult) cropped = parse_corpus("folkerkinzel-vcards/Cropped_2_1.vcf");
	assert_counts(cropped, 0, 1);
	assert_error(cropped, 0, "Cropped_2_1.vcf", 1, "END");

	/* PHOTO;JPEG;B: a bare B parameter means base64 */
	g_autoptr(VcardResult) v21 = parse_corpus("folkerkinzel-vcards/v2_1.vcf");
	assert_counts(v21, 1, 0);
	g_assert_cmpstr(contact_at(v21, 0)->photo_mediatype, ==, "image/jpeg");
	g_assert_cmpuint(contact_at(v21, 0)->photo_bytes, >, 0);
	g_assert_cmpstr(contact_at(v21, 0)->org_name, ==, "Firma");
	assert_list(contact_at(v21, 0)->org_units, "Führungsetage", NULL);
}

static void test_kcontacts(void)
{
	g_autofree char *dir = corpus_path("kcontacts");
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint compared = 0;

	g_assert_nonnull(d);
	/* kcontacts' re-export of each input (.ref) must give the same contact */
	while ((name = g_dir_read_name(d))) {
		if (!g_str_has_suffix(name, ".vcf"))
			continue;
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_autofree char *ref = g_strconcat(path, ".ref", NULL);
		if (!g_file_test(ref, G_FILE_TEST_EXISTS))
			continue;
		g_autoptr(VcardResult) in = parse_path(path);
		g_autoptr(VcardResult) out = parse_path(ref);
		g_assert_cmpuint(in->contacts->len, ==, out->contacts->len);
		for (guint i = 0; i < in->contacts->len; i++) {
			const VcardContact *a = contact_at(in, i), *b = contact_at(out, i);
			g_assert_cmpstr(a->fn, ==, b->fn);
			g_assert_cmpstr(a->org_name, ==, b->org_name);
			g_assert_cmpuint(a->emails->len, ==, b->emails->len);
			for (guint k = 0; k < a->emails->len; k++)
				g_assert_cmpstr(g_ptr_array_index(a->emails, k), ==, g_ptr_array_index(b->emails, k));
			g_assert_cmpstr(a->uid, ==, b->uid);
			g_assert_cmpstr(a->note, ==, b->note);
		}
		compared++;
	}
	g_assert_cmpuint(compared, >=, 15);

	g_autoptr(VcardResult) nine = parse_corpus("kcontacts/vcard9.vcf");
	/* folded in the middle of a UTF-8 character */
	g_assert_cmpstr(contact_at(nine, 0)->note, ==,
			"Длинный комментарий на русском языке, чтобы в результате получилась строка более 70 символов.");

	g_autoptr(VcardResult) legacy = parse_corpus("kcontacts/vcard_legacy_messaging_fields.vcf");
	const VcardSocialProfile *profile = g_ptr_array_index(contact_at(legacy, 0)->social_profiles, 0);
	g_assert_cmpstr(profile->type, ==, "twitter");
	g_assert_cmpstr(profile->user, ==, "kdecommunity");

	g_autoptr(VcardResult) full = parse_corpus("kcontacts/testfullvcard.vcf");
	const VcardContact *c = contact_at(full, 0);
	g_assert_cmpstr(c->kind, ==, "individual");
	g_assert_cmpstr(c->bday, ==, "1953-10-15");
	g_assert_cmpstr(c->anniversary, ==, "1996-04-15");
	assert_list(c->tels, "+44-555-555-5555;ext=5555", "+44-555-555-6666", "+44-555-555-7777", NULL);
	assert_list(c->categories, "FICTION", "LITERATURE", NULL);
	g_assert_false(c->has_photo); /* PHOTO: with nothing */
}

static void test_l0b0(void)
{
	g_autoptr(VcardResult) end = parse_corpus("l0b0-vcard/missing_end.vcf");
	assert_counts(end, 0, 1);
	assert_error(end, 0, "l0b0-vcard/missing_end.vcf", 1, "END:VCARD");

	g_autoptr(VcardResult) start = parse_corpus("l0b0-vcard/missing_start.vcf");
	assert_counts(start, 0, 1);
	assert_error(start, 0, "missing_start.vcf", 1, "outside");

	const char *const same[] = { "line_ending_mac.vcf", "line_ending_mixed.vcf", "line_ending_unix.vcf",
				     "scrambled_case.vcf", "continuation_at_start.vcf", "minimal.vcf" };
	for (gsize i = 0; i < G_N_ELEMENTS(same); i++) {
		g_autofree char *path = g_build_filename("l0b0-vcard", same[i], NULL);
		g_autoptr(VcardResult) result = parse_corpus(path);
		assert_counts(result, 1, 0);
		g_assert_cmpstr(contact_at(result, 0)->fn, ==, "John Doe");
		assert_name(contact_at(result, 0), "Doe", "John", NULL, "Mr", NULL);
	}

	g_autoptr(VcardResult) value = parse_corpus("l0b0-vcard/missing_n_value.vcf");
	assert_counts(value, 1, 1);
	assert_error(value, 0, "missing_n_value.vcf", 3, "':'");

	g_autoptr(VcardResult) props = parse_corpus("l0b0-vcard/missing_properties.vcf");
	assert_counts(props, 0, 1);
	assert_error(props, 0, "missing_properties.vcf", 1, "no FN, N, ORG or EMAIL");

	g_autoptr(VcardResult) maximal = parse_corpus("l0b0-vcard/maximal.vcf");
	assert_counts(maximal, 1, 0);
	const VcardContact *c = contact_at(maximal, 0);
	assert_list(c->org_units, "Example Department", "Example Sub-Department", "Example Office", NULL);
	assert_list(c->nicknames, "Johnny", "Dr Q", NULL);
	assert_list(c->categories, "Worker drones", "Finance, marketing and bull****ing", NULL);
	assert_list(c->urls, "http://example.org/example-department/example-sub-department/example-office", NULL);
	g_assert_cmpstr(c->photo_uri, ==, "http://example.org/jdoe.jpg");
}

static void test_radicale(void)
{
	g_autoptr(VcardResult) bday = parse_corpus("radicale/contact4-with-bday-no-year.vcf");
	assert_counts(bday, 1, 0);
	g_assert_cmpstr(contact_at(bday, 0)->bday, ==, "--01-01");

	const char *const photos[] = { "radicale/contact_photo_with_data_uri.vcf",
				       "radicale/contact_photo_with_data_uri_v4.vcf" };
	for (gsize i = 0; i < G_N_ELEMENTS(photos); i++) {
		g_autoptr(VcardResult) photo = parse_corpus(photos[i]);
		assert_counts(photo, 1, 0);
		const VcardContact *c = contact_at(photo, 0);
		g_assert_true(c->has_photo);
		g_assert_cmpstr(c->photo_mediatype, ==, "image/png");
		g_assert_cmpuint(c->photo_bytes, ==, 72);
		g_assert_cmpstr(c->photo_sha256, ==, "98519c2e8c4cfcf5ec64aae98c1469297b9405c382d2a529a37a4e3b674dc0e2");
	}

	g_autoptr(VcardResult) multiple = parse_corpus("radicale/contact_multiple.vcf");
	assert_counts(multiple, 2, 0);
	g_assert_cmpstr(contact_at(multiple, 1)->uid, ==, "contact2");
}

static void test_khard_vdirs(void)
{
	g_autoptr(VcardResult) test = parse_corpus("khard/test.abook");
	assert_counts(test, 3, 0);
	/* files in name order: contact1, contact2, text-bday */
	g_assert_cmpstr(contact_at(test, 0)->fn, ==, "second contact");
	g_assert_cmpstr(contact_at(test, 0)->bday, ==, "2018-01-20");
	g_assert_true(g_str_has_suffix(contact_at(test, 0)->file, "contact1.vcf"));
	g_assert_cmpstr(contact_at(test, 1)->fn, ==, "third contact");
	g_assert_cmpstr(contact_at(test, 2)->fn, ==, "text birthday");
	g_assert_null(contact_at(test, 2)->bday); /* BDAY;VALUE=text:circa 1800 */

	g_autoptr(VcardResult) broken = parse_corpus("khard/broken.abook");
	assert_counts(broken, 0, 1);
	assert_error(broken, 0, "broken.abook/unparsable.vcf", 1, "END:VCARD");

	g_autoptr(VcardResult) nick = parse_corpus("khard/nick.abook");
	assert_counts(nick, 2, 0);
	g_assert_cmpstr(contact_at(nick, 1)->nickname, ==, "Mike");

	g_autoptr(VcardResult) korean = parse_corpus("khard/vcards/korean-c.vcf");
	g_assert_cmpstr(contact_at(korean, 0)->fn, ==, "최유림");
}

/* ical-rs' .res files are Rust debug dumps of the properties it read. */
static void test_ical_rs(void)
{
	const char *const pairs[][2] = {
		{ "vcard_lowercase.vcf", "vcard_lowercase.res" },
		{ "vcard_input.vcf", "vcard_parser.res" },
	};
	g_autoptr(GRegex) regex = g_regex_new("name: \"([^\"]+)\", params: [^\\n]*?, value: Some\\(\"((?:[^\"\\\\]|\\\\.)*)\"\\)",
					      G_REGEX_CASELESS, 0, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(pairs); i++) {
		g_autofree char *vcf = g_build_filename("ical-rs", pairs[i][0], NULL);
		g_autofree char *res = corpus_path(pairs[i][1]);
		g_autofree char *res_path = g_build_filename(corpus_dir(), "vcard", "ical-rs", pairs[i][1], NULL);
		g_autofree char *expected = NULL;
		g_assert_true(g_file_get_contents(res_path, &expected, NULL, NULL));

		g_autoptr(VcardResult) result = parse_corpus(vcf);
		assert_counts(result, 1, 0);
		const VcardContact *c = contact_at(result, 0);

		g_autofree char *fn = NULL, *n = NULL, *uid = NULL;
		guint emails = 0;
		g_autoptr(GMatchInfo) match = NULL;
		g_regex_match(regex, expected, 0, &match);
		for (; g_match_info_matches(match); g_match_info_next(match, NULL)) {
			g_autofree char *name = g_match_info_fetch(match, 1);
			g_autofree char *value = g_match_info_fetch(match, 2);
			if (g_ascii_strcasecmp(name, "FN") == 0 && !fn)
				fn = g_steal_pointer(&value);
			else if (g_ascii_strcasecmp(name, "N") == 0 && !n)
				n = g_steal_pointer(&value);
			else if (g_ascii_strcasecmp(name, "EMAIL") == 0)
				emails++;
		}
		g_assert_nonnull(fn);
		g_assert_cmpstr(c->fn, ==, fn);
		g_auto(GStrv) parts = g_strsplit(n, ";", -1);
		g_assert_cmpstr(c->n_family, ==, parts[0]);
		g_assert_cmpstr(c->n_given, ==, parts[1]);
		g_assert_cmpuint(c->emails->len, ==, emails);
	}

	g_autoptr(VcardResult) input = parse_corpus("ical-rs/vcard_input.vcf");
	const VcardContact *c = contact_at(input, 0);
	g_assert_cmpuint(c->line, ==, 3);
	g_assert_cmpstr(c->kind, ==, "individual");
	g_assert_cmpstr(c->bday, ==, "--02-03");
	g_assert_cmpstr(c->anniversary, ==, "1996-04-15");
	g_assert_cmpstr(c->org_name, ==, "ABC, Inc.");
	g_assert_cmpstr(c->note, ==, "This fax number is operational 0800 to 1715 EST, Mon-Fri");
	assert_list(c->tels, "+33-01-23-45-67", NULL);
	g_assert_cmpstr(c->photo_uri, ==, "http://www.example.com/pub/photos/jqpublic.gif");

	/* seven lines that are not properties, outside any card */
	g_autoptr(VcardResult) errors = parse_corpus("ical-rs/property_error.vcf");
	assert_counts(errors, 0, 1);
}

/* --- 3. own fixtures ------------------------------------------------------ */

static void test_data_japanese(void)
{
	g_autoptr(VcardResult) result = parse_data("japanese.vcf");
	assert_counts(result, 3, 0);

	const VcardContact *c = contact_at(result, 0);
	g_assert_cmpstr(c->fn, ==, "山田 太郎");
	assert_name(c, "山田", "太郎", NULL, NULL, NULL);
	g_assert_cmpstr(c->phonetic_family, ==, "やまだ");
	g_assert_cmpstr(c->phonetic_given, ==, "たろう");
	g_assert_cmpstr(c->org_name, ==, "株式会社テスト");
	assert_list(c->org_units, "開発本部", "第一開発部", NULL);
	g_assert_cmpstr(c->title, ==, "部長");
	assert_list(c->emails, "taro.yamada@example.co.jp", NULL);
	assert_list(c->urls, "https://note.com/yamada_taro", NULL);
	assert_list(c->categories, "regular", "元同僚", NULL);
	g_assert_cmpstr(c->note, ==, "入社しました\n2024年4月から");
	g_assert_cmpstr(c->bday, ==, "1980-01-02");

	/* no FN: "family given" with a space for a CJK name */
	c = contact_at(result, 1);
	g_assert_cmpstr(c->fn, ==, "鈴木 花子");
	g_assert_cmpstr(c->phonetic_full, ==, "すずき はなこ");
	g_assert_cmpstr(c->org_name, ==, "(株)サンプル");

	/* and "given family" for a Latin one */
	g_assert_cmpstr(contact_at(result, 2)->fn, ==, "John Smith");
	g_assert_cmpuint(contact_at(result, 2)->line, ==, 21);
}

static void test_data_sjis(void)
{
	g_autoptr(VcardResult) result = parse_data("sjis-qp-21.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	/* "=95\;=83\=83=45=83=5E": 表 is 95 5C, ソ is 83 5C; the backslashes
	 * are halves of characters, not escapes */
	assert_name(c, "表", "ソウタ", NULL, NULL, NULL);
	g_assert_cmpstr(c->fn, ==, "表 ソウタ");
	g_assert_cmpstr(c->phonetic_family, ==, "ヒョウ");
	g_assert_cmpstr(c->phonetic_given, ==, "ソウタ");
	/* raw 8-bit CP932, ㈱ included, a 0x5C right before the ';' */
	g_assert_cmpstr(c->org_name, ==, "㈱ソニー代表");
	assert_list(c->org_units, "営業部", NULL);
	/* a soft line break between the two bytes of ソ */
	g_assert_cmpstr(c->title, ==, "ソリューション");
	/* NEC and IBM extensions, and a real \n */
	g_assert_cmpstr(c->note, ==, "①髙﨑\n能力");
	assert_list(c->tels, "03-1234-5678", NULL);
}

static void test_data_broken_between(void)
{
	g_autoptr(VcardResult) result = parse_data("broken-between.vcf");
	assert_counts(result, 3, 3);

	g_assert_cmpstr(contact_at(result, 0)->fn, ==, "Good One");
	g_assert_cmpstr(contact_at(result, 0)->note, ==, "a note that is folded");
	g_assert_cmpuint(contact_at(result, 0)->line, ==, 1);
	g_assert_cmpstr(contact_at(result, 1)->fn, ==, "Good Two");
	g_assert_cmpuint(contact_at(result, 1)->line, ==, 10);
	assert_list(contact_at(result, 1)->emails, "two@example.com", NULL);
	g_assert_cmpstr(contact_at(result, 2)->fn, ==, "Good Three");
	g_assert_cmpuint(contact_at(result, 2)->line, ==, 21);

	/* lines counted across a fold, a bare CR and a lone LF */
	assert_error(result, 0, "broken-between.vcf", 7, "END:VCARD");
	assert_error(result, 1, "broken-between.vcf", 13, "':'");
	assert_error(result, 2, "broken-between.vcf", 16, "no FN, N, ORG or EMAIL");
}

static void test_data_crlf_bom(void)
{
	g_autoptr(VcardResult) result = parse_data("crlf-bom.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	/* folded between the two bytes of ë */
	g_assert_cmpstr(c->fn, ==, "Zoë Ångström");
	g_assert_cmpstr(c->kind, ==, "individual");
	g_assert_cmpstr(c->uid, ==, "urn:uuid:1f1e7a3c-0000-4000-8000-000000000001");
	g_assert_cmpstr(c->rev, ==, "20240102T030405Z");
	g_assert_cmpstr(c->bday, ==, "--02-29");
	g_assert_cmpstr(c->anniversary, ==, "2010-06-07");
	/* a data: URI folded every 20 characters, "base64" cut too */
	g_assert_true(c->has_photo);
	g_assert_cmpstr(c->photo_mediatype, ==, "image/png");
	g_assert_cmpuint(c->photo_bytes, ==, 72);
	g_assert_cmpstr(c->photo_sha256, ==, "98519c2e8c4cfcf5ec64aae98c1469297b9405c382d2a529a37a4e3b674dc0e2");
}

static void test_data_rfc6868(void)
{
	g_autoptr(VcardResult) result = parse_data("rfc6868.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	g_assert_cmpstr(c->fn, ==, "Caret Test");
	/* SORT-AS="Ka^^ret,Tesuto" */
	g_assert_cmpstr(c->phonetic_family, ==, "Ka^ret");
	g_assert_cmpstr(c->phonetic_given, ==, "Tesuto");
	g_assert_cmpuint(c->social_profiles->len, ==, 1);
	const VcardSocialProfile *profile = g_ptr_array_index(c->social_profiles, 0);
	g_assert_cmpstr(profile->type, ==, "twitter");
	g_assert_cmpstr(profile->user, ==, "caret^test\"s");
	g_assert_cmpstr(profile->uri, ==, "https://twitter.com/carettest");
	assert_list(c->emails, "caret@example.org", NULL);
}

static void assert_profile(const VcardContact *c, guint i, const char *type, const char *user, const char *uri)
{
	g_assert_cmpuint(i, <, c->social_profiles->len);
	const VcardSocialProfile *profile = g_ptr_array_index(c->social_profiles, i);
	g_assert_cmpstr(profile->type, ==, type);
	g_assert_cmpstr(profile->user, ==, user);
	g_assert_cmpstr(profile->uri, ==, uri);
}

static void test_data_social(void)
{
	g_autoptr(VcardResult) result = parse_data("social.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	g_assert_cmpuint(c->social_profiles->len, ==, 7);
	assert_profile(c, 0, "linkedin", "social-person", "http://www.linkedin.com/in/social-person");
	assert_profile(c, 1, "twitter", "socialp", "http://twitter.com/socialp"); /* once, not twice */
	assert_profile(c, 2, "github", NULL, "https://github.com/socialp");
	assert_profile(c, 3, "qiita", NULL, "https://qiita.com/socialp");
	assert_profile(c, 4, "skype", "social.person", "skype:social.person");
	assert_profile(c, 5, "xmpp", "social@example.org", "xmpp:social@example.org");
	assert_profile(c, 6, "twitter", "socialp", NULL);

	assert_list(c->urls, "https://example.org/blog", NULL);
	g_assert_cmpstr(c->anniversary, ==, "2015-05-05");
	g_assert_cmpstr(c->kind, ==, "group");
	/* mailto: stripped, case kept, the same address once */
	assert_list(c->emails, "Social.Person@Example.ORG", NULL);
	assert_list(c->tels, "+81-90-1234-5678", NULL);
	g_assert_cmpstr(c->nickname, ==, "Soci");
	assert_list(c->nicknames, "Soci", "SP", NULL);
	assert_list(c->categories, "weak", "friends, old", NULL);
}

static void test_data_photo21(void)
{
	g_autoptr(VcardResult) result = parse_data("photo-21.vcf");
	assert_counts(result, 1, 0);
	const VcardContact *c = contact_at(result, 0);

	/* base64 lines without indent, up to a blank line */
	g_assert_true(c->has_photo);
	g_assert_cmpstr(c->photo_mediatype, ==, "image/png");
	g_assert_cmpuint(c->photo_bytes, ==, 72);
	g_assert_cmpstr(c->photo_sha256, ==, "98519c2e8c4cfcf5ec64aae98c1469297b9405c382d2a529a37a4e3b674dc0e2");
	assert_list(c->tels, "555-1234", NULL);
	/* year 1604 means no year */
	g_assert_cmpstr(c->bday, ==, "--07-11");
	g_assert_cmpstr(c->fn, ==, "Person Photo");
}

static void test_json_shape(void)
{
	g_autoptr(VcardResult) result = parse_data("japanese.vcf");
	vcard_parse_buffer("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bare\r\nBDAY:--0102\r\nEND:VCARD\r\n"
			   "BEGIN:VCARD\r\nEND:VCARD\r\n",
			   strlen("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bare\r\nBDAY:--0102\r\nEND:VCARD\r\n"
				  "BEGIN:VCARD\r\nEND:VCARD\r\n"),
			   NULL, result);
	g_autoptr(JsonNode) root = vcard_result_to_json(result);
	JsonObject *object = json_node_get_object(root);

	JsonArray *contacts = json_object_get_array_member(object, "contacts");
	g_assert_cmpuint(json_array_get_length(contacts), ==, 4);
	static const char *const keys[] = { "fn", "n", "phonetic", "org", "title", "nickname", "note", "uid",
					    "kind", "rev", "emails", "tels", "urls", "social_profiles",
					    "categories", "bday", "anniversary", "photo" };
	for (guint i = 0; i < json_array_get_length(contacts); i++) {
		JsonObject *contact = json_array_get_object_element(contacts, i);
		for (gsize k = 0; k < G_N_ELEMENTS(keys); k++)
			if (!json_object_has_member(contact, keys[k]))
				g_error("contact %u has no \"%s\"", i, keys[k]);
		g_assert_cmpuint(json_object_get_size(contact), ==, G_N_ELEMENTS(keys));
	}

	JsonObject *yamada = json_array_get_object_element(contacts, 0);
	JsonObject *n = json_object_get_object_member(yamada, "n");
	g_assert_cmpstr(json_object_get_string_member(n, "family"), ==, "山田");
	g_assert_true(json_object_get_null_member(n, "additional"));
	JsonObject *phonetic = json_object_get_object_member(yamada, "phonetic");
	g_assert_cmpstr(json_object_get_string_member(phonetic, "given"), ==, "たろう");
	g_assert_false(json_object_has_member(phonetic, "full"));
	JsonObject *org = json_object_get_object_member(yamada, "org");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(org, "units")), ==, 2);
	g_assert_cmpstr(json_object_get_string_member(yamada, "bday"), ==, "1980-01-02");
	g_assert_true(json_object_get_null_member(yamada, "photo"));

	JsonObject *suzuki = json_array_get_object_element(contacts, 1);
	phonetic = json_object_get_object_member(suzuki, "phonetic");
	g_assert_cmpstr(json_object_get_string_member(phonetic, "full"), ==, "すずき はなこ");
	g_assert_false(json_object_has_member(phonetic, "family"));
	org = json_object_get_object_member(suzuki, "org");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(org, "units")), ==, 0);

	JsonObject *bare = json_array_get_object_element(contacts, 3);
	g_assert_true(json_object_get_null_member(bare, "phonetic"));
	g_assert_true(json_object_get_null_member(bare, "org"));
	g_assert_true(json_object_get_null_member(bare, "title"));
	g_assert_true(json_object_get_null_member(bare, "uid"));
	g_assert_true(json_object_get_null_member(bare, "anniversary"));
	g_assert_cmpstr(json_object_get_string_member(bare, "bday"), ==, "--01-02");
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(bare, "emails")), ==, 0);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(bare, "tels")), ==, 0);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(bare, "social_profiles")), ==, 0);
	g_assert_true(json_object_get_null_member(json_object_get_object_member(bare, "n"), "family"));

	JsonArray *errors = json_object_get_array_member(object, "errors");
	g_assert_cmpuint(json_array_get_length(errors), ==, 1);
	JsonObject *error = json_array_get_object_element(errors, 0);
	g_assert_true(json_object_get_null_member(error, "file"));
	g_assert_cmpint(json_object_get_int_member(error, "line"), ==, 6);
	g_assert_nonnull(json_object_get_string_member(error, "message"));

	/* a photo is {"mediatype","bytes","sha256"} (and "uri") */
	g_autoptr(VcardResult) photo = parse_data("photo-21.vcf");
	g_autoptr(JsonNode) photo_root = vcard_result_to_json(photo);
	JsonObject *p = json_object_get_object_member(
		json_array_get_object_element(json_object_get_array_member(json_node_get_object(photo_root), "contacts"), 0),
		"photo");
	g_assert_cmpstr(json_object_get_string_member(p, "mediatype"), ==, "image/png");
	g_assert_cmpint(json_object_get_int_member(p, "bytes"), ==, 72);
	g_assert_cmpuint(strlen(json_object_get_string_member(p, "sha256")), ==, 64);
	g_assert_true(json_object_get_null_member(p, "uri"));
}

/* --- in-memory edge cases --------------------------------------------------- */

static void test_buffer_dates(void)
{
	static const struct {
		const char *value, *expected;
	} dates[] = {
		{ "19800102", "1980-01-02" },      { "1980-01-02", "1980-01-02" },
		{ "--0102", "--01-02" },           { "--01-02", "--01-02" },
		{ "1980-01-02T10:00:00Z", "1980-01-02" }, { "19800102T100000", "1980-01-02" },
		{ "16040102", "--01-02" },         { "1604-12-31", "--12-31" },
		{ "19800230", NULL },              { "1980-13-01", NULL },
		{ "circa 1800", NULL },            { "1980", NULL },
		{ " 2000-02-29 ", "2000-02-29" },  { "1900-02-29", NULL },
	};

	for (gsize i = 0; i < G_N_ELEMENTS(dates); i++) {
		g_autofree char *text = g_strdup_printf("BEGIN:VCARD\nFN:X\nBDAY:%s\nANNIVERSARY:%s\nEND:VCARD\n",
							dates[i].value, dates[i].value);
		g_autoptr(VcardResult) result = parse_string(text);
		assert_counts(result, 1, 0);
		g_assert_cmpstr(contact_at(result, 0)->bday, ==, dates[i].expected);
		g_assert_cmpstr(contact_at(result, 0)->anniversary, ==, dates[i].expected);
	}

	g_autoptr(VcardResult) text = parse_string("BEGIN:VCARD\nFN:X\nBDAY;VALUE=text:19800102\nEND:VCARD\n");
	g_assert_null(contact_at(text, 0)->bday);
}

static void test_buffer_broken(void)
{
	/* NUL bytes are dropped and reported; the card stays */
	static const char nul[] = "BEGIN:VCARD\nFN:Nu\0ll\nEND:VCARD\n";
	g_autoptr(VcardResult) with_nul = vcard_result_new();
	vcard_parse_buffer(nul, sizeof(nul) - 1, "nul.vcf", with_nul);
	assert_counts(with_nul, 1, 1);
	g_assert_cmpstr(contact_at(with_nul, 0)->fn, ==, "Null");
	assert_error(with_nul, 0, "nul.vcf", 2, "NUL");

	/* a file that ends inside a card, and text outside cards */
	g_autoptr(VcardResult) stray = parse_string("hello\nFN:Outside\nTEL:1\n\nBEGIN:VCARD\nFN:In\nEND:VCARD\n"
						    "END:VCARD\nBEGIN:VCARD\nFN:Cut");
	assert_counts(stray, 1, 3);
	assert_error(stray, 0, "test.vcf", 2, "outside");
	assert_error(stray, 1, "test.vcf", 8, "outside");
	assert_error(stray, 2, "test.vcf", 9, "END:VCARD");

	/* an inline 2.1 AGENT card does not end the outer card */
	g_autoptr(VcardResult) agent = parse_string("BEGIN:VCARD\nVERSION:2.1\nN:Boss\nAGENT:BEGIN:VCARD\nN:Assistant\n"
						    "END:VCARD\nTEL:123\nEND:VCARD\n");
	assert_counts(agent, 1, 0);
	g_assert_cmpstr(contact_at(agent, 0)->fn, ==, "Boss");
	assert_list(contact_at(agent, 0)->tels, "123", NULL);

	/* empty input, NULL input */
	g_autoptr(VcardResult) empty = vcard_result_new();
	vcard_parse_buffer("", 0, NULL, empty);
	vcard_parse_buffer(NULL, 0, NULL, empty);
	assert_counts(empty, 0, 0);

	/* a card never closed, with several after it: those are kept */
	g_autoptr(VcardResult) unclosed = parse_string("BEGIN:VCARD\nFN:A\n"
						       "BEGIN:VCARD\nFN:B\nEND:VCARD\n"
						       "BEGIN:VCARD\nFN:C\nEND:VCARD\n");
	assert_counts(unclosed, 2, 1);
	g_assert_cmpstr(contact_at(unclosed, 0)->fn, ==, "B");
	g_assert_cmpstr(contact_at(unclosed, 1)->fn, ==, "C");
	assert_error(unclosed, 0, "test.vcf", 1, "END:VCARD");
}

static void test_buffer_utf16be(void)
{
	const char *text = "BEGIN:VCARD\r\nFN:山田\r\nEND:VCARD\r\n";
	gsize len = 0;
	g_autofree char *utf16 = g_convert(text, -1, "UTF-16BE", "UTF-8", NULL, &len, NULL);
	g_autofree char *with_bom = g_malloc(len + 2);
	with_bom[0] = (char)0xfe;
	with_bom[1] = (char)0xff;
	memcpy(with_bom + 2, utf16, len);

	g_autoptr(VcardResult) result = vcard_result_new();
	vcard_parse_buffer(with_bom, len + 2, "be.vcf", result);
	vcard_parse_buffer(utf16, len, "be.vcf", result); /* no BOM */
	assert_counts(result, 2, 0);
	g_assert_cmpstr(contact_at(result, 0)->fn, ==, "山田");
	g_assert_cmpstr(contact_at(result, 1)->fn, ==, "山田");
}

static void test_buffer_limits(void)
{
	/* a card larger than the limit is skipped... */
	GString *big = g_string_new("BEGIN:VCARD\nFN:Big\n");
	for (int i = 0; i < 2000; i++) {
		g_string_append(big, "NOTE:");
		for (int k = 0; k < 10; k++)
			g_string_append(big, "0123456789012345678901234567890123456789012345678901234567890123");
		g_string_append_c(big, '\n');
	}
	g_string_append(big, "END:VCARD\nBEGIN:VCARD\nFN:Small\nEND:VCARD\n");
	g_autoptr(VcardResult) result = vcard_result_new();
	vcard_parse_buffer(big->str, big->len, "big.vcf", result);
	g_string_free(big, TRUE);
	assert_counts(result, 1, 1);
	g_assert_cmpstr(contact_at(result, 0)->fn, ==, "Small");
	assert_error(result, 0, "big.vcf", 1, "larger");

	/* ...but a 3 MB photo is not counted against it */
	GString *photo = g_string_new("BEGIN:VCARD\nFN:Photo\nPHOTO;ENCODING=b;TYPE=JPEG:/9j/\n");
	for (int i = 0; i < 40000; i++)
		g_string_append(photo, " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	g_string_append(photo, "END:VCARD\n");
	g_autoptr(VcardResult) with_photo = vcard_result_new();
	vcard_parse_buffer(photo->str, photo->len, "photo.vcf", with_photo);
	g_string_free(photo, TRUE);
	assert_counts(with_photo, 1, 0);
	g_assert_cmpuint(contact_at(with_photo, 0)->photo_bytes, ==, 3 + 40000 * 57);
	g_assert_cmpstr(contact_at(with_photo, 0)->photo_mediatype, ==, "image/jpeg");

	/* too many properties */
	GString *many = g_string_new("BEGIN:VCARD\nFN:Many\n");
	for (int i = 0; i < 6000; i++)
		g_string_append(many, "TEL:1\n");
	g_string_append(many, "END:VCARD\n");
	g_autoptr(VcardResult) crowded = vcard_result_new();
	vcard_parse_buffer(many->str, many->len, "many.vcf", crowded);
	g_string_free(many, TRUE);
	assert_counts(crowded, 0, 1);
	assert_error(crowded, 0, "many.vcf", 1, "properties");
}

static void test_path(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-vcard-XXXXXX", &error);
	g_assert_no_error(error);

	/* a vdir: *.vcf only (any case), in name order, not sub-folders */
	g_autofree char *b = g_build_filename(dir, "b.vcf", NULL);
	g_autofree char *a = g_build_filename(dir, "a.VCF", NULL);
	g_autofree char *txt = g_build_filename(dir, "notes.txt", NULL);
	g_autofree char *sub = g_build_filename(dir, "sub.vcf", NULL);
	g_autofree char *huge = g_build_filename(dir, "huge.bin", NULL);
	g_assert_true(g_file_set_contents(b, "BEGIN:VCARD\nFN:Bee\nEND:VCARD\n", -1, NULL));
	g_assert_true(g_file_set_contents(a, "BEGIN:VCARD\nFN:Ay\nEND:VCARD\n", -1, NULL));
	g_assert_true(g_file_set_contents(txt, "BEGIN:VCARD\nFN:Not me\nEND:VCARD\n", -1, NULL));
	g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);

	g_autoptr(VcardResult) result = vcard_result_new();
	g_assert_true(vcard_parse_path(dir, result, &error));
	g_assert_no_error(error);
	assert_counts(result, 2, 0);
	g_assert_cmpstr(contact_at(result, 0)->fn, ==, "Ay");
	g_assert_cmpstr(contact_at(result, 0)->file, ==, a);
	g_assert_cmpstr(contact_at(result, 1)->fn, ==, "Bee");

	/* a path that cannot be read */
	g_autofree char *missing = g_build_filename(dir, "missing.vcf", NULL);
	g_assert_false(vcard_parse_path(missing, result, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);

	/* a file over the size limit (sparse, nothing is written) */
	int fd = g_open(huge, O_CREAT | O_WRONLY, 0600);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (goffset)65 * 1024 * 1024), ==, 0);
	close(fd);
	g_assert_false(vcard_parse_path(huge, result, &error));
	g_assert_nonnull(error);
	g_clear_error(&error);

	g_unlink(huge);
	g_rmdir(sub);
	g_unlink(txt);
	g_unlink(a);
	g_unlink(b);
	g_rmdir(dir);
}

/* Every character JSON escapes, in every field written. */
static void test_fields_json(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-vcard-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "escapes.vcf", NULL);
	const char *card =
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:q\"uote\\\\x\r\n"
		"FN:Tab\tBell\aEsc\x1b Us\x1f Del\x7f 山田\r\n"
		"ORG:A\\, \"B\";Unit\\;1;Unit 2\r\nTITLE:\x01\x02\x08\x0b\x0c\r\n"
		"EMAIL:a\"b@example.com\r\nTEL:+81 3\r\nURL:https://example.com/?a=\"b\"\r\n"
		"X-SOCIALPROFILE;TYPE=twitter:https://twitter.com/x\r\nCATEGORIES:a\\,b,c\r\n"
		"NICKNAME:n\r\nBDAY:1990-01-02\r\nNOTE:line\\none\\ttwo\\\\three\r\nREV:1\r\nEND:VCARD\r\n"
		"BEGIN:VCARD\r\nVERSION:3.0\r\nEMAIL:only@example.com\r\nEND:VCARD\r\n";

	g_assert_true(g_file_set_contents(path, card, -1, NULL));
	g_autoptr(VcardResult) result = parse_path(path);
	g_assert_cmpuint(result->contacts->len, ==, 2);
	assert_fields_as_json_glib(path, result);
	g_unlink(path);
	g_rmdir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/vcard/corpus/all", test_corpus_all);
	g_test_add_func("/vcard/corpus/aosp-japanese", test_aosp_japanese);
	g_test_add_func("/vcard/corpus/aosp-escapes", test_aosp_escapes);
	g_test_add_func("/vcard/corpus/aosp-complicated", test_aosp_complicated);
	g_test_add_func("/vcard/corpus/aosp-simple", test_aosp_simple);
	g_test_add_func("/vcard/corpus/aosp-broken", test_aosp_broken);
	g_test_add_func("/vcard/corpus/ez-vcard-apple", test_ezvcard_apple);
	g_test_add_func("/vcard/corpus/ez-vcard-gmail", test_ezvcard_gmail);
	g_test_add_func("/vcard/corpus/ez-vcard-outlook", test_ezvcard_outlook);
	g_test_add_func("/vcard/corpus/evolution", test_evolution);
	g_test_add_func("/vcard/corpus/folkerkinzel", test_folkerkinzel);
	g_test_add_func("/vcard/corpus/kcontacts", test_kcontacts);
	g_test_add_func("/vcard/corpus/l0b0", test_l0b0);
	g_test_add_func("/vcard/corpus/radicale", test_radicale);
	g_test_add_func("/vcard/corpus/khard-vdirs", test_khard_vdirs);
	g_test_add_func("/vcard/corpus/ical-rs", test_ical_rs);
	g_test_add_func("/vcard/data/japanese", test_data_japanese);
	g_test_add_func("/vcard/data/sjis-qp", test_data_sjis);
	g_test_add_func("/vcard/data/broken-between", test_data_broken_between);
	g_test_add_func("/vcard/data/crlf-bom", test_data_crlf_bom);
	g_test_add_func("/vcard/data/rfc6868", test_data_rfc6868);
	g_test_add_func("/vcard/data/social", test_data_social);
	g_test_add_func("/vcard/data/photo-21", test_data_photo21);
	g_test_add_func("/vcard/json", test_json_shape);
	g_test_add_func("/vcard/fields-json", test_fields_json);
	g_test_add_func("/vcard/buffer/dates", test_buffer_dates);
	g_test_add_func("/vcard/buffer/broken", test_buffer_broken);
	g_test_add_func("/vcard/buffer/utf16be", test_buffer_utf16be);
	g_test_add_func("/vcard/buffer/limits", test_buffer_limits);
	g_test_add_func("/vcard/path", test_path);
	return g_test_run();
}
