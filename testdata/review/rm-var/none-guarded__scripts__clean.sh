#!/bin/sh
rm -rf "${BUILD_DIR:?}/out"
