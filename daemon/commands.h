/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "control.h"

/* Answers one control request; USER_DATA is the Tiesd. See doc/protocol.md. */
void commands_handle(ControlRequest *request, const char *command, JsonObject *args, gpointer user_data);
