# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the GPU detection parsers and collector, over recorded and derived output."""

from __future__ import annotations

import subprocess
import sys

import pytest
from gpu_fixtures import FIXTURES, build_host, recorded, replay
from plugin_loader import load_plugin

gd = load_plugin("plugins/module_utils/gpu_detection.py")

H100_UUID = "GPU-95dd7a2c-aac8-162d-939b-ad91d7792759"
NO_DRIVER_MESSAGE = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)


def collect(host, run_smi="replay", min_cc="7.5", min_cuda="13.0"):
    run = replay(host) if run_smi == "replay" else run_smi
    return gd.collect(str(host.sysfs_root), str(host.procfs_root), run, "nvidia-smi", min_cc, min_cuda)


# --- versions ---------------------------------------------------------------------------


def test_version_tuple():
    assert gd.version_tuple("13.0") == (13, 0)
    assert gd.version_tuple(" 580.159.04\n") == (580, 159, 4)
    for bad in ("", "7.x", "v13", "13.", None):
        with pytest.raises(ValueError):
            gd.version_tuple(bad)


def test_versions_compare_as_numbers_not_text():
    assert gd.version_at_least("12.10", "12.2")
    assert not gd.version_at_least("9.0", "10.0")
    assert gd.version_at_least("7.5", "7.5")
    assert not gd.version_at_least(None, "7.5")
    assert not gd.version_at_least("N/A", "7.5")


# --- /proc/driver/nvidia/version ---------------------------------------------------------


def test_driver_version_open_module_recorded():
    assert gd.parse_driver_version(recorded("h100-driver580", "proc-driver-nvidia-version.txt")) == {
        "version": "580.159.04",
        "kernel_module_type": "open",
        "arch": "x86_64",
    }


def test_driver_version_proprietary_module():
    assert gd.parse_driver_version(recorded("p100-driver535", "proc-driver-nvidia-version.txt")) == {
        "version": "535.183.01",
        "kernel_module_type": "proprietary",
        "arch": "x86_64",
    }


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  (dvs-builder@U22)",
            ("580.95.05", "open", "x86_64"),
        ),
        (
            "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  570.86.15  Release Build  (dvs-builder@U16)",
            ("570.86.15", "open", "aarch64"),
        ),
        (
            "NVRM version: NVIDIA UNIX aarch64 Kernel Module  535.104.05  Sat Aug 19 01:15:15 UTC 2023",
            ("535.104.05", "proprietary", "aarch64"),
        ),
    ],
)
def test_driver_version_variants(line, expected):
    parsed = gd.parse_driver_version(line + "\nGCC version:  gcc version 12.3.0\n")
    assert (parsed["version"], parsed["kernel_module_type"], parsed["arch"]) == expected


@pytest.mark.parametrize("text", ["", "GCC version:  gcc version 12.3.0\n", "NVRM version: something else 1.2"])
def test_driver_version_unknown_shape(text):
    assert gd.parse_driver_version(text) is None


# --- nvidia-smi --query-gpu ----------------------------------------------------------------


def test_query_gpu_recorded():
    assert gd.parse_query_gpu(recorded("h100-driver580", "query-gpu.csv")) == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_total_mib": 81559,
            "compute_capability": "9.0",
            "driver_version": "580.159.04",
            "pci_bus_id": "00000000:00:06.0",
        }
    ]


def test_query_gpu_two_gpus():
    gpus = gd.parse_query_gpu(recorded("h100x2-driver580", "query-gpu.csv"))
    assert [(gpu["index"], gpu["pci_bus_id"]) for gpu in gpus] == [(0, "00000000:00:06.0"), (1, "00000000:00:07.0")]


def test_query_gpu_old_gpu():
    (gpu,) = gd.parse_query_gpu(recorded("p100-driver535", "query-gpu.csv"))
    assert (gpu["name"], gpu["compute_capability"], gpu["memory_total_mib"]) == ("Tesla P100-PCIE-16GB", "6.0", 16384)


