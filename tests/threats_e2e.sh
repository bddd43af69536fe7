#!/usr/bin/env bash
# End-to-end test of threat detection as a user runs it: generate an
# organization trail (tests/threats_e2e_logs.py: three accounts, three regions,
# three days of gzipped logs with attack sequences mixed into benign traffic),
# hunt it with the built-in Sigma pack, and check that exactly the expected
# alerts come out (rule id + event id), that --since/--until narrow them, that
# damaged files are reported and skipped, that AWS service activity is
# suppressed, and that alerts land in the store.
# Usage: threats_e2e.sh CLOUDAUDIT
set -euo pipefail
cloudaudit=$1
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/lib/checks.sh
# "rule_id<TAB>event_id" of the JSON-lines alerts in FILE, sorted.
pairs() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print(a["rule_id"] + "\t" + a["event_id"])' "$1" | sort; }
# The same pairs from a ground-truth file (expected.tsv / service.tsv), optionally
# only events in [since, until] (ISO-8601 strings compare in time order).
truth() { awk -F'\t' -v s="${2:-}" -v u="${3:-}" '(s == "" || $3 >= s) && (u == "" || $3 <= u) { print $1 "\t" $2 }' "$1" | sort; }
same() {  # same FILE_A FILE_B: identical, else show the difference
  diff -u "$1" "$2" >"$work/diff" || { echo "--- expected, +++ got:"; head -40 "$work/diff"; return 1; }
}

logs=$work/logs  # the ground truth files sit beside AWSLogs/, which is what gets hunted
python3 tests/threats_e2e_logs.py "$logs" rules/sigma/aws/cloudtrail 2>"$work/gen.txt"
trail=$logs/AWSLogs
truth "$logs/expected.tsv" >"$work/want_all"
[ "$(wc -l <"$work/want_all")" -ge 10 ] || { echo "the generator produced too few attacks"; exit 1; }

# 1. The whole trail: exactly the attacks, nothing from benign traffic or services.
check "hunt the trail (exit 1: alerts)" expect_rc 1 "$cloudaudit" threats "$trail" --db "$work/t.db" --format json
cp "$work/out" "$work/all.jsonl"
cp "$work/err" "$work/all.err"
pairs "$work/all.jsonl" >"$work/got_all"
check "exactly the expected alerts (rule id + event id)" same "$work/want_all" "$work/got_all"
check "every alert carries its rule, level and record as evidence" python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    assert a["rule_title"] and a["level"] in ("low", "medium", "high", "critical"), a
    assert any(t.startswith("attack.t") for t in a["tags"]), a["tags"]
    assert a["record"]["eventID"] == a["event_id"] and a["record"]["eventTime"] == a["event_time"], a["event_id"]
    assert a["source"].startswith(sys.argv[2]), a["source"]
    assert a["suppression"] is None
' "$work/all.jsonl" "$logs/AWSLogs/"
check "the root sign-in is critical" grep -q '"level":"critical".*"event_name":"ConsoleLogin"' "$work/all.jsonl"

# 2. Damaged files are reported with where and why, and skipped; the rest is read.
while read -r bad; do
  check "damaged file reported: ${bad##*/}" grep -q "warning: .*${bad##*/}" "$work/all.err"
done <"$logs/corrupt.txt"
check "the malformed record beside an attack is reported with its offset" grep -Eq "warning: .*20261103T0850Z_[A-Za-z0-9]+\.json\.gz[:@ ]*(offset )?[0-9]+" "$work/all.err"
check "the digest file is skipped, not reported as damaged" bash -c "grep -q 'skipped 1 CloudTrail-Digest' '$work/all.err' && ! grep -q 'warning: .*CloudTrail-Digest' '$work/all.err'"
check "nothing else is skipped" bash -c "! grep -q 'not .json' '$work/all.err'"
check "the summary counts malformed records" grep -Eq '\(([1-9][0-9]*) malformed' "$work/all.err"

# 3. Alerts are stored, and the store agrees with the output.
# (Read with Python's sqlite3: `cloudaudit query` needs a collected scan in the store.)
sql() { python3 -c 'import sqlite3, sys; [print("\t".join(map(str, r))) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2])]' "$work/t.db" "$1"; }
sql "SELECT rule_id, event_id FROM alerts" | sort >"$work/got_db"
check "the store holds the same alerts" same "$work/want_all" "$work/got_db"
run_row=$(sql "SELECT count(*), max(alerts), max(malformed) > 0 FROM threat_runs")
check "the run is recorded with its alert and malformed counts" [ "$run_row" = "1	$(wc -l <"$work/want_all")	1" ]

