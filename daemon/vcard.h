/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "parse-error.h"

typedef struct {
	char *type; /* owned; lower case, e.g. "twitter", "linkedin"; may be NULL */
	char *user; /* owned; may be NULL */
	char *uri;  /* owned; may be NULL */
} VcardSocialProfile;

/* One card, normalised. Every string is owned, UTF-8, unescaped, and NULL
 * when the card does not have it. */
typedef struct {
	char *fn;
	char *n_family, *n_given, *n_additional, *n_prefix, *n_suffix;
	/* Reading of the name (フリガナ): family/given, or full when only one
	 * whole reading is known (SOUND;X-IRMC-N, SORT-STRING). */
	char *phonetic_family, *phonetic_given, *phonetic_full;
	char *org_name;
	GPtrArray *org_units; /* char*, never NULL */
	char *title, *nickname, *note, *uid, *kind, *rev;
	GPtrArray *nicknames;       /* char*, never NULL; nickname is the first */
	GPtrArray *emails;          /* char*, never NULL; as written, "mailto:" stripped, each once */
	GPtrArray *tels;            /* char*, never NULL */
	GPtrArray *urls;            /* char*, never NULL */
	GPtrArray *categories;      /* char*, never NULL */
	GPtrArray *social_profiles; /* VcardSocialProfile*, never NULL */
	char *bday;        /* "YYYY-MM-DD" or "--MM-DD" */
	char *anniversary; /* same */
	gboolean has_photo;    /* embedded (PHOTO, else X-MS-CARDPICTURE) or a URL */
	char *photo_mediatype; /* e.g. "image/jpeg"; may be NULL */
	gsize photo_bytes;     /* decoded size */
	char *photo_sha256;    /* hex of the decoded bytes; NULL for a URL */
	char *photo_uri;       /* a photo given by URL instead of embedded; may be NULL */
	char *file;    /* where the card was read from; may be NULL */
	guint line;    /* line of its BEGIN:VCARD */
	guint index;   /* 0-based position of the card in its file, skipped cards counted */
} VcardContact;

typedef struct {
	GPtrArray *contacts; /* VcardContact* */
	GPtrArray *errors;   /* ParseError* */
} VcardResult;

VcardResult *vcard_result_new(void);
void vcard_result_free(VcardResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VcardResult, vcard_result_free)

void vcard_contact_free(VcardContact *contact);

/* Parses every card in DATA (any vCard version, any line ending, BOM or
 * not) and appends them to RESULT. A broken card becomes an entry of
 * RESULT->errors naming FILE and its line; the other cards are kept. */
void vcard_parse_buffer(const char *data, gsize len, const char *file, VcardResult *result);

/* Parses a .vcf file, or every *.vcf file of a folder (a vdir), in name
 * order. Returns FALSE with ERROR only when PATH itself cannot be read. */
gboolean vcard_parse_path(const char *path, VcardResult *result, GError **error);

/* The shape of `tiesd --parse=vcard` (SPEC §6), with "tels" and "rev" too,
 * and a photo's "uri" beside "mediatype", "bytes" and "sha256". */
JsonNode *vcard_result_to_json(const VcardResult *result);
