/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <syslog.h>

/* Messages go to stderr with sd-daemon "<N>" priority prefixes, which
 * journald turns into priorities; on a terminal the prefix is left out. */
void log_set_max_priority(int priority);
void log_msg(int priority, const char *format, ...) G_GNUC_PRINTF(2, 3);

#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
