# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Show a message as an Ansible warning (the documentation is in plugins/modules/warn.py).

Why a plugin: ansible.builtin.debug prints but is no warning, and ansible.builtin.fail stops
the run; a role that carries on without something asked for must leave a warning in the recap.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    """Return the message as a warning; runs on the controller and changes nothing."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec={"msg": {"type": "str", "required": True}})[1]
        result.update(changed=False, msg=args["msg"], warnings=[args["msg"]])
        return result
