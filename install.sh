#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Sets ties up on Debian 12: installs the build dependencies, builds,
# installs into PREFIX (default ~/.local), installs the systemd user units
# and starts tiesd.socket. Without a systemd user manager (a container, a
# bare ssh login) it starts tiesd by hand instead, so `tiesctl status`
# answers either way.
#
#   ./install.sh [PREFIX]        set up and run
#   ./install.sh --deps          only install the build and run dependencies
#   ./install.sh --test-deps     also the servers the test suite starts
#   ./install.sh --bench-deps    also the peer tools bench/ compares with
set -eu
cd "$(dirname "$0")"

BUILD_DEPS="build-essential autoconf automake pkg-config libglib2.0-dev libjson-glib-dev
 libsqlite3-dev libcurl4-openssl-dev libxml2-dev libnotify-dev libsystemd-dev"
RUN_DEPS="systemd dbus"
TEST_DEPS="python3 sqlite3 openssl curl xvfb dbus-daemon dunst radicale xandikos nginx-light valgrind
 tzdata"
BENCH_DEPS="vdirsyncer newsboat time bc curl"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
	as_root apt-get update
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

case "${1:-}" in
--deps)
	install_packages $BUILD_DEPS $RUN_DEPS
	exit 0
	;;
--test-deps)
	install_packages $BUILD_DEPS $RUN_DEPS $TEST_DEPS
	exit 0
	;;
--bench-deps)
	install_packages $BUILD_DEPS $RUN_DEPS $TEST_DEPS $BENCH_DEPS
	exit 0
	;;
esac

PREFIX=${1:-$HOME/.local}
install_packages $BUILD_DEPS $RUN_DEPS
./autogen.sh
./configure --prefix="$PREFIX" --with-systemduserunitdir="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
make -j"$(nproc)"
make install

if systemctl --user show-environment >/dev/null 2>&1; then
	systemctl --user daemon-reload
	systemctl --user enable --now tiesd.socket
	echo "tiesd.socket is listening; try: $PREFIX/bin/tiesctl status"
else
	echo "No systemd user manager is running here; starting tiesd by hand."
	echo "(On a desktop, this step is: systemctl --user enable --now tiesd.socket)"
	mkdir -p "${XDG_STATE_HOME:-$HOME/.local/state}"
	nohup "$PREFIX/bin/tiesd" >"${XDG_STATE_HOME:-$HOME/.local/state}/tiesd.log" 2>&1 &
	i=0
	until "$PREFIX/bin/tiesctl" version >/dev/null 2>&1 || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
	echo "tiesd is running (log: ${XDG_STATE_HOME:-$HOME/.local/state}/tiesd.log); try: $PREFIX/bin/tiesctl status"
fi
