/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <glib.h>

#include "normalize.h"

typedef char *(*Normalizer)(const char *);

static void assert_key(Normalizer normalize, const char *input, const char *expected)
{
	g_autofree char *key = normalize(input);

	g_assert_nonnull(key);
	if (g_strcmp0(key, expected) != 0)
		g_error("\"%s\" gave \"%s\", expected \"%s\"", input ? input : "(null)", key, expected);
}

static void assert_same(Normalizer normalize, const char *a, const char *b)
{
	g_autofree char *key_a = normalize(a);
	g_autofree char *key_b = normalize(b);

	if (g_strcmp0(key_a, key_b) != 0)
		g_error("\"%s\" (\"%s\") and \"%s\" (\"%s\") should be equal", a, key_a, b, key_b);
}

static void assert_differ(Normalizer normalize, const char *a, const char *b)
{
	g_autofree char *key_a = normalize(a);
	g_autofree char *key_b = normalize(b);

	if (g_strcmp0(key_a, key_b) == 0)
		g_error("\"%s\" and \"%s\" should differ, both gave \"%s\"", a, b, key_a);
}

static void test_name_japanese(void)
{
	assert_key(normalize_name, "山田 太郎", "山田太郎");
	assert_key(normalize_name, "山田　太郎", "山田太郎");
	assert_same(normalize_name, "山田 太郎", "山田太郎");
	assert_same(normalize_name, "山田　太郎", "山田太郎");
	assert_same(normalize_name, "\u3000山田\u3000\u3000太郎\u3000", "山田太郎");
	/* Half-width katakana become full-width under NFKC. */
	assert_same(normalize_name, "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ");
	/* Different people stay different. */
	assert_differ(normalize_name, "山田太郎", "山田次郎");
	assert_differ(normalize_name, "山田太郎", "山本太郎");
}

static void test_name_latin(void)
{
	assert_key(normalize_name, "Ken  Suzuki", "kensuzuki");
	assert_same(normalize_name, "Ken  Suzuki", "ken suzuki");
	assert_same(normalize_name, "KEN SUZUKI", "ken suzuki");
	assert_same(normalize_name, "\tKen\nSuzuki ", "ken suzuki");
	/* Full-width Latin (typed with a Japanese input method) is ASCII. */
	assert_key(normalize_name, "Ｋｅｎ　Ｓｕｚｕｋｉ", "kensuzuki");
	/* No-break and zero-width spaces, as pasted from web pages. */
	assert_same(normalize_name, "Ken\u00a0Suzuki", "Ken Suzuki");
	assert_same(normalize_name, "Ken\u200bSuzuki", "Ken Suzuki");
	/* Case folding beyond ASCII. */
	assert_same(normalize_name, "JÜRGEN MÜLLER", "jürgen müller");
	assert_same(normalize_name, "Straße", "STRASSE");
	/* Composed and decomposed accents are one name. */
	assert_same(normalize_name, "Ren\u00e9e", "Rene\u0301e");
	assert_differ(normalize_name, "Ken Suzuki", "Ken Suzuka");
}

static void test_name_edge(void)
{
	assert_key(normalize_name, NULL, "");
	assert_key(normalize_name, "", "");
	assert_key(normalize_name, "   ", "");
	assert_key(normalize_name, "\u3000", "");
	/* Invalid UTF-8 is repaired, not refused. */
	g_autofree char *key = normalize_name("Ken\xff Suzuki");
	g_assert_true(g_utf8_validate(key, -1, NULL));
	g_assert_true(g_str_has_prefix(key, "ken"));
	g_assert_true(g_str_has_suffix(key, "suzuki"));
}

/* Stable text (ASCII, kana, ideographs) is copied and the rest folded in
 * pieces: what joins across a piece's edges must come out as from the whole
 * text folded at once. */
