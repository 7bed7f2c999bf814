# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the airflow role's Celery layout across the inventory: workers, scheduler, broker and queues.

Why a filter, not asserts: the checks read every worker's queues (host variables of other
hosts), and each refusal needs its own message naming the variable and the fix.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: airflow_celery_errors
short_description: Problems in the airflow role's Celery layout, one message each
version_added: 0.4.0
author: DataTech platform team
description:
  - Checks that the executor, the workers group, the scheduler's host, the broker's host and the
    queues fit together across the inventory, and returns every problem found, each message naming
    the variable and the fix. An empty list means the layout is good.
  - With C(LocalExecutor), the workers group must have no hosts (they would run nothing); the other
    Celery variables are not used and not checked.
  - With C(CeleryExecutor) - the workers group has hosts; the scheduler's host is a host of the
    C(airflow) group and not a worker; the broker's host is a host of the inventory; every queue
    the DAGs use (C(default) and O(_input.celery_queues)) is taken by some worker; every worker
    takes at least one of them, with queue names Celery and the command line take as they are.
  - Types come first, and alone when wrong. Messages never show the broker's password.
  - The role calls it in its preflight on every Airflow host, workers included, before anything
    changes on any host.
options:
  _input:
    description:
      - C(executor) (O(airflow_executor)), C(workers_group) (O(airflow_workers_group)),
        C(scheduler_host) (O(airflow_scheduler_host), as set), C(broker_host)
        (O(airflow_celery_broker_host), as set), C(broker_port), C(broker_password), C(celery_queues)
        (O(airflow_celery_queues)).
      - C(workers), the hosts of the workers group, each a dict with C(name) (its inventory name),
        C(queues) (its O(airflow_worker_queues)) and optionally C(concurrency) (its
        O(airflow_worker_concurrency); null when the host does not set it).
      - C(inventory_hosts), every host of the inventory, and C(airflow_hosts), the hosts of the
        C(airflow) group (whose first host is the scheduler's when C(scheduler_host) is empty).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a Celery layout that cannot run tasks
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: >-
      {{ {'executor': 'CeleryExecutor', 'workers_group': 'airflow_workers',
          'workers': [{'name': 'worker01', 'queues': ['default', 'training']}],
          'scheduler_host': '', 'broker_host': '', 'celery_queues': ['training'],
          'inventory_hosts': ['db01', 'air01', 'worker01'], 'airflow_hosts': ['air01']}
         | datatech.mlops.airflow_celery_errors }}
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the layout is good.
  type: list
  elements: str
"""

import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import type_errors

EXECUTORS = ("LocalExecutor", "CeleryExecutor")
# A queue name: one field of the worker's comma-separated --queues, and a Redis key.
QUEUE = re.compile(r"^[A-Za-z0-9_.-]+$")
# A worker's inventory name becomes its Celery name (celery@NAME) on the worker's command line.
WORKER_NAME = QUEUE
DEFAULT_QUEUE = "default"
# Hosts named in one message, at most; the rest are counted.
SHOWN = 10
# Each input key, the variable it comes from, and its type.
TYPES = {
    "executor": ("airflow_executor", str),
    "workers_group": ("airflow_workers_group", str),
    "scheduler_host": ("airflow_scheduler_host", str),
    "broker_host": ("airflow_celery_broker_host", str),
    "broker_port": ("airflow_celery_broker_port", int),
    "broker_password": ("airflow_celery_broker_password", str),
    "celery_queues": ("airflow_celery_queues", [str]),
    "workers": ("the hosts of airflow_workers_group", list),
    "inventory_hosts": ("the inventory's hosts", [str]),
    "airflow_hosts": ("the hosts of the airflow group", [str]),
}


def _show(names):
    """Names for a message: the first SHOWN, then how many more."""
    names = [str(name)[:80] for name in names]
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def _worker_type_errors(workers):
    """Each worker's own variables; the messages name the host where they are set."""
    errors = []
    for worker in workers:
        if not isinstance(worker, dict) or not isinstance(worker.get("name"), str):
            errors.append(
                "the hosts of airflow_workers_group: an entry is not a host with a name; "
                "build each as {'name': host, 'queues': its airflow_worker_queues}."
            )
            continue
        where = f"airflow_worker_queues on {worker['name'][:80]}"
        errors += type_errors([str], worker.get("queues"), where)
        if worker.get("concurrency") is not None:
            errors += type_errors(int, worker["concurrency"], f"airflow_worker_concurrency on {worker['name'][:80]}")
    return errors


def _types(cfg):
    if not isinstance(cfg, dict):
        return type_errors(dict, cfg, "airflow_celery_")
    errors = [
        error
        for key, (variable, kind) in TYPES.items()
        if key in cfg
        for error in type_errors(kind, cfg[key], variable)
    ]
    if not errors:
        errors = _worker_type_errors(cfg.get("workers") or [])
    return errors


def _local_errors(cfg):
    workers = [worker["name"] for worker in cfg.get("workers") or []]
    if not workers:
        return []
    group = cfg.get("workers_group", "airflow_workers")
    return [
        (
            f"airflow_executor is LocalExecutor, but the workers group {group[:80]!r} (airflow_workers_group) has "
            f"hosts: {_show(workers)}. LocalExecutor runs every task on the scheduler's host, so they would run "
            "nothing; set airflow_executor: CeleryExecutor to make them Celery workers, or take them out of that "
            "group (or point airflow_workers_group at another group)."
        )
    ]


def _workers_errors(cfg):
    group = cfg.get("workers_group", "airflow_workers")
    if cfg.get("workers"):
        return []
    if not group:
        return [
            (
                "airflow_workers_group is empty and airflow_executor is CeleryExecutor, so no host would run a task; "
                "name the inventory group of the worker hosts (default airflow_workers), or set airflow_executor: "
                "LocalExecutor."
            )
        ]
    return [
        (
            f"airflow_executor is CeleryExecutor, but the workers group {group[:80]!r} (airflow_workers_group) has "
            "no hosts in the inventory, so no host would run a task; add the worker hosts to that group, point "
            "airflow_workers_group at the group that has them, or set airflow_executor: LocalExecutor."
        )
    ]


def _scheduler(cfg):
    """The scheduler's host as the role resolves it (vars/main.yml): the one named, or the airflow group's first."""
    airflow_hosts = cfg.get("airflow_hosts") or []
    return cfg.get("scheduler_host") or (airflow_hosts[0] if airflow_hosts else "")


def _worker_names_errors(cfg):
    return [
        (
            f"airflow_workers_group: the worker host {name[:80]!r} has a name that cannot be a Celery worker's "
            f"(celery@NAME on the worker's command line); name it with letters, digits, '_', '.' and '-' only "
            "in the inventory (ansible_host keeps its address)."
        )
        for name in (worker["name"] for worker in cfg.get("workers") or [])
        if not WORKER_NAME.fullmatch(name)
    ]


def _scheduler_errors(cfg):
    named = cfg.get("scheduler_host") or ""
    scheduler = _scheduler(cfg)
    inventory = cfg.get("inventory_hosts") or []
    if not scheduler:
        return [
            (
                "airflow_scheduler_host is empty and the inventory's airflow group has no hosts, so the workers would "
                "have no scheduler; put the scheduler's host in the airflow group, or name it in airflow_scheduler_host."
            )
        ]
    if named and named not in inventory:
        return [
            (
                f"airflow_scheduler_host: {named[:80]!r} is not a host of this inventory; name the inventory host "
                "that runs the scheduler (a host of the airflow group), or leave it empty for the airflow group's "
                "first host."
            )
        ]
    if named and named not in (cfg.get("airflow_hosts") or []):
        return [
            (
                f"airflow_scheduler_host: {named[:80]!r} is not in the airflow group, and the role runs the scheduler "
                "only on hosts of that group; add it to the airflow group, name a host of it, or leave it empty for "
                "its first host."
            )
        ]
    group = cfg.get("workers_group", "airflow_workers")
    if scheduler in [worker["name"] for worker in cfg.get("workers") or []]:
        which = (
            f"airflow_scheduler_host: {scheduler[:80]!r} is"
            if named
            else f"airflow_scheduler_host is empty and the airflow group's first host, {scheduler[:80]!r}, is"
        )
        return [
            (
                f"{which} also in the workers group {group[:80]!r} (airflow_workers_group); a worker host runs the "
                "Celery worker alone, so no host would run the scheduler. Take it out of that group (workers are "
                "other hosts), or name another host in airflow_scheduler_host."
            )
        ]
    return []


def _broker_errors(cfg):
    errors = []
    named = cfg.get("broker_host") or ""
    if not named and not _scheduler(cfg):
        errors.append(
            "Celery without a broker host: airflow_celery_broker_host is empty, and so is the scheduler's host it "
            "defaults to; name the Redis host (a host of the inventory) in airflow_celery_broker_host, or set "
            "airflow_scheduler_host."
        )
    elif named and named not in (cfg.get("inventory_hosts") or []):
        errors.append(
            f"Celery without a broker host: airflow_celery_broker_host: {named[:80]!r} is not a host of this "
            "inventory, and the role installs Redis there over SSH; add it to the inventory, name a host of it, or "
            "leave it empty for the scheduler's host."
        )
    port = cfg.get("broker_port", 6379)
    if not 1 <= port <= 65535:
        errors.append(
            f"airflow_celery_broker_port: {port} is out of range; use a TCP port between 1 and 65535 (default 6379)."
        )
    if not str(cfg.get("broker_password") or "").isprintable():
        errors.append(
            "airflow_celery_broker_password holds a line break or another control character, which would end its "
            "line in Redis' configuration and start another; write it on one line (or leave it empty to have one "
            "generated)."
        )
    return errors


def _used_queues(cfg):
    """The queues tasks go to: default, then the DAGs' own, each once."""
    queues = [DEFAULT_QUEUE]
    for queue in cfg.get("celery_queues") or []:
        if queue not in queues:
            queues.append(queue)
    return queues


def _queue_name_errors(cfg):
    errors = [
        (
            f"airflow_celery_queues: {queue[:80]!r} is not a queue name; use letters, digits, '_', '.' and '-' "
            "only (e.g. training)."
        )
        for queue in cfg.get("celery_queues") or []
        if not QUEUE.fullmatch(queue)
    ]
    for worker in cfg.get("workers") or []:
        name = worker["name"][:80]
        if not worker["queues"]:
            errors.append(
                f"airflow_worker_queues on {name} is empty, so that worker would take no task; give it the queues "
                "it serves, at least [default] (a host or group variable)."
            )
        errors += [
            (
                f"airflow_worker_queues on {name}: {queue[:80]!r} is not a queue name (the worker's --queues is one "
                "comma-separated field); list each queue as its own entry, with letters, digits, '_', '.' and '-' "
                "only, e.g. [default, training]."
            )
            for queue in worker["queues"]
            if not QUEUE.fullmatch(queue)
        ]
    return errors


def _queue_coverage_errors(cfg):
    """Every queue a task can go to is some worker's; every worker takes one of them."""
    workers = cfg.get("workers") or []
    if not workers:
        return []
    used = _used_queues(cfg)
    layout = _show(f"{worker['name']} {list(worker['queues'])}" for worker in workers)
    errors = []
    for queue in used:
        if not QUEUE.fullmatch(queue) or any(queue in worker["queues"] for worker in workers):
            continue
        what = (
            "queue 'default', where every task without a queue of its own goes,"
            if queue == DEFAULT_QUEUE
            else f"queue {queue[:80]!r} of airflow_celery_queues"
        )
        errors.append(
            f"{what} is taken by no worker, so its tasks would wait forever (workers and their airflow_worker_queues: "
            f"{layout}); add {queue[:80]} to airflow_worker_queues of the worker hosts that should run them (a host "
            f"or group variable){'' if queue == DEFAULT_QUEUE else ', or take it out of airflow_celery_queues'}."
        )
    for worker in workers:
        if worker["queues"] and not any(queue in used for queue in worker["queues"]):
            errors.append(
                f"airflow_worker_queues on {worker['name'][:80]}: {_show(worker['queues'])} are queues no task goes "
                f"to (tasks go to {_show(used)}), so that worker would run nothing; add the queue to "
                "airflow_celery_queues if DAGs use it, or give the worker one of those."
            )
    return errors


def _concurrency_errors(cfg):
    return [
        (
            f"airflow_worker_concurrency on {worker['name'][:80]}: {worker['concurrency']} would let that worker run "
            "no task; give at least 1 (default 8)."
        )
        for worker in cfg.get("workers") or []
        if worker.get("concurrency") is not None and worker["concurrency"] < 1
    ]


CELERY_CHECKS = (
    _workers_errors,
    _worker_names_errors,
    _scheduler_errors,
    _broker_errors,
    _queue_name_errors,
    _queue_coverage_errors,
    _concurrency_errors,
)


def airflow_celery_errors(cfg):
    """Return every problem in the Celery layout, one message each; types first, as the checks rely on them."""
    errors = _types(cfg)
    if errors:
        return errors
    executor = cfg.get("executor", "LocalExecutor")
    if executor not in EXECUTORS:
        return [
            f"airflow_executor: {executor[:80]!r} is not an executor the role runs; use LocalExecutor or CeleryExecutor."
        ]
    if executor == "LocalExecutor":
        return _local_errors(cfg)
    return [message for check in CELERY_CHECKS for message in check(cfg)]


class FilterModule:
    def filters(self):
        return {"airflow_celery_errors": airflow_celery_errors}
