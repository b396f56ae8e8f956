/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>

#include "parse-error.h"

ParseError *parse_error_new(const char *file, guint line, const char *format, ...)
{
	ParseError *error = g_new0(ParseError, 1);
	va_list ap;

	error->file = g_strdup(file);
	error->line = line;
	va_start(ap, format);
	error->message = g_strdup_vprintf(format, ap);
	va_end(ap);
	return error;
}

void parse_error_free(ParseError *error)
{
	if (!error)
		return;
	g_free(error->file);
	g_free(error->message);
	g_free(error);
}

GPtrArray *parse_errors_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)parse_error_free);
}

JsonNode *parse_errors_to_json(const GPtrArray *errors)
{
	g_autoptr(JsonBuilder) builder = json_builder_new();

	json_builder_begin_array(builder);
	for (guint i = 0; errors && i < errors->len; i++) {
		const ParseError *error = g_ptr_array_index(errors, i);
		json_builder_begin_object(builder);
		json_builder_set_member_name(builder, "file");
		if (error->file)
			json_builder_add_string_value(builder, error->file);
		else
			json_builder_add_null_value(builder);
		json_builder_set_member_name(builder, "line");
		json_builder_add_int_value(builder, error->line);
		json_builder_set_member_name(builder, "message");
		json_builder_add_string_value(builder, error->message);
		json_builder_end_object(builder);
	}
	json_builder_end_array(builder);
	return json_builder_get_root(builder);
}