static void test_fold_pieces(void)
{
	/* A combining or half-width voiced mark joins the kana before it. */
	assert_key(normalize_fold, "か\u3099", "が");
	assert_key(normalize_fold, "か\uff9e", "が");
	assert_key(normalize_fold, "は\u309a", "ぱ");
	assert_key(normalize_fold, "ABCか\u3099DEF", "abcがdef");
	assert_key(normalize_fold, "ﾃﾞｰﾀ", "データ");
	/* So does an accent the ASCII letter before it, upper case or not. */
	assert_key(normalize_fold, "Rene\u0301e", "ren\u00e9e");
	assert_key(normalize_fold, "E\u0301", "\u00e9");
	assert_key(normalize_fold, "Ａ\u0301", "\u00e1");
	assert_key(normalize_fold, "I\u0307stanbul", "i\u0307stanbul");
	assert_key(normalize_fold, "\u1100\u1161", "\uac00");
	/* Mixed text: only what is not stable changes. */
	assert_key(normalize_fold, "Ｈｅｌｌｏ！世界", "hello!世界");
	assert_key(normalize_fold, "カフェ・ラテ", "カフェ・ラテ");
	assert_key(normalize_fold, "\U0001f44d OK", "\U0001f44d ok");
	/* Case folding that expands, or gives what NFKC changes again. */
	assert_key(normalize_fold, "Straße", "strasse");
	assert_key(normalize_fold, "STRA\u1e9eE", "strasse");
	assert_key(normalize_fold, "\u01c5UNGLA", "d\u017eungla");
	assert_key(normalize_fold, "\u212b", "\u00e5");
	assert_key(normalize_fold, "\ufb01", "fi");
	/* Each invalid byte is one U+FFFD, as g_utf8_make_valid() makes it,
	 * also where a stable character's bytes follow or precede it. */
	assert_key(normalize_fold, "a\xff" "b", "a\ufffdb");
	assert_key(normalize_fold, "か\xe3\x81", "か\ufffd\ufffd");
	assert_key(normalize_fold, "\xe3\x81" "か", "\ufffd\ufffdか");
	assert_key(normalize_fold, "\xe3\xe3\x81\x81", "\ufffdぁ");
	assert_key(normalize_fold, "A\xff\u0301", "a\ufffd\u0301");
	assert_key(normalize_fold, NULL, "");
	assert_key(normalize_fold, "", "");
}

static void test_org_japanese(void)
{
	assert_key(normalize_org, "株式会社ABC", "abc");
	assert_key(normalize_org, "ABC株式会社", "abc");
	assert_key(normalize_org, "(株)ABC", "abc");
	assert_key(normalize_org, "（株）ABC", "abc");
	assert_key(normalize_org, "㈱ABC", "abc");
	assert_key(normalize_org, "ABC㈱", "abc");
	assert_key(normalize_org, "ＡＢＣ 株式会社", "abc");
	assert_key(normalize_org, "株式会社　ＡＢＣ", "abc");
	assert_key(normalize_org, "株式会社サンプル", "サンプル");
	assert_same(normalize_org, "株式会社サンプル", "サンプル株式会社");
	assert_same(normalize_org, "(株)サンプル", "ｻﾝﾌﾟﾙ");
	assert_same(normalize_org, "有限会社山田商店", "山田商店");
	assert_same(normalize_org, "(有)山田商店", "㈲山田商店");
	assert_same(normalize_org, "合同会社DMM.com", "DMM.com");
	assert_same(normalize_org, "一般社団法人 日本ABC協会", "日本ABC協会");
	assert_same(normalize_org, "特定非営利活動法人サンプル", "サンプル");
	/* The name itself stays whole. */
	assert_key(normalize_org, "株式会社三井住友銀行", "三井住友銀行");
	assert_differ(normalize_org, "株式会社ABC", "株式会社ABD");
	assert_differ(normalize_org, "ソニー株式会社", "ソニーグループ株式会社");
}

