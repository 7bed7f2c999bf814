# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.airflow_input_errors filter."""

from __future__ import annotations

import base64
import copy
import os

import pytest
from plugin_loader import ROOT, load_plugin

plugin = load_plugin("plugins/filter/airflow_input_errors.py")
check = plugin.FilterModule().filters()["airflow_input_errors"]

GOOD = {
    "version": "3.1.3",
    "user": "airflow",
    "group": "airflow",
    "dags_run_as_user": "airflow-dags",
    "db_host": "db01",
    "db_port": 5432,
    "db_password": "secret",
    "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "api_port": 8080,
    "scheduler_health_port": 8974,
    "home": "/opt/airflow",
    "dags_folder": "/opt/airflow/dags",
    "logs_folder": "/var/log/airflow",
    "dags_source": "",
    "pip_requirements": "",
    "parallelism": 8,
    "connections": [
        {"conn_id": "mlops_db", "conn_type": "postgres", "host": "db01.lab.example", "port": 5432},
        {"conn_id": "features", "conn_type": "postgres", "host": "fd00::5"},
        {"conn_id": "registry", "conn_type": "http", "host": "https://models.example.com/api"},
    ],
    "pools": [{"name": "training", "slots": 2}],
    "config": {"scheduler": {"min_file_process_interval": 30}},
    "variables": {"feature_table": "staging.features"},
    "alert_email_to": ["ml-team@example.com", "on-call+airflow@example.co.uk"],
    "alert_webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX",
    "alert_webhook_kind": "slack",
    "alert_ui_url": "https://airflow.example.com",
    "smtp_host": "smtp.example.com",
    "smtp_port": 587,
    "smtp_user": "alerts",
    "smtp_password": "relay-secret",
    "smtp_starttls": True,
    "smtp_ssl": False,
    "smtp_mail_from": "airflow@example.com",
}


def with_changes(**changes):
    cfg = copy.deepcopy(GOOD)
    cfg.update(changes)
    return cfg


def test_good_input_has_no_errors(tmp_path):
    assert check(with_changes(dags_source=str(tmp_path))) == []


def test_the_dags_requirements_file_is_good_input():
    assert check(with_changes(pip_requirements=str(ROOT / "dags/requirements.txt"))) == []


@pytest.mark.parametrize("line", ["-r other.txt", "  --constraint c.txt", "-e ./pkg", "--requirement=x.txt"])
def test_requirements_naming_other_files_are_refused(tmp_path, line):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"numpy==2.4.6\n{line}\n")
    errors = check(with_changes(pip_requirements=str(requirements)))
    assert len(errors) == 1 and f"line 2 of {str(requirements)!r}" in errors[0] and "names another file" in errors[0]


