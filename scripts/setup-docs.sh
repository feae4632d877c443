#!/usr/bin/env bash
# Installs what the documentation site serves itself instead of a CDN: MathJax 3 and the Jupyter
# widget manager, the exact versions of docs/package-lock.json, into docs/node_modules (with
# `npm ci`; no install scripts run). Node.js and npm must be on the PATH; if they are not and
# apt-get is, Debian's `npm` package is installed first (install-debian-package.sh).
#
# Does nothing if docs/node_modules was installed from the same lock file.
# Usage: bash scripts/setup-docs.sh
set -euo pipefail
docs="$(cd "$(dirname "$0")/../docs" && pwd)"

if ! command -v npm >/dev/null; then
    bash "$(dirname "$0")/install-debian-package.sh" npm setup-docs
fi

stamp="$docs/node_modules/.installed-from-package-lock.json"  # the lock file of the last install
if cmp -s "$docs/package-lock.json" "$stamp"; then
    echo "setup-docs: $docs/node_modules is up to date."
    exit 0
fi
npm ci --prefix "$docs" --ignore-scripts --no-audit --no-fund --loglevel=error
cp "$docs/package-lock.json" "$stamp"
echo "setup-docs: installed MathJax $(node -p "require('$docs/node_modules/mathjax/package.json').version") and the widget manager into $docs/node_modules."
