# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.airflow_celery_errors filter."""

from __future__ import annotations

import copy

import pytest
import yaml
from plugin_loader import ROOT, load_plugin

plugin = load_plugin("plugins/filter/airflow_celery_errors.py")
check = plugin.FilterModule().filters()["airflow_celery_errors"]

SECRET = "celery-test-secret-91d2"

# The role's defaults on a LocalExecutor inventory: db01, air01, no workers group.
GOOD_LOCAL = {
    "executor": "LocalExecutor",
    "workers_group": "airflow_workers",
    "workers": [],
    "scheduler_host": "",
    "broker_host": "",
    "broker_port": 6379,
    "broker_password": "",
    "celery_queues": [],
    "inventory_hosts": ["db01", "air01"],
    "airflow_hosts": ["air01"],
}

# Celery: air01 schedules and runs Redis; worker01 takes default, worker02 (bigger) also training.
GOOD = {
    **GOOD_LOCAL,
    "executor": "CeleryExecutor",
    "workers": [
        {"name": "worker01", "queues": ["default"], "concurrency": None},
        {"name": "worker02", "queues": ["default", "training"], "concurrency": 4},
    ],
    "broker_password": SECRET,
    "celery_queues": ["training"],
    "inventory_hosts": ["db01", "air01", "worker01", "worker02", "redis01"],
}


def with_changes(base=None, **changes):
    cfg = copy.deepcopy(GOOD if base is None else base)
    cfg.update(changes)
    return cfg


def workers(*queue_lists, prefix="worker"):
    return [{"name": f"{prefix}{i + 1:02d}", "queues": list(queues)} for i, queues in enumerate(queue_lists)]


