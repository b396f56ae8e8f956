/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int max_priority = LOG_INFO;

void log_set_max_priority(int priority)
{
	max_priority = priority;
}

void log_msg(int priority, const char *format, ...)
{
	if (priority > max_priority)
		return;

	va_list ap;
	va_start(ap, format);
	g_autofree char *text = g_strdup_vprintf(format, ap);
	va_end(ap);

	if (isatty(STDERR_FILENO))
		fprintf(stderr, "tiesd: %s\n", text);
	else
		fprintf(stderr, "<%d>%s\n", priority, text);
}
