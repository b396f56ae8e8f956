#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stands in for dmenu in dunst's context menu: records the menu dunst
# offered in $1 and chooses the "Reached out" action of the nudge whose
# summary is named in pick.txt beside it.
cat > "$1"
name=$(cat "$(dirname "$1")/pick.txt")
grep -m1 -F "#Reached out (Reach out to $name)" "$1"
