# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA GPU detection for the gpu_facts module: pure parsers and one collector.

The parsers take the text that sysfs, procfs and nvidia-smi give and return plain data;
``collect`` puts them together and decides whether PG-Strom can use the host's GPUs. It
reads files under the given roots and runs nvidia-smi only through the callable it is
handed, so unit tests feed it recorded trees and recorded nvidia-smi output.
"""

from __future__ import annotations

import csv
import os
import re
import xml.etree.ElementTree as ET

NVIDIA_VENDOR_ID = "0x10de"
# PCI base class 0x03 (display): 0x0300 VGA-compatible, 0x0302 3D controller (data-centre
# GPUs). NVIDIA's audio (0x0403), USB (0x0c03) and NVSwitch (0x0680) functions are not GPUs.
GPU_CLASS_PREFIXES = ("0x0300", "0x0302")

QUERY_FIELDS = ("index", "name", "memory.total", "compute_cap", "driver_version", "pci.bus_id")
QUERY_ARGS = ["--query-gpu=" + ",".join(QUERY_FIELDS), "--format=csv,noheader,nounits"]
XML_ARGS = ["-q", "-x"]

# /proc/driver/nvidia/version, first line, in its two shapes:
#   NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build  (...)
#   NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024
_NVRM_OPEN = re.compile(
    r"NVRM version:\s+NVIDIA UNIX Open Kernel Module for (?P<arch>\S+)\s+(?P<version>\d+(?:\.\d+)+)"
)
_NVRM_PROPRIETARY = re.compile(r"NVRM version:\s+NVIDIA UNIX (?P<arch>\S+) Kernel Module\s+(?P<version>\d+(?:\.\d+)+)")
# nvidia-smi's table header ("CUDA Version: 13.0") and `nvidia-smi --version` ("CUDA Version : 13.0").
_CUDA_VERSION = re.compile(r"CUDA Version\s*:\s*(?P<version>\d+(?:\.\d+)+)")
_VERSION = re.compile(r"^\d+(?:\.\d+)*$")
# What nvidia-smi prints for a value it does not have: [N/A], [Not Supported], N/A.
_NO_VALUE = re.compile(r"^\[?(N/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$", re.IGNORECASE)


def version_tuple(text):
    """'12.10' -> (12, 10); ValueError for anything that is not dotted numbers."""
    text = str(text).strip()
    if not _VERSION.match(text):
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in text.split("."))


def version_at_least(text, minimum):
    """Whether the version text is at least the minimum; False when text is not a version."""
    try:
        return version_tuple(text) >= version_tuple(minimum)
    except ValueError:
        return False


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def read_pci_devices(sysfs_root="/sys"):
    """Every device under <sysfs_root>/bus/pci/devices, sorted by address.

    Each is a dict: address, vendor_id, device_id, class_id (sysfs' hex strings, e.g.
    '0x10de', '0x2330', '0x030200') and driver (the bound driver's name, or None).
    """
    base = os.path.join(sysfs_root, "bus", "pci", "devices")
    try:
        addresses = sorted(os.listdir(base))
    except OSError:
        return []
    devices = []
    for address in addresses:
        path = os.path.join(base, address)
        fields = {
            name: (_read(os.path.join(path, name)) or "").strip().lower() for name in ("vendor", "device", "class")
        }
        driver = os.path.join(path, "driver")
        devices.append(
            {
                "address": address,
                "vendor_id": fields["vendor"] or None,
                "device_id": fields["device"] or None,
                "class_id": fields["class"] or None,
                "driver": os.path.basename(os.path.realpath(driver)) if os.path.islink(driver) else None,
            }
        )
    return devices


def nvidia_gpu_devices(devices):
    """The NVIDIA GPUs among PCI devices: vendor 0x10de, class 0x0300xx or 0x0302xx."""
    return [
        device
        for device in devices
        if device.get("vendor_id") == NVIDIA_VENDOR_ID and (device.get("class_id") or "").startswith(GPU_CLASS_PREFIXES)
    ]


def parse_driver_version(text):
    """Parse /proc/driver/nvidia/version.

    Returns {'version', 'kernel_module_type' ('open' or 'proprietary'), 'arch'}, or None
    when the text has no NVRM line in a known shape.
    """
    for pattern, module_type in ((_NVRM_OPEN, "open"), (_NVRM_PROPRIETARY, "proprietary")):
        match = pattern.search(text or "")
        if match:
            return {"version": match.group("version"), "kernel_module_type": module_type, "arch": match.group("arch")}
    return None


def _value(text):
    text = text.strip()
    return None if not text or _NO_VALUE.match(text) else text


def parse_query_gpu(text):
    """Parse `nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv,noheader,nounits`.

    One dict per GPU: index (int), name, memory_total_mib (int or None),
    compute_capability (str or None), driver_version, pci_bus_id. ValueError when a line
    does not have the queried fields.
    """
    gpus = []
    for row in csv.reader((text or "").splitlines(), skipinitialspace=True):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(QUERY_FIELDS):
            raise ValueError(f"expected {len(QUERY_FIELDS)} fields ({', '.join(QUERY_FIELDS)}), got: {', '.join(row)}")
        index, name, memory, compute_cap, driver_version, bus_id = (_value(field) for field in row)
        try:
            index = int(index)
        except (TypeError, ValueError):
            raise ValueError(f"GPU index is not a number: {', '.join(row)}") from None
        gpus.append(
            {
                "index": index,
                "name": name,
                "memory_total_mib": int(memory) if memory and memory.isdigit() else None,
                "compute_capability": compute_cap,
                "driver_version": driver_version,
                "pci_bus_id": bus_id,
            }
        )
    return gpus


def parse_cuda_version(text):
    """The CUDA driver version in `nvidia-smi` or `nvidia-smi --version` output, or None."""
    match = _CUDA_VERSION.search(text or "")
    return match.group("version") if match else None


def parse_smi_xml(text):
    """Parse `nvidia-smi -q -x`: {'driver_version', 'cuda_version', 'uuids': {pci bus id: uuid}}.

    Bus ids are lower-cased. ValueError when the text is not nvidia-smi's XML.
    """
    try:
        root = ET.fromstring(text or "")
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if root.tag != "nvidia_smi_log":
        raise ValueError(f"unexpected XML root element <{root.tag}>")
    uuids = {}
    for gpu in root.findall("gpu"):
        bus_id = gpu.get("id") or gpu.findtext("pci/pci_bus_id") or ""
        uuid = _value(gpu.findtext("uuid") or "")
        if bus_id and uuid:
            uuids[bus_id.lower()] = uuid
    return {
        "driver_version": _value(root.findtext("driver_version") or ""),
        "cuda_version": _value(root.findtext("cuda_version") or ""),
        "uuids": uuids,
    }


def smi_failure(rc, out, err):
    """One line for a failed nvidia-smi call: exit status and what it printed."""
    lines = [line.strip() for line in f"{out or ''}\n{err or ''}".splitlines() if line.strip()]
    return f"exit status {rc}: {' '.join(lines) if lines else 'no output'}"


def _run_query(run):
    """Run the per-GPU query; (gpus, error)."""
    rc, out, err = run(QUERY_ARGS)
    if rc != 0:
        return [], "nvidia-smi failed, " + smi_failure(rc, out, err)
    try:
        return parse_query_gpu(out), None
    except ValueError as exc:
        return [], f"nvidia-smi output not understood: {exc}"


def _run_details(run):
    """CUDA driver version and GPU uuids: from `nvidia-smi -q -x`, else the table header."""
    cuda_version, uuids = None, {}
    rc, out, _err = run(XML_ARGS)
    if rc == 0:
        try:
            details = parse_smi_xml(out)
        except ValueError:
            details = {"cuda_version": None, "uuids": {}}
        cuda_version, uuids = details["cuda_version"], details["uuids"]
    if cuda_version is None:
        rc, out, _err = run([])
        if rc == 0:
            cuda_version = parse_cuda_version(out)
    return cuda_version, uuids


def collect(sysfs_root, procfs_root, run_smi, smi_name, min_compute_capability, min_cuda_version):
    """Everything the gpu_facts module returns under ``gpu``.

    run_smi is None when nvidia-smi was not found, else a callable taking nvidia-smi's
    arguments (a list) and returning (rc, stdout, stderr). smi_name is what was looked for
    (for messages). The minimums are version strings such as '7.5' and '13.0'.
    """
    pci_dir = os.path.join(sysfs_root, "bus", "pci", "devices")
    version_path = os.path.join(procfs_root, "driver", "nvidia", "version")

    pci_devices = [
        {key: device[key] for key in ("address", "device_id", "class_id", "driver")}
        for device in nvidia_gpu_devices(read_pci_devices(sysfs_root))
    ]
    version_text = _read(version_path)
    driver = parse_driver_version(version_text) if version_text is not None else None

    gpus, cuda_version, smi_error = [], None, None
    if run_smi is None:
        smi_error = f"nvidia-smi not found ({smi_name})"
    else:
        gpus, smi_error = _run_query(run_smi)
        if smi_error is None and not gpus:
            smi_error = "nvidia-smi lists no GPU"
        if smi_error is None:
            cuda_version, uuids = _run_details(run_smi)
            for gpu in gpus:
                gpu["uuid"] = uuids.get((gpu["pci_bus_id"] or "").lower())
    driver_working = smi_error is None

    driver_version = driver["version"] if driver else None
    if driver_version is None and gpus:
        driver_version = gpus[0]["driver_version"]

    reasons = []
    if not pci_devices:
        reasons.append(f"no NVIDIA PCI device in {pci_dir}")
    if version_text is None and pci_devices:
        reasons.append(f"NVIDIA device present but the driver is not loaded ({version_path} missing)")
        reasons.extend(
            f"PCI device {device['address']} is bound to {device['driver']}, not nvidia"
            for device in pci_devices
            if device["driver"] not in (None, "nvidia")
        )
    if smi_error is not None and (pci_devices or version_text is not None):
        reasons.append(smi_error)

    usable = []
    for gpu in gpus:
        capability = gpu["compute_capability"]
        if version_at_least(capability, min_compute_capability):
            usable.append(gpu)
        else:
            reasons.append(
                f"GPU {gpu['index']} {gpu['name']} compute capability {capability or 'unknown'} < {min_compute_capability}"
            )

    cuda_ok = version_at_least(cuda_version, min_cuda_version)
    if driver_working and not cuda_ok:
        reasons.append(
            f"CUDA driver version {cuda_version} < {min_cuda_version}"
            if cuda_version
            else "CUDA driver version unknown (neither `nvidia-smi -q -x` nor `nvidia-smi` shows it)"
        )

    pgstrom_capable = driver_working and bool(usable) and cuda_ok
    return {
        "gpu_present": bool(pci_devices),
        "pci_devices": pci_devices,
        "driver_loaded": version_text is not None,
        "driver_version": driver_version,
        "kernel_module_type": driver["kernel_module_type"] if driver else None,
        "driver_working": driver_working,
        "nvidia_smi_error": smi_error,
        "cuda_driver_version": cuda_version,
        "gpus": gpus,
        "usable_gpus": usable,
        "pgstrom_capable": pgstrom_capable,
        "reasons": [] if pgstrom_capable else reasons,
    }
