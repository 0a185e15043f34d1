import requests
requests.get("https://internal.local/api", verify=False)
