"""Write the names of the settings each shipped PostgreSQL major knows, from the server itself.

For every major in MAJORS it starts a throwaway container from the local systemd image of
the Debian release that ships that major, installs the server from Debian's mirror, runs
`postgres --describe-config` and writes the sorted setting names (the first column) to
roles/postgresql/files/settings/<major>.txt, after one comment line naming the commands.
--describe-config leaves out the developer options (zero_damaged_pages, ignore_checksum_failure,
...), which postgresql.conf accepts too, so the names of pg_settings in the cluster the package
created (started in the container) are added. The postgresql role's preflight refuses
postgresql_settings names missing from the list.

Usage: python3 tools/postgresql_settings_lists.py [MAJOR ...]   (default: every major below)
Needs docker and the images datatech-mlops/systemd-debian:12 and :13 (the Molecule platform).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "roles/postgresql/files/settings"
# major -> the image whose Debian release ships it (as in roles/postgresql/vars/main.yml).
MAJORS = {"15": "datatech-mlops/systemd-debian:12", "17": "datatech-mlops/systemd-debian:13"}
SCRIPT = (
    "set -e; export DEBIAN_FRONTEND=noninteractive; "
    "apt-get update -qq >/dev/null; "
    "apt-get install -y -qq --no-install-recommends postgresql-{major} >/dev/null; "
    "/usr/lib/postgresql/{major}/bin/postgres --describe-config | cut -f1; "
    "pg_ctlcluster {major} main start; "
    "su postgres -c \"psql -Atc 'SELECT name FROM pg_settings'\"; "
    "pg_ctlcluster {major} main stop"
)


def setting_names(major: str, image: str) -> list[str]:
    """The names --describe-config prints (tab-separated, name first) and those of pg_settings."""
    command = ["docker", "run", "--rm", "--entrypoint", "/bin/bash", image, "-c", SCRIPT.format(major=major)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    names = sorted({line.split("\t", 1)[0] for line in output.splitlines() if line.strip()})
    if len(names) < 100:
        raise SystemExit(f"PostgreSQL {major}: only {len(names)} names from --describe-config; not written.")
    return names


def write(major: str, image: str) -> Path:
    names = setting_names(major, image)
    header = (
        f"# Made by tools/postgresql_settings_lists.py: /usr/lib/postgresql/{major}/bin/postgres "
        f"--describe-config | cut -f1, and SELECT name FROM pg_settings, (postgresql-{major} from Debian "
        f"in {image}), sorted.\n"
    )
    path = OUT_DIR / f"{major}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(f"{name}\n" for name in names))
    return path


def main(argv: list[str]) -> int:
    majors = argv or list(MAJORS)
    unknown = [major for major in majors if major not in MAJORS]
    if unknown:
        raise SystemExit(f"no image for PostgreSQL {', '.join(unknown)}; known: {', '.join(MAJORS)}")
    for major in majors:
        print(write(major, MAJORS[major]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
