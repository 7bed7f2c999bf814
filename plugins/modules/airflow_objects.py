#!/usr/bin/python
# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make Airflow's connections, variables and pools match a description, and create missing
users, in one process.

Why a module: each airflow CLI call starts Airflow anew (seconds per object), and
``airflow users create`` takes the password on its command line, where ``ps`` shows it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: airflow_objects
short_description: Make Airflow connections, variables and pools match; create missing users
version_added: 0.1.0
author:
  - DataTech platform team (@datatech)
description:
  - Creates or updates the listed connections, variables and pools in Airflow's metadata
    database; objects not listed are left alone.
  - Runs inside Airflow's own Python (set C(ansible_python_interpreter) to the virtualenv's
    python and C(AIRFLOW_HOME) in the environment), so one task does what would otherwise
    take a CLI start per object.
requirements:
  - apache-airflow >= 3.0 importable by the module's interpreter
options:
  connections:
    description: Connections.
    type: list
    elements: dict
    default: []
    suboptions:
      conn_id: {description: Connection id., type: str, required: true}
      conn_type: {description: Connection type., type: str, required: true}
      host: {description: Host., type: str}
      port: {description: Port., type: int}
      schema: {description: Schema (the database for postgres)., type: str}
      login: {description: Login., type: str}
      password: {description: Password (never logged)., type: str}
      extra: {description: Extra fields., type: dict, default: {}}
      description: {description: Description., type: str}
  variables:
    description: Variables; values that are not strings are stored as JSON.
    type: dict
    default: {}
  pools:
    description: Pools.
    type: list
    elements: dict
    default: []
    suboptions:
      name: {description: Pool name., type: str, required: true}
      slots: {description: Slots (-1 for unlimited)., type: int, required: true}
      description: {description: Description., type: str, default: ""}
  users:
    description:
      - Users of the FAB auth manager to create when they do not exist yet, in this process
        through FAB's security manager (what C(airflow users create) calls), so the password is
        never on a command line. Existing users are left alone (their password is not reset).
    type: list
    elements: dict
    default: []
    suboptions:
      username: {description: User name., type: str, required: true}
      password: {description: Password (never logged)., type: str, required: true}
      role: {description: Role given to the user., type: str, default: Admin}
      email: {description: E-mail address., type: str, required: true}
      first_name: {description: First name., type: str, default: Platform}
      last_name: {description: Last name., type: str, default: Admin}
attributes:
  check_mode:
    support: full
    description: Reports what would be created or updated without writing.
  diff_mode:
    support: none
    description: No diff is returned (connections hold secrets).
"""

EXAMPLES = r"""
- name: Connections, variables and pools
  datatech.mlops.airflow_objects:
    connections:
      - {conn_id: mlops_db, conn_type: postgres, host: db01, port: 5432, schema: airflow, login: airflow, password: "{{ pw }}"}
    variables: {feature_table: features.daily}
    pools: [{name: training, slots: 2}]
    users: [{username: admin, password: "{{ admin_pw }}", email: admin@example.com}]
  environment:
    AIRFLOW_HOME: /opt/airflow
  vars:
    ansible_python_interpreter: /opt/airflow/venv/bin/python
"""

RETURN = r"""
changed_connections:
  description: Connection ids created or updated.
  returned: always
  type: list
  elements: str
changed_variables:
  description: Variable names created or updated.
  returned: always
  type: list
  elements: str
changed_pools:
  description: Pool names created or updated.
  returned: always
  type: list
  elements: str
missing_users:
  description: The names of O(users) that had no user yet (created unless in check mode).
  returned: always
  type: list
  elements: str
