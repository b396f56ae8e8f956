/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "protocol.h"

static void test_roundtrip(void)
{
	JsonObject *args = json_object_new();
	json_object_set_string_member(args, "contact", "山田\n太郎");
	g_autoptr(JsonObject) request = protocol_request_new("show", args);
	gsize len;
	g_autofree char *wire = protocol_encode(request, &len);

	g_assert_cmpuint(len, ==, strlen(wire));
	g_assert_true(g_str_has_suffix(wire, "\n"));
	/* The only raw newline is the frame's end. */
	g_assert_true(strchr(wire, '\n') == wire + len - 1);

	FrameReader reader;
	frame_reader_init(&reader, PROTOCOL_MAX_REQUEST);
	/* Byte by byte: a message split anywhere is reassembled. */
	char *message = NULL;
	for (gsize i = 0; i < len; i++) {
		g_assert_null(message);
		frame_reader_feed(&reader, wire + i, 1);
		message = frame_reader_next(&reader, NULL);
	}
	g_assert_nonnull(message);
	g_autoptr(JsonObject) decoded = protocol_decode(message, NULL);
	g_free(message);
	g_assert_nonnull(decoded);
	g_assert_cmpint(json_get_int(decoded, "version", 0), ==, PROTOCOL_VERSION);
	g_assert_cmpstr(json_get_string(decoded, "command"), ==, "show");
	g_assert_cmpstr(json_get_string(json_get_object(decoded, "args"), "contact"), ==, "山田\n太郎");
	frame_reader_clear(&reader);
}

static void test_several_in_one_read(void)
{
	FrameReader reader;
	frame_reader_init(&reader, PROTOCOL_MAX_REQUEST);
	const char *data = "{\"a\":1}\n{\"b\":2}\n{\"c\"";
	frame_reader_feed(&reader, data, strlen(data));
	g_autofree char *first = frame_reader_next(&reader, NULL);
	g_autofree char *second = frame_reader_next(&reader, NULL);
	g_autofree char *third = frame_reader_next(&reader, NULL);
	g_assert_cmpstr(first, ==, "{\"a\":1}");
	g_assert_cmpstr(second, ==, "{\"b\":2}");
	g_assert_null(third);
	frame_reader_clear(&reader);
}

static void test_oversized(void)
{
	FrameReader reader;
	g_autoptr(GError) error = NULL;
	g_autofree char *big = g_strnfill(PROTOCOL_MAX_REQUEST + 10, 'x');

	frame_reader_init(&reader, PROTOCOL_MAX_REQUEST);
	frame_reader_feed(&reader, big, strlen(big));
	g_assert_null(frame_reader_next(&reader, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
	frame_reader_clear(&reader);
}

static void test_bad_messages(void)
{
	static const char *const bad[] = { "", "garbage", "[1,2]", "\"text\"", "{\"a\":", "\xff\xfe{}" };
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_null(protocol_decode(bad[i], &error));
		g_assert_nonnull(error);
	}
}

static void test_envelopes(void)
{
	g_autoptr(JsonObject) error = protocol_error_new(PROTOCOL_E_NOT_FOUND, "no contact %d", 7);
	g_assert_false(json_get_bool(error, "ok"));
	g_assert_cmpstr(json_get_string(json_get_object(error, "error"), "code"), ==, "not-found");
	g_assert_cmpstr(json_get_string(json_get_object(error, "error"), "message"), ==, "no contact 7");

	g_autoptr(JsonObject) result = protocol_result_new(NULL);
	g_assert_true(json_get_bool(result, "ok"));
	g_assert_nonnull(json_get_object(result, "result"));

	/* Wrong types read as absent. */
	g_autoptr(JsonObject) decoded = protocol_decode("{\"version\":\"1\",\"args\":[],\"n\":null}", NULL);
	g_assert_cmpint(json_get_int(decoded, "version", -1), ==, -1);
	g_assert_null(json_get_object(decoded, "args"));
	g_assert_null(json_get_string(decoded, "n"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/protocol/roundtrip", test_roundtrip);
	g_test_add_func("/protocol/several-in-one-read", test_several_in_one_read);
	g_test_add_func("/protocol/oversized", test_oversized);
	g_test_add_func("/protocol/bad-messages", test_bad_messages);
	g_test_add_func("/protocol/envelopes", test_envelopes);
	return g_test_run();
}
