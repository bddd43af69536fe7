#!/usr/bin/env python3
"""Writes a deterministic organization trail for tests/threats_e2e.sh.

Usage: threats_e2e_logs.py OUT_DIR RULES_DIR [--seed N]

OUT_DIR/AWSLogs/o-<id>/<account>/CloudTrail/<region>/YYYY/MM/DD/
    <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<rand>.json.gz
for three accounts and three regions over three days (2026-11-01..03): thousands
of benign records - read-only Describe/List/Get calls by people, pipelines and
instance roles, console sign-ins with MFA, routine writes, and calls AWS
services make on the customer's behalf - with known attack sequences mixed in.

Besides the logs it writes, in OUT_DIR:
  expected.tsv   one line per alert the built-in pack must raise:
                 rule_id <TAB> eventID <TAB> eventTime <TAB> rule file name
  service.tsv    the same for the service-activity records, which raise these
                 alerts only when service activity is not suppressed
  corrupt.txt    the files that are damaged on purpose, one path per line
The ground truth is written here, from the attack script below, not computed
by running the rules. Standard library only; the same seed gives the same bytes.
"""
import argparse
import datetime as dt
import gzip
import io
import json
import os
import random
import re
import sys
import uuid

ORG = 'o-a1b2c3d4e5'
ACCOUNTS = ['111122223333', '222233334444', '333344445555']
REGIONS = ['us-east-1', 'eu-west-1', 'us-west-2']
DAYS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
OUTSIDE = '444455556666'

BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'
CONSOLE = 'AWS Internal'
CLI = ('aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.0-18-amd64 md/arch#x86_64 lang/python#3.11.8 '
       'md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#debian.12 md/prompt#off md/command#{}')
BOTO3 = ('Boto3/1.35.40 md/Botocore#1.35.40 ua/2.0 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 '
         'lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.40')
TERRAFORM = ('APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0 '
             '(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2')

