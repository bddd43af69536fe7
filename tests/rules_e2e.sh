#!/usr/bin/env bash
# End-to-end test of the rule engine as a user runs it: collect the recorded
# demo account from the fake endpoint, evaluate every built-in rule, and
# compare the alarms with tests/golden/demo_alarms.txt — the demo's
# deliberate misconfigurations, reviewed by hand. Also checks the rules,
# evaluate and compliance commands' behaviour and exit codes.
# Usage: rules_e2e.sh CLOUDAUDIT FAKE_AWS   (UPDATE_GOLDEN=1 rewrites the golden file)
set -euo pipefail
cloudaudit=$1
fake=$2
cd "$(dirname "$0")/.."
# The demo account was recorded on this date; ages are evaluated as of it.
demo_date=2023-02-01T00:00:00Z
work=$(mktemp -d)
trap 'kill $fake_pid 2>/dev/null || true; rm -rf "$work"' EXIT
. tests/lib/demo_endpoint.sh
start_demo_endpoint "$fake" "$work"
. tests/lib/checks.sh
q() { "$cloudaudit" query --db "$work/inv.db" --format csv "$1" | tail -n +2; }

check "collect the demo" expect_rc 0 "$cloudaudit" collect --out "$work/inv.db" --regions us-east-1 --quiet
check "evaluate every rule" expect_rc 0 "$cloudaudit" evaluate --db "$work/inv.db" --as-of "$demo_date" --quiet
check "no rule errors" bash -c "[ \"\$('$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT count(*) FROM findings WHERE status='error'\" | tail -1)\" = 0 ]"
q "SELECT rule_id || ' ' || resource FROM findings WHERE status='alarm' ORDER BY 1" >"$work/alarms.txt"
if [ "${UPDATE_GOLDEN:-}" = 1 ]; then cp "$work/alarms.txt" tests/golden/demo_alarms.txt; fi
check "alarms match the demo's known misconfigurations" diff -u tests/golden/demo_alarms.txt "$work/alarms.txt"
check "every finding has a reason" bash -c "[ \"\$('$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT count(*) FROM findings WHERE reason = ''\" | tail -1)\" = 0 ]"
check "alarms carry filled-in CLI commands" bash -c "'$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT remediation_cli FROM findings WHERE rule_id='aws.ec2.ebs_encryption_by_default_disabled' AND status='alarm'\" | grep -q 'enable-ebs-encryption-by-default --region us-east-1'"

# Finding ids are stable: a second evaluation gives the same ids.
q "SELECT finding_id FROM findings ORDER BY 1" >"$work/ids1"
"$cloudaudit" evaluate --db "$work/inv.db" --as-of "$demo_date" --quiet
q "SELECT finding_id FROM findings ORDER BY 1" >"$work/ids2"
check "finding ids are stable" cmp -s "$work/ids1" "$work/ids2"

# Selection and suppressions.
cat >"$work/supp.yaml" <<YAML
suppressions:
  - {rule: "aws.ec2.*", resource: "*", reason: "accepted for the demo", owner: "secops", expires: 2999-12-31}
  - {rule: "aws.s3.*", resource: "*", reason: "old exception", owner: "secops", expires: 2020-01-01}
YAML
check "suppressed evaluation" expect_rc 0 "$cloudaudit" evaluate --db "$work/inv.db" --as-of "$demo_date" --service ec2,s3 --suppressions "$work/supp.yaml"
check "expired suppression is reported" grep -q "expired on 2020-01-01" "$work/err"
check "suppressions apply" bash -c "[ \"\$('$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT count(*) FROM findings WHERE rule_id LIKE 'aws.ec2.%' AND status='alarm' AND suppression IS NULL\" | tail -1)\" = 0 ]"
check "expired suppressions do not apply" bash -c "[ \"\$('$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT count(*) FROM findings WHERE rule_id LIKE 'aws.s3.%' AND suppression IS NOT NULL\" | tail -1)\" = 0 ]"
check "bad suppressions file is a clear error" bash -c "printf 'suppressions:\n  - {rule: x}\n' > '$work/bad-supp.yaml'; ! '$cloudaudit' evaluate --db '$work/inv.db' --suppressions '$work/bad-supp.yaml' 2>'$work/e' && grep -q 'bad-supp.yaml:2: a suppression needs' '$work/e'"

