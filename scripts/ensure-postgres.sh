#!/usr/bin/env bash
# Make sure the machine's PostgreSQL answers on 127.0.0.1:5432; start it if not.
# Fails loudly: the test suite runs every database test on PostgreSQL too and never skips it.
set -euo pipefail
host=127.0.0.1 port=5432
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then exit 0; fi
echo "PostgreSQL is not answering on $host:$port; starting it" >&2
if command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do
  pg_isready -q -h "$host" -p "$port" 2>/dev/null && exit 0
  sleep 1
done
echo "ERROR: PostgreSQL could not be started on $host:$port; the tests need it" >&2
exit 1
