/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* The iconv name to decode a labelled charset with, the way browsers do
 * (WHATWG Encoding Standard): Shift_JIS labels mean CP932, EUC-JP takes the
 * Microsoft extensions, ISO-8859-1 and US-ASCII mean windows-1252. Returns
 * the label itself when it needs no mapping. Never NULL. */
const char *charset_iconv_name(const char *label);

/* Decodes LEN bytes in the charset LABEL into a new NUL-terminated UTF-8
 * string. Undecodable bytes become U+FFFD rather than failing the whole
 * text; only an unknown charset is an error. LEN < 0 means NUL-terminated. */
char *charset_to_utf8(const char *data, gssize len, const char *label, GError **error);

/* Returns DATA as valid UTF-8: unchanged when it already is, otherwise
 * decoded as windows-1252 (what unlabelled non-UTF-8 exports are). */
char *charset_guess_to_utf8(const char *data, gssize len);
