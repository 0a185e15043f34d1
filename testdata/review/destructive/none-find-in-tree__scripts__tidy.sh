#!/bin/sh
find . -name "*.pyc" -delete
find /tmp/build -type f -delete
