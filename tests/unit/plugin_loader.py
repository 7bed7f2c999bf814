"""Load a plugin of this checkout by path, so unit tests need no installed collection.

Plugins import their shared code as ansible_collections.datatech.mlops.plugins.plugin_utils;
a temporary ansible_collections/datatech/mlops link to the checkout makes that resolve.
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _expose_checkout_as_collection() -> None:
    top = Path(tempfile.mkdtemp(prefix="datatech-mlops-"))
    atexit.register(shutil.rmtree, top, ignore_errors=True)
    namespace = top / "ansible_collections" / "datatech"
    namespace.mkdir(parents=True)
    (namespace / "mlops").symlink_to(ROOT)
    sys.path.insert(0, str(top))
    # ansible_collections may already be imported as a namespace package (from the
    # `ansible` distribution); let it see the new path too.
    package = sys.modules.get("ansible_collections")
    if package is not None:
        package.__path__.append(str(top / "ansible_collections"))


_expose_checkout_as_collection()


def load_plugin(relative_path: str):
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location("datatech_mlops_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
