#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
CARDDAV_SERVER=radicale
. "$TESTS_SRCDIR/integration/carddav.inc.sh"
