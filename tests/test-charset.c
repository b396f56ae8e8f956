/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "charset.h"

static void assert_decodes(const char *bytes, gssize len, const char *label, const char *expected)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = charset_to_utf8(bytes, len, label, &error);

	g_assert_no_error(error);
	g_assert_nonnull(text);
	g_assert_true(g_utf8_validate(text, -1, NULL));
	g_assert_cmpstr(text, ==, expected);
}

static void test_iconv_names(void)
{
	g_assert_cmpstr(charset_iconv_name("Shift_JIS"), ==, "CP932");
	g_assert_cmpstr(charset_iconv_name("SHIFT_JIS"), ==, "CP932");
	g_assert_cmpstr(charset_iconv_name("x-sjis"), ==, "CP932");
	g_assert_cmpstr(charset_iconv_name("Windows-31J"), ==, "CP932");
	g_assert_cmpstr(charset_iconv_name("EUC-JP"), ==, "EUC-JP-MS");
	g_assert_cmpstr(charset_iconv_name("ISO-8859-1"), ==, "WINDOWS-1252");
	g_assert_cmpstr(charset_iconv_name("us-ascii"), ==, "WINDOWS-1252");
	g_assert_cmpstr(charset_iconv_name("ISO-2022-JP"), ==, "ISO-2022-JP");
}

static void test_cp932(void)
{
	/* plain JIS X 0208: 山田 太郎 */
	assert_decodes("\x8e\x52\x93\x63\x20\x91\xbe\x98\x59", -1, "Shift_JIS", "山田 太郎");
	/* 0x5C as the second byte: ソ 表 能 */
	assert_decodes("\x83\x5c\x95\x5c\x94\x5c", -1, "SHIFT_JIS", "ソ表能");
	/* NEC special characters: ① ㈱ ∑ */
	assert_decodes("\x87\x40\x87\x8a\x87\x94", -1, "Shift_JIS", "①㈱∑");
	/* NEC-selected IBM extensions (ED/EE) and IBM extensions (FA-FC) */
	assert_decodes("\xed\x40\xee\xe0\xfa\x40\xfb\xfc\xed\x95", -1, "sjis", "纊髙ⅰ髙﨑");
	/* half-width katakana */
	assert_decodes("\xb1\xdd\xc4\xde\xb3", -1, "Shift_JIS", "ｱﾝﾄﾞｳ");
	/* the label every phone writes, in any case */
	assert_decodes("\x8a\x94\x8e\xae\x89\xef\x8e\xd0", -1, "shift_jis", "株式会社");
	/* LEN bytes only */
	assert_decodes("\x8e\x52\x93\x63", 2, "Shift_JIS", "山");
}

static void test_euc_jp(void)
{
	/* 日本語 */
	assert_decodes("\xc6\xfc\xcb\xdc\xb8\xec", -1, "EUC-JP", "日本語");
	/* NEC special ① and an IBM extension (3 bytes, 0x8F) */
	assert_decodes("\xad\xa1\x8f\xf3\xf3", -1, "euc-jp", "①ⅰ");
	/* half-width katakana (SS2) */
	assert_decodes("\x8e\xb1", -1, "EUC-JP", "ｱ");
}

static void test_windows_1252(void)
{
	/* € … “ ” and the Latin-1 range */
	assert_decodes("\x80\x85\x93\x94", -1, "windows-1252", "€…“”");
	assert_decodes("L\xe4mmerweg Stra\xdf" "e", -1, "Windows-1252", "Lämmerweg Straße");
	/* ISO-8859-1 and ASCII labels are read as windows-1252, as browsers do */
	assert_decodes("\x80 \xe9", -1, "ISO-8859-1", "€ é");
	assert_decodes("caf\xe9", -1, "US-ASCII", "café");
}

static void test_invalid_bytes(void)
{
	/* a lead byte with nothing after it */
	assert_decodes("AB\x83", -1, "Shift_JIS", "AB\xef\xbf\xbd");
	/* bytes windows-1252 leaves undefined */
	assert_decodes("a\x81" "b", -1, "windows-1252", "a\xef\xbf\xbd" "b");
	/* broken UTF-8 labelled UTF-8 */
	assert_decodes("ok\xc3(", -1, "UTF-8", "ok\xef\xbf\xbd(");
	/* EUC-JP with a bad second byte: replaced, the rest goes on */
	assert_decodes("\xc6\x21z", -1, "EUC-JP", "\xef\xbf\xbd!z");

	/* UTF-16 with an unpaired surrogate: the units after it stay aligned */
	static const char utf16[] = { 'A', 0, (char)0x00, (char)0xd8, 'B', 0, 'C', 0 };
	assert_decodes(utf16, sizeof(utf16), "UTF-16LE", "A\xef\xbf\xbd" "BC");
	/* an odd last byte */
	static const char odd[] = { 'A', 0, 'B' };
	assert_decodes(odd, sizeof(odd), "UTF-16LE", "A\xef\xbf\xbd");
}

static void test_unknown_charset(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = charset_to_utf8("abc", -1, "Murks", &error);

	g_assert_null(text);
	g_assert_error(error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION);
	g_assert_nonnull(strstr(error->message, "Murks"));

	/* without a GError */
	g_assert_null(charset_to_utf8("abc", -1, "blabla", NULL));
}

static void test_guess(void)
{
	g_autofree char *utf8 = charset_guess_to_utf8("Grüße 山田", -1);
	g_assert_cmpstr(utf8, ==, "Grüße 山田");

	g_autofree char *ansi = charset_guess_to_utf8("Au\xdf" "enstelle bl\xf6" "d", -1);
	g_assert_cmpstr(ansi, ==, "Außenstelle blöd");

	g_autofree char *empty = charset_guess_to_utf8("", 0);
	g_assert_cmpstr(empty, ==, "");

	g_autofree char *part = charset_guess_to_utf8("abc\xe9zzz", 4);
	g_assert_cmpstr(part, ==, "abcé");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/charset/iconv-names", test_iconv_names);
	g_test_add_func("/charset/cp932", test_cp932);
	g_test_add_func("/charset/euc-jp", test_euc_jp);
	g_test_add_func("/charset/windows-1252", test_windows_1252);
	g_test_add_func("/charset/invalid-bytes", test_invalid_bytes);
	g_test_add_func("/charset/unknown", test_unknown_charset);
	g_test_add_func("/charset/guess", test_guess);
	return g_test_run();
}
