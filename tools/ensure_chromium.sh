#!/usr/bin/env bash
# Make sure a Chromium for `make e2e` exists: Debian's chromium package at /usr/bin/chromium
# (or the executable named by $CHROMIUM). Installs it with apt-get when running as root;
# otherwise says what to install and fails. Never downloads a browser any other way.
set -euo pipefail
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
if [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "chromium: not found, installing Debian's chromium package with apt-get"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
    if [ -x "$CHROMIUM" ]; then
        echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
        exit 0
    fi
    echo "apt-get installed chromium but $CHROMIUM is still missing" >&2
fi
cat >&2 <<MSG
make e2e needs Chromium at $CHROMIUM and cannot install it here.
Install Debian's chromium package, as root:   apt-get update && apt-get install -y chromium
(on Ubuntu without snap, or elsewhere: any Chromium/Chrome, then  make e2e CHROMIUM=/path/to/chromium)
MSG
exit 1
