#!/bin/sh
GH_TOKEN=$FAKE_GITHUB gh release create v1
