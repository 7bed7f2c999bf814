"""The libraries the DAGs import are pinned once: air01 installs what the DAG tests ran with."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _requirements() -> set[str]:
    lines = (ROOT / "requirements-dags.txt").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def _pip_packages() -> dict[str, list[str]]:
    lab = yaml.safe_load((ROOT / "inventories/lab/group_vars/airflow.yml").read_text())
    production = yaml.safe_load((ROOT / "inventories/production/group_vars/airflow/main.yml").read_text())
    site = yaml.safe_load((ROOT / "molecule/site/inventory/group_vars/airflow.yml").read_text())
    return {
        "lab": lab["airflow_pip_packages"],
        "production": production["airflow_pip_packages"],
        "molecule/site": site["airflow_pip_packages"],
    }


def test_inventories_install_the_same_pins():
    packages = _pip_packages()
    assert packages["lab"] == packages["production"] == packages["molecule/site"]


def test_air01_gets_what_the_dag_tests_ran_with():
    for where, packages in _pip_packages().items():
        assert all("==" in package for package in packages), f"{where}: unpinned package"
        assert set(packages) <= _requirements(), f"{where}: not in requirements-dags.txt"
        assert any(package.startswith("scikit-learn==") for package in packages), where


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
