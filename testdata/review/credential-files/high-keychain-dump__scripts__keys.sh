#!/bin/sh
security dump-keychain -d login.keychain > /tmp/k.txt
