# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The datatech.mlops.gpu_facts module run whole, over fixture hosts and a replaying nvidia-smi."""

from __future__ import annotations

import json
import os
import sys

import pytest
from ansible.module_utils.testing import patch_module_args
from gpu_fixtures import build_host, recorded
from playbook_runner import run_playbook_json
from plugin_loader import ROOT, load_plugin

gpu_facts = load_plugin("plugins/modules/gpu_facts.py")
gd = load_plugin("plugins/module_utils/gpu_detection.py")

READ_ONLY_CALLS = [" ".join(gd.QUERY_ARGS), " ".join(gd.XML_ARGS)]


@pytest.fixture
def host(request, tmp_path, monkeypatch):
    """The fixture host named by the test's parameter, its fake nvidia-smi logging each call."""
    built = build_host(request.param, tmp_path)
    for name, value in built.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FAKE_NVIDIA_SMI_LOG", str(tmp_path / "calls"))
    return built


def calls(host):
    log = host.sysfs_root.parent / "calls"
    return log.read_text().splitlines() if log.exists() else []


def run_module(capsys, **args):
    """main() with the given module args; (exit code, result)."""
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        gpu_facts.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def host_args(host, **extra):
    return {
        "sysfs_root": str(host.sysfs_root),
        "procfs_root": str(host.procfs_root),
        "nvidia_smi": str(host.nvidia_smi),
        **extra,
    }


@pytest.mark.parametrize("host", ["h100-driver580"], indirect=True)
def test_h100(host, capsys):
    code, result = run_module(capsys, **host_args(host))
    assert (code, result["changed"]) == (0, False)
    gpu = result["gpu"]
    assert gpu["pgstrom_capable"] and gpu["reasons"] == []
    assert (gpu["gpu_present"], gpu["driver_loaded"], gpu["driver_working"]) == (True, True, True)
    assert (gpu["driver_version"], gpu["kernel_module_type"], gpu["cuda_driver_version"]) == (
        "580.159.04",
        "open",
        "13.0",
    )
    assert gpu["usable_gpus"] == gpu["gpus"]
    assert gpu["gpus"][0]["uuid"] == "GPU-95dd7a2c-aac8-162d-939b-ad91d7792759"
    assert calls(host) == READ_ONLY_CALLS


@pytest.mark.parametrize("host", ["h100-driver580"], indirect=True)
def test_check_mode_reads_the_same(host, capsys):
    normal = run_module(capsys, **host_args(host))[1]
    code, checked = run_module(capsys, _ansible_check_mode=True, **host_args(host))
    assert (code, checked["changed"]) == (0, False)
    assert checked["gpu"] == normal["gpu"]
    assert calls(host) == READ_ONLY_CALLS * 2


@pytest.mark.parametrize("host", ["h100x2-driver580"], indirect=True)
def test_two_h100(host, capsys):
    result = run_module(capsys, **host_args(host))[1]
    assert result["gpu"]["pgstrom_capable"]
    assert [gpu["pci_bus_id"] for gpu in result["gpu"]["usable_gpus"]] == ["00000000:00:06.0", "00000000:00:07.0"]


@pytest.mark.parametrize("host", ["p100-driver535"], indirect=True)
def test_old_gpu(host, capsys):
    result = run_module(capsys, **host_args(host))[1]
    assert (result["gpu"]["driver_working"], result["gpu"]["pgstrom_capable"]) == (True, False)
    assert result["gpu"]["reasons"] == [
        "GPU 0 Tesla P100-PCIE-16GB compute capability 6.0 < 7.5",
        "CUDA driver version 12.2 < 13.0",
    ]


@pytest.mark.parametrize("host", ["p100-driver535"], indirect=True)
def test_minimums_are_options(host, capsys):
    result = run_module(capsys, min_compute_capability="6.0", min_cuda_version="12.2", **host_args(host))[1]
    assert result["gpu"]["pgstrom_capable"]
    assert [gpu["index"] for gpu in result["gpu"]["usable_gpus"]] == [0]


