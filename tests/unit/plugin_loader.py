"""Load a plugin of this checkout by path, so unit tests need no installed collection."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_plugin(relative_path: str):
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location("datatech_mlops_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
