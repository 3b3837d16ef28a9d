#!/usr/bin/env bash
# The GitHub Action's one step (action.yml): get the binary, scan, and write what a workflow
# shows - a SARIF file for code scanning, a Markdown summary in $GITHUB_STEP_SUMMARY, workflow
# annotations on the changed lines - then exit with ecrguard's code (0, 1 per fail-on, 2).
# Inputs arrive as INPUT_* variables; tests run it with a fake GITHUB_* environment.
set -uo pipefail

action_dir="$(cd "$(dirname "$0")/.." && pwd)"

# The binary: given, else built from this repository once per version (cached by the action).
bin="${INPUT_ECRGUARD:-}"
if [ -z "$bin" ]; then
  root="${RUNNER_TOOL_CACHE:-$HOME/.cache}/ecrguard"
  bin="$root/bin/ecrguard"
  if [ ! -x "$bin" ]; then
    if ! command -v cargo >/dev/null; then
      echo "::error title=ecrguard::cargo is needed to build ecrguard (or give the \`ecrguard\` input)"
      exit 2
    fi
    echo "::group::Building ecrguard"
    cargo install --locked --path "$action_dir/crates/ecrguard" --root "$root" || exit 2
    echo "::endgroup::"
  fi
fi

# Inputs into arguments; paths split on spaces and new lines, never glob-expanded.
args=()
IFS=$' \t\n' read -r -d '' -a args <<< "${INPUT_PATHS:-.}" || true
[ ${#args[@]} -eq 0 ] && args=(.)
common=()
[ -n "${INPUT_CONFIG:-}" ] && common+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_FAIL_ON:-}" ] && common+=(--fail-on "$INPUT_FAIL_ON")
[ "${INPUT_STRICT:-false}" = "true" ] && common+=(--strict)
[ -n "${INPUT_BASELINE:-}" ] && common+=(--baseline "$INPUT_BASELINE")
sarif="${INPUT_SARIF_FILE:-ecrguard.sarif}"
category="${INPUT_SARIF_CATEGORY:-ecrguard/scan}"

# The SARIF run decides the exit code; the other two render the same scan for people.
"$bin" scan "${args[@]}" "${common[@]}" --format sarif --sarif-category "$category" --output "$sarif"
code=$?
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  "$bin" scan "${args[@]}" "${common[@]}" --format markdown >> "$GITHUB_STEP_SUMMARY"
fi
"$bin" scan "${args[@]}" "${common[@]}" --format github || true

if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "sarif-file=$sarif"
    echo "exit-code=$code"
  } >> "$GITHUB_OUTPUT"
fi
exit "$code"
