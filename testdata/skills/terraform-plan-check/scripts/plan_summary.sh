#!/bin/sh
# Summarise a Terraform/OpenTofu plan exported with `terraform show -json`.
# Usage: plan_summary.sh plan.json
set -eu

plan=${1:?usage: plan_summary.sh plan.json}

echo "Actions:"
jq -r '[.resource_changes[] | .change.actions | join("+")] | group_by(.) | map("  \(.[0]): \(length)") | .[]' "$plan"

echo
echo "Deleted or replaced:"
jq -r '.resource_changes[]
  | select(.change.actions | index("delete"))
  | "  \(.address) [\(.change.actions | join("+"))]"
    + (if .change.replace_paths then " forced by \(.change.replace_paths | map(join(".")) | join(", "))" else "" end)' "$plan"
