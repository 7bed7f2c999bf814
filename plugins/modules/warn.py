#!/usr/bin/python
# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the warn action (the code is in plugins/action/warn.py).

Why a plugin: see plugins/action/warn.py (ansible.builtin.debug is no warning, fail stops).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: warn
short_description: Show a message as an Ansible warning
version_added: 0.1.0
author:
  - DataTech platform team (@datatech)
description:
  - Shows O(msg) in the play's output as a C([WARNING]) and returns it; changes nothing.
  - Roles use it where they carry on without something that was asked for (for example
    PG-Strom on a host without a usable GPU), so the run stays green but the reason is seen.
options:
  msg:
    description: The warning.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show a difference of.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Say that PG-Strom is skipped
  datatech.mlops.warn:
    msg: PG-Strom cannot run on this host (no NVIDIA GPU).
"""

RETURN = r"""
msg:
  description: The warning shown.
  returned: always
  type: str
"""
