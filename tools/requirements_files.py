"""The requirements files a pip install reads, for the stamp of a virtualenv (scripts/lib/common.sh).

    requirements_files.py PIP_ARGUMENT...
Prints, one per line, the -r and -c files among pip install's arguments and, in turn, the
files those include with -r or -c lines, each once, in the order pip meets them.
"""

from __future__ import annotations

import itertools
import pathlib
import sys


def requirements_files(args: list[str]) -> list[pathlib.Path]:
    seen: list[pathlib.Path] = []

    def visit(path: pathlib.Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.append(path)
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0] in ("-r", "-c"):
                visit(path.parent / words[1])

    for flag, value in itertools.pairwise(args):
        if flag in ("-r", "-c"):
            visit(pathlib.Path(value))
    return seen


if __name__ == "__main__":
    print("\n".join(map(str, requirements_files(sys.argv[1:]))))