def test_query_gpu_values_nvidia_smi_does_not_have():
    (gpu,) = gd.parse_query_gpu("0, NVIDIA A100-SXM4-40GB, [N/A], [Not Supported], 580.159.04, 00000000:07:00.0\n\n")
    assert (gpu["memory_total_mib"], gpu["compute_capability"]) == (None, None)


@pytest.mark.parametrize("text", ["0, NVIDIA H100 80GB HBM3, 81559\n", "GPU, name, 1, 9.0, 580, 00000000:00:06.0\n"])
def test_query_gpu_refuses_other_output(text):
    with pytest.raises(ValueError):
        gd.parse_query_gpu(text)


def test_query_gpu_empty():
    assert gd.parse_query_gpu("") == []


# --- CUDA version and nvidia-smi -q -x -----------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "name", "expected"),
    [
        ("h100-driver580", "nvidia-smi.txt", "13.0"),
        ("h100-driver580", "nvidia-smi-version.txt", "13.0"),
        ("p100-driver535", "nvidia-smi.txt", "12.2"),
        ("no-driver", "nvidia-smi-error.txt", None),
    ],
)
def test_cuda_version_from_text(fixture, name, expected):
    assert gd.parse_cuda_version(recorded(fixture, name)) == expected


def test_smi_xml_recorded():
    assert gd.parse_smi_xml(recorded("h100-driver580", "nvidia-smi-q.xml")) == {
        "driver_version": "580.159.04",
        "cuda_version": "13.0",
        "uuids": {"00000000:00:06.0": H100_UUID},
    }


def test_smi_xml_two_gpus_and_old_driver():
    assert len(gd.parse_smi_xml(recorded("h100x2-driver580", "nvidia-smi-q.xml"))["uuids"]) == 2
    assert gd.parse_smi_xml(recorded("p100-driver535", "nvidia-smi-q.xml"))["cuda_version"] == "12.2"


@pytest.mark.parametrize("text", ["", NO_DRIVER_MESSAGE, "<other/>"])
def test_smi_xml_refuses_other_text(text):
    with pytest.raises(ValueError):
        gd.parse_smi_xml(text)


def test_smi_failure_joins_the_output_on_one_line():
    assert gd.smi_failure(9, NO_DRIVER_MESSAGE + "\n\n", "") == "exit status 9: " + NO_DRIVER_MESSAGE
    assert gd.smi_failure(2, "", "") == "exit status 2: no output"


# --- sysfs -------------------------------------------------------------------------------


def test_pci_devices_recorded(tmp_path):
    devices = gd.read_pci_devices(str(build_host("h100-driver580", tmp_path).sysfs_root))
    assert len(devices) == 7
    assert devices[0] == {
        "address": "0000:00:00.0",
        "vendor_id": "0x8086",
        "device_id": "0x0d57",
        "class_id": "0x060000",
        "driver": None,
    }
    assert gd.nvidia_gpu_devices(devices) == [
        {
            "address": "0000:00:06.0",
            "vendor_id": "0x10de",
            "device_id": "0x2330",
            "class_id": "0x030200",
            "driver": "nvidia",
        }
    ]


def test_pci_devices_no_nvidia(tmp_path):
    devices = gd.read_pci_devices(str(build_host("no-nvidia", tmp_path).sysfs_root))
    assert len(devices) == 6
    assert gd.nvidia_gpu_devices(devices) == []


def test_pci_devices_without_sysfs(tmp_path):
    assert gd.read_pci_devices(str(tmp_path / "nothing")) == []


def test_only_nvidia_display_controllers_are_gpus():
    devices = [
        {"address": "a", "vendor_id": "0x10de", "class_id": "0x030000"},  # VGA (GeForce, RTX workstation)
        {"address": "b", "vendor_id": "0x10de", "class_id": "0x030200"},  # 3D controller (data centre)
        {"address": "c", "vendor_id": "0x10de", "class_id": "0x040300"},  # the GPU's HDMI audio
        {"address": "d", "vendor_id": "0x10de", "class_id": "0x0c0330"},  # the GPU's USB-C controller
        {"address": "e", "vendor_id": "0x10de", "class_id": "0x068000"},  # NVSwitch
        {"address": "f", "vendor_id": "0x1002", "class_id": "0x030000"},  # AMD
        {"address": "g", "vendor_id": "0x10de", "class_id": None},
    ]
    assert [device["address"] for device in gd.nvidia_gpu_devices(devices)] == ["a", "b"]


