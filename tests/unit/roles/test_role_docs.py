"""Role READMEs are generated from the argument specs and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_role_readmes_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "role_docs.py"), "--check"], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