CASES = {
    "airflow-2": ({"version": "2.10.5"}, "airflow_version", "3.X.Y"),
    "version-garbage": ({"version": "latest"}, "airflow_version", "3.X.Y"),
    "no-db-password": ({"db_password": ""}, "airflow_db_password", "vault"),
    "db-port": ({"db_port": 0}, "airflow_db_port", "between 1 and 65535"),
    "fernet-short": ({"fernet_key": "abc"}, "airflow_fernet_key", "leave it empty"),
    "fernet-not-base64": ({"fernet_key": "!" * 44}, "airflow_fernet_key", "urlsafe_b64encode"),
    "same-port": ({"scheduler_health_port": 8080}, "two services cannot listen on one port", "airflow_api_port"),
    "api-port-range": ({"api_port": 99999}, "airflow_api_port", "between 1 and 65535"),
    "dags-folder-relative": ({"dags_folder": "dags"}, "airflow_dags_folder", "absolute"),
    "home-not-clean": ({"home": "/opt//airflow/"}, "airflow_home", "'/opt/airflow'"),
    "dags-source-missing": ({"dags_source": "/nonexistent/dags"}, "airflow_dags_source", "not a folder"),
    "pip-requirements-missing": (
        {"pip_requirements": "/nonexistent/requirements.txt"},
        "airflow_pip_requirements: '/nonexistent/requirements.txt' is not a file on the controller",
        "or '' for none",
    ),
    "parallelism-zero": ({"parallelism": 0}, "airflow_parallelism", "at least 1"),
    "conn-id-chars": (
        {"connections": [{"conn_id": "my db", "conn_type": "postgres"}]},
        "airflow_connections[0]",
        "letters",
    ),
    "conn-duplicate": (
        {"connections": [{"conn_id": "a", "conn_type": "http"}, {"conn_id": "a", "conn_type": "http"}]},
        "airflow_connections: 'a'",
        "one entry per conn_id",
    ),
    "pool-slots": ({"pools": [{"name": "p", "slots": -5}]}, "airflow_pools[0]", "-1 (unlimited)"),
    "pool-duplicate": (
        {"pools": [{"name": "p", "slots": 1}, {"name": "p", "slots": 2}]},
        "airflow_pools: 'p'",
        "one entry",
    ),
    "config-not-dict": ({"config": {"core": "x"}}, "airflow_config", "section name holding a dict"),
    # --- the DAG tasks' user ----------------------------------------------------------------
    "dags-user-airflow": ({"dags_run_as_user": "airflow"}, "airflow_dags_run_as_user: 'airflow'", "airflow-dags"),
    "dags-user-root": ({"dags_run_as_user": "root"}, "airflow_dags_run_as_user: 'root'", "a user of their own"),
    "dags-user-bad-name": ({"dags_run_as_user": "Dag User"}, "airflow_dags_run_as_user", "lower-case letters"),
    "dags-user-and-config": (
        {"dags_run_as_user": "airflow-dags", "config": {"core": {"default_impersonation": "x"}}},
        "core.default_impersonation",
        "remove it from airflow_config",
    ),
    "impersonation-without-user": (
        {"dags_run_as_user": "", "config": {"core": {"default_impersonation": "nobody"}}},
        "core.default_impersonation",
        "set airflow_dags_run_as_user instead",
    ),
    # --- system folders -------------------------------------------------------------------
    "home-root": ({"home": "/"}, "airflow_home: '/' is shared by the whole system", "'/opt/airflow'"),
    "home-etc": ({"home": "/etc"}, "airflow_home: '/etc' is in /etc, which belongs to the system", "/opt/airflow"),
    "home-under-usr": (
        {"home": "/usr/local/airflow"},
        "airflow_home: '/usr/local/airflow' is in /usr",
        "Airflow's own",
    ),
    "home-lib64": ({"home": "/lib64/airflow"}, "airflow_home: '/lib64/airflow' is in /lib64", "Airflow's own"),
    "home-var": ({"home": "/var"}, "airflow_home: '/var' is shared by the whole system", "'/var/airflow'"),
    "home-opt": ({"home": "/opt"}, "airflow_home: '/opt' is shared", "'/opt/airflow'"),
    "home-double-slash": ({"home": "//etc"}, "airflow_home: '//etc' is not a clean absolute path", "'/etc'"),
    "home-dotdot-into-etc": ({"home": "/opt/../etc"}, "airflow_home: '/opt/../etc' is not a clean", "'/etc'"),
    "home-root-home": ({"home": "/root/airflow"}, "airflow_home: '/root/airflow' is in /root", "/opt/airflow"),
    "dags-folder-dpkg": (
        {"dags_folder": "/var/lib/dpkg/info"},
        "airflow_dags_folder: '/var/lib/dpkg/info' is in /var/lib/dpkg",
        "/opt/airflow",
    ),
    "dags-folder-var-lib": (
        {"dags_folder": "/var/lib"},
        "airflow_dags_folder: '/var/lib' is shared",
        "'/var/lib/airflow'",
    ),
    "dags-folder-tmp": ({"dags_folder": "/tmp/dags"}, "airflow_dags_folder: '/tmp/dags' is in /tmp", "Airflow's own"),
    "logs-folder-var-log": (
        {"logs_folder": "/var/log"},
        "airflow_logs_folder: '/var/log' is shared",
        "'/var/log/airflow'",
    ),
    "logs-folder-proc": (
        {"logs_folder": "/proc/self"},
        "airflow_logs_folder: '/proc/self' is in /proc",
        "Airflow's own",
    ),
    "logs-folder-run": (
        {"logs_folder": "/run/airflow"},
        "airflow_logs_folder: '/run/airflow' is in /run",
        "Airflow's own",
    ),
    "logs-folder-journal": (
        {"logs_folder": "/var/log/journal"},
        "airflow_logs_folder: '/var/log/journal' is in /var/log/journal",
        "own",
    ),
    # --- accounts -------------------------------------------------------------------------
    "user-root": ({"user": "root"}, "airflow_user: 'root' is root or a user id", "unprivileged name such as airflow"),
    "user-toor": ({"user": "toor"}, "airflow_user: 'toor'", "unprivileged"),
    "user-uid-0": ({"user": "0"}, "airflow_user: '0' is root or a user id", "unprivileged"),
    "group-root": (
        {"group": "root"},
        "airflow_group: 'root' is a privileged group",
        "a group of its own such as airflow",
    ),
    "group-sudo": ({"group": "sudo"}, "airflow_group: 'sudo'", "a group of its own"),
    "group-docker": ({"group": "docker"}, "airflow_group: 'docker'", "a group of its own"),
    # --- hosts ----------------------------------------------------------------------------
    "db-host-query": (
        {"db_host": "db01/x?sslmode=disable"},
        "airflow_db_host: 'db01/x?sslmode=disable' is not a host name",
        "airflow_db_sslmode",
    ),
    "db-host-port": (
        {"db_host": "db01:5432"},
        "airflow_db_host: 'db01:5432' is not a host name or an IP address",
        "the port in airflow_db_port",
    ),
    "db-host-space": ({"db_host": "db01 db02"}, "airflow_db_host: 'db01 db02'", "airflow_db_port"),
    "db-host-at": ({"db_host": "user@db01"}, "airflow_db_host: 'user@db01'", "airflow_db_port"),
    "db-host-hash": ({"db_host": "db01#x"}, "airflow_db_host: 'db01#x'", "airflow_db_port"),
    "db-host-newline": ({"db_host": "db01\n"}, "airflow_db_host: 'db01\\n'", "airflow_db_port"),
    "db-host-unicode-space": ({"db_host": "db01\u3000"}, "airflow_db_host", "airflow_db_port"),
    "db-host-url": ({"db_host": "postgresql://db01"}, "airflow_db_host: 'postgresql://db01'", "give only the host"),
    "db-host-too-long": ({"db_host": "a" * 300}, "airflow_db_host", "give only the host"),
    "db-host-label-too-long": ({"db_host": "a" * 64 + ".example"}, "airflow_db_host", "give only the host"),
    "db-host-scoped-ipv6": ({"db_host": "fe80::1%eth0"}, "airflow_db_host: 'fe80::1%eth0'", "give only the host"),
    "db-host-socket-dir": (
        {"db_host": "/var/run/postgresql"},
        "airflow_db_host: '/var/run/postgresql'",
        "give only the host",
    ),
    "conn-host-port": (
        {"connections": [{"conn_id": "mlops_db", "conn_type": "postgres", "host": "db01:5432"}]},
        "airflow_connections[0] ('mlops_db'): host 'db01:5432' is not a host name or an IP address",
        "the port in port",
    ),
    "conn-host-path": (
        {"connections": [{"conn_id": "mlops_db", "conn_type": "postgres", "host": "db01/airflow"}]},
        "airflow_connections[0] ('mlops_db'): host 'db01/airflow'",
        "the database in schema",
    ),
    # --- types: what argument specs let through (they convert a copy only) ------------------
    "type-fernet-int": ({"fernet_key": 12345}, "airflow_fernet_key: got an integer, not a string", "quote the value"),
    "type-fernet-list": ({"fernet_key": ["a"]}, "airflow_fernet_key: got a list, not a string", "give a string"),
    "type-db-password-int": ({"db_password": 12345}, "airflow_db_password: got an integer", "quote the value"),
    "type-db-host-list": ({"db_host": ["db01"]}, "airflow_db_host: got a list, not a string", "give a string"),
    "type-db-port-string": ({"db_port": "5432"}, "airflow_db_port: got a string, not an integer", "without quotes"),
    "type-home-dict": ({"home": {"path": "/opt/airflow"}}, "airflow_home: got a dict, not a string", "give a string"),
    "type-home-none": ({"home": None}, "airflow_home: got null", "leave the variable out"),
    "type-user-int": ({"user": 0}, "airflow_user: got an integer", "quote the value"),
    "type-version-float": ({"version": 3.1}, "airflow_version: got a number with a fraction", "quote the value"),
    "type-parallelism-bool": (
        {"parallelism": True},
        "airflow_parallelism: got a boolean, not an integer",
        "give an integer",
    ),
    "type-connections-dict": (
        {"connections": {"conn_id": "x"}},
        "airflow_connections: got a dict, not a list",
        "give a list",
    ),
    "type-connection-host-int": (
        {"connections": [{"conn_id": "x", "conn_type": "http", "host": 10}]},
        "airflow_connections[0].host: got an integer",
        "quote",
    ),
    "type-connection-port-string": (
        {"connections": [{"conn_id": "x", "conn_type": "postgres", "port": "5432"}]},
        "airflow_connections[0].port: got a string",
        "without quotes",
    ),
    "type-pool-slots-string": (
        {"pools": [{"name": "p", "slots": "4"}]},
        "airflow_pools[0].slots: got a string",
        "without quotes",
    ),
    "type-config-list": ({"config": ["core"]}, "airflow_config: got a list, not a dict", "give a dict"),
    # --- failure alerts -----------------------------------------------------------------
    "alert-email-without-at": (
        {"alert_email_to": ["ml-team.example.com"]},
        "airflow_alert_email_to[0]: 'ml-team.example.com' is not an e-mail address",
        "one address per list entry",
    ),
    "alert-email-two-in-one": (
        {"alert_email_to": ["a@example.com, b@example.com"]},
        "airflow_alert_email_to[0]",
        "one address per list entry",
    ),
    "alert-email-a-string": (
        {"alert_email_to": "ml-team@example.com"},
        "airflow_alert_email_to: got a string, not a list",
        "give a list",
    ),
    "alert-email-without-relay": (
        {"alert_email_to": ["ml-team@example.com"], "smtp_host": ""},
        "airflow_alert_email_to is set but airflow_smtp_host is empty",
        "give the SMTP relay",
    ),
    "smtp-port-range": ({"smtp_port": 70000}, "airflow_smtp_port: 70000 is out of range", "between 1 and 65535"),
    "smtp-port-zero": ({"smtp_port": 0}, "airflow_smtp_port: 0 is out of range", "between 1 and 65535"),
    "smtp-host-with-port": (
        {"smtp_host": "smtp.example.com:587"},
        "airflow_smtp_host: 'smtp.example.com:587' is not a host name",
        "airflow_smtp_port",
    ),
    "smtp-tls-twice": (
        {"smtp_starttls": True, "smtp_ssl": True},
        "airflow_smtp_starttls and airflow_smtp_ssl are both true",
        "port 465: airflow_smtp_starttls false",
    ),
    "smtp-user-without-password": (
        {"smtp_password": ""},
        "airflow_smtp_user and airflow_smtp_password go together",
        "set both",
    ),
    "smtp-starttls-a-string": (
        {"smtp_starttls": "yes"},
        "airflow_smtp_starttls: got a string, not true or false",
        "without quotes",
    ),
    "smtp-mail-from-missing": (
        {"smtp_mail_from": ""},
        "airflow_smtp_mail_from: '' is not an e-mail address",
        "airflow@example.com",
    ),
    "webhook-not-http": (
        {"alert_webhook_url": "ftp://hooks.example.com/x"},
        "airflow_alert_webhook_url is not an http(s) URL with a host",
        "https://hooks.slack.com/services/",
    ),
    "webhook-no-scheme": (
        {"alert_webhook_url": "hooks.slack.com/services/T0/B0/X"},
        "airflow_alert_webhook_url is not an http(s) URL",
        "the whole address",
    ),
    "webhook-bad-port": (
        {"alert_webhook_url": "https://hooks.example.com:99999/x"},
        "airflow_alert_webhook_url is not an http(s) URL",
        "the whole address",
    ),
    "webhook-with-space": (
        {"alert_webhook_url": "https://hooks.example.com/a b"},
        "airflow_alert_webhook_url is not an http(s) URL",
        "the whole address",
    ),
    "webhook-with-userinfo": (
        {"alert_webhook_url": "https://bot:s3cret@hooks.example.com/x"},
        "airflow_alert_webhook_url holds a user and password",
        "without them",
    ),
    "ui-url-no-scheme": (
        {"alert_ui_url": "airflow.example.com"},
        "airflow_alert_ui_url: 'airflow.example.com' is not an http(s) URL",
        "leave it empty",
    ),
    "webhook-kind": ({"alert_webhook_kind": "telegram"}, "airflow_alert_webhook_kind: 'telegram'", "slack, http"),
    "alert-variable-set-twice": (
        {"variables": {"mlops_alerts": "{}"}},
        "airflow_variables: 'mlops_alerts' is written by the role",
        "set those variables instead",
    ),
    "smtp-connection-set-twice": (
        {"connections": [{"conn_id": "smtp_default", "conn_type": "smtp", "host": "mail"}]},
        "airflow_connections[0]: 'smtp_default' is made by the role from airflow_smtp_*",
        "remove this entry",
    ),
}


