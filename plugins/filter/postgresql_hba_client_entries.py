# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pg_hba.conf entries for every host of some inventory groups, each from its own address.

Why a filter: no module builds pg_hba entries from inventory groups (community.postgresql's
postgresql_pg_hba writes entries it is given); a Jinja loop for it was copied into four inventories.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_hba_client_entries
short_description: Expand postgresql_hba_client_groups into pg_hba entries, one per host
version_added: 0.5.0
author: DataTech platform team
description:
  - For each item of C(postgresql_hba_client_groups), one pg_hba entry per host of its C(groups)
    (a host in several of them once; a group the inventory lacks has no hosts), with the item's type,
    database, user, method and options and the host's address as C(/32) (C(/128) for IPv6).
  - The address is the host variable C(address_variable) names, or, when that is empty, the host's
    gathered fact C(default_ipv4.address) (the postgresql role's preflight runs after the clients'
    facts are gathered; site.yml gathers them first).
  - Refuses (raises) when a host has no address, when a database, user or options value is not one
    pg_hba.conf field, or when C(tls_enabled) is true and an item has type C(host) - the same rules as
    for C(postgresql_hba_entries) - naming the item and the fix.
  - A filter, not Jinja in each inventory (the expression was copied into five inventories and
    scenarios); no module builds pg_hba entries from inventory groups.
options:
  _input:
    description: The items of C(postgresql_hba_client_groups).
    type: list
    elements: dict
    required: true
  groups:
    description: The inventory's groups (Ansible's C(groups)).
    type: dict
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  tls_enabled:
    description: C(postgresql_tls_enabled); type C(host) is then refused (it admits plaintext too).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Admit Airflow's hosts to its database
  ansible.builtin.set_fact:
    entries: >-
      {{ [{'groups': ['airflow', 'airflow_workers'], 'database': 'airflow', 'user': 'airflow'}]
         | datatech.mlops.postgresql_hba_client_entries(groups, hostvars) }}
"""

RETURN = r"""
_value:
  description: pg_hba entries with the keys of C(postgresql_hba_entries) (type, database, user, address, method, options).
  type: list
  elements: dict
"""

import ipaddress

from ansible.errors import AnsibleFilterError
from ansible_collections.datatech.mlops.plugins.filter.postgresql_input_errors import HBA_NAMES, HBA_OPTIONS

VARIABLE = "postgresql_hba_client_groups"


def _address(hostvars, host, variable):
    """The host's address from its variable or facts, or None."""
    values = hostvars.get(host) or {}
    if variable:
        address = values.get(variable)
    else:
        address = ((values.get("ansible_facts") or {}).get("default_ipv4") or {}).get("address")
    if not address:
        return None
    try:
        return str(ipaddress.ip_interface(str(address)).ip)
    except ValueError:
        return None


def _item_errors(where, item, tls_enabled):
    errors = []
    for key in ("database", "user"):
        value = item.get(key, "all")
        if not (isinstance(value, str) and HBA_NAMES.fullmatch(value) and value.isprintable()):
            errors.append(
                f"{where}: {key} {str(value)[:80]!r} is not one pg_hba.conf field; give a name, all, or a "
                "comma-separated list (like airflow,mlfeatures) without spaces, line breaks, quotes or '#'."
            )
    options = item.get("options", "")
    if options and not (isinstance(options, str) and HBA_OPTIONS.fullmatch(options) and options.isprintable()):
        errors.append(
            f"{where}: options {str(options)[:80]!r} are not name=value pairs on one line; write them like "
            "clientcert=verify-full, separated by single spaces, without line breaks, quotes or '#'."
        )
    if tls_enabled and item.get("type", "host") == "host":
        errors.append(
            f"{where}: type host also admits plaintext connections, and postgresql_tls_enabled is true; "
            "use type hostssl (or hostnossl to allow plaintext on purpose)."
        )
    return errors


def postgresql_hba_client_entries(client_groups, groups, hostvars, tls_enabled=False):
    """The entries for every host of each item's groups, in order; raises with every problem found."""
    entries, errors = [], []
    for i, item in enumerate(client_groups or []):
        where = f"{VARIABLE}[{i}]"
        errors.extend(_item_errors(where, item, tls_enabled))
        variable = item.get("address_variable") or ""
        hosts = []
        for group in item.get("groups") or []:
            hosts.extend(host for host in groups.get(group) or [] if host not in hosts)
        for host in hosts:
            address = _address(hostvars, host, variable)
            if address is None:
                source = f"host variable {variable!r}" if variable else "facts (default_ipv4.address)"
                errors.append(
                    f"{where}: host {host} has no IP address in its {source}; "
                    + (
                        f"set {variable} for it, or empty address_variable to use its facts."
                        if variable
                        else "gather its facts before the postgresql role (site.yml does), or set "
                        "address_variable to a host variable holding its address (e.g. ansible_host)."
                    )
                )
                continue
            bits = 128 if ":" in address else 32
            entries.append(
                {
                    "type": item.get("type", "host"),
                    "database": item.get("database", "all"),
                    "user": item.get("user", "all"),
                    "address": f"{address}/{bits}",
                    "method": item.get("method", "scram-sha-256"),
                    "options": item.get("options", ""),
                }
            )
    if errors:
        raise AnsibleFilterError("\n".join(errors))
    return entries


class FilterModule:
    def filters(self):
        return {"postgresql_hba_client_entries": postgresql_hba_client_entries}
