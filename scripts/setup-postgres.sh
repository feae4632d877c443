#!/usr/bin/env bash
# Installs the PostgreSQL server that tests/test_postgres_gradebook.py starts (tests/postgres_server.py):
# Debian's, whose binaries are in /usr/lib/postgresql/<version>/bin.
#
# What it installs: the Debian package `postgresql` (the server and client of Debian's current
# version, and what apt pulls in with them; it also makes the `postgres` Unix user the tests run
# the server as), with `apt-get install --no-install-recommends` (install-debian-package.sh). The
# package makes a cluster of its own, `main` (and starts it where services may start); the tests
# do not use it: they make theirs in a temporary folder, on a random port, and stop it at the end.
#
# Does nothing if a server binary is already there (/usr/lib/postgresql/*/bin/postgres). Needs
# root (CI runs as root) or sudo.
# Usage: bash scripts/setup-postgres.sh
set -euo pipefail

for server in /usr/lib/postgresql/*/bin/postgres; do
    if [ -x "$server" ]; then
        echo "setup-postgres: $server is already installed ($("$server" --version 2>/dev/null || echo 'version unknown'))."
        exit 0
    fi
done

bash "$(dirname "$0")/install-debian-package.sh" postgresql setup-postgres
for server in /usr/lib/postgresql/*/bin/postgres; do
    echo "setup-postgres: installed $("$server" --version)."
done
