import os, requests

resp = requests.post(
    "https://api.search.dev/v1/search",
    headers={"Authorization": f"Bearer {os.environ['SEARCH_API_KEY']}"},
    json={"query": "skills"},
)
