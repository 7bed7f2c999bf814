"""The roles' README examples (roles/<role>/examples/): every role has one, its playbook
parses with its inventory (ansible-playbook --syntax-check), and each role variable its
inventory sets is one the role declares, of the declared type. Each example also runs for real,
twice, from the collection installed from a tag, in the install scenario
(molecule/install/readme_examples.yml)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
TYPES = {"str": str, "path": str, "int": int, "bool": bool, "list": list, "dict": dict}


def inventory_vars(inventory: dict) -> dict:
    """The variables of every group and host of a YAML inventory."""
    found = {}
    for group in inventory.values():
        found |= group.get("vars", {})
        for host in (group.get("hosts") or {}).values():
            found |= host or {}
        found |= inventory_vars(group.get("children", {}))
    return found


@pytest.mark.parametrize("role", ROLES)
def test_example_sets_only_declared_variables_of_their_type(role):
    folder = ROOT / "roles" / role / "examples"
    options = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"][
        "main"
    ]["options"]
    playbook = yaml.safe_load((folder / "playbook.yml").read_text())
    assert f"datatech.mlops.{role}" in yaml.safe_dump(playbook)
    variables = inventory_vars(yaml.safe_load((folder / "inventory.yml").read_text()))
    ours = {name: value for name, value in variables.items() if name.startswith(f"{role}_")}
    assert ours, f"the {role} example sets none of the role's variables"
    for name, value in ours.items():
        assert name in options, f"{name} is not a variable of the {role} role"
        if not (isinstance(value, str) and "{{" in value):
            assert isinstance(value, TYPES[options[name]["type"]]), (
                f"{name}: {value!r} is not a {options[name]['type']}"
            )


@pytest.mark.parametrize("role", ROLES)
def test_example_playbook_parses_with_its_inventory(role):
    folder = ROOT / "roles" / role / "examples"
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"))
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "--syntax-check",
            "-i",
            str(folder / "inventory.yml"),
            str(folder / "playbook.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
