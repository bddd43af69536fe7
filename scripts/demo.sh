#!/usr/bin/env bash
# The main job: installs what is missing, builds cloudaudit, starts the fake
# AWS endpoint with the recorded demo account (demo/aws) and calls it through
# the real client — signing, wire protocols, parsing — as a user would, then
# scans it (collect, evaluate, store, report) and writes the HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target cloudaudit cloudaudit-fake-aws -- -j2

BIN=build/release
log=$(mktemp)
"$BIN/tests/cloudaudit-fake-aws" --port 0 --responses demo/aws >"$log" 2>"$log.requests" &
fake_pid=$!
trap 'kill $fake_pid 2>/dev/null || true; rm -f "$log" "$log.requests"' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$log" 2>/dev/null && break
  sleep 0.05
done
endpoint=$(sed -n 's/^listening on //p' "$log")
[ -n "$endpoint" ] || { echo "the fake AWS endpoint did not start" >&2; cat "$log.requests" >&2; exit 1; }

# Credentials of the recorded account (the AWS documentation's example keys);
# the fake endpoint verifies every request's SigV4 signature with them.
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
export AWS_ENDPOINT_URL="$endpoint"

run() {
  echo "\$ cloudaudit $*"
  "$BIN/src/cli/cloudaudit" "$@"
  echo
}
echo "Demo account served by the fake AWS endpoint at $endpoint"
echo
out="$PWD/build/demo"
mkdir -p "$out"
rm -f "$out"/demo.db* "$out"/cloudaudit-123456789012-scan*
run whoami
run aws iam ListUsers --all-pages
# Threat detection: the demo account's CloudTrail log through the Sigma rule
# pack (exit 1: alerts found); the alerts join the scan's reports.
run threats demo/cloudtrail --db "$out/demo.db" || [ $? -eq 1 ]
# The whole pipeline in one command: collection over the AWS wire protocols,
# every rule, the store, the summary and the reports. The demo account was
# recorded on 2023-02-01: ages are evaluated as of then.
run scan --no-config --db "$out/demo.db" --regions us-east-1,eu-west-1 --as-of 2023-02-01 \
  --format table,html,json,sarif,ocsf --out-dir "$out"
run query --db "$out/demo.db" "SELECT severity, rule_id, resource, remediation_cli FROM findings WHERE status = 'alarm' AND severity = 'critical' ORDER BY rule_id LIMIT 5"
echo "$(wc -l <"$log.requests") signed requests verified by the fake endpoint."
echo "Inventory and findings: $out/demo.db   (cloudaudit query --db ... \"SELECT ...\")"
echo "HTML report: $(ls "$out"/cloudaudit-123456789012-scan*.html)"
