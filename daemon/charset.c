/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

#include "charset.h"

static const struct {
	const char *label;
	const char *iconv_name;
} charset_aliases[] = {
	{ "shift_jis", "CP932" },   { "shift-jis", "CP932" }, { "sjis", "CP932" },
	{ "x-sjis", "CP932" },      { "ms_kanji", "CP932" },  { "csshiftjis", "CP932" },
	{ "windows-31j", "CP932" }, { "cp932", "CP932" },     { "x-ms-cp932", "CP932" },
	{ "euc-jp", "EUC-JP-MS" },  { "x-euc-jp", "EUC-JP-MS" }, { "cseucpkdfmtjapanese", "EUC-JP-MS" },
	{ "iso-8859-1", "WINDOWS-1252" }, { "iso8859-1", "WINDOWS-1252" }, { "latin1", "WINDOWS-1252" },
	{ "l1", "WINDOWS-1252" },   { "us-ascii", "WINDOWS-1252" }, { "ascii", "WINDOWS-1252" },
	{ "ansi", "WINDOWS-1252" },
	{ "utf8", "UTF-8" },
};

const char *charset_iconv_name(const char *label)
{
	for (gsize i = 0; i < G_N_ELEMENTS(charset_aliases); i++)
		if (g_ascii_strcasecmp(label, charset_aliases[i].label) == 0)
			return charset_aliases[i].iconv_name;
	return label;
}

char *charset_to_utf8(const char *data, gssize len, const char *label, GError **error)
{
	const char *from = charset_iconv_name(label);
	gsize in_left = len < 0 ? strlen(data) : (gsize)len;

	if (g_ascii_strcasecmp(from, "UTF-8") == 0)
		return g_utf8_make_valid(data, in_left);

	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1) {
		g_set_error(error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION,
			    "unknown charset \"%s\"", label);
		return NULL;
	}

	/* An undecodable unit is skipped whole: two bytes in UTF-16, four in
	 * UTF-32, else one. */
	gsize unit = 1;
	if (g_ascii_strncasecmp(from, "UTF-16", 6) == 0 || g_ascii_strncasecmp(from, "UCS-2", 5) == 0)
		unit = 2;
	else if (g_ascii_strncasecmp(from, "UTF-32", 6) == 0 || g_ascii_strncasecmp(from, "UCS-4", 5) == 0)
		unit = 4;

	/* UTF-8 takes at most 3 bytes per input byte for these charsets; the
	 * replacement character takes 3 as well. */
	gsize out_size = in_left * 3 + 1;
	char *out = g_malloc(out_size);
	char *in_ptr = (char *)data, *out_ptr = out;
	gsize out_left = out_size - 1;

	while (in_left > 0) {
		if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) != (size_t)-1)
			break;
		if (errno == E2BIG) {
			gsize used = out_ptr - out;
			out_size *= 2;
			out = g_realloc(out, out_size);
			out_ptr = out + used;
			out_left = out_size - used - 1;
			continue;
		}
		/* EILSEQ or EINVAL: replace one byte and go on. */
		if (out_left < 3) {
			gsize used = out_ptr - out;
			out_size = out_size * 2 + 4;
			out = g_realloc(out, out_size);
			out_ptr = out + used;
			out_left = out_size - used - 1;
		}
		memcpy(out_ptr, "\xEF\xBF\xBD", 3);
		out_ptr += 3;
		out_left -= 3;
		in_ptr += MIN(unit, in_left);
		in_left -= MIN(unit, in_left);
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	iconv_close(cd);
	*out_ptr = '\0';
	return out;
}

char *charset_guess_to_utf8(const char *data, gssize len)
{
	gsize n = len < 0 ? strlen(data) : (gsize)len;

	if (g_utf8_validate_len(data, n, NULL))
		return g_strndup(data, n);
	return charset_to_utf8(data, n, "WINDOWS-1252", NULL);
}
