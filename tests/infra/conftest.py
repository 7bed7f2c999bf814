"""Shared helpers of the infrastructure tests (terraform/, kubernetes/, ci/, Vagrantfile).

They run in .build/venv-infra (requirements-infra.txt) from scripts/lib/infra.sh; the main
pytest stage does not collect this folder (pyproject: norecursedirs).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
KUBERNETES = ROOT / "kubernetes"
# The official chart's values and schema, read-only beside the repository (never copied in);
# AIRFLOW_CHART_REFERENCE points elsewhere (a git worktree has no shared/ beside it).
CHART_REFERENCE = Path(
    os.environ.get("AIRFLOW_CHART_REFERENCE") or ROOT.parent / "shared" / "reference" / "airflow-helm-chart-1.22.0"
)


def unquote(value):
    """python-hcl2 keeps HCL string literals quoted ('"abc"'); give the plain value back."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return json.loads(value)
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {unquote(key): unquote(item) for key, item in value.items()}
    return value


def load_hcl(path: Path) -> dict:
    with path.open() as handle:
        return unquote(hcl2.load(handle))


def tf_files(folder: Path = TERRAFORM) -> list[Path]:
    return sorted(folder.rglob("*.tf"))


def variables(folder: Path) -> dict[str, dict]:
    """Every variable block of the .tf files directly in folder (one Terraform stack)."""
    found: dict[str, dict] = {}
    for path in sorted(folder.glob("*.tf")):
        for block in load_hcl(path).get("variable", []):
            for name, body in block.items():
                found[name] = body
    return found


def stacks() -> list[Path]:
    """The Terraform root modules: every folder holding .tf files."""
    return sorted({path.parent for path in tf_files()})


def render_template(path: Path, values: dict[str, str]) -> str:
    """Render a templatefile() template that uses plain ${name} interpolations only."""
    text = path.read_text()
    assert "%{" not in text, "the inventory template is rendered here too: keep it to ${name}"
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


def load_yaml(path: Path):
    with path.open() as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("no terraform on PATH: the checks that run Terraform itself are skipped")
    return binary


@pytest.fixture(scope="session")
def chart_reference() -> Path:
    if not (CHART_REFERENCE / "values.schema.json").is_file():
        pytest.skip(f"the Airflow chart's values.schema.json is not at {CHART_REFERENCE}: values not validated")
    return CHART_REFERENCE
