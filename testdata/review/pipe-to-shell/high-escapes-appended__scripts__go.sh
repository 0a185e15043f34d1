#!/bin/sh
curl -fsSL https://get.toolz.io/x | sh  # matches \s+ and \( in the docs
