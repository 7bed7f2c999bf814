"""Ingest a batch of customer data into db01 and refuse it loudly when the data is bad.

A template for data-ingest DAGs. Each run is one batch, whose id is the run's logical date
(ISO 8601) where it has one, else the run id (a run started with no logical date):

    create_tables -> load_batch -> check_quality -> publish (asset mlops_customer_events)

``load_batch`` puts the batch into staging tables: from CSV files in the folder named by
the variable ``mlops_ingest_source_dir`` (``customers.csv`` and ``customer_events.csv``, a
header line with the columns below), or, when that variable is empty, from a generated
batch of ``mlops_ingest_customers`` synthetic customers. ``check_quality`` runs SQL checks
on the staged batch; any failure fails the task at once (no retries) with every failed check
in the message, and the batch stays in staging for inspection. Only a clean batch is
published, in one transaction that also lists it in ``<customers table>_batches``; the asset
event carries the batch id in its ``extra`` (``{"batch_id": ...}``), and the training DAG
(mlops_train_churn_model) trains on that batch.

A batch is the same data every time it is ingested (a retry, a cleared task, another run for
the same logical date): the generated batch's random seed comes from the batch id and its
clock from the run's logical date (or, in a run with no logical date, the time the run was
queued for, ``run_after``), never from the time the task happens to run; publishing replaces
the batch's earlier rows. A CSV batch is the files as they are.

Where things are: connection id, tables and the source folder come from Airflow variables
(defaults below); the database host is only in the Airflow connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Asset, dag, task
from mlops_alerts import notify_failure
from mlops_common import variables

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

# Imports that tasks need are inside the functions (airflint's rule): parsing this file,
# which the dag-processor does every few seconds, then costs no numpy or database driver.

# Published by this DAG; the training DAG is scheduled on it.
CUSTOMER_EVENTS = Asset("mlops_customer_events")

# Airflow variable -> default. Set them on air01 with the airflow role's airflow_variables.
SETTINGS = {
    "mlops_conn_id": "mlops_db",
    "mlops_customers_table": "ml.customers",
    "mlops_events_table": "ml.customer_events",
    "mlops_staging_schema": "staging",
    "mlops_ingest_source_dir": "",
    "mlops_ingest_customers": "2000",
}
PLANS = ("basic", "standard", "premium")
CHANNELS = ("web", "app", "store")
CUSTOMER_COLUMNS = ("customer_id", "plan", "tenure_months", "monthly_fee", "churned")
EVENT_COLUMNS = ("customer_id", "event_time", "amount", "channel", "support_ticket")


def staging_tables(settings: dict[str, str]) -> tuple[str, str]:
    """The staging tables of the customers and events tables: <staging schema>.<table>_incoming."""
    from mlops_common import staging_table, table_name

    customers = table_name(settings["mlops_customers_table"], "mlops_customers_table")
    events = table_name(settings["mlops_events_table"], "mlops_events_table")
    schema = settings["mlops_staging_schema"]
    return staging_table(schema, customers), staging_table(schema, events)


def batch_id(run_id: str, logical_date: datetime | None) -> str:
    """The batch a run ingests: its logical date (the same batch for every run of that date),
    else its run id."""
    return logical_date.isoformat() if logical_date else run_id


def batch_seed(batch_id: str) -> int:
    """A stable random seed per batch, so a retried run generates the same data."""
    import hashlib

    return int(hashlib.sha256(batch_id.encode()).hexdigest()[:8], 16)


def batch_time(logical_date: datetime | None, run_after: datetime) -> datetime:
    """The batch's clock: the run's logical date, or when the run was queued for (a run with no
    logical date). Both stay the same when the run is retried or cleared, unlike now()."""
    return logical_date or run_after


def generate_batch(seed: int, customers: int, as_of: datetime) -> tuple[list[tuple], list[tuple]]:
    """Synthetic customers and their last 90 days of events, with a churn label that depends on them.

    Short tenure, little activity, many support tickets and the basic plan make churn likelier,
    so a model has something to learn. Rows follow CUSTOMER_COLUMNS and EVENT_COLUMNS.
    """
    from datetime import timedelta

    import numpy as np

    rng = np.random.default_rng(seed)
    plan = rng.choice(PLANS, size=customers, p=[0.5, 0.35, 0.15])
    tenure = rng.integers(1, 73, size=customers)
    fee = np.select([plan == "basic", plan == "standard"], [9.99, 19.99], 39.99)
    activity = rng.gamma(2.0, 4.0, size=customers)
    ticket_rate = rng.beta(1.0, 8.0, size=customers)
    logit = (
        1.0 - 0.05 * tenure - 0.15 * activity + 6.0 * ticket_rate + 0.8 * (plan == "basic") - 0.6 * (plan == "premium")
    )
    churned = rng.random(customers) < 1.0 / (1.0 + np.exp(-logit))

    prefix = f"c{seed:08x}"
    customer_rows, event_rows = [], []
    for i in range(customers):
        customer_id = f"{prefix}-{i:05d}"
        customer_rows.append((customer_id, str(plan[i]), int(tenure[i]), float(fee[i]), bool(churned[i])))
        for _event in range(rng.poisson(activity[i])):
            event_time = as_of - timedelta(seconds=float(rng.uniform(0, 90 * 86400)))
            amount = round(float(rng.lognormal(3.0, 0.6)) * (1.5 if plan[i] == "premium" else 1.0), 2)
            channel = str(rng.choice(CHANNELS, p=[0.5, 0.35, 0.15]))
            event_rows.append(
                (customer_id, event_time.isoformat(), amount, channel, bool(rng.random() < ticket_rate[i]))
            )
    return customer_rows, event_rows


def read_csv_rows(path: Path, columns: tuple[str, ...]) -> list[tuple]:
    """Rows of a CSV file whose header must be exactly `columns`; empty cells become NULL."""
    import csv

    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = tuple(next(reader, ()))
        if header != columns:
            raise ValueError(f"{path}: header {','.join(header)!r}, expected {','.join(columns)!r}")
        return [tuple(cell if cell != "" else None for cell in row) for row in reader]


def copy_rows(hook, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Load rows with COPY (one round trip, the fast path into PostgreSQL); None becomes NULL."""
    import csv
    import os
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as handle:
        csv.writer(handle).writerows(["" if cell is None else cell for cell in row] for row in rows)
    try:
        hook.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", handle.name)
    finally:
        os.unlink(handle.name)


