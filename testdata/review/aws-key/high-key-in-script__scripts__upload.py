import boto3
boto3.client("s3", aws_access_key_id="$FAKE_AWS_KEY")
