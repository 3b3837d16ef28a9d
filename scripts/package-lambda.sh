#!/usr/bin/env bash
# Packages the Lambda handler (`handle-event` on the provided.al2023 runtime): for each
# architecture whose Rust target is installed and linkable here, a release build with the
# `lambda` feature, zipped as `bootstrap` into dist/ecrguard-lambda-<arch>.zip.
#
#   bash scripts/package-lambda.sh            build and zip every architecture possible here
#   bash scripts/package-lambda.sh --check    only say which architectures can be built, and why not
#   ECRGUARD_PACKAGE_BINARY=path bash scripts/package-lambda.sh x86_64
#                                             zip an existing binary (no build)
#   bash scripts/package-lambda.sh --config ecrguard.toml
#                                             also zip the config the function runs with (it
#                                             reads `ecrguard.toml` in its working directory,
#                                             /var/task): without one it only reports
#
# What it needs: cargo; for each architecture its target (`rustup target add <triple>`) and,
# when it is not the machine's own, a linker for it (Debian: gcc-aarch64-linux-gnu or
# gcc-x86-64-linux-gnu); python3 (to write the zip with the executable bit).
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=false
wanted=()
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check_only=true ;;
    --config)
      [ $# -ge 2 ] && [ -f "$2" ] || { echo "--config needs an existing file" >&2; exit 2; }
      config="$2"; shift ;;
    x86_64|arm64) wanted+=("$1") ;;
    *) echo "usage: $0 [--check] [--config FILE] [x86_64] [arm64]" >&2; exit 2 ;;
  esac
  shift
done
[ ${#wanted[@]} -eq 0 ] && wanted=(x86_64 arm64)

host="$(uname -m)"
triple_of() { case "$1" in x86_64) echo x86_64-unknown-linux-gnu ;; arm64) echo aarch64-unknown-linux-gnu ;; esac; }
linker_of() { case "$1" in x86_64) echo x86_64-linux-gnu-gcc ;; arm64) echo aarch64-linux-gnu-gcc ;; esac; }
linker_package() { case "$1" in x86_64) echo gcc-x86-64-linux-gnu ;; arm64) echo gcc-aarch64-linux-gnu ;; esac; }
native() { [ "$1" = x86_64 ] && [ "$host" = x86_64 ] || { [ "$1" = arm64 ] && [ "$host" = aarch64 ]; }; }

# Why an architecture cannot be built here, or nothing when it can.
missing() {
  local arch="$1" triple
  triple="$(triple_of "$arch")"
  if [ -n "${ECRGUARD_PACKAGE_BINARY:-}" ]; then
    [ -f "$ECRGUARD_PACKAGE_BINARY" ] || echo "ECRGUARD_PACKAGE_BINARY \`$ECRGUARD_PACKAGE_BINARY\` is not a file"
    return
  fi
  command -v cargo >/dev/null || { echo "cargo is not installed"; return; }
  if command -v rustup >/dev/null; then
    rustup target list --installed 2>/dev/null | grep -qx "$triple" \
      || { echo "target $triple not installed (rustup target add $triple)"; return; }
  fi
  if ! native "$arch" && ! command -v "$(linker_of "$arch")" >/dev/null; then
    echo "no linker for $triple: $(linker_of "$arch") (Debian: apt install $(linker_package "$arch"))"
  fi
}

mkdir -p dist
built=0
for arch in "${wanted[@]}"; do
  why="$(missing "$arch")"
  if [ -n "$why" ]; then
    echo "$arch: skipped: $why"
    continue
  fi
  if $check_only; then
    echo "$arch: can be built"
    continue
  fi
  triple="$(triple_of "$arch")"
  if [ -n "${ECRGUARD_PACKAGE_BINARY:-}" ]; then
    bin="$ECRGUARD_PACKAGE_BINARY"
  else
    env_linker="CARGO_TARGET_$(echo "$triple" | tr 'a-z-' 'A-Z_')_LINKER"
    if ! native "$arch"; then export "$env_linker=$(linker_of "$arch")"; fi
    cargo build --release --locked -p ecrguard --features lambda --target "$triple"
    bin="target/$triple/release/ecrguard"
  fi
  zip="dist/ecrguard-lambda-$arch.zip"
  python3 - "$bin" "$zip" "$config" <<'PY'
import sys, zipfile
src, dst, config = sys.argv[1], sys.argv[2], sys.argv[3]
def entry(name, mode):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (mode << 16)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    # A regular, executable file for the Lambda runtime.
    z.writestr(entry("bootstrap", 0o100755), f.read())
    if config:
        with open(config, "rb") as c:
            z.writestr(entry("ecrguard.toml", 0o100644), c.read())
PY
  echo "$arch: $zip"
  built=$((built + 1))
done
if ! $check_only && [ "$built" -eq 0 ]; then
  echo "nothing was packaged: see the reasons above" >&2
  exit 1
fi
