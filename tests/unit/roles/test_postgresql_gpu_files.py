"""What the postgresql role writes on a host that detection reports as GPU-capable.

The NVIDIA and Arrow repositories cannot be reached from the tests, so the role's own
templates and variables are rendered with Ansible's templating engine, and the settings
file from the tuning and PG-Strom filters, fed with a detection result of the recorded H100.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.parsing.yaml.loader import AnsibleLoader
from ansible.template import Templar, trust_as_template
from gpu_fixtures import detect
from plugin_loader import ROOT, load_plugin

ROLE = ROOT / "roles" / "postgresql"
filters = load_plugin("plugins/filter/postgresql_pgstrom_plan.py").FilterModule().filters()
tune = load_plugin("plugins/filter/postgresql_tuning.py").FilterModule().filters()["postgresql_tuning"]
OS_FACTS = {
    "Debian-12": {"distribution": "Debian", "distribution_major_version": "12", "distribution_release": "bookworm"},
    "Debian-13": {"distribution": "Debian", "distribution_major_version": "13", "distribution_release": "trixie"},
    "Ubuntu-24": {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_release": "noble"},
}


def _trusted(value):
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: _trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_trusted(item) for item in value]
    return value


def templar(os_key="Debian-12", **overrides):
    variables = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        variables.update(AnsibleLoader((ROLE / name).read_text()).get_single_data())
    variables.update(ansible_facts=OS_FACTS[os_key], ansible_managed="Ansible managed", **overrides)
    return Templar(loader=DataLoader(), variables=_trusted(variables))


def render(name, os_key="Debian-12", **overrides):
    return templar(os_key, **overrides).template(trust_as_template((ROLE / "templates" / name).read_text()))


def deb822(text):
    return dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith("#"))


def repository(task_file, os_key="Debian-12"):
    """The repository a task file adds through apt_repository.yml, rendered for an OS."""
    tasks = AnsibleLoader((ROLE / "tasks" / task_file).read_text()).get_single_data()
    task = next(t for t in tasks if t.get("ansible.builtin.include_tasks") == "apt_repository.yml")
    return templar(os_key).template(_trusted(task["vars"]["__postgresql_repository"]))


@pytest.mark.parametrize(
    ("os_key", "distro"), [("Debian-12", "debian12"), ("Debian-13", "debian13"), ("Ubuntu-24", "ubuntu2404")]
)
def test_nvidia_repository_for_each_os(os_key, distro):
    base = f"https://developer.download.nvidia.com/compute/cuda/repos/{distro}/x86_64"
    assert repository("gpu_driver.yml", os_key) == {
        "name": "nvidia-cuda",
        "uris": f"{base}/",
        "suites": "/",
        "components": [],
        "signed_by": f"{base}/3bf863cc.pub",
    }


def test_arrow_repository():
    assert repository("pgstrom_build.yml") == {
        "name": "apache-arrow",
        "uris": "https://packages.apache.org/artifactory/arrow/debian/",
        "suites": "bookworm",
        "components": ["main"],
        "signed_by": "https://downloads.apache.org/arrow/KEYS",
    }


def test_toolkit_packages_and_home_follow_the_cuda_version():
    t = templar(postgresql_gpu_cuda_version="13.1")
    assert t.template(trust_as_template("{{ __postgresql_cuda_packages }}")) == [
        "cuda-toolkit-13-1",
        "libcufile-dev-13-1",
    ]
    assert t.template(trust_as_template("{{ __postgresql_cuda_home }}")) == "/usr/local/cuda-13.1"


def test_server_unit_drop_in_gives_nvcc_and_open_files():
    text = render("pgstrom-dropin.conf.j2")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0] == "[Service]"
    assert "LimitNOFILE=65536" in lines
    path = next(line for line in lines if line.startswith("Environment=PATH="))
    assert path.split("=", 2)[2].split(":")[0] == "/usr/local/cuda-13.0/bin"


def test_drop_in_lands_beside_the_servers_unit():
    tasks = AnsibleLoader((ROLE / "tasks" / "pgstrom_build.yml").read_text()).get_single_data()
    dest = next(
        t["ansible.builtin.template"]["dest"]
        for t in tasks
        if t.get("ansible.builtin.template", {}).get("src") == "pgstrom-dropin.conf.j2"
    )
    assert templar().template(trust_as_template(dest)) == (
        "/etc/systemd/system/postgresql@15-main.service.d/datatech-mlops-pgstrom.conf"
    )


def settings_file(settings):
    return templar(__postgresql_settings=settings, __postgresql_tuning_host={"cpus": 64, "memory_mb": 524288}).template(
        trust_as_template((ROLE / "templates" / "datatech-mlops.conf.j2").read_text())
    )


def test_settings_file_of_a_gpu_host(tmp_path):
    plan = filters["postgresql_pgstrom_plan"](detect("h100-driver580", tmp_path), toolkit_present=True)
    assert plan["preload"] and not plan["fail"] and not plan["warning"]
    base = tune({"memory_mb": 524288, "cpus": 64, "profile": "analytics", "gpu": plan["preload"]})
    base["shared_preload_libraries"] = "pg_stat_statements"
    settings = filters["postgresql_pgstrom_settings"](base, "/usr/local/cuda-13.0", {"pg_strom.gpu_setup_cost": 100})
    text = settings_file(settings)
    assert "shared_preload_libraries = 'pg_stat_statements,pg_strom'" in text
    assert "pg_strom.cuda_toolkit_basedir = '/usr/local/cuda-13.0'" in text
    assert "pg_strom.gpu_setup_cost = 100" in text
    workers = next(int(line.split("=")[1]) for line in text.splitlines() if line.startswith("max_worker_processes"))
    assert workers >= 100


def test_settings_file_of_a_host_without_gpu_has_no_pg_strom(tmp_path):
    gpu = detect("no-nvidia", tmp_path)
    plan = filters["postgresql_pgstrom_plan"](gpu, toolkit_present=False)
    assert not plan["preload"]
    text = settings_file(tune({"memory_mb": 4096, "cpus": 2, "gpu": plan["preload"]}))
    assert "pg_strom" not in text


def test_no_inventory_or_default_injects_detection_results():
    defaults = AnsibleLoader((ROLE / "defaults" / "main.yml").read_text()).get_single_data()
    assert defaults["postgresql_gpu_facts_override"] == {}
    for path in Path(ROOT / "inventories").rglob("*.yml"):
        assert "postgresql_gpu_facts_override" not in path.read_text(errors="replace"), path


def _plan_task(tasks_file):
    tasks = AnsibleLoader((ROLE / "tasks" / tasks_file).read_text()).get_single_data()
    return tasks, next(
        i
        for i, t in enumerate(tasks)
        if "__postgresql_pgstrom_plan" in t.get("ansible.builtin.set_fact", {})
        and "postgresql_pgstrom_plan(" in t["ansible.builtin.set_fact"]["__postgresql_pgstrom_plan"]
    )


def _ask_again(gpu, driver_changed, reboot_required, **role_vars):
    """gpu_driver.yml's second plan, its expression evaluated with the real filter."""
    from jinja2.nativetypes import NativeEnvironment

    tasks, index = _plan_task("gpu_driver.yml")
    env = NativeEnvironment()
    env.filters["datatech.mlops.postgresql_pgstrom_plan"] = filters["postgresql_pgstrom_plan"]
    env.tests["changed"] = lambda result: bool(result.get("changed"))
    expression = tasks[index]["ansible.builtin.set_fact"]["__postgresql_pgstrom_plan"]
    return env.from_string(str(expression)).render(
        __postgresql_gpu=gpu,
        __postgresql_nvcc={"stat": {"exists": True}},
        postgresql_pgstrom_required=role_vars.get("required", False),
        postgresql_gpu_install=True,
        postgresql_gpu_reboot_allowed=True,
        __postgresql_version="15",
        __postgresql_gpu_driver_install={"changed": driver_changed},
        __postgresql_gpu_driver_upgrade={"changed": False, "skipped": True},
        __postgresql_reboot_required={"stat": {"exists": reboot_required}},
    )


