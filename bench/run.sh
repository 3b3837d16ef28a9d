#!/usr/bin/env bash
# Terraform scan benchmark: ecrguard vs Checkov (ECR checks only) vs a parse-only baseline
# (every .tf file parsed with the same HCL parser ecrguard uses), on the corpus that
# ../shared/bench/gen_corpus.py generates. All three run in one invocation, on one machine.
#
# usage: bash bench/run.sh [small|large|cfn-small|cfn-large] [--no-checkov]
#   small/large: the Terraform monorepo of ../shared/bench/gen_corpus.py (100 / 1000 modules)
#   cfn-small/cfn-large: CloudFormation stacks of bench/gen_cfn_corpus.py (300 / 3000 templates)
#   k8s-small/k8s-large: Kubernetes manifests of bench/gen_k8s_corpus.py (300 / 3000 files)
# Needs python3 (and pip for Checkov, installed into bench/.venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-small}"
with_checkov=1
[ "${2:-}" = "--no-checkov" ] && with_checkov=0
# No peer reads ACK or Crossplane ECR objects: nothing to compare against.
case "$preset" in k8s-*) with_checkov=0 ;; esac

work="${BENCH_DIR:-/tmp/ecrguard-bench}"
corpus="$work/corpus-$preset"
mkdir -p "$work"
case "$preset" in
  small|large)
    framework=terraform
    [ -f "$corpus/expected_ecr.json" ] || python3 ../shared/bench/gen_corpus.py "$corpus" --preset "$preset" >/dev/null
    pattern='*.tf' ;;
  cfn-small|cfn-large)
    framework=cloudformation
    stacks=300; [ "$preset" = cfn-large ] && stacks=3000
    [ -f "$corpus/expected_cfn.json" ] || python3 bench/gen_cfn_corpus.py "$corpus" --stacks "$stacks"
    pattern='template.*' ;;
  k8s-small|k8s-large)
    framework=kubernetes
    apps=300; [ "$preset" = k8s-large ] && apps=3000
    [ -f "$corpus/expected_k8s.json" ] || python3 bench/gen_k8s_corpus.py "$corpus" --apps "$apps"
    pattern='manifests.yaml' ;;
  *) echo "unknown preset $preset" >&2; exit 2 ;;
esac
files=$(find "$corpus" -name "$pattern" | wc -l)
bytes=$(du -sb "$corpus" | cut -f1)

cargo build --release -q -p ecrguard
bin=target/release/ecrguard
if [ "$framework" = terraform ]; then
  cargo build --release -q -p ecrguard_terraform --example parse_only
  baseline=target/release/examples/parse_only
elif [ "$framework" = kubernetes ]; then
  cargo build --release -q -p ecrguard_kubernetes --example k8s_parse_only
  baseline=target/release/examples/k8s_parse_only
else
  cargo build --release -q -p ecrguard_cloudformation --example cfn_parse_only
  baseline=target/release/examples/cfn_parse_only
fi

measure() { # label, command...: prints "label seconds max_rss_kb"
  # Wall time from the clock in nanoseconds: `time`'s %e has 10 ms steps, a sixth of a
  # 0.16 s baseline, which made the ratio jump by 0.06 between identical runs.
  local label=$1; shift
  local out; out=$(mktemp)
  local start end
  start=$(date +%s%N)
  /usr/bin/time -o "$out" -f "%M" "$@" >/dev/null 2>&1 || true
  end=$(date +%s%N)
  echo "$label $(( (end - start) / 1000000 ))e-3 $(tail -1 "$out")"
  rm -f "$out"
}

# Warm the page cache once so no tool pays for the first read.
find "$corpus" -name "$pattern" -exec cat {} + > /dev/null

results=()
for i in 1 2 3 4 5; do
  results+=("$(measure "parse-only" "$baseline" "$corpus")")
  results+=("$(measure "ecrguard" bash -c "$bin scan '$corpus' --no-config --format json -o '$work/ecrguard-$preset.json'; [ \$? -le 1 ]")")
done
if [ "$with_checkov" = 1 ]; then
  if [ ! -x bench/.venv/bin/checkov ]; then
    python3 -m venv bench/.venv
    bench/.venv/bin/pip install -q checkov
  fi
  # --skip-download: no call to the vendor's API (the machine has no outside network).
  results+=("$(measure "checkov" bench/.venv/bin/checkov -d "$corpus" --framework "$framework" \
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
print(f"corpus: {preset}, {files} files, {size/1e6:.1f} MB")
print(f"{'tool':<12} {'seconds (best)':>15} {'peak RSS MB':>12}")
for k, (s, m) in best.items():
    print(f"{k:<12} {s:>15.3f} {m/1024:>12.1f}")
e = best["ecrguard"]; p = best["parse-only"]
print(f"ecrguard / parse-only time: {e[0]/p[0]:.2f}x; throughput {files/e[0]:.0f} files/s")
if "checkov" in best:
    c = best["checkov"]
    print(f"checkov / ecrguard time: {c[0]/e[0]:.0f}x faster; memory: ecrguard uses 1/{c[1]/e[1]:.0f} of checkov's")
PY
