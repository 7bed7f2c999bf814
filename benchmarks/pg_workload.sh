#!/usr/bin/env bash
# Runs inside the benchmark container as root: loads fresh data (so no run inherits the
# previous one's dead rows), then times an analytic query and pgbench under the server's
# current settings. Prints "query_s=<median> tps=<tps>".
set -euo pipefail
DB=bench
psql_() { sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 "$@"; }

sudo -u postgres dropdb --if-exists "$DB"
sudo -u postgres createdb "$DB"
# 3 million rows in pgbench_accounts (vacuumed by pgbench -i), plus a dimension table.
sudo -u postgres pgbench -i -q -s 30 "$DB" >/dev/null 2>&1
psql_ -d "$DB" -c "CREATE TABLE regions AS SELECT g AS bid, 'region-' || (g % 7) AS region FROM generate_series(1, 30) g" -c "VACUUM ANALYZE"

QUERY="SELECT r.region, count(*), sum(a.abalance), avg(length(a.filler))
       FROM pgbench_accounts a JOIN regions r USING (bid)
       WHERE a.aid % 3 <> 0 GROUP BY r.region ORDER BY r.region"
psql_ -d "$DB" -c "$QUERY" >/dev/null   # warm the cache
times=()
for _ in 1 2 3 4 5; do
  start=$(date +%s.%N)
  psql_ -d "$DB" -c "$QUERY" >/dev/null
  times+=("$(python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.3f}")' "$start")")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
tps=$(sudo -u postgres pgbench -c 4 -j 2 -T 20 "$DB" 2>/dev/null |
  python3 -c 'import re, sys; print(re.search(r"^tps = ([0-9.]+)", sys.stdin.read(), re.M).group(1))')
printf 'query_s=%.3f tps=%.1f\n' "$median" "$tps"
