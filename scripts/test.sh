#!/usr/bin/env bash
# Runs every check and test of the project: formatting, lints, and the whole test suite.
# This is the README's test command and what CI runs (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

# ../shared (the peers' test cases, the corpus generator, the AWS notes) sits beside the
# repository in CI; in a plain clone the tests that need it say they skipped.
if [ ! -d ../shared/docs ]; then
  echo "note: ../shared not found: the peer-case, catalogue and corpus tests will say they skipped"
fi

# Test tools from the package registries, pinned, in a venv of the project's own: cfn-lint
# (compared with ECR008), a moto server (the AWS API emulator the audit tests run against) and
# pre-commit (which runs the repository's hooks in a test). The venv lives in the user's cache,
# named after what it holds, and .venv-test links to it: a fresh clone reuses it as cargo reuses
# its registry (28 s of a CI run here), and a change of pins makes a new one.
tools=("cfn-lint==1.58.0" "moto[server]==5.2.5" "boto3" "pre-commit==4.6.2")
tools_ok() {
  "$1/bin/python" -c "import cfnlint, moto, boto3, flask_cors, pre_commit; assert moto.__version__ == '5.2.5'" 2>/dev/null \
    && "$1/bin/cfn-lint" --version 2>/dev/null | grep -q "1.58.0" \
    && "$1/bin/pre-commit" --version 2>/dev/null | grep -q "4.6.2"
}
venv_key=$( { printf '%s\n' "${tools[@]}"; python3 --version; uname -m; } | sha256sum | cut -c1-16)
venv="${XDG_CACHE_HOME:-$HOME/.cache}/ecrguard/venv-test-$venv_key"
if ! mkdir -p "$(dirname "$venv")" 2>/dev/null; then venv="$PWD/.venv-test.local"; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv_job=""
if ! tools_ok "$venv"; then
  # A bare Debian/Ubuntu python3 lacks the venv module (package python3-venv); apt runs here,
  # before anything else may hold its lock.
  if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
    if command -v apt-get >/dev/null; then
      echo "== installing python3-venv (apt)"
      SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
      $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv python3-pip >/dev/null
    else
      echo "error: python3 cannot create a venv; install python3's venv module" >&2
      exit 2
    fi
  fi
  echo "== installing test tools into $venv (cfn-lint, moto[server], pre-commit), while the tests build"
  # A venv cannot move (its scripts name their interpreter by path): built in place, one run
  # at a time; the download overlaps the compile, which needs none of it.
  (
    exec 9> "$venv.lock"
    flock 9 2>/dev/null || true
    if ! tools_ok "$venv"; then
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet --disable-pip-version-check "${tools[@]}"
    fi
  ) > "$work/venv.log" 2>&1 &
  venv_job=$!
fi
if [ "$(readlink .venv-test 2>/dev/null)" != "$venv" ]; then
  rm -rf .venv-test
  ln -s "$venv" .venv-test
fi
export ECRGUARD_CFN_LINT="$PWD/.venv-test/bin/cfn-lint"

# util-linux `script` gives the progress-line test a real pseudo-terminal.
if ! command -v script >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "== installing util-linux script (apt: bsdutils)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq bsdutils >/dev/null
  else
    echo "error: the tests need util-linux \`script\` (a pseudo-terminal); install util-linux" >&2
    exit 2
  fi
fi

# Debian's Chromium: the HTML report is checked in a real headless browser.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "== installing chromium (apt)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "note: no chromium and no apt: the HTML report's browser test will say it skipped"
  fi
fi

# util-linux `setpriv`: as root, the unreadable-input test drops to `nobody` (root reads
# everything, so permissions alone cannot make a file unreadable).
if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "== installing util-linux setpriv"
    apt-get update -qq && apt-get install -y -qq util-linux >/dev/null
  else
    echo "error: the tests need util-linux \`setpriv\` when run as root; install util-linux" >&2
    exit 2
  fi
fi