ATTACKER_IP = '192.0.2.44'   # documentation ranges only
OFFICE_IP = '198.51.100.77'
CI_IP = '203.0.113.10'


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def uuid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self, n):
        return ''.join(self.rng.choice('0123456789abcdef') for _ in range(n))

    def key(self, prefix):
        return prefix + ''.join(self.rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567') for _ in range(16))


G = None  # the generator's random state, set in main()


# ---- identities -------------------------------------------------------------

def iam_user(acct, name, console=False, mfa=False):
    d = {'type': 'IAMUser', 'principalId': 'AIDA' + name.upper().replace('-', '')[:10].ljust(17, 'X'),
         'arn': f'arn:aws:iam::{acct}:user/{name}', 'accountId': acct,
         'accessKeyId': ('ASIA' if console else 'AKIA') + name.upper().replace('-', '')[:10].ljust(16, 'Q'),
         'userName': name}
    if console:
        d['sessionContext'] = {'sessionIssuer': {}, 'webIdFederationData': {},
                               'attributes': {'creationDate': '2026-11-02T09:00:00Z', 'mfaAuthenticated': 'true' if mfa else 'false'}}
    return d


def role(acct, name, session, path='', invoked_by=None, mfa=False):
    rid = 'AROA' + name.upper().replace('-', '').replace('_', '')[:13].ljust(17, 'Z')
    d = {'type': 'AssumedRole', 'principalId': f'{rid}:{session}',
         'arn': f'arn:aws:sts::{acct}:assumed-role/{name}/{session}', 'accountId': acct,
         'accessKeyId': 'ASIA' + rid[4:20],
         'sessionContext': {'sessionIssuer': {'type': 'Role', 'principalId': rid, 'arn': f'arn:aws:iam::{acct}:role/{path}{name}',
                                              'accountId': acct, 'userName': name},
                            'webIdFederationData': {},
                            'attributes': {'creationDate': '2026-11-01T00:00:00Z', 'mfaAuthenticated': 'true' if mfa else 'false'}}}
    if invoked_by:
        d['invokedBy'] = invoked_by
    return d


def sso_admin(acct, who):
    return role(acct, 'AWSReservedSSO_AWSAdministratorAccess_3f2e1d0c4b5a6978', who, path='aws-reserved/sso.amazonaws.com/', mfa=True)


def root(acct):
    return {'type': 'Root', 'principalId': acct, 'arn': f'arn:aws:iam::{acct}:root', 'accountId': acct, 'accessKeyId': ''}


# ---- records ------------------------------------------------------------------

def host(source, region):
    svc = source.split('.')[0]
    if svc in ('iam', 'organizations'):
        return f'{svc}.amazonaws.com'
    return f'{svc}.{region}.amazonaws.com'


def record(when, acct, region, source, name, ident, req=None, resp=None, ip=OFFICE_IP, ua=CONSOLE, read_only=False,
           event_type='AwsApiCall', error=None, additional=None, extra=None):
    r = {'eventVersion': '1.08' if event_type == 'AwsConsoleSignIn' else '1.09', 'userIdentity': ident,
         'eventTime': when.strftime('%Y-%m-%dT%H:%M:%SZ'), 'eventSource': source, 'eventName': name,
         'awsRegion': region, 'sourceIPAddress': ip, 'userAgent': ua}
    if error:
        r['errorCode'], r['errorMessage'] = error
    r['requestParameters'] = req
    r['responseElements'] = resp
    if additional is not None:
        r['additionalEventData'] = additional
    if event_type != 'AwsConsoleSignIn':
        r['requestID'] = G.uuid()
    r['eventID'] = G.uuid()
    r['readOnly'] = read_only
    r['eventType'] = event_type
    r['managementEvent'] = True
    r['recipientAccountId'] = acct
    r['eventCategory'] = 'Management'
    if event_type == 'AwsApiCall' and '.amazonaws.com' not in ip:
        r['tlsDetails'] = {'tlsVersion': 'TLSv1.3', 'cipherSuite': 'TLS_AES_128_GCM_SHA256',
                           'clientProvidedHostHeader': host(source, region)}
    if extra:
        r.update(extra)
    return r


def signin(when, acct, ident, ok, mfa, ip, region='us-east-1'):
    ident = {k: v for k, v in ident.items() if k != 'sessionContext'}
    ident['accessKeyId'] = ''
    add = {'LoginTo': 'https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true',
           'MobileVersion': 'No', 'MFAUsed': 'Yes' if mfa else 'No'}
    r = record(when, acct, region, 'signin.amazonaws.com', 'ConsoleLogin', ident, None,
               {'ConsoleLogin': 'Success' if ok else 'Failure'}, ip=ip, ua=BROWSER, event_type='AwsConsoleSignIn',
               additional=add)
    if not ok:
        r = {**{k: v for k, v in r.items() if k in ('eventVersion', 'userIdentity', 'eventTime', 'eventSource',
                                                      'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent')},
             'errorMessage': 'Failed authentication',
             **{k: v for k, v in r.items() if k not in ('eventVersion', 'userIdentity', 'eventTime', 'eventSource',
                                                         'eventName', 'awsRegion', 'sourceIPAddress', 'userAgent')}}
    return r


# ---- benign traffic ----------------------------------------------------------------

def benign(when, acct, region):
    """One routine record: mostly reads, some sign-ins and harmless writes."""
    rng = G.rng
    people = ['alice', 'carol', 'dan']
    admin = sso_admin(acct, rng.choice(people) + '@example.com')
    instance = role(acct, 'orders-web-instance', 'i-0' + G.hexid(16))
    app = role(acct, 'orders-api', 'orders-api-task-' + str(rng.randint(1, 9)))
    ci = role(acct, 'terraform-deployer', 'terraform-run-' + str(rng.randint(1000, 9999)))
    kind = rng.random()
    if kind < 0.30:  # console browsing
        source, name, req = rng.choice([
            ('ec2.amazonaws.com', 'DescribeInstances', {'instancesSet': {}, 'filterSet': {}}),
            ('ec2.amazonaws.com', 'DescribeSecurityGroups', {'securityGroupSet': {}, 'securityGroupIdSet': {}, 'filterSet': {}}),
            ('iam.amazonaws.com', 'ListUsers', None),
            ('iam.amazonaws.com', 'ListRoles', {'maxItems': 1000}),
            ('s3.amazonaws.com', 'ListBuckets', {'Host': 's3.amazonaws.com'}),
            ('cloudtrail.amazonaws.com', 'DescribeTrails', {'includeShadowTrails': True}),
            ('rds.amazonaws.com', 'DescribeDBInstances', None),
            ('guardduty.amazonaws.com', 'ListDetectors', None),
        ])
        return record(when, acct, region, source, name, admin, req, None, read_only=True)
    if kind < 0.55:  # instance role through VPC endpoints
        source, name, req = rng.choice([
            ('sts.amazonaws.com', 'GetCallerIdentity', None),
            ('ssm.amazonaws.com', 'GetParameter', {'name': '/orders/prod/db-host', 'withDecryption': False}),
            ('secretsmanager.amazonaws.com', 'GetSecretValue', {'secretId': 'prod/orders/db'}),
            ('kms.amazonaws.com', 'Decrypt', {'encryptionAlgorithm': 'SYMMETRIC_DEFAULT'}),
        ])
        return record(when, acct, region, source, name, instance, req, None, ip='10.20.%d.%d' % (rng.randint(0, 3), rng.randint(4, 250)),
                      ua=BOTO3, read_only=True, extra={'vpcEndpointId': 'vpce-0' + G.hexid(16), 'vpcEndpointAccountId': acct})
    if kind < 0.70:  # application tasks
        source, name, req, ro = rng.choice([
            ('dynamodb.amazonaws.com', 'DescribeTable', {'tableName': 'orders'}, True),
            ('sqs.amazonaws.com', 'GetQueueAttributes', {'queueUrl': f'https://sqs.{region}.amazonaws.com/{acct}/orders', 'attributeNames': ['All']}, True),
            ('ecs.amazonaws.com', 'DescribeTasks', {'cluster': 'orders', 'tasks': [G.hexid(32)]}, True),
            ('logs.amazonaws.com', 'CreateLogStream', {'logGroupName': '/ecs/orders-api', 'logStreamName': 'orders-api/' + G.hexid(32)}, False),
        ])
        return record(when, acct, region, source, name, app, req, None, ip='10.20.3.%d' % rng.randint(4, 250), ua=BOTO3, read_only=ro)
    if kind < 0.82:  # pipeline writes that no rule should flag
        source, name, req = rng.choice([
            ('ec2.amazonaws.com', 'CreateTags', {'resourcesSet': {'items': [{'resourceId': 'i-0' + G.hexid(16)}]},
                                                'tagSet': {'items': [{'key': 'team', 'value': 'orders'}]}}),
            ('ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', {'groupId': 'sg-0' + G.hexid(16), 'ipPermissions': {'items': [
                {'ipProtocol': 'tcp', 'fromPort': 5432, 'toPort': 5432, 'groups': {}, 'ipRanges': {'items': [{'cidrIp': '10.20.0.0/16'}]},
                 'ipv6Ranges': {}, 'prefixListIds': {}}]}}),
            ('lambda.amazonaws.com', 'UpdateFunctionCode20150331v2', {'functionName': 'orders-export', 'publish': True}),
            ('iam.amazonaws.com', 'AttachRolePolicy', {'roleName': 'orders-api', 'policyArn': 'arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'}),
            ('s3.amazonaws.com', 'PutBucketPolicy', {'bucketName': f'orders-exports-{acct}', 'Host': f'orders-exports-{acct}.s3.amazonaws.com', 'policy': '',
                                                      'bucketPolicy': {'Version': '2012-10-17', 'Statement': [
                                                          {'Sid': 'DenyInsecureTransport', 'Effect': 'Deny', 'Principal': '*', 'Action': 's3:*',
                                                           'Resource': [f'arn:aws:s3:::orders-exports-{acct}/*'],
                                                           'Condition': {'Bool': {'aws:SecureTransport': 'false'}}}]}}),
        ])
        return record(when, acct, region, source, name, ci, req, None, ip=CI_IP, ua=TERRAFORM)
    if kind < 0.90:  # people signing in with MFA, through the regional sign-in endpoint
        who = rng.choice(people)
        return signin(when, acct, iam_user(acct, who), True, True, OFFICE_IP, region)
    # services acting for the customer: never alerts
    source, name, ident, req = rng.choice([
        ('kms.amazonaws.com', 'GenerateDataKey', {'type': 'AWSService', 'invokedBy': 'ebs.amazonaws.com'}, {'keySpec': 'AES_256'}),
        ('sts.amazonaws.com', 'AssumeRole', {'type': 'AWSService', 'invokedBy': 'ecs-tasks.amazonaws.com'},
         {'roleArn': f'arn:aws:iam::{acct}:role/orders-api', 'roleSessionName': G.hexid(32)}),
        ('config.amazonaws.com', 'PutEvaluations', role(acct, 'AWSServiceRoleForConfig', 'AWSConfig-Describe',
                                                        path='aws-service-role/config.amazonaws.com/'), {'resultToken': 'HIDDEN'}),
    ])
    svc = ident.get('invokedBy', 'config.amazonaws.com')
    return record(when, acct, region, source, name, ident, req, None, ip=svc, ua=svc, read_only=name != 'PutEvaluations')


# ---- the attacks (ground truth) --------------------------------------------------------

A, B, C = ACCOUNTS


def attacks():
    """Returns [(record, [rule file names it must trigger])], placed in time."""
    out = []
    t = lambda d, h, m, s=0: dt.datetime(2026, 11, d, h, m, s)

    # Day 1: someone signs in as root in account C with the password alone.
    out.append((signin(t(1, 22, 41, 7), C, root(C), True, False, '192.0.2.190'), ['aws_root_console_login_without_mfa']))

    # Day 2, account A: a guessed password, then privilege escalation and blinding the trail.
    bob = iam_user(A, 'bob')
    for i in range(3):
        out.append((signin(t(2, 3, 10, 5 + 11 * i), A, bob, False, False, ATTACKER_IP), ['aws_console_login_failed']))
    out.append((signin(t(2, 3, 11, 2), A, bob, True, False, ATTACKER_IP), ['aws_iam_user_console_login_without_mfa']))
    bob_console = iam_user(A, 'bob', console=True, mfa=False)
    out.append((record(t(2, 3, 14, 40), A, 'us-east-1', 'iam.amazonaws.com', 'CreateAccessKey', bob_console,
                       {'userName': 'backup-admin'},
                       {'accessKey': {'userName': 'backup-admin', 'accessKeyId': 'AKIABACKUPADMINKEY01', 'status': 'Active',
                                      'createDate': 'Nov 2, 2026 3:14:40 AM'}}, ip=ATTACKER_IP),
                ['aws_iam_access_key_created_for_other_user']))
    out.append((record(t(2, 3, 15, 12), A, 'us-east-1', 'iam.amazonaws.com', 'AttachUserPolicy', bob_console,
                       {'userName': 'backup-admin', 'policyArn': 'arn:aws:iam::aws:policy/AdministratorAccess'}, None, ip=ATTACKER_IP),
                ['aws_iam_admin_policy_attached']))
    backup_admin = iam_user(A, 'backup-admin')
    out.append((record(t(2, 3, 21, 55), A, 'us-east-1', 'cloudtrail.amazonaws.com', 'StopLogging', backup_admin,
                       {'name': f'arn:aws:cloudtrail:us-east-1:{A}:trail/org-trail'}, None, ip=ATTACKER_IP,
                       ua=CLI.format('cloudtrail.stop-logging')),
                ['aws_cloudtrail_logging_stopped']))

    # Day 2, account B: a database snapshot handed to the world, an instance opened to it.
    ops = role(B, 'ops-automation', 'ops-7781')
    out.append((record(t(2, 14, 2, 31), B, 'eu-west-1', 'ec2.amazonaws.com', 'ModifySnapshotAttribute', ops,
                       {'snapshotId': 'snap-0f00dbadc0ffee001', 'attributeType': 'CREATE_VOLUME_PERMISSION',
                        'createVolumePermission': {'add': {'items': [{'group': 'all'}]}}},
                       {'requestId': G.uuid(), '_return': True}, ip=ATTACKER_IP, ua=CLI.format('ec2.modify-snapshot-attribute')),
                ['aws_ec2_snapshot_made_public']))
    out.append((record(t(2, 14, 9, 3), B, 'eu-west-1', 'ec2.amazonaws.com', 'AuthorizeSecurityGroupIngress', ops,
                       {'groupId': 'sg-0bad0bad0bad0bad0', 'ipPermissions': {'items': [
                           {'ipProtocol': 'tcp', 'fromPort': 22, 'toPort': 22, 'groups': {},
                            'ipRanges': {'items': [{'cidrIp': '0.0.0.0/0'}]}, 'ipv6Ranges': {}, 'prefixListIds': {}}]}},
                       {'requestId': G.uuid(), '_return': True}, ip=ATTACKER_IP, ua=CLI.format('ec2.authorize-security-group-ingress')),
                ['aws_ec2_security_group_open_to_internet']))

    # Day 3, account C: GuardDuty switched off in us-west-2. This one is written into a file
    # that also holds a malformed record, which must be reported and skipped alone.
    out.append((record(t(3, 8, 45, 19), C, 'us-west-2', 'guardduty.amazonaws.com', 'DeleteDetector',
                       iam_user(C, 'svc-reporting'), {'detectorId': 'c2b4d6a8e0f1a2b3c4d5e6f7a8b9c0d1'}, None, ip=ATTACKER_IP,
                       ua=CLI.format('guardduty.delete-detector')),
                ['aws_guardduty_detector_disabled']))
    return out


def service_activity():
    """Calls AWS services make on the customer's behalf that would match rules
    if they were not suppressed: [(record, [rule file names])]."""
    t = lambda d, h, m: dt.datetime(2026, 11, d, h, m, 0)
    asg = role(A, 'AWSServiceRoleForAutoScaling', 'AutoScaling', path='aws-service-role/autoscaling.amazonaws.com/',
               invoked_by='autoscaling.amazonaws.com')
    shub = role(B, 'AWSServiceRoleForSecurityHub', 'securityhub', path='aws-service-role/securityhub.amazonaws.com/')
    return [
        (record(t(1, 6, 30), A, 'us-east-1', 'ec2.amazonaws.com', 'RunInstances', asg,
                {'instancesSet': {'items': [{'imageId': 'ami-0a1b2c3d4e5f60718', 'minCount': 12, 'maxCount': 12}]},
                 'instanceType': 'c6i.large', 'blockDeviceMapping': {}, 'monitoring': {'enabled': False},
                 'disableApiTermination': False, 'clientToken': G.uuid()},
                {'requestId': G.uuid(), 'reservationId': 'r-0' + G.hexid(16), 'ownerId': A},
                ip='autoscaling.amazonaws.com', ua='autoscaling.amazonaws.com'),
         ['aws_ec2_mass_or_gpu_instance_launch']),
        (record(t(2, 1, 5), B, 'eu-west-1', 'config.amazonaws.com', 'DeleteConfigRule', shub,
                {'configRuleName': 'securityhub-s3-bucket-public-read-prohibited-3a5f1e'}, None,
                ip='securityhub.amazonaws.com', ua='securityhub.amazonaws.com'),
         ['aws_config_rules_deleted']),
        (record(t(3, 4, 0), C, 'us-west-2', 'backup.amazonaws.com', 'DeleteRecoveryPoint',
                {'type': 'AWSService', 'invokedBy': 'backup.amazonaws.com'},
                {'backupVaultName': 'Default', 'recoveryPointArn': 'arn:aws:ec2:us-west-2::snapshot/snap-0' + G.hexid(16)}, None,
                ip='backup.amazonaws.com', ua='backup.amazonaws.com'),
         ['aws_backup_vault_or_recovery_point_deleted']),
    ]


# ---- writing ----------------------------------------------------------------------------

def object_path(out, acct, region, when, digest=False):
    kind = 'CloudTrail-Digest' if digest else 'CloudTrail'
    stamp = when.strftime('%Y%m%dT%H%MZ')
    rand = ''.join(G.rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz') for _ in range(16))
    d = os.path.join(out, 'AWSLogs', ORG, acct, kind, region, when.strftime('%Y'), when.strftime('%m'), when.strftime('%d'))
    os.makedirs(d, exist_ok=True)
    name = f'{acct}_{kind}_{region}_{stamp}_{rand}.json.gz'
    return os.path.join(d, name)


def gz(data):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode='wb', mtime=0) as f:  # mtime 0: same bytes every run
        f.write(data)
    return buf.getvalue()


def write_records(path, records):
    text = json.dumps({'Records': records}, separators=(',', ':')).encode()
    with open(path, 'wb') as f:
        f.write(gz(text))


def rule_ids(rules_dir):
    ids = {}
    for name in os.listdir(rules_dir):
        if name.endswith('.yml'):
            m = re.search(r'^id:\s*(\S+)\s*$', open(os.path.join(rules_dir, name), encoding='utf-8').read(), re.M)
            ids[name[:-4]] = m.group(1)
    return ids


def main():
    global G
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('out')
    ap.add_argument('rules_dir')
    ap.add_argument('--seed', type=int, default=20261101)
    args = ap.parse_args()
    G = Gen(args.seed)
    ids = rule_ids(args.rules_dir)

    # Every record gets a slot: (account, region, hour) -> records. CloudTrail
    # delivers about every five minutes; one file per hour keeps the tree small.
    slots = {}
    for day in DAYS:
        for hour in range(24):
            for acct in ACCOUNTS:
                for region in REGIONS:
                    base = dt.datetime(day.year, day.month, day.day, hour, 0, 0)
                    n = G.rng.randint(6, 14)
                    recs = [benign(base + dt.timedelta(seconds=G.rng.randint(0, 3599)), acct, region) for _ in range(n)]
                    slots[(acct, region, base)] = recs

    def slot_of(r):
        when = dt.datetime.strptime(r['eventTime'], '%Y-%m-%dT%H:%M:%SZ')
        return (r['recipientAccountId'], r['awsRegion'], when.replace(minute=0, second=0))

    expected, service = [], []
    attack_list = attacks()
    guardduty_record = attack_list[-1][0]
    for r, stems in attack_list[:-1]:
        slots[slot_of(r)].append(r)
        expected += [(ids[s], r['eventID'], r['eventTime'], s) for s in stems]
    expected += [(ids[s], guardduty_record['eventID'], guardduty_record['eventTime'], s) for s in attack_list[-1][1]]
    for r, stems in service_activity():
        slots[slot_of(r)].append(r)
        service += [(ids[s], r['eventID'], r['eventTime'], s) for s in stems]

    total = 0
    for (acct, region, base), recs in sorted(slots.items()):
        recs.sort(key=lambda r: r['eventTime'])
        write_records(object_path(args.out, acct, region, base + dt.timedelta(minutes=55)), recs)
        total += len(recs)

    # A file whose Records hold one malformed entry beside the GuardDuty attack.
    gd_when = dt.datetime.strptime(guardduty_record['eventTime'], '%Y-%m-%dT%H:%M:%SZ')
    mixed = [guardduty_record, 'not a record', benign(gd_when + dt.timedelta(seconds=30), C, 'us-west-2')]
    write_records(object_path(args.out, C, 'us-west-2', gd_when + dt.timedelta(minutes=5)), mixed)
    total += 2

    # Damaged files: a truncated gzip stream and a gzip of text that is not JSON.
    corrupt = []
    p = object_path(args.out, B, 'us-east-1', dt.datetime(2026, 11, 2, 12, 5))
    whole = gz(json.dumps({'Records': [benign(dt.datetime(2026, 11, 2, 12, 1), B, 'us-east-1')]}).encode())
    with open(p, 'wb') as f:
        f.write(whole[: len(whole) // 2])
    corrupt.append(p)
    p = object_path(args.out, A, 'eu-west-1', dt.datetime(2026, 11, 2, 12, 10))
    with open(p, 'wb') as f:
        f.write(gz(b'{"Records": [{"eventVersion": "1.09", "eventName": '))
    corrupt.append(p)

    # A digest file, which is not a log file and must be ignored.
    p = object_path(args.out, A, 'us-east-1', dt.datetime(2026, 11, 2, 13, 0), digest=True)
    with open(p, 'wb') as f:
        f.write(gz(json.dumps({'awsAccountId': A, 'digestStartTime': '2026-11-02T12:00:00Z',
                               'digestEndTime': '2026-11-02T13:00:00Z', 'logFiles': []}).encode()))

    def tsv(name, rows):
        with open(os.path.join(args.out, name), 'w') as f:
            for row in sorted(rows):
                f.write('\t'.join(row) + '\n')
    tsv('expected.tsv', expected)
    tsv('service.tsv', service)
    with open(os.path.join(args.out, 'corrupt.txt'), 'w') as f:
        f.write(''.join(os.path.relpath(c, args.out) + '\n' for c in corrupt))
    print(f'{total} records in {len(slots) + 1} files, {len(expected)} expected alerts', file=sys.stderr)


if __name__ == '__main__':
    main()
