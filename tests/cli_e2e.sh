#!/usr/bin/env bash
# End-to-end test of the cloudaudit command line as a user runs it: the fake
# AWS endpoint serves the recorded demo account (demo/aws) and verifies every
# request's signature; cloudaudit calls it, collects, queries and exports.
# Usage: cli_e2e.sh CLOUDAUDIT FAKE_AWS
set -euo pipefail
cloudaudit=$1
fake=$2
cd "$(dirname "$0")/.."
work=$(mktemp -d)
slow_pid=
trap 'kill $fake_pid $slow_pid 2>/dev/null || true; rm -rf "$work"' EXIT
. tests/lib/demo_endpoint.sh
start_demo_endpoint "$fake" "$work"
. tests/lib/checks.sh

check "whoami prints the account" bash -c "'$cloudaudit' whoami | grep -q '\"Account\": \"123456789012\"'"
check "aws prints like the AWS CLI" bash -c "'$cloudaudit' aws iam list-users --all-pages | head -1 | grep -qx '{'"
check "unknown operation suggests" bash -c "'$cloudaudit' aws iam ListUser 2>&1 | grep -q 'did you mean ListUsers'"
check "unknown operation exits 252" expect_rc 252 "$cloudaudit" aws iam ListUser
check "mutating call is refused" expect_rc 252 "$cloudaudit" aws iam DeleteUser --param UserName=x
check "refusal says why" grep -q "only makes read-only calls" "$work/err"
check "bad parameter type exits 252" expect_rc 252 "$cloudaudit" aws iam ListUsers --param MaxItems=ten
check "collect succeeds" expect_rc 0 "$cloudaudit" collect --out "$work/inv.db" --regions us-east-1 --quiet
check "query csv" bash -c "'$cloudaudit' query --db '$work/inv.db' --format csv 'SELECT name FROM aws_s3_bucket ORDER BY name' | head -1 | grep -qx name"
check "query sees every bucket" bash -c "[ \$('$cloudaudit' query --db '$work/inv.db' --format csv 'SELECT count(*) AS n FROM aws_s3_bucket' | tail -1) -eq 3 ]"
check "query refuses writes" expect_rc 252 "$cloudaudit" query --db "$work/inv.db" "DELETE FROM resources"
check "export writes one line per resource" bash -c "
  n=\$('$cloudaudit' query --db '$work/inv.db' --format csv 'SELECT count(*) FROM resources' | tail -1)
  '$cloudaudit' export --db '$work/inv.db' --out '$work/inv.jsonl' 2>/dev/null
  [ \$(wc -l < '$work/inv.jsonl') -eq \"\$n\" ] && head -1 '$work/inv.jsonl' | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); assert d[\"type\"] and \"data\" in d'"
check "tables documents columns" bash -c "'$cloudaudit' tables aws_iam_user | grep -q '^  user_name'"
"$cloudaudit" permissions >"$work/policy.json" 2>"$work/policy.err" || true
check "permissions is valid JSON" python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); assert "s3:ListAllMyBuckets" in p["Statement"][0]["Action"]' "$work/policy.json"
check "permissions notes managed policies on stderr" grep -E -q '^SecurityAudit covers [0-9]+ of [0-9]+ actions, ViewOnlyAccess [0-9]+' "$work/policy.err"
check "permissions coverage names each action" bash -c "'$cloudaudit' permissions --format coverage | grep -E -q '^s3:GetBucketPolicy +yes +-$'"
check "permissions supplement is the smaller policy" bash -c "'$cloudaudit' permissions --format supplement 2>/dev/null | python3 -c '
import json, sys
full = json.load(open(sys.argv[1]))[\"Statement\"][0][\"Action\"]
extra = json.load(sys.stdin)[\"Statement\"][0][\"Action\"]
assert 0 < len(extra) < len(full) and set(extra) < set(full) and \"s3:GetBucketPolicy\" not in extra, extra' '$work/policy.json'"

# A collection killed with kill -9 reads as incomplete, not running: a slow
# endpoint (300 ms per answer) keeps it busy long enough to be killed.
"$fake" --port 0 --responses demo/aws --latency-ms 300 >"$work/slow.out" 2>/dev/null &
slow_pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/slow.out" 2>/dev/null && break; sleep 0.05; done
slow_endpoint=$(sed -n 's/^listening on //p' "$work/slow.out")
sql() {  # sql DB QUERY: the file read with plain SQLite, as another tool would
  python3 - "$@" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()
print("\n".join("|".join(map(str, r)) for r in rows))
PY
}
AWS_ENDPOINT_URL="$slow_endpoint" "$cloudaudit" collect --out "$work/killed.db" --regions us-east-1 --quiet &
collect_pid=$!
for _ in $(seq 1 2400); do  # until the scan has rows (the specs load first: seconds in a sanitizer build)
  [ "$(sql "$work/killed.db" "SELECT count(*) FROM resources" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
  sleep 0.05
done
check "collecting scan records its process" test "$(sql "$work/killed.db" "SELECT status, pid FROM scans")" = "running|$collect_pid"
kill -9 "$collect_pid"
wait "$collect_pid" 2>/dev/null || true
check "killed scan reads as incomplete" test "$("$cloudaudit" query --db "$work/killed.db" --format csv "SELECT status FROM scans" | tail -1)" = incomplete
check "a reader does not write it" test "$(sql "$work/killed.db" "SELECT status FROM scans")" = running
check "the next collection succeeds" expect_rc 0 "$cloudaudit" collect --out "$work/killed.db" --regions us-east-1 --quiet
check "and records the killed scan as incomplete" test "$(sql "$work/killed.db" "SELECT status FROM scans WHERE id = 1")" = incomplete
check "the new scan is finished" bash -c '[[ $1 =~ ^(complete|partial)$ ]]' _ "$(sql "$work/killed.db" "SELECT status FROM scans WHERE id = 2")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
