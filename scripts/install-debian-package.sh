#!/usr/bin/env bash
# Installs one Debian package with apt-get, for the scripts that set up what the tests start
# (setup-browser.sh, setup-postgres.sh): as root, or through sudo; `apt-get update` first only
# if apt knows no such package yet, or after an install that failed on stale package lists.
# Usage: bash scripts/install-debian-package.sh <package> <what it is for, for messages>
set -euo pipefail
package=$1 purpose=$2

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null; then
    as_root=(sudo)
else
    echo "$purpose: installing $package needs root (apt-get); run this script as root." >&2
    exit 1
fi

if ! command -v apt-get >/dev/null; then
    echo "$purpose: apt-get not found; install $package by other means." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "$purpose: installing Debian's $package with apt-get ..."
install() { "${as_root[@]}" apt-get install -y -q --no-install-recommends "$package"; }
if ! { apt-cache show "$package" >/dev/null 2>&1 && install; }; then
    "${as_root[@]}" apt-get update -q
    install
fi
