# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""airflow_objects' user creation: through FAB's security manager, with the password as given
(never on a command line), only for the missing users, never in check mode."""

from __future__ import annotations

import contextlib
import sys
import types

import pytest
from plugin_loader import load_plugin

airflow_objects = load_plugin("plugins/modules/airflow_objects.py")

HOSTILE = "Db p@ss%25 w/o:r?d#1 'sq' \"dq\" \\b $HOME {{ nope }} %(x)s"
ADMIN = {
    "username": "admin",
    "password": HOSTILE,
    "role": "Admin",
    "email": "admin@example.com",
    "first_name": "Platform",
    "last_name": "Admin",
}


class FakeSecurityManager:
    def __init__(self, roles, users):
        self.roles, self.users, self.added = roles, users, []

    def find_role(self, name):
        return name if name in self.roles else None

    def find_user(self, username):
        return username if username in self.users else None

    def add_user(self, username, first_name, last_name, email, role, password):
        self.added.append((username, first_name, last_name, email, role, password))
        return username


@pytest.fixture
def fab(monkeypatch):
    """Fake FAB and providers-manager modules; returns the security manager the module gets."""
    sm = FakeSecurityManager(roles={"Admin"}, users=set())

    @contextlib.contextmanager
    def get_application_builder():
        yield types.SimpleNamespace(sm=sm)

    utils = types.ModuleType("airflow.providers.fab.auth_manager.cli_commands.utils")
    utils.get_application_builder = get_application_builder
    manager = types.ModuleType("airflow.providers_manager")
    manager.ProvidersManager = lambda: types.SimpleNamespace(initialize_providers_configuration=lambda: None)
    monkeypatch.setitem(sys.modules, utils.__name__, utils)
    monkeypatch.setitem(sys.modules, manager.__name__, manager)
    return sm


def test_a_missing_user_is_created_with_the_password_as_given(fab):
    airflow_objects.create_users([ADMIN], ["admin"], check_mode=False)
    assert fab.added == [("admin", "Platform", "Admin", "admin@example.com", "Admin", HOSTILE)]


def test_existing_users_and_check_mode_create_nothing(fab):
    airflow_objects.create_users([ADMIN], [], check_mode=False)
    airflow_objects.create_users([ADMIN], ["admin"], check_mode=True)
    fab.users.add("admin")
    airflow_objects.create_users([ADMIN], ["admin"], check_mode=False)
    assert fab.added == []


def test_an_unknown_role_is_refused_by_name(fab):
    with pytest.raises(ValueError, match="role Viewer of user admin does not exist"):
        airflow_objects.create_users([{**ADMIN, "role": "Viewer"}], ["admin"], check_mode=False)
    assert fab.added == []


class UnreadableConnection:
    """A stored connection whose password was encrypted with a key this host does not have."""

    conn_type, host, port, schema, login, description, extra = (
        "postgres",
        "db01",
        5432,
        "airflow",
        "airflow",
        None,
        None,
    )

    @property
    def password(self):
        raise airflow_objects.InvalidToken()


def test_a_connection_that_cannot_be_decrypted_is_set_again_not_a_crash():
    wanted = {"conn_id": "mlops_db", "conn_type": "postgres", "host": "db01", "port": 5432, "schema": "airflow"}
    assert airflow_objects.connection_differs(UnreadableConnection(), {**wanted, "login": "airflow"}) is True


class UnloadableQuery:
    """A query whose row Airflow cannot load: its password does not decrypt with this host's key."""

    def __init__(self):
        self.deleted = False

    def filter(self, *_):
        return self

    def one_or_none(self):
        raise airflow_objects.InvalidToken()

    def delete(self, synchronize_session):
        assert synchronize_session is False
        self.deleted = True


class FakeConnectionColumn:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@pytest.mark.parametrize("check_mode", [False, True])
def test_a_connection_that_cannot_be_loaded_is_deleted_and_made_again(monkeypatch, check_mode):
    query = UnloadableQuery()
    session = types.SimpleNamespace(query=lambda _model: query)
    monkeypatch.setattr(
        airflow_objects, "Connection", types.SimpleNamespace(conn_id=FakeConnectionColumn()), raising=False
    )
    assert airflow_objects.stored_connection(session, "mlops_db", check_mode) == (None, True)
    assert query.deleted is not check_mode
