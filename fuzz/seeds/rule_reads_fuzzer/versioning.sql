SELECT arn AS resource, name AS resource_name,
       CASE WHEN json_type(data, '$.Region') IS NULL THEN 'global'
            WHEN COALESCE(bucket_region, '') = '' THEN 'us-east-1'
            WHEN bucket_region = 'EU' THEN 'eu-west-1' ELSE bucket_region END AS region,
       account_id, name AS bucket_name,
       CASE WHEN json_type(data, '$.Versioning') IS NULL THEN 'skip'
            WHEN versioning_status = 'Enabled' THEN 'ok'
            ELSE 'alarm' END AS status,
       CASE WHEN json_type(data, '$.Versioning') IS NULL THEN 'The versioning state of bucket ' || name || ' could not be read.'
            WHEN versioning_status = 'Enabled' THEN 'Bucket ' || name || ' has versioning enabled.'
            WHEN versioning_status = 'Suspended' THEN 'Versioning of bucket ' || name || ' is suspended: new writes replace objects for good.'
            ELSE 'Bucket ' || name || ' has never had versioning enabled.' END AS reason,
       json_object('versioning_status', versioning_status, 'mfa_delete', mfa_delete) AS evidence
FROM aws_s3_bucket
