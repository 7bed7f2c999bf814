# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the postgresql role does about PG-Strom on a host, and the settings it then writes.

Why a filter: a decision over the GPU facts and the role's choices that no module makes,
with many cases; in Python each has a unit test.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_pgstrom_plan
short_description: Decide what the postgresql role does about PG-Strom on a host
version_added: 0.1.0
author: DataTech platform team
description:
  - Takes the result of M(datatech.mlops.gpu_facts) and the role's choices and says whether
    PG-Strom is preloaded at the end of the run, whether the NVIDIA driver or the CUDA toolkit
    must be installed (or upgraded) first, whether a reboot is needed, and, when PG-Strom cannot
    run, either the warning the role shows (it then keeps the server without PG-Strom) or, with
    O(required), the failure it stops with.
  - The role asks twice on a host whose driver is missing, does not load or is too old, before
    the install (O(driver_changed) not given) and after it (with O(driver_changed) and
    O(reboot_required)). Only the second answer decides the reboot. A host reboots when the
    install changed the driver or the system asks for a reboot, never again and again for a
    driver that does not load.
options:
  _input:
    description: The C(gpu) result of M(datatech.mlops.gpu_facts).
    type: dict
    required: true
  toolkit_present:
    description: Whether the CUDA toolkit (C(nvcc)) is already installed.
    type: bool
    required: true
  required:
    description: Fail instead of skipping when PG-Strom cannot run (C(postgresql_pgstrom_required)).
    type: bool
    default: false
  install:
    description: Whether the role may install the driver and toolkit (C(postgresql_gpu_install)).
    type: bool
    default: true
  reboot_allowed:
    description: Whether the role may reboot the host after a driver install (C(postgresql_gpu_reboot_allowed)).
    type: bool
    default: false
  server_version:
    description: The PostgreSQL major version; PG-Strom 6 needs 15 or later.
    type: int
    default: 15
  driver_changed:
    description:
      - After the driver install, whether it changed the driver packages (installed or upgraded
        one). Not given (V(null)) before the install.
    type: bool
  reboot_required:
    description: After the driver install, whether the system asks for a reboot (C(/var/run/reboot-required)).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Plan PG-Strom
  ansible.builtin.set_fact:
    plan: "{{ gpu_facts.gpu | datatech.mlops.postgresql_pgstrom_plan(toolkit_present=true) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    preload:
      description: PG-Strom is (or, after the installs and the reboot, will be) preloaded.
      type: bool
    install_driver:
      description: The NVIDIA driver must be installed first (or, when it does not load, installed again).
      type: bool
    upgrade_driver:
      description: The installed driver is too old for the CUDA version and must be upgraded.
      type: bool
    install_toolkit:
      description: The CUDA toolkit must be installed first.
      type: bool
    reboot:
      description:
        - The host must reboot to load the driver. Before the install, what the install is expected
          to need; after it (O(driver_changed) given), the decision.
      type: bool
    fail:
      description: Why the role stops (required mode); empty otherwise.
      type: str
    warning:
      description: Why PG-Strom is skipped on this host; empty when it is not.
      type: str
