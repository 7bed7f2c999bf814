"""Archive MLflow's artifact folder, for mlflow-backup.service (its timer, or the role's
backup entry point): <backup_dir>/artifacts-<UTC time>.tar.gz, written under a temporary
name, read back whole (every member, the gzip checksum) before it takes its name, then only
the newest <keep> archives kept. The settings come from a JSON file the role writes
(source, backup_dir, keep): no path passes through systemd's quoting. Prints the archive."""

import gzip
import json
import os
import sys
import tarfile
import time

# Members are stored under this top folder, whatever the artifact folder is called: a
# restore into another mlflow_artifacts_dir strips it.
TOP = "artifacts"


def read_back(path):
    """Fail (an exception) unless the whole archive decompresses and lists."""
    with gzip.open(path) as stream:
        while stream.read(1 << 20):
            pass
    with tarfile.open(path) as archive:
        archive.getmembers()


def prune(backup_dir, keep):
    archives = sorted(
        name for name in os.listdir(backup_dir) if name.startswith(TOP + "-") and name.endswith(".tar.gz")
    )
    for name in archives[:-keep]:
        os.unlink(os.path.join(backup_dir, name))


def main(config_path):
    with open(config_path) as config_file:
        config = json.load(config_file)
    name = time.strftime(TOP + "-%Y%m%dT%H%M%SZ.tar.gz", time.gmtime())
    final = os.path.join(config["backup_dir"], name)
    partial = os.path.join(config["backup_dir"], "." + name + ".partial")
    try:
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(config["source"], arcname=TOP)
        read_back(partial)
        os.replace(partial, final)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    prune(config["backup_dir"], int(config["keep"]))
    print(final)


if __name__ == "__main__":
    main(sys.argv[1])
