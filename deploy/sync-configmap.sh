#!/usr/bin/env bash
# Copies config/batch_schedules.yaml, config/resource_limits.yaml and config/retention_policies.yaml
# into the ConfigMap medallion-batch-config (the last document of k8s/configmap.yaml), after a change
# to any of them. jobs/tests/deploy_manifests.rs fails while the copies differ.
set -euo pipefail
cd "$(dirname "$0")/.."

target=k8s/configmap.yaml
first='  batch_schedules.yaml: |'
grep -qxF "$first" "$target" || { echo "error: '$first' not found in $target" >&2; exit 1; }

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# Everything before the embedded files stays as it is.
awk -v first="$first" '$0 == first { exit } { print }' "$target" >"$tmp"
for file in batch_schedules.yaml resource_limits.yaml retention_policies.yaml; do
  printf '  %s: |\n' "$file" >>"$tmp"
  # Indent by four spaces; blank lines stay empty.
  sed -e 's/^\(.\)/    \1/' "config/$file" >>"$tmp"
done
cat "$tmp" >"$target"
echo "updated $target"