"""

from ansible.errors import AnsibleFilterError

MIN_SERVER_VERSION = 15
SKIP_HINT = (
    "The server is kept running without pg_strom in shared_preload_libraries; "
    "set postgresql_pgstrom_required: true to fail instead."
)
REQUIRED_HINT = "postgresql_pgstrom_required is true, so nothing was changed on the host."
# After an install that changed nothing: the host may have the toolkit now, nothing else.
REQUIRED_AFTER_INSTALL_HINT = "postgresql_pgstrom_required is true, so the role stops here; PostgreSQL was not changed."
NOT_LOADING_HINT = (
    "The role does not reboot for it again (a reboot would load the same driver). Look at "
    "`dmesg | grep -i -e nvidia -e secure` and `modprobe nvidia`: with Secure Boot on, the kernel "
    "refuses a module signed by a key it does not know (enroll the DKMS key, "
    "`mokutil --import /var/lib/dkms/mok.pub`, then reboot; or turn Secure Boot off); a module "
    "built for another kernel needs the running kernel's linux-headers; nvidia-smi saying "
    '"Driver/library version mismatch" means the packages were upgraded since the last boot: '
    "reboot the host. Then run the role again."
)


def _blocked(reasons, fix, required, after_install=False):
    text = "PG-Strom cannot run on this host: " + "; ".join(reasons) + ". " + fix
    plan = {
        "preload": False,
        "install_driver": False,
        "upgrade_driver": False,
        "install_toolkit": False,
        "reboot": False,
    }
    if required:
        hint = REQUIRED_AFTER_INSTALL_HINT if after_install else REQUIRED_HINT
        return {**plan, "fail": f"{text} {hint}", "warning": ""}
    return {**plan, "fail": "", "warning": f"{text} {SKIP_HINT}"}


def _go(install_driver=False, upgrade_driver=False, install_toolkit=False, reboot=False):
    return {
        "preload": True,
        "install_driver": install_driver,
        "upgrade_driver": upgrade_driver,
        "install_toolkit": install_toolkit,
        "reboot": reboot,
        "fail": "",
        "warning": "",
    }


def _driver_too_old(gpu):
    """The driver works but supports an older CUDA than PG-Strom is built for (gpu_facts' reason)."""
    return bool(gpu.get("driver_working")) and any(
        reason.startswith("CUDA driver version") for reason in gpu.get("reasons", [])
    )


def _driver_ready(gpu):
    """Driver loaded, nvidia-smi working and new enough for the CUDA release PG-Strom needs."""
    return bool(gpu.get("driver_working")) and not _driver_too_old(gpu)


def postgresql_pgstrom_plan(
    gpu,
    toolkit_present,
    required=False,
    install=True,
    reboot_allowed=False,
    server_version=15,
    driver_changed=None,
    reboot_required=False,
):
    """Return the plan for one host (see RETURN)."""
    if not isinstance(gpu, dict) or "gpu_present" not in gpu:
        raise AnsibleFilterError(
            "postgresql_pgstrom_plan: the input must be the gpu result of datatech.mlops.gpu_facts"
        )
    if int(server_version) < MIN_SERVER_VERSION:
        return _blocked(
            [f"PostgreSQL {server_version} is older than {MIN_SERVER_VERSION}, the oldest PG-Strom 6 builds against"],
            "Use postgresql_install_source: pgdg with postgresql_version 15 or later.",
            required,
        )
    reasons = list(gpu.get("reasons") or [])
    if not gpu["gpu_present"]:
        return _blocked(reasons or ["no NVIDIA GPU found"], "Run it on a host with a supported NVIDIA GPU.", required)

    # Only a working driver tells the compute capability. A GPU PG-Strom cannot use is refused
    # whatever its driver: no driver upgrade and reboot for nothing (a P100 with driver 535).
    if gpu.get("driver_working") and not gpu.get("usable_gpus"):
        return _blocked(reasons, "PG-Strom needs a GPU of compute capability 7.5 or later.", required)

    if _driver_ready(gpu):
        if toolkit_present:
            return _go()
        if not install:
            return _blocked(
                ["the CUDA toolkit is not installed"], "Install it or set postgresql_gpu_install: true.", required
            )
        return _go(install_toolkit=True)

    # A GPU without a working driver, or with one too old for the CUDA version: installing or
    # upgrading it needs a reboot.
    too_old = _driver_too_old(gpu)
    if not install:
        fix = (
            "Upgrade the NVIDIA driver (postgresql_gpu_install: true lets the role do it), or set "
            "postgresql_gpu_cuda_version to a CUDA release the installed driver supports."
            if too_old
            else "Install the NVIDIA driver or set postgresql_gpu_install: true."
        )
        return _blocked(reasons, fix, required)
    if not reboot_allowed:
        return _blocked(
            reasons,
            f"A driver {'upgrade' if too_old else 'install'} needs a reboot: set postgresql_gpu_reboot_allowed: "
            f"true, or {'upgrade' if too_old else 'install'} the driver, reboot and run the role again.",
            required,
        )
    go = _go(install_driver=True, upgrade_driver=too_old, install_toolkit=not toolkit_present, reboot=True)
    # Before the install, or after one that changed the driver, or when the system asks for it
    # (e.g. a driver installed by hand since the last boot): the reboot loads the driver.
    if driver_changed is None or driver_changed or reboot_required:
        return go
    # The install found everything in place: a reboot would bring back the same driver.
    if too_old:
        return _blocked(
            [*reasons, "upgrading postgresql_gpu_driver_packages found no newer driver"],
            "Name a driver that supports it in postgresql_gpu_driver_packages, or set postgresql_gpu_cuda_version "
            "to a CUDA release the installed driver supports.",
            required,
            after_install=True,
        )
    return _blocked(
        [
            *reasons,
            "the NVIDIA driver is installed but does not load, and this run changed nothing a reboot would load",
        ],
        NOT_LOADING_HINT,
        required,
        after_install=True,
    )


def postgresql_pgstrom_settings(settings, cuda_home, pgstrom_settings=None, min_worker_processes=100):
    """Server settings with PG-Strom preloaded: the user's preload list kept, pg_strom added once,
    enough worker processes for its GPU service, the toolkit's path and the user's pg_strom.* settings."""
    result = dict(settings)
    libraries = [lib.strip() for lib in str(result.get("shared_preload_libraries", "")).split(",") if lib.strip()]
    if "pg_strom" not in libraries:
        libraries.append("pg_strom")
    result["shared_preload_libraries"] = ",".join(libraries)
    result["max_worker_processes"] = max(int(result.get("max_worker_processes", 8)), min_worker_processes)
    result["pg_strom.cuda_toolkit_basedir"] = cuda_home
    result.update(pgstrom_settings or {})
    return result


class FilterModule:
    """PG-Strom plan and settings filters."""

    def filters(self):
        return {
            "postgresql_pgstrom_plan": postgresql_pgstrom_plan,
            "postgresql_pgstrom_settings": postgresql_pgstrom_settings,
        }
