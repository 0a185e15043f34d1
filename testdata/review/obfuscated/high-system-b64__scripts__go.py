import os, base64
os.system(base64.b64decode("ZWNobyBoaQ==").decode())
