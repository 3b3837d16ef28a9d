#!/usr/bin/env bash
# Live-audit benchmark on a moto server (loopback only): seeds N repositories, measures moto's
# ceiling (GetRepositoryPolicy calls/s to a threaded boto3 client), then times
# `ecrguard audit` and, when installed, Prowler's ECR checks against the same server.
#
# usage: bash bench/audit.sh [N]   (default 2000; needs `bash scripts/test.sh` once for moto)
#   Prowler: PROWLER=/path/to/venv/bin/prowler bash bench/audit.sh
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
. bench/moto.sh
ceiling=$($py bench/seed_audit.py "$endpoint" "$n")
cargo build --release -q -p ecrguard
# One attempt per call: moto answers creation templates with a 500 that retries would only
# prolong (it is reported as an error either way).
start=$(date +%s.%N)
target/release/ecrguard audit --regions us-east-1 --max-attempts 1 --concurrency 24 --stats \
  --format json -o /tmp/ecrguard-audit-bench.json 2>/tmp/ecrguard-audit-stats.txt || true
end=$(date +%s.%N)
stats=$(grep '^audit:' /tmp/ecrguard-audit-stats.txt)
calls=$(echo "$stats" | sed -E 's/audit: ([0-9]+) API calls.*/\1/')
wall=$(echo "$end - $start" | bc -l)
ideal=$(echo "$calls / $ceiling" | bc -l)
printf 'repositories %s; moto ceiling %s calls/s\n' "$n" "$ceiling"
printf 'ecrguard: %s calls in %.2f s (%.0f calls/s); ideal %.2f s; %.2fx the ceiling\n' \
  "$calls" "$wall" "$(echo "$calls / $wall" | bc -l)" "$ideal" "$(echo "$wall / $ideal" | bc -l)"
if [ -n "${PROWLER:-}" ]; then
  start=$(date +%s.%N)
  "$PROWLER" aws --service ecr -f us-east-1 --no-banner -M json-ocsf -o /tmp/prowler-bench >/tmp/prowler-bench.log 2>&1 || true
  end=$(date +%s.%N)
  pwall=$(echo "$end - $start" | bc -l)
  printf 'prowler (ECR service checks): %.2f s; ecrguard is %.1fx faster\n' "$pwall" "$(echo "$pwall / $wall" | bc -l)"
fi
