#!/usr/bin/env bash
# Terraform scan benchmark: ecrguard vs Checkov (ECR checks only) vs a parse-only baseline
# (every .tf file parsed with the same HCL parser ecrguard uses), on the corpus that
# ../shared/bench/gen_corpus.py generates. All three run in one invocation, on one machine.
#
# usage: bash bench/run.sh [small|large] [--no-checkov]
# Needs python3 (and pip for Checkov, installed into bench/.venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-small}"
with_checkov=1
[ "${2:-}" = "--no-checkov" ] && with_checkov=0

work="${BENCH_DIR:-/tmp/ecrguard-bench}"
corpus="$work/corpus-$preset"
mkdir -p "$work"
if [ ! -f "$corpus/expected_ecr.json" ]; then
  python3 ../shared/bench/gen_corpus.py "$corpus" --preset "$preset" >/dev/null
fi
files=$(find "$corpus" -name '*.tf' | wc -l)
bytes=$(du -sb "$corpus" | cut -f1)

cargo build --release -q -p ecrguard -p ecrguard_terraform --example parse_only
bin=target/release/ecrguard
baseline=target/release/examples/parse_only

measure() { # label, command...: prints "label seconds max_rss_kb"
  local label=$1; shift
  local t; t=$( { /usr/bin/time -f "%e %M" "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1 )
  echo "$label $t"
}

# Warm the page cache once so no tool pays for the first read.
cat $(find "$corpus" -name '*.tf') > /dev/null

results=()
for i in 1 2 3; do
  results+=("$(measure "parse-only" "$baseline" "$corpus")")
  results+=("$(measure "ecrguard" bash -c "$bin scan '$corpus' --no-config --format json -o '$work/ecrguard-$preset.json'; [ \$? -le 1 ]")")
done
if [ "$with_checkov" = 1 ]; then
  if [ ! -x bench/.venv/bin/checkov ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q checkov
  fi
  # --skip-download: no call to the vendor's API (the machine has no outside network).
  results+=("$(measure "checkov" bench/.venv/bin/checkov -d "$corpus" --framework terraform \
    --check CKV_AWS_32,CKV_AWS_51,CKV_AWS_163,CKV_AWS_136 --skip-download --quiet --compact -o json)")
fi

python3 - "$preset" "$files" "$bytes" "${results[@]}" <<'PY'
import sys, statistics
preset, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for r in sys.argv[4:]:
    label, secs, kb = r.split()
    runs.setdefault(label, []).append((float(secs), int(kb)))
best = {k: (min(s for s, _ in v), max(m for _, m in v)) for k, v in runs.items()}
print(f"corpus: {preset}, {files} .tf files, {size/1e6:.1f} MB")
print(f"{'tool':<12} {'seconds (best)':>15} {'peak RSS MB':>12}")
for k, (s, m) in best.items():
    print(f"{k:<12} {s:>15.2f} {m/1024:>12.1f}")
e = best["ecrguard"]; p = best["parse-only"]
print(f"ecrguard / parse-only time: {e[0]/p[0]:.2f}x")
if "checkov" in best:
    c = best["checkov"]
    print(f"checkov / ecrguard time: {c[0]/e[0]:.0f}x faster; memory: ecrguard uses 1/{c[1]/e[1]:.0f} of checkov's")
PY
