"""The libraries the DAGs import are pinned once, in dags/requirements.txt: air01 installs what
the DAG tests ran with."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


DAG_REQUIREMENTS = ROOT / "dags/requirements.txt"
# Each inventory's Airflow group_vars, and what {{ inventory_dir }} (or the scenario's project
# directory) stands for there.
AIRFLOW_VARS = {
    "lab": ("inventories/lab/group_vars/airflow.yml", "inventories/lab"),
    "production": ("inventories/production/group_vars/airflow/main.yml", "inventories/production"),
    "cloud": ("inventories/cloud/group_vars/airflow/main.yml", "inventories/cloud"),
    "vagrant": ("inventories/vagrant/group_vars/airflow.yml", "inventories/vagrant"),
    "molecule/site": ("molecule/site/inventory/group_vars/airflow.yml", ""),
}


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _requirements_path(where: str) -> Path:
    group_vars, inventory_dir = AIRFLOW_VARS[where]
    value = yaml.safe_load((ROOT / group_vars).read_text())["airflow_pip_requirements"]
    value = value.replace("{{ inventory_dir }}", str(ROOT / inventory_dir))
    value = value.replace("{{ lookup('env', 'MOLECULE_PROJECT_DIRECTORY') }}", str(ROOT))
    return Path(value).resolve()


@pytest.mark.parametrize("where", list(AIRFLOW_VARS))
def test_every_inventory_installs_the_dags_requirements_file(where):
    """One list: the inventories name the file (no copied pins), and the path resolves to it."""
    variables = yaml.safe_load((ROOT / AIRFLOW_VARS[where][0]).read_text())
    assert "airflow_pip_packages" not in variables, f"{where}: pins copied instead of airflow_pip_requirements"
    assert _requirements_path(where) == DAG_REQUIREMENTS, where


def test_the_dag_tests_install_the_same_file():
    """requirements-dags.txt (the DAG tests' virtualenv) includes it, and names no DAG library itself."""
    assert "-r dags/requirements.txt" in _lines(ROOT / "requirements-dags.txt")
    libraries = {line.split("==")[0] for line in _lines(DAG_REQUIREMENTS)}
    assert not libraries & {line.split("==")[0] for line in _lines(ROOT / "requirements-dags.txt")}


def test_the_dags_libraries_are_pinned():
    packages = _lines(DAG_REQUIREMENTS)
    assert packages and all("==" in package for package in packages), packages
    assert any(package.startswith("scikit-learn==") for package in packages)


def test_the_ml_dags_variables_match_their_defaults_in_the_lab():
    """The lab sets every variable the DAGs read (production may differ in sizes and thresholds)."""
    lab = yaml.safe_load((ROOT / "inventories/lab/group_vars/airflow.yml").read_text())["airflow_variables"]
    production = yaml.safe_load((ROOT / "inventories/production/group_vars/airflow/main.yml").read_text())
    for dag in ("mlops_ingest_customers.py", "mlops_train_churn_model.py"):
        tree = ast.parse((ROOT / "dags" / dag).read_text())
        settings = next(
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SETTINGS" for t in node.targets)
        )
        assert set(settings) - {"mlops_ingest_source_dir"} <= set(lab), dag
    assert set(lab) == set(production["airflow_variables"])
