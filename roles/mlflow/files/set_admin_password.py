"""Set the basic-auth admin's password in MLflow's auth database to the configured one.

Why: MLflow takes admin_password from its auth configuration only when it creates the admin,
so a changed password in the inventory would otherwise never reach the server. Reads the same
configuration file as the server (MLFLOW_AUTH_CONFIG_PATH); prints "changed" or "unchanged".
"""

from mlflow.server.auth.config import read_auth_config
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

config = read_auth_config()
store = SqlAlchemyStore()
store.init_db(config.database_uri)
if store.authenticate_user(config.admin_username, config.admin_password):
    print("unchanged")
elif store.has_user(config.admin_username):
    store.update_user(config.admin_username, password=config.admin_password, is_admin=True)
    print("changed")
else:
    store.create_user(config.admin_username, config.admin_password, is_admin=True)
    print("changed")
