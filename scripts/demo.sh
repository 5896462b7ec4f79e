#!/usr/bin/env bash
# `make demo`: a fresh store, a synthetic multi-source world, its import, its linkage into
# persons, an administrator for the web app, and a summary.
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

echo "== 1/6 store: $ATHAR_DATABASE_URL"
"$ATHAR" db upgrade

echo "== 2/6 synthetic world: $PERSONS persons, seed 7 (synthetic data only)"
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

echo "== 3/6 import ${#lists[@]} lists"
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

echo "== 4/6 link the store's records into persons (athar link; the run is recorded)"
link_started=$(date +%s)
if ! "$ATHAR" link --actor "$ATHAR_ACTOR" >"$DIR/link-summary.json" 2>"$DIR/link-log.txt"; then
  echo "ERROR: athar link failed; see $DIR/link-log.txt:" >&2
  tail -n 20 "$DIR/link-log.txt" >&2
  exit 1
fi
link_seconds=$(( $(date +%s) - link_started ))
persons_line=$(.venv/bin/python - "$DIR/link-summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"{s['records']} current records -> {s['persons']} persons found "
      f"({s['automatic_decisions']} automatic link decisions, threshold {s['threshold']}, "
      f"link run {s['link_run']})")
PY
)
echo "$persons_line  [${link_seconds} s]"

echo "== 5/6 web app: a key file and an administrator with a generated password"
"$ATHAR" keys generate "$DIR/keys.json" >/dev/null
export ATHAR_KEY_FILE="$DIR/keys.json"
"$ATHAR" users add --role admin --name admin >"$DIR/admin.txt"
admin_password=$(sed -n 's/^password: //p' "$DIR/admin.txt")
rm -f "$DIR/admin.txt"  # the password is shown once, below; not left in a file
if [ -z "$admin_password" ]; then
  echo "ERROR: 'athar users add' printed no password" >&2
  exit 1
fi
echo "administrator 'admin' created"

echo "== case work for the first login: staff, tracing requests, unidentified bodies"
casework=$(.venv/bin/python scripts/demo_casework.py "$DIR/world")
echo "$casework"
staff_logins=$(echo "$casework" | awk '$1 == "caseworker" || $1 == "reviewer" {printf "  user: %-11s password: %s\n", $1, $3}')
# the new subjects get their candidates as the app would give them: on the model of run 1
"$ATHAR" link --incremental --actor "$ATHAR_ACTOR" >"$DIR/link-incremental.json" 2>>"$DIR/link-log.txt"
echo "candidates scored for the new requests and bodies (incremental link run)"

echo "== 6/6 summary"
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
  persons               $persons_line
  store (SQLite)        $DIR/athar.db   (ATHAR_DATABASE_URL=$ATHAR_DATABASE_URL)
  import report         $DIR/import-report.txt
  every problem found   $DIR/import-problems.csv   (file, row, column, reason, severity)
  linkage run           $DIR/link-summary.json
  synthetic world       $DIR/world/   (truth.csv says which records are the same person)
  key file              $DIR/keys.json   (keep it: encrypted fields need it)

Open the web app on this store (development mode, plain HTTP on this machine only):
  ATHAR_DATABASE_URL=$ATHAR_DATABASE_URL ATHAR_KEY_FILE=$ATHAR_KEY_FILE $(pwd)/$ATHAR serve --dev
then browse to http://127.0.0.1:8000/ and log in as
  user: admin       password: $admin_password
$staff_logins
(passwords generated now and shown only here; Athar keeps only their hashes)
EOT
