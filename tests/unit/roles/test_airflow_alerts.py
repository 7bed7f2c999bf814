"""The airflow role's failure-alert variables become the connections and the variable that the
DAGs' callback (dags/mlops_alerts.py) reads, in the shapes tests/dags/test_alerts.py sends
real alerts through. Rendered by ansible-playbook from the role's defaults and vars."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playbook_runner import run_playbook_json

ROOT = Path(__file__).resolve().parents[3]

PLAY = f"""
- hosts: air01
  gather_facts: false
  tasks:
    - ansible.builtin.include_vars: {ROOT}/roles/airflow/defaults/main.yml
    - ansible.builtin.include_vars: {ROOT}/roles/airflow/vars/main.yml
    - ansible.builtin.debug:
        msg:
          connections: "{{{{ __airflow_alert_connections }}}}"
          settings: "{{{{ __airflow_alert_settings }}}}"
"""

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXX"
CASES = {
    "none": ({}, [], {"email_to": [], "webhook_conn_id": "", "webhook_kind": "slack", "ui_url": "http://air01:8080"}),
    "mail-and-slack": (
        {
            "airflow_alert_email_to": ["ml-team@example.com"],
            "airflow_smtp_host": "smtp.example.com",
            "airflow_smtp_user": "alerts",
            "airflow_smtp_password": "relay-secret",
            "airflow_smtp_mail_from": "airflow@example.com",
            "airflow_alert_webhook_url": SLACK_URL,
            "airflow_https_enabled": True,
            "airflow_https_names": ["airflow.example.com", "air01"],
        },
        [
            {
                "conn_id": "smtp_default",
                "conn_type": "smtp",
                "host": "smtp.example.com",
                "port": 587,
                "login": "alerts",
                "password": "relay-secret",
                "extra": {
                    "from_email": "airflow@example.com",
                    "disable_tls": False,
                    "disable_ssl": True,
                    "timeout": 30,
                    "retry_limit": 1,
                },
            },
            {
                "conn_id": "mlops_alerts_webhook",
                "conn_type": "slackwebhook",
                "password": SLACK_URL,
                "extra": {"timeout": 30},
            },
        ],
        {
            "email_to": ["ml-team@example.com"],
            "webhook_conn_id": "mlops_alerts_webhook",
            "webhook_kind": "slack",
            "ui_url": "https://airflow.example.com",
        },
    ),
    "relay-only-and-http": (
        {
            "airflow_smtp_host": "10.0.0.25",
            "airflow_smtp_port": 465,
            "airflow_smtp_starttls": False,
            "airflow_smtp_ssl": True,
            "airflow_smtp_mail_from": "airflow@example.com",
            "airflow_alert_webhook_url": "https://chat.example.com:8443/hooks/abc?token=x",
            "airflow_alert_webhook_kind": "http",
            "airflow_alert_ui_url": "https://airflow.example.com:8443/",
        },
        [
            {
                "conn_id": "smtp_default",
                "conn_type": "smtp",
                "host": "10.0.0.25",
                "port": 465,
                "extra": {
                    "from_email": "airflow@example.com",
                    "disable_tls": True,
                    "disable_ssl": False,
                    "timeout": 30,
                    "retry_limit": 1,
                },
            },
            {
                "conn_id": "mlops_alerts_webhook",
                "conn_type": "http",
                "host": "https://chat.example.com:8443",
                "password": "https://chat.example.com:8443/hooks/abc?token=x",
                "extra": {"timeout": 30},
            },
        ],
        # A relay with no recipients: smtp_default for the DAGs' own mail, no e-mail alerts.
        {
            "email_to": [],
            "webhook_conn_id": "mlops_alerts_webhook",
            "webhook_kind": "http",
            "ui_url": "https://airflow.example.com:8443/",
        },
    ),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    work = tmp_path_factory.mktemp("alerts")
    (work / "play.yml").write_text(PLAY)
    results = {}
    for case, (inputs, *_expected) in CASES.items():
        (work / f"{case}.json").write_text(json.dumps(inputs))
        output = run_playbook_json(
            ["-i", "air01,", "-c", "local", "-e", f"@{work / case}.json", str(work / "play.yml")], work, work
        )
        results[case] = output["plays"][0]["tasks"][-1]["hosts"]["air01"]["msg"]
    return results


@pytest.mark.parametrize("case", CASES)
def test_alert_variables_become_connections_and_the_variable(rendered, case):
    connections, settings = CASES[case][1:]
    assert rendered[case]["connections"] == connections
    assert rendered[case]["settings"] == {"smtp_conn_id": "smtp_default", **settings}
