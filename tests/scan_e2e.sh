#!/usr/bin/env bash
# End-to-end test of the everyday commands as a user runs them: `scan` of the
# recorded demo account in every report format, the CI gate's exit codes, the
# configuration file, `--offline`, `report`, `scans`, and `diff` across two
# scans with a change between them (the second served from an altered copy
# of the demo account: EBS default encryption turned on, serial console
# access turned on).
# Usage: scan_e2e.sh CLOUDAUDIT FAKE_AWS
set -euo pipefail
cloudaudit=$(realpath "$1")
fake=$(realpath "$2")
cd "$(dirname "$0")/.."
demo_date=2023-02-01
work=$(mktemp -d)
trap 'kill $fake_pid ${fake2_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT
. tests/lib/demo_endpoint.sh
start_demo_endpoint "$fake" "$work"
. tests/lib/checks.sh
q() { "$cloudaudit" query --db "$work/s.db" --format csv "$1" | tail -n +2; }
scan() { "$cloudaudit" scan --no-config --db "$work/s.db" --regions us-east-1 --as-of "$demo_date" "$@"; }

# One scan, every format.
check "scan writes every format" expect_rc 0 scan --format all --out-dir "$work/reports"
check "the summary is on the terminal" grep -q "critical" "$work/out"
for ext in json csv ocsf.json asff.json sarif junit.xml md html; do
  check "report file .$ext" test -s "$work/reports/cloudaudit-123456789012-scan1.$ext"
done
check "the JSON report parses and counts the alarms" python3 - "$work/reports/cloudaudit-123456789012-scan1.json" "$(q "SELECT count(*) FROM findings WHERE status='alarm' AND suppression IS NULL")" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
alarms = [f for f in doc["findings"] if f["status"] == "alarm" and not f.get("suppression")]
assert len(alarms) == int(sys.argv[2]), (len(alarms), sys.argv[2])
PY
check "the CSV report parses" python3 -c "import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); assert rows and all(r['rule_id'] for r in rows)" "$work/reports/cloudaudit-123456789012-scan1.csv"
check "the JUnit report parses" python3 -c "import xml.etree.ElementTree as E,sys; r=E.parse(sys.argv[1]).getroot(); assert r.iter('testcase')" "$work/reports/cloudaudit-123456789012-scan1.junit.xml"
check "the SARIF report is SARIF 2.1.0" python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['version']=='2.1.0' and d['runs'][0]['results']" "$work/reports/cloudaudit-123456789012-scan1.sarif"
check "the HTML report is one self-contained file" bash -c "! grep -Eq '<(script|link|img)[^>]+(src|href)=\"https?:' '$work/reports/cloudaudit-123456789012-scan1.html'"

# The CI gate.
check "--fail-on critical fails on the demo's critical findings" expect_rc 1 scan --offline --fail-on critical --quiet
check "the gate says why" grep -q "fail-on critical" "$work/err"
cat >"$work/accept-all.yaml" <<YAML
suppressions:
  - {rule: "*", resource: "*", reason: "accepted for the test", owner: "qa", expires: 2999-12-31}
YAML
check "suppressed findings do not fail the gate" expect_rc 0 scan --offline --fail-on low --suppressions "$work/accept-all.yaml" --quiet
check "--offline makes no AWS call" bash -c "kill $fake_pid; sleep 0.2; '$cloudaudit' scan --no-config --offline --db '$work/s.db' --as-of $demo_date --quiet"
start_demo_endpoint "$fake" "$work"

# The configuration file: found in the current directory, flags win.
mkdir -p "$work/team"
cat >"$work/team/cloudaudit.yaml" <<YAML
db: state.db
collect:
  regions: [us-east-1]
rules:
  services: [iam]
  severity: high
frameworks: [cis-aws-v3.0, fsbp]
output:
  formats: [json]
  dir: out
  fail_on: high
YAML
check "scan reads ./cloudaudit.yaml" bash -c "cd '$work/team' && '$cloudaudit' scan --as-of $demo_date --quiet; [ \$? -eq 1 ] && test -s out/cloudaudit-123456789012-scan1.json"
check "its selection applies" python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
assert {f['rule_id'].split('.')[1] for f in d['findings']} == {'iam'}, 'services'
assert all(f['severity'] in ('high','critical') for f in d['findings']), 'severity'
assert [f['id'] for f in d['frameworks']] == ['cis-aws-v3.0','fsbp']" "$work/team/out/cloudaudit-123456789012-scan1.json"
printf 'output:\n  formats: [json, pdf]\n  fial_on: high\n' >"$work/bad.yaml"
check "a malformed configuration is a clear error" expect_rc 253 "$cloudaudit" scan --config "$work/bad.yaml" --offline --db "$work/s.db"
check "with file and line" bash -c "grep -q 'bad.yaml:2: unknown format .pdf.' '$work/err' && grep -q 'bad.yaml:3: unknown key .fial_on.' '$work/err'"

