"""Arithmetic for scripts/bench, in Python rather than awk and bc.

bench_figures.py changed LOG [--after MARKER] [--before MARKER]
    The sum of changed= over the PLAY RECAP lines of LOG (an ansible-playbook output),
    only between the lines starting with MARKER (after) and MARKER (before) if given.
bench_figures.py seconds-since START
    Seconds from the Unix time START until now, one decimal.
bench_figures.py postgresql RESULT...
    RESULT is "stock|tuned query_s=X tps=Y" (one per run, in ABBA pairs: stock tuned,
    tuned stock, ...). Prints the medians per configuration and, per figure, the median
    over the pairs of tuned/stock for tps and stock/tuned for the query time (above 1:
    the role's settings are faster), as shell assignments: sq= tq= st= tt= query_ratio= tps_ratio=.
"""

from __future__ import annotations

import re
import statistics
import sys
import time

RECAP = re.compile(r"^\S+\s+:\s+ok=\d+\s+changed=(\d+)")


def changed(log: str, after: str | None = None, before: str | None = None) -> int:
    total, inside = 0, after is None
    with open(log, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if after is not None and line.startswith(after):
                inside = True
            elif before is not None and line.startswith(before):
                inside = False
            elif inside and (match := RECAP.match(line)):
                total += int(match.group(1))
    return total


def parse(result: str) -> tuple[str, dict[str, float]]:
    config, *pairs = result.split()
    return config, {key: float(value) for key, value in (pair.split("=", 1) for pair in pairs)}


def postgresql(results: list[str]) -> dict[str, float]:
    runs = [parse(result) for result in results]
    by_config = {config: [values for name, values in runs if name == config] for config in ("stock", "tuned")}
    query_ratios, tps_ratios = [], []
    for first, second in zip(runs[::2], runs[1::2], strict=True):
        stock, tuned = (first[1], second[1]) if first[0] == "stock" else (second[1], first[1])
        query_ratios.append(stock["query_s"] / tuned["query_s"])
        tps_ratios.append(tuned["tps"] / stock["tps"])
    return {
        "sq": statistics.median(values["query_s"] for values in by_config["stock"]),
        "tq": statistics.median(values["query_s"] for values in by_config["tuned"]),
        "st": statistics.median(values["tps"] for values in by_config["stock"]),
        "tt": statistics.median(values["tps"] for values in by_config["tuned"]),
        "query_ratio": statistics.median(query_ratios),
        "tps_ratio": statistics.median(tps_ratios),
    }


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "changed":
        log, options = args[0], dict(zip(args[1::2], args[2::2], strict=True))
        print(changed(log, options.get("--after"), options.get("--before")))
    elif command == "seconds-since":
        print(f"{time.time() - float(args[0]):.1f}")
    elif command == "postgresql":
        for name, value in postgresql(args).items():
            print(f"{name}={value:.4f}")
    else:
        raise SystemExit(f"bench_figures: unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