# On a fresh clone the incremental cache is never reused, and it costs gigabytes of disk.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
# Clippy lints the workspace while the tests build: `cargo clippy` is rustc with clippy's lints
# (clippy-driver), run in check mode, so a separate pass compiled every crate twice (2:23 of a
# 9:30 run here). As cargo's workspace wrapper, clippy-driver lints our crates during the one
# build the tests need and compiles dependencies untouched; CLIPPY_ARGS carries `-D warnings`
# as `cargo clippy` passes it. Every target (libraries, binaries, tests, examples, benches) is
# built, so everything `cargo clippy --all-targets` sees is linted.
echo "== cargo clippy --all-targets -D warnings, in the test build (--features ecrguard/lambda)"
RUSTC_WORKSPACE_WRAPPER="$(rustup which clippy-driver 2>/dev/null || command -v clippy-driver)"
if [ ! -x "$RUSTC_WORKSPACE_WRAPPER" ]; then
  echo "error: clippy-driver not found; install clippy (rustup component add clippy)" >&2
  exit 2
fi
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
# CI=true makes insta fail on a changed snapshot instead of writing a new one.
export CI="${CI:-true}"
# One build for every test, with the Lambda entry point compiled in (its own test needs it; the
# binary only enters Lambda mode when AWS_LAMBDA_RUNTIME_API is set). A second build without the
# feature would rebuild the whole AWS SDK under other dependency features: twice the time and disk.
# The feature only adds code, so this one lint pass sees everything the default build has.
cargo test --workspace --all-targets --features ecrguard/lambda --locked --no-run \
  --message-format=json-render-diagnostics > "$work/build.json"
if [ -n "$venv_job" ] && ! wait "$venv_job"; then
  cat "$work/venv.log" >&2
  echo "error: the test tools could not be installed (above)" >&2
  exit 2
fi
echo "== cargo test"
# Each test binary with the directory cargo would give it (its package's), the longest first,
# three at a time: the longest (the Lambda test's thousand events, one call after another)
# waits more than it computes, and the others fill the cores around it. The test phase: about
# 95 s (it was 2:20 before the moto tests stopped waiting on five attempts per call). Running
# the others niced measured 13 s faster, but a lower priority for moto-backed tests makes a
# moto stall past a read timeout likelier on a loaded machine: not done.
python3 - "$work/build.json" > "$work/binaries.tsv" <<'PY'
import json, os, sys
# Slowest first, as measured here (98, 41, 37, 24, 19, 17, 16 and 15 s).
SLOWEST = ["lambda_runtime", "audit_moto", "enforce_moto", "handle_event_moto", "audit_faults",
           "pipelines", "terraform/fuzz", "terraform/hostile"]
rows = []
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    # Examples and benches are built (and so linted) but not run, as `cargo test` does.
    kind = m.get("target", {}).get("kind", [])
    if "example" in kind or "bench" in kind:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m.get("profile", {}).get("test"):
        package = os.path.basename(os.path.dirname(m["manifest_path"]))
        name = package + "/" + m["target"]["name"] + ("" if m["target"]["kind"] == ["test"] else " (unit)")
        # Longest first, so no long binary starts last.
        rank = next((i for i, k in enumerate(SLOWEST) if k in name), len(SLOWEST))
        rows.append((rank, name, m["executable"], os.path.dirname(m["manifest_path"])))
for _, name, exe, cwd in sorted(rows):
    print(f"{name}\t{exe}\t{cwd}")
PY
run_one() {
  local name="$1" exe="$2" cwd="$3" log
  log="$work/$(echo "$name" | tr ' /()' '____').log"
  { echo "     Running $name ($exe)"; (cd "$cwd" && "$exe") 2>&1; echo "exit=$?"; } > "$log"
}
export -f run_one
export work
tr '\t' '\n' < "$work/binaries.tsv" | xargs -d '\n' -n 3 -P 3 bash -c 'run_one "$@"' _
cargo test --workspace --features ecrguard/lambda --locked --doc > "$work/doc.log" 2>&1 || echo "exit=1" >> "$work/doc.log"
cat "$work"/*.log
# One closing line for the whole run.
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$work"/*.log
if grep -q '^exit=[^0]' "$work"/*.log; then
  echo "error: failing tests (above)" >&2
  exit 1
fi
