# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Refuse the example secrets the collection ships, wherever an inventory passes them on.

Why a filter: the published examples are compared by SHA-256 from one list in Python, so
no secret is written in YAML, and both roles' preflights share it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: example_secret_errors
short_description: Secrets that are the collection's published examples, one message each
version_added: 0.2.0
author: DataTech platform team
description:
  - The example inventories ship secrets everybody can read (the production example's vault,
    whose password is documented, and the cloud inventory's C(vault.yml.example)). An inventory
    copied without replacing them would run a platform anyone can log in to.
  - Takes a dict of variable names (as the message should name them) to values and returns a
    message for each value that is one of those examples, compared by SHA-256 so that the list
    itself carries no secret. The roles' preflights call it; an empty list means none is used.
options:
  _input:
    description: Variable name to secret value.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse example secrets
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'airflow_db_password': airflow_db_password} | datatech.mlops.example_secret_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per example secret found; empty when there is none.
  type: list
  elements: str
"""

import hashlib

# SHA-256 of each published example secret, and where it is published (a unit test keeps
# this equal to the example files).
EXAMPLES_SHA256 = {
    "2f608319435ce34ac80dc27048bb6daf43312a17b98cb7e17e591cdfe23f0b3d": "the production example vault",
    "43244736cfc100ab501f732ef02d569b5d9cd808aecff02b5686be5fb0bb79bc": "the production example vault",
    "3bbecdd72bbad6d401cef1970dad70a6107d338911840c011c58ea856d622eaf": "the production example vault",
    # People of the production example's team (its db group's vault).
    "ff03b3eb49f262418cdbe3b0e5fb5a5192e2928ca8f3fe2d6111c0a20a51a2f9": "the production example vault",
    "c0f1b3fb30ee5d18119bc87751e6042883a164d4d3b7a356fd3c796dd33fa78f": "the production example vault",
    "4121653de18385c34c09d10e6a1a65f0d40c7a313d67b90b7d2c3d91908c3dd5": "the cloud inventory's vault.yml.example",
    "4095f61150cf57915dae406917cf91aed8c736eed13e1e23953fe8f962325be8": "the cloud inventory's vault.yml.example",
    "b91c947b6af9089b67a8ca2e6421320c1e990e1a7bc53141692f73576e3ebdfd": "the cloud inventory's vault.yml.example",
    "80f71f90add635f710edeae64d4a1683fcf86f2dee46c1abd7230687e83aa36b": "the production example vault",
    "5eec289f2ddfd6945299a722123940a90576a1a325a7a3ca49e9653f67656d4d": "the production example vault",
    "9a51924a762d0d2456af62d14a17a5d389c3b791ad701cdc71e24a610606557e": "the production example vault",
    "c4a7d2a8b311d01821a9310d2e62b1922261ad76014f0ff799e8fc583de4412d": "the production example vault",
    "a76e65745d9fb1ce3744d1017e8684358ddc8eef18b9953914703708a71e4079": "the cloud inventory's vault.yml.example",
    "6694d83c80a04eb595d508a7b0adf6a2f99ddc445dd08bb5ca585bda993e52c7": "the cloud inventory's vault.yml.example",
    "2dc5b47d98ef7a0df78d6fbd320c161c617b8a51a66ed6cba28fe0db5600a4cc": "the cloud inventory's vault.yml.example",
    "dd04311dd5855227b81c959bee6b6d2b7269575c100fe96e3fdab0e1b7f60d1a": "the cloud inventory's vault.yml.example",
    "38ee07bfc3f544be4214db467adf4a15f5c2a8b603ef1d69ec5f07a434882aa8": "the production example vault",
    "c57d036e1d872ce969684417f18bd5f7582d717620ec186e8766499582ee5842": "the cloud inventory's vault.yml.example",
    "3d9e6b929de2488a89b8e7f8281f61da8525edd51feb08dea40081e4e82421fd": "the cloud inventory's vault.yml.example",
    "917ba562c37bb7f5970cdbd2f58657e4872f0842be2f85138a4c0045add531c2": "the cloud inventory's vault.yml.example",
    "d96d3def8682ad443721baf5edc5675285ed20a83b22d844f9addf9bfa157576": "the cloud inventory's vault.yml.example",
    "6898d74475c17dd5b1a8ab1cf89d0eb012924ea14248bab60ff917909423d5c2": "the production example vault",
    "b4001eb7c114e4538e4aafaa63ee6bb1281d60f80d625da0df9d39a540835439": "the production example vault",
    "faa10d001e7f11cdf9b1acbb82fdbda2ca2abcba67b519a5c1e560bd8a4d220e": "the cloud inventory's vault.yml.example",
    "c027d32734479100ce60fe5fc4bfaaa5aa3648b51b165daeb8656e6b0829fe34": "the cloud inventory's vault.yml.example",
}


def example_secret_errors(secrets):
    """Return a message for each secret that is a published example."""
    errors = []
    for name, value in (secrets or {}).items():
        if not isinstance(value, str) or not value:
            continue
        source = EXAMPLES_SHA256.get(hashlib.sha256(value.encode()).hexdigest())
        if source:
            errors.append(
                f"{name} is the example secret published in {source}; anyone can read it. "
                "Put a secret of your own in your vault (ansible-vault edit) and run again."
            )
    return errors


class FilterModule:
    def filters(self):
        return {"example_secret_errors": example_secret_errors}