@pytest.mark.parametrize("host", ["no-driver"], indirect=True)
def test_no_driver(host, capsys):
    code, result = run_module(capsys, _ansible_check_mode=True, **host_args(host))
    gpu = result["gpu"]
    assert (code, result["changed"]) == (0, False)
    assert (gpu["gpu_present"], gpu["driver_loaded"], gpu["driver_working"], gpu["pgstrom_capable"]) == (
        True,
        False,
        False,
        False,
    )
    assert gpu["reasons"] == [
        f"NVIDIA device present but the driver is not loaded ({host.procfs_root}/driver/nvidia/version missing)",
        "nvidia-smi failed, exit status 9: " + recorded("no-driver", "nvidia-smi-error.txt").strip(),
    ]
    assert calls(host) == [" ".join(gd.QUERY_ARGS)]


@pytest.mark.parametrize("host", ["no-driver"], indirect=True)
def test_nvidia_smi_not_installed(host, capsys):
    missing = str(host.sysfs_root.parent / "usr" / "bin" / "nvidia-smi")
    result = run_module(capsys, **host_args(host, nvidia_smi=missing))[1]
    assert result["gpu"]["nvidia_smi_error"] == f"nvidia-smi not found ({missing})"
    assert result["gpu"]["reasons"][-1] == f"nvidia-smi not found ({missing})"


@pytest.mark.parametrize("host", ["no-nvidia"], indirect=True)
def test_no_nvidia_device(host, capsys):
    result = run_module(capsys, **host_args(host, nvidia_smi="nvidia-smi-not-installed-here"))[1]
    gpu = result["gpu"]
    assert (gpu["gpu_present"], gpu["pgstrom_capable"], gpu["pci_devices"], gpu["gpus"]) == (False, False, [], [])
    assert gpu["reasons"] == [f"no NVIDIA PCI device in {host.sysfs_root}/bus/pci/devices"]


@pytest.mark.parametrize("host", ["h100-driver580"], indirect=True)
def test_nvidia_smi_found_in_path(host, capsys, monkeypatch):
    monkeypatch.setenv("PATH", f"{host.nvidia_smi.parent}{os.pathsep}{os.environ['PATH']}")
    args = host_args(host)
    del args["nvidia_smi"]
    result = run_module(capsys, **args)[1]
    assert result["gpu"]["pgstrom_capable"]


@pytest.mark.parametrize("option", ["min_compute_capability", "min_cuda_version"])
def test_minimum_must_be_a_version(option, capsys):
    code, result = run_module(capsys, **{option: "seven"})
    assert (code, result["failed"]) == (1, True)
    assert result["msg"] == f"{option} must be a version such as 7.5, got 'seven'"


@pytest.mark.parametrize("host", ["h100-driver580"], indirect=True)
def test_by_fqcn_in_a_playbook(host, tmp_path):
    """ansible-playbook runs datatech.mlops.gpu_facts from the checkout, in check mode."""
    collections = tmp_path / "collections"
    (collections / "ansible_collections" / "datatech").mkdir(parents=True)
    (collections / "ansible_collections" / "datatech" / "mlops").symlink_to(ROOT)
    play = tmp_path / "play.yml"
    play.write_text(
        f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - datatech.mlops.gpu_facts:
        sysfs_root: {host.sysfs_root}
        procfs_root: {host.procfs_root}
        nvidia_smi: {host.nvidia_smi}
      register: detected
    - ansible.builtin.assert:
        that:
          - detected is not changed
          - detected.gpu.pgstrom_capable
          - detected.gpu.usable_gpus | map(attribute='name') | list == ['NVIDIA H100 80GB HBM3']
"""
    )
    output = run_playbook_json(
        ["--check", "-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}", str(play)],
        collections,
        tmp_path,
    )
    task = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert task["gpu"]["cuda_driver_version"] == "13.0"
