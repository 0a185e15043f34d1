import base64
payload = "cHJpbnQoMSk="
code = base64.b64decode(payload)
exec(code)
