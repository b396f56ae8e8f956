/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* NFKC with case folding, the core of every key below and of the job-post
 * phrases' comparison. Invalid UTF-8 is repaired. Never NULL; "" for NULL. */
char *normalize_fold(const char *text);

/* TRUE when TEXT is a contact id as users type one: digits only. */
gboolean text_is_id(const char *text);

/* Where TEXT (valid UTF-8) is cut to keep MAX_CHARS characters: after the
 * last one kept, or at its end. Walks no further. */
const char *text_cut_point(const char *text, gsize max_chars);
/* TEXT cut after MAX_CHARS characters, with "…" when something was cut;
 * a copy when it is no longer. NULL for NULL. */
char *text_shorten(const char *text, gsize max_chars);

/* A key for comparing person names: NFKC, case-folded, without white space
 * (山田 太郎 = 山田太郎 = 山田　太郎). Never NULL; "" for NULL input. */
char *normalize_name(const char *name);

/* A key for comparing organisations: as normalize_name(), and company-form
 * variants removed so that re-spelling is not a change: Japanese forms
 * (株式会社, (株), ㈱, 有限会社, 合同会社, 一般社団法人 …) at the start or the
 * end, Latin ones (Inc., Corporation, Corp., Co., Ltd., LLC, GmbH, AG, S.A.,
 * K.K., plc, Pty Ltd …) at the end as words of their own, stacked forms
 * ("Co., Ltd.") and the punctuation joining them too. A name that is only
 * a company form keeps that as its key. Never NULL; "" for NULL input. */
char *normalize_org(const char *org);

/* A key for an e-mail address: NFKC (full-width ＠), lower-cased, without
 * white space or a "mailto:" prefix. Never NULL. */
char *normalize_email(const char *email);

/* A key for a profile URL: scheme, "www.", user info, default port,
 * trailing slashes, query and fragment dropped; host lower-cased; path case
 * kept and percent-escapes decoded where they give text. Any *.linkedin.com
 * host is "linkedin.com" and its /in/ profile paths are lower-cased, as
 * LinkedIn treats them. Never NULL. */
char *normalize_url(const char *url);