@pytest.mark.parametrize(("changes", "names", "fix"), CASES.values(), ids=CASES.keys())
def test_each_problem_is_named_with_its_fix(changes, names, fix):
    errors = check(with_changes(**changes))
    assert len(errors) == 1, errors
    assert names in errors[0]
    assert fix in errors[0]


def test_messages_never_contain_secrets():
    cfg = with_changes(fernet_key="not-a-key-s3cret", db_port=0)
    assert all("s3cret" not in message for message in check(cfg))


@pytest.mark.parametrize("url", ["ftp://x.example/s3cret", "https://u:s3cret@x.example/", "https://x.example/s3cret a"])
def test_alert_messages_never_show_the_webhook_url(url):
    errors = check(with_changes(alert_webhook_url=url))
    assert errors and all("s3cret" not in message for message in errors)


def test_no_alert_channel_is_good_input():
    cfg = with_changes(alert_email_to=[], alert_webhook_url="", smtp_host="", smtp_user="", smtp_password="")
    assert check({**cfg, "smtp_mail_from": ""}) == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/hook", "https://chat.example.com/hooks/abc?token=x", "https://[fd00::5]/hook"]
)
def test_webhook_urls_accepted(url):
    assert check(with_changes(alert_webhook_url=url, alert_webhook_kind="http")) == []


@pytest.mark.parametrize(
    "path",
    [
        "/opt/airflow",
        "/srv/airflow",
        "/var/lib/airflow",
        "/home/airflow",
        "/var/log/airflow",
        "/data/airflow",
        "/library",
    ],
)
def test_folders_of_their_own_are_allowed(path):
    assert check(with_changes(home=path, dags_folder=f"{path}/dags", logs_folder=f"{path}/logs")) == []


@pytest.mark.parametrize("host", ["db01", "db01.lab.example.", "molecule_db01", "10.0.0.5", "fd00::5", "a" * 63])
def test_host_names_and_addresses_are_allowed(host):
    assert check(with_changes(db_host=host)) == []


def test_type_errors_come_alone_and_never_show_the_value():
    assert check(with_changes(fernet_key=12345, db_port=0)) == [
        "airflow_fernet_key: got an integer, not a string; quote the value in YAML so that it stays a string."
    ]