def test_defaults_match_the_role():
    """GOOD_LOCAL is the role's defaults: the filter reads the variables the role declares, under their names."""
    defaults = yaml.safe_load((ROOT / "roles/airflow/defaults/main.yml").read_text())
    specs = yaml.safe_load((ROOT / "roles/airflow/meta/argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    for key, (variable, _kind) in plugin.TYPES.items():
        if variable.startswith("airflow_"):
            assert variable in options, variable
            assert defaults[variable] == GOOD_LOCAL[key], variable
    assert defaults["airflow_worker_queues"] == [plugin.DEFAULT_QUEUE]
    assert set(options["airflow_executor"]["choices"]) == set(plugin.EXECUTORS)


@pytest.mark.parametrize(
    "cfg",
    [
        GOOD_LOCAL,
        GOOD,
        # Keys left out take the role's defaults.
        {},
        {"executor": "LocalExecutor"},
        # The broker on a host of its own, the scheduler named.
        with_changes(broker_host="redis01", scheduler_host="air01"),
        # The broker on a worker is allowed.
        with_changes(broker_host="worker01"),
        # The scheduler is the airflow group's first host; another host of that group may be a worker.
        with_changes(
            airflow_hosts=["air01", "air02"],
            inventory_hosts=[*GOOD["inventory_hosts"], "air02"],
            workers=[*GOOD["workers"], {"name": "air02", "queues": ["training"]}],
        ),
        # A named scheduler that is the group's second host, while the first is a worker.
        with_changes(airflow_hosts=["worker01", "air01"], scheduler_host="air01"),
        # One worker takes every queue; queue names with dots, dashes, digits.
        with_changes(workers=workers(["default", "gpu.a100", "training-2"]), celery_queues=["gpu.a100", "training-2"]),
        # default listed again in celery_queues, and duplicates, are harmless.
        with_changes(celery_queues=["default", "training", "training"]),
        # A host name with dots, as inventories of FQDNs have.
        with_changes(workers=[{"name": "w1.ml.example.com", "queues": ["default", "training"]}]),
        with_changes(broker_port=1, broker_password="with spaces and % and ' quotes"),
        # Under LocalExecutor the Celery variables are not used: not checked.
        with_changes(GOOD_LOCAL, scheduler_host="nowhere", broker_host="nowhere", celery_queues=["x y"], broker_port=0),
    ],
    ids=lambda cfg: (
        f"{cfg.get('executor', '-')}-{[w['name'] for w in cfg.get('workers', [])]}-{cfg.get('celery_queues')}"
    ),
)
def test_good_layouts_pass(cfg):
    assert check(cfg) == []


# Each case: the changed input, a phrase naming the variable, a phrase of the fix.
CASES = {
    # --- (a) Celery without workers ---------------------------------------------------------------
    "celery-no-workers": (
        {"workers": []},
        "airflow_executor is CeleryExecutor, but the workers group 'airflow_workers' (airflow_workers_group) has no hosts",
        "add the worker hosts to that group",
    ),
    "celery-workers-group-of-another-name": (
        {"workers": [], "workers_group": "gpu_workers"},
        "the workers group 'gpu_workers' (airflow_workers_group) has no hosts",
        "set airflow_executor: LocalExecutor",
    ),
    "celery-workers-group-empty-name": (
        {"workers": [], "workers_group": ""},
        "airflow_workers_group is empty and airflow_executor is CeleryExecutor",
        "default airflow_workers",
    ),
    # --- (b) workers under LocalExecutor ----------------------------------------------------------
    "local-with-workers": (
        {"executor": "LocalExecutor"},
        (
            "airflow_executor is LocalExecutor, but the workers group 'airflow_workers' (airflow_workers_group) has "
            "hosts: worker01, worker02"
        ),
        "set airflow_executor: CeleryExecutor",
    ),
    "local-with-many-workers": (
        {"executor": "LocalExecutor", "workers": workers(*[["default"]] * 12)},
        (
            "hosts: worker01, worker02, worker03, worker04, worker05, worker06, worker07, worker08, worker09, worker10 "
            "and 2 more"
        ),
        "would run nothing",
    ),
    # --- (c) the broker ----------------------------------------------------------------------------
    "broker-not-in-inventory": (
        {"broker_host": "redis99"},
        "Celery without a broker host: airflow_celery_broker_host: 'redis99' is not a host of this inventory",
        "add it to the inventory",
    ),
    "broker-url-not-a-host": (
        {"broker_host": "redis://redis01:6379/0"},
        "airflow_celery_broker_host: 'redis://redis01:6379/0' is not a host of this inventory",
        "leave it empty for the scheduler's host",
    ),
    "broker-port-zero": ({"broker_port": 0}, "airflow_celery_broker_port: 0 is out of range", "1 and 65535"),
    "broker-port-high": ({"broker_port": 65536}, "airflow_celery_broker_port: 65536 is out of range", "6379"),
    "broker-password-line-break": (
        {"broker_password": SECRET + "\nrename-command CONFIG ''"},
        "airflow_celery_broker_password holds a line break",
        "write it on one line",
    ),
    # --- (d) the scheduler ---------------------------------------------------------------------------
    "no-airflow-group": (
        {"airflow_hosts": []},
        "airflow_scheduler_host is empty and the inventory's airflow group has no hosts",
        "put the scheduler's host in the airflow group",
    ),
    "scheduler-not-in-inventory": (
        {"scheduler_host": "air99"},
        "airflow_scheduler_host: 'air99' is not a host of this inventory",
        "leave it empty for the airflow group's first host",
    ),
    "scheduler-not-in-airflow-group": (
        {"scheduler_host": "db01"},
        "airflow_scheduler_host: 'db01' is not in the airflow group",
        "add it to the airflow group",
    ),
    "scheduler-named-is-a-worker": (
        {"scheduler_host": "worker01", "airflow_hosts": ["air01", "worker01"]},
        "airflow_scheduler_host: 'worker01' is also in the workers group 'airflow_workers'",
        "Take it out of that group",
    ),
    "scheduler-default-is-a-worker": (
        {"workers_group": "airflow", "workers": [{"name": "air01", "queues": ["default", "training"]}]},
        (
            "airflow_scheduler_host is empty and the airflow group's first host, 'air01', is also in the workers group "
            "'airflow'"
        ),
        "name another host in airflow_scheduler_host",
    ),
    # --- (e) queues no worker takes -------------------------------------------------------------------
    "queue-taken-by-no-worker": (
        {"celery_queues": ["training", "gpu"]},
        "queue 'gpu' of airflow_celery_queues is taken by no worker",
        "add gpu to airflow_worker_queues of the worker hosts",
    ),
    "queue-lists-the-workers": (
        {"celery_queues": ["training", "gpu"]},
        "workers and their airflow_worker_queues: worker01 ['default'], worker02 ['default', 'training']",
        "or take it out of airflow_celery_queues",
    ),
    "default-taken-by-no-worker": (
        {"workers": workers(["training"]), "celery_queues": ["training"]},
        "queue 'default', where every task without a queue of its own goes, is taken by no worker",
        "add default to airflow_worker_queues",
    ),
    "queue-case-matters": (
        {"workers": workers(["default", "Training"])},
        "queue 'training' of airflow_celery_queues is taken by no worker",
        "worker01 ['default', 'Training']",
    ),
    "worker-takes-only-unused-queues": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["trainig"]}]},
        "airflow_worker_queues on worker03: trainig are queues no task goes to",
        "add the queue to airflow_celery_queues",
    ),
    # --- (f) a worker's queue list --------------------------------------------------------------------
    "worker-queues-empty": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": []}]},
        "airflow_worker_queues on worker03 is empty",
        "at least [default]",
    ),
    "worker-queues-comma-joined": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["default,training"]}]},
        "airflow_worker_queues on worker03: 'default,training' is not a queue name",
        "list each queue as its own entry",
    ),
    "worker-queue-with-space": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["default", "gpu training"]}]},
        "airflow_worker_queues on worker03: 'gpu training' is not a queue name",
        "letters, digits",
    ),
    "worker-queue-option-injection": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["default --purge"]}]},
        "airflow_worker_queues on worker03: 'default --purge' is not a queue name",
        "[default, training]",
    ),
    "worker-queue-line-break": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["default\nExecStartPre=/bin/sh"]}]},
        "airflow_worker_queues on worker03: 'default\\nExecStartPre=/bin/sh' is not a queue name",
        "letters",
    ),
    "worker-queue-empty-string": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": [""]}]},
        "airflow_worker_queues on worker03: '' is not a queue name",
        "letters",
    ),
    "worker-queue-unicode": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["défaut"]}]},
        "airflow_worker_queues on worker03: 'défaut' is not a queue name",
        "letters",
    ),
    "celery-queue-bad-name": (
        {"celery_queues": ["training", "gpu/a100"]},
        "airflow_celery_queues: 'gpu/a100' is not a queue name",
        "e.g. training",
    ),
    # --- (g) anything else hostile ----------------------------------------------------------------
    "worker-name-with-space": (
        {"workers": [*GOOD["workers"], {"name": "worker 03", "queues": ["default"]}]},
        "airflow_workers_group: the worker host 'worker 03' has a name that cannot be a Celery worker's",
        "ansible_host keeps its address",
    ),
    "worker-name-with-at": (
        {"workers": [*GOOD["workers"], {"name": "celery@worker03", "queues": ["default"]}]},
        "the worker host 'celery@worker03'",
        "letters, digits",
    ),
    "worker-concurrency-zero": (
        {"workers": [{"name": "worker01", "queues": ["default", "training"], "concurrency": 0}]},
        "airflow_worker_concurrency on worker01: 0 would let that worker run no task",
        "at least 1",
    ),
    "unknown-executor": (
        {"executor": "KubernetesExecutor"},
        "airflow_executor: 'KubernetesExecutor' is not an executor the role runs",
        "LocalExecutor or CeleryExecutor",
    ),
    # --- types first ---------------------------------------------------------------------------------
    "worker-queues-a-string": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": "default,training"}]},
        "airflow_worker_queues on worker03: got a string, not a list",
        "give a list",
    ),
    "worker-queue-a-number": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": ["default", 42]}]},
        "airflow_worker_queues on worker03[1]: got an integer, not a string",
        "quote the value",
    ),
    "worker-queues-null": (
        {"workers": [*GOOD["workers"], {"name": "worker03", "queues": None}]},
        "airflow_worker_queues on worker03: got null, not a list",
        "leave the",
    ),
    "worker-concurrency-a-string": (
        {"workers": [{"name": "worker01", "queues": ["default", "training"], "concurrency": "8"}]},
        "airflow_worker_concurrency on worker01: got a string, not an integer",
        "without quotes",
    ),
    "worker-not-a-dict": (
        {"workers": ["worker01"]},
        "the hosts of airflow_workers_group: an entry is not a host with a name",
        "{'name': host",
    ),
    "celery-queues-a-string": (
        {"celery_queues": "training"},
        "airflow_celery_queues: got a string, not a list",
        "give a list",
    ),
    "executor-a-list": (
        {"executor": ["CeleryExecutor"]},
        "airflow_executor: got a list, not a string",
        "give a string",
    ),
    "workers-group-a-list": (
        {"workers_group": ["airflow_workers"]},
        "airflow_workers_group: got a list, not a string",
        "give a string",
    ),
    "broker-port-a-string": (
        {"broker_port": "6379"},
        "airflow_celery_broker_port: got a string, not an integer",
        "without quotes",
    ),
    "broker-password-a-number": (
        {"broker_password": 123456},
        "airflow_celery_broker_password: got an integer, not a string",
        "quote the value",
    ),
    "scheduler-host-null": (
        {"scheduler_host": None},
        "airflow_scheduler_host: got null, not a string",
        "leave the variable out",
    ),
}


