# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the airflow role's variables: the types argument specs let through, then the meaning.

Why a filter: argument specs check types and choices only; formats, ranges, duplicates and
the controller's files need code, each refusal its own message, and each case a unit test.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: airflow_input_errors
short_description: Problems in the airflow role's variables, one message each
version_added: 0.1.0
author: DataTech platform team
description:
  - Checks what argument specs cannot (formats, ranges, duplicates, ports shared by two
    services, paths and system folders, the service account, host names, the controller's
    DAG folder, the failure alerts' addresses, SMTP relay and webhook URL) and returns every
    problem found, each message naming the variable and the fix. An empty list means the
    input is good.
  - Types come first, and alone when wrong. Argument specs validate a converted copy, so the
    variables still hold a number, list or dict where a string is expected (or a quoted number).
  - The role calls it in its preflight, before anything changes on the host.
options:
  _input:
    description: The role's variables, under their names without the C(airflow_) prefix.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'version': '2.10.5'} | datatech.mlops.airflow_input_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the input is good.
  type: list
  elements: str
"""

import base64
import binascii
import ipaddress
import os
import posixpath
import re
import urllib.parse

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import (
    clean_path,
    collect,
    duplicates,
    type_errors,
)

VERSION = re.compile(r"^3\.[0-9]+\.[0-9]+$")
CONN_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
SECTION = re.compile(r"^[a-z_.]+$")
# A system user name useradd takes on Debian and Ubuntu (and sudoers without quoting).
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
FERNET_KEY_BYTES = 32
# A DNS name: labels of letters, digits, '-' (and '_', which container and internal DNS
# names use), separated by dots, at most 253 characters.
HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$"
)
# Connection types whose host Airflow takes as a URL (scheme://host/path): not checked.
URL_HOST_CONN_TYPES = ("http", "https")
# Folders the role may not take for airflow_home, airflow_dags_folder, airflow_logs_folder.
# It creates each, makes it airflow_user's (mode 0750/0755), sets airflow_home as that user's
# home, and deletes old DAG releases and logs in them: on a system folder that hands the OS's
# files to the service user, or deletes them.
# - SYSTEM_TREES: the folder and everything under it belong to the OS, its package manager,
#   the kernel's virtual file systems, boot, root's home, or are wiped at boot (/run, /tmp).
#   /lib* is every library folder Debian and Ubuntu use on any architecture (lib, lib32,
#   lib64, libx32), named one by one so that a folder such as /library is not caught.
SYSTEM_TREES = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/tmp",
    "/usr",
    "/var/cache",
    "/var/lib/apt",
    "/var/lib/dpkg",
    "/var/lib/systemd",
    "/var/lib/ucf",
    "/var/log/journal",
    "/var/run",
    "/var/spool",
    "/var/tmp",
)
# - SHARED_PARENTS: the folder itself is shared by many programs (refused), but a subfolder
#   of its own is the usual place (/opt/airflow, /srv/airflow, /var/lib/airflow,
#   /var/log/airflow, /home/airflow).
SHARED_PARENTS = (
    "/",
    "/home",
    "/media",
    "/mnt",
    "/opt",
    "/srv",
    "/var",
    "/var/lib",
    "/var/local",
    "/var/log",
    "/var/opt",
)
# Accounts the role may not run Airflow as: the user task sets the account's home to
# airflow_home and its shell to nologin, and the services get its rights. root (uid 0, and
# toor, its BSD alias) would run every task as root; numeric names are taken as ids.
ROOT_ACCOUNTS = ("root", "toor")
# Groups whose members can become root or read every secret (disk devices, shadow, docker's
# socket, sudo): the services' group may not be one of them.
PRIVILEGED_GROUPS = ("root", "wheel", "sudo", "adm", "disk", "shadow", "docker", "lxd")
# The types of every key the filter reads; a value of another type is refused before the
# meaning checks (argument specs convert only a copy: the variables keep what was given).
TYPES = {
    "version": str,
    "user": str,
    "group": str,
    "dags_run_as_user": str,
    "db_host": str,
    "db_port": int,
    "db_password": str,
    "fernet_key": str,
    "api_port": int,
    "scheduler_health_port": int,
    "home": str,
    "dags_folder": str,
    "logs_folder": str,
    "dags_source": str,
    "pip_requirements": str,
    "parallelism": int,
    "max_active_tasks_per_dag": int,
    "max_active_runs_per_dag": int,
    "api_workers": int,
    "dag_refresh_interval": int,
    "health_timeout": int,
    "dags_releases_kept": int,
    "log_retention_days": int,
    "connections": [
        {
            "conn_id": str,
            "conn_type": str,
            "host": str,
            "port": int,
            "schema": str,
            "login": str,
            "password": str,
            "extra": dict,
            "description": str,
        }
    ],
    "pools": [{"name": str, "slots": int, "description": str}],
    "variables": dict,
    "config": dict,
    "alert_email_to": [str],
    "alert_webhook_url": str,
    "alert_webhook_kind": str,
    "alert_ui_url": str,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_user": str,
    "smtp_password": str,
    "smtp_starttls": bool,
    "smtp_ssl": bool,
    "smtp_mail_from": str,
}


def _version_errors(cfg):
    version = str(cfg.get("version", ""))
    if not VERSION.fullmatch(version):
        return [f"airflow_version: {version!r} is not an Airflow 3 release; write it as 3.X.Y (e.g. 3.1.3)."]
    return []


def _database_errors(cfg):
    errors = []
    if not cfg.get("db_password"):
        errors.append(
            "airflow_db_password is empty; set it from vault or an environment lookup "
            "(the password of the metadata database user on db01)."
        )
    host = cfg.get("db_host")
    if not host:
        errors.append("airflow_db_host is empty; give the PostgreSQL host, e.g. db01.")
    elif not _is_host(host):
        errors.append(
            f"airflow_db_host: {host[:80]!r} is not a host name or an IP address; give only the host "
            "(e.g. db01 or 10.0.0.5), the port in airflow_db_port and the TLS mode in airflow_db_sslmode."
        )
    port = cfg.get("db_port", 5432)
    if not 1 <= port <= 65535:
        errors.append(f"airflow_db_port: {port!r} is out of range; use a TCP port between 1 and 65535.")
    return errors


def _is_host(value):
    """A DNS name or an IP address; not a scoped IPv6 address (fe80::1%eth0: '%' breaks the URL and airflow.cfg)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return bool(HOST_NAME.fullmatch(value))
    return "%" not in value


def _account_errors(cfg):
    errors = []
    user, group = cfg.get("user", "airflow"), cfg.get("group", "airflow")
    if user in ROOT_ACCOUNTS or user.isdigit():
        errors.append(
            f"airflow_user: {user!r} is root or a user id; the role makes this account Airflow's and runs "
            "every task as it: use an unprivileged name such as airflow."
        )
    if group in PRIVILEGED_GROUPS or group.isdigit():
        errors.append(
            f"airflow_group: {group!r} is a privileged group or a group id; its members can become root "
            "or read the host's secrets: use a group of its own such as airflow."
        )
    return errors


def _dags_user_errors(cfg):
    """airflow_dags_run_as_user: a user of its own, never Airflow's or root (the tasks would keep their rights)."""
    name = cfg.get("dags_run_as_user") or ""
    core = (cfg.get("config") or {}).get("core")
    core = core if isinstance(core, dict) else {}  # any other shape: _content_errors names it
    errors = []
    if not name:
        impersonation = core.get("default_impersonation")
        if impersonation:
            errors.append(
                f"airflow_config: core.default_impersonation {impersonation!r} is set without the user and sudo rule "
                "the role makes for it; remove it and set airflow_dags_run_as_user instead."
            )
        return errors
    if not USER_NAME.fullmatch(name):
        errors.append(
            f"airflow_dags_run_as_user: {name[:40]!r} is not a user name; use lower-case letters, digits, '_' and '-', "
            "starting with a letter or '_', at most 32 characters (e.g. airflow-dags)."
        )
    elif name in ROOT_ACCOUNTS or name in (cfg.get("user", "airflow"), cfg.get("group", "airflow")):
        errors.append(
            f"airflow_dags_run_as_user: {name!r} is root or Airflow's own user or group; tasks would keep the rights "
            "to read airflow.cfg and the secrets: name a user of their own such as airflow-dags."
        )
    if "default_impersonation" in core:
        errors.append(
            "airflow_config: core.default_impersonation would override airflow_dags_run_as_user; remove it from airflow_config."
        )
    return errors


def _fernet_key_errors(cfg):
    key = cfg.get("fernet_key") or ""
    if not key:
        return []
    try:
        valid = len(key) == 44 and len(base64.urlsafe_b64decode(key.encode())) == FERNET_KEY_BYTES
    except (binascii.Error, ValueError):
        valid = False
    if valid:
        return []
    return [
        (
            "airflow_fernet_key is not a Fernet key (44 characters of url-safe base64 encoding 32 bytes); "
            "leave it empty to have one generated, or make one with: python3 -c "
            "'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'."
        )
    ]


def _port_errors(cfg):
    ports = {
        "airflow_api_port": cfg.get("api_port", 8080),
        "airflow_scheduler_health_port": cfg.get("scheduler_health_port", 8974),
    }
    errors = []
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            errors.append(f"{name}: {port!r} is out of range; use a TCP port between 1 and 65535.")
    if len(set(ports.values())) < len(ports):
        errors.append(
            f"airflow_api_port and airflow_scheduler_health_port are both {ports['airflow_api_port']}; "
            "two services cannot listen on one port: give each its own."
        )
    return errors


def _path_errors(cfg):
    errors = []
    for key in ("home", "dags_folder", "logs_folder"):
        path = cfg.get(key)
        name = f"airflow_{key}"
        if path is None:
            continue
        if not path.startswith("/"):
            errors.append(f"{name}: {path!r} is not absolute; give an absolute path such as /opt/airflow/dags.")
        elif clean_path(path) != path:
            errors.append(f"{name}: {path!r} is not a clean absolute path; write it like {clean_path(path)!r}.")
        else:
            errors.extend(_system_path_errors(name, path))
    source = cfg.get("dags_source") or ""
    if source and not os.path.isdir(source):
        errors.append(
            f"airflow_dags_source: {source!r} is not a folder on the controller; "
            "give the path of your DAGs folder (relative paths start where ansible-playbook runs)."
        )
    errors.extend(_requirements_errors(cfg.get("pip_requirements") or ""))
    return errors


# pip options that name another file or a local tree: the role copies the one file only.
REQUIREMENTS_FILE_OPTIONS = re.compile(r"^\s*(-r|-c|-e|--requirement|--constraint|--editable)\b")


def _requirements_errors(path):
    """airflow_pip_requirements: a file on the controller that names no other file."""
    if not path:
        return []
    if not os.path.isfile(path):
        return [
            (
                f"airflow_pip_requirements: {path!r} is not a file on the controller; give the path of your pip "
                "requirements file (relative paths start where ansible-playbook runs), or '' for none."
            )
        ]
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if REQUIREMENTS_FILE_OPTIONS.match(line):
                return [
                    (
                        f"airflow_pip_requirements: line {number} of {path!r} ({line.strip()[:80]!r}) names another "
                        "file, which the role does not copy to the host; list the packages in this file instead."
                    )
                ]
    return []


def _under(path, tree):
    """Whether path is tree or inside it."""
    return path == tree or path.startswith(tree + "/")


def _system_path_errors(name, path):
    tree = next((tree for tree in SYSTEM_TREES if _under(path, tree)), None)
    if tree:
        return [
            (
                f"{name}: {path!r} is in {tree}, which belongs to the system; the role makes the folder "
                "airflow_user's (and prunes old files in it): use a folder of Airflow's own such as /opt/airflow."
            )
        ]
    if path in SHARED_PARENTS:
        suggestion = "/opt/airflow" if path == "/" else posixpath.join(path, "airflow")
        return [
            (
                f"{name}: {path!r} is shared by the whole system; the role makes the folder airflow_user's "
                f"(and prunes old files in it): use a folder of Airflow's own, such as {suggestion!r}."
            )
        ]
    return []


def _count_errors(cfg):
    errors = []
    for key, minimum in (
        ("parallelism", 1),
        ("max_active_tasks_per_dag", 1),
        ("max_active_runs_per_dag", 1),
        ("api_workers", 1),
        ("dag_refresh_interval", 1),
        ("health_timeout", 10),
        ("dags_releases_kept", 1),
        ("log_retention_days", 1),
    ):
        value = cfg.get(key, minimum)
        if value < minimum:
            errors.append(f"airflow_{key}: {value!r} is too small; use at least {minimum}.")
    return errors


def _content_errors(cfg):
    errors = []
    connections = cfg.get("connections") or []
    for i, conn in enumerate(connections):
        if not CONN_ID.fullmatch(str(conn.get("conn_id", ""))):
            errors.append(
                f"airflow_connections[{i}]: conn_id {conn.get('conn_id')!r} may hold only letters, digits, '_', '.', '-'."
            )
        host = conn.get("host")
        if host and conn.get("conn_type") not in URL_HOST_CONN_TYPES and not _is_host(host):
            errors.append(
                f"airflow_connections[{i}] ({conn.get('conn_id')!r}): host {host[:80]!r} is not a host name or an IP "
                "address; give only the host, the port in port, the database in schema and options in extra."
            )
    for name in duplicates(c.get("conn_id") for c in connections):
        errors.append(f"airflow_connections: {name!r} is listed more than once; keep one entry per conn_id.")
    pools = cfg.get("pools") or []
    for i, pool in enumerate(pools):
        if pool.get("slots", 0) < -1:
            errors.append(f"airflow_pools[{i}] ({pool.get('name')!r}): slots must be -1 (unlimited) or more.")
    for name in duplicates(p.get("name") for p in pools):
        errors.append(f"airflow_pools: {name!r} is listed more than once; keep one entry per pool.")
    for section, values in (cfg.get("config") or {}).items():
        if not SECTION.fullmatch(str(section)) or not isinstance(values, dict):
            errors.append(
                f"airflow_config: {section!r} must be an airflow.cfg section name holding a dict, "
                "like {scheduler: {min_file_process_interval: 30}}."
            )
    return errors


# One address of an e-mail header: local@domain, no spaces, commas or angle brackets (a list
# is a YAML list, one address per entry).
EMAIL_ADDRESS = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
WEBHOOK_KINDS = ("slack", "http")
# The variable and connections the role writes for the DAGs' failure callback
# (dags/mlops_alerts.py); the inventory may not set them besides.
ALERT_VARIABLE = "mlops_alerts"
ALERT_SMTP_CONN_ID = "smtp_default"
ALERT_WEBHOOK_CONN_ID = "mlops_alerts_webhook"


def _alert_errors(cfg):
    """Failure alerts: addresses, the SMTP relay, the webhook URL (never printed: it is a secret)."""
    errors = []
    recipients = cfg.get("alert_email_to") or []
    for i, address in enumerate(recipients):
        if not EMAIL_ADDRESS.fullmatch(address):
            errors.append(
                f"airflow_alert_email_to[{i}]: {address[:80]!r} is not an e-mail address; give one address "
                "per list entry, like ml-team@example.com."
            )
    host = cfg.get("smtp_host") or ""
    if recipients and not host:
        errors.append(
            "airflow_alert_email_to is set but airflow_smtp_host is empty; give the SMTP relay that sends "
            "the alerts (e.g. smtp.example.com), or empty airflow_alert_email_to."
        )
    if host:
        errors.extend(_smtp_errors(cfg, host))
    errors.extend(_webhook_errors(cfg))
    ui_url = cfg.get("alert_ui_url") or ""
    if ui_url and not _is_http_url(ui_url):
        errors.append(
            f"airflow_alert_ui_url: {ui_url[:80]!r} is not an http(s) URL with a host; give the address people "
            "open Airflow's UI at, like https://airflow.example.com, or leave it empty."
        )
    errors.extend(_alert_object_errors(cfg))
    return errors


def _smtp_errors(cfg, host):
    errors = []
    if not _is_host(host):
        errors.append(
            f"airflow_smtp_host: {host[:80]!r} is not a host name or an IP address; give only the host "
            "(e.g. smtp.example.com), the port in airflow_smtp_port."
        )
    port = cfg.get("smtp_port", 587)
    if not 1 <= port <= 65535:
        errors.append(
            f"airflow_smtp_port: {port!r} is out of range; use a TCP port between 1 and 65535 (587, 465, 25)."
        )
    if cfg.get("smtp_starttls", True) and cfg.get("smtp_ssl", False):
        errors.append(
            "airflow_smtp_starttls and airflow_smtp_ssl are both true; a relay speaks one of them: "
            "STARTTLS (port 587: airflow_smtp_ssl false) or TLS from the start (port 465: airflow_smtp_starttls false)."
        )
    if bool(cfg.get("smtp_user")) != bool(cfg.get("smtp_password")):
        errors.append(
            "airflow_smtp_user and airflow_smtp_password go together: set both (the relay's login, the "
            "password from the vault), or neither (a relay that takes mail without a login)."
        )
    mail_from = cfg.get("smtp_mail_from") or ""
    if not EMAIL_ADDRESS.fullmatch(mail_from):
        errors.append(
            f"airflow_smtp_mail_from: {mail_from[:80]!r} is not an e-mail address; give the sender the relay "
            "accepts, like airflow@example.com."
        )
    return errors


def _webhook_errors(cfg):
    url = cfg.get("alert_webhook_url") or ""
    kind = cfg.get("alert_webhook_kind", "slack")
    errors = []
    if kind not in WEBHOOK_KINDS:
        errors.append(f"airflow_alert_webhook_kind: {kind[:40]!r} is none of {', '.join(WEBHOOK_KINDS)}; choose one.")
    if not url:
        return errors
    if not _is_http_url(url):
        errors.append(
            "airflow_alert_webhook_url is not an http(s) URL with a host (the value is not shown: it is a "
            "secret); give the whole address the channel gave you, like https://hooks.slack.com/services/T0/B0/XXXX."
        )
    elif "@" in urllib.parse.urlsplit(url).netloc:
        errors.append(
            "airflow_alert_webhook_url holds a user and password before the host; give the URL without them "
            "(a webhook's secret is in its path or query)."
        )
    return errors


def _is_http_url(url):
    """An http or https URL with a host (and a valid port, if any), without spaces."""
    try:
        parts = urllib.parse.urlsplit(url)
        return (
            not re.search(r"\s", url) and parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        )
    except ValueError:  # a port that is not a number or out of range, a broken [IPv6] host
        return False


def _alert_object_errors(cfg):
    """The variable and connections the role makes for the alerts are not set twice."""
    errors = []
    if ALERT_VARIABLE in (cfg.get("variables") or {}):
        errors.append(
            f"airflow_variables: {ALERT_VARIABLE!r} is written by the role from airflow_alert_* and airflow_smtp_*; "
            "remove it from airflow_variables and set those variables instead."
        )
    made = {ALERT_SMTP_CONN_ID: "airflow_smtp_*"} if cfg.get("smtp_host") else {}
    if cfg.get("alert_webhook_url"):
        made[ALERT_WEBHOOK_CONN_ID] = "airflow_alert_webhook_*"
    for i, conn in enumerate(cfg.get("connections") or []):
        if conn.get("conn_id") in made:
            errors.append(
                f"airflow_connections[{i}]: {conn.get('conn_id')!r} is made by the role from {made[conn.get('conn_id')]}; "
                "remove this entry (or those variables)."
            )
    return errors


CHECKS = (
    _version_errors,
    _account_errors,
    _dags_user_errors,
    _database_errors,
    _fernet_key_errors,
    _port_errors,
    _path_errors,
    _count_errors,
    _content_errors,
    _alert_errors,
)


def airflow_input_errors(cfg):
    """Return every problem in the role's input, one message each; types first, as the checks rely on them."""
    return type_errors(TYPES, cfg, "airflow_") or collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"airflow_input_errors": airflow_input_errors}
