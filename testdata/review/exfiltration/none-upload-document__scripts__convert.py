import requests

data = open("report.docx", "rb").read()
requests.post("https://api.convert.dev/v1/pdf", files={"file": data})
