"""Import every DAG file of a folder with Airflow's DagBag; print the failures, exit 1 if any.

Run with Airflow's python: check_dag_imports.py <folder>
"""

import sys

from airflow.dag_processing.dagbag import DagBag

# The release's own modules (dags/mlops_alerts.py, dags/mlops_common.py) first: the path of Airflow's Python names
# the deployed release, which this one is about to replace.
sys.path.insert(0, sys.argv[1])
# safe_mode=False: import every .py file, not only those that mention "dag" and "airflow".
bag = DagBag(dag_folder=sys.argv[1], safe_mode=False, load_op_links=False)
for path, error in sorted(bag.import_errors.items()):
    print(f"{path}:\n  " + str(error).strip().replace("\n", "\n  "))
print(f"{len(bag.dags)} DAGs imported, {len(bag.import_errors)} files failed", file=sys.stderr)
sys.exit(1 if bag.import_errors else 0)