def quality_checks(customers: str, events: str, published_customers: str) -> dict[str, str]:
    """Check name -> SQL counting the offending rows of batch %(batch)s (0 means the check passed)."""
    batch = "batch_id = %(batch)s"
    null_customer = " OR ".join(f"{column} IS NULL" for column in CUSTOMER_COLUMNS)
    null_event = " OR ".join(f"{column} IS NULL" for column in EVENT_COLUMNS)
    return {
        "customers present": f"SELECT (count(*) = 0)::int FROM {customers} WHERE {batch}",
        "events present": f"SELECT (count(*) = 0)::int FROM {events} WHERE {batch}",
        "customer fields not null": f"SELECT count(*) FROM {customers} WHERE {batch} AND ({null_customer})",
        "customer ids unique": f"SELECT count(*) FROM (SELECT customer_id FROM {customers} WHERE {batch} "
        "GROUP BY customer_id HAVING count(*) > 1) AS duplicates",
        "plans known": f"SELECT count(*) FROM {customers} WHERE {batch} AND plan NOT IN ({', '.join(map(repr, PLANS))})",
        "tenure and fee in range": f"SELECT count(*) FROM {customers} WHERE {batch} "
        "AND (tenure_months NOT BETWEEN 0 AND 600 OR monthly_fee < 0)",
        "churn rate between 1% and 99%": f"SELECT (avg(churned::int) NOT BETWEEN 0.01 AND 0.99)::int FROM {customers} "
        f"WHERE {batch}",
        "event fields not null": f"SELECT count(*) FROM {events} WHERE {batch} AND ({null_event})",
        "amounts not negative": f"SELECT count(*) FROM {events} WHERE {batch} AND amount < 0",
        "channels known": f"SELECT count(*) FROM {events} WHERE {batch} AND channel NOT IN ({', '.join(map(repr, CHANNELS))})",
        "events not in the future": f"SELECT count(*) FROM {events} WHERE {batch} AND event_time > now() + interval '1 day'",
        "events of known customers": f"SELECT count(*) FROM {events} AS e WHERE e.{batch} "
        f"AND NOT EXISTS (SELECT 1 FROM {customers} AS c WHERE c.{batch} AND c.customer_id = e.customer_id) "
        f"AND NOT EXISTS (SELECT 1 FROM {published_customers} AS p WHERE p.customer_id = e.customer_id)",
    }