@pytest.mark.parametrize(("changes", "variable", "fix"), CASES.values(), ids=CASES.keys())
def test_refused_with_variable_and_fix(changes, variable, fix):
    errors = check(with_changes(**changes))
    matching = [error for error in errors if variable in error]
    assert len(matching) == 1, errors
    assert fix in matching[0]


@pytest.mark.parametrize(
    ("changes", "count"),
    [
        # One message per problem: a bad queue name is not also reported as a queue nobody takes.
        ({"celery_queues": ["training", "gpu/a100"]}, 1),
        ({"broker_host": "redis99"}, 1),
        ({"scheduler_host": "air99"}, 1),
        ({"workers": []}, 1),
        # An empty queue list also leaves nothing for worker03; the other workers still cover both queues.
        ({"workers": [*GOOD["workers"], {"name": "worker03", "queues": []}]}, 1),
        # A type error comes alone, before any meaning check.
        ({"broker_port": "6379", "workers": []}, 1),
    ],
)
def test_one_message_per_problem(changes, count):
    assert len(check(with_changes(**changes))) == count


def test_every_problem_is_reported_at_once():
    errors = check(
        with_changes(
            scheduler_host="air99",
            broker_host="redis99",
            celery_queues=["training", "gpu"],
            workers=[{"name": "worker01", "queues": []}],
        )
    )
    assert [error[:30] for error in errors] == [
        "airflow_scheduler_host: 'air99",
        "Celery without a broker host: ",
        "airflow_worker_queues on worke",
        "queue 'default', where every t",
        "queue 'training' of airflow_ce",
        "queue 'gpu' of airflow_celery_",
    ]


