/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

/* The control protocol (doc/protocol.md): one JSON object per message,
 * each message one line ended by "\n". JSON never holds a raw newline, so
 * the reader always knows where a message ends. */
#define PROTOCOL_VERSION 1
/* A request is small but for an OPML import (a few thousand feeds); a
 * response lists up to every contact. */
#define PROTOCOL_MAX_REQUEST (2 * 1024 * 1024)
#define PROTOCOL_MAX_RESPONSE (64 * 1024 * 1024)

/* Error codes of a refused request. */
#define PROTOCOL_E_BAD_REQUEST "bad-request"
#define PROTOCOL_E_TOO_LARGE "too-large"
#define PROTOCOL_E_VERSION "unsupported-version"
#define PROTOCOL_E_UNKNOWN_COMMAND "unknown-command"
#define PROTOCOL_E_INVALID "invalid-argument"
#define PROTOCOL_E_NOT_FOUND "not-found"
#define PROTOCOL_E_AMBIGUOUS "ambiguous"
#define PROTOCOL_E_PERMISSION "permission-denied"
#define PROTOCOL_E_FAILED "failed"

/* Where tiesd listens unless told otherwise: $XDG_RUNTIME_DIR/ties/tiesd.sock
 * (GLib's fallback when the variable is unset, the same in tiesd and tiesctl). */
char *protocol_default_socket(void);

/* Splits a byte stream into messages. */
typedef struct {
	GString *pending; /* owned; bytes after the last complete message */
	gsize max_message; /* newline included */
} FrameReader;

/* MAX_MESSAGE: PROTOCOL_MAX_REQUEST in the daemon, _RESPONSE in clients. */
void frame_reader_init(FrameReader *reader, gsize max_message);
void frame_reader_clear(FrameReader *reader);
/* Appends bytes read from the peer. */
void frame_reader_feed(FrameReader *reader, const char *data, gsize len);
/* Returns the next complete message (without its "\n"), or NULL when more
 * bytes are needed. Fails once the pending message exceeds
 * its maximum: the stream cannot be resynchronised after that. */
char *frame_reader_next(FrameReader *reader, GError **error);

/* Serialises OBJECT as one message, "\n" included. */
char *protocol_encode(JsonObject *object, gsize *out_len);
/* Parses one message; it must be a JSON object. */
JsonObject *protocol_decode(const char *message, GError **error);

/* {"version":1,"command":COMMAND,"args":ARGS} (ARGS taken over; may be NULL). */
JsonObject *protocol_request_new(const char *command, JsonObject *args);
/* {"version":1,"ok":true,"result":RESULT} (RESULT taken over). */
JsonObject *protocol_result_new(JsonObject *result);
/* {"version":1,"ok":false,"error":{"code","message"}} */
JsonObject *protocol_error_new(const char *code, const char *format, ...) G_GNUC_PRINTF(2, 3);
/* {"version":1,"progress":PROGRESS} (PROGRESS taken over). */
JsonObject *protocol_progress_new(JsonObject *progress);

/* Member access that tolerates absent and null members. */
const char *json_get_string(JsonObject *object, const char *member);
gint64 json_get_int(JsonObject *object, const char *member, gint64 fallback);
gboolean json_get_bool(JsonObject *object, const char *member);
JsonObject *json_get_object(JsonObject *object, const char *member);
JsonArray *json_get_array(JsonObject *object, const char *member);
/* Sets MEMBER to VALUE, or to null when VALUE is NULL. */
void json_set_string_or_null(JsonObject *object, const char *member, const char *value);
/* Sets MEMBER to date_format_utc(VALUE), or null when VALUE is 0. */
void json_set_time_or_null(JsonObject *object, const char *member, gint64 value);
/* Adds member NAME with VALUE, or null when VALUE is NULL. */
void json_builder_add_string_member(JsonBuilder *builder, const char *name, const char *value);
/* A JSON array of the strings in ARRAY (char*). */
JsonArray *json_array_from_strings(const GPtrArray *array);
