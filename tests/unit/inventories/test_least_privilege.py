"""Every inventory separates Airflow's metadata from the ML data: mlfeatures belongs to the role
mldata (no login), the DAGs' connection logs in as mlops with the rights it needs only, pg_hba
admits each user to its own database only, and DAG tasks run as their own OS user."""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory_resolver import resolve, resolve_with_example_vault
from test_cloud_and_vagrant import TERRAFORM_VALUES, cloud_inventory

ROOT = Path(__file__).resolve().parents[3]
MLFLOW_DATABASES = ("mlflow", "mlflow_auth")


@pytest.fixture(scope="module", params=["lab", "production", "cloud", "vagrant", "molecule"])
def inventory(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(request.param)
    if request.param == "production":
        return resolve_with_example_vault(ROOT / "inventories" / "production", work)
    if request.param == "cloud":
        return resolve(cloud_inventory(work, TERRAFORM_VALUES), work)
    if request.param == "vagrant":
        return resolve(ROOT / "inventories" / "vagrant", work, "-e", f"vagrant_secrets_dir={work}/secrets")
    # air01's address as site.yml's fact gathering finds it.
    facts = ("-e", '{"resolver_facts": {"air01": {"default_ipv4": {"address": "172.30.0.20"}}}}')
    if request.param == "lab":
        return resolve(ROOT / "inventories" / "lab", work, *facts, "-e", f"lab_secrets_dir={work}/secrets")
    return resolve(molecule_inventory(work), work, *facts)


def molecule_inventory(work: Path) -> Path:
    """The site scenario's inventory (molecule writes hosts.yml from molecule.yml's platforms)."""
    inventory = work / "molecule"
    (inventory / "group_vars").mkdir(parents=True)
    for path in (ROOT / "molecule" / "site" / "inventory" / "group_vars").iterdir():
        (inventory / "group_vars" / path.name).write_text(path.read_text())
    (inventory / "hosts.yml").write_text(
        "all:\n  children:\n    db: {hosts: {db01: {}}}\n    airflow: {hosts: {air01: {}}}\n"
    )
    return inventory


def test_ml_data_belongs_to_a_role_nobody_logs_in_as(inventory):
    db = inventory["db01"]
    owners = {d["name"]: d.get("owner") for d in db["databases"]}
    # MLflow's two databases (where the inventory has the mlflow group) belong to its own user.
    assert {name: owner for name, owner in owners.items() if name not in MLFLOW_DATABASES} == {
        "airflow": "airflow",
        "mlfeatures": "mldata",
    }
    assert all(owner == "mlflow" for name, owner in owners.items() if name in MLFLOW_DATABASES)
    users = {u["name"]: u for u in db["users"]}
    assert users["mldata"].get("login") is False
    assert {d["name"] for d in db["databases"] if d.get("public_connect") is False} == set(owners)


def test_the_dag_connection_has_only_the_rights_it_needs(inventory):
    grants = [g for g in inventory["db01"]["privileges"] if "mlops" in g["roles"]]
    assert grants == [
        {"database": "mlfeatures", "roles": ["mlops"], "type": "database", "privs": "CONNECT"},
        {"database": "mlfeatures", "roles": ["mlops"], "type": "schema", "objs": "staging,ml", "privs": "USAGE,CREATE"},
    ]
    air = inventory["air01"]
    users = {u["name"]: u for u in inventory["db01"]["users"]}
    assert air["mlops_db_login"] == "mlops"
    assert air["mlops_db_password"] == users["mlops"]["password"] != air["airflow_db_password"]


def test_pg_hba_admits_each_user_to_its_own_database_only(inventory):
    pairs = {(entry["user"], entry["database"]) for entry in inventory["db01"]["hba"]}
    assert {("airflow", "airflow"), ("mlops", "mlfeatures")} <= pairs
    # A team's people (+team_<name>: its members) reach the database of the team's sandbox.
    teams = {(f"+team_{team['name']}", team["database"]) for team in inventory["db01"]["teams"] or []}
    services = {
        ("airflow", "airflow"),
        ("mlops", "mlfeatures"),
        ("analyst", "mlfeatures"),
        ("mlflow", ",".join(MLFLOW_DATABASES)),
    }
    assert pairs <= services | teams


def test_teams_are_people_not_the_services_or_the_analyst(inventory):
    for team in inventory["db01"]["teams"] or []:
        assert not set(team["members"]) & {"airflow", "mldata", "mlops", "mlflow", "analyst"}, team


def test_dag_tasks_run_as_their_own_user(inventory):
    assert inventory["air01"]["dags_run_as_user"] == "airflow-dags"