"""

import json
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:  # what Airflow decrypts with; importable without Airflow (the unit tests)
    from cryptography.fernet import InvalidToken
except ImportError:
    InvalidToken = ValueError  # pylint: disable=invalid-name

try:
    from airflow.models import Connection, Pool, Variable
    from airflow.utils.session import create_session
    from sqlalchemy import bindparam, inspect, text
except ImportError:
    AIRFLOW_IMPORT_ERROR = traceback.format_exc()
else:
    AIRFLOW_IMPORT_ERROR = None

CONNECTION_FIELDS = ("conn_type", "host", "port", "schema", "login", "password", "description")


def _connection_extra(wanted):
    return json.dumps(wanted.get("extra") or {}, sort_keys=True)


def connection_differs(existing, wanted):
    try:
        if any(getattr(existing, field) != wanted.get(field) for field in CONNECTION_FIELDS):
            return True
        current = json.loads(existing.extra) if existing.extra else {}
    except InvalidToken:
        # Encrypted with a fernet key this host no longer has (a rebuilt host before its keys
        # were restored): unreadable, so set again from the description, as a differing value is.
        return True
    return json.dumps(current, sort_keys=True) != _connection_extra(wanted)


def stored_connection(session, conn_id, check_mode):
    """The stored connection (None when there is none), and whether it must be set again.

    Airflow decrypts a connection's password as it loads it (to mask it in logs): one encrypted
    with a fernet key this host no longer has (a rebuilt host before its keys were restored)
    cannot even be loaded. Its row is deleted (not in check mode) and the connection made again
    from the description, as an unreadable value is no value at all.
    """
    query = session.query(Connection).filter(Connection.conn_id == conn_id)
    try:
        return query.one_or_none(), False
    except InvalidToken:
        if not check_mode:
            query.delete(synchronize_session=False)
        return None, True


def sync_connections(session, wanted_list, check_mode):
    changed = []
    for wanted in wanted_list:
        existing, unreadable = stored_connection(session, wanted["conn_id"], check_mode)
        if not unreadable and existing is not None and not connection_differs(existing, wanted):
            continue
        changed.append(wanted["conn_id"])
        if check_mode:
            continue
        if existing is None:
            existing = Connection(conn_id=wanted["conn_id"])
            session.add(existing)
        for field in CONNECTION_FIELDS:
            setattr(existing, field, wanted.get(field))
        existing.extra = _connection_extra(wanted)
    return changed


def _variable_text(value):
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def sync_variables(session, wanted, check_mode):
    changed = []
    for key, value in wanted.items():
        existing = session.query(Variable).filter(Variable.key == key).one_or_none()
        text = _variable_text(value)
        if existing is not None and existing.val == text:
            continue
        changed.append(key)
        if check_mode:
            continue
        if existing is None:
            session.add(Variable(key=key, val=text))
        else:
            existing.val = text
    return changed


def sync_pools(session, wanted_list, check_mode):
    changed = []
    for wanted in wanted_list:
        existing = session.query(Pool).filter(Pool.pool == wanted["name"]).one_or_none()
        description = wanted.get("description") or ""
        if existing is not None and existing.slots == wanted["slots"] and (existing.description or "") == description:
            continue
        changed.append(wanted["name"])
        if check_mode:
            continue
        if existing is None:
            session.add(
                Pool(pool=wanted["name"], slots=wanted["slots"], description=description, include_deferred=False)
            )
        else:
            existing.slots = wanted["slots"]
            existing.description = description
    return changed


def missing_users(session, names):
    """Names without a row in FAB's ab_user table (all of them when the table is absent)."""
    if not names:
        return []
    if not inspect(session.get_bind()).has_table("ab_user"):
        return list(names)
    found = set(
        session.execute(
            text("SELECT username FROM ab_user WHERE username IN :names").bindparams(
                bindparam("names", expanding=True)
            ),
            {"names": list(names)},
        ).scalars()
    )
    return [name for name in names if name not in found]


def create_users(wanted_list, missing, check_mode):
    """Create the users of wanted_list named in missing, through FAB's security manager."""
    wanted_list = [wanted for wanted in wanted_list if wanted["username"] in missing]
    if check_mode or not wanted_list:
        return
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
    from airflow.providers_manager import ProvidersManager

    # What the CLI's providers_configuration_loaded does: the [fab] options come from the provider.
    ProvidersManager().initialize_providers_configuration()
    with get_application_builder() as appbuilder:
        for wanted in wanted_list:
            role = appbuilder.sm.find_role(wanted["role"])
            if not role:
                raise ValueError(f"role {wanted['role']} of user {wanted['username']} does not exist")
            if appbuilder.sm.find_user(username=wanted["username"]):
                continue
            user = appbuilder.sm.add_user(
                wanted["username"],
                wanted["first_name"],
                wanted["last_name"],
                wanted["email"],
                role,
                wanted["password"],
            )
            if not user:
                raise ValueError(f"FAB did not create user {wanted['username']}")


def main():
    connection_spec = {
        "conn_id": {"type": "str", "required": True},
        "conn_type": {"type": "str", "required": True},
        "host": {"type": "str"},
        "port": {"type": "int"},
        "schema": {"type": "str"},
        "login": {"type": "str"},
        "password": {"type": "str", "no_log": True},
        "extra": {"type": "dict", "default": {}},
        "description": {"type": "str"},
    }
    user_spec = {
        "username": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True},
        "role": {"type": "str", "default": "Admin"},
        "email": {"type": "str", "required": True},
        "first_name": {"type": "str", "default": "Platform"},
        "last_name": {"type": "str", "default": "Admin"},
    }
    pool_spec = {
        "name": {"type": "str", "required": True},
        "slots": {"type": "int", "required": True},
        "description": {"type": "str", "default": ""},
    }
    module = AnsibleModule(
        argument_spec={
            "connections": {"type": "list", "elements": "dict", "default": [], "options": connection_spec},
            "variables": {"type": "dict", "default": {}},
            "pools": {"type": "list", "elements": "dict", "default": [], "options": pool_spec},
            "users": {"type": "list", "elements": "dict", "default": [], "options": user_spec},
        },
        supports_check_mode=True,
    )
    if AIRFLOW_IMPORT_ERROR:
        module.fail_json(
            msg=missing_required_lib("apache-airflow", reason="run the module with Airflow's python"),
            exception=AIRFLOW_IMPORT_ERROR,
        )
    with create_session() as session:
        result = {
            "changed_connections": sync_connections(session, module.params["connections"], module.check_mode),
            "changed_variables": sync_variables(session, module.params["variables"], module.check_mode),
            "changed_pools": sync_pools(session, module.params["pools"], module.check_mode),
        }
        missing = missing_users(session, [user["username"] for user in module.params["users"]])
    try:
        create_users(module.params["users"], missing, module.check_mode)
    except ValueError as error:
        module.fail_json(msg=str(error), **result)
    module.exit_json(changed=any(result.values()) or bool(missing), missing_users=missing, **result)


if __name__ == "__main__":
    main()
