#!/usr/bin/python
# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Try a PostgreSQL login with nothing but Python's standard library.

Why a module: community.postgresql's modules need psycopg on the host; the preflight tries
the login before anything is installed (module_utils/postgresql_login.py).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_login_probe
short_description: Try to log in to PostgreSQL with given credentials, needing no client library
version_added: 0.2.0
author:
  - DataTech platform team (@datatech)
description:
  - Connects to O(host):O(port), negotiates TLS as O(sslmode) says, and logs in as O(user) to
    O(database) with O(password) (SCRAM-SHA-256, md5 or cleartext), then disconnects.
  - Reports whether the server answered and whether it accepted the login, with the server's
    SQLSTATE and message; it never fails by itself, so a role decides what a refusal means.
  - Needs nothing on the host beyond Python (unlike M(community.postgresql.postgresql_ping),
    which needs psycopg), so a preflight can run it before anything is installed.
options:
  host:
    description: Server host name or address.
    type: str
    required: true
  port:
    description: Server port.
    type: int
    default: 5432
  user:
    description: User to log in as.
    type: str
    required: true
  password:
    description: The user's password.
    type: str
    required: true
  database:
    description: Database to connect to.
    type: str
    required: true
  sslmode:
    description: As libpq's C(sslmode); C(allow) is treated as C(prefer).
    type: str
    default: prefer
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  sslrootcert:
    description: CA certificates to verify the server with (C(verify-ca), C(verify-full)); empty means the system's.
    type: str
    default: ""
  connect_timeout:
    description: Seconds to wait for the connection.
    type: int
    default: 5
attributes:
  check_mode:
    support: full
    description: Changes nothing; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing to show a difference of.
  platform:
    support: full
    platforms: posix
    description: Runs on the host that would connect.
"""

EXAMPLES = r"""
- name: Try Airflow's metadata credentials
  datatech.mlops.postgresql_login_probe:
    host: db01
    port: 5432
    user: airflow
    password: "{{ airflow_db_password }}"
    database: airflow
  register: probe
"""

RETURN = r"""
reachable:
  description: The server answered on O(host):O(port).
  type: bool
  returned: always
authenticated:
  description: The login succeeded.
  type: bool
  returned: always
sqlstate:
  description: The server's SQLSTATE when it refused (C(28P01) is a wrong password), else empty.
  type: str
  returned: always
message:
  description: Why the login did not succeed, in the server's words; empty on success.
  type: str
  returned: always
"""

import ssl

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.datatech.mlops.plugins.module_utils.postgresql_login import LoginError, login


def main():
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 5432},
            "user": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "database": {"type": "str", "required": True},
            "sslmode": {
                "type": "str",
                "default": "prefer",
                "choices": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"],
            },
            "sslrootcert": {"type": "str", "default": ""},
            "connect_timeout": {"type": "int", "default": 5},
        },
        supports_check_mode=True,
    )
    p = module.params
    result = {"changed": False, "reachable": True, "authenticated": False, "sqlstate": "", "message": ""}
    try:
        login(
            p["host"],
            p["port"],
            p["user"],
            p["password"],
            p["database"],
            sslmode="prefer" if p["sslmode"] == "allow" else p["sslmode"],
            sslrootcert=p["sslrootcert"],
            timeout=p["connect_timeout"],
        )
        result["authenticated"] = True
    except LoginError as error:
        result.update(sqlstate=error.sqlstate, message=error.message)
    except ssl.SSLError as error:
        result.update(sqlstate="08P01", message=f"TLS: {error}")
    except OSError as error:  # refused, unreachable, timed out, name unknown
        result.update(reachable=False, message=str(error))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
