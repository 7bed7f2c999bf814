#!/usr/bin/env bash
# The handbook (mkdocs.yml, docs/): builds it with --strict into .build/site, so a broken
# link, a missing page or a bad role variable spec fails the test command. Its own
# virtualenv, .build/venv-docs, from requirements-docs.txt (made again when that changes).
# The role variable pages are generated during the build (tools/mkdocs_hooks.py).
#   bash scripts/lib/docs.sh [serve]     (serve: the handbook on http://127.0.0.1:8000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOCS_VENV="$BUILD/venv-docs"
DOCS_REQUIREMENTS="$ROOT/requirements-docs.txt"

make_venv_from "$DOCS_VENV" -r "$DOCS_REQUIREMENTS"
cd "$ROOT"
if [[ ${1:-build} == serve ]]; then
  NO_MKDOCS_2_WARNING=1 exec "$DOCS_VENV/bin/mkdocs" serve --strict
fi
# No network during the build: material's privacy and social plugins are not used, and
# mermaid is loaded by the reader's browser.
NO_MKDOCS_2_WARNING=1 "$DOCS_VENV/bin/mkdocs" build --strict --clean --site-dir "$BUILD/site"
echo "handbook: $BUILD/site/index.html"
