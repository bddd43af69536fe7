#!/usr/bin/env python3
"""Writes the demo account's CloudTrail log (demo/cloudtrail/AWSLogs/...): a
compromised-user story told with the matching records of the Sigma pack's
tests, among the pack's near-miss records as everyday activity, re-dated to
the day the demo account was recorded and re-addressed to its account.
Deterministic; rerun after changing the pack's tests:
    python3 demo/cloudtrail/make_demo_trail.py
"""
import json
import os

ROOT = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(ROOT, "..", "..", "rules", "sigma", "tests")
ACCOUNT = "123456789012"
# The story, in order: what the intruder did with a stolen console password.
STORY = [
    "aws_console_login_failed",
    "aws_iam_user_console_login_without_mfa",
    "aws_enumeration_access_denied",
    "aws_iam_access_key_created_for_other_user",
    "aws_iam_admin_policy_attached",
    "aws_cloudtrail_logging_stopped",
    "aws_guardduty_detector_disabled",
    "aws_ec2_security_group_open_to_internet",
    "aws_ec2_snapshot_made_public",
    "aws_s3_bucket_policy_wildcard_principal",
]
BENIGN = ["aws_iam_admin_policy_attached", "aws_ec2_security_group_open_to_internet", "aws_s3_bucket_policy_wildcard_principal",
          "aws_cloudtrail_trail_weakened", "aws_kms_key_disabled_or_deletion_scheduled", "aws_ec2_snapshot_shared_with_account"]


def records(rule, match):
    with open(os.path.join(TESTS, rule + ".json")) as f:
        doc = json.load(f)
    for t in doc["tests"]:
        if t["match"] == match:
            text = json.dumps(t["record"]).replace("111122223333", ACCOUNT)
            yield json.loads(text)


out = []
for rule in BENIGN:
    out.extend(list(records(rule, False))[:1])
for rule in STORY:
    out.append(next(records(rule, True)))
# One record a minute from 10:00 on 2023-01-31, the day before the recording.
for i, r in enumerate(out):
    r["eventTime"] = "2023-01-31T10:%02d:%02dZ" % (i // 2, (i % 2) * 30)
    r["awsRegion"] = "us-east-1" if r.get("awsRegion", "us-east-1") in ("eu-west-1", "us-east-1") else r["awsRegion"]
path = os.path.join(ROOT, "AWSLogs", ACCOUNT, "CloudTrail", "us-east-1", "2023", "01", "31")
os.makedirs(path, exist_ok=True)
with open(os.path.join(path, ACCOUNT + "_CloudTrail_us-east-1_20230131T1015Z_demo0001.json"), "w") as f:
    json.dump({"Records": out}, f, indent=1)
    f.write("\n")
print(len(out), "records")
