/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* A problem in one card, row or item of an input file; the rest is kept. */
typedef struct {
	char *file;    /* owned; may be NULL for in-memory input */
	guint line;    /* 1-based; 0 when unknown */
	char *message; /* owned */
} ParseError;

ParseError *parse_error_new(const char *file, guint line, const char *format, ...) G_GNUC_PRINTF(3, 4);
void parse_error_free(ParseError *error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ParseError, parse_error_free)

/* Appends a ParseError to an array created with parse_errors_new(). */
GPtrArray *parse_errors_new(void);
/* [{"file","line","message"}] */
JsonNode *parse_errors_to_json(const GPtrArray *errors);
