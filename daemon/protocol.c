/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "duration.h"
#include "protocol.h"

char *protocol_default_socket(void)
{
	return g_build_filename(g_get_user_runtime_dir(), "ties", "tiesd.sock", NULL);
}

void frame_reader_init(FrameReader *reader, gsize max_message)
{
	reader->pending = g_string_new(NULL);
	reader->max_message = max_message;
}

void frame_reader_clear(FrameReader *reader)
{
	if (reader->pending)
		g_string_free(reader->pending, TRUE);
	reader->pending = NULL;
}

void frame_reader_feed(FrameReader *reader, const char *data, gsize len)
{
	g_string_append_len(reader->pending, data, len);
}

char *frame_reader_next(FrameReader *reader, GError **error)
{
	const char *newline = memchr(reader->pending->str, '\n', reader->pending->len);

	if (!newline) {
		if (reader->pending->len >= reader->max_message) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
				    "message larger than %" G_GSIZE_FORMAT " bytes", reader->max_message);
			return NULL;
		}
		return NULL;
	}
	gsize len = newline - reader->pending->str;
	if (len + 1 > reader->max_message) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
			    "message larger than %" G_GSIZE_FORMAT " bytes", reader->max_message);
		return NULL;
	}
	char *message = g_strndup(reader->pending->str, len);
	g_string_erase(reader->pending, 0, len + 1);
	return message;
}

char *protocol_encode(JsonObject *object, gsize *out_len)
{
	g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonGenerator) generator = json_generator_new();

	json_node_set_object(node, object);
	json_generator_set_root(generator, node);
	gsize len;
	char *text = json_generator_to_data(generator, &len);
	text = g_realloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	if (out_len)
		*out_len = len + 1;
	return text;
}

JsonObject *protocol_decode(const char *message, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();

	if (!g_utf8_validate(message, -1, NULL)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "message is not UTF-8");
		return NULL;
	}
	if (!json_parser_load_from_data(parser, message, -1, error))
		return NULL;
	JsonNode *root = json_parser_get_root(parser);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "message is not a JSON object");
		return NULL;
	}
	return json_object_ref(json_node_get_object(root));
}

static JsonObject *envelope_new(void)
{
	JsonObject *object = json_object_new();
	json_object_set_int_member(object, "version", PROTOCOL_VERSION);
	return object;
}

JsonObject *protocol_request_new(const char *command, JsonObject *args)
{
	JsonObject *object = envelope_new();
	json_object_set_string_member(object, "command", command);
	json_object_set_object_member(object, "args", args ? args : json_object_new());
	return object;
}

JsonObject *protocol_result_new(JsonObject *result)
{
	JsonObject *object = envelope_new();
	json_object_set_boolean_member(object, "ok", TRUE);
	json_object_set_object_member(object, "result", result ? result : json_object_new());
	return object;
}

JsonObject *protocol_error_new(const char *code, const char *format, ...)
{
	JsonObject *object = envelope_new();
	JsonObject *error = json_object_new();
	va_list ap;

	va_start(ap, format);
	g_autofree char *message = g_strdup_vprintf(format, ap);
	va_end(ap);
	json_object_set_string_member(error, "code", code);
	json_object_set_string_member(error, "message", message);
	json_object_set_boolean_member(object, "ok", FALSE);
	json_object_set_object_member(object, "error", error);
	return object;
}

JsonObject *protocol_progress_new(JsonObject *progress)
{
	JsonObject *object = envelope_new();
	json_object_set_object_member(object, "progress", progress);
	return object;
}

static JsonNode *member_of_type(JsonObject *object, const char *member, GType type)
{
	JsonNode *node = object ? json_object_get_member(object, member) : NULL;

	if (!node || JSON_NODE_HOLDS_NULL(node))
		return NULL;
	if (type == JSON_TYPE_OBJECT)
		return JSON_NODE_HOLDS_OBJECT(node) ? node : NULL;
	if (type == JSON_TYPE_ARRAY)
		return JSON_NODE_HOLDS_ARRAY(node) ? node : NULL;
	if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != type)
		return NULL;
	return node;
}

const char *json_get_string(JsonObject *object, const char *member)
{
	JsonNode *node = member_of_type(object, member, G_TYPE_STRING);
	return node ? json_node_get_string(node) : NULL;
}

gint64 json_get_int(JsonObject *object, const char *member, gint64 fallback)
{
	JsonNode *node = member_of_type(object, member, G_TYPE_INT64);
	return node ? json_node_get_int(node) : fallback;
}

gboolean json_get_bool(JsonObject *object, const char *member)
{
	JsonNode *node = member_of_type(object, member, G_TYPE_BOOLEAN);
	return node ? json_node_get_boolean(node) : FALSE;
}

JsonObject *json_get_object(JsonObject *object, const char *member)
{
	JsonNode *node = member_of_type(object, member, JSON_TYPE_OBJECT);
	return node ? json_node_get_object(node) : NULL;
}

JsonArray *json_get_array(JsonObject *object, const char *member)
{
	JsonNode *node = member_of_type(object, member, JSON_TYPE_ARRAY);
	return node ? json_node_get_array(node) : NULL;
}

void json_set_string_or_null(JsonObject *object, const char *member, const char *value)
{
	if (value)
		json_object_set_string_member(object, member, value);
	else
		json_object_set_null_member(object, member);
}

void json_set_time_or_null(JsonObject *object, const char *member, gint64 value)
{
	if (value) {
		g_autofree char *text = date_format_utc(value);
		json_object_set_string_member(object, member, text);
	} else {
		json_object_set_null_member(object, member);
	}
}

void json_builder_add_string_member(JsonBuilder *builder, const char *name, const char *value)
{
	json_builder_set_member_name(builder, name);
	if (value)
		json_builder_add_string_value(builder, value);
	else
		json_builder_add_null_value(builder);
}

JsonArray *json_array_from_strings(const GPtrArray *array)
{
	JsonArray *out = json_array_new();

	for (guint i = 0; array && i < array->len; i++)
		json_array_add_string_element(out, g_ptr_array_index(array, i));
	return out;
}
