#!/bin/sh
cat > key.pem <<EOF
$FAKE_PRIVATE_KEY
EOF
