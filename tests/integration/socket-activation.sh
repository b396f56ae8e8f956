#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# The units pass systemd-analyze, and the first tiesctl call starts tiesd
# through real socket activation (systemd-socket-activate).
. "$TESTS_SRCDIR/integration/lib.sh"
require systemd-socket-activate systemd-analyze
plan 8

# The units as installed, with ExecStart pointing at the built binary.
mkdir -p "$TEST_DIR/units"
sed "s|^ExecStart=.*|ExecStart=$TIESD|" "$UNITS_BUILDDIR/tiesd.service" > "$TEST_DIR/units/tiesd.service"
cp "$UNITS_SRCDIR/tiesd.socket" "$TEST_DIR/units/tiesd.socket"
out=$(systemd-analyze --user --man=no verify "$TEST_DIR/units/tiesd.socket" "$TEST_DIR/units/tiesd.service" 2>&1)
rc=$?
is "systemd-analyze --user --man=no verify passes" "$rc" 0
unlike "and says nothing about our units" "$out" "tiesd\.(service|socket)"
like "the service is Type=notify with a watchdog" "$(cat "$TEST_DIR/units/tiesd.service")" "^Type=notify"
like "the socket listens in the runtime dir, mode 0600" "$(cat "$TEST_DIR/units/tiesd.socket")" "ListenStream=%t/ties/tiesd.sock"

mkdir -p "$XDG_RUNTIME_DIR/ties"
chmod 700 "$XDG_RUNTIME_DIR/ties"
systemd-socket-activate -l "$SOCK" "$TIESD" --debug >>"$TIESD_LOG" 2>&1 &
activator=$!
cleanup_pids="$cleanup_pids $activator"
wait_for 5 test -S "$SOCK"
if grep -q "tiesd .* started" "$TIESD_LOG" 2>/dev/null; then not_ok "tiesd waits for the first connection"; else ok "tiesd waits for the first connection"; fi
out=$(tiesctl --json status)
is "the first tiesctl call is answered" "$(printf '%s\n' "$out" | json 'd["version"]')" "$("$TIESD" --version | cut -d' ' -f2)"
is "by tiesd itself, in the activator's process" "$(printf '%s\n' "$out" | json 'd["pid"]')" "$activator"
like "which used the socket it was passed" "$(cat "$TIESD_LOG")" "listening on the socket systemd passed"
