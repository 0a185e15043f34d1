#!/bin/sh
echo 'export PATH="$HOME/.local/bin:$PATH"' >> ~/.bashrc
