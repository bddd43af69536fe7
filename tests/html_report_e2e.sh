#!/usr/bin/env bash
# End-to-end test of the HTML report as a person sees it: two scans of the
# recorded demo account with a change between them (EBS default encryption
# was on at the first), a suppression and a user rule whose texts carry
# markup, the report written by `cloudaudit report`, then opened in headless
# Chromium by html_report_e2e.py, which compares what the page shows with
# the store and keeps screenshots in ARTIFACTS.
# Usage: html_report_e2e.sh CLOUDAUDIT FAKE_AWS ARTIFACTS
# Exits 77 (skip) only when chromium cannot start.
set -euo pipefail
cloudaudit=$(realpath "$1")
fake=$(realpath "$2")
artifacts=$(realpath -m "$3")
cd "$(dirname "$0")/.."
# Skip (77) before the slow setup when there is no browser to run.
rc=0
python3 tests/html_report_e2e.py probe || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"
root=$PWD
work=$(mktemp -d)
fake_pid=
trap '[ -n "$fake_pid" ] && kill $fake_pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$artifacts"
. tests/lib/demo_endpoint.sh
db=$work/inv.db

# Scan 1: the account as it was before someone turned EBS default encryption off.
mkdir -p "$work/before/demo"
cp -r demo/aws "$work/before/demo/"
sed -i 's/<ebsEncryptionByDefault>false</<ebsEncryptionByDefault>true</' "$work/before/demo/aws/ec2/GetEbsEncryptionByDefault.http"
cd "$work/before"
start_demo_endpoint "$fake" "$work"
cd "$root"
"$cloudaudit" collect --out "$db" --regions us-east-1 --quiet
# Evaluated later in the year: more age-based alarms, which the second scan resolves.
"$cloudaudit" evaluate --db "$db" --as-of 2023-06-01T00:00:00Z --quiet
kill "$fake_pid"
wait "$fake_pid" 2>/dev/null || true

# Scan 2: the demo account as recorded.
start_demo_endpoint "$fake" "$work"
"$cloudaudit" collect --out "$db" --regions us-east-1 --quiet
mkdir -p "$work/rules"
cat >"$work/rules/hostile.yaml" <<'YAML'
id: acme.s3.hostile_text
title: Reasons that carry markup </script><!-- are shown as text
description: A test rule whose texts try to close the report's script element and open a comment.
service: s3
resource: aws_s3_bucket
severity: low
pillars: [security]
query: |
  SELECT arn AS resource, name AS resource_name, region, account_id,
         CASE WHEN name LIKE '%log%' THEN 'ok' ELSE 'alarm' END AS status,
         '</script><script>window.__cloudaudit_pwned = 1</script><!-- bucket ' || name AS reason
  FROM aws_s3_bucket
remediation:
  console: "Nothing to do </script><!--"
  cli: aws s3api get-bucket-tagging --bucket {resource_name}
references: [https://example.com/]
tests:
  - name: both
    resources:
      aws_s3_bucket:
        - {id: a-logs, arn: "arn:aws:s3:::a-logs", name: a-logs, data: {Name: a-logs}}
        - {id: b, arn: "arn:aws:s3:::b", name: b, data: {Name: b}}
    expect: {"arn:aws:s3:::a-logs": ok, "arn:aws:s3:::b": alarm}
YAML
cat >"$work/supp.yaml" <<'YAML'
suppressions:
  - {rule: "aws.cloudwatch.*", resource: "*", reason: "Alarms are managed centrally </script><!-- see ticket SEC-42", owner: "secops <secops@example.com>", expires: 2999-12-31}
YAML
"$cloudaudit" evaluate --db "$db" --as-of 2023-02-01T00:00:00Z --rules-dir "$work/rules" --suppressions "$work/supp.yaml" --quiet
kill "$fake_pid"
wait "$fake_pid" 2>/dev/null || true
fake_pid=

html=$artifacts/demo-report.html
"$cloudaudit" report --db "$db" --format html --out "$html"
echo "report: $html ($(stat -c %s "$html") bytes)"
python3 tests/html_report_e2e.py check --cloudaudit "$cloudaudit" --db "$db" --html "$html" --artifacts "$artifacts"
