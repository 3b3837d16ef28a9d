#!/usr/bin/env bash
# Organization-scale live audit on a moto server (loopback only): an organization of ACCOUNTS
# accounts x REGIONS regions x REPOS repositories, audited by one process through
# `--org-role`. Reports moto's ceiling (bench/seed_org_bench.py), ecrguard's calls, wall time,
# calls/s, wall / (calls / ceiling), and peak memory.
#
# usage: bash bench/org-audit.sh [ACCOUNTS REGIONS REPOS]   (default 50 us-east-1,eu-west-1 20)
#   needs `bash scripts/test.sh` once (moto in .venv-test) and builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
accounts="${1:-50}" regions="${2:-us-east-1,eu-west-1}" repos="${3:-20}"
. bench/moto.sh
ceiling=$($py bench/seed_org_bench.py "$endpoint" "$accounts" "$regions" "$repos")
cargo build --release -q -p ecrguard
# One attempt per call: moto answers what it does not implement (creation templates,
# pull-through cache rules, ECR Public) with errors that retries would only prolong.
/usr/bin/time -f '%e %M' -o /tmp/ecrguard-org-time.txt \
  target/release/ecrguard audit --org-role ecrguard-audit --regions "$regions" --max-attempts 1 \
  --stats --quiet --format json -o /tmp/ecrguard-org-audit.json 2>/tmp/ecrguard-org-stats.txt || true
read -r wall rss_kb < <(tail -n 1 /tmp/ecrguard-org-time.txt)
stats=$(grep '^audit:' /tmp/ecrguard-org-stats.txt)
calls=$(echo "$stats" | sed -E 's/audit: ([0-9]+) API calls.*/\1/')
found=$($py -c 'import json,sys; d=json.load(open("/tmp/ecrguard-org-audit.json")); print(len({f["resource"].split(":")[4] for f in d["findings"] if f["resource"].startswith("arn:")}), len(d["findings"]), len(d["errors"]))')
ideal=$(echo "$calls / $ceiling" | bc -l)
printf 'organization: %s accounts x %s x %s repositories; moto ceiling %s calls/s\n' "$accounts" "$regions" "$repos" "$ceiling"
printf '%s\n' "$stats"
printf 'ecrguard: %s calls in %.2f s (%.0f calls/s); ideal %.2f s; %.2fx the ceiling; peak RSS %.0f MB\n' \
  "$calls" "$wall" "$(echo "$calls / $wall" | bc -l)" "$ideal" "$(echo "$wall / $ideal" | bc -l)" "$(echo "$rss_kb / 1024" | bc -l)"
printf 'accounts with findings, findings, errors: %s\n' "$found"
