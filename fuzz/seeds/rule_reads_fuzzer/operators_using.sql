SELECT a.arn, data ->> 'Acl', s.data -> '$."Odd Key"[0]' FROM aws_s3_bucket a JOIN aws_s3_bucket s USING (data, arn) -- tail 'comment