# 4. Service activity (invokedBy, AWSService, service-linked roles) is suppressed;
#    without the suppression those records raise exactly their alerts.
check "service activity raises nothing by default" bash -c "! grep -Fqf <(cut -f2 '$logs/service.tsv') '$work/got_all'"
check "hunt including service activity" expect_rc 1 "$cloudaudit" threats "$trail" --format json --include-service-activity --quiet
pairs "$work/out" >"$work/got_svc"
sort -u "$work/want_all" <(truth "$logs/service.tsv") >"$work/want_svc"
check "with service activity: the attacks plus exactly the service records" same "$work/want_svc" "$work/got_svc"

# 5. The time window narrows the alerts, at day and at second precision.
check "--since/--until one day" expect_rc 1 "$cloudaudit" threats "$trail" --format json --quiet --since 2026-11-02 --until 2026-11-02
pairs "$work/out" >"$work/got_day"
truth "$logs/expected.tsv" 2026-11-02T00:00:00Z 2026-11-02T23:59:59Z >"$work/want_day"
check "day 2 only" same "$work/want_day" "$work/got_day"
check "the window excludes the other days' attacks" bash -c "[ \$(wc -l <'$work/got_day') -lt \$(wc -l <'$work/want_all') ]"
check "--since/--until to the second" expect_rc 1 "$cloudaudit" threats "$trail" --format json --quiet \
  --since 2026-11-02T03:11:00Z --until 2026-11-02T03:20:00Z
pairs "$work/out" >"$work/got_min"
truth "$logs/expected.tsv" 2026-11-02T03:11:00Z 2026-11-02T03:20:00Z >"$work/want_min"
check "nine minutes of the intrusion" same "$work/want_min" "$work/got_min"
check "a window with no attacks exits 0" expect_rc 0 "$cloudaudit" threats "$trail" --format json --quiet --since 2026-11-01T00:00:00Z --until 2026-11-01T12:00:00Z
check "... and prints nothing" bash -c "[ ! -s '$work/out' ]"

# 6. Stable: a second run gives byte-identical alerts.
check "second run" expect_rc 1 "$cloudaudit" threats "$trail" --format json --quiet
check "alerts are identical run to run" cmp -s <(python3 -c 'import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k != "run_id"}, sort_keys=True)) for l in open(sys.argv[1])]' "$work/all.jsonl") \
  <(python3 -c 'import json,sys; [print(json.dumps({k: v for k, v in json.loads(l).items() if k != "run_id"}, sort_keys=True)) for l in open(sys.argv[1])]' "$work/out")

# 7. User rules with --rules run beside the pack; a rule the engine cannot run
#    stops the command with file:line and why.
mkdir -p "$work/myrules" "$work/badrules"
cat >"$work/myrules/acme_snapshot_attribute_changes.yml" <<'YAML'
title: Any snapshot attribute change
id: 0b7d4c1e-3f2a-4e5b-9c6d-7e8f9a0b1c2d
status: experimental
logsource:
    product: aws
    service: cloudtrail
detection:
    selection:
        eventName: 'ModifySnapshotAttribute'
    condition: selection
level: low
YAML
check "--rules adds a user rule" expect_rc 1 "$cloudaudit" threats "$trail" --format json --quiet --rules "$work/myrules"
check "the user rule's alert comes out beside the pack's" bash -c "grep -q '\"rule_id\":\"0b7d4c1e-3f2a-4e5b-9c6d-7e8f9a0b1c2d\"' '$work/out' && [ \$(wc -l <'$work/out') -eq \$((\$(wc -l <'$work/want_all') + 1)) ]"
cat >"$work/badrules/mr_login_burst.yml" <<'YAML'
title: Many failed sign-ins
id: 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d
correlation:
    type: event_count
    rules:
        - 2ae6f5ea-5497-4672-8f5d-840f6881a6ef
    group-by:
        - sourceIPAddress
    timespan: 10m
    condition:
        gte: 3
YAML
check "a correlation rule is refused" expect_rc 253 "$cloudaudit" threats "$trail" --rules "$work/badrules"
check "... with file:line and why" grep -Eq "mr_login_burst\.yml:[0-9]+: .*correlation" "$work/err"

echo "threats_e2e: $passed passed, $failed failed ($(cat "$work/gen.txt"))"
[ "$failed" -eq 0 ]
