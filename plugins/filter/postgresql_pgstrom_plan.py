# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the postgresql role does about PG-Strom on a host, and the settings it then writes."""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_pgstrom_plan
short_description: Decide what the postgresql role does about PG-Strom on a host
version_added: 0.1.0
author: DataTech platform team
description:
  - Takes the result of M(datatech.mlops.gpu_facts) and the role's choices and says whether
    PG-Strom is preloaded at the end of the run, whether the NVIDIA driver or the CUDA toolkit
    must be installed first, whether a reboot is needed, and, when PG-Strom cannot run, either
    the warning the role shows (it then keeps the server without PG-Strom) or, with
    O(_input.required), the failure it stops with before changing anything.
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
      description: The NVIDIA driver must be installed (or upgraded) first.
      type: bool
    install_toolkit:
      description: The CUDA toolkit must be installed first.
      type: bool
    reboot:
      description: The host must reboot to load a newly installed driver.
      type: bool
    fail:
      description: Why the role stops before changing anything (required mode); empty otherwise.
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


def _blocked(reasons, fix, required):
    text = "PG-Strom cannot run on this host: " + "; ".join(reasons) + ". " + fix
    plan = {"preload": False, "install_driver": False, "install_toolkit": False, "reboot": False}
    if required:
        return {**plan, "fail": f"{text} {REQUIRED_HINT}", "warning": ""}
    return {**plan, "fail": "", "warning": f"{text} {SKIP_HINT}"}


def _go(install_driver=False, install_toolkit=False, reboot=False):
    return {
        "preload": True,
        "install_driver": install_driver,
        "install_toolkit": install_toolkit,
        "reboot": reboot,
        "fail": "",
        "warning": "",
    }


def _driver_ready(gpu):
    """Driver loaded, nvidia-smi working and new enough for the CUDA release PG-Strom needs."""
    too_old = any(reason.startswith("CUDA driver version") for reason in gpu.get("reasons", []))
    return bool(gpu.get("driver_working")) and not too_old


def postgresql_pgstrom_plan(
    gpu, toolkit_present, required=False, install=True, reboot_allowed=False, server_version=15
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

    if _driver_ready(gpu):
        if not gpu.get("usable_gpus"):
            return _blocked(reasons, "PG-Strom needs a GPU of compute capability 7.5 or later.", required)
        if toolkit_present:
            return _go()
        if not install:
            return _blocked(
                ["the CUDA toolkit is not installed"], "Install it or set postgresql_gpu_install: true.", required
            )
        return _go(install_toolkit=True)

    # A GPU without a working (or new enough) driver: installing one needs a reboot.
    if not install:
        return _blocked(reasons, "Install the NVIDIA driver or set postgresql_gpu_install: true.", required)
    if not reboot_allowed:
        return _blocked(
            reasons,
            "A driver install needs a reboot: set postgresql_gpu_reboot_allowed: true, "
            "or install the driver, reboot and run the role again.",
            required,
        )
    return _go(install_driver=True, install_toolkit=not toolkit_present, reboot=True)


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