# Threat alerts of the account join its reports.
check "threats over the demo trail" expect_rc 1 "$cloudaudit" threats demo/cloudtrail --db "$work/s.db"
check "the report carries the alerts" bash -c "'$cloudaudit' report --db '$work/s.db' --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d[\"alerts\"]) == 10, len(d[\"alerts\"])'"
check "--no-threats leaves them out" bash -c "'$cloudaudit' report --db '$work/s.db' --format json --no-threats | python3 -c 'import json,sys; d=json.load(sys.stdin); assert not d.get(\"alerts\"), d.get(\"alerts\")'"

# report and scans.
check "report: one format to a file" expect_rc 0 "$cloudaudit" report --db "$work/s.db" --format markdown --out "$work/r.md"
check "report: the markdown names the account" grep -q 123456789012 "$work/r.md"
check "report: unknown scan" expect_rc 252 "$cloudaudit" report --db "$work/s.db" --scan 99
check "report: unknown format" expect_rc 252 "$cloudaudit" report --db "$work/s.db" --format pdf
check "report: --out with several formats" expect_rc 252 "$cloudaudit" report --db "$work/s.db" --format json,csv --out x

# A change, a second scan, and the diff.
changed="$work/demo-changed"
cp -r demo "$changed"
sed -i 's|<ebsEncryptionByDefault>false<|<ebsEncryptionByDefault>true<|' "$changed/aws/ec2/GetEbsEncryptionByDefault.http"
sed -i 's|<serialConsoleAccessEnabled>false<|<serialConsoleAccessEnabled>true<|' "$changed/aws/ec2/GetSerialConsoleAccessStatus.http"
"$fake" --port 0 --responses "$changed/aws" >"$work/fake2.out" 2>"$work/fake2.log" &
fake2_pid=$!
for _ in $(seq 1 200); do grep -q "listening on" "$work/fake2.out" 2>/dev/null && break; sleep 0.05; done
endpoint2=$(sed -n 's/^listening on //p' "$work/fake2.out")
check "second scan" expect_rc 0 scan --endpoint-url "$endpoint2" --format table
check "the summary shows the change" grep -qi "new" "$work/out"
check "scans lists both" bash -c "[ \$('$cloudaudit' scans --db '$work/s.db' --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') -ge 2 ]"
last=$(q "SELECT max(id) FROM scans")
check "diff" expect_rc 0 "$cloudaudit" diff --db "$work/s.db" --format json
check "diff: serial console access is new, EBS default encryption resolved" python3 - "$work/out" "$last" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["to"]["scan_id"] == int(sys.argv[2]), d["to"]
new = {(f["rule_id"]) for f in d["new"]}
resolved = {(f["rule_id"]) for f in d["resolved"]}
assert new == {"aws.ec2.serial_console_access_enabled"}, new
# the launch configuration's and launch template's unencrypted volumes are covered by the default now
assert resolved == {"aws.ec2.ebs_encryption_by_default_disabled", "aws.ec2.launch_configuration_unencrypted_volumes",
                    "aws.ec2.launch_template_unencrypted_volumes"}, resolved
assert d["open"] and all(f["first_seen"] < d["to"]["started_at"] for f in d["open"]), "first seen"
PY
check "diff: table" expect_rc 0 "$cloudaudit" diff --db "$work/s.db" --color never
check "diff: table sections" bash -c "grep -q '^NEW' '$work/out' && grep -q '^RESOLVED' '$work/out' && grep -q 'serial_console' '$work/out'"
check "diff --fail-on gates on new findings only" expect_rc 1 "$cloudaudit" diff --db "$work/s.db" --fail-on low
check "diff of the first scan has nothing to compare" expect_rc 252 "$cloudaudit" diff --db "$work/s.db" --to 1
check "the report carries the diff" expect_rc 0 "$cloudaudit" report --db "$work/s.db" --format json --out "$work/last.json"
check "report JSON: changes since the previous scan" python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
assert d['diff']['new'] == 1 and d['diff']['resolved'] == 3 and len(d['diff']['resolved_findings']) == 3, d['diff']" "$work/last.json"

echo "scan_e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
