"""Hooks for the handbook's build (mkdocs.yml `hooks:`).

The role variable pages (operators/variables/<role>.md) are generated while the site is
built, from each role's meta/argument_specs.yml with tools/role_docs.py: the same rendering
as the role READMEs, never a committed copy that could go stale.

Mermaid is served with the site (javascripts/mermaid.min.js, listed in extra_javascript) from
the npm package scripts/lib/docs.sh fetched into .build/mermaid: not committed, not from a CDN.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED_DIR = "operators/variables"
MERMAID_SOURCE = ROOT / ".build" / "mermaid" / "mermaid.min.js"
MERMAID_URI = "javascripts/mermaid.min.js"
NOTE = (
    "!!! note\n"
    "    Generated from `roles/{role}/meta/argument_specs.yml` when the handbook is built; "
    "change the specs, not this page. `ansible-doc -t role datatech.mlops.{role}` shows the same.\n\n"
)


def _role_docs():
    spec = importlib.util.spec_from_file_location("role_docs", ROOT / "tools" / "role_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> dict[str, str]:
    """Generated page (path under docs/) -> Markdown, one per role with argument specs."""
    role_docs = _role_docs()
    out = {}
    for role in sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists()):
        # The note goes right under the page's title, the role's name.
        before, title, body = role_docs.render(role).partition(f"# datatech.mlops.{role.name}\n")
        out[f"{GENERATED_DIR}/{role.name}.md"] = before + title + "\n" + NOTE.format(role=role.name) + body
    return out


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    for src_uri, content in pages().items():
        if files.get_file_from_path(src_uri) is not None:
            raise PluginError(f"docs/{src_uri} is generated during the build; remove the file from docs/")
        files.append(File.generated(config, src_uri, content=content))
    if not MERMAID_SOURCE.is_file():
        raise PluginError(
            f"{MERMAID_SOURCE.relative_to(ROOT)} is missing: build the handbook with "
            "`bash scripts/lib/docs.sh` (or `... serve`), which fetches mermaid from the npm registry"
        )
    files.append(File.generated(config, MERMAID_URI, abs_src_path=str(MERMAID_SOURCE)))
    return files


def on_serve(server, config, builder):
    """`mkdocs serve` rebuilds when a role's argument specs change."""
    for specs in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        server.watch(str(specs))
    return server
