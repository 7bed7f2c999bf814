"""The lab's Airflow REST API (published on 127.0.0.1:18080) for the test and benchmark scripts.

Every wait here is a bounded poll that ends with a message saying what did not happen.

    lab_api.py health [--timeout S]
        Wait until the API server answers its health check.
    lab_api.py time-to-runnable DAG_ID START [--timeout S]
        START is a Unix time (the deploy job's start). Wait until the API lists DAG_ID unpaused,
        trigger a run with no logical date, wait for it to succeed; print the seconds from START
        to both events: "RUNNABLE_S RUN_S".
The admin password is read from .build/lab/secrets/airflow_admin_password.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = "http://127.0.0.1:18080"
PASSWORD_FILE = pathlib.Path(__file__).resolve().parent.parent / ".build/lab/secrets/airflow_admin_password"


def request(method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(
        urllib.request.Request(BASE + path, data, headers, method=method), timeout=10
    ) as answer:
        return json.load(answer)


def poll(what: str, probe, timeout: float, interval: float = 0.5):
    """probe() until it returns something other than None; SystemExit naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (OSError, urllib.error.URLError, ValueError, KeyError) as error:
            result, last_error = None, str(error)
        if result is not None:
            return result
        time.sleep(interval)
    raise SystemExit(f"lab_api: {what} did not happen within {timeout:.0f} s (last error: {last_error})")


def token() -> str:
    password = PASSWORD_FILE.read_text().strip()
    return request("POST", "/auth/token", {"username": "admin", "password": password})["access_token"]


def health(timeout: float) -> None:
    poll("the API server's health check", lambda: request("GET", "/api/v2/monitor/health") or None, timeout, 2)


def time_to_runnable(dag_id: str, start: float, timeout: float) -> tuple[float, float]:
    bearer = token()
    dag_path = f"/api/v2/dags/{urllib.parse.quote(dag_id, safe='')}"

    def unpaused():
        return True if request("GET", dag_path, token=bearer)["is_paused"] is False else None

    poll(f"{dag_id} listed unpaused", unpaused, timeout)
    runnable_s = time.time() - start
    run_id = request("POST", f"{dag_path}/dagRuns", {"logical_date": None}, bearer)["dag_run_id"]
    run_path = f"{dag_path}/dagRuns/{urllib.parse.quote(run_id, safe='')}"

    def finished():
        state = request("GET", run_path, token=bearer)["state"]
        return state if state in ("success", "failed") else None

    if poll(f"the run {run_id} of {dag_id} finishing", finished, timeout) != "success":
        raise SystemExit(f"lab_api: the run {run_id} of {dag_id} failed")
    return round(runnable_s, 1), round(time.time() - start, 1)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    health_parser = commands.add_parser("health")
    health_parser.add_argument("--timeout", type=float, default=180)
    runnable_parser = commands.add_parser("time-to-runnable")
    runnable_parser.add_argument("dag_id")
    runnable_parser.add_argument("start", type=float)
    runnable_parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)
    if args.command == "health":
        health(args.timeout)
    else:
        print(*time_to_runnable(args.dag_id, args.start, args.timeout))


if __name__ == "__main__":
    main(sys.argv[1:])
