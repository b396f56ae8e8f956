#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
CARDDAV_SERVER=xandikos
. "$TESTS_SRCDIR/integration/carddav.inc.sh"
