"""Does an OpenStack flavour give its server a GPU? Read from the flavour's extra specs, the
only place where Nova is asked for one; names and traits are not.

A GPU is requested in one of two ways (Nova's flavour extra specs):
  pci_passthrough:alias = "<alias>:<count>[,<alias>:<count>...]"   a whole GPU per device
  resources[<group>]:VGPU = "<count>"                               a vGPU from placement
with a count of 1 or more. Everything else is not a GPU: a name with "gpu" in it
(`cpu-only-nogpu`), a trait (`trait:CUSTOM_GPU=forbidden` keeps GPU hosts *out*; even
`required` only picks a host, it reserves no device), a count of 0, a PCI_DEVICE resource.

terraform/gpu.tf applies the same rule (its postcondition on the db01 flavour);
tests/infra/test_terraform.py runs both over the same cases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PCI_ALIAS_KEY = "pci_passthrough:alias"
# resources:VGPU, resources1:VGPU, resources_gpu:VGPU (Nova's numbered and named groups)
VGPU_KEY = re.compile(r"^resources[0-9]*(_[A-Za-z0-9_-]+)?:VGPU$")
ALIAS_ENTRY = re.compile(r"^\s*([^:\s]+)\s*:\s*([0-9]+)\s*$")


def gpu_requests(extra_specs: Mapping[str, str]) -> list[str]:
    """What the extra specs request that is a GPU ("<alias>:<n>" or "<key>=<n>"); empty: none."""
    found = []
    for entry in str(extra_specs.get(PCI_ALIAS_KEY, "")).split(","):
        match = ALIAS_ENTRY.match(entry)
        if match and int(match.group(2)) >= 1:
            found.append(f"{match.group(1)}:{int(match.group(2))}")
    for key, value in extra_specs.items():
        if VGPU_KEY.match(str(key)) and str(value).strip().isdigit() and int(value) >= 1:
            found.append(f"{key}={int(value)}")
    return found


def flavor_has_gpu(extra_specs: Mapping[str, str]) -> bool:
    """True when the flavour's extra specs request at least one GPU (see gpu_requests)."""
    return bool(gpu_requests(extra_specs))