def test_a_driver_that_does_not_load_reboots_only_after_an_install_that_changed_it(tmp_path):
    gpu = detect("no-driver", tmp_path)
    assert _ask_again(gpu, driver_changed=True, reboot_required=False)["reboot"]
    assert _ask_again(gpu, driver_changed=False, reboot_required=True)["reboot"]
    again = _ask_again(gpu, driver_changed=False, reboot_required=False)
    assert not again["reboot"] and not again["preload"] and "dmesg" in again["warning"]
    assert "dmesg" in _ask_again(gpu, False, False, required=True)["fail"]


def test_the_reboot_follows_the_second_plan_with_the_preflight_options():
    tasks, index = _plan_task("gpu_driver.yml")
    _tasks, first = _plan_task("gpu_plan.yml")
    preflight = AnsibleLoader((ROLE / "tasks" / "gpu_plan.yml").read_text()).get_single_data()[first]

    def options(task):
        return set(re.findall(r"(\w+)=", task["ansible.builtin.set_fact"]["__postgresql_pgstrom_plan"]))

    assert options(tasks[index]) == options(preflight) | {"driver_changed", "reboot_required"}
    reboot = next(i for i, t in enumerate(tasks) if "ansible.builtin.reboot" in t)
    assert index < reboot
    assert "__postgresql_pgstrom_plan.reboot" in tasks[reboot]["when"]
