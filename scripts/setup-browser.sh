#!/usr/bin/env bash
# Installs the browser that tests/test_browser.py drives: Debian's Chromium, at /usr/bin/chromium.
#
# What it installs: the Debian package `chromium` (and what apt pulls in with it: its shared
# libraries and fonts), with `apt-get install --no-install-recommends` (install-debian-package.sh).
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

bash "$(dirname "$0")/install-debian-package.sh" chromium setup-browser
echo "setup-browser: installed $("$CHROMIUM" --version)."
