# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan Airflow's fernet key file for a run: keep, start, rotate to a new key, or drop old keys.

Why a filter: a decision over three values (the file, the wanted key, the rotation record) that no Ansible
module makes; kept in Python so each case has a unit test.
"""

from __future__ import annotations

import hashlib

DOCUMENTATION = r"""
name: airflow_fernet_plan
short_description: What Airflow's fernet key file should hold in this run, and whether to re-encrypt
version_added: 0.3.0
author: DataTech platform team
description:
  - Airflow reads a comma-separated list of fernet keys; it encrypts with the first and decrypts
    with any of them, and C(airflow rotate-fernet-key) re-encrypts every stored secret with the
    first.
  - O(_input) is the file's content now (empty when there is none). A new wanted key is put
    first, the keys in use kept after it, and a rotation asked for; once a rotation to the first
    key is recorded (O(rotated_for)), a later run keeps the first key alone.
  - An empty O(wanted) keeps the file as it is (the key generated on the host), and asks for a
    rotation only where an earlier one did not finish.
options:
  _input:
    description: The key file's content now; empty when it does not exist.
    type: str
    required: true
  wanted:
    description: The key the inventory gives (C(airflow_fernet_key)); empty means the key in the file.
    type: str
    required: true
  rotated_for:
    description: SHA-256 of the first key of the last finished rotation; empty when none.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Plan the key file
  ansible.builtin.set_fact:
    plan: "{{ current_file_text | datatech.mlops.airflow_fernet_plan(airflow_fernet_key, rotated_record) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    content: {description: What the file must hold; empty means generate one key (no file yet)., type: str}
    rotate: {description: Whether to run C(airflow rotate-fernet-key) after the services read the file., type: bool}
    primary_sha256: {description: SHA-256 of the first key (what a finished rotation records)., type: str}
"""


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def airflow_fernet_plan(current, wanted, rotated_for):
    keys = []
    for key in str(current or "").split(","):
        key = key.strip()
        if key and key not in keys:
            keys.append(key)
    wanted = str(wanted or "").strip()
    if not keys:
        # Nothing stored was encrypted with a key this host had: start with the wanted key.
        return {"content": wanted, "rotate": False, "primary_sha256": _sha256(wanted) if wanted else ""}
    if wanted and keys[0] != wanted:
        # New first; the keys in use stay until the secrets are re-encrypted with it.
        keys = [wanted] + [key for key in keys if key != wanted]
        return {"content": ",".join(keys), "rotate": True, "primary_sha256": _sha256(wanted)}
    primary = keys[0]
    if len(keys) == 1:
        return {"content": primary, "rotate": False, "primary_sha256": _sha256(primary)}
    if rotated_for == _sha256(primary):
        # Everything was re-encrypted with the first key in an earlier run: the others can go.
        return {"content": primary, "rotate": False, "primary_sha256": _sha256(primary)}
    # Several keys and no finished rotation to the first: finish it, keeping them all meanwhile.
    return {"content": ",".join(keys), "rotate": True, "primary_sha256": _sha256(primary)}


class FilterModule:
    def filters(self):
        return {"airflow_fernet_plan": airflow_fernet_plan}
