#!/usr/bin/env bash
# The handbook (mkdocs.yml, docs/): builds it with --strict into .build/site, so a broken
# link, a missing page or a bad role variable spec fails the test command, then opens every
# page with a diagram in a headless Chromium that cannot reach the internet and checks each
# diagram was drawn (tools/docs_diagrams.py). Its own virtualenv, .build/venv-docs, from
# requirements-docs.txt (made again when that changes). The role variable pages are
# generated during the build (tools/mkdocs_hooks.py), and mermaid comes with the site.
#   bash scripts/lib/docs.sh [serve]     (serve: the handbook on http://127.0.0.1:8000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOCS_VENV="$BUILD/venv-docs"
DOCS_REQUIREMENTS="$ROOT/requirements-docs.txt"
# Mermaid, served with the site: readers on a network without internet access get drawings,
# not the diagrams' source (mkdocs-material otherwise loads mermaid@11 from unpkg.com). The
# npm package's tarball, pinned by version and by the integrity the registry publishes for it
# (`npm view mermaid@VERSION dist.integrity`); its dist/mermaid.min.js goes to .build/mermaid,
# never into git, and tools/mkdocs_hooks.py adds it to the site as javascripts/mermaid.min.js.
# The major stays the one mkdocs-material loads (its bundle asks for mermaid@11).
MERMAID_VERSION=11.17.2
MERMAID_INTEGRITY=sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7LoaRQxULMa80/qt5gHO73aCleBBg==
MERMAID_DIR="$BUILD/mermaid"

fetch_mermaid() {
  local stamp="$MERMAID_DIR/.version" want="mermaid@$MERMAID_VERSION $MERMAID_INTEGRITY"
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" && -f $MERMAID_DIR/mermaid.min.js ]]; then return 0; fi
  require_npm
  log "fetching mermaid@$MERMAID_VERSION from the npm registry into .build/mermaid"
  local tmp
  tmp=$(mktemp -d)
  (
    set -euo pipefail
    cd "$tmp"
    # npm pack: the package's own tarball, without the dependencies the min.js already bundles.
    tarball=$(npm pack --silent --no-fund --loglevel=error "mermaid@$MERMAID_VERSION")
    got=$(python3 -c 'import base64, hashlib, sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
    if [[ $got != "$MERMAID_INTEGRITY" ]]; then
      echo "mermaid@$MERMAID_VERSION from the registry has integrity $got, not the pinned $MERMAID_INTEGRITY" >&2
      exit 1
    fi
    tar -xzf "$tarball" package/dist/mermaid.min.js package/LICENSE
    rm -rf "$MERMAID_DIR"
    mkdir -p "$MERMAID_DIR"
    mv package/dist/mermaid.min.js package/LICENSE "$MERMAID_DIR/"
  ) || { rm -rf "$tmp"; return 1; }
  rm -rf "$tmp"
  echo "$want" >"$stamp"
}

make_venv_from "$DOCS_VENV" -r "$DOCS_REQUIREMENTS"
fetch_mermaid
cd "$ROOT"
if [[ ${1:-build} == serve ]]; then
  NO_MKDOCS_2_WARNING=1 exec "$DOCS_VENV/bin/mkdocs" serve --strict
fi
# No network during the build: material's privacy and social plugins are not used.
NO_MKDOCS_2_WARNING=1 "$DOCS_VENV/bin/mkdocs" build --strict --clean --site-dir "$BUILD/site"
echo "handbook: $BUILD/site/index.html"

# The diagrams, as a reader without internet access sees them: Debian's Chromium, headless.
install_system_packages chromium
"$DOCS_VENV/bin/python" "$ROOT/tools/docs_diagrams.py" "$BUILD/site" --config "$ROOT/mkdocs.yml"
