#!/usr/bin/env bash
# Builds the documentation site into docs/_build/html (open docs/_build/html/index.html):
# the lectures are run, the API reference is read from the docstrings, and any Sphinx warning
# fails the build. Installs MathJax and the widget manager first (setup-docs.sh).
# Usage: bash scripts/build-docs.sh   (from a checkout with the dev extras installed in .venv)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"

bash "$root/scripts/setup-docs.sh"
"$python" -m sphinx -E -W --keep-going -b html "$root/docs" "$root/docs/_build/html"
echo "build-docs: open $root/docs/_build/html/index.html"
