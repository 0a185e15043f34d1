CONFIG = {
    "token_endpoint": "https://slack.com/api/oauth.v2.access",
}
