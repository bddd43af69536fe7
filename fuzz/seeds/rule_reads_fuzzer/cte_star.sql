WITH acct AS (
  SELECT account_id, max(COALESCE(restrict_public_buckets, 0)) AS rpb
  FROM aws_s3control_account_public_access_block GROUP BY account_id
), b AS (
  SELECT s.arn, s.name, s.account_id, s.policy_is_public AS s3_says_public,
         CASE WHEN json_type(s.data, '$.Region') IS NULL THEN 'global'
              WHEN COALESCE(s.bucket_region, '') = '' THEN 'us-east-1'
              WHEN s.bucket_region = 'EU' THEN 'eu-west-1' ELSE s.bucket_region END AS region,
         json_type(s.data, '$.Policy') IS NOT NULL AS policy_known,
         s.policy IS NOT NULL AS has_policy,
         (SELECT json_group_array('statement ' || COALESCE(json_extract(ps.value, '$.sid'), '#' || json_extract(ps.value, '$.index'))
                                  || ' (' || CASE WHEN json_extract(ps.value, '$.not_action') THEN 'all but ' ELSE '' END
                                  || (SELECT group_concat(x.value, ', ') FROM json_each(ps.value, '$.actions') x) || ')')
            FROM json_each(policy_public_statements(s.policy)) ps) AS public_statements,
         CASE WHEN COALESCE(a.rpb, 0) = 1 THEN 'account'
              WHEN json_type(s.data, '$.PublicAccessBlock') IS NULL THEN NULL
              WHEN s.restrict_public_buckets = 1 THEN 'bucket' ELSE 'none' END AS restricted_by
  FROM aws_s3_bucket s LEFT JOIN acct a USING (account_id)
), v AS (
  -- S3's verdict counts only with a policy in place (without one there is nothing to be public).
  SELECT b.*, (has_policy AND (json_array_length(public_statements) > 0 OR COALESCE(s3_says_public, 0) = 1)) AS public_policy FROM b
)
SELECT arn AS resource, name AS resource_name, region, account_id, name AS bucket_name,
       CASE WHEN NOT policy_known THEN 'skip'
            WHEN NOT public_policy THEN 'ok'
            WHEN restricted_by IN ('account', 'bucket') THEN 'ok'
            WHEN restricted_by IS NULL THEN 'skip'
            ELSE 'alarm' END AS status,
       CASE WHEN NOT policy_known THEN 'The policy of bucket ' || name || ' could not be read.'
            WHEN NOT has_policy THEN 'Bucket ' || name || ' has no bucket policy.'
            WHEN NOT public_policy THEN 'The policy of bucket ' || name || ' grants nothing to everyone.'
            ELSE 'The policy of bucket ' || name || ' is public'
                 || CASE WHEN json_array_length(public_statements) > 0
                         THEN ': ' || (SELECT group_concat(value, '; ') FROM json_each(public_statements))
                         ELSE ' according to S3 (GetBucketPolicyStatus), though no single statement granting everyone access was identified' END
                 || CASE WHEN restricted_by IN ('account', 'bucket')
                         THEN ', but RestrictPublicBuckets is on at the ' || restricted_by || ' level, so only AWS services and the bucket owner''s account can use it.'
                         WHEN restricted_by IS NULL
                         THEN ', and whether RestrictPublicBuckets cancels it is unknown: the bucket''s Block Public Access settings could not be read.'
                         ELSE ', and RestrictPublicBuckets is off for the bucket and the account.' END END AS reason,
       json_object('public_statements', json(public_statements), 's3_policy_status_is_public', s3_says_public,
                   'restrict_public_buckets', restricted_by) AS evidence
FROM v
