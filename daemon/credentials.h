/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

/* Where a source's password comes from (SPEC §8): password-command, else
 * ~/.netrc, else inline. Passwords are never logged. */

/* The password for USERNAME (may be NULL: the netrc entry's login then
 * counts) at the host of URL from the netrc file PATH; NULL when none.
 * *OUT_LOGIN (may be NULL) gets the entry's login. */
char *netrc_lookup(const char *path, const char *url, const char *username, char **out_login);

typedef void (*PasswordFunc)(char *password, const char *error, gpointer user_data);

/* Runs COMMAND (split like a shell would, not run by one) without blocking
 * the loop; DONE gets its first output line (owned by DONE, NULL on
 * failure) or why it failed. Killed after a timeout. */
void password_command_run(const char *command, PasswordFunc done, gpointer user_data);