static void test_org_latin(void)
{
	assert_key(normalize_org, "Example, Inc.", "example");
	assert_same(normalize_org, "Example, Inc.", "Example Inc");
	assert_same(normalize_org, "Example Inc", "EXAMPLE");
	assert_same(normalize_org, "Example Incorporated", "example");
	assert_same(normalize_org, "Example Corporation", "Example Corp.");
	assert_same(normalize_org, "Example Corp", "Example");
	assert_same(normalize_org, "Example Co., Ltd.", "Example");
	assert_same(normalize_org, "Example Co.,Ltd.", "Example");
	assert_same(normalize_org, "Example Co. Ltd", "Example");
	assert_same(normalize_org, "Example Co Ltd", "Example");
	assert_same(normalize_org, "Example Limited", "Example Ltd");
	assert_same(normalize_org, "Example LLC", "Example, L.L.C.");
	assert_same(normalize_org, "Example GmbH", "Example");
	assert_same(normalize_org, "Example GmbH & Co. KG", "Example");
	assert_same(normalize_org, "Example AG", "Example");
	assert_same(normalize_org, "Example S.A.", "Example");
	assert_same(normalize_org, "Example K.K.", "Example KK");
	assert_same(normalize_org, "Example plc", "Example PLC");
	assert_same(normalize_org, "Example Pty Ltd", "Example");
	assert_same(normalize_org, "Goldman Sachs & Co. LLC", "Goldman Sachs");
	/* Japanese and Latin forms together, full width. */
	assert_same(normalize_org, "ＡＢＣ　Ｃｏ．，Ｌｔｄ．", "abc");
	/* White space inside the name does not count. */
	assert_same(normalize_org, "Acme  Widgets Inc.", "acme widgets");
	assert_differ(normalize_org, "ABC", "ABD");
	assert_differ(normalize_org, "Example Inc.", "Sample Inc.");
}

static void test_org_word_boundaries(void)
{
	/* A form is only stripped as a word of its own at the end. */
	assert_key(normalize_org, "Bag", "bag");
	assert_key(normalize_org, "Disco", "disco");
	assert_key(normalize_org, "Zinc", "zinc");
	assert_key(normalize_org, "Packk", "packk");
	/* Latin forms at the start are names, not forms. */
	assert_key(normalize_org, "AG Barr", "agbarr");
	assert_key(normalize_org, "Co-op Bank", "co-opbank");
	assert_key(normalize_org, "Limited Brands", "limitedbrands");
	/* Punctuation inside a name stays. */
	assert_key(normalize_org, "AT&T Inc.", "at&t");
	assert_key(normalize_org, "Yahoo! Inc.", "yahoo!");
}

static void test_org_only_form(void)
{
	/* An organisation that is only a company form keeps a key. */
	assert_key(normalize_org, "株式会社", "株式会社");
	assert_key(normalize_org, "(株)", "(株)");
	assert_key(normalize_org, "㈱", "(株)");
	assert_key(normalize_org, "Inc.", "inc");
	assert_key(normalize_org, "Co., Ltd.", "co");
	assert_key(normalize_org, "株式会社 Inc.", "inc");
	assert_differ(normalize_org, "株式会社", "");
	assert_key(normalize_org, NULL, "");
	assert_key(normalize_org, "", "");
	assert_key(normalize_org, " , ", "");
}

