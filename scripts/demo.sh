#!/usr/bin/env bash
# `make demo`: a fresh store, a synthetic multi-source world, its import, and a summary.
# Environment (set by the Makefile): ATHAR_DEMO_DIR (output directory, recreated),
# DEMO_PERSONS (size of the synthetic population). Uses .venv/bin/athar.
set -euo pipefail
cd "$(dirname "$0")/.."
ATHAR=.venv/bin/athar
DIR="${ATHAR_DEMO_DIR:-demo-output}"
PERSONS="${DEMO_PERSONS:-3000}"

rm -rf "$DIR"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
export ATHAR_DATABASE_URL="sqlite:///$DIR/athar.db"
export ATHAR_ACTOR="${ATHAR_ACTOR:-demo}"
started=$(date +%s)

echo "== 1/4 store: $ATHAR_DATABASE_URL"
"$ATHAR" db upgrade

echo "== 2/4 synthetic world: $PERSONS persons, seed 7 (synthetic data only)"
if ! "$ATHAR" synth --help >/dev/null 2>&1; then
  echo "ERROR: 'athar synth' is not available in this checkout" >&2
  exit 1
fi
"$ATHAR" synth "$DIR/world" --persons "$PERSONS" --seed 7

# The lists are <source>.csv; truth, persons and contacts are the generator's answer key.
lists=()
for f in "$DIR"/world/*.csv; do
  case "$(basename "$f")" in
    truth.csv | persons.csv | contacts.csv) ;;
    *) lists+=("$f") ;;
  esac
done
if [ "${#lists[@]}" -eq 0 ]; then
  echo "ERROR: the generator wrote no lists in $DIR/world" >&2
  exit 1
fi

echo "== 3/4 import ${#lists[@]} lists"
set +e
"$ATHAR" import "${lists[@]}" --report "$DIR/import-problems.csv" >"$DIR/import-report.txt"
rc=$?
set -e
{ grep -E "^(/|total|problem report)" "$DIR/import-report.txt" || true; } | sed "s|$DIR/||g"
case $rc in
  0) echo "every row stored" ;;
  1) echo "some rows were quarantined with their reasons (exit 1 means exactly that)" ;;
  *) echo "ERROR: import failed (exit $rc); see $DIR/import-report.txt" >&2; exit "$rc" ;;
esac

echo "== 4/4 summary"
"$ATHAR" db status
error_line=$',error\r?$'  # the report is RFC 4180 CSV (CRLF line ends)
errors=$(grep -cE "$error_line" "$DIR/import-problems.csv" || true)
if [ "${errors:-0}" -gt 0 ]; then
  echo "first quarantine reasons (file,row,column,reason,severity):"
  grep -E "$error_line" "$DIR/import-problems.csv" | head -n 5 | tr -d '\r' | sed 's/^/  /'
fi
"$ATHAR" audit verify
cat <<EOT

Results (took $(( $(date +%s) - started )) s):
  store (SQLite)        $DIR/athar.db   (ATHAR_DATABASE_URL=$ATHAR_DATABASE_URL)
  import report         $DIR/import-report.txt
  every problem found   $DIR/import-problems.csv   (file, row, column, reason, severity)
  synthetic world       $DIR/world/   (truth.csv says which records are the same person)
EOT
