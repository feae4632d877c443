#!/usr/bin/env bash
# Installs the browser that tests/test_browser.py drives: Debian's Chromium, at /usr/bin/chromium.
#
# What it installs: the Debian package `chromium` (and what apt pulls in with it: its shared
# libraries and fonts), with `apt-get install --no-install-recommends`, after `apt-get update`.
# Nothing else: no Playwright browser download (`playwright install` is never run); Playwright's
# Python package, from the `browser` extra, launches this Chromium by its path.
#
# Does nothing if /usr/bin/chromium is already there. Needs root (CI runs as root) or sudo.
# Usage: bash scripts/setup-browser.sh
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "setup-browser: $CHROMIUM is already installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))."
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "setup-browser: installing Chromium needs root (apt-get); run this script as root." >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "setup-browser: apt-get not found; install Chromium so that $CHROMIUM exists, by other means." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-browser: installing Debian's chromium with apt-get ..."
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends chromium
echo "setup-browser: installed $("$CHROMIUM" --version)."
