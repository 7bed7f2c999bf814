"""A custom plugin is kept only where no module or filter does the job: each filter, module and
action plugin says why in its module docstring ("Why a filter:", "Why a module:", ...)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PLUGINS = sorted(
    path
    for kind in ("filter", "modules", "action")
    for path in (ROOT / "plugins" / kind).glob("*.py")
    if path.name != "__init__.py"
)


@pytest.mark.parametrize("path", PLUGINS, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_plugin_says_why_it_exists(path):
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "Why a " in docstring, f"{path.relative_to(ROOT)}: say in its docstring why no module or filter does the job"
