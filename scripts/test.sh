#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, and the whole test suite.
# This is the README's test command and what CI runs (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/docs ]; then
  echo "error: ../shared (docs, peer cases) must sit beside this repository; the tests read it" >&2
  exit 2
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# CI=true makes insta fail on a changed snapshot instead of writing a new one.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
CI="${CI:-true}" cargo test --workspace --locked 2>&1 | tee "$log"
# One closing line for the whole run (cargo ends with a doc-test binary that may hold none).
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
