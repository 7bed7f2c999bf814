"""A role's vars/main.yml holds constants: no value there reads a name that one of the role's
tasks or handlers registers or sets with set_fact. Such a value would exist only after that
task ran, and mean something else before; it belongs beside the task, as a fact.

Gathered facts (ansible_facts), inventory variables, the role's variables and other vars
entries are fine: they exist before the role's first task.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(path.parent.parent.name for path in ROOT.glob("roles/*/vars/main.yml"))
SET_FACT = {"set_fact", "ansible.builtin.set_fact", "ansible.legacy.set_fact"}
NESTED = ("block", "rescue", "always")


def _tasks(items):
    for task in items or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in NESTED:
            yield from _tasks(task.get(key))


def made_by_tasks(role: str) -> dict[str, str]:
    """Each name a task or handler of the role registers or sets as a fact, with the file that does."""
    names = {}
    for folder in ("tasks", "handlers"):
        for path in sorted((ROOT / "roles" / role / folder).glob("*.yml")):
            for task in _tasks(yaml.safe_load(path.read_text())):
                where = f"{folder}/{path.name}: {task.get('name', '?')}"
                if isinstance(task.get("register"), str):
                    names[task["register"]] = where
                for key in SET_FACT & task.keys():
                    for name in task[key] or {}:
                        if name != "cacheable":
                            names[name] = where
    return names


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_the_scan_finds_what_tasks_make():
    made = made_by_tasks("postgresql")
    # A registered result, and facts from set_fact (one inside a block).
    assert "__postgresql_cluster_conf" in made
    assert "__postgresql_pgstrom_plan" in made
    assert "__postgresql_running_port" in made


def _reads(text: str, name: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


@pytest.mark.parametrize("role", ROLES)
def test_vars_hold_no_value_that_a_task_makes(role):
    made = made_by_tasks(role)
    constants = yaml.safe_load((ROOT / "roles" / role / "vars" / "main.yml").read_text()) or {}
    texts = {var: list(_strings(value)) for var, value in constants.items()}
    for var in constants:
        assert var not in made, f"{var} is in vars/main.yml and also made by {made[var]}"
    # What each vars entry depends on that a task makes, directly or through other vars entries.
    found = {
        var: {f"{name} ({where})" for name, where in made.items() if any(_reads(t, name) for t in texts[var])}
        for var in constants
    }
    changed = True
    while changed:
        changed = False
        for var in constants:
            for other in constants:
                reads_other = other != var and any(_reads(t, other) for t in texts[var])
                if reads_other and not found[other] <= found[var]:
                    found[var] |= found[other]
                    changed = True
    problems = [f"{var} reads {', '.join(sorted(names))}" for var, names in sorted(found.items()) if names]
    assert not problems, "vars/main.yml values that exist only after a task ran:\n" + "\n".join(problems)