def test_messages_never_show_the_broker_password():
    errors = check(with_changes(broker_password=SECRET + "\n", broker_host="redis99"))
    assert len(errors) == 2
    assert all(SECRET not in error for error in errors)
    errors = check(with_changes(broker_password=12345))
    assert errors
    assert all("12345" not in error for error in errors)


def test_long_names_are_cut():
    name = "w" * 5000
    errors = check(with_changes(broker_host=name, celery_queues=["q" * 5000]))
    assert errors
    assert all(len(error) < 1000 for error in errors)


def test_not_a_dict():
    (message,) = check(["CeleryExecutor"])
    assert message.startswith("the airflow_celery_* variables: got a list, not a dict")


HOSTILE = [None, 0, -1, True, 1.5, "", "x", "a\nb", "\u00a0", "#", [], ["x"], [None], {}, {"a": 1}, "z" * 5000]
WORKER_KEYS = ("name", "queues", "concurrency")


@pytest.mark.parametrize("base", [GOOD, GOOD_LOCAL], ids=["celery", "local"])
@pytest.mark.parametrize("key", [*plugin.TYPES, *(f"workers.{key}" for key in WORKER_KEYS)])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_messages_not_tracebacks(base, key, value):
    cfg = copy.deepcopy(base)
    if key.startswith("workers."):
        cfg["workers"] = cfg["workers"] or workers(["default"])
        cfg["workers"][0][key.split(".", 1)[1]] = value
    else:
        cfg[key] = value
    errors = check(cfg)
    assert isinstance(errors, list)
    assert all(isinstance(message, str) for message in errors)
    assert all(SECRET not in message for message in errors)
