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
CHART_FOLDER = Path("shared") / "reference" / "airflow-helm-chart-1.22.0"
CHART_TGZ = "airflow-1.22.0.tgz"


def main_checkout(root: Path = ROOT) -> Path:
    """The main checkout: root itself, or, in a git worktree (.git is a file naming
    <main>/.git/worktrees/<name>), the folder that holds the shared .git."""
    dotgit = root / ".git"
    if dotgit.is_file():
        gitdir = Path(dotgit.read_text().split("gitdir:", 1)[1].strip())
        if gitdir.parent.name == "worktrees":
            return gitdir.parent.parent.parent
    return root


def chart_reference_folder() -> Path:
    """The official chart (packaged tgz, values.yaml, values.schema.json), read-only beside the
    repository as ../shared/reference/..., never copied in. AIRFLOW_CHART_REFERENCE points
    elsewhere; a git worktree looks beside its main checkout (it has no shared/ of its own)."""
    if os.environ.get("AIRFLOW_CHART_REFERENCE"):
        return Path(os.environ["AIRFLOW_CHART_REFERENCE"])
    candidates = [ROOT.parent / CHART_FOLDER, main_checkout().parent / CHART_FOLDER]
    return next((path for path in candidates if path.is_dir()), candidates[0])


CHART_REFERENCE = chart_reference_folder()


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
        pytest.skip(
            f"the official Airflow chart is not at {CHART_REFERENCE} (../shared/reference/ beside the repository,"
            " or AIRFLOW_CHART_REFERENCE): neither validated against nor rendered"
        )
    return CHART_REFERENCE


@pytest.fixture(scope="session")
def chart_tgz(chart_reference) -> Path:
    if not (chart_reference / CHART_TGZ).is_file():
        pytest.skip(f"the packaged chart {CHART_TGZ} is not in {chart_reference}: the chart is not rendered")
    return chart_reference / CHART_TGZ


@pytest.fixture(scope="session")
def helm_bin() -> str:
    """helm: $HELM, else the one scripts/lib/infra.sh unpacks into .build/helm, else PATH."""
    for candidate in (os.environ.get("HELM"), ROOT / ".build" / "helm" / "helm", shutil.which("helm")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.skip(
        "no helm ($HELM, .build/helm/helm or PATH; scripts/lib/infra.sh installs one): the chart is not rendered"
    )
