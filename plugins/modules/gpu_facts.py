#!/usr/bin/python
# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Report the host's NVIDIA GPUs, driver and CUDA version, and whether PG-Strom can use them.

Why a module: no Ansible module or fact reports GPUs, their driver and CUDA version; this runs
on the host and parses sysfs, procfs and nvidia-smi (module_utils/gpu_detection.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_facts
short_description: Detect NVIDIA GPUs, their driver and CUDA version, and PG-Strom readiness
version_added: 0.1.0
author:
  - DataTech platform team (@datatech)
description:
  - Finds NVIDIA GPUs on the PCI bus (vendor C(0x10de), class C(0x0300xx) or C(0x0302xx)) in sysfs,
    whether the NVIDIA kernel module is loaded (C(/proc/driver/nvidia/version)) and which one
    (version, open or proprietary), and, through C(nvidia-smi), each GPU's name, memory, compute
    capability and UUID and the CUDA version the driver supports.
  - Decides whether PG-Strom can run (O(min_compute_capability), O(min_cuda_version)) and, when
    it cannot, says why in RV(gpu.reasons).
  - Only reads; never changes anything, so it runs the same in check mode.
options:
  sysfs_root:
    description: Where sysfs is mounted; PCI devices are read from C(<sysfs_root>/bus/pci/devices).
    type: path
    default: /sys
  procfs_root:
    description: Where procfs is mounted; the driver's version is read from C(<procfs_root>/driver/nvidia/version).
    type: path
    default: /proc
  nvidia_smi:
    description:
      - The C(nvidia-smi) to run, a path or a name looked up in E(PATH).
      - When it is not found, RV(gpu.driver_working) is V(false).
    type: str
    default: nvidia-smi
  min_compute_capability:
    description: Lowest compute capability that counts as a usable GPU (7.5 is Turing).
    type: str
    default: "7.5"
  min_cuda_version:
    description: Lowest CUDA driver version (as C(nvidia-smi) reports it) that PG-Strom can use.
    type: str
    default: "13.0"
notes:
  - Runs C(nvidia-smi --query-gpu=index,name,memory.total,compute_cap,driver_version,pci.bus_id
    --format=csv,noheader,nounits) and C(nvidia-smi -q -x); plain C(nvidia-smi) only when the XML
    does not give the CUDA version.
  - Needs no privileges beyond reading sysfs and procfs and running C(nvidia-smi).
attributes:
  check_mode:
    support: full
    description: Reads the same in check mode; it never changes anything.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
"""

EXAMPLES = r"""
- name: Detect GPUs
  datatech.mlops.gpu_facts:
  register: gpu_facts

- name: PG-Strom only where it can start
  ansible.builtin.debug:
    msg: "PG-Strom on {{ gpu_facts.gpu.usable_gpus | length }} GPU(s)"
  when: gpu_facts.gpu.pgstrom_capable

- name: Say why not
  ansible.builtin.debug:
    msg: "{{ gpu_facts.gpu.reasons }}"
  when: not gpu_facts.gpu.pgstrom_capable

- name: Ampere or newer, CUDA 13.0 or newer
  datatech.mlops.gpu_facts:
    min_compute_capability: "8.0"
    min_cuda_version: "13.0"
    nvidia_smi: /usr/bin/nvidia-smi
  register: gpu_facts
"""

RETURN = r"""
gpu:
  description: What was found, and whether PG-Strom can use it.
  returned: always
  type: dict
  contains:
    gpu_present:
      description: Whether sysfs shows at least one NVIDIA GPU on the PCI bus.
      type: bool
      returned: always
      sample: true
    pci_devices:
      description: The NVIDIA GPUs on the PCI bus, by address.
      type: list
      elements: dict
      returned: always
      contains:
        address: {description: PCI address., type: str, returned: always, sample: "0000:00:06.0"}
        device_id: {description: PCI device id., type: str, returned: always, sample: "0x2330"}
        class_id:
          description: PCI class, C(0x0302xx) for a 3D controller or C(0x0300xx) for a VGA controller.
          type: str
          returned: always
          sample: "0x030200"
        driver:
          description: The kernel driver bound to the device (V(nvidia), V(nouveau), V(vfio-pci)), or V(null) when none.
          type: str
          returned: always
          sample: nvidia
    driver_loaded:
      description: Whether the NVIDIA kernel module is loaded (C(/proc/driver/nvidia/version) exists).
      type: bool
      returned: always
      sample: true
    driver_version:
      description: The loaded kernel module's version, else the one C(nvidia-smi) reports, else V(null).
      type: str
      returned: always
      sample: "580.159.04"
    kernel_module_type:
      description: V(open) (NVIDIA's open kernel module) or V(proprietary); V(null) when the module is not loaded.
      type: str
      returned: always
      sample: open
    driver_working:
      description: Whether C(nvidia-smi) runs and lists at least one GPU.
      type: bool
      returned: always
      sample: true
    nvidia_smi_error:
      description: Why C(nvidia-smi) gave no GPU list (not found, its exit status and message); V(null) when it worked.
      type: str
      returned: always
      sample: "nvidia-smi failed, exit status 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    cuda_driver_version:
      description: The CUDA version the driver supports, as C(nvidia-smi) reports it; V(null) when unknown.
      type: str
      returned: always
      sample: "13.0"
    gpus:
      description: The GPUs C(nvidia-smi) lists.
      type: list
      elements: dict
      returned: always
      contains:
        index: {description: nvidia-smi's index., type: int, returned: always, sample: 0}
        name: {description: Product name., type: str, returned: always, sample: NVIDIA H100 80GB HBM3}
        memory_total_mib: {description: Memory in MiB (V(null) when not reported)., type: int, returned: always, sample: 81559}
        compute_capability: {description: Compute capability (V(null) when not reported)., type: str, returned: always, sample: "9.0"}
        driver_version: {description: Driver version., type: str, returned: always, sample: "580.159.04"}
        pci_bus_id: {description: PCI bus id as nvidia-smi writes it., type: str, returned: always, sample: "00000000:00:06.0"}
        uuid: {description: GPU UUID (V(null) when not reported)., type: str, returned: always, sample: GPU-95dd7a2c-aac8-162d-939b-ad91d7792759}
    usable_gpus:
      description: The entries of RV(gpu.gpus) whose compute capability is at least O(min_compute_capability).
      type: list
      elements: dict
      returned: always
    pgstrom_capable:
      description:
        - Whether PG-Strom can use this host's GPUs; true when the driver works, at least one GPU is
          usable and the CUDA driver version is at least O(min_cuda_version).
      type: bool
      returned: always
      sample: true
    reasons:
      description: Why RV(gpu.pgstrom_capable) is V(false), one sentence each; empty when it is V(true).
      type: list
      elements: str
      returned: always
      sample:
        - GPU 0 Tesla P100-PCIE-16GB compute capability 6.0 < 7.5
        - CUDA driver version 12.2 < 13.0
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datatech.mlops.plugins.module_utils.gpu_detection import collect, version_tuple


def find_nvidia_smi(module, name):
    """The path of nvidia-smi to run, or None."""
    if os.sep in name:
        return name if os.path.isfile(name) and os.access(name, os.X_OK) else None
    return module.get_bin_path(name)


def main():
    module = AnsibleModule(
        argument_spec={
            "sysfs_root": {"type": "path", "default": "/sys"},
            "procfs_root": {"type": "path", "default": "/proc"},
            "nvidia_smi": {"type": "str", "default": "nvidia-smi"},
            "min_compute_capability": {"type": "str", "default": "7.5"},
            "min_cuda_version": {"type": "str", "default": "13.0"},
        },
        supports_check_mode=True,
    )
    params = module.params
    for option in ("min_compute_capability", "min_cuda_version"):
        try:
            version_tuple(params[option])
        except ValueError:
            module.fail_json(msg=f"{option} must be a version such as 7.5, got {params[option]!r}")

    smi_path = find_nvidia_smi(module, params["nvidia_smi"])
    run_smi = None
    if smi_path is not None:

        def run_smi(args):
            return module.run_command([smi_path, *args])

    gpu = collect(
        params["sysfs_root"],
        params["procfs_root"],
        run_smi,
        params["nvidia_smi"],
        params["min_compute_capability"],
        params["min_cuda_version"],
    )
    module.exit_json(changed=False, gpu=gpu)


if __name__ == "__main__":
    main()
