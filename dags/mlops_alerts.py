"""Failure alerts for the platform's DAGs: e-mail through the SMTP relay and a webhook.

Every DAG names it in its default arguments, so each task that fails for good (its last
try) reports itself:

    from mlops_alerts import notify_failure

    @dag(..., default_args={"owner": "team", "on_failure_callback": notify_failure})

The operator chooses the channels (airflow role: airflow_alert_email_to and airflow_smtp_*,
airflow_alert_webhook_url and airflow_alert_webhook_kind); the role writes them into the
Airflow variable ``mlops_alerts`` and the connections it names:

    {"email_to": ["ml-team@example.com"], "smtp_conn_id": "smtp_default",
     "webhook_conn_id": "mlops_alerts_webhook", "webhook_kind": "slack",
     "ui_url": "https://airflow.example.com"}

No variable or no channel (a laptop, the DAG tests' own runs): the failure is logged, nothing
is sent. A callback never raises: a relay or webhook that does not answer is logged in the
task's log, and the task's own error stays what the log and the UI show.

This file holds no DAG; it sits in dags/ so that the DAGs import it by name (the airflow role
puts the deployed DAG folder on the path of Airflow's Python).
"""

from __future__ import annotations

import logging
import urllib.parse
from typing import Any

log = logging.getLogger(__name__)

# The Airflow variable the airflow role writes (airflow_alert_* and airflow_smtp_* variables).
SETTINGS_VARIABLE = "mlops_alerts"
WEBHOOK_KINDS = ("slack", "http")
# An error message longer than this is cut in the alert (the task log has all of it).
ERROR_CHARS = 1000


def alert_settings() -> dict[str, Any]:
    """The channels the operator configured; {} when none (or the variable is unreadable)."""
    from airflow.sdk import Variable

    try:
        settings = Variable.get(SETTINGS_VARIABLE, default="{}", deserialize_json=True)
    except Exception:  # a variable that is not JSON: say so, send nothing
        log.exception("Airflow variable %s is not JSON; no alert is sent", SETTINGS_VARIABLE)
        return {}
    return settings if isinstance(settings, dict) else {}


def failure_facts(context: dict[str, Any], ui_url: str = "") -> dict[str, Any]:
    """What an alert says: DAG, task, run, try, error and the log's address (at ui_url, when given)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    if error is None and context.get("reason"):  # a DAG-level callback: the run failed as a whole
        error = context["reason"]
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "error": _error_text(error),
        "log_url": _log_url(ti, ui_url),
    }


def _error_text(error: Any) -> str | None:
    if error is None:
        return None
    text = f"{type(error).__name__}: {error}" if isinstance(error, BaseException) else str(error)
    return text if len(text) <= ERROR_CHARS else text[:ERROR_CHARS] + " [...]"


def _log_url(ti: Any, ui_url: str) -> str | None:
    """Airflow's link to the task's log, on the UI's address: Airflow builds it on [api] base_url,
    which the role leaves alone (the UI serves on whatever address reaches it)."""
    try:
        url = getattr(ti, "log_url", None)
    except Exception:  # no way to build it: the alert goes without it
        log.exception("No log URL for the alert")
        return None
    if url and ui_url and "/dags/" in url:
        url = ui_url.rstrip("/") + url[url.index("/dags/") :]
    return url


def subject(facts: dict[str, Any]) -> str:
    what = f"task {facts['dag_id']}.{facts['task_id']}" if facts["task_id"] else f"DAG {facts['dag_id']}"
    return f"[Airflow] {what} failed (run {facts['run_id']}, try {facts['try_number']})"


def text(facts: dict[str, Any]) -> str:
    """The message, plain text: the subject, then one line per fact."""
    lines = [subject(facts)]
    for key, label in (
        ("dag_id", "DAG"),
        ("task_id", "Task"),
        ("run_id", "Run"),
        ("try_number", "Try"),
        ("error", "Error"),
        ("log_url", "Log"),
    ):
        if facts[key] is not None:
            lines.append(f"{label}: {facts[key]}")
    return "\n".join(lines)


def send_email(settings: dict[str, Any], facts: dict[str, Any]) -> None:
    import html

    from airflow.providers.smtp.hooks.smtp import SmtpHook

    body = f"<pre>{html.escape(text(facts))}</pre>"
    if facts["log_url"]:
        body += f'<p><a href="{html.escape(facts["log_url"], quote=True)}">Open the task log</a></p>'
    with SmtpHook(smtp_conn_id=settings.get("smtp_conn_id") or "smtp_default") as hook:
        hook.send_email_smtp(to=settings["email_to"], subject=subject(facts), html_content=body)


def send_webhook(settings: dict[str, Any], facts: dict[str, Any]) -> None:
    import json

    conn_id, kind = settings["webhook_conn_id"], settings.get("webhook_kind") or "slack"
    if kind == "slack":
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        SlackWebhookHook(slack_webhook_conn_id=conn_id).send(text=text(facts))
    elif kind == "http":
        from airflow.providers.http.hooks.http import HttpHook

        hook = HttpHook(method="POST", http_conn_id=conn_id)
        # The role keeps the whole URL in the password (a secret) and its origin in the host,
        # the hook's base URL: post to the rest. A connection made by hand with the URL in
        # the host and no password posts to the host.
        url = urllib.parse.urlsplit(hook.get_connection(conn_id).password or "")
        endpoint = url.path + (f"?{url.query}" if url.query else "") if url.scheme else None
        # "text" first: chat tools with Slack-compatible webhooks (Mattermost, Rocket.Chat)
        # show it; anything else reads the fields.
        payload = {"text": text(facts), **facts}
        hook.run(endpoint=endpoint, data=json.dumps(payload), headers={"Content-Type": "application/json"})
    else:
        raise ValueError(f"webhook_kind {kind!r} in {SETTINGS_VARIABLE}: expected one of {', '.join(WEBHOOK_KINDS)}")


def notify_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: send the failure to every configured channel; never raise."""
    try:
        settings = alert_settings()
        facts = failure_facts(context, settings.get("ui_url") or "")
        channels = []
        if settings.get("email_to"):
            channels.append(("e-mail", send_email))
        if settings.get("webhook_conn_id"):
            channels.append(("webhook", send_webhook))
        if not channels:
            log.warning("%s; no alert channel is configured (Airflow variable %s)", subject(facts), SETTINGS_VARIABLE)
            return
        for name, send in channels:
            try:
                send(settings, facts)
                log.info("Failure alert sent by %s", name)
            except Exception:  # one dead channel must not stop the others, nor fail the callback
                log.exception("Failure alert by %s not sent", name)
    except Exception:
        log.exception("Failure alert not sent")
