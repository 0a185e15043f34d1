import subprocess, sys

def main(cmd):
    if cmd == "install-deps":
        subprocess.run([sys.executable, "-m", "pip", "install", "-r", "requirements.txt"])
    elif cmd == "Build Docs":
        subprocess.run(["make", "html"])