static void test_email(void)
{
	assert_key(normalize_email, "Taro.Yamada@Example.CO.JP", "taro.yamada@example.co.jp");
	assert_key(normalize_email, "  ken@example.com \r\n", "ken@example.com");
	assert_key(normalize_email, "mailto:Ken@Example.com", "ken@example.com");
	assert_key(normalize_email, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp");
	assert_key(normalize_email, "\u3000hanako@example.jp\u3000", "hanako@example.jp");
	assert_same(normalize_email, "KEN+work@example.com", "ken+work@example.com");
	assert_differ(normalize_email, "ken@example.com", "ken@example.org");
	assert_key(normalize_email, NULL, "");
	assert_key(normalize_email, "", "");
}

static void test_url(void)
{
	assert_key(normalize_url, "https://www.example.com/", "example.com");
	assert_key(normalize_url, "http://Example.COM/Blog/", "example.com/Blog");
	assert_key(normalize_url, "HTTPS://WWW.Example.com/Path/Page?utm_source=x#top",
		   "example.com/Path/Page");
	assert_key(normalize_url, "example.com/a/b//", "example.com/a/b");
	assert_key(normalize_url, "//example.com/x", "example.com/x");
	assert_key(normalize_url, "  https://note.com/Tanaka_Hanako  ", "note.com/Tanaka_Hanako");
	assert_key(normalize_url, "https://example.com:443/x", "example.com/x");
	assert_key(normalize_url, "http://example.com:8080/x", "example.com:8080/x");
	assert_key(normalize_url, "https://user@example.com/x", "example.com/x");
	/* Path case matters outside LinkedIn. */
	assert_differ(normalize_url, "https://github.com/Taro", "https://github.com/taro");
	assert_same(normalize_url, "https://example.com/page?a=1", "http://www.example.com/page#b");
	assert_key(normalize_url, NULL, "");
	assert_key(normalize_url, "", "");
}

static void test_url_linkedin(void)
{
	assert_key(normalize_url, "https://www.linkedin.com/in/Taro-Yamada-1a2b3c/",
		   "linkedin.com/in/taro-yamada-1a2b3c");
	assert_same(normalize_url, "https://www.linkedin.com/in/taro-yamada-1a2b3c",
		    "linkedin.com/in/TARO-YAMADA-1A2B3C");
	assert_same(normalize_url, "https://jp.linkedin.com/in/taro-yamada",
		    "http://www.linkedin.com/in/taro-yamada?trk=public_profile");
	assert_same(normalize_url, "https://m.linkedin.com/in/ken-suzuki/",
		    "https://www.linkedin.com/in/ken-suzuki");
	/* Percent-encoded Japanese slugs, in either hex case, match the text. */
	assert_same(normalize_url, "https://www.linkedin.com/in/%E5%B1%B1%E7%94%B0-%E5%A4%AA%E9%83%8E",
		    "https://www.linkedin.com/in/山田-太郎");
	assert_same(normalize_url, "https://www.linkedin.com/in/%e5%b1%b1%e7%94%b0",
		    "https://www.linkedin.com/in/%E5%B1%B1%E7%94%B0");
	/* Other LinkedIn paths keep their case; other people differ. */
	assert_differ(normalize_url, "https://www.linkedin.com/company/Example",
		      "https://www.linkedin.com/company/example");
	assert_differ(normalize_url, "https://www.linkedin.com/in/ken-suzuki-1",
		      "https://www.linkedin.com/in/ken-suzuki-2");
	/* A host that only ends in "linkedin.com" is not LinkedIn. */
	assert_key(normalize_url, "https://notlinkedin.com/in/Taro", "notlinkedin.com/in/Taro");
	/* An escaped slash or NUL is left escaped. */
	assert_key(normalize_url, "https://example.com/a%2Fb", "example.com/a%2Fb");
	assert_key(normalize_url, "https://example.com/a%00b", "example.com/a%00b");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/normalize/fold/pieces", test_fold_pieces);
	g_test_add_func("/normalize/name/japanese", test_name_japanese);
	g_test_add_func("/normalize/name/latin", test_name_latin);
	g_test_add_func("/normalize/name/edge", test_name_edge);
	g_test_add_func("/normalize/org/japanese", test_org_japanese);
	g_test_add_func("/normalize/org/latin", test_org_latin);
	g_test_add_func("/normalize/org/word-boundaries", test_org_word_boundaries);
	g_test_add_func("/normalize/org/only-form", test_org_only_form);
	g_test_add_func("/normalize/email", test_email);
	g_test_add_func("/normalize/url", test_url);
	g_test_add_func("/normalize/url/linkedin", test_url_linkedin);
	return g_test_run();
}
