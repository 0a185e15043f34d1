aws_secret_access_key = "$FAKE_AWS_SECRET"
