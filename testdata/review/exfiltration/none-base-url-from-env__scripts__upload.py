import os, requests

BASE = os.getenv("NOTES_URL", "http://localhost:5055")

def upload(path):
    data = open(path, "rb").read()
    return requests.post(f"{BASE}/api/sources", files={"file": data})
