"""Build a host's sysfs and procfs from a GPU fixture folder, for the gpu_facts tests.

A fixture folder holds what was recorded (or derived from a recording, see
fixtures/gpu/README.md): sys-pci.txt lists the PCI devices, proc-driver-nvidia-version.txt
is /proc/driver/nvidia/version (absent: driver not loaded). build_host lays them out as
the kernel does, /sys/bus/pci/devices/<address> being a link into /sys/devices/, and puts
fixtures/gpu/fake-nvidia-smi at bin/nvidia-smi to replay the folder's nvidia-smi output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gpu"
FAKE_NVIDIA_SMI = FIXTURES / "fake-nvidia-smi"
PCI_LINE = re.compile(
    r"^(?P<address>\S+) vendor=(?P<vendor>\S+) device=(?P<device>\S+) class=(?P<cls>\S+) driver=(?P<driver>\S*)$"
)


@dataclass
class Host:
    fixture: Path
    sysfs_root: Path
    procfs_root: Path
    nvidia_smi: Path

    @property
    def env(self):
        """What the fake nvidia-smi needs in its environment."""
        return {"FAKE_NVIDIA_SMI_FIXTURE": str(self.fixture)}


def recorded(fixture, name):
    return (FIXTURES / fixture / name).read_text()


def pci_listing(text):
    """sys-pci.txt as dicts: address, vendor, device, class, driver ('' when none)."""
    devices = []
    for line in text.splitlines():
        match = PCI_LINE.match(line)
        assert match, f"not a sys-pci.txt line: {line!r}"
        devices.append(match.groupdict())
    return devices


def build_host(fixture, base):
    """Lay out fixtures/gpu/<fixture> under base; return the Host."""
    folder = FIXTURES / fixture
    sysfs, procfs, bindir = base / "sys", base / "proc", base / "bin"
    (sysfs / "bus" / "pci" / "devices").mkdir(parents=True)
    for device in pci_listing((folder / "sys-pci.txt").read_text()):
        address = device["address"]
        bus = "pci" + address.rsplit(":", 1)[0]  # 0000:00:06.0 -> pci0000:00
        path = sysfs / "devices" / bus / address
        path.mkdir(parents=True)
        for name, key in (("vendor", "vendor"), ("device", "device"), ("class", "cls")):
            (path / name).write_text(device[key] + "\n")
        if device["driver"]:
            (sysfs / "bus" / "pci" / "drivers" / device["driver"]).mkdir(parents=True, exist_ok=True)
            (path / "driver").symlink_to(f"../../../bus/pci/drivers/{device['driver']}")
        (sysfs / "bus" / "pci" / "devices" / address).symlink_to(f"../../../devices/{bus}/{address}")
    procfs.mkdir()
    version = folder / "proc-driver-nvidia-version.txt"
    if version.exists():
        (procfs / "driver" / "nvidia").mkdir(parents=True)
        shutil.copyfile(version, procfs / "driver" / "nvidia" / "version")
    bindir.mkdir()
    shutil.copyfile(FAKE_NVIDIA_SMI, bindir / "nvidia-smi")
    (bindir / "nvidia-smi").chmod(0o755)
    return Host(folder, sysfs, procfs, bindir / "nvidia-smi")


def replay(host):
    """A run_smi for gpu_detection.collect: the fixture's fake nvidia-smi."""

    def run(args):
        done = subprocess.run(
            [str(host.nvidia_smi), *args], capture_output=True, text=True, check=False, env={**os.environ, **host.env}
        )
        return done.returncode, done.stdout, done.stderr

    return run


def detect(fixture, base, min_cc="7.5", min_cuda="13.0"):
    """What datatech.mlops.gpu_facts reports (its gpu result) on the fixture's host, laid out under base."""
    from plugin_loader import load_plugin

    detection = load_plugin("plugins/module_utils/gpu_detection.py")
    host = build_host(fixture, base)
    run_smi = None if fixture == "no-nvidia" else replay(host)
    return detection.collect(str(host.sysfs_root), str(host.procfs_root), run_smi, "nvidia-smi", min_cc, min_cuda)
