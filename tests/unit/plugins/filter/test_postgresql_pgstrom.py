# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the PG-Strom plan and settings filters, fed with detection results of
the recorded H100 and the hosts derived from it (tests/unit/fixtures/gpu)."""

from __future__ import annotations

import inspect

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from gpu_fixtures import detect
from plugin_loader import load_plugin

filters = load_plugin("plugins/filter/postgresql_pgstrom_plan.py").FilterModule().filters()
plan_for = filters["postgresql_pgstrom_plan"]
with_pgstrom = filters["postgresql_pgstrom_settings"]


@pytest.mark.parametrize("fixture", ["h100-driver580", "h100x2-driver580"])
def test_working_gpu_with_toolkit_is_preloaded_with_nothing_to_install(fixture, tmp_path):
    plan = plan_for(detect(fixture, tmp_path), toolkit_present=True)
    assert plan == {
        "preload": True,
        "install_driver": False,
        "upgrade_driver": False,
        "install_toolkit": False,
        "reboot": False,
        "fail": "",
        "warning": "",
    }


def test_working_gpu_without_toolkit_installs_it_without_a_reboot(tmp_path):
    plan = plan_for(detect("h100-driver580", tmp_path), toolkit_present=False)
    assert plan["preload"] and plan["install_toolkit"]
    assert not plan["install_driver"] and not plan["reboot"]


def test_missing_toolkit_when_installs_are_off(tmp_path):
    plan = plan_for(detect("h100-driver580", tmp_path), toolkit_present=False, install=False)
    assert not plan["preload"]
    assert "the CUDA toolkit is not installed" in plan["warning"]
    assert "postgresql_gpu_install" in plan["warning"]


def test_no_gpu_warns_and_keeps_the_server(tmp_path):
    plan = plan_for(detect("no-nvidia", tmp_path), toolkit_present=False)
    assert not plan["preload"] and not plan["fail"]
    assert plan["warning"].startswith("PG-Strom cannot run on this host: no NVIDIA")
    assert "without pg_strom in shared_preload_libraries" in plan["warning"]
    assert "postgresql_pgstrom_required" in plan["warning"]


def test_no_gpu_required_fails_before_changes(tmp_path):
    plan = plan_for(detect("no-nvidia", tmp_path), toolkit_present=False, required=True)
    assert not plan["preload"] and not plan["warning"]
    assert "no NVIDIA" in plan["fail"]
    assert "nothing was changed" in plan["fail"]


def test_old_gpu_is_refused_with_its_compute_capability(tmp_path):
    plan = plan_for(detect("p100-driver535", tmp_path), toolkit_present=True)
    assert not plan["preload"]
    assert "compute capability 6.0 < 7.5" in plan["warning"]


def test_driver_missing_needs_permission_to_reboot(tmp_path):
    gpu = detect("no-driver", tmp_path)
    skipped = plan_for(gpu, toolkit_present=False)
    assert not skipped["preload"]
    assert "postgresql_gpu_reboot_allowed" in skipped["warning"]
    failed = plan_for(gpu, toolkit_present=False, required=True)
    assert "postgresql_gpu_reboot_allowed" in failed["fail"]
    go = plan_for(gpu, toolkit_present=False, reboot_allowed=True)
    assert go == {
        "preload": True,
        "install_driver": True,
        "upgrade_driver": False,
        "install_toolkit": True,
        "reboot": True,
        "fail": "",
        "warning": "",
    }


def test_driver_missing_and_installs_off(tmp_path):
    plan = plan_for(detect("no-driver", tmp_path), toolkit_present=True, install=False, reboot_allowed=True)
    assert not plan["preload"]
    assert "Install the NVIDIA driver or set postgresql_gpu_install: true" in plan["warning"]


# "Installed but not loading": the no-driver host (the H100 on the bus, no kernel module,
# nvidia-smi failing), as it looks before the install and again after the install and reboot
# when the module is refused. The role asks the plan again after the apt install.
def test_driver_not_loading_reboots_after_an_install_that_changed_it(tmp_path):
    gpu = detect("no-driver", tmp_path)
    plan = plan_for(gpu, toolkit_present=True, reboot_allowed=True, driver_changed=True)
    assert plan["reboot"] and plan["preload"] and not plan["warning"] and not plan["fail"]


def test_driver_not_loading_reboots_when_the_system_asks_for_it(tmp_path):
    gpu = detect("no-driver", tmp_path)
    plan = plan_for(gpu, toolkit_present=True, reboot_allowed=True, driver_changed=False, reboot_required=True)
    assert plan["reboot"] and plan["preload"]


def test_driver_not_loading_and_nothing_changed_does_not_reboot_again(tmp_path):
    gpu = detect("no-driver", tmp_path)
    # Every run plans the install (apt finds it done) ...
    assert plan_for(gpu, toolkit_present=True, reboot_allowed=True)["install_driver"]
    # ... but only an install that changed something, or the system, asks for the reboot.
    skipped = plan_for(gpu, toolkit_present=True, reboot_allowed=True, driver_changed=False, reboot_required=False)
    assert not skipped["reboot"] and not skipped["preload"] and not skipped["fail"]
    warning = skipped["warning"]
    assert "installed but does not load, and this run changed nothing a reboot would load" in warning
    assert "does not reboot for it again" in warning
    assert "dmesg" in warning and "Secure Boot" in warning and "mokutil --import" in warning
    assert "Driver/library version mismatch" in warning  # upgraded by hand since the boot
    assert "the driver is not loaded (" in warning  # gpu_facts' own reason comes first
    failed = plan_for(
        gpu, toolkit_present=True, reboot_allowed=True, required=True, driver_changed=False, reboot_required=False
    )
    assert not failed["reboot"] and not failed["warning"]
    assert "dmesg" in failed["fail"] and "the role stops here; PostgreSQL was not changed" in failed["fail"]


def test_working_driver_is_not_rebooted_when_the_system_asks(tmp_path):
    plan = plan_for(detect("h100-driver580", tmp_path), toolkit_present=True, reboot_allowed=True, reboot_required=True)
    assert plan["preload"] and not plan["reboot"] and not plan["install_driver"]


# "Too old": the recorded H100's driver 580 supports CUDA 13.0; a host asking for CUDA 13.1
# (postgresql_gpu_cuda_version: "13.1") finds it too old, through gpu_facts' own check.
def too_old(tmp_path):
    gpu = detect("h100-driver580", tmp_path, min_cuda="13.1")
    assert gpu["driver_working"] and "CUDA driver version 13.0 < 13.1" in gpu["reasons"]
    return gpu


def test_driver_too_old_for_the_cuda_version_is_upgraded(tmp_path):
    plan = plan_for(too_old(tmp_path), toolkit_present=True, reboot_allowed=True)
    assert plan == {
        "preload": True,
        "install_driver": True,
        "upgrade_driver": True,
        "install_toolkit": False,
        "reboot": True,
        "fail": "",
        "warning": "",
    }
    after = plan_for(too_old(tmp_path / "again"), toolkit_present=True, reboot_allowed=True, driver_changed=True)
    assert after["upgrade_driver"] and after["reboot"]


def test_driver_too_old_and_installs_off_is_refused_naming_the_variables(tmp_path):
    gpu = too_old(tmp_path)
    plan = plan_for(gpu, toolkit_present=True, install=False, reboot_allowed=True)
    assert not plan["preload"] and not plan["install_driver"] and not plan["reboot"]
    assert "CUDA driver version 13.0 < 13.1" in plan["warning"]
    assert "postgresql_gpu_install: true" in plan["warning"] and "postgresql_gpu_cuda_version" in plan["warning"]
    failed = plan_for(gpu, toolkit_present=True, install=False, required=True)
    assert "postgresql_gpu_cuda_version" in failed["fail"] and "nothing was changed" in failed["fail"]


def test_driver_too_old_needs_permission_to_reboot(tmp_path):
    plan = plan_for(too_old(tmp_path), toolkit_present=True)
    assert not plan["preload"] and not plan["upgrade_driver"]
    assert "A driver upgrade needs a reboot: set postgresql_gpu_reboot_allowed: true" in plan["warning"]


def test_driver_too_old_and_no_newer_one_found_is_refused_without_a_reboot(tmp_path):
    plan = plan_for(too_old(tmp_path), toolkit_present=True, reboot_allowed=True, driver_changed=False)
    assert not plan["reboot"] and not plan["preload"]
    assert "found no newer driver" in plan["warning"]
    assert "postgresql_gpu_driver_packages" in plan["warning"] and "postgresql_gpu_cuda_version" in plan["warning"]


def test_unsupported_gpu_gets_no_driver_upgrade(tmp_path):
    # The P100's driver 535 is too old for CUDA 13.0 too, but no driver makes a 6.0 GPU usable.
    plan = plan_for(detect("p100-driver535", tmp_path), toolkit_present=True, reboot_allowed=True)
    assert not plan["preload"] and not plan["install_driver"] and not plan["upgrade_driver"] and not plan["reboot"]
    assert "compute capability 6.0 < 7.5" in plan["warning"]


def test_input_must_be_a_detection_result():
    with pytest.raises(AnsibleFilterError, match=r"gpu result of datatech\.mlops\.gpu_facts"):
        plan_for({"gpus": []}, toolkit_present=True)


def test_settings_keep_the_users_preload_list_and_add_pg_strom_once():
    settings = with_pgstrom({"shared_preload_libraries": "pg_stat_statements,auto_explain"}, "/usr/local/cuda-13.0")
    assert settings["shared_preload_libraries"] == "pg_stat_statements,auto_explain,pg_strom"
    again = with_pgstrom(settings, "/usr/local/cuda-13.0")
    assert again["shared_preload_libraries"] == "pg_stat_statements,auto_explain,pg_strom"


def test_settings_with_an_empty_preload_list():
    assert with_pgstrom({"shared_preload_libraries": ""}, "/c")["shared_preload_libraries"] == "pg_strom"


@pytest.mark.parametrize(("given", "expected"), [(8, 100), (100, 100), (140, 140)])
def test_worker_processes_at_least_100(given, expected):
    assert with_pgstrom({"max_worker_processes": given}, "/c")["max_worker_processes"] == expected


def test_users_pg_strom_settings_win():
    settings = with_pgstrom(
        {}, "/usr/local/cuda-13.0", {"pg_strom.cuda_toolkit_basedir": "/opt/cuda", "pg_strom.enabled": False}
    )
    assert settings["pg_strom.cuda_toolkit_basedir"] == "/opt/cuda"
    assert settings["pg_strom.enabled"] is False


def test_server_older_than_15_is_refused_even_with_a_gpu(tmp_path):
    gpu = detect("h100-driver580", tmp_path)
    plan = plan_for(gpu, toolkit_present=True, server_version=14)
    assert not plan["preload"]
    assert "PostgreSQL 14 is older than 15" in plan["warning"]
    assert "postgresql_install_source: pgdg" in plan["warning"]
    assert "PostgreSQL 14" in plan_for(gpu, toolkit_present=True, server_version=14, required=True)["fail"]


def test_documentation_parses_and_lists_every_option_and_key(tmp_path):
    module = load_plugin("plugins/filter/postgresql_pgstrom_plan.py")
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["name"] == "postgresql_pgstrom_plan"
    parameters = list(inspect.signature(plan_for).parameters)
    assert set(doc["options"]) == {"_input", *parameters[1:]}
    returned = yaml.safe_load(module.RETURN)["_value"]["contains"]
    assert set(returned) == set(plan_for(detect("h100-driver580", tmp_path), toolkit_present=True))
    yaml.safe_load(module.EXAMPLES)