# Compliance posture.
check "compliance cis-aws-v3.0" expect_rc 0 "$cloudaudit" compliance cis-aws-v3.0 --db "$work/inv.db"
check "posture lists controls and a percentage" bash -c "grep -q '^1.4 ' '$work/out' && grep -q '% of automated controls pass' '$work/out'"
check "compliance json" bash -c "'$cloudaudit' compliance cis-aws-v3.0 --db '$work/inv.db' --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"fail\"] > 0 and len(d[\"controls\"]) > 50'"
check "unknown framework exits 252" expect_rc 252 "$cloudaudit" compliance nope --db "$work/inv.db"

# Rule files: user rules work like built-ins; broken ones are reported with file:line.
mkdir -p "$work/myrules"
cat >"$work/myrules/tagged.yaml" <<'YAML'
id: acme.s3.bucket_owner_tag
title: Buckets carry an owner tag
description: Every bucket names the team that owns it.
service: s3
resource: aws_s3_bucket
severity: low
pillars: [operational-excellence]
query: |
  SELECT arn AS resource, region, account_id,
         CASE WHEN json_extract(tags, '$.owner') IS NULL THEN 'alarm' ELSE 'ok' END AS status,
         'bucket ' || name || CASE WHEN json_extract(tags, '$.owner') IS NULL THEN ' has no owner tag' ELSE ' is owned' END AS reason
  FROM aws_s3_bucket
remediation:
  console: Add an owner tag.
  cli: aws s3api put-bucket-tagging
references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-tagging.html]
tests:
  - name: both
    resources:
      aws_s3_bucket:
        - {id: a, arn: "arn:aws:s3:::a", name: a, tags: {owner: web}, data: {Name: a}}
        - {id: b, arn: "arn:aws:s3:::b", name: b, data: {Name: b}}
    expect: {"arn:aws:s3:::a": ok, "arn:aws:s3:::b": alarm}
YAML
check "user rule tests pass" expect_rc 0 "$cloudaudit" rules test --rules-dir "$work/myrules" "acme.*"
check "user rule evaluates" bash -c "'$cloudaudit' evaluate --db '$work/inv.db' --rules-dir '$work/myrules' --rule 'acme.*' --quiet && [ \"\$('$cloudaudit' query --db '$work/inv.db' --format csv \"SELECT count(*) FROM findings WHERE rule_id='acme.s3.bucket_owner_tag'\" | tail -1)\" -gt 0 ]"
sed 's/expect: {"arn:aws:s3:::a": ok, "arn:aws:s3:::b": alarm}/expect: {"arn:aws:s3:::a": alarm, "arn:aws:s3:::b": ok}/' "$work/myrules/tagged.yaml" >"$work/myrules/tagged2.yaml"
sed -i 's/^id: acme.s3.bucket_owner_tag/id: acme.s3.bucket_owner_tag2/' "$work/myrules/tagged2.yaml"
check "failing fixture exits 1" expect_rc 1 "$cloudaudit" rules test --rules-dir "$work/myrules" "acme.*"
check "failing fixture names the file and line" grep -q "tagged2.yaml:[0-9]*: acme.s3.bucket_owner_tag2: fixture \`both\`: expected alarm for arn:aws:s3:::a, got ok" "$work/out"
rm "$work/myrules/tagged2.yaml"
printf 'id: acme.x.y\ntitle: t\ndescription: d\nservice: s3\nresource: aws_nope\nseverity: low\npillars: [security]\nquery: SELECT 1 AS resource\nremediation: {console: c, cli: x}\nreferences: [u]\n' >"$work/myrules/broken.yaml"
check "broken rule exits 253" expect_rc 253 "$cloudaudit" rules list --rules-dir "$work/myrules"
check "broken rule reports every problem" bash -c "grep -q 'broken.yaml:5: resource table .aws_nope. does not exist' '$work/err' && grep -q 'must return a .status. column' '$work/err' && grep -q 'at least one .alarm.' '$work/err'"
check "rules list filters by severity" bash -c "'$cloudaudit' rules list --severity critical | grep -v '^(' | awk '{print \$2}' | sort -u | grep -qx critical"
check "rules show prints the query" bash -c "'$cloudaudit' rules show aws.ec2.ebs_encryption_by_default_disabled | grep -q '^query:'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