# --- collect -----------------------------------------------------------------------------


def test_collect_h100(tmp_path):
    facts = collect(build_host("h100-driver580", tmp_path))
    assert facts == {
        "gpu_present": True,
        "pci_devices": [{"address": "0000:00:06.0", "device_id": "0x2330", "class_id": "0x030200", "driver": "nvidia"}],
        "driver_loaded": True,
        "driver_version": "580.159.04",
        "kernel_module_type": "open",
        "driver_working": True,
        "nvidia_smi_error": None,
        "cuda_driver_version": "13.0",
        "gpus": [
            {
                "index": 0,
                "name": "NVIDIA H100 80GB HBM3",
                "memory_total_mib": 81559,
                "compute_capability": "9.0",
                "driver_version": "580.159.04",
                "pci_bus_id": "00000000:00:06.0",
                "uuid": H100_UUID,
            }
        ],
        "usable_gpus": facts["gpus"],
        "pgstrom_capable": True,
        "reasons": [],
    }


def test_collect_two_h100(tmp_path):
    facts = collect(build_host("h100x2-driver580", tmp_path))
    assert facts["pgstrom_capable"] and facts["reasons"] == []
    assert [device["address"] for device in facts["pci_devices"]] == ["0000:00:06.0", "0000:00:07.0"]
    assert [gpu["index"] for gpu in facts["usable_gpus"]] == [0, 1]
    assert facts["gpus"][0]["uuid"] == H100_UUID
    assert facts["gpus"][1]["uuid"] not in (None, H100_UUID)


def test_collect_old_gpu_old_driver(tmp_path):
    facts = collect(build_host("p100-driver535", tmp_path))
    assert (facts["driver_working"], facts["pgstrom_capable"], facts["usable_gpus"]) == (True, False, [])
    assert (facts["driver_version"], facts["kernel_module_type"], facts["cuda_driver_version"]) == (
        "535.183.01",
        "proprietary",
        "12.2",
    )
    assert facts["reasons"] == [
        "GPU 0 Tesla P100-PCIE-16GB compute capability 6.0 < 7.5",
        "CUDA driver version 12.2 < 13.0",
    ]


def test_collect_old_gpu_with_lower_minimums(tmp_path):
    facts = collect(build_host("p100-driver535", tmp_path), min_cc="6.0", min_cuda="12.2")
    assert facts["pgstrom_capable"] and facts["reasons"] == []


def test_collect_minimum_above_the_gpu(tmp_path):
    facts = collect(build_host("h100-driver580", tmp_path), min_cc="10.0", min_cuda="13.1")
    assert facts["reasons"] == [
        "GPU 0 NVIDIA H100 80GB HBM3 compute capability 9.0 < 10.0",
        "CUDA driver version 13.0 < 13.1",
    ]


def test_collect_no_driver(tmp_path):
    host = build_host("no-driver", tmp_path)
    facts = collect(host)
    assert facts["gpu_present"] and not facts["driver_loaded"] and not facts["driver_working"]
    assert facts["pci_devices"][0]["driver"] is None
    assert (facts["driver_version"], facts["kernel_module_type"], facts["cuda_driver_version"]) == (None, None, None)
    assert facts["gpus"] == facts["usable_gpus"] == []
    assert facts["reasons"] == [
        f"NVIDIA device present but the driver is not loaded ({host.procfs_root}/driver/nvidia/version missing)",
        "nvidia-smi failed, exit status 9: " + NO_DRIVER_MESSAGE,
    ]
    assert facts["nvidia_smi_error"] == facts["reasons"][1]


def test_collect_no_driver_and_no_nvidia_smi(tmp_path):
    facts = collect(build_host("no-driver", tmp_path), run_smi=None)
    assert facts["reasons"][1:] == ["nvidia-smi not found (nvidia-smi)"]


