#!/bin/sh
# Runs once, when a node's data folder is created: the cluster's own
# network may connect without a password (Citus's inter-node connections
# run as Skillvault's roles, and its resolver role has none); everything
# else still needs the superuser's password.
set -e
subnet=$(ip -o -f inet addr show eth0 | awk '{print $4}')
echo "host all all ${subnet} trust" > "$PGDATA/pg_hba.tmp"
cat "$PGDATA/pg_hba.conf" >> "$PGDATA/pg_hba.tmp"
mv "$PGDATA/pg_hba.tmp" "$PGDATA/pg_hba.conf"
