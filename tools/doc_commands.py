"""Print the commands of a handbook page's tested blocks, one per line, in page order.

A tested block is a fenced block opened as ```bash title="NAME"```; scripts/lib/quickstart.sh
runs what this prints. Comment lines and blank lines are left out; a line ending in a
backslash goes on in the next one.

Usage: python3 tools/doc_commands.py PAGE NAME      (PAGE: a Markdown file, NAME: the title)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

FENCE = re.compile(r'^(?P<indent> *)```bash title="(?P<title>[^"]+)"\s*$')


def commands(page: Path, title: str) -> list[str]:
    out: list[str] = []
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        i += 1
        if not match:
            continue
        indent = len(match["indent"])
        pending = ""
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i][indent:].rstrip()
            i += 1
            if match["title"] != title or (not pending and (not line.strip() or line.lstrip().startswith("#"))):
                continue
            if line.endswith("\\"):
                pending += line[:-1].rstrip() + " "
                continue
            out.append(pending + line.strip())
            pending = ""
        if pending:
            raise ValueError(f"{page}: a command in block {title!r} ends in a backslash")
        i += 1
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    found = commands(Path(argv[0]), argv[1])
    if not found:
        print(f"{argv[0]}: no block titled {argv[1]!r}", file=sys.stderr)
        return 1
    print("\n".join(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