def failed_checks(results: dict[str, int]) -> list[str]:
    """The checks that found offending rows, as 'name (N rows)'."""
    return [f"{name} ({count} rows)" for name, count in results.items() if count]


@dag(
    dag_id="mlops_ingest_customers",
    description="Load a batch of customers and events into db01; refuse it on bad data",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["mlops", "ingest", "data-quality"],
    default_args={
        "owner": "ml-platform",
        "retries": 2,
        "retry_delay": pendulum.duration(minutes=1),
        "execution_timeout": pendulum.duration(minutes=15),
        "on_failure_callback": notify_failure,  # e-mail and webhook, as the operator configured
    },
    dagrun_timeout=pendulum.duration(minutes=60),
    doc_md=__doc__,
)
def mlops_ingest_customers():
    @task(multiple_outputs=False)
    def create_tables(settings: dict[str, str]) -> dict[str, str]:
        """Create the schemas, the published tables, their staging tables and the batch list when missing."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from mlops_common import batches_table, create_schema_sql, table_name

        customers = table_name(settings["mlops_customers_table"], "mlops_customers_table")
        events = table_name(settings["mlops_events_table"], "mlops_events_table")
        staged_customers, staged_events = staging_tables(settings)
        customer_columns = (
            "customer_id text, plan text, tenure_months integer, monthly_fee numeric(8, 2), churned boolean"
        )
        event_columns = (
            "customer_id text, event_time timestamptz, amount numeric(12, 2), channel text, support_ticket boolean"
        )
        schemas = sorted({name.split(".")[0] for name in (customers, events, staged_customers)})
        PostgresHook(postgres_conn_id=settings["mlops_conn_id"]).run(
            [create_schema_sql(schema) for schema in schemas]
            + [
                f"CREATE TABLE IF NOT EXISTS {staged_customers} (batch_id text NOT NULL, {customer_columns})",
                f"CREATE TABLE IF NOT EXISTS {staged_events} (batch_id text NOT NULL, {event_columns})",
                (
                    f"CREATE TABLE IF NOT EXISTS {customers} ({customer_columns}, batch_id text NOT NULL, "
                    "PRIMARY KEY (customer_id))"
                ),
                f"CREATE TABLE IF NOT EXISTS {events} ({event_columns}, batch_id text NOT NULL)",
                f"CREATE INDEX IF NOT EXISTS {events.split('.')[1]}_customer_idx ON {events} (customer_id)",
                f"CREATE INDEX IF NOT EXISTS {customers.split('.')[1]}_batch_idx ON {customers} (batch_id)",
                (
                    f"CREATE TABLE IF NOT EXISTS {batches_table(customers)} (batch_id text PRIMARY KEY, "
                    "published_at timestamptz NOT NULL, customers integer NOT NULL, events integer NOT NULL)"
                ),
            ]
        )
        return {"customers": staged_customers, "events": staged_events}

    @task(multiple_outputs=False)
    def load_batch(
        settings: dict[str, str],
        staged: dict[str, str],
        run_id: str | None = None,
        logical_date=None,
        dag_run=None,
    ) -> dict:
        """Put the batch into the staging tables (a retry replaces its own earlier rows)."""
        from pathlib import Path

        from airflow.providers.postgres.hooks.postgres import PostgresHook

        batch = batch_id(run_id, logical_date)
        source = settings["mlops_ingest_source_dir"]
        if source:
            customers = read_csv_rows(Path(source) / "customers.csv", CUSTOMER_COLUMNS)
            events = read_csv_rows(Path(source) / "customer_events.csv", EVENT_COLUMNS)
            print(f"batch {batch}: {len(customers)} customers and {len(events)} events from {source}")
        else:
            as_of = batch_time(logical_date, dag_run.run_after)
            print(f"batch {batch}: {settings['mlops_ingest_customers']} customers generated as of {as_of}")
            customers, events = generate_batch(batch_seed(batch), int(settings["mlops_ingest_customers"]), as_of)
        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        hook.run(
            [
                f"DELETE FROM {staged['customers']} WHERE batch_id = %(batch)s",
                f"DELETE FROM {staged['events']} WHERE batch_id = %(batch)s",
            ],
            parameters={"batch": batch},
        )
        copy_rows(hook, staged["customers"], ("batch_id", *CUSTOMER_COLUMNS), [(batch, *row) for row in customers])
        copy_rows(hook, staged["events"], ("batch_id", *EVENT_COLUMNS), [(batch, *row) for row in events])
        return {"batch_id": batch, "customers": len(customers), "events": len(events)}

    @task(retries=0, multiple_outputs=False)
    def check_quality(settings: dict[str, str], staged: dict[str, str], loaded: dict) -> dict:
        """Run every check on the staged batch; fail (without retrying) when any finds bad rows."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk.exceptions import AirflowFailException
        from mlops_common import table_name

        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        published = table_name(settings["mlops_customers_table"], "mlops_customers_table")
        results = {}
        for name, sql in quality_checks(staged["customers"], staged["events"], published).items():
            results[name] = int(hook.get_first(sql, parameters={"batch": loaded["batch_id"]})[0] or 0)
            print(f"{'FAILED' if results[name] else 'passed'}  {name}: {results[name]}")
        failed = failed_checks(results)
        if failed:
            raise AirflowFailException(
                f"Data quality: batch {loaded['batch_id']} ({loaded['customers']} customers, {loaded['events']} events) "
                f"refused, {len(failed)} of {len(results)} checks failed: {'; '.join(failed)}. "
                f"Nothing was published; the batch stays in {staged['customers']} and {staged['events']}."
            )
        return loaded

    @task(outlets=[CUSTOMER_EVENTS], multiple_outputs=False)
    def publish(settings: dict[str, str], staged: dict[str, str], checked: dict, outlet_events=None) -> dict:
        """Move the clean batch into the published tables and list it, in one transaction; the
        asset event names the batch, so that the training it triggers reads this batch."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from mlops_common import batches_table, table_name

        customers = table_name(settings["mlops_customers_table"], "mlops_customers_table")
        events = table_name(settings["mlops_events_table"], "mlops_events_table")
        columns = ", ".join(CUSTOMER_COLUMNS)
        updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in (*CUSTOMER_COLUMNS[1:], "batch_id"))
        PostgresHook(postgres_conn_id=settings["mlops_conn_id"]).run(
            [
                f"DELETE FROM {events} WHERE batch_id = %(batch)s",
                (
                    f"INSERT INTO {customers} ({columns}, batch_id) SELECT {columns}, batch_id "
                    f"FROM {staged['customers']} WHERE batch_id = %(batch)s ON CONFLICT (customer_id) DO UPDATE SET {updates}"
                ),
                (
                    f"INSERT INTO {events} ({', '.join(EVENT_COLUMNS)}, batch_id) SELECT {', '.join(EVENT_COLUMNS)}, batch_id "
                    f"FROM {staged['events']} WHERE batch_id = %(batch)s"
                ),
                (
                    f"INSERT INTO {batches_table(customers)} (batch_id, published_at, customers, events) "
                    "VALUES (%(batch)s, now(), %(customers)s, %(events)s) ON CONFLICT (batch_id) DO UPDATE "
                    "SET published_at = EXCLUDED.published_at, customers = EXCLUDED.customers, events = EXCLUDED.events"
                ),
                f"DELETE FROM {staged['customers']} WHERE batch_id = %(batch)s",
                f"DELETE FROM {staged['events']} WHERE batch_id = %(batch)s",
            ],
            parameters={"batch": checked["batch_id"], "customers": checked["customers"], "events": checked["events"]},
        )
        outlet_events[CUSTOMER_EVENTS].extra = checked
        return checked

    settings = variables(SETTINGS)
    staged = create_tables(settings)
    loaded = load_batch(settings, staged)
    publish(settings, staged, check_quality(settings, staged, loaded))


mlops_ingest_customers()
