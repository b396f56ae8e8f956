#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Stands in for dmenu in dunst's context menu: records the menu dunst
# offered in $1 and chooses the entry that pick.txt beside it names, e.g.
# "#Reached out (Reach out to 山田 太郎)".
cat > "$1"
grep -m1 -F "$(cat "$(dirname "$1")/pick.txt")" "$1"
