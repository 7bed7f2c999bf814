"""The playbooks call the roles' entry points (tasks_from) instead of repeating their steps:
no task of playbooks/ does what a task of roles/*/tasks/ does (same module, same arguments).
The roles' own files are the one home of each step; a playbook names the step it needs."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Keywords that say how or when a task runs, not what it does.
TASK_KEYWORDS = {
    "name",
    "when",
    "register",
    "loop",
    "loop_control",
    "tags",
    "vars",
    "notify",
    "listen",
    "become",
    "become_user",
    "changed_when",
    "failed_when",
    "check_mode",
    "no_log",
    "delegate_to",
    "environment",
    "until",
    "retries",
    "delay",
    "run_once",
    "args",
    "module_defaults",
    "ignore_errors",
}
# Equal by nature, not copies of a role's step: an include of a role's entry point, a fact, a
# file removed by path, an empty folder with the server's owner and mode.
GENERIC_MODULES = {"ansible.builtin.include_role", "ansible.builtin.set_fact", "ansible.builtin.include_tasks"}
GENERIC = {
    ("playbooks/airflow_db_backup.yml", "Remove the oldest dumps and their keys, beyond {{ __keep }}"),
    ("playbooks/postgresql_restore.yml", "Create the empty data directory"),
}


def flatten(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        if "block" in task:
            for part in ("block", "rescue", "always"):
                yield from flatten(task.get(part))
            continue
        yield task


def action(task: dict) -> str | None:
    modules = [key for key in task if key not in TASK_KEYWORDS]
    return json.dumps([modules[0], task[modules[0]]], sort_keys=True, default=str) if modules else None


def tasks_of(path: Path):
    document = yaml.safe_load(path.read_text()) or []
    for item in document:
        if isinstance(item, dict) and "hosts" in item:
            for section in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from flatten(item.get(section))
        elif isinstance(item, dict):
            yield from flatten([item])


def role_actions() -> dict[str, str]:
    found = {}
    for path in sorted(ROOT.glob("roles/*/tasks/*.yml")):
        for task in tasks_of(path):
            if (key := action(task)) is not None:
                found.setdefault(key, f"{path.relative_to(ROOT)}: {task.get('name')}")
    return found


def test_no_playbook_task_repeats_a_role_task():
    roles = role_actions()
    repeated = []
    for path in sorted(ROOT.glob("playbooks/*.yml")):
        relative = str(path.relative_to(ROOT))
        for task in tasks_of(path):
            key = action(task)
            if key is None or json.loads(key)[0] in GENERIC_MODULES or (relative, task.get("name")) in GENERIC:
                continue
            if key in roles:
                repeated.append(f"{relative}: {task.get('name')!r} repeats {roles[key]}")
    assert not repeated, "call the role's entry point instead:\n" + "\n".join(repeated)


def test_the_check_finds_a_copy():
    # The restore's old stop of the services, as it was before the role's `stop` entry point.
    copy = {"ansible.builtin.systemd_service": {"name": "{{ __postgresql_service }}", "state": "stopped"}}
    assert action(copy) in role_actions()
