import re

SUSPICIOUS = [re.compile(r"exec\(base64\.b64decode"), re.compile(r"eval\s*\(atob\(")]