def test_collect_gpu_held_by_another_driver(tmp_path):
    host = build_host("no-driver", tmp_path)
    (host.sysfs_root / "devices" / "pci0000:00" / "0000:00:06.0" / "driver").symlink_to(
        "../../../bus/pci/drivers/nouveau"
    )
    facts = collect(host, run_smi=None)
    assert facts["pci_devices"][0]["driver"] == "nouveau"
    assert "PCI device 0000:00:06.0 is bound to nouveau, not nvidia" in facts["reasons"]


def test_collect_no_nvidia(tmp_path):
    host = build_host("no-nvidia", tmp_path)
    facts = collect(host, run_smi=None)
    assert (facts["gpu_present"], facts["driver_loaded"], facts["driver_working"], facts["pgstrom_capable"]) == (
        False,
        False,
        False,
        False,
    )
    assert facts["pci_devices"] == []
    # One reason: that nvidia-smi is missing too says nothing more.
    assert facts["reasons"] == [f"no NVIDIA PCI device in {host.sysfs_root}/bus/pci/devices"]
    assert facts["nvidia_smi_error"] == "nvidia-smi not found (nvidia-smi)"


def test_collect_driver_library_mismatch(tmp_path):
    """Kernel module and user-space library of different versions: nvidia-smi says so."""

    def mismatch(args):
        return 18, "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 580.95\n", ""

    facts = collect(build_host("h100-driver580", tmp_path), run_smi=mismatch)
    assert facts["driver_loaded"] and not facts["driver_working"]
    assert facts["reasons"] == [
        "nvidia-smi failed, exit status 18: Failed to initialize NVML: Driver/library version mismatch NVML library version: 580.95"
    ]


def test_collect_nvidia_smi_lists_nothing(tmp_path):
    facts = collect(build_host("h100-driver580", tmp_path), run_smi=lambda args: (0, "", ""))
    assert facts["reasons"] == ["nvidia-smi lists no GPU"]


def test_collect_nvidia_smi_output_not_understood(tmp_path):
    facts = collect(build_host("h100-driver580", tmp_path), run_smi=lambda args: (0, "0, H100\n", ""))
    assert not facts["driver_working"]
    assert facts["reasons"][0].startswith("nvidia-smi output not understood: expected 6 fields")


def test_collect_cuda_version_from_the_table_when_the_xml_fails(tmp_path):
    host = build_host("h100-driver580", tmp_path)
    calls = []

    def no_xml(args):
        calls.append(args)
        return (2, "", "no XML here") if args == gd.XML_ARGS else replay(host)(args)

    facts = collect(host, run_smi=no_xml)
    assert calls == [gd.QUERY_ARGS, gd.XML_ARGS, []]
    assert (facts["cuda_driver_version"], facts["pgstrom_capable"]) == ("13.0", True)
    assert facts["gpus"][0]["uuid"] is None


def test_collect_cuda_version_unknown(tmp_path):
    host = build_host("h100-driver580", tmp_path)

    def query_only(args):
        return replay(host)(args) if args == gd.QUERY_ARGS else (0, "garbage", "")

    facts = collect(host, run_smi=query_only)
    assert facts["cuda_driver_version"] is None
    assert facts["reasons"] == ["CUDA driver version unknown (neither `nvidia-smi -q -x` nor `nvidia-smi` shows it)"]


def test_collect_gpu_without_compute_capability(tmp_path):
    line = "0, NVIDIA H100 80GB HBM3, 81559, [N/A], 580.159.04, 00000000:00:06.0\n"
    host = build_host("h100-driver580", tmp_path)
    facts = collect(host, run_smi=lambda args: (0, line, "") if args == gd.QUERY_ARGS else replay(host)(args))
    assert facts["reasons"] == ["GPU 0 NVIDIA H100 80GB HBM3 compute capability unknown < 7.5"]


# --- derived fixtures --------------------------------------------------------------------


def test_derived_fixtures_are_what_derive_py_writes():
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "derive.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
